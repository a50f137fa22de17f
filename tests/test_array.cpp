// array: per-column statistics against NumPy (fixture) and NumPy's NaN semantics.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

#include <tessera/array/column_stats.hpp>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/maps.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/readers.hpp>
#include <tessera/io/results.hpp>
#include <tessera/kernels/moments.hpp>

#include "test_support.hpp"

using namespace tessera;

TEST(ColumnStats, DigitsMatchNumpy) {
  const Table t = io::digits();
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  for (std::size_t chunk_rows : {std::size_t(65536), std::size_t(100), std::size_t(7)}) {
    array::ColumnStatsOptions options;
    options.chunk_rows = chunk_rows;
    const auto s = array::column_stats(Comm::self(), t.X, options);
    ASSERT_EQ(s.rows, 1797u);
    ASSERT_EQ(s.columns.size(), 64u);
    for (std::size_t j = 0; j < 64; ++j) {
      const auto& c = s.columns[j];
      EXPECT_EQ(c.index, static_cast<long>(j));
      EXPECT_EQ(c.count, 1797);
      EXPECT_EQ(c.nan_count, 0);
      EXPECT_EQ(c.sum, ref["sum"][j].get<double>());  // integers: exact
      EXPECT_LE(test::rel_diff(c.mean, ref["mean"][j].get<double>()), 1e-14) << j;
      EXPECT_NEAR(c.std, ref["std"][j].get<double>(), 1e-12) << j;
      EXPECT_EQ(c.min, ref["min"][j].get<double>());
      EXPECT_EQ(c.max, ref["max"][j].get<double>());
      EXPECT_EQ(c.argmin, ref["argmin"][j].get<std::int64_t>()) << j;  // first occurrence
      EXPECT_EQ(c.argmax, ref["argmax"][j].get<std::int64_t>()) << j;
      EXPECT_EQ(c.l1, ref["l1"][j].get<double>());
      EXPECT_LE(test::rel_diff(c.l2, ref["l2"][j].get<double>()), 1e-15) << j;
    }
    const auto& o = ref["overall"];
    EXPECT_EQ(s.overall.count, 1797.0 * 64);
    EXPECT_EQ(s.overall.sum, o["sum"].get<double>());
    EXPECT_LE(test::rel_diff(s.overall.mean, o["mean"].get<double>()), 1e-14);
    EXPECT_LE(test::rel_diff(s.overall.std, o["std"].get<double>()), 1e-13);
    options.ddof = 1;  // the sample standard deviation
    const auto s1 = array::column_stats(Comm::self(), t.X, options);
    for (std::size_t j = 0; j < 64; ++j)
      EXPECT_NEAR(s1.columns[j].std, ref["std_ddof1"][j].get<double>(), 1e-12) << j;
  }
}

TEST(ColumnStats, DdofAtOrAboveCountIsInfOrNanAsNumpy) {
  HostMatrix X("X", 2, 2);
  X(0, 0) = 1, X(1, 0) = 3, X(0, 1) = 2, X(1, 1) = 2;
  array::ColumnStatsOptions options;
  options.ddof = 2;  // numpy.std([1, 3], ddof=2) = inf, numpy.std([2, 2], ddof=2) = nan
  const auto s = array::column_stats(Comm::self(), X, options);
  EXPECT_TRUE(std::isinf(s.columns[0].std));
  EXPECT_TRUE(std::isnan(s.columns[1].std));
  options.ddof = -1;
  EXPECT_THROW(array::column_stats(Comm::self(), X, options), InvalidArgument);
}

TEST(ColumnStats, NanPolicies) {
  HostMatrix X("X", 4, 2);
  const double v[4][2] = {{1, NAN}, {2, NAN}, {NAN, NAN}, {5, NAN}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j) X(i, j) = v[i][j];
  array::ColumnStatsOptions options;
  options.chunk_rows = 3;
  const auto prop = array::column_stats(Comm::self(), X, options);
  EXPECT_EQ(prop.columns[0].count, 3);
  EXPECT_EQ(prop.columns[0].nan_count, 1);
  EXPECT_TRUE(std::isnan(prop.columns[0].mean));  // numpy.mean
  EXPECT_TRUE(std::isnan(prop.columns[0].sum));
  options.nan = array::NanPolicy::skip;
  const auto skip = array::column_stats(Comm::self(), X, options);
  EXPECT_EQ(skip.columns[0].sum, 8.0);  // numpy.nansum
  EXPECT_EQ(skip.columns[0].mean, 8.0 / 3);
  EXPECT_NEAR(skip.columns[0].std,
              std::sqrt(((1 - 8.0 / 3) * (1 - 8.0 / 3) + (2 - 8.0 / 3) * (2 - 8.0 / 3) +
                         (5 - 8.0 / 3) * (5 - 8.0 / 3)) /
                        3),
              1e-15);
  EXPECT_EQ(skip.columns[0].min, 1.0);
  EXPECT_EQ(skip.columns[0].max, 5.0);
  // An all-NaN column: nansum is 0, nanmean is NaN.
  EXPECT_EQ(skip.columns[1].count, 0);
  EXPECT_EQ(skip.columns[1].nan_count, 4);
  EXPECT_EQ(skip.columns[1].sum, 0.0);
  EXPECT_TRUE(std::isnan(skip.columns[1].mean));
  EXPECT_EQ(skip.overall.nan_count, 5);
  // numpy.argmin returns the first NaN; numpy.nanargmin skips NaN (and has no answer
  // for an all-NaN column: -1 here).
  EXPECT_EQ(prop.columns[0].argmin, 2);
  EXPECT_EQ(prop.columns[0].argmax, 2);
  EXPECT_EQ(skip.columns[0].argmin, 0);
  EXPECT_EQ(skip.columns[0].argmax, 3);
  EXPECT_EQ(skip.columns[1].argmin, -1);
  EXPECT_EQ(skip.columns[0].l1, 8.0);
  EXPECT_EQ(skip.columns[0].l2, std::sqrt(1.0 + 4 + 25));
  EXPECT_TRUE(std::isnan(prop.columns[0].l2));
}

