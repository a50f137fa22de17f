#pragma once
/// @file
/// @brief Genetic algorithms with DEAP's operators and loops (`eaSimple`,
/// `eaMuPlusLambda`, `eaMuCommaLambda`), the offspring evaluated across ranks: every rank
/// applies the same variation (the counter-based generator drives every random choice),
/// evaluates its slice of the individuals that need it, and only fitness values are
/// exchanged, so results are bitwise the same on any number of ranks.
///
/// @code
/// tessera::evo::GAParams p;
/// p.dim = 100;
/// p.binary = true;                       // OneMax
/// p.minimize = false;
/// p.crossover = tessera::evo::Crossover::two_point;
/// p.mutation = tessera::evo::Mutation::bitflip;
/// auto r = tessera::evo::genetic(comm, p,
///     tessera::evo::benchmark_evaluator(tessera::evo::Benchmark::onemax));
/// @endcode

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <tessera/core/rng.hpp>
#include <tessera/evo/cmaes.hpp>

namespace tessera::evo {

enum class Selection { tournament, roulette, sus };
enum class Crossover { none, one_point, two_point, uniform, blend, sbx };
enum class Mutation { none, gaussian, polynomial, bitflip };
enum class Scheme { simple, mu_plus_lambda, mu_comma_lambda };

/// @brief Parameters of a GA run (DEAP's examples' values as defaults).
struct GAParams : RunOptions {
  int dim = 0;
  int population = 100;  ///< μ
  int offspring = 0;     ///< λ of (μ+λ) and (μ,λ); 0: the population size
  int generations = 100;
  Scheme scheme = Scheme::simple;
  Selection selection = Selection::tournament;
  int tournament_size = 3;
  Crossover crossover = Crossover::two_point;
  double cxpb = 0.5;
  double cx_indpb = 0.5;     ///< uniform crossover: per-gene swap probability
  double blend_alpha = 0.5;  ///< blend crossover
  double sbx_eta = 20.0;     ///< simulated binary crossover's crowding
  Mutation mutation = Mutation::gaussian;
  double mutpb = 0.2;
  double indpb = 0.05;           ///< per-gene mutation probability
  double mutation_sigma = 1.0;   ///< Gaussian mutation
  double polynomial_eta = 20.0;  ///< polynomial (bounded) mutation
  /// Initial genes uniform in [lo, hi]; SBX/polynomial keep genes inside; binary: 0/1.
  double lo = -5.12, hi = 5.12;
  bool binary = false;
  /// Best individuals of the parents that replace the worst offspring (eaSimple).
  int elitism = 0;
  Islands islands;
  /// @throws InvalidArgument naming the bad parameter.
  void validate() const;
};

/// @brief Runs the GA (collective over comm; every rank gets the same result). The
/// logbook's generation 0 is the initial population; nevals counts the individuals
/// evaluated in a generation (those that crossover or mutation changed).
EvolutionResult genetic(const Comm& comm, const GAParams& params, const Evaluator& evaluate);

/// @brief The operators, on host rows, exposed for tests and custom loops. `next` is the
/// running counter of the counter-based generator `rng` (each call advances it).
namespace ops {
/// k picks by tournaments of `size` uniform aspirants; the best wins (the first on ties).
std::vector<std::size_t> tournament(const std::vector<double>& fitness, bool minimize,
                                    std::size_t k, int size, const CounterRng& rng,
                                    std::uint64_t& next);
/// Fitness-proportional picks (maximising positive fitness), by roulette or stochastic
/// universal sampling (DEAP's selRoulette / selStochasticUniversalSampling).
std::vector<std::size_t> roulette(const std::vector<double>& fitness, std::size_t k,
                                  const CounterRng& rng, std::uint64_t& next);
std::vector<std::size_t> sus(const std::vector<double>& fitness, std::size_t k,
                             const CounterRng& rng, std::uint64_t& next);
/// Crossovers of two rows a, b (length n) in place, as DEAP's cxOnePoint, cxTwoPoint,
/// cxUniform, cxBlend, cxSimulatedBinaryBounded.
void crossover(const GAParams& p, double* a, double* b, std::size_t n, const CounterRng& rng,
               std::uint64_t& next);
/// Mutation of a row in place (mutGaussian, mutPolynomialBounded, mutFlipBit).
void mutate(const GAParams& p, double* x, std::size_t n, const CounterRng& rng,
            std::uint64_t& next);
}  // namespace ops

}  // namespace tessera::evo
