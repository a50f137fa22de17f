#include <tessera/evo/problems.hpp>

#include <algorithm>
#include <cmath>

#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/kernels/benchmarks.hpp>

namespace tessera::evo {

namespace {
struct Entry {
  Benchmark b;
  const char* name;
};
constexpr Entry kBenchmarks[] = {
    {Benchmark::sphere, "sphere"},         {Benchmark::rastrigin, "rastrigin"},
    {Benchmark::rosenbrock, "rosenbrock"}, {Benchmark::ackley, "ackley"},
    {Benchmark::griewank, "griewank"},     {Benchmark::schwefel, "schwefel"},
    {Benchmark::schaffer, "schaffer"},     {Benchmark::onemax, "onemax"},
    {Benchmark::knapsack, "knapsack"},
};

// fitness(i) of a packing (see knapsack_evaluator).
struct KnapsackKernel {
  Population pop;
  Fitness fitness;
  Kokkos::View<const double*, Memory> weights, values;
  double capacity;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    double w = 0, v = 0;
    for (int j = 0; j < static_cast<int>(pop.extent(1)); ++j)
      if (pop(i, j) > 0.5) w += weights(j), v += values(j);
    fitness(i) = w <= capacity ? v : capacity - w;
  }
};

#if !defined(KOKKOS_ENABLE_CUDA)
// Rows [begin, end) of a host population for a problem that takes cosines: the rows'
// cosines in one vector loop over their genes (contiguous; cos_reduced, the library's cos
// past its limit), then benchmark_value over each row's: the same bits as benchmark_value
// alone (the same operations in the same order; -ffp-contract=off for this file), several
// times faster. c: room for the rows' genes.
TESSERA_CLONES [[gnu::flatten]] void evaluate_rows(detail::BenchmarkKind kind,
                                                   const Population& pop, const Fitness& fit,
                                                   int begin, int end, double* c) {
  namespace km = detail::kmath;
  const int n = static_cast<int>(pop.extent(1));
  const int genes = (end - begin) * n;
  const double* x = &pop(begin, 0);
  // the next block into cache meanwhile (without, the loop below waited on memory)
  if (end < static_cast<int>(pop.extent(0)))
    for (int e = 0; e < genes; e += 8) __builtin_prefetch(x + genes + e);
  double outside = 0;                             // arguments past cos_reduced's limit (or NaN)
  if (kind == detail::BenchmarkKind::griewank) {  // the argument depends on the gene: by rows
    for (int r = 0; r < end - begin; ++r) {
      TESSERA_SIMD_SUM(outside)
      for (int j = 0; j < n; ++j) {
        const double y = detail::cosine_argument(detail::BenchmarkKind::griewank, x[r * n + j], j);
        c[r * n + j] = km::cos_reduced(y);
        outside += std::fabs(y) <= km::cos_reduced_limit ? 0.0 : 1.0;
      }
    }
  } else {
    TESSERA_SIMD_SUM(outside)
    for (int e = 0; e < genes; ++e) {
      const double y = detail::cosine_argument(detail::BenchmarkKind::rastrigin, x[e], 0);
      c[e] = km::cos_reduced(y);
      outside += std::fabs(y) <= km::cos_reduced_limit ? 0.0 : 1.0;
    }
  }
  if (outside > 0)
    for (int e = 0; e < genes; ++e) {
      const double y = detail::cosine_argument(kind, x[e], e % n);
      if (!(std::fabs(y) <= km::cos_reduced_limit)) c[e] = std::cos(y);
    }
  for (int i = begin; i < end; ++i) {
    const double* const row = c + (i - begin) * n;
    fit(i) = detail::benchmark_value(kind, pop, i, [row](int j) { return row[j]; });
  }
}

void evaluate_on_host(detail::BenchmarkKind kind, const Population& pop, const Fitness& fit) {
  using Exec = Kokkos::DefaultHostExecutionSpace;
  const int rows = static_cast<int>(pop.extent(0));
  const std::size_t n = pop.extent(1);
  // rows per work item: about 512 genes (long vector loops even for short rows), read as
  // one run of genes where the rows are contiguous
  const int block = pop.stride(0) == n ? static_cast<int>(std::max<std::size_t>(1, 512 / n)) : 1;
  const int blocks = (rows + block - 1) / block;
  // A few blocks run on the calling thread: starting and ending a parallel region costs
  // more than sharing them saves (2 threads, fastest of 3 seeds: PSO 40 × 10 for 1000
  // generations 12.3 → 10.0–10.9 ms, CMA-ES 200 × 10 for 250 8.3–8.5 → 7.4–7.6 ms). The
  // same blocks, so the same values.
  const auto evaluate_block = [=](int b, double* scratch) {
    evaluate_rows(kind, pop, fit, b * block, std::min(rows, (b + 1) * block), scratch);
  };
  if (static_cast<std::size_t>(rows) * n <= 4096) {
    std::vector<double> scratch(static_cast<std::size_t>(block) * n);
    for (int b = 0; b < blocks; ++b) evaluate_block(b, scratch.data());
    return;
  }
  const Kokkos::Experimental::UniqueToken<Exec> token;
  const Kokkos::View<double**, Kokkos::HostSpace> scratch(
      Kokkos::view_alloc(std::string("evo_cosines"), Kokkos::WithoutInitializing),
      static_cast<std::size_t>(token.size()), static_cast<std::size_t>(block) * n);
  Kokkos::parallel_for("tessera::evo::benchmark_host", Kokkos::RangePolicy<Exec>(0, blocks),
                       [=](const int b) {
                         const int id = token.acquire();
                         evaluate_block(b, &scratch(static_cast<std::size_t>(id), 0));
                         token.release(id);
                       });
}
#endif

Kokkos::View<const double*, Memory> to_device(const std::vector<double>& v, const char* label) {
  Kokkos::View<double*, Memory> out(std::string(label), v.size());
  const auto host = Kokkos::create_mirror_view(out);
  std::copy(v.begin(), v.end(), host.data());
  Kokkos::deep_copy(out, host);
  return out;
}
}  // namespace