namespace {

// Normal values around a per-column offset, NaN in every third column, the minimum
// -100 - j twice (rows 20 apart) and the maximum 100 + j once, all at rows that vary with j.
HostMatrix planted_matrix(std::size_t n, std::size_t d) {
  HostMatrix X("X", n, d);
  const CounterRng rng(5, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) X(i, j) = rng.normal(i * d + j) + double(j % 7) - 3;
  for (std::size_t j = 0; j < d; ++j) {
    if (j % 3 == 0) X((j * 19 + 2) % n, j) = std::nan("");
    X((j * 13) % n, j) = -100.0 - double(j);
    X((j * 13 + 20) % n, j) = -100.0 - double(j);
    X((j * 17 + 1) % n, j) = 100.0 + double(j);
  }
  return X;
}

// Every column of `s` (NaN skipped) as a direct computation on planted_matrix gives it:
// long double sums, a two-pass variance, the first of the two minima.
void expect_direct_stats(const HostMatrix& X, const array::ColumnStats& s) {
  const std::size_t n = X.extent(0), d = X.extent(1);
  ASSERT_EQ(s.columns.size(), d);
  for (std::size_t j = 0; j < d; ++j) {
    long double sum = 0, abs = 0, sq = 0, count = 0;
    std::size_t first_min = n, nans = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = X(i, j);
      if (std::isnan(x)) {
        nans += 1;
        continue;
      }
      sum += x, abs += std::fabs(x), sq += static_cast<long double>(x) * x, count += 1;
      if (x == -100.0 - double(j) && first_min == n) first_min = i;
    }
    const long double mean = sum / count;
    long double m2 = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isnan(X(i, j))) m2 += (X(i, j) - mean) * (X(i, j) - mean);
    const auto& c = s.columns[j];
    ASSERT_EQ(c.count, double(count)) << j;
    ASSERT_EQ(c.nan_count, double(nans)) << j;
    ASSERT_LE(std::fabs(c.sum - double(sum)), 1e-12 * double(abs)) << j;
    ASSERT_LE(test::rel_diff(c.mean, double(mean)), 1e-12) << j;
    ASSERT_LE(test::rel_diff(c.std, double(std::sqrt(m2 / count))), 1e-13) << j;
    ASSERT_LE(test::rel_diff(c.l1, double(abs)), 1e-14) << j;
    ASSERT_LE(test::rel_diff(c.l2, double(std::sqrt(sq))), 1e-14) << j;
    ASSERT_EQ(c.min, -100.0 - double(j)) << j;
    ASSERT_EQ(c.argmin, std::int64_t(first_min)) << j;
    ASSERT_EQ(c.max, 100.0 + double(j)) << j;
    ASSERT_EQ(c.argmax, std::int64_t((j * 17 + 1) % n)) << j;
  }
}

}  // namespace

// More columns than the host kernel takes at a time (spans of 1024 in tiles of 32) and
// chunks that end inside a block of rows: every column as a direct computation gives it,
// and a selection of columns out of order across spans gives their bits.
TEST(ColumnStats, WideMatricesMatchADirectComputation) {
  const HostMatrix X = planted_matrix(203, 2100);
  array::ColumnStatsOptions options;
  options.chunk_rows = 40;  // 5 whole chunks and a short one
  options.nan = array::NanPolicy::skip;
  const auto s = array::column_stats(Comm::self(), X, options);
  expect_direct_stats(X, s);
  options.columns = {2099, 5, 1030, 1031, 6, 1023, 1024, 7, 8};
  const auto picked = array::column_stats(Comm::self(), X, options);
  ASSERT_EQ(picked.columns.size(), options.columns.size());
  for (std::size_t k = 0; k < options.columns.size(); ++k)
    EXPECT_EQ(std::memcmp(&picked.columns[k], &s.columns[options.columns[k]],
                          sizeof(array::ColumnSummary)),
              0)
        << options.columns[k];
}

// A few columns are reduced along their rows (32 blocks of a column at once): the direct
// computation's values, and bit for bit what the same columns give inside a wide matrix.
TEST(ColumnStats, NarrowMatricesMatchTheWidePathBitForBit) {
  const HostMatrix X = planted_matrix(3000, 5);
  const HostMatrix W = planted_matrix(3000, 40);
  for (std::size_t i = 0; i < 3000; ++i)
    for (std::size_t j = 0; j < 5; ++j) W(i, j) = X(i, j);  // the same first 5 columns
  array::ColumnStatsOptions options;
  options.nan = array::NanPolicy::skip;
  for (std::size_t chunk_rows : {std::size_t(1300), std::size_t(512), std::size_t(3000)}) {
    options.chunk_rows = chunk_rows;
    const auto narrow = array::column_stats(Comm::self(), X, options);
    expect_direct_stats(X, narrow);
    const auto wide = array::column_stats(Comm::self(), W, options);
    for (std::size_t j = 0; j < 5; ++j)
      EXPECT_EQ(std::memcmp(&narrow.columns[j], &wide.columns[j], sizeof(array::ColumnSummary)), 0)
          << "chunk_rows " << chunk_rows << " column " << j;
  }
}

