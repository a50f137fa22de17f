// The task farm under MPI (1, 2, 3 ranks): results in index order whatever the rank
// count, load balance of uneven tasks, affinity groups, failures on one rank, and the
// journal (interrupt with a real SIGTERM, then resume).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <thread>

#include <tessera/core/rng.hpp>
#include <tessera/sched/farm.hpp>

#include "test_support.hpp"

using namespace tessera;
using tessera::test::g_world;

namespace {

// A folder every rank agrees on (rank 0 names it), removed by rank 0 at the end.
class SharedTempDir {
 public:
  explicit SharedTempDir(const Comm& comm) : comm_(comm) {
    std::string path;
    if (comm.is_root()) {
      char name[] = "/tmp/tessera-farm-XXXXXX";
      path = mkdtemp(name) ? name : "";
    }
    comm.bcast(path);
    path_ = path;
  }
  ~SharedTempDir() {
    comm_.barrier();
    if (comm_.is_root()) std::filesystem::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  const Comm& comm_;
  std::string path_;
};

// A value that depends only on i, with enough bits that a misplaced result shows.
double value_of(std::int64_t i) { return std::sin(0.1 * static_cast<double>(i)) + 1e-3 * i; }

}  // namespace

TEST(Farm, MapReturnsResultsInIndexOrderOnEveryRank) {
  const Comm& comm = *g_world;
  const auto result = run_map(comm, 1000, [](std::int64_t i) { return value_of(i); });
  ASSERT_EQ(result.results.size(), 1000u);
  for (std::int64_t i = 0; i < 1000; ++i) EXPECT_EQ(result.results[i], value_of(i)) << i;
  // every task ran exactly once, somewhere
  ASSERT_EQ(result.stats.run_by.size(), static_cast<std::size_t>(comm.size()));
  EXPECT_EQ(std::accumulate(result.stats.run_by.begin(), result.stats.run_by.end(), 0ll), 1000);
  EXPECT_EQ(result.stats.resumed, 0);
}

TEST(Farm, GatherToRootOnly) {
  const Comm& comm = *g_world;
  FarmOptions options;
  options.gather = Gather::root;
  const auto values = map(
      comm, 77, [](std::int64_t i) { return i * i; }, options);
  if (comm.is_root()) {
    ASSERT_EQ(values.size(), 77u);
    for (std::int64_t i = 0; i < 77; ++i) EXPECT_EQ(values[i], i * i);
  } else {
    EXPECT_TRUE(values.empty());
  }
}

TEST(Farm, EmptyMapAndStructResults) {
  const Comm& comm = *g_world;
  EXPECT_TRUE(map(comm, 0, [](std::int64_t) { return 1.0; }).empty());
  struct Pair {
    std::int64_t index;
    double square;
  };
  const auto pairs = map(comm, 10, [](std::int64_t i) { return Pair{i, double(i) * i}; });
  for (std::int64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(pairs[i].index, i);
    EXPECT_EQ(pairs[i].square, double(i * i));
  }
}

TEST(Farm, MapReduceFoldsInIndexOrderBitwise) {
  const Comm& comm = *g_world;
  // Terms of very different magnitudes: a different summation order changes the bits.
  const auto term = [](std::int64_t i) { return (i % 3 == 0 ? 1e16 : 1.0) * value_of(i); };
  double serial = term(0);
  for (std::int64_t i = 1; i < 5000; ++i) serial += term(i);
  const double farmed = map_reduce(comm, 5000, term, std::plus<>{});
  EXPECT_EQ(farmed, serial);
  // chunk sizes do not change the answer either
  FarmOptions options;
  options.chunk = 7;
  EXPECT_EQ(map_reduce(comm, 5000, term, std::plus<>{}, options), serial);
}

TEST(Farm, MonteCarloPiIsRankIndependent) {
  const Comm& comm = *g_world;
  const CounterRng rng(2024);
  const std::int64_t per_task = 10000;
  const auto hits = map_reduce(
      comm, 64,
      [&](std::int64_t task) {
        std::int64_t inside = 0;
        for (std::int64_t k = 0; k < per_task; ++k) {
          const std::uint64_t draw = static_cast<std::uint64_t>(task * per_task + k);
          const double x = rng.uniform(2 * draw), y = rng.uniform(2 * draw + 1);
          inside += x * x + y * y < 1.0;
        }
        return inside;
      },
      std::plus<>{});
  const double pi = 4.0 * static_cast<double>(hits) / (64.0 * per_task);
  EXPECT_NEAR(pi, 3.14159265, 0.01);  // 6.4e5 draws: standard error 0.002
  // the same hit count on every rank
  EXPECT_EQ(comm.allreduce(hits, ReduceOp::min), comm.allreduce(hits, ReduceOp::max));
}

// Tasks whose cost varies 100x, the expensive quarter first (a static split in blocks
// would give it all to rank 0). Costs are spent sleeping so oversubscribed ranks do not
// compete for cores; the check is on cost units per rank, with a wide margin.
TEST(Farm, UnevenTasksAreBalanced) {
  const Comm& comm = *g_world;
  if (comm.size() < 2) GTEST_SKIP() << "balance needs two ranks";
  const std::int64_t n = 160;
  const auto cost = [](std::int64_t i) { return i < 40 ? 100 : 1; };
  const auto result = run_map(comm, n, [&](std::int64_t i) {
    std::this_thread::sleep_for(std::chrono::microseconds(50 * cost(i)));
    return static_cast<std::int32_t>(comm.rank());
  });
  std::vector<double> units(comm.size(), 0.0);
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    units[result.results[i]] += cost(i);
    total += cost(i);
  }
  const double ideal = total / comm.size();
  for (int r = 0; r < comm.size(); ++r)
    EXPECT_LT(units[r], 1.35 * ideal + 100)
        << "rank " << r << " did " << units[r] << " cost units, ideal " << ideal;
}