Benchmark parse_benchmark(const std::string& name) {
  std::string known;
  for (const auto& e : kBenchmarks) {
    if (name == e.name) return e.b;
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  }
  throw InvalidArgument("unknown problem '" + name + "' (" + known + ")");
}

const char* to_string(Benchmark b) {
  for (const auto& e : kBenchmarks)
    if (e.b == b) return e.name;
  return "sphere";
}

BenchmarkInfo info(Benchmark b, int dim) {
  BenchmarkInfo i;
  switch (b) {
    case Benchmark::sphere: break;
    case Benchmark::rastrigin: break;
    case Benchmark::rosenbrock: i.lo = -2.048, i.hi = 2.048; break;
    case Benchmark::ackley: i.lo = -15, i.hi = 30; break;
    case Benchmark::griewank: i.lo = -600, i.hi = 600; break;
    case Benchmark::schwefel: i.lo = -500, i.hi = 500; break;
    case Benchmark::schaffer: i.lo = -100, i.hi = 100; break;
    case Benchmark::onemax:
      i.minimize = false, i.optimum = dim, i.lo = 0, i.hi = 1, i.binary = true;
      break;
    case Benchmark::knapsack:
      i.minimize = false, i.lo = 0, i.hi = 1, i.binary = true;
      i.optimum = dim > 0 ? solve_knapsack(knapsack_instance(dim)).value : 0.0;
      break;
  }
  return i;
}

void evaluate(Benchmark b, const Population& population, const Fitness& fitness) {
  TESSERA_EXPECTS(fitness.extent(0) == population.extent(0),
                  "tessera::evo::evaluate: one fitness value per individual");
  if (b == Benchmark::knapsack)
    return knapsack_evaluator(knapsack_instance(static_cast<int>(population.extent(1))))(population,
                                                                                         fitness);
  const auto kind = static_cast<detail::BenchmarkKind>(static_cast<int>(b));
#if !defined(KOKKOS_ENABLE_CUDA)
  if (detail::takes_cosines(kind) && population.extent(1) > 0)
    return evaluate_on_host(kind, population, fitness);
#endif
  Kokkos::parallel_for(
      "tessera::evo::benchmark",
      Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, static_cast<int>(population.extent(0))),
      detail::EvaluateBenchmark<Population, Fitness>{population, fitness, kind});
}

