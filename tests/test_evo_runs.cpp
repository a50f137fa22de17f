// How evolutionary runs are driven: a run interrupted by SIGUSR1 (on one rank) and
// resumed from its checkpoint ends bitwise identical to an uninterrupted one, for every
// algorithm and on 1-3 ranks; a periodic checkpoint extends a finished run; a checkpoint
// of another configuration is refused; islands (ring migration, checked on a fake engine
// whose populations are known) give the same run on any rank count; the knapsack problem
// against its DP optimum (itself against brute force); a host function farmed over ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>

#include <tessera/core/error.hpp>
#include <tessera/evo/cmaes.hpp>
#include <tessera/evo/ga.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/evo/swarm.hpp>

#include "../src/evo/run_support.hpp"
#include "test_support.hpp"

using namespace tessera;
using tessera::test::g_world;

namespace {

// A checkpoint file for this test and rank count (the same path on every rank).
std::string checkpoint_path(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tessera_test_" + name + "_np" + std::to_string(g_world->size()) + ".cbor");
  g_world->barrier();
  if (g_world->rank() == 0) std::filesystem::remove(path);
  g_world->barrier();
  return path.string();
}

// f, and SIGUSR1 raised on rank 0 during its call number `at` (as Slurm's warning would
// arrive in the middle of a generation, on one rank first).
evo::Evaluator interrupting(const evo::Evaluator& f, int at) {
  auto calls = std::make_shared<int>(0);
  return [f, at, calls](const evo::Population& pop, const evo::Fitness& fit) {
    f(pop, fit);
    if (++*calls == at && g_world->rank() == 0) std::raise(SIGUSR1);
  };
}

void expect_identical(const evo::EvolutionResult& a, const evo::EvolutionResult& b) {
  EXPECT_EQ(a.logbook.gen, b.logbook.gen);
  EXPECT_EQ(a.logbook.nevals, b.logbook.nevals);
  EXPECT_EQ(a.logbook.avg, b.logbook.avg);
  EXPECT_EQ(a.logbook.std, b.logbook.std);
  EXPECT_EQ(a.logbook.min, b.logbook.min);
  EXPECT_EQ(a.logbook.max, b.logbook.max);
  EXPECT_EQ(a.best, b.best);
  EXPECT_EQ(a.best_fitness, b.best_fitness);
  EXPECT_EQ(a.hall_of_fame, b.hall_of_fame);
  EXPECT_EQ(a.hall_of_fame_fitness, b.hall_of_fame_fitness);
  EXPECT_EQ(a.evaluations, b.evaluations);
  EXPECT_EQ(a.generations, b.generations);
  EXPECT_EQ(a.stop, b.stop);
  EXPECT_EQ(a.restarts, b.restarts);
}

// Run(checkpoint, evaluator): uninterrupted; interrupted at evaluation `at` (every rank
// throws Interrupted); resumed: identical to the uninterrupted run.
template <class Run>
void expect_resume_identical(const std::string& name, const evo::Evaluator& f, int at, Run run) {
  const std::string path = checkpoint_path(name);
  const evo::EvolutionResult whole = run(evo::Checkpoint{}, f);
  EXPECT_THROW(run(evo::Checkpoint{path, 0, false}, interrupting(f, at)), Interrupted) << name;
  ASSERT_TRUE(std::filesystem::exists(path)) << name;
  const evo::EvolutionResult resumed = run(evo::Checkpoint{path, 0, true}, f);
  SCOPED_TRACE(name);
  expect_identical(whole, resumed);
  EXPECT_GT(whole.generations, 5);
}

evo::CMAESParams ipop_rastrigin() {
  evo::CMAESParams p;
  p.dim = 6;
  p.centroid = {3.0};
  p.sigma = 2.0;
  p.lambda = 12;
  p.generations = 40;
  p.restarts = 2;
  p.lo = -5.12;
  p.hi = 5.12;
  p.seed = 3;
  return p;
}

}  // namespace

