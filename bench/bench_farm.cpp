// Task-farm throughput and balance, run under mpirun by bench/farm_vs_dask.py:
//
//   mpirun -np 3 build/bench/bench_farm empty 200000     # empty tasks per second
//   mpirun -np 3 build/bench/bench_farm uneven 400 2000  # costs 1..100 x 2000 flops-ish
//
// Prints one JSON line on rank 0.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <tessera/core/runtime.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/sched/farm.hpp>

namespace {

// A compute-bound task of `units` cost units (no memory traffic, not optimised away).
double spin(std::int64_t units, std::int64_t work_per_unit) {
  double x = 0.5;
  for (std::int64_t k = 0; k < units * work_per_unit; ++k) x = std::sqrt(x + 1.0);
  return x;
}

// Costs 1..100, in a fixed pseudo-random order (a 100x spread).
std::int64_t cost_of(std::int64_t i) { return 1 + (i * 7919 + 13) % 100; }

}  // namespace

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const std::string mode = argc > 1 ? argv[1] : "empty";
  const std::int64_t n = argc > 2 ? std::atoll(argv[2]) : 100000;
  const std::int64_t work = argc > 3 ? std::atoll(argv[3]) : 2000;
  if (mode == "empty") {
    tessera::map(comm, 1000, [](std::int64_t i) { return i; });  // warm up
    comm.barrier();
    tessera::Timer timer;
    const auto r = tessera::run_map(comm, n, [](std::int64_t i) { return i; });
    const double seconds = timer.seconds();
    if (comm.is_root())
      std::printf(
          "{\"mode\": \"empty\", \"ranks\": %d, \"tasks\": %lld, \"seconds\": %.6f, "
          "\"tasks_per_second\": %.1f, \"us_per_task\": %.4f, \"grabs_rank0\": %lld}\n",
          comm.size(), static_cast<long long>(n), seconds, n / seconds, 1e6 * seconds / n,
          static_cast<long long>(r.stats.grabs_here));
  } else if (mode == "uneven") {
    // The cost of one unit, measured alone on each rank, gives the ideal time.
    tessera::Timer unit_timer;
    volatile double sink = spin(200, work);
    const double unit_seconds = unit_timer.seconds() / 200;
    const double unit = comm.allreduce(unit_seconds, tessera::ReduceOp::max);
    std::int64_t total_units = 0;
    for (std::int64_t i = 0; i < n; ++i) total_units += cost_of(i);
    comm.barrier();
    tessera::Timer timer;
    const auto r =
        tessera::run_map(comm, n, [&](std::int64_t i) { return spin(cost_of(i), work); });
    const double seconds = timer.seconds();
    sink = sink + r.results[0];
    const double ideal = unit * static_cast<double>(total_units) / comm.size();
    if (comm.is_root())
      std::printf(
          "{\"mode\": \"uneven\", \"ranks\": %d, \"tasks\": %lld, \"seconds\": %.4f, "
          "\"ideal_seconds\": %.4f, \"efficiency\": %.3f}\n",
          comm.size(), static_cast<long long>(n), seconds, ideal, ideal / seconds);
  } else {
    if (comm.is_root()) std::fprintf(stderr, "error: mode is 'empty' or 'uneven'\n");
    return 2;
  }
  return 0;
}
