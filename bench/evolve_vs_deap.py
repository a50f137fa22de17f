#!/usr/bin/env python3
"""Evolutionary optimisation: tessera vs DEAP, side by side in one run.

  python bench/evolve_vs_deap.py          # a Python with DEAP and NumPy (pip install deap)

1. The reference CMA-ES runs: Rastrigin, centroid 5·1, sigma 5, lambda = 20·N, 250
   generations, N = 10 and N = 50: `tessera evolve` (its "evolve" phase from run.json;
   1 rank x 2 threads and 2 ranks x 1 thread) vs DEAP's cma.Strategy with
   algorithms.eaGenerateUpdate and a Statistics/HallOfFame as in DEAP's example. Same
   evaluation count; the final best fitness of each, as the median of 20 seeds (tessera)
   and 10 (DEAP): one run's value on Rastrigin is noisy; the time of tessera's fastest of 5
   runs and DEAP's mean.
2. The GA: DEAP's OneMax example (100 bits, population 300, eaSimple with two-point
   crossover cxpb 0.5, bit flips indpb 0.05 mutpb 0.2, tournaments of 3, 40 generations)
   vs `tessera evolve --algorithm ga --problem onemax` with the same settings; 5 seeds each.
3. DE: DEAP's differential evolution example (examples/de/basic.py: rand/1/bin, sphere
   10-D, 300 individuals from [-3, 3], F = 1, CR = 0.25, 200 generations) vs `tessera evolve
   --algorithm de --de-f 1 --de-cr 0.25` with the same settings (tessera keeps trial vectors
   in the box; the optimum is inside it); 5 seeds each.
4. PSO: DEAP's particle swarm example (examples/pso/basic.py: particles with speeds and
   personal bests, the toolbox's update) with Clerc's constriction (phi1 = phi2 = 2.05, speeds
   clamped to 0.2 of the box, positions kept in the box), as `tessera evolve --algorithm pso`
   runs it: Rastrigin 10-D, 40 particles in [-5.12, 5.12], 1000 generations; 5 seeds each.
5. Fitness throughput: Rastrigin, N = 1000, population 10000, one kernel
   (build/bench/bench_fitness), evaluations per second and GB/s beside a triad.
Ratios > 1 mean tessera is faster.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy

from bench_common import ENV, ONE_RANK

try:
    from deap import algorithms, base, benchmarks, cma, creator, tools
except ImportError:
    raise SystemExit("DEAP is needed: pip install deap (e.g. in a venv with --system-site-packages)")


# Rastrigin 50-D ends in one of two modes (below 50, or about 300) for DEAP and tessera
# alike, so the final fitness is compared as the median of many seeds: tessera's over 20
# (its time: the fastest of the first 5), DEAP's over 10 (its time: their mean).
OUR_SEEDS, DEAP_SEEDS = 20, 10


def spread(values):
    """The final best values of several seeds: median and mean."""
    return (f"median {statistics.median(values):.6g}, mean {statistics.mean(values):.6g} "
            f"of {len(values)} seeds")


def deap_run(n, seed=128):
    if not hasattr(creator, "FitnessMin"):
        creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("Individual", list, fitness=creator.FitnessMin)
    toolbox = base.Toolbox()
    toolbox.register("evaluate", benchmarks.rastrigin)
    numpy.random.seed(seed)
    strategy = cma.Strategy(centroid=[5.0] * n, sigma=5.0, lambda_=20 * n)
    toolbox.register("generate", strategy.generate, creator.Individual)
    toolbox.register("update", strategy.update)
    hof = tools.HallOfFame(1)
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    for name, f in (("avg", numpy.mean), ("std", numpy.std), ("min", numpy.min), ("max", numpy.max)):
        stats.register(name, f)
    t = time.perf_counter()
    _, logbook = algorithms.eaGenerateUpdate(toolbox, ngen=250, stats=stats, halloffame=hof, verbose=False)
    return time.perf_counter() - t, hof[0].fitness.values[0], sum(logbook.select("nevals"))


def deap_onemax(seed):
    import random
    if not hasattr(creator, "FitnessMax"):
        creator.create("FitnessMax", base.Fitness, weights=(1.0,))
        creator.create("BitIndividual", list, fitness=creator.FitnessMax)
    random.seed(seed)
    toolbox = base.Toolbox()
    toolbox.register("attr_bool", random.randint, 0, 1)
    toolbox.register("individual", tools.initRepeat, creator.BitIndividual, toolbox.attr_bool, 100)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("evaluate", lambda ind: (sum(ind),))
    toolbox.register("mate", tools.cxTwoPoint)
    toolbox.register("mutate", tools.mutFlipBit, indpb=0.05)
    toolbox.register("select", tools.selTournament, tournsize=3)
    pop = toolbox.population(n=300)
    hof = tools.HallOfFame(1)
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    for name, f in (("avg", numpy.mean), ("std", numpy.std), ("min", numpy.min), ("max", numpy.max)):
        stats.register(name, f)
    t = time.perf_counter()
    _, log = algorithms.eaSimple(pop, toolbox, cxpb=0.5, mutpb=0.2, ngen=40, stats=stats,
                                 halloffame=hof, verbose=False)
    return time.perf_counter() - t, hof[0].fitness.values[0], sum(log.select("nevals"))


def stats_of(numpy_module):
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    for name, f in (("avg", numpy_module.mean), ("std", numpy_module.std), ("min", numpy_module.min),
                    ("max", numpy_module.max)):
        stats.register(name, f)
    return stats


def deap_de(seed, ndim=10, mu=300, ngen=200, cr=0.25, f=1.0):
    """DEAP's examples/de/basic.py (its loop as written there)."""
    import random
    if not hasattr(creator, "FitnessMin"):
        creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("Individual", list, fitness=creator.FitnessMin)
    random.seed(seed)
    toolbox = base.Toolbox()
    toolbox.register("attr_float", random.uniform, -3, 3)
    toolbox.register("individual", tools.initRepeat, creator.Individual, toolbox.attr_float, ndim)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("select", tools.selRandom, k=3)
    toolbox.register("evaluate", benchmarks.sphere)
    pop = toolbox.population(n=mu)
    hof = tools.HallOfFame(1)
    stats = stats_of(numpy)
    logbook = tools.Logbook()
    t = time.perf_counter()
    for ind, fit in zip(pop, map(toolbox.evaluate, pop)):
        ind.fitness.values = fit
    evals = len(pop)
    hof.update(pop)
    logbook.record(gen=0, evals=len(pop), **stats.compile(pop))
    for g in range(1, ngen):
        for k, agent in enumerate(pop):
            a, b, c = toolbox.select(pop)
            y = toolbox.clone(agent)
            index = random.randrange(ndim)
            for i, _ in enumerate(agent):
                if i == index or random.random() < cr:
                    y[i] = a[i] + f * (b[i] - c[i])
            y.fitness.values = toolbox.evaluate(y)
            evals += 1
            if y.fitness > agent.fitness:
                pop[k] = y
        hof.update(pop)
        logbook.record(gen=g, evals=len(pop), **stats.compile(pop))
    return time.perf_counter() - t, hof[0].fitness.values[0], evals