TEST(Checkpoint, ResumedCmaesIsBitwiseIdentical) {
  const auto f = evo::benchmark_evaluator(evo::Benchmark::rastrigin);
  const auto run = [&](const evo::Checkpoint& c, const evo::Evaluator& e) {
    evo::CMAESParams p = ipop_rastrigin();
    p.checkpoint = c;
    return evo::cmaes(*g_world, p, e);
  };
  expect_resume_identical("cmaes_first_run", f, 17, run);
  expect_resume_identical("cmaes_restart", f, 55, run);  // inside the first IPOP restart
  // Lazy eigendecompositions (every 3 generations): interrupted in generation 2, between
  // two of them, the resumed run samples from the saved B and D.
  expect_resume_identical("cmaes_lazy", f, 29,
                          [&](const evo::Checkpoint& c, const evo::Evaluator& e) {
                            evo::CMAESParams p = ipop_rastrigin();
                            p.eigen_interval = 3;
                            p.checkpoint = c;
                            return evo::cmaes(*g_world, p, e);
                          });
  const auto r = run({}, f);
  EXPECT_GE(r.restarts, 1);
}

TEST(Checkpoint, ResumedGaPsoDeAreBitwiseIdentical) {
  const auto sphere = evo::benchmark_evaluator(evo::Benchmark::sphere);
  expect_resume_identical("ga", evo::benchmark_evaluator(evo::Benchmark::onemax), 9,
                          [](const evo::Checkpoint& c, const evo::Evaluator& e) {
                            evo::GAParams p;
                            p.dim = 40;
                            p.binary = true;
                            p.minimize = false;
                            p.mutation = evo::Mutation::bitflip;
                            p.population = 60;
                            p.generations = 20;
                            p.seed = 4;
                            p.checkpoint = c;
                            return evo::genetic(*g_world, p, e);
                          });
  expect_resume_identical("pso", sphere, 12, [](const evo::Checkpoint& c, const evo::Evaluator& e) {
    evo::PSOParams p;
    p.dim = 5;
    p.generations = 25;
    p.seed = 4;
    p.checkpoint = c;
    return evo::pso(*g_world, p, e);
  });
  expect_resume_identical("de", sphere, 12, [](const evo::Checkpoint& c, const evo::Evaluator& e) {
    evo::DEParams p;
    p.dim = 5;
    p.generations = 25;
    p.seed = 4;
    p.checkpoint = c;
    return evo::differential_evolution(*g_world, p, e);
  });
}

