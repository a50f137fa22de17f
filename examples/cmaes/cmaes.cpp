// CMA-ES with tessera's C++ API, across every rank:
//  1. the reference run: Rastrigin, centroid 5·1, sigma 5, lambda = 20·N, 250 generations
//     (DEAP's cma example), with its logbook;
//  2. a user-defined problem: a functor of one individual, evaluated in a Kokkos kernel
//     on each rank's device — here an ill-conditioned ellipsoid centred at (1, …, 1);
//  3. an expensive host function standing for a simulation code: the spring constant and
//     damping of an oscillator fitted to an observed trajectory by integrating the ODE,
//     farmed out one individual per task over the ranks.
//
//   ./example_cmaes            # N = 10
//   mpirun -np 4 ./example_cmaes 50
//
// The same output on any rank count (the population is drawn identically everywhere and
// only fitness values are exchanged).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

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

// x'' = -k x - c x' from x = 1, x' = 0 (semi-implicit Euler, dt = 1e-3), sampled at
// t = 0.5, 1, …, 10: the "simulation".
std::vector<double> oscillate(double k, double c) {
  std::vector<double> samples;
  double x = 1.0, v = 0.0;
  for (int step = 1; step <= 10000; ++step) {
    v += 1e-3 * (-k * x - c * v);
    x += 1e-3 * v;
    if (step % 500 == 0) samples.push_back(x);
  }
  return samples;
}

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

  // The observation (k = 4, c = 0.3), and the squared misfit of a candidate (k, c).
  const std::vector<double> observed = oscillate(4.0, 0.3);
  const auto misfit = [&](const std::vector<double>& kc) {
    const std::vector<double> x = oscillate(kc[0], kc[1]);
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += (x[i] - observed[i]) * (x[i] - observed[i]);
    return s;
  };
  tessera::evo::CMAESParams fit;
  fit.dim = 2;
  fit.centroid = {1.0, 1.0};
  fit.sigma = 0.5;
  fit.lo = 0.0;  // k and c are not negative
  fit.hi = 10.0;
  fit.target = 1e-20;
  fit.generations = 500;
  const auto o = tessera::evo::cmaes(comm, fit, tessera::evo::host_evaluator(misfit));
  if (comm.rank() == 0)
    std::printf("oscillator fit: k = %.6f, c = %.6f (misfit %.3g) after %lld simulations\n",
                o.best[0], o.best[1], o.best_fitness, static_cast<long long>(o.evaluations));
  return 0;
}
