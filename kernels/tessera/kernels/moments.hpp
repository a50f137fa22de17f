#pragma once
// Running moments of a stream of values (count, NaN count, sum, mean, M2, min, max and
// where they are, |x| and x² sums): Welford updates within a block, Chan et al.'s
// pairwise merge between blocks.
#include <cstdint>
#include <type_traits>

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

// A loop bound known at compile time (std::integral_constant's conversion is host-only
// in CUDA builds without relaxed constexpr).
template <int N>
struct Fixed {
  KOKKOS_INLINE_FUNCTION constexpr operator int() const { return N; }
};

// Rows per block of the blocked moments below: a block's mean and M2 come from two
// passes over its rows (exact, stable), and blocks are merged into the running moments
// with Chan's update: one division per column per block instead of one per value. (16
// rows: the fewer rows a page-sized piece of them a block reads at once, the better the
// hardware prefetcher follows a wide matrix; 16 was the fastest of 8 to 64.)
constexpr std::size_t moment_block_rows = 16;

// Moments of each (chunk, column) pair: blocks of moment_block_rows rows in row order,
// so the result depends on neither the number of threads nor `Tile` or `Span`. A work
// item covers one chunk and `Span` consecutive selected columns, taken `Tile` at a time
// within each block of rows. On CPUs a wide tile lets the inner loops run along a row
// (contiguous, vectorised) and a span of a page of columns reads the block's rows whole
// (a narrow span on a wide matrix would touch a new page every few cache lines); on GPUs
// Tile = Span = 1 gives one column per thread with neighbouring threads reading
// neighbouring columns (coalesced).
template <class MatrixView, class ColumnView, class OutView, int Tile, int Span = Tile>
struct ChunkColumnMoments {
  static_assert(Span % Tile == 0, "a span is whole tiles");
  MatrixView X;        // rows of whole chunks, first row = first row of the first chunk
  ColumnView columns;  // selected column indices
  OutView out;         // (chunk * ncols + c)
  std::size_t chunk_rows;
  std::size_t ncols;
  std::int64_t first_row;  // global index of X's first row

  // Running moments of a span's columns (structure of arrays, so loops over t vectorise).
  // The arrays are padded by a few cache lines: without it each lies 2^k bytes from the
  // next, and the loads of one array after the stores to another alias in the CPU's store
  // buffer (Span 1024: 11 -> 13 GB/s on an AMD EPYC).
  static constexpr int padded = Span + 24;
  struct State {
    double count[padded], mean[padded], m2[padded], nans[padded], sum[padded], abs_sum[padded],
        sum_sq[padded], lo[padded], hi[padded];
    std::int64_t arglo[padded], arghi[padded], first_nan[padded];
  };

  static constexpr int narrow_width = 8;  // spans narrower than this take blocks as lanes

  static std::size_t work_items(std::size_t chunks, std::size_t ncols) {
    return chunks * ((ncols + Span - 1) / Span);
  }

  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const {
    const std::size_t spans = (ncols + Span - 1) / Span;
    const std::size_t chunk = i / spans, c0 = (i % spans) * Span;
    const int width = static_cast<int>(kmath::min<std::size_t>(Span, ncols - c0));
    bool contiguous = true;  // the span's columns are c0, c0 + 1, ... (the usual case)
    for (int t = 0; t < width; ++t) contiguous = contiguous && columns(c0 + t) == long(c0) + t;
    if (contiguous)
      run<true>(chunk, c0, width);
    else
      run<false>(chunk, c0, width);
  }

  // The matrix column of selected column c.
  template <bool Contiguous>
  KOKKOS_INLINE_FUNCTION std::size_t column(std::size_t c) const {
    return Contiguous ? c : static_cast<std::size_t>(columns(c));
  }

