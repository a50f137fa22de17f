#pragma once
// What every population-based loop of evo shares: evaluating rows across the ranks, the
// run's book-keeping (logbook, best so far, stopping rules), checkpoints, and one driver
// that runs a generation step with checkpoints and as islands. Internal.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tessera/comm/comm.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/evo/run.hpp>

#include "../core/stop_signals.hpp"

namespace tessera::evo::impl {

using nlohmann::json;

// out[2p], out[2p + 1] = rng.normal_pair(first + p) for p < count, the same bits: Philox
// and the central region of Φ⁻¹ in vector loops on the host, then the tails (|u − ½| >
// 0.425, about 15% of the draws) listed and computed in a vector loop of their own.
void normal_pairs(const CounterRng& rng, std::uint64_t first, std::size_t count, double* out);

/// Whether fitness a ranks before b (sign·a < sign·b: sign −1 where larger is better),
/// NaN after every number.
inline bool better(double a, double b, double sign) {
  return !std::isnan(a) && (std::isnan(b) || sign * a < sign * b);
}
/// Whether a ranks no later than b (a trial that is not worse replaces its target).
inline bool no_worse(double a, double b, double sign) { return !better(b, a, sign); }

/// Indices of f from the best to the worst: the smallest sign·f first, the earlier index
/// first among equal values (as a stable sort; −0 equals +0), NaN last (as +∞). A radix
/// sort of the values' bits: no data-dependent branches.
std::vector<std::size_t> rank_order(const std::vector<double>& f, double sign);

/// Fitness of `count` row-major rows of n genes: each rank evaluates a contiguous slice on
/// its device, the values are gathered in row order on every rank (collective).
std::vector<double> evaluate_rows(const Comm& comm, const double* rows, std::size_t count,
                                  std::size_t n, const Evaluator& evaluate);

/// The best distinct rows seen, best first (the earlier first on ties), at most `size`.
struct Elite {
  std::vector<double> fitness;
  std::vector<std::vector<double>> rows;
  /// Offers a row; keeps the list sorted, distinct and within `size`.
  void offer(double f, const double* row, std::size_t n, std::size_t size, double sign);
};

/// One generation's statistics (as DEAP's Statistics) and its best rows.
struct GenerationStats {
  std::int64_t nevals = 0;
  double count = 0, mean = 0, m2 = 0, min = 0, max = 0;
  Elite top;  ///< the generation's best distinct rows
};
GenerationStats generation_stats(std::int64_t nevals, const std::vector<double>& f,
                                 const double* rows, std::size_t n, bool minimize, std::size_t top);
/// a followed by b (Chan's merge of the moments; a's rows first on ties).
GenerationStats merge(const GenerationStats& a, const GenerationStats& b, bool minimize,
                      std::size_t top);

/// The logbook, the best row so far (the first best on ties) and the stopping rules.
class Tracker {
 public:
  /// Continues from the result's best so far (an IPOP restart keeps the earlier best);
  /// keeps a hall of fame of `hall_of_fame` individuals.
  Tracker(EvolutionResult& result, bool minimize, int hall_of_fame = 1)
      : r_(result),
        minimize_(minimize),
        sign_(minimize ? 1.0 : -1.0),
        size_(static_cast<std::size_t>(hall_of_fame < 1 ? 1 : hall_of_fame)),
        best_g_(result.best.empty() ? INFINITY : sign_ * result.best_fitness) {}
  /// One generation's values f of rows (n genes each) after nevals evaluations.
  void record(int gen, std::int64_t nevals, const std::vector<double>& f, const double* rows,
              std::size_t n) {
    record(gen, generation_stats(nevals, f, rows, n, minimize_, size_));
  }
  void record(int gen, const GenerationStats& s);
  /// sign · f of the best so far (smaller is better).
  double best() const { return best_g_; }
  /// "" to go on, else why to stop: "target", "evaluations", "stagnation".
  std::string stop(double target, std::int64_t max_evaluations, int stagnation) const;
  /// The result so far and the stagnation count, exactly.
  json save() const;
  void load(const json& state);

 private:
  EvolutionResult& r_;
  bool minimize_;
  double sign_;
  std::size_t size_;
  double best_g_ = INFINITY;
  int since_better_ = 0;
};

/// Writes and reads a run's checkpoint (see evo::Checkpoint); catches SIGTERM/SIGUSR1
/// while it lives when it has a path. Collective where marked.
class Checkpointer {
 public:
  /// `config` identifies the run; `budget` lists its keys that may change on resume.
  Checkpointer(const Comm& comm, const Checkpoint& options, std::string algorithm, json config);
  bool enabled() const { return !options_.path.empty(); }
  /// The saved state when resuming (the same on every rank), else null (collective).
  json load() const;
  /// After `done` generations: whether to save now (every K, or a signal on any rank;
  /// collective when enabled).
  bool due(int done);
  /// Writes the state (rank 0); after a signal, throws Interrupted on every rank
  /// (collective).
  void save(const json& state, int done);

 private:
  const Comm& comm_;
  Checkpoint options_;
  std::string algorithm_;
  json config_;
  int signal_ = 0;
  std::optional<detail::StopSignals> signals_;
};

/// A population-based algorithm as a generation step, for run_generations.
class Engine {
 public:
  virtual ~Engine() = default;
  /// Creates and evaluates generation 0 over comm; returns the evaluations made.
  virtual std::int64_t start(const Comm& comm) = 0;
  /// Generation gen >= 1; returns the evaluations made.
  virtual std::int64_t step(const Comm& comm, int gen) = 0;
  /// The population the logbook records (rows of n genes) and its fitness.
  virtual const std::vector<double>& rows() const = 0;
  virtual const std::vector<double>& fitness() const = 0;
  /// Replaces the worst individuals by evaluated immigrants (islands).
  virtual void immigrate(const std::vector<double>& rows, const std::vector<double>& fitness) = 0;
  virtual json save() const = 0;
  virtual void load(const json& state) = 0;
};

/// What the driver needs of an algorithm's parameters.
struct Control : RunOptions {
  int generations = 0;
  Islands islands;
};

template <class Params>
Control control_of(const Params& p) {
  return {static_cast<const RunOptions&>(p), p.generations, p.islands};
}

/// Islands that a population of this size can run (InvalidArgument otherwise).
void validate_islands(const Islands& islands, int population);

/// The seed of island i (island 0 keeps the run's seed).
std::uint64_t island_seed(std::uint64_t seed, int island);

/// Runs generation 0 and then steps until a stopping rule, with checkpoints, and as
/// islands when asked (collective). make(i) builds island i's engine.
EvolutionResult run_generations(const Comm& comm, const Control& control, const std::string& name,
                                const json& config,
                                const std::function<std::unique_ptr<Engine>(int)>& make);

}  // namespace tessera::evo::impl
