#pragma once
/// @file
/// @brief CMA-ES (Hansen's tutorial, as DEAP's `cma.Strategy`) with the population
/// evaluated across ranks: every rank holds the same strategy state and generates the
/// same population from the counter-based generator; each evaluates its slice; only the
/// λ fitness values are exchanged; every rank updates identically. Results are bitwise
/// the same on any number of ranks.
///
/// @code
/// tessera::evo::CMAESParams p;
/// p.dim = 10;
/// p.centroid = {5.0};   // one value: every coordinate
/// p.sigma = 5.0;
/// p.lambda = 200;
/// p.generations = 250;
/// auto r = tessera::evo::cmaes(comm, p, tessera::evo::benchmark_evaluator(
///                                           tessera::evo::Benchmark::rastrigin));
/// r.best, r.best_fitness, r.logbook.min …
/// @endcode

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <tessera/comm/comm.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/evo/run.hpp>

namespace tessera::evo {

/// @brief Parameters of a CMA-ES run (DEAP's defaults where it has them).
struct CMAESParams : RunOptions {
  int dim = 0;
  /// Start mean: dim values, or one for every coordinate.
  std::vector<double> centroid{0.0};
  double sigma = 1.0;
  /// Population size; 0: 4 + ⌊3 ln dim⌋. Parents: mu (0: λ / 2).
  int lambda = 0;
  int mu = 0;
  int generations = 250;
  /// A run also stops when this generation's values and the last 10 + 30·dim/λ best
  /// values all lie within tolfun (Hansen's TolFun).
  double tolfun = 1e-12;
  /// It also stops when the step size has collapsed: σ·√C_ii and σ·|p_c,i| below
  /// tolx·sigma in every coordinate (Hansen's TolX, 1e-12·σ⁽⁰⁾; 0: off). Hansen's other
  /// criteria are always on: "condition" (cond(C) > 1e14), "noeffectaxis" (adding 0.1
  /// standard deviation along a principal axis of C, the generation's axis in turn, does
  /// not change the mean) and "noeffectcoord" (adding 0.2 standard deviations to some
  /// coordinate does not change it).
  double tolx = 1e-12;
  /// Generations between eigendecompositions of C (B and D; LAPACK's dsyevd on the host);
  /// 0: Hansen's max(1, ⌊1 / (10·dim·(c1 + cμ))⌋), which is 1 unless dim is large and λ
  /// small (see eigen_interval()). Between them, sampling and the step-size path use the
  /// last decomposition, as in his lazy update.
  int eigen_interval = 0;
  /// IPOP-CMA-ES: after a run stops for any reason but the target or the evaluation
  /// budget, restart with twice the population, from a uniform point of the box (when
  /// bounds are given), up to this many times. max_evaluations and target span all runs;
  /// generations and stagnation count per run.
  int restarts = 0;
  /// Box bounds for every gene (lo < hi), or none (±inf): an individual outside is
  /// evaluated at its projection into the box, plus its squared distance to it
  /// (minimising; minus, maximising), so the search is pushed back inside.
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  /// @throws InvalidArgument naming the bad parameter.
  void validate() const;
};

/// @brief The generations between eigendecompositions a run of these parameters uses
/// (`eigen_interval`, or Hansen's rule when it is 0; with IPOP, each restart's λ gives its own).
/// @throws InvalidArgument for parameters that validate() refuses.
int eigen_interval(const CMAESParams& params);

/// @brief Runs CMA-ES (collective over comm; every rank gets the same result).
EvolutionResult cmaes(const Comm& comm, const CMAESParams& params, const Evaluator& evaluate);

}  // namespace tessera::evo