// L1 and L2 norms come from each block's moments where a block's values have one sign
// (|x| sums to the sum or its negation; x^2 to M2 + sum * mean): infinite values, signed
// zeros and alternating signs as NumPy gives them (np.abs(x).sum(), np.linalg.norm(x)),
// on the narrow path (4 columns, 512 rows as lanes, then blocks) and inside a wide matrix.
TEST(ColumnStats, NormsOfInfiniteSignedAndZeroValues) {
  const std::size_t n = 600;
  const double inf = std::numeric_limits<double>::infinity();
  HostMatrix X("X", n, 4), W("W", n, 40);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = double(i);
    X(i, 0) = i == 7 ? inf : 0.5 * v + 1;  // positive, +inf at row 7
    X(i, 1) = i == 550 ? -inf : -(v + 1);  // negative, -inf at row 550
    X(i, 2) = -0.0;                        // numpy: abs sum +0.0, norm 0.0
    X(i, 3) = i % 2 ? v : -v;              // both signs in every block
    for (std::size_t j = 0; j < 40; ++j) W(i, j) = X(i, j % 4);
  }
  double sq = 0, abs = 0;  // column 3: exact integers
  for (std::size_t i = 0; i < n; ++i) sq += double(i) * double(i), abs += double(i);
  for (const HostMatrix* M : {&X, &W}) {
    array::ColumnStatsOptions options;
    options.chunk_rows = 580;  // a short second chunk
    const auto s = array::column_stats(Comm::self(), *M, options);
    EXPECT_EQ(s.columns[0].mean, inf);  // numpy.mean: sum / count
    EXPECT_TRUE(std::isnan(s.columns[0].std));
    EXPECT_EQ(s.columns[0].l1, inf);
    EXPECT_EQ(s.columns[0].l2, inf);
    EXPECT_EQ(s.columns[0].max, inf);
    EXPECT_EQ(s.columns[0].argmax, 7);
    EXPECT_EQ(s.columns[1].mean, -inf);
    EXPECT_EQ(s.columns[1].l1, inf);
    EXPECT_EQ(s.columns[1].l2, inf);
    EXPECT_EQ(s.columns[1].min, -inf);
    EXPECT_EQ(s.columns[1].argmin, 550);
    EXPECT_EQ(s.columns[2].l1, 0.0);
    EXPECT_FALSE(std::signbit(s.columns[2].l1));
    EXPECT_EQ(s.columns[2].l2, 0.0);
    EXPECT_EQ(s.columns[3].l1, abs);
    EXPECT_LE(test::rel_diff(s.columns[3].l2, std::sqrt(sq)), 1e-15);
    for (std::size_t j = 4; j < M->extent(1); ++j) {  // the copies give the same bits
      array::ColumnSummary copy = s.columns[j];
      copy.index = s.columns[j % 4].index;
      EXPECT_EQ(std::memcmp(&copy, &s.columns[j % 4], sizeof copy), 0) << j;
    }
  }
}

TEST(DistMatrix, ChunkGridSplitsWholeChunks) {
  const array::ChunkGrid grid{1000, 64};  // 16 chunks, the last of 40 rows
  EXPECT_EQ(grid.chunks(), 16u);
  EXPECT_EQ(grid.chunk_begin(15), 960u);
  EXPECT_EQ(grid.chunk_begin(16), 1000u);
  for (int p : {1, 2, 3, 7, 16, 20}) {
    std::size_t covered = 0;
    for (int r = 0; r < p; ++r) {
      const std::size_t a = grid.first_chunk(r, p), b = grid.first_chunk(r + 1, p);
      EXPECT_LE(a, b);
      EXPECT_EQ(a, covered);  // contiguous, in rank order
      covered = b;
    }
    EXPECT_EQ(covered, 16u) << p;
  }
}

// A new host DistMatrix is zero-filled (it is allocated uninitialised, advised, then
// filled) and, where Linux offers transparent huge pages (madvise or always mode), lies on
// them: /proc/self/smaps counts AnonHugePages in its mapping. advise_huge_pages never fails,
// also for null, tiny or unaligned ranges.
TEST(DistMatrix, HostRowsAreZeroAndOnHugePages) {
  tessera::advise_huge_pages(nullptr, 0);
  double small[3] = {1, 2, 3};
  tessera::advise_huge_pages(small + 1, sizeof small - sizeof(double));
  EXPECT_EQ(small[2], 3.0);
  const std::size_t rows = 4096, cols = 2048;  // 64 MiB
  array::DistMatrix<double, Kokkos::HostSpace> X(Comm::self(), rows, cols, 1024);
  const auto local = X.local();
  double nonzero = 0;
  for (std::size_t i = 0; i < local.span(); ++i) nonzero += local.data()[i] != 0.0;
  EXPECT_EQ(nonzero, 0.0);
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(mode, modes);
  if (modes.find("[never]") != std::string::npos || modes.empty())
    GTEST_SKIP() << "transparent huge pages are off here: " << modes;
  // the smaps entry whose range holds the rows' first byte past a 2 MiB boundary
  const auto probe = reinterpret_cast<std::uintptr_t>(local.data()) + (std::uintptr_t(2) << 20);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  long huge_kb = -1;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= probe && probe < hi;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0)
      huge_kb = std::strtol(line.c_str() + 14, nullptr, 10);
  }
  EXPECT_GT(huge_kb, 0) << "THP mode: " << modes;
}

TEST(DistMatrix, DistributeGatherAndWrap) {
  const Table t = io::digits();
  const auto D = array::distribute<Kokkos::HostSpace>(Comm::self(), t.X, 100);
  EXPECT_EQ(D.rows(), 1797u);
  EXPECT_EQ(D.row_begin(), 0u);
  EXPECT_EQ(D.row_end(), 1797u);
  EXPECT_EQ(D.last_chunk(), 18u);
  const auto back = array::gather(D);
  for (std::size_t i = 0; i < 1797; ++i)
    for (std::size_t j = 0; j < 64; ++j) ASSERT_EQ(back(i, j), t.X(i, j));
  HostMatrix too_few("few", 10, 64);
  EXPECT_THROW((array::DistMatrix<double, Kokkos::HostSpace>(Comm::self(), {1797, 100}, too_few)),
               InvalidArgument);
  EXPECT_THROW((array::DistMatrix<double, Kokkos::HostSpace>(Comm::self(), 10, 2, 0)),
               InvalidArgument);
}

