#include <tessera/evo/swarm.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>

#include "run_support.hpp"

namespace tessera::evo {

namespace {
void check_common(const RunOptions& run, int dim, int generations, double lo, double hi) {
  if (dim < 1) throw InvalidArgument(fmt::format("dim must be >= 1, got {}", dim));
  if (generations < 0)
    throw InvalidArgument(fmt::format("generations must be >= 0, got {}", generations));
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    throw InvalidArgument(fmt::format("bounds need finite lo < hi, got lo = {}, hi = {}", lo, hi));
  run.validate_run();
}
}  // namespace

void PSOParams::validate() const {
  check_common(*this, dim, generations, lo, hi);
  if (particles < 2)
    throw InvalidArgument(fmt::format("PSO needs at least 2 particles, got {}", particles));
  if (variant == Variant::constriction && !(phi1 + phi2 > 4))
    throw InvalidArgument("constriction needs phi1 + phi2 > 4");
  if (!(vmax_fraction > 0)) throw InvalidArgument("vmax_fraction must be > 0");
  impl::validate_islands(islands, particles);
}

void DEParams::validate() const {
  check_common(*this, dim, generations, lo, hi);
  if (population < 4)
    throw InvalidArgument(
        fmt::format("differential evolution needs a population of at least 4, got {}", population));
  if (!(F > 0) || !(CR >= 0 && CR <= 1))
    throw InvalidArgument(
        fmt::format("DE needs F > 0 and CR in [0, 1], got F = {}, CR = {}", F, CR));
  impl::validate_islands(islands, population);
}

namespace {

// Replaces the worst rows of x (by f) with immigrants; calls also(at, k) for each.
template <class Also>
void replace_worst(std::vector<double>& x, std::vector<double>& f, bool minimize,
                   const std::vector<double>& rows, const std::vector<double>& g, Also also) {
  const std::size_t n = x.size() / f.size();
  const double sign = minimize ? 1.0 : -1.0;
  const std::vector<std::size_t> order = impl::rank_order(f, sign);
  for (std::size_t k = 0; k < g.size(); ++k) {
    const std::size_t at = order[order.size() - 1 - k];
    std::copy(rows.begin() + static_cast<std::ptrdiff_t>(k * n),
              rows.begin() + static_cast<std::ptrdiff_t>((k + 1) * n),
              x.begin() + static_cast<std::ptrdiff_t>(at * n));
    f[at] = g[k];
    also(at, k);
  }
}

// PSO with a global-best topology as a generation step.
class SwarmEngine final : public impl::Engine {
 public:
  SwarmEngine(const PSOParams& p, const Evaluator& evaluate) : p_(p), evaluate_(evaluate) {}

  std::int64_t start(const Comm& comm) override {
    const auto n = static_cast<std::size_t>(p_.dim), m = static_cast<std::size_t>(p_.particles);
    const double vmax = p_.vmax_fraction * (p_.hi - p_.lo);
    const CounterRng init(p_.seed, 1);
    x_.resize(m * n);
    v_.resize(m * n);
    for (std::size_t i = 0; i < m * n; ++i) {
      x_[i] = p_.lo + (p_.hi - p_.lo) * init.uniform(2 * i);
      v_[i] = vmax * (2.0 * init.uniform(2 * i + 1) - 1.0);
    }
    f_ = impl::evaluate_rows(comm, x_.data(), m, n, evaluate_);
    best_x_ = x_;
    best_f_ = f_;
    return static_cast<std::int64_t>(m);
  }

