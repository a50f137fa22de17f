#pragma once
// Benchmark functions of evolutionary optimisation, as DEAP's `benchmarks` module defines
// them, evaluated for every individual (row) of a population at once.
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

// Whether f takes the cosine of every gene (Rastrigin, Ackley, Griewank), and of what.
KOKKOS_INLINE_FUNCTION bool takes_cosines(BenchmarkKind kind) {
  return kind == BenchmarkKind::rastrigin || kind == BenchmarkKind::ackley ||
         kind == BenchmarkKind::griewank;
}
KOKKOS_INLINE_FUNCTION double cosine_argument(BenchmarkKind kind, double x, int j) {
  constexpr double pi = 3.14159265358979323846;
  return kind == BenchmarkKind::griewank ? x / kmath::sqrt(j + 1.0) : 2.0 * pi * x;
}

// The cosines of row i's genes, computed as they are asked for.
template <class PopView>
struct GeneCosines {
  const PopView& X;
  int i;
  BenchmarkKind kind;
  KOKKOS_INLINE_FUNCTION double operator()(int j) const {
    return kmath::cos_fast(cosine_argument(kind, X(i, j), j));
  }
};

// Σ term(j) for j < n into 8 interleaved partial sums (j to partial j mod 8) added in a
// fixed tree (a product for lane_product): a fixed order, and 8 independent chains.
template <class Term>
KOKKOS_INLINE_FUNCTION double lane_sum(int n, const Term& term) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) acc[l] += term(j + l);
  for (int l = 0; j + l < n; ++l) acc[l] += term(j + l);
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}
template <class Term>
KOKKOS_INLINE_FUNCTION double lane_product(int n, const Term& term) {
  double acc[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) acc[l] *= term(j + l);
  for (int l = 0; j + l < n; ++l) acc[l] *= term(j + l);
  return ((acc[0] * acc[4]) * (acc[2] * acc[6])) * ((acc[1] * acc[5]) * (acc[3] * acc[7]));
}

// f of row i of `pop` (any View-like X with X(i, j)); cosine(j) gives the cosine of gene
// j's cosine_argument (computed ahead for a whole row on the host, where it vectorises).
// Sums and products over the genes by lane_sum / lane_product: the same bits on any rank
// or thread count, within 1e-12 of DEAP's in-order Python sums (tested).
template <class PopView, class Cosines>
KOKKOS_INLINE_FUNCTION double benchmark_value(BenchmarkKind kind, const PopView& X, int i,
                                              const Cosines& cosine) {
  const int n = static_cast<int>(X.extent(1));
  constexpr double e = 2.71828182845904523536;
  const auto square = [&](int j) { return X(i, j) * X(i, j); };
  switch (kind) {
    case BenchmarkKind::sphere: return lane_sum(n, square);
    case BenchmarkKind::rastrigin:
      return 10.0 * n + lane_sum(n, [&](int j) { return X(i, j) * X(i, j) - 10.0 * cosine(j); });
    case BenchmarkKind::rosenbrock:
      return lane_sum(n - 1, [&](int j) {
        const double x = X(i, j), y = X(i, j + 1);
        return 100.0 * (x * x - y) * (x * x - y) + (1.0 - x) * (1.0 - x);
      });
    case BenchmarkKind::ackley: {
      const double s = lane_sum(n, square), c = lane_sum(n, cosine);
      return 20.0 - 20.0 * kmath::exp(-0.2 * kmath::sqrt(1.0 / n * s)) + e -
             kmath::exp(1.0 / n * c);
    }
    case BenchmarkKind::griewank:
      return 1.0 / 4000.0 * lane_sum(n, square) - lane_product(n, cosine) + 1.0;
    case BenchmarkKind::schwefel:
      return 418.9828872724339 * n - lane_sum(n, [&](int j) {
               return X(i, j) * kmath::sin(kmath::sqrt(kmath::fabs(X(i, j))));
             });
    case BenchmarkKind::schaffer:
      return lane_sum(n - 1, [&](int j) {
        const double r = X(i, j) * X(i, j) + X(i, j + 1) * X(i, j + 1);
        const double t = kmath::sin(50.0 * kmath::pow(r, 0.1));
        return kmath::pow(r, 0.25) * (t * t + 1.0);
      });
    case BenchmarkKind::onemax: return lane_sum(n, [&](int j) { return X(i, j); });
  }
  return 0.0;
}

template <class PopView>
KOKKOS_INLINE_FUNCTION double benchmark_value(BenchmarkKind kind, const PopView& X, int i) {
  return benchmark_value(kind, X, i, GeneCosines<PopView>{X, i, kind});
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
