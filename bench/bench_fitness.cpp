// Fitness throughput, run by bench/evolve_vs_deap.py: Rastrigin over a population in one
// kernel, beside a STREAM-style triad over the same number of bytes.
//
//   build/bench/bench_fitness 1000 10000 [repeats]   # dim, population
//
// Prints one JSON line: evaluations per second, GB/s of the population read, triad GB/s.
#include <cstdio>
#include <cstdlib>

#include <Kokkos_Core.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/evo/problems.hpp>

using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, tessera::evo::Memory>;
using Vector = Kokkos::View<double*, tessera::evo::Memory>;

void fill(const Matrix& pop) {
  const tessera::CounterRng rng(1, 0);
  const std::size_t d = pop.extent(1);
  Kokkos::parallel_for(
      "fill", Kokkos::RangePolicy<>(0, pop.size()),
      KOKKOS_LAMBDA(const std::size_t i) { pop(i / d, i % d) = 10.24 * rng.uniform(i) - 5.12; });
}

double triad(const Vector& a, const Vector& b, const Vector& c) {
  tessera::Timer t;
  Kokkos::parallel_for(
      "triad", Kokkos::RangePolicy<>(0, a.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) { a(i) = b(i) + 3.0 * c(i); });
  Kokkos::fence();
  return t.seconds();
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const std::size_t dim = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
  const std::size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 10;
  Matrix pop("population", n, dim);
  tessera::evo::Fitness fitness("fitness", n);
  fill(pop);
  Vector a("a", n * dim), b("b", n * dim), c("c", n * dim);
  Kokkos::deep_copy(b, 1.0);
  Kokkos::deep_copy(c, 2.0);
  double best = 1e300, best_triad = 1e300;
  for (int r = 0; r < repeats; ++r) {
    tessera::Timer t;
    tessera::evo::evaluate(tessera::evo::Benchmark::rastrigin, pop, fitness);
    Kokkos::fence();
    best = std::min(best, t.seconds());
    best_triad = std::min(best_triad, triad(a, b, c));
  }
  const double bytes = static_cast<double>(n * dim) * sizeof(double);
  std::printf(
      "{\"dim\": %zu, \"population\": %zu, \"seconds\": %.6g, \"evals_per_s\": %.6g, "
      "\"gb_per_s\": %.4g, \"triad_gb_per_s\": %.4g}\n",
      dim, n, best, n / best, bytes / best / 1e9, 3 * bytes / best_triad / 1e9);
  return 0;
}
