// Evolutionary optimisation: DEAP's benchmark functions (fixtures from
// tests/fixtures/make_evo_fixtures.py) and their known optima; CMA-ES reaching 1e-10 on
// sphere and Rosenbrock in 10 dimensions within Hansen's budgets, a user functor
// problem, the same logbook on 1, 2 and 3 ranks; bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include <tessera/core/rng.hpp>
#include <tessera/evo/cmaes.hpp>
#include <tessera/evo/ga.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/evo/swarm.hpp>
#include <tessera/kernels/benchmarks.hpp>

#include "test_support.hpp"

using namespace tessera;
using nlohmann::json;
using tessera::test::g_world;

namespace {

// f over rows given on the host, evaluated by the Kokkos kernel.
std::vector<double> values(evo::Benchmark b, const std::vector<std::vector<double>>& rows) {
  Kokkos::View<double**, Kokkos::LayoutRight, evo::Memory> pop("pop", rows.size(), rows[0].size());
  const auto host = Kokkos::create_mirror_view(pop);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) host(i, j) = rows[i][j];
  Kokkos::deep_copy(pop, host);
  evo::Fitness fit("fit", rows.size());
  evo::evaluate(b, pop, fit);
  const auto out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
  return std::vector<double>(out.data(), out.data() + rows.size());
}

// A user problem: a shifted sphere, minimum 0 at (1, …, 1).
struct ShiftedSphere {
  template <class Pop>
  KOKKOS_INLINE_FUNCTION double operator()(const Pop& x, int i) const {
    double s = 0;
    for (int j = 0; j < static_cast<int>(x.extent(1)); ++j) s += (x(i, j) - 1.0) * (x(i, j) - 1.0);
    return s;
  }
};

// A sphere whose optimum has x_0 = 1e8 (others 0): near it the mean's first coordinate
// moves in steps of ulp(1e8) = 1.5e-8.
struct FarSphere {
  template <class Pop>
  KOKKOS_INLINE_FUNCTION double operator()(const Pop& x, int i) const {
    double s = (x(i, 0) - 1e8) * (x(i, 0) - 1e8);
    for (int j = 1; j < static_cast<int>(x.extent(1)); ++j) s += x(i, j) * x(i, j);
    return s;
  }
};

// ShiftedSphere where x_0 >= 0.5, NaN elsewhere (a simulation that fails there); or NaN
// everywhere.
struct SphereWithHoles {
  bool everywhere = false;
  template <class Pop>
  KOKKOS_INLINE_FUNCTION double operator()(const Pop& x, int i) const {
    if (everywhere || x(i, 0) < 0.5) return 0.0 / 0.0;  // NaN
    return ShiftedSphere{}(x, i);
  }
};

}  // namespace

TEST(Benchmarks, MatchDeapAndKnownOptima) {
  const json ref = test::read_json(test::fixture("evo_reference.json"));
  for (const auto& c : ref["cases"]) {
    const auto b = evo::parse_benchmark(c["problem"].get<std::string>());
    const auto got = values(b, c["points"].get<std::vector<std::vector<double>>>());
    const auto want = c["values"].get<std::vector<double>>();
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i])))
          << c["problem"] << " dim " << c["dim"] << " point " << i;
  }
  for (const int dim : {2, 10, 50}) {
    const std::vector<std::vector<double>> zero(1, std::vector<double>(dim, 0.0)),
        ones(1, std::vector<double>(dim, 1.0)), schwefel(1, std::vector<double>(dim, 420.968746));
    for (const auto b : {evo::Benchmark::sphere, evo::Benchmark::rastrigin, evo::Benchmark::ackley,
                         evo::Benchmark::griewank, evo::Benchmark::schaffer})
      EXPECT_NEAR(values(b, zero)[0], 0.0, 1e-12) << evo::to_string(b);
    EXPECT_EQ(values(evo::Benchmark::rosenbrock, ones)[0], 0.0);
    EXPECT_NEAR(values(evo::Benchmark::schwefel, schwefel)[0], 0.0, 1e-6 * dim);
    EXPECT_EQ(values(evo::Benchmark::onemax, ones)[0],
              evo::info(evo::Benchmark::onemax, dim).optimum);
  }
}