TEST(ColumnStats, SelectedColumnsAndErrors) {
  HostMatrix X("X", 3, 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) X(i, j) = i * 3 + j;
  array::ColumnStatsOptions options;
  options.columns = {2, 0};
  const auto s = array::column_stats(Comm::self(), X, options);
  ASSERT_EQ(s.columns.size(), 2u);
  EXPECT_EQ(s.columns[0].index, 2);
  EXPECT_EQ(s.columns[0].sum, 2 + 5 + 8);
  EXPECT_EQ(s.overall.count, 6);
  options.columns = {3};
  EXPECT_THROW(array::column_stats(Comm::self(), X, options), InvalidArgument);
  options.columns = {};
  options.chunk_rows = 0;
  EXPECT_THROW(array::column_stats(Comm::self(), X, options), InvalidArgument);
}

TEST(Covariance, DigitsMatchNumpyCov) {
  const Table t = io::digits();
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  for (std::size_t chunk_rows : {std::size_t(65536), std::size_t(64), std::size_t(5)}) {
    const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), t.X, chunk_rows);
    for (int ddof : {1, 0}) {
      const auto c = array::covariance(X, ddof);
      const auto& want = ref.at(ddof == 1 ? "cov" : "cov_ddof0");
      double worst = 0;
      for (std::size_t i = 0; i < 64; ++i)
        for (std::size_t j = 0; j < 64; ++j) {
          const double w = want[i][j].get<double>();
          worst = std::max(worst, std::abs(c.cov(i, j) - w) / std::max(1.0, std::abs(w)));
          ASSERT_EQ(c.cov(i, j), c.cov(j, i));
        }
      EXPECT_LT(worst, 1e-12) << "chunk_rows " << chunk_rows << " ddof " << ddof;
      for (std::size_t j = 0; j < 64; ++j)
        EXPECT_LE(test::rel_diff(c.mean(j), ref["mean"][j].get<double>()), 1e-14);
    }
  }
  const auto one_row = array::distribute<Kokkos::HostSpace>(
      Comm::self(), Kokkos::subview(t.X, Kokkos::make_pair(0, 1), Kokkos::ALL), 10);
  EXPECT_THROW(array::covariance(one_row, 1), InvalidArgument);
}

// Digits are small integers: XᵀX is exact in any order, so it equals NumPy's exactly.
TEST(Gram, DigitsMatchNumpy) {
  const Table t = io::digits();
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  const auto G = array::gram(array::distribute<Kokkos::HostSpace>(Comm::self(), t.X, 300));
  for (std::size_t j = 0; j < 64; ++j) {
    EXPECT_EQ(G(7, j), ref["gram_row7"][j].get<double>()) << j;
    EXPECT_EQ(G(j, 7), G(7, j));
  }
}

// The one-pass whole-matrix summary against NumPy's X.sum(), X.mean(), X.std() (fixture),
// closed forms, ddof, a large offset, NaN propagation, and sizes that leave short blocks
// and chunks.
TEST(Summary, MatchesNumpyInOnePass) {
  const auto ref = test::read_json(test::fixture("digits_stats.json")).at("overall");
  const Table t = io::digits();
  for (const std::size_t chunk : {std::size_t(100), std::size_t(7), std::size_t(5000)}) {
    const auto s = array::summary(array::whole(t.X, chunk));
    EXPECT_EQ(s.count, 1797.0 * 64);
    EXPECT_EQ(s.nan_count, 0.0);
    EXPECT_EQ(s.sum, ref.at("sum").get<double>());
    EXPECT_LE(test::rel_diff(s.mean, ref.at("mean").get<double>()), 1e-15);
    EXPECT_LE(test::rel_diff(s.std, ref.at("std").get<double>()), 1e-14);
  }
  // Closed forms: 0, 1, ..., n-1 has mean (n-1)/2 and variance (n^2-1)/12 (ddof 0).
  const std::size_t n = 10007;
  HostMatrix R("R", n, 1);
  for (std::size_t i = 0; i < n; ++i) R(i, 0) = double(i);
  const auto r = array::summary(array::whole(R, 1000), 1);
  EXPECT_EQ(r.sum, double(n) * double(n - 1) / 2);
  EXPECT_NEAR(r.std, std::sqrt((double(n) * n - 1) / 12 * n / (n - 1)), 1e-9);
  // A large offset does not hurt the variance (blocks are centred on their own mean).
  double mean = 0, m2 = 0;  // the reference: two passes over the values without offset
  for (std::size_t i = 0; i < n; ++i) mean += double(i % 3) / double(n);
  for (std::size_t i = 0; i < n; ++i) m2 += (double(i % 3) - mean) * (double(i % 3) - mean);
  for (std::size_t i = 0; i < n; ++i) R(i, 0) = 1e9 + double(i % 3);
  const auto offset = array::summary(array::whole(R, 1000));
  EXPECT_NEAR(offset.std, std::sqrt(m2 / double(n)), 1e-7);
  R(4321, 0) = std::nan("");
  const auto nan = array::summary(array::whole(R, 1000));
  EXPECT_EQ(nan.nan_count, 1.0);
  EXPECT_TRUE(std::isnan(nan.sum) && std::isnan(nan.mean) && std::isnan(nan.std));
}

