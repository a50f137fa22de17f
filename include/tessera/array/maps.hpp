#pragma once
/// @file
/// @brief Elementwise and row-wise maps over a DistMatrix with user functors, and
/// standardisation (the StandardScaler building block). Maps run where the data lives.
///
/// A functor for `map_elements` is `KOKKOS_INLINE_FUNCTION double operator()(double x)
/// const`; for `map_rows`, `KOKKOS_INLINE_FUNCTION void operator()(std::int64_t
/// global_row, const Row& row) const` where `row(j)` is the row's element j (writable).
///
/// @code
/// struct Square { KOKKOS_INLINE_FUNCTION double operator()(double x) const { return x * x; } };
/// tessera::array::map_elements(X, Square{});
/// @endcode

#include <cstdint>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/table.hpp>

namespace tessera::array {

/// @brief X(i, j) = f(X(i, j)) for this rank's rows (local: no communication).
template <class T, class MemorySpace, class F>
void map_elements(const DistMatrix<T, MemorySpace>& X, const F& f) {
  using Exec = typename MemorySpace::execution_space;
  const auto A = X.local();
  Kokkos::parallel_for(
      "tessera::map_elements",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {A.extent(0), A.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { A(i, j) = f(A(i, j)); });
}

/// @brief f(global_row, row) for each of this rank's rows (local: no communication).
template <class T, class MemorySpace, class F>
void map_rows(const DistMatrix<T, MemorySpace>& X, const F& f) {
  using Exec = typename MemorySpace::execution_space;
  const auto A = X.local();
  const auto first = static_cast<std::int64_t>(X.row_begin());
  Kokkos::parallel_for(
      "tessera::map_rows", Kokkos::RangePolicy<Exec>(0, A.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) {
        f(first + static_cast<std::int64_t>(i), Kokkos::subview(A, i, Kokkos::ALL));
      });
}

/// @brief The centring and scaling `standardize` applied (scikit-learn's mean_, scale_).
struct Standardization {
  HostVector mean;   ///< subtracted (zeros without with_mean)
  HostVector scale;  ///< divided by: the population std, 1 where it is 0 (ones without with_std)
};

/// @brief (x - mean) / std per column, as scikit-learn's StandardScaler (ddof 0; a
/// constant column is only centred). Collective: the statistics come from column_stats.
Standardization standardize(const DistMatrix<double, Kokkos::HostSpace>& X, bool with_mean = true,
                            bool with_std = true);
#if defined(KOKKOS_ENABLE_CUDA)
Standardization standardize(const DistMatrix<double, Kokkos::CudaSpace>& X, bool with_mean = true,
                            bool with_std = true);
#endif

}  // namespace tessera::array
