#pragma once
/// @file
/// @brief Sorting by key on Kokkos Views: Thrust on CUDA memory (on the default
/// Kokkos::Cuda stream), Thrust's OpenMP (or sequential) back end on host memory. One
/// call site serves both (the execution policy is chosen by the memory space).
///
/// @code
/// Kokkos::View<double*> fitness = ...;               // population fitness on the device
/// auto order = tessera::argsort(fitness);            // best first
/// @endcode

#include <cstdint>
#include <string>
#include <type_traits>

#include <Kokkos_Core.hpp>

namespace tessera {

/// @brief Sorts `keys` ascending, stably (ties keep their order), and permutes `values`
/// the same way. Extents must agree.
/// @throws InvalidArgument if the extents differ or a key is NaN.
void sort_by_key(const Kokkos::View<double*, Kokkos::HostSpace>& keys,
                 const Kokkos::View<std::int64_t*, Kokkos::HostSpace>& values);
#if defined(KOKKOS_ENABLE_CUDA)
void sort_by_key(const Kokkos::View<double*, Kokkos::CudaSpace>& keys,
                 const Kokkos::View<std::int64_t*, Kokkos::CudaSpace>& values);
#endif

/// @brief The indices that sort `keys` (a rank-1 View of double) ascending, stably, in
/// the same memory space; `keys` is not changed.
template <class Keys>
Kokkos::View<std::int64_t*, typename Keys::memory_space> argsort(const Keys& keys) {
  static_assert(Kokkos::is_view<Keys>::value && Keys::rank == 1 &&
                    std::is_same_v<typename Keys::non_const_value_type, double>,
                "tessera::argsort: keys must be a rank-1 View of double");
  using Memory = typename Keys::memory_space;
  using Exec = typename Memory::execution_space;
  Kokkos::View<double*, Memory> copy(
      Kokkos::view_alloc(std::string("tessera::argsort::keys"), Kokkos::WithoutInitializing),
      keys.extent(0));
  Kokkos::deep_copy(copy, keys);
  Kokkos::View<std::int64_t*, Memory> order(
      Kokkos::view_alloc(std::string("tessera::argsort::order"), Kokkos::WithoutInitializing),
      keys.extent(0));
  Kokkos::parallel_for(
      "tessera::argsort::iota", Kokkos::RangePolicy<Exec>(0, keys.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) { order(i) = static_cast<std::int64_t>(i); });
  sort_by_key(copy, order);
  return order;
}

}  // namespace tessera
