// array: per-column statistics against NumPy (fixture) and NumPy's NaN semantics.
#include <gtest/gtest.h>

#include <cmath>

#include <tessera/array/column_stats.hpp>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/dataset.hpp>

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
  }
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