// On the host the cosines of a block of rows are taken in one vector loop
// (kmath::cos_reduced): the same bits as the formula evaluated gene by gene
// (detail::benchmark_value with kmath::cos_fast), for every lane and tail length, several
// blocks and a partial last one, also past the fast cosine's range (the library's cos
// there, checked against a direct sum); populations of up to 4096 genes (dims 1-9 here) on
// the calling thread, larger ones (37, 300) in a parallel loop.
TEST(Benchmarks, VectorisedCosinesGiveTheGeneByGeneBits) {
#if defined(KOKKOS_ENABLE_CUDA)
  GTEST_SKIP() << "the host path only (a device build evaluates on the device)";
#endif
  CounterRng rng(5, 0);
  std::uint64_t counter = 0;
  for (const int dim : {1, 7, 8, 9, 37, 300}) {
    std::vector<std::vector<double>> rows(150, std::vector<double>(dim));
    for (auto& row : rows)
      for (double& x : row) x = -6.0 + 12.0 * rng.uniform(counter++);
    rows[3][0] = 1e9 + 0.3;  // 2πx far past cos_reduced_limit
    rows[3][dim - 1] = -2.5e5 - 0.7;
    rows[100][dim / 2] = 3e7;
    Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> host("rows", rows.size(), dim);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (int j = 0; j < dim; ++j) host(i, static_cast<std::size_t>(j)) = rows[i][j];
    for (const auto b :
         {evo::Benchmark::rastrigin, evo::Benchmark::ackley, evo::Benchmark::griewank}) {
      const auto got = values(b, rows);
      const auto kind = static_cast<detail::BenchmarkKind>(static_cast<int>(b));
      for (std::size_t i = 0; i < rows.size(); ++i)
        EXPECT_EQ(got[i], detail::benchmark_value(kind, host, static_cast<int>(i)))
            << evo::to_string(b) << " dim " << dim << " row " << i;
    }
    // Ackley: with a huge gene its value is 20 + e − exp(mean cosine), all cosines
    long double squares = 0, cosines = 0;
    for (const double x : rows[3]) {
      const double y = 2.0 * M_PI * x;  // the argument in double, as DEAP takes it
      squares += x * x, cosines += std::cos(static_cast<long double>(y));
    }
    const long double direct = 20.0L - 20.0L * std::exp(-0.2L * std::sqrt(squares / dim)) +
                               std::exp(1.0L) - std::exp(cosines / dim);
    EXPECT_NEAR(values(evo::Benchmark::ackley, rows)[3], static_cast<double>(direct), 1e-12);
  }
}

namespace {
// Hansen's default population in 10-D from 0.5·1 with σ = 0.5, to f < 1e-10 within `budget`
// evaluations.
evo::CMAESParams to_1e10_in_10d(std::int64_t budget) {
  evo::CMAESParams p;
  p.dim = 10;
  p.centroid = {0.5};
  p.sigma = 0.5;
  p.generations = 100000;
  p.target = 1e-10;
  p.max_evaluations = budget;
  p.seed = 1;
  return p;
}
}  // namespace

TEST(CMAES, SolvesSphereAndRosenbrockIn10Dimensions) {
  // Hansen's default population (λ = 10 in 10-D); budgets from his reported evaluation
  // counts with room for the seed (sphere ~1.5e3, Rosenbrock ~6e3 evaluations to 1e-10).
  struct Case {
    evo::Benchmark b;
    std::int64_t budget;
  };
  for (const Case c :
       {Case{evo::Benchmark::sphere, 3000}, Case{evo::Benchmark::rosenbrock, 10000}}) {
    const auto r = evo::cmaes(*g_world, to_1e10_in_10d(c.budget), evo::benchmark_evaluator(c.b));
    EXPECT_EQ(r.stop, "target") << evo::to_string(c.b) << " after " << r.evaluations;
    EXPECT_LT(r.best_fitness, 1e-10) << evo::to_string(c.b);
    EXPECT_LE(r.evaluations, c.budget);
    if (g_world->rank() == 0)
      std::printf("CMA-ES %s 10-D: f = %.3g after %lld evaluations\n", evo::to_string(c.b),
                  r.best_fitness, static_cast<long long>(r.evaluations));
  }
  // A user functor problem.
  evo::CMAESParams p;
  p.dim = 6;
  p.sigma = 1.0;
  p.target = 1e-12;
  p.generations = 2000;
  const auto r = evo::cmaes(*g_world, p, evo::functor_evaluator(ShiftedSphere{}));
  EXPECT_LT(r.best_fitness, 1e-12);
  for (double v : r.best) EXPECT_NEAR(v, 1.0, 1e-5);
}