// The host runs blocks in runs, the second pass over a block fused with the first over
// the next; the device kernel (SummarizeBlocks, one block per work item, run here on the
// host) merged in the same order gives the same bits: full blocks, chunks ending inside a
// block, short and empty last blocks, NaN and inf.
TEST(Summary, HostRunsGiveTheDeviceKernelsBits) {
  using detail::BlockSummary;
  const CounterRng rng(3, 0);
  for (const auto& [rows, cols, chunk_rows] : {std::array<std::size_t, 3>{20000, 3, 5000},
                                               {1000, 7, 300},
                                               {70000, 1, 65536},
                                               {4096, 64, 100}}) {
    HostMatrix A("A", rows, cols);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) A(i, j) = 1e6 + rng.normal(i * cols + j);
    for (const bool special : {false, true}) {
      if (special) A(rows / 2, 0) = std::nan(""), A(rows / 3, cols - 1) = 1e308;
      const auto got = array::summary(array::whole(A, chunk_rows));
      constexpr std::size_t block = 2048;
      const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
      const std::size_t per_chunk = (chunk_rows * cols + block - 1) / block;
      Kokkos::View<BlockSummary*, Kokkos::HostSpace> out("out", chunks * per_chunk);
      const detail::SummarizeBlocks<decltype(out)> f{A.data(), rows,      cols, chunk_rows,
                                                     block,    per_chunk, out};
      BlockSummary total;
      for (std::size_t c = 0; c < chunks; ++c) {
        BlockSummary chunk;
        for (std::size_t b = 0; b < per_chunk; ++b) {
          f(c * per_chunk + b);
          chunk.merge(out(c * per_chunk + b));
        }
        total.merge(chunk);
      }
      const double mean = total.sum / total.n, std = std::sqrt(total.m2 / total.n);
      EXPECT_EQ(got.count, total.n);
      EXPECT_EQ(got.nan_count, total.nan);
      EXPECT_EQ(std::memcmp(&got.sum, &total.sum, sizeof(double)), 0) << rows << " " << special;
      EXPECT_EQ(std::memcmp(&got.mean, &mean, sizeof(double)), 0) << rows << " " << special;
      EXPECT_EQ(std::memcmp(&got.std, &std, sizeof(double)), 0) << rows << " " << special;
      if (!special) {
        EXPECT_NEAR(got.mean, 1e6, 0.1);
      }
    }
  }
}

TEST(Histogram, MatchesNumpyHistogram) {
  const Table t = io::digits();
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), t.X, 100);
  const auto h = array::histogram(X, 0, 16, 17);
  for (std::size_t b = 0; b < 17; ++b)
    EXPECT_EQ(h.counts(20, b), ref["hist_col20_17_0_16"][b].get<std::int64_t>()) << b;
  const auto narrow = array::histogram(X, 2, 10, 4);
  for (std::size_t b = 0; b < 4; ++b)
    EXPECT_EQ(narrow.counts(20, b), ref["hist_col20_4_2_10"][b].get<std::int64_t>()) << b;
  EXPECT_EQ(narrow.below(20), ref["col20_below2"].get<std::int64_t>());
  EXPECT_EQ(narrow.above(20), ref["col20_above10"].get<std::int64_t>());
  EXPECT_EQ(narrow.nan(20), 0);
  EXPECT_THROW(array::histogram(X, 1, 1, 4), InvalidArgument);
}

struct Square {
  KOKKOS_INLINE_FUNCTION double operator()(double x) const { return x * x; }
};

// Writes the global row index into column 0 of each row.
struct StampRow {
  template <class Row>
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t global_row, const Row& row) const {
    row(0) = static_cast<double>(global_row);
  }
};

TEST(Maps, ElementsAndRows) {
  HostMatrix A("A", 10, 3);
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 3; ++j) A(i, j) = i - j;
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), A, 4);
  array::map_elements(X, Square{});
  array::map_rows(X, StampRow{});
  Kokkos::fence();
  const auto back = array::gather(X);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(back(i, 0), i);
    EXPECT_EQ(back(i, 2), (i - 2) * (i - 2));
  }
}

// scikit-learn's StandardScaler: (x - mean) / std (ddof 0); constant columns only centred.
TEST(Maps, StandardizeAsStandardScaler) {
  const Table t = io::digits();
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), t.X, 256);
  const auto s = array::standardize(X);
  EXPECT_EQ(s.scale(0), 1.0);  // column 0 of digits is all zeros
  for (std::size_t j = 0; j < 64; ++j) {
    const double mean = ref["mean"][j].get<double>(), std = ref["std"][j].get<double>();
    const double scale = std > 0 ? std : 1.0;
    EXPECT_NEAR(X.local()(5, j), (t.X(5, j) - mean) / scale, 1e-12) << j;
  }
  const auto after = array::column_stats(X);
  for (std::size_t j = 1; j < 64; ++j) {
    EXPECT_NEAR(after.columns[j].mean, 0.0, 1e-12) << j;
    if (ref["std"][j].get<double>() > 0) {
      EXPECT_NEAR(after.columns[j].std, 1.0, 1e-12) << j;
    }
  }
}

// digits with its label as column 64, grouped by label: per-group statistics as NumPy's
// X[y == k].mean() / .std() / .sum().
HostMatrix digits_with_labels() {
  const Table t = io::digits();
  HostMatrix A("A", t.rows(), 65);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    for (std::size_t j = 0; j < 64; ++j) A(i, j) = t.X(i, j);
    A(i, 64) = t.y(i);
  }
  return A;
}

TEST(GroupStats, DigitsByLabelMatchNumpy) {
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), digits_with_labels(), 100);
  const auto groups = array::group_stats(X, 64);
  ASSERT_EQ(groups.size(), 10u);
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(groups[k].key, double(k));
    ASSERT_EQ(groups[k].columns.size(), 64u);  // the key column is left out
    const auto& c = groups[k].columns[10];
    EXPECT_EQ(c.index, 10);
    EXPECT_EQ(c.count, ref["label_counts"][k].get<double>());
    EXPECT_EQ(c.sum, ref["group_sum_col10"][k].get<double>());
    EXPECT_LE(test::rel_diff(c.mean, ref["group_mean_col10"][k].get<double>()), 1e-14);
    EXPECT_NEAR(c.std, ref["group_std_col10"][k].get<double>(), 1e-12);
  }
}