TEST(Farm, AffinityGroupsRunOnOneRankBackToBack) {
  const Comm& comm = *g_world;
  const std::int64_t n = 90;
  FarmOptions options;
  for (std::int64_t i = 0; i < n; ++i) options.affinity.push_back(i % 7);  // interleaved keys
  std::int64_t sequence = 0;  // tasks run so far on this rank
  struct Where {
    std::int32_t rank;
    std::int64_t sequence;
  };
  const auto where = map(
      comm, n,
      [&](std::int64_t) {
        return Where{comm.rank(), sequence++};
      },
      options);
  std::map<std::int64_t, std::vector<std::int64_t>> groups;
  for (std::int64_t i = 0; i < n; ++i) groups[i % 7].push_back(i);
  for (const auto& [key, members] : groups) {
    for (std::size_t k = 1; k < members.size(); ++k) {
      const auto& a = where[members[k - 1]];
      const auto& b = where[members[k]];
      EXPECT_EQ(a.rank, b.rank) << "group " << key << " split over ranks";
      EXPECT_EQ(b.sequence, a.sequence + 1) << "group " << key << " interrupted";
    }
  }
}

TEST(Farm, TaskFailureOnOneRankIsRaisedOnEveryRank) {
  const Comm& comm = *g_world;
  try {
    map(comm, 200, [](std::int64_t i) {
      if (i == 137) throw InvalidArgument("task 137 has a bad parameter");
      return 1.0;
    });
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "task 137 has a bad parameter");
    EXPECT_TRUE(e.agreed());
  }
  // the farm is usable afterwards (no stray messages, counter freed)
  EXPECT_EQ(map_reduce(
                comm, 10, [](std::int64_t i) { return i; }, std::plus<>{}),
            45);
}

