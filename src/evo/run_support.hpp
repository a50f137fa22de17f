#pragma once
// What every population-based loop of evo shares: evaluating rows across the ranks, and
// the run's book-keeping (logbook, best so far, stopping rules). Internal.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <tessera/evo/cmaes.hpp>

namespace tessera::evo::impl {

/// Fitness of `count` row-major rows of n genes: each rank evaluates a contiguous slice on
/// its device, the values are gathered in row order on every rank (collective).
std::vector<double> evaluate_rows(const Comm& comm, const double* rows, std::size_t count,
                                  std::size_t n, const Evaluator& evaluate);

/// The logbook, the best row so far (the first best on ties) and the stopping rules.
class Tracker {
 public:
  /// Continues from the result's best so far (an IPOP restart keeps the earlier best).
  Tracker(EvolutionResult& result, bool minimize)
      : r_(result),
        sign_(minimize ? 1.0 : -1.0),
        best_g_(result.best.empty() ? INFINITY : sign_ * result.best_fitness) {}
  /// One generation's values f of rows (n genes each) after nevals evaluations.
  void record(int gen, std::int64_t nevals, const std::vector<double>& f, const double* rows,
              std::size_t n);
  /// sign · f of the best so far (smaller is better).
  double best() const { return best_g_; }
  /// "" to go on, else why to stop: "target", "evaluations", "stagnation".
  std::string stop(double target, std::int64_t max_evaluations, int stagnation) const;

 private:
  EvolutionResult& r_;
  double sign_;
  double best_g_ = INFINITY;
  int since_better_ = 0;
};

}  // namespace tessera::evo::impl