def deap_pso(seed, ndim=10, particles=40, ngen=1000, lo=-5.12, hi=5.12, phi1=2.05, phi2=2.05):
    """DEAP's examples/pso/basic.py structure, with the constriction update tessera runs."""
    import math
    import random
    if not hasattr(creator, "FitnessMin"):
        creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
    if not hasattr(creator, "Particle"):
        creator.create("Particle", list, fitness=creator.FitnessMin, speed=list, best=None)
    random.seed(seed)
    vmax = 0.2 * (hi - lo)
    phi = phi1 + phi2
    chi = 2.0 / abs(2.0 - phi - math.sqrt(phi * phi - 4.0 * phi))

    def generate():
        part = creator.Particle(random.uniform(lo, hi) for _ in range(ndim))
        part.speed = [random.uniform(-vmax, vmax) for _ in range(ndim)]
        return part

    def update(part, best):
        for i in range(ndim):
            v = chi * (part.speed[i] + random.uniform(0, phi1) * (part.best[i] - part[i])
                       + random.uniform(0, phi2) * (best[i] - part[i]))
            part.speed[i] = min(max(v, -vmax), vmax)
            part[i] = min(max(part[i] + part.speed[i], lo), hi)

    toolbox = base.Toolbox()
    toolbox.register("particle", generate)
    toolbox.register("population", tools.initRepeat, list, toolbox.particle)
    toolbox.register("update", update)
    toolbox.register("evaluate", benchmarks.rastrigin)
    pop = toolbox.population(n=particles)
    stats = stats_of(numpy)
    logbook = tools.Logbook()
    best = None
    t = time.perf_counter()
    for g in range(ngen):
        for part in pop:
            part.fitness.values = toolbox.evaluate(part)
            if part.best is None or part.best.fitness < part.fitness:
                part.best = creator.Particle(part)
                part.best.fitness.values = part.fitness.values
            if best is None or best.fitness < part.fitness:
                best = creator.Particle(part)
                best.fitness.values = part.fitness.values
        for part in pop:
            toolbox.update(part, best)
        logbook.record(gen=g, evals=len(pop), **stats.compile(pop))
    return time.perf_counter() - t, best.fitness.values[0], particles * ngen


def tessera_runs(a, tmp, name, args, seeds=5):
    """The fastest "evolve" phase and the median best fitness of `seeds` runs (1 rank x 2 threads)."""
    best_t, fits = float("inf"), []
    for seed in range(seeds):
        out = os.path.join(tmp, f"{name}{seed}")
        subprocess.run([a.tessera, "evolve"] + args + ["--seed", str(seed), "--quiet", "--out", out],
                       env=ONE_RANK, check=True)
        best_t = min(best_t, json.load(open(os.path.join(out, "run.json")))["phases"]["evolve"])
        res = json.load(open(os.path.join(out, "best.json")))
        fits.append(res["fitness"])
    return best_t, statistics.median(fits), res["evaluations"]


