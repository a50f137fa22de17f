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

// Rows per block of the blocked moments below: a block's mean and M2 come from two
// passes over its rows (exact, stable), and blocks are merged into the running moments
// with Chan's update: one division per column per block instead of one per value.
constexpr std::size_t moment_block_rows = 32;

// Moments of each (chunk, column) pair: blocks of moment_block_rows rows in row order,
// so the result depends on neither the number of threads nor `Tile`. A work item covers
// one chunk and `Tile` consecutive selected columns; on CPUs a wide tile lets the inner
// loops run along a row (contiguous, vectorised), on GPUs Tile = 1 gives one column per
// thread with neighbouring threads reading neighbouring columns (coalesced).
template <class MatrixView, class ColumnView, class OutView, int Tile>
struct ChunkColumnMoments {
  MatrixView X;        // rows of whole chunks, first row = first row of the first chunk
  ColumnView columns;  // selected column indices
  OutView out;         // (chunk * ncols + c)
  std::size_t chunk_rows;
  std::size_t ncols;
  std::int64_t first_row;  // global index of X's first row

  static std::size_t work_items(std::size_t chunks, std::size_t ncols) {
    return chunks * ((ncols + Tile - 1) / Tile);
  }

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const {
    const std::size_t tiles = (ncols + Tile - 1) / Tile;
    const std::size_t chunk = i / tiles, c0 = (i % tiles) * Tile;
    const int width = static_cast<int>(kmath::min<std::size_t>(Tile, ncols - c0));
    bool contiguous = true;  // the tile's columns are c0, c0 + 1, ... (the usual case)
    for (int t = 0; t < width; ++t) contiguous = contiguous && columns(c0 + t) == long(c0) + t;
    if (contiguous)
      run<true>(chunk, c0, width);
    else
      run<false>(chunk, c0, width);
  }

