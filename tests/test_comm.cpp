// comm under MPI (run with 1, 2 and 3 ranks): collectives against closed-form answers,
// agreement on failure, and rank-count independence of distributed statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <tessera/array/column_stats.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/readers.hpp>

#include "test_support.hpp"

using namespace tessera;
using test::g_world;

TEST(Comm, RankAndSize) {
  const Comm& c = *g_world;
  EXPECT_STREQ(c.backend_name(), "mpi");
  EXPECT_GE(c.size(), 1);
  EXPECT_GE(c.rank(), 0);
  EXPECT_LT(c.rank(), c.size());
  c.barrier();
}

TEST(Comm, AllreduceScalars) {
  const Comm& c = *g_world;
  const int p = c.size(), r = c.rank();
  EXPECT_EQ(c.allreduce(r + 1, ReduceOp::sum), p * (p + 1) / 2);
  EXPECT_EQ(c.allreduce(static_cast<double>(r), ReduceOp::max), p - 1.0);
  EXPECT_EQ(c.allreduce(static_cast<std::int64_t>(r) - 5, ReduceOp::min), -5);
  EXPECT_EQ(c.allreduce(std::uint64_t(1) << 40, ReduceOp::sum), std::uint64_t(p) << 40);
  EXPECT_EQ(c.allreduce(0.5f, ReduceOp::sum), 0.5f * p);
}

void fill_rank_values(const Kokkos::View<double*>& v, int rank) {
  Kokkos::parallel_for(
      "fill", v.extent(0), KOKKOS_LAMBDA(const std::size_t i) { v(i) = rank * 100.0 + i; });
}

TEST(Comm, AllreduceViewInPlace) {
  const Comm& c = *g_world;
  Kokkos::View<double*> v("v", 10);
  fill_rank_values(v, c.rank());
  c.allreduce(v, ReduceOp::sum);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  const int p = c.size();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(h(i), 100.0 * p * (p - 1) / 2 + p * i);
  Kokkos::View<double*> w("w", 10);
  fill_rank_values(w, c.rank());
  c.allreduce(w, ReduceOp::min);
  auto hw = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), w);
  EXPECT_EQ(hw(3), 3.0);
}

TEST(Comm, MinlocMaxlocTiesGoToSmallestIndex) {
  const Comm& c = *g_world;
  const int r = c.rank();
  const ValueLoc lo = c.minloc({std::abs(r - 1.0), 10 + r});
  EXPECT_EQ(lo.value, c.size() > 1 ? 0.0 : 1.0);
  EXPECT_EQ(lo.index, c.size() > 1 ? 11 : 10);
  const ValueLoc hi = c.maxloc({7.0, 100 - r});  // all equal: smallest index wins
  EXPECT_EQ(hi.index, 100 - (c.size() - 1));
}

TEST(Comm, Bcast) {
  const Comm& c = *g_world;
  const int root = c.size() - 1;
  double x = c.rank() == root ? 3.25 : -1;
  c.bcast(x, root);
  EXPECT_EQ(x, 3.25);
  std::string s = c.rank() == root ? std::string(1000, 'q') + "end" : "short";
  c.bcast(s, root);
  EXPECT_EQ(s.size(), 1003u);
  EXPECT_EQ(s.substr(1000), "end");
  Kokkos::View<double**, Kokkos::LayoutRight> m("m", 3, 2);
  if (c.rank() == 0) Kokkos::deep_copy(m, 4.5);
  c.bcast(m, 0);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), m);
  EXPECT_EQ(h(2, 1), 4.5);
  EXPECT_THROW(c.bcast(x, c.size()), InvalidArgument);
}

TEST(Comm, AllgatherAndAllgatherv) {
  const Comm& c = *g_world;
  const int r = c.rank(), p = c.size();
  const auto ranks = c.allgather(r * 2);
  ASSERT_EQ(ranks.size(), static_cast<std::size_t>(p));
  for (int i = 0; i < p; ++i) EXPECT_EQ(ranks[i], 2 * i);
  // Rank r contributes r + 1 values equal to r.
  const auto all = c.allgatherv(std::vector<int>(r + 1, r));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(p * (p + 1) / 2));
  std::size_t k = 0;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j <= i; ++j) EXPECT_EQ(all[k++], i);
  // Rows of a View: rank r has r rows (rank 0 none) of 3 columns.
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> mine("mine", r, 3);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < 3; ++j) mine(i, j) = r * 10 + j;
  const auto rows = c.allgatherv(mine);
  ASSERT_EQ(rows.extent(0), static_cast<std::size_t>(p * (p - 1) / 2));
  ASSERT_EQ(rows.extent(1), 3u);
  if (p > 2) {
    EXPECT_EQ(rows(1, 2), 22.0);  // first row of rank 2
  }
}

TEST(Comm, SplitByParity) {
  const Comm& c = *g_world;
  const Comm sub = c.split(c.rank() % 2, c.rank());
  EXPECT_EQ(sub.size(), (c.size() + 1 - c.rank() % 2) / 2);
  EXPECT_EQ(sub.rank(), c.rank() / 2);
  EXPECT_EQ(sub.allreduce(1, ReduceOp::sum), sub.size());
}

