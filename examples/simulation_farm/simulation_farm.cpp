// Farms a host function that stands for an expensive simulation over every rank: a
// parameter sweep of a damped, driven pendulum, one RK4 integration per task, costs
// varying 100x between tasks. Finished results go to a journal in the output folder, so
// a run stopped by Slurm at its time limit (SIGTERM) continues where it stopped:
//
//   ./example_simulation_farm --tasks 400 --out sweep
//   mpirun -np 4 ./example_simulation_farm --tasks 400 --out sweep
//   mpirun -np 4 ./example_simulation_farm --tasks 400 --out sweep --resume   # after a kill
//
// Writes sweep/results.csv (task,drive,amplitude,energy,steps), the same bytes on any
// rank count and whether or not the run was interrupted and resumed. --sleep-ms adds
// idle time to each task (an external code's start-up, a file system wait).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <tessera/core/runtime.hpp>
#include <tessera/io/results.hpp>
#include <tessera/sched/farm.hpp>

struct Outcome {
  double drive;      // driving amplitude of this task
  double amplitude;  // largest |angle| over the last quarter of the run
  double energy;     // energy at the end
  std::int64_t steps;
};

// theta'' = -q theta' - sin(theta) + drive cos(omega t), integrated with classical RK4.
Outcome simulate(std::int64_t task, std::int64_t tasks) {
  const double drive = 0.5 + 1.5 * static_cast<double>(task) / static_cast<double>(tasks);
  const double q = 0.5, omega = 2.0 / 3.0, dt = 0.01;
  const std::int64_t steps = 2000 * (1 + (task * 37) % 100);  // 100x cost spread
  double theta = 0.2, v = 0.0, t = 0.0, amplitude = 0.0;
  const auto accel = [&](double th, double vel, double time) {
    return -q * vel - std::sin(th) + drive * std::cos(omega * time);
  };
  for (std::int64_t s = 0; s < steps; ++s) {
    const double k1t = v, k1v = accel(theta, v, t);
    const double k2t = v + 0.5 * dt * k1v, k2v = accel(theta + 0.5 * dt * k1t, k2t, t + 0.5 * dt);
    const double k3t = v + 0.5 * dt * k2v, k3v = accel(theta + 0.5 * dt * k2t, k3t, t + 0.5 * dt);
    const double k4t = v + dt * k3v, k4v = accel(theta + dt * k3t, k4t, t + dt);
    theta += dt / 6.0 * (k1t + 2 * k2t + 2 * k3t + k4t);
    v += dt / 6.0 * (k1v + 2 * k2v + 2 * k3v + k4v);
    t += dt;
    if (s >= 3 * steps / 4) amplitude = std::max(amplitude, std::abs(theta));
  }
  return {drive, amplitude, 0.5 * v * v + 1.0 - std::cos(theta), steps};
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  std::int64_t tasks = 400;
  double sleep_ms = 0.0;
  std::string out = "simulation-farm-out";
  bool resume = false, progress = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--tasks" && has_value) {
      tasks = std::atoll(argv[++i]);
    } else if (arg == "--sleep-ms" && has_value) {
      sleep_ms = std::atof(argv[++i]);
    } else if (arg == "--out" && has_value) {
      out = argv[++i];
    } else if (arg == "--resume") {
      resume = true;
    } else if (arg == "--progress") {
      progress = true;
    } else {
      if (comm.is_root())
        std::fprintf(stderr,
                     "error: unknown argument '%s'; usage: example_simulation_farm [--tasks N] "
                     "[--sleep-ms MS] [--out DIR] [--resume] [--progress]\n",
                     arg.c_str());
      return 2;
    }
  }
  try {
    tessera::FarmOptions options;
    options.journal = out + "/journal";
    options.resume = resume;
    options.job_key = "simulation_farm v1 tasks=" + std::to_string(tasks);
    options.progress = progress;
    options.label = "simulations";
    const auto result = tessera::run_map(
        comm, tasks,
        [&](std::int64_t task) {
          if (sleep_ms > 0)
            std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(sleep_ms));
          return simulate(task, tasks);
        },
        options);
    if (comm.is_root()) {
      tessera::io::CsvWriter csv({"task", "drive", "amplitude", "energy", "steps"});
      for (std::int64_t i = 0; i < tasks; ++i) {
        const Outcome& o = result.results[static_cast<std::size_t>(i)];
        csv.row(
            {static_cast<double>(i), o.drive, o.amplitude, o.energy, static_cast<double>(o.steps)});
      }
      csv.write(out + "/results.csv");
      std::printf("%lld simulations (%lld resumed from the journal) on %d ranks in %.2f s -> %s\n",
                  static_cast<long long>(tasks), static_cast<long long>(result.stats.resumed),
                  comm.size(), result.stats.wall_seconds, (out + "/results.csv").c_str());
    }
  } catch (const tessera::Error& e) {
    if (comm.is_root()) std::fprintf(stderr, "error: %s\n", e.what());
    return tessera::exit_code(e.kind());
  }
  return 0;
}
