// Sorting through Thrust: the device back end on CUDA memory, OpenMP (or sequential)
// on host memory, one generic implementation for both.
// Kokkos first: its KOKKOS_ENABLE_* macros choose the host policy below.
#include <Kokkos_Core.hpp>

#include <thrust/execution_policy.h>
#include <thrust/functional.h>
#include <thrust/sort.h>
#if defined(KOKKOS_ENABLE_OPENMP)
#include <thrust/system/omp/execution_policy.h>
#endif

#include <tessera/core/error.hpp>
#include <tessera/core/sort.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera {

namespace detail {

// NaN keys have no order: refuse them (one reduction on the Views' own space).
template <class ExecSpace, class Keys>
void check_sortable(const Keys& keys, std::size_t values) {
  TESSERA_EXPECTS(keys.extent(0) == values,
                  "tessera::sort_by_key: " + std::to_string(keys.extent(0)) + " keys but " +
                      std::to_string(values) + " values");
  std::size_t nans = 0;
  Kokkos::parallel_reduce(
      "tessera::sort_by_key::check", Kokkos::RangePolicy<ExecSpace>(0, keys.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, std::size_t& count) {
        if (kmath::isnan(keys(i))) ++count;
      },
      nans);
  TESSERA_EXPECTS(nans == 0, "tessera::sort_by_key: " + std::to_string(nans) +
                                 " of the keys are NaN and cannot be ordered");
}

template <class Policy>
void stable_sort_pairs(const Policy& policy, double* keys, std::int64_t* values, std::size_t n) {
  thrust::stable_sort_by_key(policy, keys, keys + n, values, thrust::less<double>());
}

}  // namespace detail

void sort_by_key(const Kokkos::View<double*, Kokkos::HostSpace>& keys,
                 const Kokkos::View<std::int64_t*, Kokkos::HostSpace>& values) {
  detail::check_sortable<Kokkos::DefaultHostExecutionSpace>(keys, values.extent(0));
#if defined(KOKKOS_ENABLE_OPENMP)
  detail::stable_sort_pairs(thrust::omp::par, keys.data(), values.data(), keys.extent(0));
#else
  detail::stable_sort_pairs(thrust::seq, keys.data(), values.data(), keys.extent(0));
#endif
}

#if defined(KOKKOS_ENABLE_CUDA)
void sort_by_key(const Kokkos::View<double*, Kokkos::CudaSpace>& keys,
                 const Kokkos::View<std::int64_t*, Kokkos::CudaSpace>& values) {
  detail::check_sortable<Kokkos::Cuda>(keys, values.extent(0));
  detail::stable_sort_pairs(thrust::cuda::par.on(Kokkos::Cuda().cuda_stream()), keys.data(),
                            values.data(), keys.extent(0));
}
#endif

}  // namespace tessera
