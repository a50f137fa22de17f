#include <tessera/evo/ga.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <tessera/comm/agree.hpp>
#include <tessera/core/error.hpp>

#include "run_support.hpp"

namespace tessera::evo {

void GAParams::validate() const {
  if (dim < 1) throw InvalidArgument(fmt::format("dim must be >= 1, got {}", dim));
  if (population < 2)
    throw InvalidArgument(fmt::format("the population must be at least 2, got {}", population));
  if (offspring < 0)
    throw InvalidArgument(fmt::format("offspring must be >= 0, got {}", offspring));
  if (generations < 0)
    throw InvalidArgument(fmt::format("generations must be >= 0, got {}", generations));
  if (tournament_size < 1)
    throw InvalidArgument(fmt::format("tournament size must be >= 1, got {}", tournament_size));
  for (const double pr : {cxpb, mutpb, indpb, cx_indpb})
    if (!(pr >= 0 && pr <= 1))
      throw InvalidArgument(fmt::format("probabilities must be in [0, 1], got {}", pr));
  if (scheme == Scheme::mu_plus_lambda && cxpb + mutpb > 1)
    throw InvalidArgument("(mu + lambda): cxpb + mutpb must be <= 1");
  if (!(lo < hi))
    throw InvalidArgument(fmt::format("bounds need lo < hi, got lo = {}, hi = {}", lo, hi));
  if (!(mutation_sigma > 0) || !(sbx_eta > 0) || !(polynomial_eta > 0) || !(blend_alpha >= 0))
    throw InvalidArgument("mutation sigma and the etas must be > 0, blend alpha >= 0");
  if (elitism < 0 || elitism > population)
    throw InvalidArgument(
        fmt::format("elitism must be between 0 and the population, got {}", elitism));
  if (scheme == Scheme::mu_comma_lambda && (offspring ? offspring : population) < population)
    throw InvalidArgument("(mu, lambda) needs offspring >= population");
  if (binary && (crossover == Crossover::blend || crossover == Crossover::sbx))
    throw InvalidArgument(
        "blend and SBX crossovers make real genes: a binary problem takes none, one-point, "
        "two-point or uniform");
  if (binary && (mutation == Mutation::gaussian || mutation == Mutation::polynomial))
    throw InvalidArgument(
        "Gaussian and polynomial mutations make real genes: a binary problem takes bit-flip "
        "(or none)");
  if (!binary && mutation == Mutation::bitflip)
    throw InvalidArgument("bit-flip mutation is for binary genes: use gaussian or polynomial");
  impl::validate_islands(islands, population);
  if (selection != Selection::tournament && minimize)
    throw InvalidArgument(
        "roulette and stochastic universal sampling select by positive "
        "fitness to maximise; use tournament selection to minimise");
  validate_run();
}

namespace ops {

namespace {
double u01(const CounterRng& rng, std::uint64_t& next) { return rng.uniform(next++); }
std::size_t pick(const CounterRng& rng, std::uint64_t& next, std::size_t n) {
  return static_cast<std::size_t>(rng.integer(next++, n));
}
}  // namespace

std::vector<std::size_t> tournament(const std::vector<double>& fitness, bool minimize,
                                    std::size_t k, int size, const CounterRng& rng,
                                    std::uint64_t& next) {
  std::vector<std::size_t> out(k);
  const double sign = minimize ? -1.0 : 1.0;  // larger is better below
  for (std::size_t i = 0; i < k; ++i) {
    std::size_t best = pick(rng, next, fitness.size());
    for (int t = 1; t < size; ++t) {
      const std::size_t a = pick(rng, next, fitness.size());
      if (impl::better(fitness[a], fitness[best], -sign)) best = a;
    }
    out[i] = best;
  }
  return out;
}

namespace {
// Individuals sorted by fitness, best (largest) first, and their running sums.
std::pair<std::vector<std::size_t>, std::vector<double>> by_fitness(const std::vector<double>& f) {
  std::vector<std::size_t> order = impl::rank_order(f, -1.0);
  std::vector<double> cumulative(f.size());
  double s = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (!(f[order[i]] >= 0))
      throw InvalidArgument("fitness-proportional selection needs fitness >= 0");
    cumulative[i] = s += f[order[i]];
  }
  return {order, cumulative};
}
std::size_t first_reaching(const std::vector<double>& cumulative, double value) {
  const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), value);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative.begin()),
                               cumulative.size() - 1);
}
}  // namespace