  std::int64_t step(const Comm& comm, int gen) override {
    const auto n = static_cast<std::size_t>(p_.dim), m = static_cast<std::size_t>(p_.particles);
    const double sign = p_.minimize ? 1.0 : -1.0, vmax = p_.vmax_fraction * (p_.hi - p_.lo);
    const double phi = p_.phi1 + p_.phi2;
    const double chi = 2.0 / std::abs(2.0 - phi - std::sqrt(phi * phi - 4.0 * phi));
    std::size_t lead = 0;  // the swarm's best personal best (the first on ties)
    for (std::size_t i = 1; i < m; ++i)
      if (impl::better(best_f_[i], best_f_[lead], sign)) lead = i;
    const std::vector<double> g(best_x_.begin() + static_cast<std::ptrdiff_t>(lead * n),
                                best_x_.begin() + static_cast<std::ptrdiff_t>((lead + 1) * n));
    const CounterRng rng(p_.seed, 100 + static_cast<std::uint64_t>(gen));
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t k = i * n + j;
        const double r1 = rng.uniform(2 * k), r2 = rng.uniform(2 * k + 1);
        double vel;
        if (p_.variant == PSOParams::Variant::inertia)
          vel =
              p_.inertia * v_[k] + p_.c1 * r1 * (best_x_[k] - x_[k]) + p_.c2 * r2 * (g[j] - x_[k]);
        else
          vel = chi * (v_[k] + p_.phi1 * r1 * (best_x_[k] - x_[k]) + p_.phi2 * r2 * (g[j] - x_[k]));
        v_[k] = std::clamp(vel, -vmax, vmax);
        x_[k] = std::clamp(x_[k] + v_[k], p_.lo, p_.hi);
      }
    f_ = impl::evaluate_rows(comm, x_.data(), m, n, evaluate_);
    for (std::size_t i = 0; i < m; ++i)
      if (impl::better(f_[i], best_f_[i], sign)) {
        best_f_[i] = f_[i];
        std::copy(x_.begin() + static_cast<std::ptrdiff_t>(i * n),
                  x_.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
                  best_x_.begin() + static_cast<std::ptrdiff_t>(i * n));
      }
    return static_cast<std::int64_t>(m);
  }

  const std::vector<double>& rows() const override { return x_; }
  const std::vector<double>& fitness() const override { return f_; }
  // An immigrant replaces a worst particle: position, personal best, and no speed.
  void immigrate(const std::vector<double>& rows, const std::vector<double>& g) override {
    const auto n = static_cast<std::size_t>(p_.dim);
    replace_worst(x_, f_, p_.minimize, rows, g, [&](std::size_t at, std::size_t k) {
      std::copy(rows.begin() + static_cast<std::ptrdiff_t>(k * n),
                rows.begin() + static_cast<std::ptrdiff_t>((k + 1) * n),
                best_x_.begin() + static_cast<std::ptrdiff_t>(at * n));
      best_f_[at] = g[k];
      std::fill_n(v_.begin() + static_cast<std::ptrdiff_t>(at * n), n, 0.0);
    });
  }
  impl::json save() const override {
    return {{"x", x_}, {"v", v_}, {"f", f_}, {"best_x", best_x_}, {"best_f", best_f_}};
  }
  void load(const impl::json& s) override {
    s.at("x").get_to(x_);
    s.at("v").get_to(v_);
    s.at("f").get_to(f_);
    s.at("best_x").get_to(best_x_);
    s.at("best_f").get_to(best_f_);
  }

 private:
  PSOParams p_;
  Evaluator evaluate_;
  std::vector<double> x_, v_, f_, best_x_, best_f_;
};

// Differential evolution as a generation step.
class DifferentialEngine final : public impl::Engine {
 public:
  DifferentialEngine(const DEParams& p, const Evaluator& evaluate) : p_(p), evaluate_(evaluate) {}

  std::int64_t start(const Comm& comm) override {
    const auto n = static_cast<std::size_t>(p_.dim), m = static_cast<std::size_t>(p_.population);
    const CounterRng init(p_.seed, 1);
    x_.resize(m * n);
    for (std::size_t i = 0; i < m * n; ++i) x_[i] = p_.lo + (p_.hi - p_.lo) * init.uniform(i);
    f_ = impl::evaluate_rows(comm, x_.data(), m, n, evaluate_);
    return static_cast<std::int64_t>(m);
  }

