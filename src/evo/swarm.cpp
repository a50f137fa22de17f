#include <tessera/evo/swarm.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>

#include "run_support.hpp"

namespace tessera::evo {

namespace {
void check_common(int dim, int generations, double lo, double hi, std::int64_t max_evaluations,
                  int stagnation) {
  if (dim < 1) throw InvalidArgument(fmt::format("dim must be >= 1, got {}", dim));
  if (generations < 0)
    throw InvalidArgument(fmt::format("generations must be >= 0, got {}", generations));
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    throw InvalidArgument(fmt::format("bounds need finite lo < hi, got lo = {}, hi = {}", lo, hi));
  if (max_evaluations < 0 || stagnation < 0)
    throw InvalidArgument("max_evaluations and stagnation must be >= 0");
}
}  // namespace

void PSOParams::validate() const {
  check_common(dim, generations, lo, hi, max_evaluations, stagnation);
  if (particles < 2)
    throw InvalidArgument(fmt::format("PSO needs at least 2 particles, got {}", particles));
  if (variant == Variant::constriction && !(phi1 + phi2 > 4))
    throw InvalidArgument("constriction needs phi1 + phi2 > 4");
  if (!(vmax_fraction > 0)) throw InvalidArgument("vmax_fraction must be > 0");
}

void DEParams::validate() const {
  check_common(dim, generations, lo, hi, max_evaluations, stagnation);
  if (population < 4)
    throw InvalidArgument(
        fmt::format("differential evolution needs a population of at least 4, got {}", population));
  if (!(F > 0) || !(CR >= 0 && CR <= 1))
    throw InvalidArgument(
        fmt::format("DE needs F > 0 and CR in [0, 1], got F = {}, CR = {}", F, CR));
}

EvolutionResult pso(const Comm& comm, const PSOParams& p, const Evaluator& evaluate) {
  p.validate();
  const auto n = static_cast<std::size_t>(p.dim), m = static_cast<std::size_t>(p.particles);
  const double sign = p.minimize ? 1.0 : -1.0, vmax = p.vmax_fraction * (p.hi - p.lo);
  const CounterRng init(p.seed, 1);
  std::vector<double> x(m * n), v(m * n), best_x(m * n), best_f(m), g(n);
  for (std::size_t i = 0; i < m * n; ++i) {
    x[i] = p.lo + (p.hi - p.lo) * init.uniform(2 * i);
    v[i] = vmax * (2.0 * init.uniform(2 * i + 1) - 1.0);
  }
  EvolutionResult r;
  r.stop = "generations";
  impl::Tracker track(r, p.minimize);
  std::vector<double> f = impl::evaluate_rows(comm, x.data(), m, n, evaluate);
  track.record(0, static_cast<std::int64_t>(m), f, x.data(), n);
  best_x = x;
  best_f = f;
  const double phi = p.phi1 + p.phi2;
  const double chi = 2.0 / std::abs(2.0 - phi - std::sqrt(phi * phi - 4.0 * phi));
  for (int gen = 1; gen <= p.generations; ++gen) {
    if (const std::string why = track.stop(p.target, p.max_evaluations, p.stagnation);
        !why.empty()) {
      r.stop = why;
      break;
    }
    std::size_t lead = 0;  // the swarm's best personal best (the first on ties)
    for (std::size_t i = 1; i < m; ++i)
      if (sign * best_f[i] < sign * best_f[lead]) lead = i;
    std::copy(best_x.begin() + static_cast<std::ptrdiff_t>(lead * n),
              best_x.begin() + static_cast<std::ptrdiff_t>((lead + 1) * n), g.begin());
    const CounterRng rng(p.seed, 100 + static_cast<std::uint64_t>(gen));
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t k = i * n + j;
        const double r1 = rng.uniform(2 * k), r2 = rng.uniform(2 * k + 1);
        double vel;
        if (p.variant == PSOParams::Variant::inertia)
          vel = p.inertia * v[k] + p.c1 * r1 * (best_x[k] - x[k]) + p.c2 * r2 * (g[j] - x[k]);
        else
          vel = chi * (v[k] + p.phi1 * r1 * (best_x[k] - x[k]) + p.phi2 * r2 * (g[j] - x[k]));
        v[k] = std::clamp(vel, -vmax, vmax);
        x[k] = std::clamp(x[k] + v[k], p.lo, p.hi);
      }
    f = impl::evaluate_rows(comm, x.data(), m, n, evaluate);
    for (std::size_t i = 0; i < m; ++i)
      if (sign * f[i] < sign * best_f[i]) {
        best_f[i] = f[i];
        std::copy(x.begin() + static_cast<std::ptrdiff_t>(i * n),
                  x.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
                  best_x.begin() + static_cast<std::ptrdiff_t>(i * n));
      }
    track.record(gen, static_cast<std::int64_t>(m), f, x.data(), n);
  }
  if (r.stop == "generations" && track.stop(p.target, 0, 0) == "target") r.stop = "target";
  return r;
}