std::vector<std::size_t> roulette(const std::vector<double>& fitness, std::size_t k,
                                  const CounterRng& rng, std::uint64_t& next) {
  const auto [order, cumulative] = by_fitness(fitness);
  std::vector<std::size_t> out(k);
  for (std::size_t i = 0; i < k; ++i)
    out[i] = order[first_reaching(cumulative, u01(rng, next) * cumulative.back())];
  return out;
}

std::vector<std::size_t> sus(const std::vector<double>& fitness, std::size_t k,
                             const CounterRng& rng, std::uint64_t& next) {
  const auto [order, cumulative] = by_fitness(fitness);
  const double distance = cumulative.back() / static_cast<double>(k);
  const double start = u01(rng, next) * distance;
  std::vector<std::size_t> out(k);
  for (std::size_t i = 0; i < k; ++i)
    out[i] = order[first_reaching(cumulative, start + static_cast<double>(i) * distance)];
  return out;
}

void crossover(const GAParams& p, double* a, double* b, std::size_t n, const CounterRng& rng,
               std::uint64_t& next) {
  switch (p.crossover) {
    case Crossover::none: return;
    case Crossover::one_point: {
      if (n < 2) return;
      const std::size_t cut = 1 + pick(rng, next, n - 1);
      std::swap_ranges(a + cut, a + n, b + cut);
      return;
    }
    case Crossover::two_point: {
      if (n < 2) return;
      std::size_t c1 = 1 + pick(rng, next, n);  // DEAP: randint(1, size)
      std::size_t c2 = 1 + pick(rng, next, n - 1);
      if (c2 >= c1)
        ++c2;
      else
        std::swap(c1, c2);
      std::swap_ranges(a + c1, a + std::min(c2, n), b + c1);
      return;
    }
    case Crossover::uniform:
      for (std::size_t i = 0; i < n; ++i)
        if (u01(rng, next) < p.cx_indpb) std::swap(a[i], b[i]);
      return;
    case Crossover::blend:
      for (std::size_t i = 0; i < n; ++i) {
        const double gamma = (1.0 + 2.0 * p.blend_alpha) * u01(rng, next) - p.blend_alpha;
        const double x1 = a[i], x2 = b[i];
        a[i] = (1.0 - gamma) * x1 + gamma * x2;
        b[i] = gamma * x1 + (1.0 - gamma) * x2;
      }
      return;
    case Crossover::sbx:
      for (std::size_t i = 0; i < n; ++i) {
        const double u = u01(rng, next);
        const double beta = u <= 0.5 ? std::pow(2.0 * u, 1.0 / (p.sbx_eta + 1.0))
                                     : std::pow(1.0 / (2.0 * (1.0 - u)), 1.0 / (p.sbx_eta + 1.0));
        const double x1 = a[i], x2 = b[i];
        a[i] = std::clamp(0.5 * ((1.0 + beta) * x1 + (1.0 - beta) * x2), p.lo, p.hi);
        b[i] = std::clamp(0.5 * ((1.0 - beta) * x1 + (1.0 + beta) * x2), p.lo, p.hi);
      }
      return;
  }
}

void mutate(const GAParams& p, double* x, std::size_t n, const CounterRng& rng,
            std::uint64_t& next) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!(u01(rng, next) < p.indpb)) continue;
    switch (p.mutation) {
      case Mutation::none: break;
      case Mutation::gaussian: x[i] += p.mutation_sigma * rng.normal(next++); break;
      case Mutation::bitflip: x[i] = x[i] > 0.5 ? 0.0 : 1.0; break;
      case Mutation::polynomial: {  // DEAP's mutPolynomialBounded
        const double span = p.hi - p.lo, d1 = (x[i] - p.lo) / span, d2 = (p.hi - x[i]) / span;
        const double r = u01(rng, next), pw = 1.0 / (p.polynomial_eta + 1.0);
        double dq;
        if (r < 0.5) {
          const double v = 2.0 * r + (1.0 - 2.0 * r) * std::pow(1.0 - d1, p.polynomial_eta + 1.0);
          dq = std::pow(v, pw) - 1.0;
        } else {
          const double v =
              2.0 * (1.0 - r) + 2.0 * (r - 0.5) * std::pow(1.0 - d2, p.polynomial_eta + 1.0);
          dq = 1.0 - std::pow(v, pw);
        }
        x[i] = std::clamp(x[i] + dq * span, p.lo, p.hi);
        break;
      }
    }
  }
}

}  // namespace ops