  template <bool Contiguous>
  KOKKOS_INLINE_FUNCTION void run(std::size_t chunk, std::size_t c0, int width) const {
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    long col[Tile];
    for (int t = 0; t < width; ++t) col[t] = columns(c0 + t);
    const auto at = [&](std::size_t r, int t) {
      return Contiguous ? X(r, c0 + static_cast<std::size_t>(t)) : X(r, col[t]);
    };
    // One array per quantity (structure of arrays), so the loops over t vectorise.
    double count[Tile], mean[Tile], m2[Tile], nans[Tile], sum[Tile], abs_sum[Tile], sum_sq[Tile],
        lo[Tile], hi[Tile];
    std::int64_t arglo[Tile], arghi[Tile], first_nan[Tile];
    double bcount[Tile], bsum[Tile], babs[Tile], bsq[Tile], blo[Tile], bhi[Tile], bmean[Tile],
        bm2[Tile];
    for (int t = 0; t < width; ++t) {
      count[t] = mean[t] = m2[t] = nans[t] = sum[t] = abs_sum[t] = sum_sq[t] = 0;
      lo[t] = __builtin_huge_val(), hi[t] = -__builtin_huge_val();
      arglo[t] = arghi[t] = first_nan[t] = -1;
    }
    for (std::size_t r0 = begin; r0 < end; r0 += moment_block_rows) {
      const std::size_t r1 = kmath::min<std::size_t>(r0 + moment_block_rows, end);
      for (int t = 0; t < width; ++t) {
        bcount[t] = bsum[t] = babs[t] = bsq[t] = bm2[t] = 0;
        blo[t] = __builtin_huge_val(), bhi[t] = -__builtin_huge_val();
      }
      // Pass 1, branch-free along the row: counts, sums and extremes of the block
      // (x == x is false for NaN, which is left out; NaN never becomes an extreme).
      for (std::size_t r = r0; r < r1; ++r) TESSERA_SIMD for (int t = 0; t < width; ++t) {
          const double x = at(r, t);
          const bool ok = x == x;
          const double v = ok ? x : 0.0;
          bcount[t] += ok ? 1.0 : 0.0;
          bsum[t] += v;
          babs[t] += kmath::fabs(v);
          bsq[t] += v * v;
          blo[t] = x < blo[t] ? x : blo[t];
          bhi[t] = x > bhi[t] ? x : bhi[t];
        }
      // Pass 2 (the block is in cache): squared deviations from the block's mean.
      for (int t = 0; t < width; ++t) bmean[t] = bcount[t] > 0 ? bsum[t] / bcount[t] : 0.0;
      for (std::size_t r = r0; r < r1; ++r) TESSERA_SIMD for (int t = 0; t < width; ++t) {
          const double x = at(r, t);
          const double d = x == x ? x - bmean[t] : 0.0;
          bm2[t] += d * d;
        }
      // Per column and block: fold the block in. Rows of a new extreme or of the first
      // NaN are found by a rescan of this block only (rare after the first blocks).
      const double block_rows = static_cast<double>(r1 - r0);
      for (int t = 0; t < width; ++t) {
        sum[t] += bsum[t];
        abs_sum[t] += babs[t];
        sum_sq[t] += bsq[t];
        const double block_nans = block_rows - bcount[t];
        nans[t] += block_nans;
        const auto first_row_where = [&](auto&& match) {
          for (std::size_t r = r0; r < r1; ++r)
            if (match(at(r, t))) return first_row + static_cast<std::int64_t>(r);
          return std::int64_t(-1);
        };
        if (block_nans > 0 && first_nan[t] < 0)
          first_nan[t] = first_row_where([](double x) { return x != x; });
        if (blo[t] < lo[t]) {
          lo[t] = blo[t];
          arglo[t] = first_row_where([&](double x) { return x == blo[t]; });
        }
        if (bhi[t] > hi[t]) {
          hi[t] = bhi[t];
          arghi[t] = first_row_where([&](double x) { return x == bhi[t]; });
        }
        // Chan's merge of the block into the running count, mean and M2.
        if (bcount[t] == 0) continue;
        if (count[t] == 0) {
          count[t] = bcount[t], mean[t] = bmean[t], m2[t] = bm2[t];
          continue;
        }
        const double n = count[t] + bcount[t];
        const double delta = bmean[t] - mean[t];
        mean[t] += delta * (bcount[t] / n);
        m2[t] += bm2[t] + delta * delta * (count[t] * bcount[t] / n);
        count[t] = n;
      }
    }
    for (int t = 0; t < width; ++t) {
      Moments m;
      m.count = count[t], m.nan_count = nans[t], m.sum = sum[t], m.mean = mean[t];
      m.m2 = m2[t], m.min = lo[t], m.max = hi[t], m.abs_sum = abs_sum[t];
      m.sum_sq = sum_sq[t], m.argmin = arglo[t], m.argmax = arghi[t];
      m.first_nan = first_nan[t];
      out(chunk * ncols + c0 + t) = m;
    }
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

// Whole-matrix moments of a block of consecutive elements: NumPy's size and sum, and the
// block's M2 about its own mean (a second pass over the block while it is in L1 cache:
// stable whatever the data's offset), with the NaN count. Eight independent lanes summed
// in a fixed order, so the compiler can use vector registers and the result does not
// depend on who computes it. NaN are counted only when the sum is not finite.
struct BlockSummary {
  double n = 0, sum = 0, mean = 0, m2 = 0, nan = 0;

  KOKKOS_INLINE_FUNCTION static double fold(const double (&lane)[8]) {
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }

  KOKKOS_INLINE_FUNCTION static BlockSummary of(const double* x, std::size_t len) {
    BlockSummary b;
    if (len == 0) return b;
    constexpr std::size_t L = 8;
    const std::size_t whole = len - len % L;
    double s[L] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < whole; i += L)
      for (std::size_t k = 0; k < L; ++k) s[k] += x[i + k];
    for (std::size_t i = whole; i < len; ++i) s[0] += x[i];
    b.n = static_cast<double>(len);
    b.sum = fold(s);
    if (!(b.sum - b.sum == 0))  // NaN or inf: count the NaN
      for (std::size_t i = 0; i < len; ++i) b.nan += x[i] != x[i] ? 1.0 : 0.0;
    b.mean = b.sum / b.n;
    double m[L] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < whole; i += L)
      for (std::size_t k = 0; k < L; ++k) {
        const double d = x[i + k] - b.mean;
        m[k] += d * d;
      }
    for (std::size_t i = whole; i < len; ++i) m[0] += (x[i] - b.mean) * (x[i] - b.mean);
    b.m2 = fold(m);
    return b;
  }

  // `o` holds elements after this one's (Chan et al.'s merge).
  KOKKOS_INLINE_FUNCTION void merge(const BlockSummary& o) {
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double total = n + o.n, delta = o.mean - mean;
    m2 += o.m2 + delta * delta * n * o.n / total;
    mean += delta * o.n / total;
    sum += o.sum;
    nan += o.nan;
    n = total;
  }
};

// BlockSummary of block b of the local chunks of a contiguous row-major matrix: chunk
// c = b / per_chunk covers rows [c · chunk_rows, …); its elements are cut into blocks of
// `block` (the last one shorter; a short last chunk leaves empty blocks).
template <class OutView>
struct SummarizeBlocks {
  const double* data;
  std::size_t rows, cols, chunk_rows, block, per_chunk;
  OutView out;
  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t b) const {
    const std::size_t chunk = b / per_chunk, within = b % per_chunk;
    const std::size_t row_end = kmath::min(rows, (chunk + 1) * chunk_rows);
    const std::size_t begin = chunk * chunk_rows * cols + within * block;
    const std::size_t end = kmath::min(row_end * cols, begin + block);
    out(b) = BlockSummary::of(data + begin, end > begin ? end - begin : 0);
  }
};

}  // namespace tessera::detail