// Many keys in scrambled order across chunks that end mid-way, NaN skipped: each key's
// count, NaN count, sum, mean, std, min and first argmin as a direct computation over its
// rows; and the bits of the device kernel (one thread per chunk, key and column, scanning
// the chunk's rows) run on the host.
TEST(GroupStats, ManyKeysMatchADirectComputationAndTheDeviceKernel) {
  const std::size_t n = 1500, d = 4, nkeys = 37, chunk_rows = 130;
  HostMatrix A("A", n, d);
  const CounterRng rng(9, 0);
  for (std::size_t i = 0; i < n; ++i) {
    A(i, 0) = double((i * 17 + i / 7) % nkeys) - 10;  // keys -10 .. 26
    A(i, 1) = rng.normal(i) * 3 + double(i % 5);
    A(i, 2) = i % 11 == 3 ? std::nan("") : rng.uniform(n + i);
    A(i, 3) = double(i % 9);
  }
  array::ColumnStatsOptions options;
  options.nan = array::NanPolicy::skip;
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), A, chunk_rows);
  const auto groups = array::group_stats(X, 0, options);
  ASSERT_EQ(groups.size(), nkeys);
  for (std::size_t g = 0; g < nkeys; ++g) {
    const double key = double(g) - 10;
    EXPECT_EQ(groups[g].key, key);
    for (std::size_t j = 1; j < d; ++j) {
      long double sum = 0, count = 0, nans = 0;
      double lo = std::numeric_limits<double>::infinity();
      std::int64_t arglo = -1;
      for (std::size_t i = 0; i < n; ++i) {
        if (A(i, 0) != key) continue;
        const double x = A(i, j);
        if (std::isnan(x)) {
          nans += 1;
          continue;
        }
        sum += x, count += 1;
        if (x < lo) lo = x, arglo = std::int64_t(i);
      }
      const long double mean = sum / count;
      long double m2 = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (A(i, 0) == key && !std::isnan(A(i, j))) m2 += (A(i, j) - mean) * (A(i, j) - mean);
      const auto& c = groups[g].columns[j - 1];
      ASSERT_EQ(c.index, long(j));
      EXPECT_EQ(c.count, double(count)) << g << " " << j;
      EXPECT_EQ(c.nan_count, double(nans)) << g << " " << j;
      EXPECT_LE(std::fabs(c.sum - double(sum)), 1e-13 * double(count) * 10) << g << " " << j;
      EXPECT_LE(test::rel_diff(c.mean, double(mean)), 1e-13) << g << " " << j;
      EXPECT_LE(test::rel_diff(c.std, double(std::sqrt(m2 / count))), 1e-12) << g << " " << j;
      EXPECT_EQ(c.min, lo) << g << " " << j;
      EXPECT_EQ(c.argmin, arglo) << g << " " << j;
    }
  }
  // The device kernel, run on the host, on the same chunks: the same moments, bit for bit.
  using detail::Moments;
  std::vector<double> keys(nkeys);
  for (std::size_t g = 0; g < nkeys; ++g) keys[g] = double(g) - 10;
  std::vector<long> cols = {1, 2, 3};
  const std::size_t chunks = (n + chunk_rows - 1) / chunk_rows;
  const Kokkos::View<double*, Kokkos::HostSpace> kv(keys.data(), nkeys);
  const Kokkos::View<long*, Kokkos::HostSpace> cv(cols.data(), cols.size());
  Kokkos::View<Moments***, Kokkos::LayoutRight, Kokkos::HostSpace> part("part", chunks, nkeys, 3);
  Kokkos::parallel_for(
      Kokkos::MDRangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Rank<3>>(
          {0, 0, 0}, {chunks, nkeys, std::size_t(3)}),
      detail::ChunkGroupMoments<HostMatrix, decltype(kv), decltype(cv), decltype(part)>{
          A, kv, cv, part, chunk_rows, 0, 0});
  Kokkos::fence();
  for (std::size_t g = 0; g < nkeys; ++g)
    for (std::size_t j = 0; j < 3; ++j) {
      Moments m;
      for (std::size_t c = 0; c < chunks; ++c) m.merge(part(c, g, j));
      const auto& got = groups[g].columns[j];
      EXPECT_EQ(std::memcmp(&m.sum, &got.sum, sizeof(double)), 0) << g << " " << j;
      EXPECT_EQ(std::memcmp(&m.mean, &got.mean, sizeof(double)), 0) << g << " " << j;
      EXPECT_EQ(std::sqrt(m.m2 / m.count), got.std) << g << " " << j;
      EXPECT_EQ(m.argmin, got.argmin) << g << " " << j;
      EXPECT_EQ(m.argmax, got.argmax) << g << " " << j;
    }
}

TEST(GroupStats, RejectsNonIntegerKeys) {
  HostMatrix A("A", 5, 2);
  for (int i = 0; i < 5; ++i) A(i, 0) = i, A(i, 1) = i % 2;
  A(3, 1) = 0.5;
  const auto X = array::distribute<Kokkos::HostSpace>(Comm::self(), A, 2);
  EXPECT_ERROR_MENTIONS(InvalidArgument, array::group_stats(X, 1),
                        "the key in row 3 is 0.5, not an integer key");
  A(3, 1) = 1e300;  // an integer, but beyond what a key can be (printed short, not 300 digits)
  EXPECT_ERROR_MENTIONS(
      InvalidArgument,
      array::group_stats(array::distribute<Kokkos::HostSpace>(Comm::self(), A, 2), 1),
      "is 1e+300, not an integer key (keys are integers within ±9e15)");
  EXPECT_THROW(array::group_stats(X, 2), InvalidArgument);
  EXPECT_THROW(array::group_stats(X, 0, {}, 3), InvalidArgument);  // 5 keys > 3
}

