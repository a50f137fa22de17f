#pragma once
// Running moments of a stream of values (count, NaN count, sum, mean, M2, min, max):
// Welford updates within a block, Chan et al.'s pairwise merge between blocks.
#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera::detail {

struct Moments {
  double count = 0;
  double nan_count = 0;
  double sum = 0;
  double mean = 0;
  double m2 = 0;
  double min = __builtin_huge_val();
  double max = -__builtin_huge_val();

  KOKKOS_INLINE_FUNCTION void add(double x) {
    if (kmath::isnan(x)) {
      nan_count += 1;
      return;
    }
    count += 1;
    sum += x;
    const double delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
    min = x < min ? x : min;
    max = x > max ? x : max;
  }

  KOKKOS_INLINE_FUNCTION void merge(const Moments& o) {
    nan_count += o.nan_count;
    if (o.count == 0) return;
    if (count == 0) {
      const double nans = nan_count;
      *this = o;
      nan_count = nans;
      return;
    }
    const double n = count + o.count;
    const double delta = o.mean - mean;
    mean += delta * (o.count / n);
    m2 += o.m2 + delta * delta * (count * o.count / n);
    count = n;
    sum += o.sum;
    min = o.min < min ? o.min : min;
    max = o.max > max ? o.max : max;
  }
};

// Moments of each (chunk, column) pair, each a sequential pass over the chunk's rows,
// so the result does not depend on the number of threads.
template <class MatrixView, class ColumnView, class OutView>
struct ChunkColumnMoments {
  MatrixView X;        // rows of the chunks, first row = first row of chunk 0
  ColumnView columns;  // selected column indices
  OutView out;         // (chunk * ncols + c)
  std::size_t chunk_rows;
  std::size_t ncols;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const {
    const std::size_t chunk = i / ncols, c = i % ncols;
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    Moments m;
    for (std::size_t r = begin; r < end; ++r) m.add(X(r, columns(c)));
    out(i) = m;
  }
};

}  // namespace tessera::detail