namespace {

// Individuals as host rows, fitness, and whether each still needs an evaluation.
struct Pool {
  std::size_t n = 0;
  std::vector<double> genes, fitness;
  std::vector<char> valid;
  double* row(std::size_t i) { return genes.data() + i * n; }
  std::size_t size() const { return fitness.size(); }
  void resize(std::size_t count) {
    genes.resize(count * n);
    fitness.resize(count);
    valid.resize(count);
  }
  void copy_from(const Pool& other, std::size_t from, std::size_t to) {
    std::copy(other.genes.begin() + static_cast<std::ptrdiff_t>(from * n),
              other.genes.begin() + static_cast<std::ptrdiff_t>((from + 1) * n),
              genes.begin() + static_cast<std::ptrdiff_t>(to * n));
    fitness[to] = other.fitness[from];
    valid[to] = other.valid[from];
  }
};

// Evaluates the invalid individuals of the pool (the same list on every rank); returns
// how many were evaluated.
std::int64_t evaluate_invalid(const Comm& comm, Pool& pool, const Evaluator& evaluate) {
  std::vector<std::size_t> todo;
  std::vector<double> rows;
  for (std::size_t i = 0; i < pool.size(); ++i)
    if (!pool.valid[i]) {
      todo.push_back(i);
      rows.insert(rows.end(), pool.row(i), pool.row(i) + pool.n);
    }
  const std::vector<double> f =
      impl::evaluate_rows(comm, rows.data(), todo.size(), pool.n, evaluate);
  for (std::size_t k = 0; k < todo.size(); ++k) {
    pool.fitness[todo[k]] = f[k];
    pool.valid[todo[k]] = 1;
  }
  return static_cast<std::int64_t>(todo.size());
}

// The GA as a generation step (eaSimple, eaMuPlusLambda, eaMuCommaLambda).
class GeneticEngine final : public impl::Engine {
 public:
  GeneticEngine(const GAParams& p, const Evaluator& evaluate) : p_(p), evaluate_(evaluate) {
    pop_.n = static_cast<std::size_t>(p.dim);
  }

  std::int64_t start(const Comm& comm) override {
    const std::size_t n = pop_.n, mu = static_cast<std::size_t>(p_.population);
    pop_.resize(mu);
    const CounterRng init(p_.seed, 1);
    for (std::size_t i = 0; i < mu * n; ++i) {
      const double u = init.uniform(i);
      pop_.genes[i] = p_.binary ? (u < 0.5 ? 0.0 : 1.0) : p_.lo + (p_.hi - p_.lo) * u;
    }
    return evaluate_invalid(comm, pop_, evaluate_);
  }

  std::int64_t step(const Comm& comm, int gen) override {
    const std::size_t n = pop_.n, mu = static_cast<std::size_t>(p_.population);
    const std::size_t lambda = p_.offspring ? static_cast<std::size_t>(p_.offspring) : mu;
    const double sign = p_.minimize ? 1.0 : -1.0;  // sign · f: smaller is better
    const CounterRng rng(p_.seed, 100 + static_cast<std::uint64_t>(gen));
    std::uint64_t next = 0;
    Pool off;
    off.n = n;
    if (p_.scheme == Scheme::simple) {
      // eaSimple: select μ, then varAnd (pairs crossed with cxpb, each mutated with mutpb).
      const auto chosen = select(pop_, mu, rng, next);
      off.resize(mu);
      for (std::size_t i = 0; i < mu; ++i) off.copy_from(pop_, chosen[i], i);
      for (std::size_t i = 1; i < mu; i += 2)
        if (rng.uniform(next++) < p_.cxpb) {
          ops::crossover(p_, off.row(i - 1), off.row(i), n, rng, next);
          off.valid[i - 1] = off.valid[i] = 0;
        }
      for (std::size_t i = 0; i < mu; ++i)
        if (rng.uniform(next++) < p_.mutpb) {
          ops::mutate(p_, off.row(i), n, rng, next);
          off.valid[i] = 0;
        }
    } else {
      // varOr: each offspring from a crossover (first child), a mutation or a copy.
      off.resize(lambda);
      for (std::size_t i = 0; i < lambda; ++i) {
        const double op = rng.uniform(next++);
        const std::size_t a = static_cast<std::size_t>(rng.integer(next++, mu));
        off.copy_from(pop_, a, i);
        if (op < p_.cxpb) {
          std::size_t b = static_cast<std::size_t>(rng.integer(next++, mu - 1));
          if (b >= a) ++b;
          std::vector<double> other(pop_.row(b), pop_.row(b) + n);
          ops::crossover(p_, off.row(i), other.data(), n, rng, next);
          off.valid[i] = 0;
        } else if (op < p_.cxpb + p_.mutpb) {
          ops::mutate(p_, off.row(i), n, rng, next);
          off.valid[i] = 0;
        }
      }
    }
    const std::int64_t nevals = evaluate_invalid(comm, off, evaluate_);
    if (p_.scheme == Scheme::simple) {
      // Elitism: the best parents replace the worst offspring.
      if (p_.elitism > 0) {
        const auto parents = ranking(pop_, sign), children = ranking(off, sign);
        for (int e = 0; e < p_.elitism; ++e)
          off.copy_from(pop_, parents[static_cast<std::size_t>(e)],
                        children[mu - 1 - static_cast<std::size_t>(e)]);
      }
      pop_ = off;
    } else {
      // (μ+λ): select μ from parents and offspring; (μ,λ): from the offspring.
      Pool from = off;
      if (p_.scheme == Scheme::mu_plus_lambda) {
        from.resize(mu + lambda);
        for (std::size_t i = 0; i < mu; ++i) from.copy_from(pop_, i, lambda + i);
      }
      const auto chosen = select(from, mu, rng, next);
      Pool next_pop;
      next_pop.n = n;
      next_pop.resize(mu);
      for (std::size_t i = 0; i < mu; ++i) next_pop.copy_from(from, chosen[i], i);
      pop_ = next_pop;
    }
    return nevals;
  }