// NaN fitness values (an individual the problem cannot evaluate) rank last: CMA-ES still
// finds the optimum next to the hole, the best and the hall of fame are never NaN, the
// logbook's min and max are NaN where a generation had one (as NumPy's); a run where
// every value is NaN ends without a best instead of failing.
TEST(CMAES, NaNFitnessRanksLast) {
  evo::CMAESParams p;
  p.dim = 4;
  p.centroid = {1.5};
  p.sigma = 1.0;
  p.lambda = 20;
  p.target = 1e-10;
  p.generations = 2000;
  p.hall_of_fame = 5;
  // every generation's values on this rank (its slice of the population)
  auto seen = std::make_shared<std::vector<std::vector<double>>>();
  const auto holes = evo::functor_evaluator(SphereWithHoles{});
  const evo::Evaluator recording = [seen, holes](const evo::Population& pop,
                                                 const evo::Fitness& fit) {
    holes(pop, fit);
    const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
    seen->emplace_back(f.data(), f.data() + f.extent(0));
  };
  const auto r = evo::cmaes(*g_world, p, recording);
  EXPECT_LT(r.best_fitness, 1e-10);
  for (double v : r.best) EXPECT_NEAR(v, 1.0, 1e-4);
  ASSERT_EQ(r.hall_of_fame_fitness.size(), 5u);
  for (double f : r.hall_of_fame_fitness) EXPECT_FALSE(std::isnan(f));
  ASSERT_EQ(seen->size(), r.logbook.min.size());
  int with_nan = 0;
  for (std::size_t g = 0; g < seen->size(); ++g) {
    const auto& f = (*seen)[g];
    if (std::none_of(f.begin(), f.end(), [](double v) { return std::isnan(v); })) continue;
    ++with_nan;  // a NaN here, so in the whole generation
    EXPECT_TRUE(std::isnan(r.logbook.min[g]) && std::isnan(r.logbook.max[g])) << g;
  }
  EXPECT_GT(with_nan, 0);
  p.generations = 3;
  p.target = std::numeric_limits<double>::quiet_NaN();
  const auto none = evo::cmaes(*g_world, p, evo::functor_evaluator(SphereWithHoles{true}));
  EXPECT_EQ(none.generations, 3);
  EXPECT_TRUE(none.best.empty());
  EXPECT_TRUE(std::isnan(none.best_fitness));  // no best: no value (it read 0)
  EXPECT_TRUE(none.hall_of_fame.empty());
}

// Points beyond double range: a step size of 1e300 gives +inf on the sphere (the best is
// still the first of them, as the hall of fame has it), and the covariance update (squares
// of 1e300) is no longer finite: the run stops as "overflow" (LAPACK had rejected the
// matrix: an internal error, exit 1).
TEST(CMAES, OverflowStopsTheRun) {
  evo::CMAESParams p;
  p.dim = 3;
  p.sigma = 1e300;
  p.generations = 50;
  const auto r = evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere));
  EXPECT_EQ(r.stop, "overflow");
  EXPECT_LT(r.generations, 50);
  ASSERT_FALSE(r.hall_of_fame.empty());
  EXPECT_EQ(r.best, r.hall_of_fame[0]);
  EXPECT_EQ(r.best_fitness, std::numeric_limits<double>::infinity());
}