  template <bool Contiguous>
  KOKKOS_INLINE_FUNCTION void run(std::size_t chunk, std::size_t c0, int width) const {
    const std::size_t begin = chunk * chunk_rows;
    const std::size_t end = kmath::min<std::size_t>(begin + chunk_rows, X.extent(0));
    State s;
    for (int t = 0; t < width; ++t) {
      s.count[t] = s.mean[t] = s.m2[t] = s.nans[t] = s.sum[t] = s.abs_sum[t] = s.sum_sq[t] = 0;
      s.lo[t] = __builtin_huge_val(), s.hi[t] = -__builtin_huge_val();
      s.arglo[t] = s.arghi[t] = s.first_nan[t] = -1;
    }
    std::size_t r0 = begin;
    if (Tile > 1 && width < narrow_width)  // a few columns: vectorise along the rows
      for (; r0 + Tile * moment_block_rows <= end; r0 += Tile * moment_block_rows)
        for (int t = 0; t < width; ++t) blocks_of_column<Contiguous>(s, r0, c0, t);
    for (; r0 < end; r0 += moment_block_rows) {
      const std::size_t r1 = kmath::min<std::size_t>(r0 + moment_block_rows, end);
      for (int t0 = 0; t0 < width; t0 += Tile)
        block<Contiguous>(s, r0, r1, c0, t0, kmath::min(Tile, width - t0));
    }
    // The blocks of the first extremes and NaN are known; find their rows there.
    for (int t = 0; t < width; ++t) {
      const auto first_row_where = [&](std::int64_t block_begin, auto&& match) {
        if (block_begin < 0) return std::int64_t(-1);
        const auto from = static_cast<std::size_t>(block_begin);
        const std::size_t to = kmath::min<std::size_t>(from + moment_block_rows, end);
        const std::size_t j = column<Contiguous>(c0 + static_cast<std::size_t>(t));
        for (std::size_t r = from; r < to; ++r)
          if (match(X(r, j))) return first_row + static_cast<std::int64_t>(r);
        return std::int64_t(-1);
      };
      Moments m;
      m.count = s.count[t], m.nan_count = s.nans[t], m.sum = s.sum[t], m.mean = s.mean[t];
      m.m2 = s.m2[t], m.min = s.lo[t], m.max = s.hi[t], m.abs_sum = s.abs_sum[t];
      m.sum_sq = s.sum_sq[t];
      m.argmin = first_row_where(s.arglo[t], [&](double x) { return x == m.min; });
      m.argmax = first_row_where(s.arghi[t], [&](double x) { return x == m.max; });
      m.first_nan = first_row_where(s.first_nan[t], [](double x) { return x != x; });
      out(chunk * ncols + c0 + t) = m;
    }
  }

  // Moments of one block of rows in each of up to Tile lanes: lane k's i-th value (i <
  // steps) is value(i, k). A lane is a column of a tile, or one block of a narrow column.
  struct Block {
    double count[Tile], sum[Tile], abs_sum[Tile], sum_sq[Tile], lo[Tile], hi[Tile], mean[Tile],
        m2[Tile];
  };

  template <class Value, class Steps, class Lanes>
  KOKKOS_INLINE_FUNCTION static void block_moments(const Value& value, Steps steps, Lanes lanes,
                                                   Block& b) {
    // Pass 1, branch-free across the lanes: counts, sums and extremes. NaN never becomes
    // an extreme; it is left out of the counts and sums, which `masked` does with a test
    // per value. Without NaN the test changes nothing, so the block is first summed
    // without it, and again with it only if a sum says there was a NaN (NaN + x is NaN).
    const auto pass1 = [&](auto masked) {
      constexpr bool test = decltype(masked)::value;
      for (int k = 0; k < lanes; ++k) {
        b.count[k] = test ? 0.0 : static_cast<double>(int(steps));
        b.sum[k] = 0;
        b.lo[k] = __builtin_huge_val(), b.hi[k] = -__builtin_huge_val();
      }
      for (int i = 0; i < steps; ++i) TESSERA_SIMD for (int k = 0; k < lanes; ++k) {
          const double x = value(i, k);
          const bool ok = !test || x == x;
          if (test) b.count[k] += ok ? 1.0 : 0.0;
          b.sum[k] += ok ? x : 0.0;
          b.lo[k] = x < b.lo[k] ? x : b.lo[k];
          b.hi[k] = x > b.hi[k] ? x : b.hi[k];
        }
    };
    pass1(std::false_type());
    bool nan = false, mixed = false;
    for (int k = 0; k < lanes; ++k) {
      nan = nan || b.sum[k] != b.sum[k];
      mixed = mixed || (b.lo[k] < 0 && b.hi[k] > 0);
    }
    if (nan) pass1(std::true_type());
    // Pass 2 (the block is in cache): squared deviations from the block's mean, and the
    // sum of |x| if a lane has values of both signs.
    for (int k = 0; k < lanes; ++k) b.mean[k] = b.count[k] > 0 ? b.sum[k] / b.count[k] : 0.0;
    const auto pass2 = [&](auto masked, auto abs) {
      constexpr bool test = decltype(masked)::value, signs = decltype(abs)::value;
      for (int k = 0; k < lanes; ++k) b.m2[k] = b.abs_sum[k] = 0;
      for (int i = 0; i < steps; ++i) TESSERA_SIMD for (int k = 0; k < lanes; ++k) {
          const double x = value(i, k);
          const bool ok = !test || x == x;
          const double d = ok ? x - b.mean[k] : 0.0;
          b.m2[k] += d * d;
          if (signs) b.abs_sum[k] += kmath::fabs(ok ? x : 0.0);
        }
    };
    if (nan)
      mixed ? pass2(std::true_type(), std::true_type())
            : pass2(std::true_type(), std::false_type());
    else
      mixed ? pass2(std::false_type(), std::true_type())
            : pass2(std::false_type(), std::false_type());
    // Where the lane's values have one sign, the sum of |x| is the sum or 0 - sum, exactly
    // (negation commutes with rounding; sums start at +0, so never end at -0). The sum of squares
    // from the block's moments: sum(x^2) = M2 + sum * mean, both terms >= 0, so as accurate as
    // summing the squares, without their two operations per value (an infinite value gives inf, as
    // x * x would).
    for (int k = 0; k < lanes; ++k) {
      const double lo = b.lo[k], hi = b.hi[k], sum = b.sum[k];
      b.abs_sum[k] = lo >= 0 ? sum : hi <= 0 ? 0.0 - sum : b.abs_sum[k];
      const bool infinite = lo == -__builtin_huge_val() || hi == __builtin_huge_val();
      b.sum_sq[k] = b.count[k] == 0 ? 0.0
                    : infinite      ? __builtin_huge_val()
                                    : b.m2[k] + sum * b.mean[k];
    }
  }

