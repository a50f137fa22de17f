// CMA-ES with tessera's C++ API, across every rank:
//  1. the reference run: Rastrigin, centroid 5·1, sigma 5, lambda = 20·N, 250 generations
//     (DEAP's cma example), with its logbook;
//  2. a user-defined problem: a functor of one individual, evaluated in a Kokkos kernel
//     on each rank's device — here an ill-conditioned ellipsoid centred at (1, …, 1).
//
//   ./example_cmaes            # N = 10
//   mpirun -np 4 ./example_cmaes 50
//
// The same output on any rank count (the population is drawn identically everywhere and
// only fitness values are exchanged).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <Kokkos_Core.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/evo/cmaes.hpp>
#include <tessera/evo/problems.hpp>

// f(x) = Σ 10^(6 j / (N − 1)) (x_j − 1)²: condition number 1e6, minimum 0 at x = 1.
struct Ellipsoid {
  template <class Population>
  KOKKOS_INLINE_FUNCTION double operator()(const Population& x, int i) const {
    const int n = static_cast<int>(x.extent(1));
    double s = 0, scale = 1.0;
    const double step = n > 1 ? ::pow(10.0, 6.0 / (n - 1)) : 1.0;
    for (int j = 0; j < n; ++j, scale *= step) s += scale * (x(i, j) - 1.0) * (x(i, j) - 1.0);
    return s;
  }
};

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const int n = argc > 1 ? std::atoi(argv[1]) : 10;

  tessera::evo::CMAESParams p;
  p.dim = n;
  p.centroid = {5.0};
  p.sigma = 5.0;
  p.lambda = 20 * n;
  p.generations = 250;
  const auto r = tessera::evo::cmaes(
      comm, p, tessera::evo::benchmark_evaluator(tessera::evo::Benchmark::rastrigin));
  if (comm.rank() == 0) {
    std::printf("gen  nevals  min            avg\n");
    for (std::size_t g = 0; g < r.logbook.gen.size(); g += 50)
      std::printf("%-4d %-7lld %-14.6g %.6g\n", r.logbook.gen[g],
                  static_cast<long long>(r.logbook.nevals[g]), r.logbook.min[g], r.logbook.avg[g]);
    std::printf("rastrigin N=%d: best f = %.6g after %lld evaluations on %d rank(s)\n", n,
                r.best_fitness, static_cast<long long>(r.evaluations), comm.size());
  }

  tessera::evo::CMAESParams q;
  q.dim = n;
  q.sigma = 1.0;
  q.target = 1e-10;
  q.generations = 20000;
  const auto e = tessera::evo::cmaes(comm, q, tessera::evo::functor_evaluator(Ellipsoid{}));
  if (comm.rank() == 0)
    std::printf("ellipsoid: f = %.3g at x0 = %.4f after %lld evaluations (stop: %s)\n",
                e.best_fitness, e.best[0], static_cast<long long>(e.evaluations), e.stop.c_str());
  return 0;
}