// Hansen's criteria (his tutorial, appendix B.3), with TolFun off (it would come first):
// - TolX: on the sphere the step size shrinks until σ·√C_ii and σ·|p_c,i| are below
//   1e-12·σ⁽⁰⁾; the mean is then at the optimum 0 to within a few of that.
// - NoEffectAxis: at x = 1e8 in 1-D, 0.1 standard deviation along the axis soon rounds
//   away (before 0.2 of one does: NoEffectCoord is checked after it).
// - NoEffectCoord: in 4-D with only x_0 at 1e8, adding 0.2 standard deviations to x_0
//   rounds away, while every principal axis still moves the other coordinates.
TEST(CMAES, HansenStoppingCriteria) {
  evo::CMAESParams p;
  p.dim = 5;
  p.centroid = {1.0};
  p.sigma = 1.0;
  p.tolfun = 0;
  p.generations = 5000;
  const auto tolx = evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere));
  EXPECT_EQ(tolx.stop, "tolx");
  EXPECT_LT(tolx.generations, 5000);
  for (double v : tolx.best) EXPECT_LT(std::fabs(v), 1e-10);
  p.tolx = 0;
  p.generations = tolx.generations + 50;
  EXPECT_NE(evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere)).stop, "tolx");

  p.tolx = 1e-12;
  p.generations = 5000;
  for (const int dim : {1, 4}) {
    p.dim = dim;
    p.centroid.assign(static_cast<std::size_t>(dim), 0.5);
    p.centroid[0] = 1e8 + 0.5;
    const auto r = evo::cmaes(*g_world, p, evo::functor_evaluator(FarSphere{}));
    EXPECT_EQ(r.stop, dim == 1 ? "noeffectaxis" : "noeffectcoord") << dim;
    EXPECT_LT(r.generations, 5000);
    ASSERT_EQ(r.best.size(), static_cast<std::size_t>(dim));
    EXPECT_LE(std::fabs(r.best[0] - 1e8), 1e-6) << dim;
    for (int j = 1; j < dim; ++j) EXPECT_LT(std::fabs(r.best[static_cast<std::size_t>(j)]), 1e-6);
  }
}

// The generations between eigendecompositions: Hansen's max(1, ⌊1 / (10·n·(c1 + cμ))⌋)
// (values computed in Python from the tutorial's formulas for the constants), or the
// interval given. A lazy run still solves the sphere, on its own trajectory.
TEST(CMAES, EigenIntervalIsHansensLazyRule) {
  struct Case {
    int dim, lambda, interval;
  };
  for (const Case c : {Case{10, 200, 1}, Case{50, 1000, 1}, Case{100, 0, 1}, Case{200, 0, 2},
                       Case{400, 0, 3}, Case{1000, 0, 8}, Case{200, 10, 4}}) {
    evo::CMAESParams p;
    p.dim = c.dim;
    p.lambda = c.lambda;
    EXPECT_EQ(evo::eigen_interval(p), c.interval) << c.dim << " " << c.lambda;
    p.eigen_interval = 5;
    EXPECT_EQ(evo::eigen_interval(p), 5);
  }
  evo::CMAESParams bad;
  EXPECT_ERROR_MENTIONS(InvalidArgument, evo::eigen_interval(bad), "dim must be >= 1");
  evo::CMAESParams p = to_1e10_in_10d(5000);
  const auto every = evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere));
  p.eigen_interval = 4;
  const auto lazy = evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere));
  EXPECT_EQ(lazy.stop, "target");
  EXPECT_LT(lazy.best_fitness, 1e-10);
  EXPECT_NE(lazy.logbook.min, every.logbook.min);
  p.eigen_interval = -1;
  EXPECT_ERROR_MENTIONS(InvalidArgument,
                        evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::sphere)),
                        "eigen_interval must be >= 0");
}