TEST(Checkpoint, PeriodicCheckpointExtendsAFinishedRun) {
  const auto f = evo::benchmark_evaluator(evo::Benchmark::rosenbrock);
  const std::string path = checkpoint_path("extend");
  evo::CMAESParams p;
  p.dim = 5;
  p.sigma = 0.5;
  p.generations = 60;
  p.seed = 2;
  const auto whole = evo::cmaes(*g_world, p, f);
  p.generations = 30;
  p.checkpoint = {path, 10, false};
  const auto first = evo::cmaes(*g_world, p, f);
  EXPECT_EQ(first.generations, 30);
  p.generations = 60;  // the budget may grow on resume
  p.checkpoint.resume = true;
  const auto extended = evo::cmaes(*g_world, p, f);
  expect_identical(whole, extended);

  // Another configuration is refused, naming what differs; so is another algorithm.
  p.seed = 3;
  try {
    evo::cmaes(*g_world, p, f);
    ADD_FAILURE() << "a checkpoint of another seed was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
  evo::DEParams d;
  d.dim = 5;
  d.checkpoint = {path, 0, true};
  EXPECT_THROW(evo::differential_evolution(*g_world, d, f), InvalidArgument);
  // Resuming without a checkpoint starts a new run.
  p.checkpoint = {checkpoint_path("absent"), 0, true};
  p.seed = 2;
  expect_identical(whole, evo::cmaes(*g_world, p, f));
  p.checkpoint.every = -1;
  EXPECT_THROW(evo::cmaes(*g_world, p, f), InvalidArgument);
}

TEST(Checkpoint, DamagedOrOlderCheckpointsAreRefused) {
  const auto f = evo::benchmark_evaluator(evo::Benchmark::sphere);
  const std::string path = checkpoint_path("damaged");
  evo::CMAESParams p;
  p.dim = 5;
  p.generations = 20;
  p.checkpoint = {path, 10, false};
  evo::cmaes(*g_world, p, f);
  p.generations = 40;
  p.checkpoint.resume = true;
  const auto refused = [&](const std::string& because) {
    try {
      evo::cmaes(*g_world, p, f);
      ADD_FAILURE() << "resumed from a checkpoint that is " << because;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(because), std::string::npos) << e.what();
    }
  };
  // The lowest bit of a float64 past the file's middle (a CBOR 0xFB item: still a valid
  // file, one strategy value changed by an ulp) is caught by the checksum.
  if (g_world->rank() == 0) {
    std::vector<char> bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto at = std::find(bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2),
                              bytes.end(), static_cast<char>(0xFB));
    ASSERT_LT(at + 8, bytes.end());
    at[8] = static_cast<char>(at[8] ^ 1);
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  g_world->barrier();
  refused("damaged (its checksum does not match its content)");
  g_world->barrier();
  if (g_world->rank() == 0) {  // what version 1 wrote: no checksum
    const auto bytes = evo::impl::json::to_cbor(
        {{"format", "tessera evo checkpoint 1"}, {"algorithm", "cmaes"}, {"state", nullptr}});
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  g_world->barrier();
  refused("in another format ('tessera evo checkpoint 1'");
}

namespace {

// An island whose individuals are single genes valued island·100 + i (fitness = gene):
// each step adds nothing, so what migration moved is visible.
class FakeIsland final : public evo::impl::Engine {
 public:
  FakeIsland(int island, int& migrations) : island_(island), migrations_(migrations) {}
  std::int64_t start(const Comm&) override {
    for (int i = 0; i < 5; ++i) x_.push_back(island_ * 100.0 + i);
    return 5;
  }
  std::int64_t step(const Comm&, int) override { return 0; }
  const std::vector<double>& rows() const override { return x_; }
  const std::vector<double>& fitness() const override { return x_; }
  void immigrate(const std::vector<double>& rows, const std::vector<double>& f) override {
    EXPECT_EQ(rows, f);
    // the worst (largest) are replaced, the worst first
    std::vector<std::size_t> order{4, 3, 2, 1, 0};
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return x_[a] > x_[b]; });
    for (std::size_t k = 0; k < rows.size(); ++k) x_[order[k]] = rows[k];
    ++migrations_;
  }
  evo::impl::json save() const override { return x_; }
  void load(const evo::impl::json& s) override { s.get_to(x_); }

 private:
  int island_;
  int& migrations_;
  std::vector<double> x_;
};

}  // namespace

TEST(Islands, RingMigrationMovesTheBestToTheNextIsland) {
  evo::impl::Control c;
  c.generations = 3;
  c.islands = {3, 2, 2};               // 3 islands, every 2 generations, 2 migrants
  std::vector<int> migrations(3, -1);  // -1: not on this rank
  const auto r = evo::impl::run_generations(*g_world, c, "fake", {}, [&](int i) {
    migrations[static_cast<std::size_t>(i)] = 0;
    return std::make_unique<FakeIsland>(i, migrations[static_cast<std::size_t>(i)]);
  });
  // One migration (after generation 2): island i received the two best (i-1)·100, +1
  // of its predecessor in place of its two worst; island 0 from island 2.
  ASSERT_EQ(r.logbook.gen.size(), 4u);
  EXPECT_EQ(r.logbook.nevals[0], 15);
  EXPECT_EQ(r.logbook.min[0], 0.0);
  EXPECT_EQ(r.logbook.max[0], 204.0);
  EXPECT_EQ(r.logbook.max[3], 202.0);  // 203, 204 of island 2 replaced by 100, 101
  EXPECT_EQ(r.logbook.min[3], 0.0);
  // avg over the 15: before 1530/15; after: island 0 loses 3, 4 gains 200, 201; island 1
  // loses 103, 104 gains 0, 1; island 2 loses 203, 204 gains 100, 101.
  EXPECT_DOUBLE_EQ(r.logbook.avg[0], 1530.0 / 15);
  EXPECT_DOUBLE_EQ(r.logbook.avg[3], (1530.0 + 394 - 206 - 206) / 15);
  for (const int m : migrations) EXPECT_TRUE(m == 1 || m == -1) << m;
  EXPECT_NE(std::count(migrations.begin(), migrations.end(), 1), 0);
}