  const std::vector<double>& rows() const override { return pop_.genes; }
  const std::vector<double>& fitness() const override { return pop_.fitness; }

  void immigrate(const std::vector<double>& rows, const std::vector<double>& f) override {
    const auto worst = ranking(pop_, p_.minimize ? 1.0 : -1.0);
    for (std::size_t k = 0; k < f.size(); ++k) {
      const std::size_t at = worst[worst.size() - 1 - k];
      std::copy(rows.begin() + static_cast<std::ptrdiff_t>(k * pop_.n),
                rows.begin() + static_cast<std::ptrdiff_t>((k + 1) * pop_.n), pop_.row(at));
      pop_.fitness[at] = f[k];
      pop_.valid[at] = 1;
    }
  }

  impl::json save() const override {
    return {{"genes", pop_.genes}, {"fitness", pop_.fitness}, {"valid", pop_.valid}};
  }
  void load(const impl::json& s) override {
    s.at("genes").get_to(pop_.genes);
    s.at("fitness").get_to(pop_.fitness);
    s.at("valid").get_to(pop_.valid);
  }

 private:
  // Indices from the best to the worst (stable).
  static std::vector<std::size_t> ranking(const Pool& P, double sign) {
    return impl::rank_order(P.fitness, sign);
  }
  std::vector<std::size_t> select(const Pool& from, std::size_t k, const CounterRng& rng,
                                  std::uint64_t& next) const {
    switch (p_.selection) {
      case Selection::roulette: return ops::roulette(from.fitness, k, rng, next);
      case Selection::sus: return ops::sus(from.fitness, k, rng, next);
      case Selection::tournament: break;
    }
    return ops::tournament(from.fitness, p_.minimize, k, p_.tournament_size, rng, next);
  }

  GAParams p_;
  Evaluator evaluate_;
  Pool pop_;
};

// What identifies a GA run for its checkpoints (the budget may change).
impl::json config_of(const GAParams& p) {
  return {{"dim", p.dim},
          {"population", p.population},
          {"offspring", p.offspring},
          {"scheme", static_cast<int>(p.scheme)},
          {"selection", static_cast<int>(p.selection)},
          {"tournament_size", p.tournament_size},
          {"crossover", static_cast<int>(p.crossover)},
          {"cxpb", p.cxpb},
          {"cx_indpb", p.cx_indpb},
          {"blend_alpha", p.blend_alpha},
          {"sbx_eta", p.sbx_eta},
          {"mutation", static_cast<int>(p.mutation)},
          {"mutpb", p.mutpb},
          {"indpb", p.indpb},
          {"mutation_sigma", p.mutation_sigma},
          {"polynomial_eta", p.polynomial_eta},
          {"lo", p.lo},
          {"hi", p.hi},
          {"binary", p.binary},
          {"elitism", p.elitism},
          {"minimize", p.minimize},
          {"seed", p.seed}};
}

}  // namespace

EvolutionResult genetic(const Comm& comm, const GAParams& p, const Evaluator& evaluate) {
  p.validate();
  return impl::run_generations(comm, impl::control_of(p), "ga", config_of(p), [&](int island) {
    GAParams q = p;
    q.seed = impl::island_seed(p.seed, island);
    return std::make_unique<GeneticEngine>(q, evaluate);
  });
}

}  // namespace tessera::evo