// Streaming an .npy file in batches gives the in-memory statistics bit for bit, in C and
// Fortran order, with read-ahead and any batch size.
TEST(Streaming, NpyStatsEqualInMemoryStats) {
  HostMatrix A("A", 1000, 5);
  const CounterRng rng(12, 0);
  for (std::size_t i = 0; i < 1000; ++i)
    for (std::size_t j = 0; j < 5; ++j) A(i, j) = rng.normal(i * 5 + j) * double(j + 1);
  A(500, 2) = std::nan("");
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tessera_stream_" + std::to_string(getpid()) + ".npy"))
                               .string();
  io::write_npy(path, A);
  array::ColumnStatsOptions options;
  options.chunk_rows = 64;
  options.nan = array::NanPolicy::skip;
  const auto in_memory = array::column_stats(Comm::self(), A, options);
  for (std::uint64_t limit :
       {std::uint64_t(0), std::uint64_t(2 * 64 * 5 * 8), std::uint64_t(7 * 64 * 5 * 8)}) {
    auto source = io::open_npy_source(path);
    EXPECT_EQ(source->rows(), 1000u);
    const auto streamed = array::column_stats(Comm::self(), *source, 64, options, limit);
    for (std::size_t j = 0; j < 5; ++j)
      EXPECT_EQ(
          std::memcmp(&streamed.columns[j], &in_memory.columns[j], sizeof(array::ColumnSummary)), 0)
          << "limit " << limit << " column " << j;
  }
  auto source = io::open_npy_source(path);
  EXPECT_THROW(array::column_stats(Comm::self(), *source, 64, options, 1000), InvalidArgument);
  // The covariance too (NaN-free copy of the data).
  A(500, 2) = 0.5;
  io::write_npy(path, A);
  const auto whole_cov = array::covariance(array::whole(A, 64), 1);
  for (std::uint64_t limit : {std::uint64_t(0), std::uint64_t(3 * 64 * 5 * 8)}) {
    auto src = io::open_npy_source(path);
    const auto streamed = array::covariance(Comm::self(), *src, 64, 1, limit);
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(streamed.mean(i), whole_cov.mean(i)) << "limit " << limit;
      for (std::size_t j = 0; j < 5; ++j)
        EXPECT_EQ(streamed.cov(i, j), whole_cov.cov(i, j)) << "limit " << limit;
    }
  }
  std::remove(path.c_str());
  // Fortran order (written by NumPy): a(i, j) = 10 i + j.
  auto fortran = io::open_npy_source(test::fixture("npy/f8_fortran.npy"));
  HostMatrix block("block", 2, 4);
  fortran->read(1, block);
  EXPECT_EQ(block(0, 3), 13.0);
  EXPECT_EQ(block(1, 0), 20.0);
  HostMatrix too_many("too_many", 3, 4);
  EXPECT_THROW(fortran->read(1, too_many), InvalidArgument);
}

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tessera_" + std::to_string(getpid()) + "_" + name))
      .string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Bitwise equality of every column summary.
void expect_same_stats(const array::ColumnStats& a, const array::ColumnStats& b,
                       const std::string& what) {
  ASSERT_EQ(a.columns.size(), b.columns.size()) << what;
  EXPECT_EQ(a.rows, b.rows) << what;
  for (std::size_t j = 0; j < a.columns.size(); ++j)
    EXPECT_EQ(std::memcmp(&a.columns[j], &b.columns[j], sizeof(array::ColumnSummary)), 0)
        << what << ": column " << j;
}

HostMatrix sample_matrix(std::size_t rows, std::size_t cols) {
  HostMatrix A("A", rows, cols);
  const CounterRng rng(31, 0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) A(i, j) = rng.normal(i * cols + j) * double(j + 1);
  return A;
}

}  // namespace

// A CSV file streamed in batches (header, comments, blank lines, CRLF, a label column,
// more rows than one index stride) gives the statistics of the whole-file reader bit for bit.
TEST(Streaming, CsvStatsEqualInMemoryStats) {
  const HostMatrix A = sample_matrix(3000, 3);
  std::string text = "# made by test_array\r\nx,label,y,z\r\n";
  for (std::size_t i = 0; i < A.extent(0); ++i) {
    if (i % 700 == 5) text += "\r\n# a comment between rows\r\n";
    text += io::format_double(A(i, 0)) + "," + std::to_string(i % 4) + "," +
            io::format_double(A(i, 1)) + "," + (i == 2500 ? "" : io::format_double(A(i, 2))) +
            "\r\n";
  }
  const std::string path = temp_path("stream.csv");
  write_bytes(path, text);
  io::CsvOptions csv;
  csv.label_column = 1;
  const Table whole = io::read_csv(path, csv);
  array::ColumnStatsOptions options;
  options.chunk_rows = 100;
  options.nan = array::NanPolicy::skip;
  const auto in_memory = array::column_stats(Comm::self(), whole.X, options);
  for (std::uint64_t limit : {std::uint64_t(0), std::uint64_t(2 * 100 * 3 * 8)}) {
    auto source = io::open_csv_source(path, csv);
    ASSERT_EQ(source->rows(), 3000u);
    ASSERT_EQ(source->cols(), 3u);
    expect_same_stats(array::column_stats(Comm::self(), *source, 100, options, limit), in_memory,
                      "csv, limit " + std::to_string(limit));
  }
  // a read in the middle of an index stride
  auto source = io::open_csv_source(path, csv);
  HostMatrix block("block", 2, 3);
  source->read(1500, block);
  EXPECT_EQ(block(0, 0), A(1500, 0));
  EXPECT_EQ(block(1, 2), A(1501, 2));
  std::remove(path.c_str());
}