TEST(Islands, SameRunOnAnyRankCountAndResumable) {
  const auto onemax = evo::benchmark_evaluator(evo::Benchmark::onemax);
  evo::GAParams p;
  p.dim = 100;
  p.binary = true;
  p.minimize = false;
  p.mutation = evo::Mutation::bitflip;
  p.population = 75;
  p.generations = 150;
  p.target = 100;
  p.seed = 1;
  p.islands = {4, 5, 3};
  const auto all = evo::genetic(*g_world, p, onemax);
  const auto alone = evo::genetic(Comm::self(), p, onemax);
  expect_identical(all, alone);
  EXPECT_EQ(all.best_fitness, 100.0) << "after " << all.generations << " generations";
  EXPECT_EQ(all.logbook.nevals[0], 300);  // 4 islands of 75
  if (g_world->rank() == 0)
    std::printf("GA OneMax 100 bits, 4 islands of 75: solved in %d generations\n", all.generations);

  evo::DEParams d;
  d.dim = 6;
  d.population = 12;
  d.generations = 30;
  d.seed = 8;
  d.islands = {3, 4, 2};
  expect_resume_identical("de_islands", evo::benchmark_evaluator(evo::Benchmark::rastrigin), 20,
                          [&](const evo::Checkpoint& c, const evo::Evaluator& e) {
                            evo::DEParams q = d;
                            q.checkpoint = c;
                            return evo::differential_evolution(*g_world, q, e);
                          });
  d.islands = {3, 4, 13};
  EXPECT_THROW(evo::differential_evolution(*g_world, d, onemax), InvalidArgument);
  d.islands = {0, 4, 1};
  EXPECT_THROW(evo::differential_evolution(*g_world, d, onemax), InvalidArgument);
}

TEST(Problems, KnapsackOptimumByDynamicProgrammingAndSolvedByTheGA) {
  // The DP optimum against brute force over all 2^14 packings.
  const evo::Knapsack small = evo::knapsack_instance(14, 3);
  double brute = 0;
  for (unsigned mask = 0; mask < (1u << 14); ++mask) {
    double w = 0, v = 0;
    for (unsigned j = 0; j < 14; ++j)
      if (mask >> j & 1u) w += small.weights[j], v += small.values[j];
    if (w <= small.capacity) brute = std::max(brute, v);
  }
  const evo::KnapsackSolution best = evo::solve_knapsack(small);
  EXPECT_DOUBLE_EQ(best.value, brute);
  for (double w : small.weights) EXPECT_TRUE(w >= 1 && w <= 10 && w == std::floor(w));
  // The evaluator: the DP packing's value; everything packed: capacity - total weight.
  Kokkos::View<double**, Kokkos::LayoutRight, evo::Memory> pop("pop", 2, 14);
  const auto host = Kokkos::create_mirror_view(pop);
  double total = 0;
  for (int j = 0; j < 14; ++j) {
    host(0, j) = best.genes[static_cast<std::size_t>(j)];
    host(1, j) = 1.0;
    total += small.weights[static_cast<std::size_t>(j)];
  }
  Kokkos::deep_copy(pop, host);
  evo::Fitness fit("fit", 2);
  evo::knapsack_evaluator(small)(pop, fit);
  const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
  EXPECT_DOUBLE_EQ(f(0), brute);
  EXPECT_DOUBLE_EQ(f(1), small.capacity - total);
  EXPECT_LT(f(1), 0.0);

  // The GA finds the optimum of the 40-item default instance: 8 islands of 50 (8 of 10
  // seeds do within 300 generations, against 6 of 10 for one population of 400).
  const evo::BenchmarkInfo info = evo::info(evo::Benchmark::knapsack, 40);
  EXPECT_EQ(info.optimum, evo::solve_knapsack(evo::knapsack_instance(40)).value);
  evo::GAParams p;
  p.dim = 40;
  p.binary = true;
  p.minimize = false;
  p.mutation = evo::Mutation::bitflip;
  p.population = 50;
  p.islands = {8, 5, 2};
  p.generations = 300;
  p.target = info.optimum;
  p.seed = 3;
  const auto r = evo::genetic(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::knapsack));
  EXPECT_DOUBLE_EQ(r.best_fitness, info.optimum) << "after " << r.generations;
  if (g_world->rank() == 0)
    std::printf("GA knapsack 40 items, 8 islands of 50: %.4f (optimum %.4f) after %d generations\n",
                r.best_fitness, info.optimum, r.generations);
  EXPECT_THROW(evo::knapsack_evaluator(evo::Knapsack{{1, 2}, {3}, 2}), InvalidArgument);
}

