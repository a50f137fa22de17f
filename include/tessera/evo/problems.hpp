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
/// @endcode

#include <functional>
#include <string>

#include <Kokkos_Core.hpp>

namespace tessera::evo {

/// @brief The memory space populations live in (the build's device).
using Memory = Kokkos::DefaultExecutionSpace::memory_space;
/// @brief Individuals as rows (λ × dim) and their fitness values.
using Population = Kokkos::View<const double**, Kokkos::LayoutRight, Memory>;
using Fitness = Kokkos::View<double*, Memory>;
/// @brief Fills fitness(i) for every row i of the population (a slice of the whole on
/// each rank). Must depend only on the row, so results do not depend on the rank count.
using Evaluator = std::function<void(const Population&, const Fitness&)>;

/// @brief DEAP's benchmark functions (definitions as deap.benchmarks), and OneMax.
enum class Benchmark {
  sphere,
  rastrigin,
  rosenbrock,
  ackley,
  griewank,
  schwefel,
  schaffer,
  onemax
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
