#pragma once
// Benchmark functions of evolutionary optimisation, as DEAP's `benchmarks` module defines
// them, evaluated for every individual (row) of a population at once. Sums run over the
// genes in order, as DEAP's Python sums do.
#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera::detail {

enum class BenchmarkKind : int {
  sphere = 0,
  rastrigin,
  rosenbrock,
  ackley,
  griewank,
  schwefel,
  schaffer,
  onemax,
};

// f of row i of `pop` (any View-like X with X(i, j)).
template <class PopView>
KOKKOS_INLINE_FUNCTION double benchmark_value(BenchmarkKind kind, const PopView& X, int i) {
  const int n = static_cast<int>(X.extent(1));
  constexpr double pi = 3.14159265358979323846, e = 2.71828182845904523536;
  double s = 0;
  switch (kind) {
    case BenchmarkKind::sphere:
      for (int j = 0; j < n; ++j) s += X(i, j) * X(i, j);
      return s;
    case BenchmarkKind::rastrigin:
      for (int j = 0; j < n; ++j) s += X(i, j) * X(i, j) - 10.0 * kmath::cos(2.0 * pi * X(i, j));
      return 10.0 * n + s;
    case BenchmarkKind::rosenbrock:
      for (int j = 0; j + 1 < n; ++j) {
        const double x = X(i, j), y = X(i, j + 1);
        s += 100.0 * (x * x - y) * (x * x - y) + (1.0 - x) * (1.0 - x);
      }
      return s;
    case BenchmarkKind::ackley: {
      double c = 0;
      for (int j = 0; j < n; ++j) s += X(i, j) * X(i, j);
      for (int j = 0; j < n; ++j) c += kmath::cos(2.0 * pi * X(i, j));
      return 20.0 - 20.0 * kmath::exp(-0.2 * kmath::sqrt(1.0 / n * s)) + e -
             kmath::exp(1.0 / n * c);
    }
    case BenchmarkKind::griewank: {
      double prod = 1.0;
      for (int j = 0; j < n; ++j) s += X(i, j) * X(i, j);
      for (int j = 0; j < n; ++j) prod *= kmath::cos(X(i, j) / kmath::sqrt(j + 1.0));
      return 1.0 / 4000.0 * s - prod + 1.0;
    }
    case BenchmarkKind::schwefel:
      for (int j = 0; j < n; ++j) s += X(i, j) * kmath::sin(kmath::sqrt(kmath::fabs(X(i, j))));
      return 418.9828872724339 * n - s;
    case BenchmarkKind::schaffer:
      for (int j = 0; j + 1 < n; ++j) {
        const double r = X(i, j) * X(i, j) + X(i, j + 1) * X(i, j + 1);
        const double t = kmath::sin(50.0 * kmath::pow(r, 0.1));
        s += kmath::pow(r, 0.25) * (t * t + 1.0);
      }
      return s;
    case BenchmarkKind::onemax:
      for (int j = 0; j < n; ++j) s += X(i, j);
      return s;
  }
  return 0.0;
}

// fitness(i) = f(row i) for the individuals of a population.
template <class PopView, class FitView>
struct EvaluateBenchmark {
  PopView pop;
  FitView fitness;
  BenchmarkKind kind;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    fitness(i) = benchmark_value(kind, pop, i);
  }
};

}  // namespace tessera::detail