EvolutionResult differential_evolution(const Comm& comm, const DEParams& p,
                                       const Evaluator& evaluate) {
  p.validate();
  const auto n = static_cast<std::size_t>(p.dim), m = static_cast<std::size_t>(p.population);
  const double sign = p.minimize ? 1.0 : -1.0;
  const CounterRng init(p.seed, 1);
  std::vector<double> x(m * n), trial(m * n);
  for (std::size_t i = 0; i < m * n; ++i) x[i] = p.lo + (p.hi - p.lo) * init.uniform(i);
  EvolutionResult r;
  r.stop = "generations";
  impl::Tracker track(r, p.minimize);
  std::vector<double> f = impl::evaluate_rows(comm, x.data(), m, n, evaluate);
  track.record(0, static_cast<std::int64_t>(m), f, x.data(), n);
  for (int gen = 1; gen <= p.generations; ++gen) {
    if (const std::string why = track.stop(p.target, p.max_evaluations, p.stagnation);
        !why.empty()) {
      r.stop = why;
      break;
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i < m; ++i)
      if (sign * f[i] < sign * f[best]) best = i;
    const CounterRng rng(p.seed, 100 + static_cast<std::uint64_t>(gen));
    std::uint64_t next = 0;
    for (std::size_t i = 0; i < m; ++i) {
      // a, b, c distinct and not i (a unused by best/1/bin)
      std::size_t pick[3];
      for (int t = 0; t < 3; ++t) {
        std::size_t c;
        do {
          c = static_cast<std::size_t>(rng.integer(next++, m));
        } while (c == i || (t > 0 && c == pick[0]) || (t > 1 && c == pick[1]));
        pick[t] = c;
      }
      const std::size_t base = p.variant == DEParams::Variant::best1bin ? best : pick[0];
      const auto forced = static_cast<std::size_t>(rng.integer(next++, n));  // jrand
      for (std::size_t j = 0; j < n; ++j) {
        const bool cross = j == forced || rng.uniform(next++) < p.CR;
        const double mutant = x[base * n + j] + p.F * (x[pick[1] * n + j] - x[pick[2] * n + j]);
        trial[i * n + j] = cross ? std::clamp(mutant, p.lo, p.hi) : x[i * n + j];
      }
    }
    const std::vector<double> ft = impl::evaluate_rows(comm, trial.data(), m, n, evaluate);
    for (std::size_t i = 0; i < m; ++i)
      if (sign * ft[i] <= sign * f[i]) {
        f[i] = ft[i];
        std::copy(trial.begin() + static_cast<std::ptrdiff_t>(i * n),
                  trial.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
                  x.begin() + static_cast<std::ptrdiff_t>(i * n));
      }
    track.record(gen, static_cast<std::int64_t>(m), f, x.data(), n);
  }
  if (r.stop == "generations" && track.stop(p.target, 0, 0) == "target") r.stop = "target";
  return r;
}

}  // namespace tessera::evo
