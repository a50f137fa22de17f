#include <tessera/evo/problems.hpp>

#include <tessera/core/error.hpp>
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
};
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
  }
  return i;
}

void evaluate(Benchmark b, const Population& population, const Fitness& fitness) {
  TESSERA_EXPECTS(fitness.extent(0) == population.extent(0),
                  "tessera::evo::evaluate: one fitness value per individual");
  Kokkos::parallel_for(
      "tessera::evo::benchmark",
      Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, static_cast<int>(population.extent(0))),
      detail::EvaluateBenchmark<Population, Fitness>{
          population, fitness, static_cast<detail::BenchmarkKind>(static_cast<int>(b))});
}

Evaluator benchmark_evaluator(Benchmark b) {
  return [b](const Population& population, const Fitness& fitness) {
    evaluate(b, population, fitness);
  };
}

}  // namespace tessera::evo
