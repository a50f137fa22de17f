#include <tessera/ml/standard_scaler.hpp>

#include <cmath>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/core/error.hpp>

#include "finite.hpp"

namespace tessera::ml {

template <class MemorySpace>
StandardScaler& StandardScaler::fit_impl(const array::DistMatrix<double, MemorySpace>& X) {
  TESSERA_EXPECTS(X.rows() >= 1, "StandardScaler::fit: the data has no rows");
  const array::ColumnStats s = array::column_stats(X);
  impl::require_finite(s, "StandardScaler::fit");
  const std::size_t d = s.columns.size();
  mean_.assign(d, 0.0);
  var_.assign(d, 0.0);
  scale_.assign(d, 1.0);
  for (std::size_t j = 0; j < d; ++j) {
    const auto& c = s.columns[j];
    var_[j] = c.std * c.std;
    if (with_mean_) mean_[j] = c.mean;
    if (with_std_ && c.std > 0) scale_[j] = c.std;
  }
  n_ = X.rows();
  return *this;
}

StandardScaler& StandardScaler::fit(const array::DistMatrix<double, Kokkos::HostSpace>& X) {
  return fit_impl(X);
}
#if defined(KOKKOS_ENABLE_CUDA)
StandardScaler& StandardScaler::fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X) {
  return fit_impl(X);
}
#endif
StandardScaler& StandardScaler::fit(const HostMatrix& X) { return fit_impl(array::whole(X)); }

HostMatrix StandardScaler::transform(const HostMatrix& X) const {
  TESSERA_EXPECTS(fitted(), "StandardScaler: not fitted (call fit first)");
  TESSERA_EXPECTS(X.extent(1) == scale_.size(),
                  fmt::format("StandardScaler::transform: {} columns, fitted on {}", X.extent(1),
                              scale_.size()));
  HostMatrix out("scaled", X.extent(0), X.extent(1));
  for (std::size_t i = 0; i < X.extent(0); ++i)
    for (std::size_t j = 0; j < X.extent(1); ++j) out(i, j) = (X(i, j) - mean_[j]) / scale_[j];
  return out;
}

HostMatrix StandardScaler::inverse_transform(const HostMatrix& Z) const {
  TESSERA_EXPECTS(fitted(), "StandardScaler: not fitted (call fit first)");
  TESSERA_EXPECTS(Z.extent(1) == scale_.size(),
                  fmt::format("StandardScaler::inverse_transform: {} columns, fitted on {}",
                              Z.extent(1), scale_.size()));
  HostMatrix out("unscaled", Z.extent(0), Z.extent(1));
  for (std::size_t i = 0; i < Z.extent(0); ++i)
    for (std::size_t j = 0; j < Z.extent(1); ++j) out(i, j) = Z(i, j) * scale_[j] + mean_[j];
  return out;
}

}  // namespace tessera::ml
