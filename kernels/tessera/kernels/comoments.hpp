#pragma once
// Per-chunk column means (a sequential pass per entry, so independent of the thread
// count), and fixed-bin histograms. (Co-moments: a syrk per chunk, src/array/reductions.cpp.)
#include <cstdint>

#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera::detail {

// means(chunk, :) over the chunk's rows: one thread per chunk reads its rows in order
// (each column summed in row order, so independent of the thread count).
template <class MatrixView, class MeansView>
struct ChunkMeans {
  MatrixView X;
  MeansView means;  // zero-initialised
  std::size_t chunk_rows;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t chunk) const {
    const std::size_t begin = chunk * chunk_rows, d = X.extent(1);
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    for (std::size_t r = begin; r < end; ++r)
      for (std::size_t j = 0; j < d; ++j) means(chunk, j) += X(r, j);
    if (end > begin)
      for (std::size_t j = 0; j < d; ++j) means(chunk, j) /= static_cast<double>(end - begin);
  }
};

// counts(j, b) of X(:, j) in `bins` equal bins over [lo, hi] (the last bin closed, as
// numpy.histogram); below/above/NaN counted apart. Integer counts: any order, same sums.
template <class MatrixView, class CountsView, class OutsideView>
struct ColumnHistogram {
  MatrixView X;
  CountsView counts;    // (cols, bins)
  OutsideView outside;  // (cols, 3): below, above, NaN
  double lo, hi;
  std::size_t bins;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t r, const std::size_t j) const {
    const double x = X(r, j);
    if (kmath::isnan(x)) {
      Kokkos::atomic_add(&outside(j, 2), std::int64_t(1));
    } else if (x < lo) {
      Kokkos::atomic_add(&outside(j, 0), std::int64_t(1));
    } else if (x > hi) {
      Kokkos::atomic_add(&outside(j, 1), std::int64_t(1));
    } else {
      std::size_t b = static_cast<std::size_t>((x - lo) / (hi - lo) * static_cast<double>(bins));
      if (b >= bins) b = bins - 1;  // x == hi
      Kokkos::atomic_add(&counts(j, b), std::int64_t(1));
    }
  }
};

}  // namespace tessera::detail
