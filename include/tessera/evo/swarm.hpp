#pragma once
/// @file
/// @brief Particle swarm optimisation and differential evolution, with the population
/// evaluated across ranks as CMA-ES and the GAs are (identical moves on every rank from
/// the counter-based generator, only fitness values exchanged: the same result on any
/// number of ranks).
///
/// @code
/// tessera::evo::PSOParams p;
/// p.dim = 10;
/// auto r = tessera::evo::pso(comm, p,
///     tessera::evo::benchmark_evaluator(tessera::evo::Benchmark::sphere));
/// @endcode

#include <cstdint>
#include <limits>

#include <tessera/evo/cmaes.hpp>

namespace tessera::evo {

/// @brief PSO with a global-best topology.
struct PSOParams : RunOptions {
  enum class Variant {
    inertia,       ///< v ← w·v + c1·r1·(p − x) + c2·r2·(g − x)
    constriction,  ///< v ← χ·(v + φ1·r1·(p − x) + φ2·r2·(g − x)), Clerc & Kennedy 2002
  };
  int dim = 0;
  int particles = 40;
  int generations = 1000;
  Variant variant = Variant::constriction;
  double inertia = 0.7298, c1 = 1.49618, c2 = 1.49618;  ///< inertia variant
  double phi1 = 2.05, phi2 = 2.05;                      ///< constriction variant
  /// Positions start uniform in [lo, hi] and stay there; speeds are clamped to
  /// vmax_fraction · (hi − lo).
  double lo = -5.12, hi = 5.12;
  double vmax_fraction = 0.2;
  Islands islands;
  /// @throws InvalidArgument naming the bad parameter.
  void validate() const;
};

/// @brief Differential evolution (Storn & Price 1997), binomial crossover.
struct DEParams : RunOptions {
  enum class Variant {
    rand1bin,  ///< mutant = x_a + F·(x_b − x_c)
    best1bin,  ///< mutant = x_best + F·(x_b − x_c)
  };
  int dim = 0;
  int population = 50;
  int generations = 1000;
  Variant variant = Variant::rand1bin;
  double F = 0.5, CR = 0.9;
  double lo = -5.12, hi = 5.12;  ///< initial range; trial vectors are clipped into it
  Islands islands;
  void validate() const;
};

/// @brief Runs PSO / DE (collective over comm; every rank gets the same result). The
/// logbook holds each generation's fitness values (PSO: the particles' current positions;
/// DE: the population after selection).
EvolutionResult pso(const Comm& comm, const PSOParams& params, const Evaluator& evaluate);
EvolutionResult differential_evolution(const Comm& comm, const DEParams& params,
                                       const Evaluator& evaluate);

}  // namespace tessera::evo
