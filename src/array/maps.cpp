#include <tessera/array/column_stats.hpp>
#include <tessera/array/maps.hpp>
#include <tessera/core/error.hpp>

namespace tessera::array {

namespace impl {

template <class MemorySpace>
Standardization standardize(const DistMatrix<double, MemorySpace>& X, bool with_mean,
                            bool with_std) {
  const std::size_t d = X.cols();
  Standardization s{HostVector("mean", d), HostVector("scale", d)};
  Kokkos::deep_copy(s.scale, 1.0);
  if (with_mean || with_std) {
    const ColumnStats stats = column_stats(X);
    for (std::size_t j = 0; j < d; ++j) {
      const auto& c = stats.columns[j];
      TESSERA_EXPECTS(c.nan_count == 0,
                      "tessera::array::standardize: column " + std::to_string(j) + " has " +
                          std::to_string(static_cast<long>(c.nan_count)) + " NaN values");
      if (with_mean) s.mean(j) = c.mean;
      if (with_std && c.std > 0) s.scale(j) = c.std;
    }
  }
  const auto mean = Kokkos::create_mirror_view_and_copy(MemorySpace(), s.mean);
  const auto scale = Kokkos::create_mirror_view_and_copy(MemorySpace(), s.scale);
  const auto A = X.local();
  using Exec = typename MemorySpace::execution_space;
  Kokkos::parallel_for(
      "tessera::standardize",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {A.extent(0), A.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) {
        A(i, j) = (A(i, j) - mean(j)) / scale(j);
      });
  Kokkos::fence();
  return s;
}

}  // namespace impl

Standardization standardize(const DistMatrix<double, Kokkos::HostSpace>& X, bool with_mean,
                            bool with_std) {
  return impl::standardize(X, with_mean, with_std);
}
#if defined(KOKKOS_ENABLE_CUDA)
Standardization standardize(const DistMatrix<double, Kokkos::CudaSpace>& X, bool with_mean,
                            bool with_std) {
  return impl::standardize(X, with_mean, with_std);
}
#endif

}  // namespace tessera::array
