#pragma once
// Running moments of a stream of values (count, NaN count, sum, mean, M2, min, max and
// where they are, |x| and x² sums): Welford updates within a block, Chan et al.'s
// pairwise merge between blocks.
#include <cstdint>

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
  double abs_sum = 0;
  double sum_sq = 0;
  std::int64_t argmin = -1;     // global row of the first minimum
  std::int64_t argmax = -1;     // global row of the first maximum
  std::int64_t first_nan = -1;  // global row of the first NaN

  KOKKOS_INLINE_FUNCTION void add(double x, std::int64_t row) {
    if (kmath::isnan(x)) {
      if (nan_count == 0) first_nan = row;
      nan_count += 1;
      return;
    }
    count += 1;
    sum += x;
    abs_sum += kmath::fabs(x);
    sum_sq += x * x;
    const double delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
    if (x < min) min = x, argmin = row;
    if (x > max) max = x, argmax = row;
  }

  // `o` holds rows after this one's (blocks are merged in row order).
  KOKKOS_INLINE_FUNCTION void merge(const Moments& o) {
    if (first_nan < 0) first_nan = o.first_nan;
    nan_count += o.nan_count;
    if (o.count == 0) return;
    if (count == 0) {
      const double nans = nan_count;
      const std::int64_t first = first_nan;
      *this = o;
      nan_count = nans;
      first_nan = first;
      return;
    }
    const double n = count + o.count;
    const double delta = o.mean - mean;
    mean += delta * (o.count / n);
    m2 += o.m2 + delta * delta * (count * o.count / n);
    count = n;
    sum += o.sum;
    abs_sum += o.abs_sum;
    sum_sq += o.sum_sq;
    if (o.min < min) min = o.min, argmin = o.argmin;
    if (o.max > max) max = o.max, argmax = o.argmax;
  }
};

// Moments of each (chunk, column) pair, each a sequential pass over the chunk's rows,
// so the result does not depend on the number of threads.
template <class MatrixView, class ColumnView, class OutView>
struct ChunkColumnMoments {
  MatrixView X;        // rows of whole chunks, first row = first row of the first chunk
  ColumnView columns;  // selected column indices
  OutView out;         // (chunk * ncols + c)
  std::size_t chunk_rows;
  std::size_t ncols;
  std::int64_t first_row;  // global index of X's first row

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const {
    const std::size_t chunk = i / ncols, c = i % ncols;
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    Moments m;
    for (std::size_t r = begin; r < end; ++r)
      m.add(X(r, columns(c)), first_row + static_cast<std::int64_t>(r));
    out(i) = m;
  }
};

}  // namespace tessera::detail

namespace tessera::detail {

// Moments of each (chunk, key, column) triple over the chunk's rows whose key column
// equals keys(k), sequential in row order (reproducible for any thread count).
template <class MatrixView, class KeysView, class ColumnView, class OutView>
struct ChunkGroupMoments {
  MatrixView X;
  KeysView keys;       // distinct keys, sorted
  ColumnView columns;  // reduced columns
  OutView out;         // (chunk, key, column)
  std::size_t chunk_rows;
  std::size_t key_column;
  std::int64_t first_row;

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t chunk, const std::size_t k,
                                         const std::size_t c) const {
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    const double key = keys(k);
    Moments m;
    for (std::size_t r = begin; r < end; ++r)
      if (X(r, key_column) == key)
        m.add(X(r, columns(c)), first_row + static_cast<std::int64_t>(r));
    out(chunk, k, c) = m;
  }
};

}  // namespace tessera::detail
