#pragma once
// Small matrix kernels shared by the host and device linalg paths.
#include <Kokkos_Core.hpp>

namespace tessera::detail {

// Copies the upper triangle of square C onto its lower triangle.
template <class ExecSpace, class View>
void mirror_upper_to_lower(const View& C) {
  Kokkos::parallel_for(
      "tessera::mirror_upper_to_lower",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>>({0, 0}, {C.extent(0), C.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) {
        if (j < i) C(i, j) = C(j, i);
      });
}

// out(i, j) = in(j, i) for square matrices.
template <class ExecSpace, class In, class Out>
void transpose_square(const In& in, const Out& out) {
  Kokkos::parallel_for(
      "tessera::transpose_square",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>>({0, 0}, {in.extent(0), in.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { out(i, j) = in(j, i); });
}

}  // namespace tessera::detail