  // Folds lane k of `b`, a block of `rows` rows from row0, into column u of `s`,
  // branch-free (Chan's merge of the block into the running count, mean and M2; a block
  // without values changes nothing, the first one with values is taken whole). For the
  // first extremes and the first NaN, the block where they are is noted (its first row);
  // run() finds their rows at the end.
  KOKKOS_INLINE_FUNCTION static void fold(State& s, int u, const Block& b, int k, double rows,
                                          std::int64_t row0) {
    s.sum[u] += b.sum[k];
    s.abs_sum[u] += b.abs_sum[k];
    s.sum_sq[u] += b.sum_sq[k];
    const double block_nans = rows - b.count[k];
    s.first_nan[u] = block_nans > 0 && s.first_nan[u] < 0 ? row0 : s.first_nan[u];
    s.nans[u] += block_nans;
    s.arglo[u] = b.lo[k] < s.lo[u] ? row0 : s.arglo[u];
    s.lo[u] = b.lo[k] < s.lo[u] ? b.lo[k] : s.lo[u];
    s.arghi[u] = b.hi[k] > s.hi[u] ? row0 : s.arghi[u];
    s.hi[u] = b.hi[k] > s.hi[u] ? b.hi[k] : s.hi[u];
    const double count = s.count[u], n = count + b.count[k];
    const double delta = b.mean[k] - s.mean[u];
    const double mean = s.mean[u] + delta * (b.count[k] / n);
    const double m2 = s.m2[u] + (b.m2[k] + delta * delta * (count * b.count[k] / n));
    const bool first = count == 0, empty = b.count[k] == 0;
    s.mean[u] = empty ? s.mean[u] : first ? b.mean[k] : mean;
    s.m2[u] = empty ? s.m2[u] : first ? b.m2[k] : m2;
    s.count[u] = n;
  }

  // Folds rows [r0, r1) of the span's columns t0 .. t0 + width - 1 into `s` (lanes:
  // the columns).
  template <bool Contiguous>
  KOKKOS_INLINE_FUNCTION void block(State& s, std::size_t r0, std::size_t r1, std::size_t c0,
                                    int t0, int width) const {
    long col[Tile];
    if (!Contiguous)
      for (int t = 0; t < width; ++t) col[t] = columns(c0 + t0 + t);
    const auto value = [&](int i, int t) {
      const std::size_t r = r0 + static_cast<std::size_t>(i);
      return Contiguous ? X(r, c0 + static_cast<std::size_t>(t0 + t)) : X(r, col[t]);
    };
    const auto row0 = static_cast<std::int64_t>(r0);
    if (width == Tile && r1 - r0 == moment_block_rows)  // the usual case, unrolled
      fold_block(s, value, Fixed<int(moment_block_rows)>(), Fixed<Tile>(), t0, row0);
    else
      fold_block(s, value, static_cast<int>(r1 - r0), width, t0, row0);
  }

