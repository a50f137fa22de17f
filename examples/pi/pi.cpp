// Estimates pi by Monte Carlo across every rank with the task farm: each task draws
// its points from its own counter-based stream (Philox keyed by seed and global draw
// number) in a Kokkos kernel, and map_reduce adds the hit counts in task order, so the
// estimate is the same on 1 rank or 64, on CPUs or GPUs.
//
//   ./example_pi                         # 256 tasks x 1e6 points
//   mpirun -np 4 ./example_pi 1000 2e6   # tasks, points per task
//
// Expected output (any rank count, default arguments):
//   pi ~ 3.1414855 from 256000000 points (256 tasks, seed 42), error 1.1e-04
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include <Kokkos_Core.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/sched/farm.hpp>

// Points of one task inside the quarter circle (a free function: CUDA's extended
// lambdas need a host function with external linkage around them).
std::int64_t hits_of_task(const tessera::CounterRng& rng, std::int64_t task, std::int64_t points) {
  std::int64_t hits = 0;
  Kokkos::parallel_reduce(
      "pi_task", Kokkos::RangePolicy<Kokkos::IndexType<std::int64_t>>(0, points),
      KOKKOS_LAMBDA(const std::int64_t k, std::int64_t& inside) {
        const auto draw = static_cast<std::uint64_t>(task * points + k);
        const double x = rng.uniform(2 * draw), y = rng.uniform(2 * draw + 1);
        inside += x * x + y * y < 1.0 ? 1 : 0;
      },
      hits);
  return hits;
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const std::int64_t tasks = argc > 1 ? std::atoll(argv[1]) : 256;
  const auto points = static_cast<std::int64_t>(argc > 2 ? std::atof(argv[2]) : 1e6);
  if (tasks < 1 || points < 1) {
    if (comm.is_root())
      std::fprintf(stderr, "error: usage: example_pi [TASKS >= 1] [POINTS >= 1]\n");
    return 2;
  }
  const tessera::CounterRng rng(42);
  const std::int64_t hits = tessera::map_reduce(
      comm, tasks, [&](std::int64_t task) { return hits_of_task(rng, task, points); },
      std::plus<>{});
  const double total = static_cast<double>(tasks) * static_cast<double>(points);
  const double pi = 4.0 * static_cast<double>(hits) / total;
  if (comm.is_root())
    std::printf("pi ~ %.7f from %.0f points (%lld tasks, seed 42), error %.1e\n", pi, total,
                static_cast<long long>(tasks), std::abs(pi - M_PI));
  return 0;
}
