#pragma once
/// @file
/// @brief What every evolutionary algorithm of tessera shares: its result (logbook, best
/// individual), checkpoints for resuming a run that Slurm stopped, and the island model.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tessera::evo {

/// @brief Per generation, as DEAP's logbook with a Statistics of avg/std/min/max.
struct Logbook {
  std::vector<int> gen;
  std::vector<std::int64_t> nevals;
  std::vector<double> avg, std, min, max;
};

/// @brief What a run found.
struct EvolutionResult {
  Logbook logbook;
  /// the best individual evaluated (projected into the box); empty when every value was
  /// NaN, best_fitness NaN then
  std::vector<double> best;
  double best_fitness = std::numeric_limits<double>::quiet_NaN();
  /// The best distinct individuals of the populations the logbook records (CMA-ES, PSO,
  /// eaSimple: every individual evaluated; (mu+lambda), DE: those selected), best first,
  /// at most the parameters' `hall_of_fame` of them (DEAP's HallOfFame; the first is
  /// `best`).
  std::vector<std::vector<double>> hall_of_fame;
  std::vector<double> hall_of_fame_fitness;
  std::int64_t evaluations = 0;
  int generations = 0;
  /// Why the last run stopped: "generations", "target", "evaluations", "stagnation",
  /// "condition", "tolfun", "tolx", "noeffectaxis", "noeffectcoord" (CMA-ES, Hansen's
  /// criteria: see CMAESParams), "overflow" (CMA-ES: its covariance or step size left
  /// double range).
  std::string stop;
  int restarts = 0;  ///< IPOP restarts made
};

/// @brief Saving a run's state so that it can continue after an interruption.
///
/// With a path, SIGTERM and SIGUSR1 (Slurm's time limit and its `--signal` warning) are
/// caught during the run: the generation under way finishes, its state is written to the
/// path, and every rank throws `tessera::Interrupted`. A run with `resume` continues from
/// the file and ends bitwise identical to a run that was never interrupted, on any number
/// of ranks. The file records the configuration; resuming with another one is refused
/// (only the budget, `generations` and `max_evaluations`, may grow to extend a run).
struct Checkpoint {
  std::string path;  ///< "" : no checkpoints, signals keep their usual effect
  int every = 0;     ///< also write after every this many generations (0: on signals only)
  bool resume = false;
};

/// @brief What the parameters of every algorithm share: the sense of the search, the
/// stopping rules besides the generation count, the seed, the hall of fame, checkpoints.
struct RunOptions {
  bool minimize = true;
  /// Stop once the best fitness reaches this (minimising: ≤; maximising: ≥). NaN: off.
  double target = std::numeric_limits<double>::quiet_NaN();
  /// Stop after this many evaluations (0: no limit).
  std::int64_t max_evaluations = 0;
  /// Stop after this many generations without a better best (0: off).
  int stagnation = 0;
  std::uint64_t seed = 0;
  int hall_of_fame = 1;  ///< size of the result's hall of fame
  Checkpoint checkpoint;
  /// @throws InvalidArgument naming the bad setting (negative budgets, a hall of fame
  /// below 1, a negative checkpoint interval, resume without a checkpoint path).
  void validate_run() const;
};

/// @brief The island model: `count` populations evolving side by side, each on its own
/// group of ranks (or several on one rank when there are fewer ranks than islands), the
/// best `migrants` of each replacing the worst of the next island in a ring every
/// `interval` generations (DEAP's migRing). The logbook combines every island in island
/// order; results do not depend on the number of ranks.
struct Islands {
  int count = 1;
  int interval = 10;
  int migrants = 2;
};

}  // namespace tessera::evo