void Evaluator::operator()(const Population& population, const Fitness& fitness) const {
  if (kernel_) return kernel_(population, fitness);
  TESSERA_EXPECTS(static_cast<bool>(host_), "tessera::evo::Evaluator: empty");
  const auto pop = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), population);
  const auto fit = Kokkos::create_mirror_view(Kokkos::HostSpace(), fitness);
  std::vector<double> genes(pop.extent(0) ? pop.extent(1) : 0);
  for (std::size_t i = 0; i < pop.extent(0); ++i) {
    for (std::size_t j = 0; j < genes.size(); ++j) genes[j] = pop(i, j);
    fit(i) = host_(genes);
  }
  Kokkos::deep_copy(fitness, fit);
}

Evaluator host_evaluator(HostFitness f) {
  TESSERA_EXPECTS(static_cast<bool>(f), "tessera::evo::host_evaluator: an empty function");
  Evaluator e;
  e.host_ = std::move(f);
  return e;
}

Knapsack knapsack_instance(int items, std::uint64_t seed) {
  TESSERA_EXPECTS(items >= 1, "tessera::evo::knapsack_instance: needs at least one item");
  const CounterRng rng(seed, 7);
  Knapsack k;
  double total = 0;
  for (int j = 0; j < items; ++j) {
    const auto u = static_cast<std::uint64_t>(j);
    k.weights.push_back(1.0 + static_cast<double>(rng.integer(2 * u, 10)));
    k.values.push_back(100.0 * rng.uniform(2 * u + 1));
    total += k.weights.back();
  }
  k.capacity = std::floor(total / 2);
  return k;
}

Evaluator knapsack_evaluator(const Knapsack& problem) {
  if (problem.weights.size() != problem.values.size() || problem.weights.empty())
    throw InvalidArgument("knapsack: needs as many weights as values, at least one");
  const auto weights = to_device(problem.weights, "knapsack_weights");
  const auto values = to_device(problem.values, "knapsack_values");
  const double capacity = problem.capacity;
  return [=](const Population& pop, const Fitness& fitness) {
    if (pop.extent(1) != weights.extent(0))
      throw InvalidArgument("knapsack: individuals of " + std::to_string(pop.extent(1)) +
                            " genes for " + std::to_string(weights.extent(0)) + " items");
    Kokkos::parallel_for(
        "tessera::evo::knapsack",
        Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, static_cast<int>(pop.extent(0))),
        KnapsackKernel{pop, fitness, weights, values, capacity});
  };
}

KnapsackSolution solve_knapsack(const Knapsack& k) {
  const std::size_t n = k.weights.size();
  for (double w : k.weights)
    if (!(w >= 0) || w != std::floor(w))
      throw InvalidArgument("solve_knapsack: weights must be integers >= 0");
  const auto cap = static_cast<std::size_t>(std::max(0.0, std::floor(k.capacity)));
  // best[i][c]: the best value of items [0, i) within capacity c.
  std::vector<std::vector<double>> best(n + 1, std::vector<double>(cap + 1, 0.0));
  for (std::size_t i = 1; i <= n; ++i) {
    const auto w = static_cast<std::size_t>(k.weights[i - 1]);
    for (std::size_t c = 0; c <= cap; ++c) {
      best[i][c] = best[i - 1][c];
      if (w <= c) best[i][c] = std::max(best[i][c], best[i - 1][c - w] + k.values[i - 1]);
    }
  }
  KnapsackSolution s;
  s.value = best[n][cap];
  s.genes.assign(n, 0.0);
  for (std::size_t i = n, c = cap; i >= 1; --i)
    if (best[i][c] != best[i - 1][c]) {
      s.genes[i - 1] = 1.0;
      c -= static_cast<std::size_t>(k.weights[i - 1]);
    }
  return s;
}

Evaluator benchmark_evaluator(Benchmark b) {
  return [b](const Population& population, const Fitness& fitness) {
    evaluate(b, population, fitness);
  };
}

}  // namespace tessera::evo
