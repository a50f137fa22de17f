#pragma once
// Per-chunk means and co-moments Σ(x - m)(x - m)ᵀ of a block of rows (two sequential
// passes per entry, so independent of the thread count), and fixed-bin histograms.
#include <cstdint>

#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera::detail {

// means(chunk, j) over the chunk's rows.
template <class MatrixView, class MeansView>
struct ChunkMeans {
  MatrixView X;
  MeansView means;
  std::size_t chunk_rows;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t chunk, const std::size_t j) const {
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    double s = 0;
    for (std::size_t r = begin; r < end; ++r) s += X(r, j);
    means(chunk, j) = end > begin ? s / static_cast<double>(end - begin) : 0.0;
  }
};

// comoments(chunk, i, j) = Σ_r (X(r,i) - m_i)(X(r,j) - m_j) over the chunk (i <= j filled).
template <class MatrixView, class MeansView, class OutView>
struct ChunkComoments {
  MatrixView X;
  MeansView means;
  OutView out;
  std::size_t chunk_rows;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t chunk, const std::size_t i,
                                         const std::size_t j) const {
    if (j < i) return;
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    const double mi = means(chunk, i), mj = means(chunk, j);
    double s = 0;
    for (std::size_t r = begin; r < end; ++r) s += (X(r, i) - mi) * (X(r, j) - mj);
    out(chunk, i, j) = s;
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
