#pragma once
/// @file
/// @brief `StandardScaler`: per-column centring and scaling as scikit-learn's
/// (population variance, ddof 0; a constant column gets scale 1).
///
/// @code
/// tessera::ml::StandardScaler scaler;
/// scaler.fit(X);                                 // DistMatrix (collective) or HostMatrix
/// tessera::HostMatrix Z = scaler.transform(rows);
/// @endcode

#include <vector>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/table.hpp>

namespace tessera::ml {

class StandardScaler {
 public:
  explicit StandardScaler(bool with_mean = true, bool with_std = true)
      : with_mean_(with_mean), with_std_(with_std) {}

  /// @brief Column means and variances of X from array::column_stats (reproducible on any
  /// rank count; collective). @throws InvalidArgument for NaN/inf (naming the row).
  StandardScaler& fit(const array::DistMatrix<double, Kokkos::HostSpace>& X);
#if defined(KOKKOS_ENABLE_CUDA)
  StandardScaler& fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X);
#endif
  StandardScaler& fit(const HostMatrix& X);

  /// @brief (x − mean) / scale per column (a new matrix).
  HostMatrix transform(const HostMatrix& X) const;
  /// @brief x · scale + mean per column.
  HostMatrix inverse_transform(const HostMatrix& Z) const;

  bool fitted() const { return !scale_.empty(); }
  /// Subtracted per column (zeros without with_mean).
  const std::vector<double>& mean() const { return mean_; }
  /// Population variance per column.
  const std::vector<double>& var() const { return var_; }
  /// Divided by: sqrt(var), 1 where var is 0 (ones without with_std).
  const std::vector<double>& scale() const { return scale_; }
  std::size_t n_samples_seen() const { return n_; }

 private:
  template <class MemorySpace>
  StandardScaler& fit_impl(const array::DistMatrix<double, MemorySpace>& X);

  bool with_mean_, with_std_;
  std::vector<double> mean_, var_, scale_;
  std::size_t n_ = 0;
};

}  // namespace tessera::ml