TEST(Problems, HostFunctionFarmedOverTheRanks) {
  // A host function standing for a simulation: uneven cost (some individuals take 100x
  // longer), one individual per task over the ranks; the run is the same on any rank count.
  auto calls = std::make_shared<std::int64_t>(0);
  const evo::Evaluator simulate = evo::host_evaluator([calls](const std::vector<double>& x) {
    ++*calls;
    double s = 0;
    const int repeats = x[0] > 0 ? 100 : 1;
    for (int r = 0; r < repeats; ++r) {
      s = 0;
      for (double v : x) s += (v - 0.5) * (v - 0.5);
    }
    return s;
  });
  evo::CMAESParams p;
  p.dim = 6;
  p.sigma = 1.0;
  p.target = 1e-10;
  p.generations = 1000;
  p.seed = 5;
  const auto all = evo::cmaes(*g_world, p, simulate);
  const std::int64_t here = *calls;
  const auto alone = evo::cmaes(Comm::self(), p, simulate);
  expect_identical(all, alone);
  EXPECT_EQ(all.stop, "target");
  EXPECT_LE(all.best_fitness, 1e-10);
  // Every individual was evaluated exactly once, somewhere.
  EXPECT_EQ(g_world->allreduce(here, ReduceOp::sum), all.evaluations);
  // An error in the function reaches every rank.
  const evo::Evaluator failing = evo::host_evaluator([](const std::vector<double>& x) -> double {
    if (x[0] > 1.0) throw InvalidArgument("simulation diverged");
    return x[0];
  });
  p.centroid = {0.0};
  EXPECT_THROW(evo::cmaes(*g_world, p, failing), InvalidArgument);
}

// The hall of fame holds the best distinct individuals of everything evaluated (checked
// against a record of every evaluation), best first, the same on any rank count.
// CMA-ES samples through impl::normal_pairs (Philox, Φ⁻¹'s central region and, listed
// apart, its tails in vector loops): the same bits as CounterRng::normal_pair, tails
// included, for every block length.
TEST(Normals, VectorisedPairsAreTheScalarDraws) {
  int tails = 0;
  // seeds and streams with both 32-bit halves set; counters across 2^32 (the carry into
  // the counter's upper word)
  for (const CounterRng& rng :
       {CounterRng(11, 3), CounterRng(0x9e3779b97f4a7c15u, 0xdeadbeef12345u)})
    for (const std::uint64_t first : {std::uint64_t(12345), (std::uint64_t(1) << 32) - 37})
      for (const std::size_t count : {1, 7, 64, 65, 1000}) {
        std::vector<double> z(2 * count);
        evo::impl::normal_pairs(rng, first, count, z.data());
        for (std::size_t p = 0; p < count; ++p) {
          const auto want = rng.normal_pair(first + p);
          ASSERT_EQ(z[2 * p], want.first) << count << " pair " << p << " from " << first;
          ASSERT_EQ(z[2 * p + 1], want.second) << count << " pair " << p << " from " << first;
          tails += (std::fabs(want.first) > 1.44) + (std::fabs(want.second) > 1.44);
        }
      }
  EXPECT_GT(tails, 400);  // |z| > Φ⁻¹(0.925): drawn by the tail formula
}