def compare(title, ours, theirs, label):
    t, f, e = ours
    t_deap = statistics.mean(d[0] for d in theirs)
    print(title)
    print(f"  tessera (1 rank x 2 threads): {t:.3f} s, median best {f:.6g}, {e} evaluations; "
          f"{t_deap / t:.0f}x DEAP")
    print(f"  DEAP {label}: {t_deap:.3f} s, median best {statistics.median(d[1] for d in theirs):.6g}, "
          f"{theirs[0][2]} evaluations")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tessera", default="build/bin/tessera")
    p.add_argument("--bench-fitness", default="build/bench/bench_fitness")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 50):
            args = ["evolve", "--problem", "rastrigin", "--dim", str(n), "--population", str(20 * n),
                    "--generations", "250", "--centroid", "5", "--sigma", "5", "--quiet",
                    "--tolfun", "0"]  # all 250 generations, as eaGenerateUpdate
            ours = {}
            for label, cmd, env in [("1 rank x 2 threads", [a.tessera], ONE_RANK),
                                    ("2 ranks x 1 thread", ["mpirun", "-np", "2", a.tessera],
                                     dict(ENV, OMP_NUM_THREADS="1"))]:
                best_t, fits = float("inf"), []
                for seed in range(OUR_SEEDS if not ours else 5):
                    out = os.path.join(tmp, f"ev{n}{len(ours)}{seed}")
                    subprocess.run(cmd + args + ["--seed", str(seed), "--out", out], env=env, check=True)
                    if seed < 5:
                        best_t = min(best_t, json.load(open(os.path.join(out, "run.json")))["phases"]["evolve"])
                    res = json.load(open(os.path.join(out, "best.json")))
                    fits.append(res["fitness"])
                ours[label] = (best_t, fits, res["evaluations"])
            deap = [deap_run(n, seed=128 + seed) for seed in range(DEAP_SEEDS)]
            t_deap = statistics.mean(d[0] for d in deap)
            f_deap = [d[1] for d in deap]
            e_deap = deap[0][2]
            print(f"CMA-ES Rastrigin N = {n}, lambda = {20 * n}, 250 generations:")
            for label, (t, f, e) in ours.items():
                print(f"  tessera ({label}): {t:.3f} s, best {spread(f)}, {e} evaluations; "
                      f"{t_deap / t:.0f}x DEAP")
            print(f"  DEAP cma.Strategy: {t_deap:.2f} s, best {spread(f_deap)}, {e_deap} evaluations")
        ga_t, ga_f = float("inf"), []
        for seed in range(5):
            out = os.path.join(tmp, f"ga{seed}")
            subprocess.run([a.tessera, "evolve", "--algorithm", "ga", "--problem", "onemax", "--dim",
                            "100", "--population", "300", "--generations", "40", "--seed", str(seed),
                            "--quiet", "--out", out], env=ONE_RANK, check=True)
            ga_t = min(ga_t, json.load(open(os.path.join(out, "run.json")))["phases"]["evolve"])
            ga_f.append(json.load(open(os.path.join(out, "best.json")))["fitness"])
        deap_ga = [deap_onemax(seed) for seed in range(5)]
        t_ga = statistics.mean(d[0] for d in deap_ga)
        print("GA OneMax 100 bits, population 300, 40 generations (eaSimple):")
        print(f"  tessera (1 rank x 2 threads): {ga_t:.3f} s, median best {statistics.median(ga_f):g}; "
              f"{t_ga / ga_t:.0f}x DEAP")
        print(f"  DEAP eaSimple: {t_ga:.3f} s, median best {statistics.median(d[1] for d in deap_ga):g}, "
              f"{deap_ga[0][2]} evaluations")
        compare("DE rand/1/bin, sphere 10-D, 300 individuals, F = 1, CR = 0.25, 200 generations:",
                tessera_runs(a, tmp, "de", ["--algorithm", "de", "--problem", "sphere", "--dim", "10",
                                            "--population", "300", "--generations", "200",
                                            "--bounds", "-3:3", "--de-f", "1", "--de-cr", "0.25"]),
                [deap_de(seed) for seed in range(5)], "examples/de/basic.py")
        compare("PSO (constriction), Rastrigin 10-D, 40 particles, 1000 generations:",
                tessera_runs(a, tmp, "pso", ["--algorithm", "pso", "--problem", "rastrigin", "--dim",
                                             "10", "--population", "40", "--generations", "1000",
                                             "--bounds", "-5.12:5.12"]),
                [deap_pso(seed) for seed in range(5)], "examples/pso/basic.py with constriction")
        r = subprocess.run([a.bench_fitness, "1000", "10000", "10"], env=ONE_RANK, check=True,
                           capture_output=True, text=True)
        f = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"Rastrigin N = 1000, population 10000 (2 threads): {f['evals_per_s']:.3g} evaluations/s, "
              f"{f['gb_per_s']:.2f} GB/s of population read, triad {f['triad_gb_per_s']:.1f} GB/s "
              f"({100 * f['gb_per_s'] / f['triad_gb_per_s']:.1f}%: the cosines, not memory, bound it)")


if __name__ == "__main__":
    main()