TEST(Streaming, CsvErrorsNameFileLineColumn) {
  const std::string path = temp_path("bad.csv");
  write_bytes(path, "1,2\n3,4\n\n5,x\n7,8,9\n");
  auto source = io::open_csv_source(path);
  EXPECT_EQ(source->rows(), 4u);
  HostMatrix block("block", 1, 2);
  try {
    source->read(2, block);
    FAIL() << "no throw";
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":4:3: field 2: cannot read 'x'", 0), 0)
        << e.what();
  }
  EXPECT_ERROR_MENTIONS(ParseError, source->read(3, block), path + ":5: expected 2 fields");
  // as read_csv: a byte-order mark and quoted numbers are data; a malformed number in
  // the first line is an error naming it, not a header
  write_bytes(path,
              "\xEF\xBB\xBF"
              "1,\"2\"\n3,4\n");
  auto marked = io::open_csv_source(path);
  ASSERT_EQ(marked->rows(), 2u);
  HostMatrix two("two", 2, 2);
  marked->read(0, two);
  EXPECT_EQ(two(0, 0), 1.0);
  EXPECT_EQ(two(0, 1), 2.0);
  EXPECT_EQ(two(1, 1), 4.0);
  write_bytes(path, "1.5.5,2\n3,4\n");
  try {
    io::open_csv_source(path);
    FAIL() << "no throw";
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()), path +
                                         ":1:1: field 1: cannot read '1.5.5' as a number (nor "
                                         "is it a column name)");
  }
  write_bytes(path, "1,2\n3,4\n5,x\n7,8,9\n");
  source = io::open_csv_source(path);
  // the file shrinks after it was indexed (rewritten or cut by another process)
  write_bytes(path, "1,2\n");
  EXPECT_THROW(source->read(2, block), IOError);
  write_bytes(path, "# nothing\n\n");
  EXPECT_THROW(io::open_csv_source(path), ParseError);
  write_bytes(path, "a,b\n");
  EXPECT_THROW(io::open_csv_source(path), ParseError);
  io::CsvOptions csv;
  csv.label_column = 2;
  write_bytes(path, "1,2\n");
  EXPECT_THROW(io::open_csv_source(path, csv), InvalidArgument);
  std::remove(path.c_str());
  EXPECT_THROW(io::open_csv_source(path), IOError);
}

// Raw binary files (ndarray.tofile) of each element type stream like .npy files.
// A streamed histogram counts what the in-memory one counts, for any batch size.
TEST(Streaming, HistogramEqualsInMemoryHistogram) {
  HostMatrix A = sample_matrix(2000, 3);
  A(7, 1) = std::nan("");
  const std::string path = temp_path("hist.npy");
  io::write_npy(path, A);
  const auto whole_h = array::histogram(array::whole(A, 64), -2.0, 2.5, 9);
  for (const std::uint64_t limit : {std::uint64_t(0), std::uint64_t(2 * 64 * 3 * 8)}) {
    auto source = io::open_npy_source(path);
    const auto h = array::histogram(Comm::self(), *source, 64, -2.0, 2.5, 9, limit);
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t b = 0; b < 9; ++b) EXPECT_EQ(h.counts(j, b), whole_h.counts(j, b));
      EXPECT_EQ(h.below(j), whole_h.below(j));
      EXPECT_EQ(h.above(j), whole_h.above(j));
      EXPECT_EQ(h.nan(j), whole_h.nan(j));
    }
    EXPECT_EQ(h.nan(1), 1);
    EXPECT_GT(h.below(2) + h.above(2), 0);
  }
  auto source = io::open_npy_source(path);
  EXPECT_THROW(array::histogram(Comm::self(), *source, 64, 1.0, 1.0, 9, 0), InvalidArgument);
  std::remove(path.c_str());
}

TEST(Streaming, RawBinaryStatsEqualInMemoryStats) {
  const HostMatrix A = sample_matrix(777, 4);
  const std::string path = temp_path("stream.bin");
  write_bytes(path, std::string(reinterpret_cast<const char*>(A.data()), A.span() * 8));
  array::ColumnStatsOptions options;
  options.chunk_rows = 50;
  const auto in_memory = array::column_stats(Comm::self(), A, options);
  auto source = io::open_raw_source(path, 4, io::RawType::float64);
  ASSERT_EQ(source->rows(), 777u);
  expect_same_stats(array::column_stats(Comm::self(), *source, 50, options, 2 * 50 * 4 * 8),
                    in_memory, "raw float64");
  // int32 rows, converted exactly
  std::vector<std::int32_t> ints = {1, -2, 3, 2147483647, -7, 8};
  write_bytes(path, std::string(reinterpret_cast<const char*>(ints.data()), ints.size() * 4));
  auto int_source = io::open_raw_source(path, 2, io::parse_raw_type("i4"));
  HostMatrix block("block", 3, 2);
  int_source->read(0, block);
  EXPECT_EQ(block(1, 1), 2147483647.0);
  EXPECT_EQ(block(2, 0), -7.0);
  // a size that is not a whole number of rows, zero columns, unknown type names
  EXPECT_THROW(io::open_raw_source(path, 5, io::RawType::int32), ParseError);
  EXPECT_THROW(io::open_raw_source(path, 0), InvalidArgument);
  EXPECT_THROW(io::parse_raw_type("complex128"), InvalidArgument);
  std::remove(path.c_str());
  EXPECT_THROW(io::open_raw_source(path, 2), IOError);
}

TEST(Streaming, NpyShorterThanItsHeaderIsAnError) {
  const HostMatrix A = sample_matrix(100, 2);
  const std::string path = temp_path("short.npy");
  io::write_npy(path, A);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);
  EXPECT_ERROR_MENTIONS(ParseError, io::open_npy_source(path),
                        "truncated .npy data: expected 1600 bytes, found 1592");
  std::remove(path.c_str());
}