// rank_order against std::stable_sort of the indices by sign·f (the order it replaces),
// on values with many ties, both zeros, infinities, tiny and huge magnitudes; NaN last.
TEST(RankOrder, IsTheStableSortOfTheValues) {
  const CounterRng rng(5);
  const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, 1e-310, -1e-310, 1e300, -1e300};
  for (const std::size_t count : {0, 1, 2, 7, 200, 1000, 4096})
    for (const double sign : {1.0, -1.0}) {
      std::vector<double> f(count);
      for (std::size_t k = 0; k < count; ++k) {
        const double u = rng.uniform(count * 7 + k);
        f[k] = k % 5 == 0 ? specials[rng.integer(count * 11 + k, 8)]
                          : std::floor(40 * u - 20) * (u < 0.3 ? 1e-3 : 1.0);  // ties
      }
      std::vector<std::size_t> want(count);
      std::iota(want.begin(), want.end(), std::size_t(0));
      std::stable_sort(want.begin(), want.end(),
                       [&](std::size_t a, std::size_t b) { return sign * f[a] < sign * f[b]; });
      ASSERT_EQ(evo::impl::rank_order(f, sign), want) << count << " values, sign " << sign;
    }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> f = {nan, 3.0, INFINITY, -1.0, nan, 2.0};
  EXPECT_EQ(evo::impl::rank_order(f, 1.0), (std::vector<std::size_t>{3, 5, 1, 0, 2, 4}));
  EXPECT_EQ(evo::impl::rank_order(f, -1.0), (std::vector<std::size_t>{2, 1, 5, 3, 0, 4}));
  // The same past 1024 values (the radix path): 2000 decreasing values, two NaNs.
  std::vector<double> many(2000);
  for (std::size_t k = 0; k < many.size(); ++k) many[k] = 2000.0 - static_cast<double>(k);
  many[3] = many[1500] = nan;
  std::vector<std::size_t> want;
  for (std::size_t k = many.size(); k-- > 0;)
    if (k != 3 && k != 1500) want.push_back(k);
  want.push_back(3);
  want.push_back(1500);
  EXPECT_EQ(evo::impl::rank_order(many, 1.0), want);
}

TEST(HallOfFame, TheBestDistinctIndividualsEverEvaluated) {
  auto seen = std::make_shared<std::vector<std::pair<double, std::vector<double>>>>();
  const auto onemax = evo::benchmark_evaluator(evo::Benchmark::onemax);
  const evo::Evaluator recording = [seen, onemax](const evo::Population& pop,
                                                  const evo::Fitness& fit) {
    onemax(pop, fit);
    const auto x = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pop);
    const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
    for (std::size_t i = 0; i < x.extent(0); ++i)
      seen->push_back({f(i), std::vector<double>(x.data() + i * x.extent(1),
                                                 x.data() + (i + 1) * x.extent(1))});
  };
  evo::GAParams p;
  p.dim = 30;
  p.binary = true;
  p.minimize = false;
  p.mutation = evo::Mutation::bitflip;
  p.population = 40;
  p.generations = 15;
  p.seed = 12;
  p.hall_of_fame = 6;
  const auto r = evo::genetic(Comm::self(), p, recording);
  // The reference: sort every evaluation by fitness (stable: the earlier first), keep
  // the first occurrence of each individual, take 6.
  std::stable_sort(seen->begin(), seen->end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::vector<double>> want;
  std::vector<double> want_f;
  for (const auto& [f, x] : *seen)
    if (want.size() < 6 && std::find(want.begin(), want.end(), x) == want.end())
      want.push_back(x), want_f.push_back(f);
  EXPECT_EQ(r.hall_of_fame_fitness, want_f);
  EXPECT_EQ(r.hall_of_fame, want);
  EXPECT_EQ(r.best, r.hall_of_fame.front());
  EXPECT_EQ(r.best_fitness, r.hall_of_fame_fitness.front());
  const auto all = evo::genetic(*g_world, p, onemax);
  EXPECT_EQ(all.hall_of_fame, r.hall_of_fame);
  p.hall_of_fame = 0;
  EXPECT_THROW(evo::genetic(*g_world, p, onemax), InvalidArgument);
}
