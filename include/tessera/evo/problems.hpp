#pragma once
/// @file
/// @brief Fitness functions evaluated over a whole population at once: the benchmark
/// functions of DEAP's `benchmarks` module as Kokkos kernels, and your own functor.
///
/// @code
/// // A user problem: a functor of one individual (row i of the population).
/// struct Shifted {
///   template <class Pop> KOKKOS_INLINE_FUNCTION double operator()(const Pop& x, int i) const {
///     double s = 0;
///     for (int j = 0; j < int(x.extent(1)); ++j) s += (x(i, j) - 1) * (x(i, j) - 1);
///     return s;
///   }
/// };
/// tessera::evo::Evaluator f = tessera::evo::functor_evaluator(Shifted{});
///
/// // An expensive host function, one individual per task over the ranks:
/// tessera::evo::Evaluator g = tessera::evo::host_evaluator(
///     [](const std::vector<double>& x) { return run_my_simulation(x); });
/// @endcode

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <Kokkos_Core.hpp>

namespace tessera::evo {

/// @brief The memory space populations live in (the build's device).
using Memory = Kokkos::DefaultExecutionSpace::memory_space;
/// @brief Individuals as rows (λ × dim) and their fitness values.
using Population = Kokkos::View<const double**, Kokkos::LayoutRight, Memory>;
using Fitness = Kokkos::View<double*, Memory>;
/// @brief The fitness of one individual computed on the host: for evaluations too costly
/// or too complex for a kernel (a simulation run, an external code).
using HostFitness = std::function<double(const std::vector<double>& genes)>;

/// @brief How a population is evaluated: a kernel over a rank's slice of rows (the
/// default: every benchmark, `functor_evaluator`, any callable
/// `void(const Population&, const Fitness&)`), or a host function of one individual
/// (`host_evaluator`), farmed out one individual per task over the ranks so that uneven
/// costs balance (tessera::map). Either way fitness must depend only on the row, so
/// results do not depend on the rank count.
class Evaluator {
 public:
  Evaluator() = default;
  /// A population kernel: fills fitness(i) for every row i of its argument.
  template <class F, std::enable_if_t<
                         std::is_invocable_v<const F&, const Population&, const Fitness&>, int> = 0>
  Evaluator(F kernel) : kernel_(std::move(kernel)) {}  // NOLINT: implicit by design
  /// Evaluates every row (a host function: one row after the other, on this rank).
  void operator()(const Population& population, const Fitness& fitness) const;
  /// The host function of a host_evaluator (empty for kernels).
  const HostFitness& host() const { return host_; }

  friend Evaluator host_evaluator(HostFitness f);

 private:
  std::function<void(const Population&, const Fitness&)> kernel_;
  HostFitness host_;
};

/// @brief The Evaluator of a host function of one individual (see Evaluator).
Evaluator host_evaluator(HostFitness f);

/// @brief DEAP's benchmark functions (definitions as deap.benchmarks), and OneMax.
enum class Benchmark {
  sphere,
  rastrigin,
  rosenbrock,
  ackley,
  griewank,
  schwefel,
  schaffer,
  onemax,
  knapsack  ///< the default instance of knapsack_instance(dim)
};

/// @brief "sphere", "rastrigin", … (InvalidArgument naming the known ones otherwise).
Benchmark parse_benchmark(const std::string& name);
const char* to_string(Benchmark b);

/// @brief What a benchmark asks for and where it is usually searched.
struct BenchmarkInfo {
  bool minimize = true;
  double optimum = 0;            ///< the best value (dim · 1 for OneMax)
  double lo = -5.12, hi = 5.12;  ///< the customary search box of each gene
  bool binary = false;           ///< genes are 0/1
};
/// @brief For a dimension (OneMax's optimum is dim).
BenchmarkInfo info(Benchmark b, int dim);

/// @brief Evaluates a benchmark over a population (one thread per individual).
void evaluate(Benchmark b, const Population& population, const Fitness& fitness);
/// @brief The Evaluator of a benchmark.
Evaluator benchmark_evaluator(Benchmark b);

/// @brief A 0/1 knapsack: item weights and values, and the capacity.
struct Knapsack {
  std::vector<double> weights, values;
  double capacity = 0;
};
/// @brief `items` items with integer weights in [1, 10] and values uniform in [0, 100)
/// (the ranges of DEAP's knapsack example), the capacity half their total weight (rounded
/// down), drawn from the counter-based generator (seed 0: Benchmark::knapsack's instance).
Knapsack knapsack_instance(int items, std::uint64_t seed = 0);
/// @brief Fitness of 0/1 individuals (gene j > 0.5 packs item j), to maximise: the value
/// packed when it fits, else capacity − weight (< 0), so every packing that fits beats
/// every one that does not and the search is led back to the feasible ones.
Evaluator knapsack_evaluator(const Knapsack& problem);
/// @brief The optimum by dynamic programming over capacities (integer weights only).
struct KnapsackSolution {
  double value = 0;
  std::vector<double> genes;  ///< 0/1 per item
};
KnapsackSolution solve_knapsack(const Knapsack& problem);

/// @brief The kernel of functor_evaluator: fitness(i) = f(population, i).
template <class F>
struct FunctorKernel {
  F f;
  Population pop;
  Fitness fitness;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const { fitness(i) = f(pop, i); }
};

/// @brief The Evaluator of a user functor `double f(const Population&, int row)` run in a
/// Kokkos kernel (on the device in GPU builds: mark operator() KOKKOS_INLINE_FUNCTION).
template <class F>
Evaluator functor_evaluator(F f) {
  return [f](const Population& pop, const Fitness& fitness) {
    Kokkos::parallel_for(
        "tessera::evo::user_functor",
        Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, static_cast<int>(pop.extent(0))),
        FunctorKernel<F>{f, pop, fitness});
  };
}

}  // namespace tessera::evo