// IPOP-CMA-ES (Auger & Hansen 2005) on Rastrigin in 10 dimensions: f < 1e-8 within 2e5
// evaluations in most of 10 seeded runs (the success rate is printed).
TEST(CMAES, IpopSolvesRastrigin10) {
  int solved = 0;
  std::int64_t evaluations = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    evo::CMAESParams p;
    p.dim = 10;
    p.centroid = {3.0};
    p.sigma = 2.0;
    p.lo = -5.12;
    p.hi = 5.12;
    p.generations = 100000;
    p.target = 1e-8;
    p.max_evaluations = 200000;
    p.restarts = 9;
    p.seed = seed;
    const auto r = evo::cmaes(*g_world, p, evo::benchmark_evaluator(evo::Benchmark::rastrigin));
    if (r.best_fitness < 1e-8) ++solved, evaluations += r.evaluations;
  }
  if (g_world->rank() == 0)
    std::printf("IPOP-CMA-ES Rastrigin 10-D: %d of 10 runs reached 1e-8 (mean %lld evaluations)\n",
                solved, static_cast<long long>(solved ? evaluations / solved : 0));
  EXPECT_GE(solved, 6);
}

TEST(CMAES, SameRunOnAnyRankCount) {
  evo::CMAESParams p;
  p.dim = 10;
  p.centroid = {5.0};
  p.sigma = 5.0;
  p.lambda = 40;
  p.generations = 60;
  p.seed = 9;
  p.lo = -5.12;
  p.hi = 5.12;
  const auto f = evo::benchmark_evaluator(evo::Benchmark::rastrigin);
  const auto all = evo::cmaes(*g_world, p, f);
  const auto alone = evo::cmaes(Comm::self(), p, f);
  ASSERT_EQ(all.logbook.min.size(), alone.logbook.min.size());
  for (std::size_t g = 0; g < all.logbook.min.size(); ++g) {
    ASSERT_EQ(all.logbook.min[g], alone.logbook.min[g]) << g;
    ASSERT_EQ(all.logbook.avg[g], alone.logbook.avg[g]) << g;
  }
  EXPECT_EQ(all.best, alone.best);
  for (double v : all.best) EXPECT_TRUE(v >= -5.12 && v <= 5.12);
  EXPECT_LT(all.logbook.min.back(), all.logbook.min.front());  // it improved
  // Logbook statistics are those of the generation's fitness values.
  EXPECT_LE(all.logbook.min[0], all.logbook.avg[0]);
  EXPECT_LE(all.logbook.avg[0], all.logbook.max[0]);
  EXPECT_EQ(all.logbook.nevals[0], 40);
}

