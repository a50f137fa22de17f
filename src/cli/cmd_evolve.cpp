// tessera evolve: evolutionary optimisation of a benchmark problem with the population
// evaluated across the ranks -> logbook.csv, best.json, convergence.svg.
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <tessera/comm/agree.hpp>
#include <tessera/evo/cmaes.hpp>
#include <tessera/evo/ga.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/evo/swarm.hpp>
#include <tessera/io/results.hpp>
#include <tessera/io/svg.hpp>

#include "app.hpp"

namespace tessera::cli {

namespace {

struct EvolveOptions {
  std::string algorithm = "cmaes";
  std::string problem = "rastrigin";
  int dim = 10;
  int population = 0;
  int generations = 250;
  double sigma = 5.0;
  double centroid = 5.0;
  std::string bounds;
  int islands = 1;
  int migration_interval = 10;
  int migrants = 2;
  int checkpoint_every = 0;
  int hall_of_fame = 1;
  double tolfun = 1e-12;
  double tolx = 1e-12;
  int eigen_interval = 0;
  double target = std::numeric_limits<double>::quiet_NaN();
  long long max_evals = 0;
  int stagnation = 0;
  int restarts = 0;
  std::optional<double> cxpb, mutpb;  // absent: the scheme's defaults
  double de_f = 0.5, de_cr = 0.9;
  std::string de_strategy = "rand1bin", pso_variant = "constriction";
  // ga operators; empty: the problem's defaults (see --algorithm)
  std::string scheme, selection = "tournament", crossover, mutation;
  int tournament_size = 3, offspring = 0, elitism = 0;
};

}  // namespace

Command setup_evolve(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<EvolveOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand(
      "evolve", "evolutionary optimisation -> logbook.csv, best.json, convergence.svg");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  app.add_option("--algorithm", o->algorithm,
                 "cmaes, ga (DEAP's eaSimple for binary problems, (mu+lambda) with SBX and "
                 "polynomial mutation for real ones; see --scheme, --selection, --crossover, "
                 "--mutation), pso (--pso-variant), de (--de-strategy)")
      ->capture_default_str();
  app.add_option("--problem", o->problem,
                 "sphere, rastrigin, rosenbrock, ackley, griewank, schwefel, schaffer, onemax, "
                 "knapsack (0/1, --dim items: weights 1-10, values 0-100, half the weight fits)")
      ->capture_default_str();
  app.add_option("--dim", o->dim, "dimensions")->capture_default_str();
  app.add_option("--population", o->population,
                 "individuals per generation (lambda; default 4 + 3 ln dim)");
  app.add_option("--generations", o->generations, "generations")->capture_default_str();
  app.add_option("--sigma", o->sigma, "initial step size")->capture_default_str();
  app.add_option("--centroid", o->centroid, "initial mean, every coordinate")
      ->capture_default_str();
  app.add_option("--bounds", o->bounds, "box for every gene (default none)")->type_name("LO:HI");
  app.add_option("--islands", o->islands,
                 "ga, pso, de: populations side by side, one per group of ranks, with ring "
                 "migration")
      ->capture_default_str();
  app.add_option("--migration-interval", o->migration_interval, "generations between migrations")
      ->capture_default_str();
  app.add_option("--migrants", o->migrants,
                 "best individuals of each island that replace the worst of the next")
      ->capture_default_str();
  app.add_option("--tolfun", o->tolfun,
                 "cmaes: stop when the generation's and the recent bests' spread is below this "
                 "(Hansen's TolFun; 0: off)")
      ->capture_default_str();
  app.add_option("--tolx", o->tolx,
                 "cmaes: stop when the step size collapsed: sigma * sqrt(C_ii) and sigma * |pc_i| "
                 "below this times --sigma in every coordinate (Hansen's TolX; 0: off)")
      ->capture_default_str();
  app.add_option("--eigen-interval", o->eigen_interval,
                 "cmaes: generations between eigendecompositions of C (0: Hansen's rule, "
                 "max(1, floor(1 / (10 dim (c1 + cmu)))), 1 unless dim is large and the "
                 "population small)")
      ->capture_default_str();
  app.add_option("--hall-of-fame", o->hall_of_fame,
                 "best distinct individuals kept -> 'hall_of_fame' in best.json")
      ->capture_default_str();
  app.add_option("--checkpoint-every", o->checkpoint_every,
                 "also save the state every K generations (it is always saved on SIGTERM or "
                 "SIGUSR1; --resume continues)")
      ->capture_default_str();
  app.add_option("--target", o->target, "stop when the best fitness reaches this");
  app.add_option("--max-evals", o->max_evals, "stop after this many evaluations");
  // (not a -1 sentinel for "absent": --cxpb -1 was taken for the default)
  app.add_option_function<double>(
         "--cxpb", [o](double v) { o->cxpb = v; },
         "ga: crossover probability (default 0.5, 0.6 real)")
      ->type_name("FLOAT");
  app.add_option_function<double>(
         "--mutpb", [o](double v) { o->mutpb = v; },
         "ga: mutation probability (default 0.2, 0.4 real)")
      ->type_name("FLOAT");
  app.add_option("--scheme", o->scheme,
                 "ga: simple (DEAP's eaSimple), plus ((mu + lambda), eaMuPlusLambda) or comma "
                 "((mu, lambda), eaMuCommaLambda) (default: simple for binary problems, plus "
                 "for real ones)")
      ->check(CLI::IsMember({"simple", "plus", "comma"}));
  app.add_option("--offspring", o->offspring,
                 "ga: lambda of plus and comma (default 2 x --population)");
  app.add_option("--selection", o->selection,
                 "ga: tournament, roulette or sus (stochastic universal sampling; roulette and "
                 "sus maximise positive fitness)")
      ->check(CLI::IsMember({"tournament", "roulette", "sus"}))
      ->capture_default_str();
  app.add_option("--tournament-size", o->tournament_size, "ga: aspirants per tournament")
      ->capture_default_str();
  app.add_option("--crossover", o->crossover,
                 "ga: none, one-point, two-point, uniform, blend or sbx (default two-point for "
                 "binary problems, sbx for real ones)")
      ->check(CLI::IsMember({"none", "one-point", "two-point", "uniform", "blend", "sbx"}));
  app.add_option("--mutation", o->mutation,
                 "ga: none, gaussian, polynomial or bitflip (default bitflip for binary problems, "
                 "polynomial for real ones)")
      ->check(CLI::IsMember({"none", "gaussian", "polynomial", "bitflip"}));
  app.add_option("--elitism", o->elitism,
                 "ga (simple): best parents that replace the worst offspring")
      ->capture_default_str();
  app.add_option("--pso-variant", o->pso_variant,
                 "pso: constriction (Clerc & Kennedy) or inertia (inertia weight 0.7298)")
      ->check(CLI::IsMember({"constriction", "inertia"}))
      ->capture_default_str();
  app.add_option("--de-strategy", o->de_strategy, "de: rand1bin or best1bin")
      ->check(CLI::IsMember({"rand1bin", "best1bin"}))
      ->capture_default_str();
  app.add_option("--de-f", o->de_f, "de: differential weight F (> 0)")->capture_default_str();
  app.add_option("--de-cr", o->de_cr, "de: crossover probability CR (in [0, 1])")
      ->capture_default_str();
  app.add_option("--restarts", o->restarts,
                 "IPOP restarts with a doubled population (from a uniform point of --bounds)")
      ->capture_default_str();
  app.add_option("--stagnation", o->stagnation,
                 "stop after this many generations without a better best");
  cmd.resumable = true;
  cmd.run = [o, parsed = &app](Context& ctx) {
    evo::CMAESParams p;
    evo::GAParams gp;
    evo::Benchmark problem{};
    const bool ga = o->algorithm == "ga", pso = o->algorithm == "pso", de = o->algorithm == "de";
    evo::PSOParams sp;
    evo::DEParams dp;
    evo::BenchmarkInfo info;  // of the problem at this dimension (the knapsack's is solved)
    agree(ctx.comm, [&] {
      if (o->algorithm != "cmaes" && !ga && !pso && !de)
        throw InvalidArgument("unknown algorithm '" + o->algorithm + "' (cmaes, ga, pso, de)");
      problem = evo::parse_benchmark(o->problem);
      info = evo::info(problem, o->dim);
      if (info.binary && !ga)
        throw InvalidArgument("--problem " + o->problem + " has binary genes: " + o->algorithm +
                              " searches real ones (use --algorithm ga)");
      if (o->islands != 1 && !ga && !pso && !de)
        throw InvalidArgument("--islands: cmaes runs one population (islands are for ga, pso, de)");
      double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
      if (!o->bounds.empty()) std::tie(lo, hi) = parse_range(o->bounds, "--bounds");
      const double box_lo = std::isfinite(lo) ? lo : info.lo,
                   box_hi = std::isfinite(hi) ? hi : info.hi;
      // What every algorithm's parameters share: the problem, budget and stopping rules.
      evo::RunOptions run;
      run.minimize = info.minimize;
      run.target = o->target;
      run.max_evaluations = o->max_evals;
      run.stagnation = o->stagnation;
      run.seed = ctx.common.seed;
      run.hall_of_fame = o->hall_of_fame;
      run.checkpoint = {ctx.out_file("checkpoint.cbor"), o->checkpoint_every, ctx.common.resume};
      const auto shared = [&](auto& q) {
        static_cast<evo::RunOptions&>(q) = run;
        q.dim = o->dim;
        q.generations = o->generations;
      };
      const evo::Islands islands{o->islands, o->migration_interval, o->migrants};
      if (pso) {
        shared(sp);
        sp.particles = o->population ? o->population : 40;
        sp.lo = box_lo;
        sp.hi = box_hi;
        sp.variant = o->pso_variant == "inertia" ? evo::PSOParams::Variant::inertia
                                                 : evo::PSOParams::Variant::constriction;
        sp.islands = islands;
        sp.validate();
        return;
      }
      if (de) {
        shared(dp);
        dp.population = o->population ? o->population : 50;
        dp.F = o->de_f;
        dp.CR = o->de_cr;
        dp.variant = o->de_strategy == "best1bin" ? evo::DEParams::Variant::best1bin
                                                  : evo::DEParams::Variant::rand1bin;
        dp.lo = box_lo;
        dp.hi = box_hi;
        dp.islands = islands;
        dp.validate();
        return;
      }
      if (ga) {
        shared(gp);
        gp.binary = info.binary;
        gp.population = o->population ? o->population : (info.binary ? 300 : 100);
        if (info.binary) {  // DEAP's OneMax example
          gp.crossover = evo::Crossover::two_point;
          gp.mutation = evo::Mutation::bitflip;
        } else {  // (mu + lambda) with SBX and polynomial mutation in the box
          gp.scheme = evo::Scheme::mu_plus_lambda;
          gp.offspring = 2 * gp.population;
          gp.crossover = evo::Crossover::sbx;
          gp.mutation = evo::Mutation::polynomial;
          gp.cxpb = 0.6;
          gp.mutpb = 0.4;
          gp.indpb = 1.0 / o->dim;
          gp.lo = box_lo;
          gp.hi = box_hi;
        }
        if (!o->scheme.empty()) {
          gp.scheme = o->scheme == "simple" ? evo::Scheme::simple
                      : o->scheme == "plus" ? evo::Scheme::mu_plus_lambda
                                            : evo::Scheme::mu_comma_lambda;
          gp.offspring = gp.scheme == evo::Scheme::simple ? 0 : 2 * gp.population;
        }
        if (o->offspring) gp.offspring = o->offspring;
        gp.selection = o->selection == "roulette" ? evo::Selection::roulette
                       : o->selection == "sus"    ? evo::Selection::sus
                                                  : evo::Selection::tournament;
        gp.tournament_size = o->tournament_size;
        if (!o->crossover.empty()) {
          const std::string& c = o->crossover;
          gp.crossover = c == "none"        ? evo::Crossover::none
                         : c == "one-point" ? evo::Crossover::one_point
                         : c == "two-point" ? evo::Crossover::two_point
                         : c == "uniform"   ? evo::Crossover::uniform
                         : c == "blend"     ? evo::Crossover::blend
                                            : evo::Crossover::sbx;
        }
        if (!o->mutation.empty())
          gp.mutation = o->mutation == "none"         ? evo::Mutation::none
                        : o->mutation == "gaussian"   ? evo::Mutation::gaussian
                        : o->mutation == "polynomial" ? evo::Mutation::polynomial
                                                      : evo::Mutation::bitflip;
        gp.elitism = o->elitism;
        if (o->cxpb) gp.cxpb = *o->cxpb;
        if (o->mutpb) gp.mutpb = *o->mutpb;
        gp.islands = islands;
        gp.validate();
        return;
      }
      shared(p);
      p.centroid = {o->centroid};
      p.sigma = o->sigma;
      p.lambda = o->population;
      p.restarts = o->restarts;
      p.tolfun = o->tolfun;
      p.tolx = o->tolx;
      p.eigen_interval = o->eigen_interval;
      p.lo = lo;
      p.hi = hi;
      p.validate();
    });
    std::vector<std::pair<std::string, std::string>> unused;
    const auto only = [&](const std::string& who, std::initializer_list<const char*> names) {
      for (const char* name : names)
        unused.emplace_back(name, who + " only (--algorithm " + o->algorithm + ")");
    };
    if (o->algorithm != "cmaes")
      only("cmaes",
           {"--sigma", "--centroid", "--tolfun", "--tolx", "--eigen-interval", "--restarts"});
    if (!ga)
      only("ga", {"--cxpb", "--mutpb", "--scheme", "--offspring", "--selection",
                  "--tournament-size", "--crossover", "--mutation", "--elitism"});
    if (ga) {  // options of operators the run does not use
      if (gp.scheme == evo::Scheme::simple)
        unused.emplace_back("--offspring",
                            "plus and comma schemes only (eaSimple keeps the "
                            "population size)");
      else
        unused.emplace_back("--elitism", "the simple scheme only");
      if (gp.selection != evo::Selection::tournament)
        unused.emplace_back("--tournament-size", "tournament selection only");
    }
    if (!de) only("de", {"--de-f", "--de-cr", "--de-strategy"});
    if (!pso) only("pso", {"--pso-variant"});
    if (o->islands == 1)
      for (const char* name : {"--migration-interval", "--migrants"})
        unused.emplace_back(name, "one population (no --islands N > 1)");
    warn_unused(ctx, *parsed, unused);
    ctx.make_out_dir();  // the checkpoint goes there during the run
    evo::EvolutionResult r;
    {
      auto t = ctx.times.scope("evolve");
      const evo::Evaluator f = problem == evo::Benchmark::knapsack
                                   ? evo::knapsack_evaluator(evo::knapsack_instance(o->dim))
                                   : evo::benchmark_evaluator(problem);
      r = ga    ? evo::genetic(ctx.comm, gp, f)
          : pso ? evo::pso(ctx.comm, sp, f)
          : de  ? evo::differential_evolution(ctx.comm, dp, f)
                : evo::cmaes(ctx.comm, p, f);
    }
    const bool minimize = info.minimize;
    const char* name = ga ? "GA" : pso ? "PSO" : de ? "DE" : "CMA-ES";
    if (!ctx.root()) return;
    auto t = ctx.times.scope("write");
    const evo::Logbook& log = r.logbook;
    std::string csv = "gen,nevals,avg,std,min,max\n";
    for (std::size_t g = 0; g < log.gen.size(); ++g)
      csv += fmt::format("{},{},{},{},{},{}\n", log.gen[g], log.nevals[g],
                         io::format_double(log.avg[g]), io::format_double(log.std[g]),
                         io::format_double(log.min[g]), io::format_double(log.max[g]));
    io::write_file_atomic(ctx.out_file("logbook.csv"), csv);
    nlohmann::json hall_of_fame = nlohmann::json::array();
    for (std::size_t i = 0; i < r.hall_of_fame.size(); ++i)
      hall_of_fame.push_back(
          {{"fitness", r.hall_of_fame_fitness[i]}, {"solution", r.hall_of_fame[i]}});
    io::write_json(ctx.out_file("best.json"), {{"solution", r.best},
                                               {"fitness", r.best_fitness},
                                               {"optimum", info.optimum},
                                               {"evaluations", r.evaluations},
                                               {"generations", r.generations},
                                               {"stop", r.stop},
                                               {"restarts", r.restarts},
                                               {"hall_of_fame", hall_of_fame}});
    io::LinePlot plot;
    io::LineSeries best{minimize ? "best (min)" : "best (max)", {}, {}}, avg{"average", {}, {}};
    for (std::size_t g = 0; g < log.gen.size(); ++g) {
      best.x.push_back(log.gen[g]);
      best.y.push_back(minimize ? log.min[g] : log.max[g]);
      avg.x.push_back(log.gen[g]);
      avg.y.push_back(log.avg[g]);
    }
    plot.series = {best, avg};
    plot.title = fmt::format("{} on {} ({} dimensions, population {})", name, o->problem, o->dim,
                             log.nevals.empty() ? 0 : log.nevals[0]);
    plot.x_label = "generation";
    plot.y_label = "fitness";
    plot.log_y = true;
    io::write_file_atomic(ctx.out_file("convergence.svg"), io::svg_line_plot(plot));
    if (!ctx.common.quiet) {
      std::printf(
          "evolve: %s on %s, %d dimensions, %d rank(s): %d generations, %lld evaluations "
          "(stop: %s)\n",
          name, o->problem.c_str(), o->dim, ctx.comm.size(), r.generations,
          static_cast<long long>(r.evaluations), r.stop.c_str());
      if (r.best.empty())
        std::printf("no best: every evaluation was NaN\n");
      else
        std::printf("best fitness %.10g\n", r.best_fitness);
      std::printf("wrote %s, %s, %s\n", ctx.out_file("logbook.csv").c_str(),
                  ctx.out_file("best.json").c_str(), ctx.out_file("convergence.svg").c_str());
    }
  };
  return cmd;
}

}  // namespace tessera::cli