// Rank 1 (of 2 or 3) hits bad input: every rank throws the same ParseError, nobody
// hangs (a hang would time the test out).
TEST(Agree, FailureOnOneRankThrowsEverywhere) {
  const Comm& c = *g_world;
  try {
    const int v = agree(c, [&] {
      if (c.rank() == 1) io::parse_csv("1,2\n3\n", "rank1.csv");
      return 42;
    });
    EXPECT_EQ(c.size(), 1);  // only a 1-rank job gets here
    EXPECT_EQ(v, 42);
  } catch (const ParseError& e) {
    EXPECT_GT(c.size(), 1);
    EXPECT_TRUE(e.agreed());
    EXPECT_STREQ(e.what(), "rank1.csv:2: expected 2 fields (as in line 1), found 1");
  }
  // The communicator is still usable afterwards.
  EXPECT_EQ(c.allreduce(1, ReduceOp::sum), c.size());
}

TEST(Agree, LowestFailingRankWins) {
  const Comm& c = *g_world;
  try {
    agree(c, [&] {
      if (c.rank() >= c.size() - 2) throw IOError("disk " + std::to_string(c.rank()));
    });
    FAIL() << "no throw";
  } catch (const IOError& e) {
    EXPECT_EQ(std::string(e.what()), "disk " + std::to_string(std::max(0, c.size() - 2)));
  }
  EXPECT_THROW(agree_check(c, c.rank() != c.size() - 1, "last rank says no"), InvalidArgument);
  EXPECT_NO_THROW(agree_check(c, true, "fine"));
  // Non-tessera exceptions become InternalError everywhere.
  EXPECT_THROW(agree(c,
                     [&] {
                       if (c.rank() == 0) throw std::runtime_error("boom");
                     }),
               InternalError);
}

// The distributed statistics equal the one-process statistics bit for bit.
TEST(ColumnStats, BitwiseIdenticalToOneProcess) {
  const Comm& c = *g_world;
  const Table t = io::load_table("blobs:n=5000,features=6,centers=3,std=2.5,seed=11");
  array::ColumnStatsOptions options;
  options.chunk_rows = 256;
  const auto dist = array::column_stats(c, t.X, options);
  const auto self = array::column_stats(Comm::self(), t.X, options);
  ASSERT_EQ(dist.columns.size(), self.columns.size());
  for (std::size_t j = 0; j < dist.columns.size(); ++j) {
    EXPECT_EQ(std::memcmp(&dist.columns[j], &self.columns[j], sizeof(array::ColumnSummary)), 0)
        << "column " << j;
  }
  EXPECT_EQ(std::memcmp(&dist.overall, &self.overall, sizeof(array::ColumnSummary)), 0);
}