  template <class Value, class Steps, class Lanes>
  KOKKOS_INLINE_FUNCTION static void fold_block(State& s, const Value& value, Steps steps,
                                                Lanes width, int t0, std::int64_t row0) {
    Block b;
    block_moments(value, steps, width, b);
    const double rows = static_cast<double>(int(steps));
    TESSERA_SIMD for (int t = 0; t < width; ++t) fold(s, t0 + t, b, t, rows, row0);
  }

  // Folds Tile whole blocks from r0 of the span's column t into `s` (lanes: the blocks,
  // folded in row order): a narrow span vectorises along its rows, with the same
  // operations per block as block() and so the same bits.
  template <bool Contiguous>
  KOKKOS_INLINE_FUNCTION void blocks_of_column(State& s, std::size_t r0, std::size_t c0,
                                               int t) const {
    const std::size_t j = column<Contiguous>(c0 + static_cast<std::size_t>(t));
    // The blocks side by side in a scratch tile (row i of every block contiguous), read
    // from the column once, instead of strided loads in each pass.
    constexpr int rows = int(moment_block_rows);
    double tile[rows * Tile];
    for (int k = 0; k < Tile; ++k)
      for (int i = 0; i < rows; ++i)
        tile[i * Tile + k] = X(r0 + static_cast<std::size_t>(k * rows + i), j);
    Block b;
    block_moments([&](int i, int k) { return tile[i * Tile + k]; }, Fixed<rows>(), Fixed<Tile>(),
                  b);
    for (int k = 0; k < Tile; ++k)
      fold(s, t, b, k, static_cast<double>(rows),
           static_cast<std::int64_t>(r0 + static_cast<std::size_t>(k * rows)));
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
    BlockSummary b = first_pass(x, len);
    b.second_pass(x, len);
    return b;
  }

  // Pass 1: the size, sum, NaN count and mean, from the sum in eight lanes.
  KOKKOS_INLINE_FUNCTION static BlockSummary first_pass(const double* x, std::size_t len) {
    if (len == 0) return BlockSummary();
    const std::size_t whole = len - len % 8;
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < whole; i += 8)
      for (std::size_t k = 0; k < 8; ++k) s[k] += x[i + k];
    for (std::size_t i = whole; i < len; ++i) s[0] += x[i];
    return summed(x, len, s);
  }

  // Pass 1's results from its lanes' sums (len > 0).
  KOKKOS_INLINE_FUNCTION static BlockSummary summed(const double* x, std::size_t len,
                                                    const double (&lane)[8]) {
    BlockSummary b;
    b.n = static_cast<double>(len);
    b.sum = fold(lane);
    if (!(b.sum - b.sum == 0))  // NaN or inf: count the NaN
      for (std::size_t i = 0; i < len; ++i) b.nan += x[i] != x[i] ? 1.0 : 0.0;
    b.mean = b.sum / b.n;
    return b;
  }

  // Pass 2 (the block is in cache): M2 about the block's mean.
  KOKKOS_INLINE_FUNCTION void second_pass(const double* x, std::size_t len) {
    if (len == 0) return;
    const std::size_t whole = len - len % 8;
    double m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < whole; i += 8)
      for (std::size_t k = 0; k < 8; ++k) {
        const double d = x[i + k] - mean;
        m[k] += d * d;
      }
    for (std::size_t i = whole; i < len; ++i) m[0] += (x[i] - mean) * (x[i] - mean);
    m2 = fold(m);
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
    std::size_t len = 0;
    const double* x = elements(b, len);
    out(b) = BlockSummary::of(x, len);
  }

  // The elements of block b (its length in len: 0 for an empty block).
  KOKKOS_INLINE_FUNCTION const double* elements(std::size_t b, std::size_t& len) const {
    const std::size_t chunk = b / per_chunk, within = b % per_chunk;
    const std::size_t row_end = kmath::min(rows, (chunk + 1) * chunk_rows);
    const std::size_t begin = chunk * chunk_rows * cols + within * block;
    const std::size_t end = kmath::min(row_end * cols, begin + block);
    len = end > begin ? end - begin : 0;
    return data + begin;
  }
};

}  // namespace tessera::detail