TEST(Farm, BadOptionsAreClearErrorsOnEveryRank) {
  const Comm& comm = *g_world;
  FarmOptions options;
  options.affinity = {1, 2, 3};
  EXPECT_THROW(map(
                   comm, 5, [](std::int64_t) { return 0; }, options),
               InvalidArgument);
  options = {};
  options.chunk = -1;
  EXPECT_THROW(map(
                   comm, 5, [](std::int64_t) { return 0; }, options),
               InvalidArgument);
  EXPECT_THROW(map(comm, -1, [](std::int64_t) { return 0; }), InvalidArgument);
  // ranks that disagree on n
  try {
    map(comm, 10 + (comm.size() > 1 ? comm.rank() : 0) + (comm.size() == 1 ? -20 : 0),
        [](std::int64_t) { return 0; });
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(std::string(e.what()).find(comm.size() > 1 ? "disagree" : ">= 0") !=
                std::string::npos)
        << e.what();
  }
  options = {};
  options.resume = true;
  EXPECT_THROW(map(
                   comm, 5, [](std::int64_t) { return 0; }, options),
               InvalidArgument);
}

// A real SIGTERM midway (raised inside a task on the last rank, as Slurm would send
// it): every rank stops with Interrupted, the journal holds what finished, and a
// resumed run only computes the rest and returns the uninterrupted answer.
TEST(Farm, InterruptedRunResumesFromTheJournal) {
  const Comm& comm = *g_world;
  SharedTempDir dir(comm);
  const std::int64_t n = 300;
  FarmOptions options;
  options.journal = dir.path() + "/journal";
  options.job_key = "test-resume v1";
  const int victim = comm.size() - 1;
  std::int64_t calls = 0;
  try {
    map(
        comm, n,
        [&](std::int64_t i) {
          ++calls;
          if (comm.rank() == victim && calls == 40) std::raise(SIGTERM);
          return value_of(i);
        },
        options);
    FAIL() << "not interrupted";
  } catch (const Interrupted& e) {
    EXPECT_TRUE(e.agreed());
    EXPECT_NE(std::string(e.what()).find("SIGTERM"), std::string::npos) << e.what();
  }
  const std::int64_t first_calls = comm.allreduce(calls, ReduceOp::sum);
  EXPECT_LT(first_calls, n);

  // another job's journal is refused
  FarmOptions other = options;
  other.resume = true;
  other.job_key = "another job";
  EXPECT_THROW(map(
                   comm, n, [](std::int64_t i) { return value_of(i); }, other),
               InvalidArgument);

  options.resume = true;
  calls = 0;
  const auto resumed = run_map(
      comm, n,
      [&](std::int64_t i) {
        ++calls;
        return value_of(i);
      },
      options);
  const std::int64_t second_calls = comm.allreduce(calls, ReduceOp::sum);
  EXPECT_EQ(resumed.stats.resumed + second_calls, n);
  EXPECT_GE(resumed.stats.resumed, first_calls - comm.size());  // all but cut-off tasks kept
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(resumed.results[i], value_of(i)) << i;

  // resuming a finished job runs nothing
  calls = 0;
  const auto again = run_map(
      comm, n, [&](std::int64_t i) { return ++calls, value_of(i); }, options);
  EXPECT_EQ(comm.allreduce(calls, ReduceOp::sum), 0);
  EXPECT_EQ(again.stats.resumed, n);
  EXPECT_EQ(again.results, resumed.results);
}

TEST(Farm, DamagedJournalTailIsIgnored) {
  const Comm& comm = *g_world;
  SharedTempDir dir(comm);
  FarmOptions options;
  options.journal = dir.path() + "/journal";
  const auto full = map(
      comm, 50, [](std::int64_t i) { return value_of(i); }, options);
  comm.barrier();
  if (comm.is_root()) {  // cut the last record of every journal file in half
    for (const auto& entry : std::filesystem::directory_iterator(options.journal)) {
      const auto size = std::filesystem::file_size(entry.path());
      if (size > 32 + 24) std::filesystem::resize_file(entry.path(), size - 12);
    }
  }
  comm.barrier();
  options.resume = true;
  std::int64_t calls = 0;
  const auto resumed = run_map(
      comm, 50, [&](std::int64_t i) { return ++calls, value_of(i); }, options);
  const std::int64_t rerun = comm.allreduce(calls, ReduceOp::sum);
  EXPECT_GE(rerun, 1);
  EXPECT_LE(rerun, comm.size());
  EXPECT_EQ(resumed.results, full);
}