TEST(CMAES, BadInputIsAClearError) {
  const auto f = evo::benchmark_evaluator(evo::Benchmark::sphere);
  const auto expect_error = [&](evo::CMAESParams p, const std::string& words) {
    try {
      evo::cmaes(*g_world, p, f);
      ADD_FAILURE() << "no throw: " << words;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  evo::CMAESParams p;
  p.dim = 0;
  expect_error(p, "dim must be >= 1");
  p.dim = 3;
  p.lambda = 3;
  expect_error(p, "population of at least 4");
  p.lambda = 0;
  p.sigma = 0;
  expect_error(p, "sigma must be > 0");
  p.sigma = 1;
  p.lo = 2;
  p.hi = 1;
  expect_error(p, "lo < hi");
  p.lo = -1;
  p.centroid = {1, 2};
  expect_error(p, "2 values for dim = 3");
  p.centroid = {1};
  p.restarts = -1;
  expect_error(p, "restarts must be >= 0");
  EXPECT_THROW(evo::parse_benchmark("sphear"), InvalidArgument);
}

// ---- Genetic algorithms ----

TEST(GA, SolvesOneMaxAndSphere) {
  evo::GAParams one;
  one.dim = 100;
  one.binary = true;
  one.minimize = false;
  one.population = 300;
  one.crossover = evo::Crossover::two_point;
  one.mutation = evo::Mutation::bitflip;
  one.generations = 200;
  one.target = 100;
  one.seed = 2;
  const auto r = evo::genetic(*g_world, one, evo::benchmark_evaluator(evo::Benchmark::onemax));
  EXPECT_EQ(r.best_fitness, 100.0);
  EXPECT_EQ(r.stop, "target");
  // The same run alone: the same logbook, bit for bit.
  const auto alone =
      evo::genetic(Comm::self(), one, evo::benchmark_evaluator(evo::Benchmark::onemax));
  EXPECT_EQ(alone.logbook.avg, r.logbook.avg);
  EXPECT_EQ(alone.logbook.nevals, r.logbook.nevals);

  evo::GAParams sphere;
  sphere.dim = 10;
  sphere.scheme = evo::Scheme::mu_plus_lambda;
  sphere.population = 100;
  sphere.offspring = 200;
  sphere.crossover = evo::Crossover::sbx;
  sphere.mutation = evo::Mutation::polynomial;
  sphere.cxpb = 0.6;
  sphere.mutpb = 0.4;
  sphere.indpb = 0.1;
  sphere.generations = 2000;
  sphere.target = 1e-6;
  sphere.seed = 4;
  const auto s = evo::genetic(*g_world, sphere, evo::benchmark_evaluator(evo::Benchmark::sphere));
  EXPECT_LT(s.best_fitness, 1e-6) << "after " << s.generations << " generations";
  if (g_world->rank() == 0)
    std::printf(
        "GA OneMax 100: %d generations; (mu+lambda) sphere 10-D: f = %.3g after %d generations\n",
        r.generations, s.best_fitness, s.generations);
}

// Tournament selection picks the individual of rank i (of N, worst first) with probability
// ((i + 1)^k − i^k) / N^k; checked on 200000 picks within 5 standard deviations.
TEST(GA, TournamentSelectionProbabilities) {
  const std::size_t N = 10, picks = 200000;
  const int k = 3;
  std::vector<double> fitness(N);
  for (std::size_t i = 0; i < N; ++i) fitness[i] = static_cast<double>(i);
  std::uint64_t next = 0;
  const auto chosen = evo::ops::tournament(fitness, false, picks, k, CounterRng(5, 0), next);
  std::vector<double> count(N, 0.0);
  for (std::size_t c : chosen) ++count[c];
  for (std::size_t i = 0; i < N; ++i) {
    const double p = (std::pow(i + 1.0, k) - std::pow(double(i), k)) / std::pow(double(N), k);
    const double sd = std::sqrt(picks * p * (1 - p));
    EXPECT_NEAR(count[i], picks * p, 5 * sd + 1) << "rank " << i;
  }
}

// SBX's spread factor beta (DEAP's cxSimulatedBinary): P(beta <= 0.5) = 0.5 · 0.5^(eta+1)
// and P(beta > 2) = 0.5 · 2^-(eta+1); children keep the parents' mean.
TEST(GA, SbxSpreadDistribution) {
  evo::GAParams p;
  p.dim = 1;
  p.crossover = evo::Crossover::sbx;
  p.sbx_eta = 2;
  p.lo = -100;
  p.hi = 100;
  const CounterRng rng(8, 0);
  std::uint64_t next = 0;
  const int trials = 200000;
  int low = 0, high = 0;
  for (int t = 0; t < trials; ++t) {
    double a = 0.0, b = 1.0;
    evo::ops::crossover(p, &a, &b, 1, rng, next);
    ASSERT_NEAR(a + b, 1.0, 1e-12);
    const double beta = 1.0 - 2.0 * a;
    low += beta <= 0.5;
    high += beta > 2.0;
  }
  const double pe = 0.0625, sd = std::sqrt(trials * pe * (1 - pe));
  EXPECT_NEAR(low, trials * pe, 5 * sd);
  EXPECT_NEAR(high, trials * pe, 5 * sd);
}

TEST(GA, BadInputIsAClearError) {
  const auto f = evo::benchmark_evaluator(evo::Benchmark::sphere);
  evo::GAParams p;
  p.dim = 3;
  p.population = 1;
  EXPECT_THROW(evo::genetic(*g_world, p, f), InvalidArgument);
  p.population = 10;
  p.selection = evo::Selection::roulette;  // minimising
  EXPECT_THROW(evo::genetic(*g_world, p, f), InvalidArgument);
  p.selection = evo::Selection::tournament;
  p.cxpb = 1.5;
  EXPECT_THROW(evo::genetic(*g_world, p, f), InvalidArgument);
  p.cxpb = 0.5;
  p.lo = 1;
  p.hi = 0;
  EXPECT_THROW(evo::genetic(*g_world, p, f), InvalidArgument);
}

// ---- PSO and differential evolution ----

// NaN values rank last in the PSO's and DE's comparisons and in GA tournaments too: each
// finds the optimum (1, 1, 1, 1) beside the region where the problem gives NaN (x_0 < 0.5:
// 85% of the box [-20, 4]).
TEST(Swarm, NaNFitnessRanksLast) {
  const auto holes = evo::functor_evaluator(SphereWithHoles{});
  const auto in_box = [](auto params, int generations) {  // what the three runs share
    params.dim = 4;
    params.lo = -20, params.hi = 4;
    params.generations = generations;
    params.target = 1e-6;
    params.seed = 3;
    return params;
  };
  const auto r = evo::pso(*g_world, in_box(evo::PSOParams{}, 2000), holes);
  EXPECT_LT(r.best_fitness, 1e-6) << "PSO after " << r.generations;
  const auto e = evo::differential_evolution(*g_world, in_box(evo::DEParams{}, 2000), holes);
  EXPECT_LT(e.best_fitness, 1e-6) << "DE after " << e.generations;
  evo::GAParams g = in_box(evo::GAParams{}, 1000);
  g.scheme = evo::Scheme::mu_plus_lambda;
  g.population = 100;
  g.offspring = 200;
  g.crossover = evo::Crossover::sbx;
  g.mutation = evo::Mutation::polynomial;
  const auto a = evo::genetic(*g_world, g, holes);
  EXPECT_LT(a.best_fitness, 1e-6) << "GA after " << a.generations;
}

TEST(Swarm, PsoAndDeSolveSphereOnAnyRankCount) {
  const auto sphere = evo::benchmark_evaluator(evo::Benchmark::sphere);
  for (const auto variant :
       {evo::PSOParams::Variant::constriction, evo::PSOParams::Variant::inertia}) {
    evo::PSOParams p;
    p.dim = 10;
    p.variant = variant;
    p.generations = 3000;
    p.target = 1e-6;
    p.seed = 6;
    const auto r = evo::pso(*g_world, p, sphere);
    EXPECT_LT(r.best_fitness, 1e-6) << "PSO after " << r.generations;
    const auto alone = evo::pso(Comm::self(), p, sphere);
    EXPECT_EQ(alone.logbook.min, r.logbook.min);
  }
  for (const auto variant : {evo::DEParams::Variant::rand1bin, evo::DEParams::Variant::best1bin}) {
    evo::DEParams d;
    d.dim = 10;
    d.variant = variant;
    // best/1/bin converges greedily: a larger F keeps its differences alive (Storn & Price)
    d.F = variant == evo::DEParams::Variant::best1bin ? 0.8 : 0.5;
    d.generations = 3000;
    d.target = 1e-6;
    d.seed = 6;
    const auto r = evo::differential_evolution(*g_world, d, sphere);
    EXPECT_LT(r.best_fitness, 1e-6) << "DE after " << r.generations;
    const auto alone = evo::differential_evolution(Comm::self(), d, sphere);
    EXPECT_EQ(alone.logbook.min, r.logbook.min);
    if (g_world->rank() == 0)
      std::printf("DE %s sphere 10-D: f = %.3g after %d generations\n",
                  variant == evo::DEParams::Variant::rand1bin ? "rand/1/bin" : "best/1/bin",
                  r.best_fitness, r.generations);
  }
  evo::PSOParams bad;
  bad.dim = 3;
  bad.particles = 1;
  EXPECT_THROW(evo::pso(*g_world, bad, sphere), InvalidArgument);
  evo::DEParams bad_de;
  bad_de.dim = 3;
  bad_de.population = 3;
  EXPECT_THROW(evo::differential_evolution(*g_world, bad_de, sphere), InvalidArgument);
  bad_de.population = 10;
  bad_de.CR = 2;
  EXPECT_THROW(evo::differential_evolution(*g_world, bad_de, sphere), InvalidArgument);
}