// Rows generated where they live equal the rows generated whole by one process, and the
// statistics of the distributed matrix equal the one-process ones bit for bit.
TEST(DistMatrix, GeneratedRowsAndStatsIndependentOfRankCount) {
  const Comm& c = *g_world;
  const std::string spec = "blobs:n=3001,features=4,centers=5,std=3,seed=21";
  array::DistMatrix<double> D(c, 3001, 4, 128);
  io::generate_rows(spec, D.row_begin(), D.local(), io::DeviceVector());
  const auto whole = io::load_table(spec);
  const auto gathered = array::gather(D);
  ASSERT_EQ(gathered.extent(0), 3001u);
  for (std::size_t i = 0; i < 3001; ++i)
    for (std::size_t j = 0; j < 4; ++j) ASSERT_EQ(gathered(i, j), whole.X(i, j));
  const auto dist = array::column_stats(D);
  const auto one =
      array::column_stats(array::distribute<Kokkos::HostSpace>(Comm::self(), whole.X, 128));
  for (std::size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(std::memcmp(&dist.columns[j], &one.columns[j], sizeof(array::ColumnSummary)), 0)
        << "column " << j;
    EXPECT_GE(dist.columns[j].argmin, 0);
  }
  // Covariance and histograms: the same bits on any rank count.
  const auto cov = array::covariance(D);
  const auto cov_one =
      array::covariance(array::distribute<Kokkos::HostSpace>(Comm::self(), whole.X, 128));
  EXPECT_EQ(std::memcmp(cov.cov.data(), cov_one.cov.data(), 16 * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(cov.mean.data(), cov_one.mean.data(), 4 * sizeof(double)), 0);
  const auto G = array::gram(D);
  const auto G_one = array::gram(array::distribute<Kokkos::HostSpace>(Comm::self(), whole.X, 128));
  EXPECT_EQ(std::memcmp(G.data(), G_one.data(), 16 * sizeof(double)), 0);
  const auto hist = array::histogram(D, -20, 20, 8);
  const auto hist_one = array::histogram(
      array::distribute<Kokkos::HostSpace>(Comm::self(), whole.X, 128), -20, 20, 8);
  for (std::size_t j = 0; j < 4; ++j)
    for (std::size_t b = 0; b < 8; ++b) EXPECT_EQ(hist.counts(j, b), hist_one.counts(j, b));
}

// The one-pass summary: the same bits on any rank count.
TEST(Summary, IndependentOfRankCount) {
  const auto whole = io::load_table("random:rows=3001,cols=33,seed=5", {});
  const auto dist = array::summary(array::distribute<Kokkos::HostSpace>(*g_world, whole.X, 100));
  const auto one = array::summary(array::distribute<Kokkos::HostSpace>(Comm::self(), whole.X, 100));
  EXPECT_EQ(std::memcmp(&dist, &one, sizeof(array::Summary)), 0);
  EXPECT_EQ(dist.count, 3001.0 * 33);
}

// Group-by over ranks: same groups, same bits; a bad key on one rank fails on all.
TEST(GroupStats, IndependentOfRankCount) {
  const Comm& c = *g_world;
  HostMatrix A("A", 2000, 3);
  for (std::size_t i = 0; i < 2000; ++i) {
    A(i, 0) = std::sin(double(i));
    A(i, 1) = double((i * 7) % 5);  // keys 0..4
    A(i, 2) = std::cos(0.1 * double(i));
  }
  const auto dist = array::group_stats(array::distribute<Kokkos::HostSpace>(c, A, 64), 1);
  const auto one = array::group_stats(array::distribute<Kokkos::HostSpace>(Comm::self(), A, 64), 1);
  ASSERT_EQ(dist.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t j = 0; j < 2; ++j)
      EXPECT_EQ(std::memcmp(&dist[k].columns[j], &one[k].columns[j], sizeof(array::ColumnSummary)),
                0);
  A(1999, 1) = 0.25;  // in the last rank's rows
  EXPECT_THROW(array::group_stats(array::distribute<Kokkos::HostSpace>(c, A, 64), 1),
               InvalidArgument);
}

// Group-by over a streamed .npy file (batches that fit a memory limit, keys missing from
// many chunks, NaN skipped): the in-memory group-by of one process, bit for bit.
TEST(GroupStats, StreamedEqualsInMemoryOnAnyRankCount) {
  const Comm& c = *g_world;
  HostMatrix A("A", 3000, 3);
  for (std::size_t i = 0; i < 3000; ++i) {
    A(i, 0) = std::sin(double(i)) * 100.0;
    A(i, 1) = i % 97 == 0 ? 9.0 : double((i / 150) % 4);  // key 9 in few chunks
    A(i, 2) = i % 211 == 5 ? std::nan("") : std::cos(0.1 * double(i));
  }
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tessera_group_stream_np" + std::to_string(c.size()) + ".npy"))
                               .string();
  if (c.rank() == 0) io::write_npy(path, A);
  c.barrier();
  array::ColumnStatsOptions options;
  options.nan = array::NanPolicy::skip;
  const auto one =
      array::group_stats(array::distribute<Kokkos::HostSpace>(Comm::self(), A, 64), 1, options);
  ASSERT_EQ(one.size(), 5u);
  for (const std::uint64_t limit : {std::uint64_t(0), std::uint64_t(3 * 64 * 3 * 8)}) {
    auto source = io::open_npy_source(path);
    const auto streamed = array::group_stats(c, *source, 64, 1, options, limit);
    ASSERT_EQ(streamed.size(), one.size());
    for (std::size_t k = 0; k < one.size(); ++k) {
      EXPECT_EQ(streamed[k].key, one[k].key);
      ASSERT_EQ(streamed[k].columns.size(), 2u);
      for (std::size_t j = 0; j < 2; ++j)
        EXPECT_EQ(
            std::memcmp(&streamed[k].columns[j], &one[k].columns[j], sizeof(array::ColumnSummary)),
            0)
            << "limit " << limit << " key " << one[k].key << " column " << j;
    }
    // Both in one read: each what the functions give apart.
    auto again = io::open_npy_source(path);
    const auto [columns, groups] = array::column_and_group_stats(c, *again, 64, 1, options, limit);
    auto third = io::open_npy_source(path);
    const auto alone = array::column_stats(c, *third, 64, options, limit);
    ASSERT_EQ(columns.columns.size(), alone.columns.size());
    for (std::size_t j = 0; j < alone.columns.size(); ++j)
      EXPECT_EQ(std::memcmp(&columns.columns[j], &alone.columns[j], sizeof(array::ColumnSummary)),
                0);
    ASSERT_EQ(groups.size(), streamed.size());
    for (std::size_t k = 0; k < groups.size(); ++k)
      for (std::size_t j = 0; j < 2; ++j)
        EXPECT_EQ(std::memcmp(&groups[k].columns[j], &streamed[k].columns[j],
                              sizeof(array::ColumnSummary)),
                  0);
  }
  c.barrier();
  if (c.rank() == 0) {
    A(2990, 1) = 2.5;  // in the last rank's chunks
    io::write_npy(path, A);
  }
  c.barrier();
  auto source = io::open_npy_source(path);
  try {
    array::group_stats(c, *source, 64, 1, options, 0);
    ADD_FAILURE() << "a key of 2.5 was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 2990"), std::string::npos) << e.what();
  }
  c.barrier();
  if (c.rank() == 0) std::remove(path.c_str());
}