  std::int64_t step(const Comm& comm, int gen) override {
    const auto n = static_cast<std::size_t>(p_.dim), m = static_cast<std::size_t>(p_.population);
    const double sign = p_.minimize ? 1.0 : -1.0;
    std::size_t best = 0;
    for (std::size_t i = 1; i < m; ++i)
      if (impl::better(f_[i], f_[best], sign)) best = i;
    const CounterRng rng(p_.seed, 100 + static_cast<std::uint64_t>(gen));
    std::uint64_t next = 0;
    std::vector<double> trial(m * n);
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
      const std::size_t base = p_.variant == DEParams::Variant::best1bin ? best : pick[0];
      const auto forced = static_cast<std::size_t>(rng.integer(next++, n));  // jrand
      for (std::size_t j = 0; j < n; ++j) {
        const bool cross = j == forced || rng.uniform(next++) < p_.CR;
        const double mutant = x_[base * n + j] + p_.F * (x_[pick[1] * n + j] - x_[pick[2] * n + j]);
        trial[i * n + j] = cross ? std::clamp(mutant, p_.lo, p_.hi) : x_[i * n + j];
      }
    }
    const std::vector<double> ft = impl::evaluate_rows(comm, trial.data(), m, n, evaluate_);
    for (std::size_t i = 0; i < m; ++i)
      if (impl::no_worse(ft[i], f_[i], sign)) {
        f_[i] = ft[i];
        std::copy(trial.begin() + static_cast<std::ptrdiff_t>(i * n),
                  trial.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
                  x_.begin() + static_cast<std::ptrdiff_t>(i * n));
      }
    return static_cast<std::int64_t>(m);
  }

  const std::vector<double>& rows() const override { return x_; }
  const std::vector<double>& fitness() const override { return f_; }
  void immigrate(const std::vector<double>& rows, const std::vector<double>& g) override {
    replace_worst(x_, f_, p_.minimize, rows, g, [](std::size_t, std::size_t) {});
  }
  impl::json save() const override { return {{"x", x_}, {"f", f_}}; }
  void load(const impl::json& s) override {
    s.at("x").get_to(x_);
    s.at("f").get_to(f_);
  }

 private:
  DEParams p_;
  Evaluator evaluate_;
  std::vector<double> x_, f_;
};

}  // namespace

EvolutionResult pso(const Comm& comm, const PSOParams& p, const Evaluator& evaluate) {
  p.validate();
  const impl::json config = {{"dim", p.dim},
                             {"particles", p.particles},
                             {"variant", static_cast<int>(p.variant)},
                             {"inertia", p.inertia},
                             {"c1", p.c1},
                             {"c2", p.c2},
                             {"phi1", p.phi1},
                             {"phi2", p.phi2},
                             {"lo", p.lo},
                             {"hi", p.hi},
                             {"vmax_fraction", p.vmax_fraction},
                             {"minimize", p.minimize},
                             {"seed", p.seed}};
  return impl::run_generations(comm, impl::control_of(p), "pso", config, [&](int island) {
    PSOParams q = p;
    q.seed = impl::island_seed(p.seed, island);
    return std::make_unique<SwarmEngine>(q, evaluate);
  });
}

EvolutionResult differential_evolution(const Comm& comm, const DEParams& p,
                                       const Evaluator& evaluate) {
  p.validate();
  const impl::json config = {{"dim", p.dim},
                             {"population", p.population},
                             {"variant", static_cast<int>(p.variant)},
                             {"F", p.F},
                             {"CR", p.CR},
                             {"lo", p.lo},
                             {"hi", p.hi},
                             {"minimize", p.minimize},
                             {"seed", p.seed}};
  return impl::run_generations(comm, impl::control_of(p), "de", config, [&](int island) {
    DEParams q = p;
    q.seed = impl::island_seed(p.seed, island);
    return std::make_unique<DifferentialEngine>(q, evaluate);
  });
}

}  // namespace tessera::evo
