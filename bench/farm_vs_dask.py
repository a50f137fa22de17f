#!/usr/bin/env python3
"""Task farm against Dask futures, one run: overhead per empty task and balance of
tasks whose costs vary 100x.

  /usr/bin/python3 bench/farm_vs_dask.py [--bench build/bench/bench_farm] [--ranks 1,2,3]

tessera: `bench_farm` under mpirun at each rank count (build with the ci-release
preset or -DTESSERA_BUILD_BENCH=ON). Dask: `Client.map` of an empty function over a
LocalCluster with as many single-threaded worker processes as tessera has ranks
(Dask's own docs put its overhead at ~200-300 us a task). The ratio is Dask's time per
task over tessera's. Uneven tasks: costs 1..100 units in a shuffled order; efficiency
is the ideal time (all units / ranks, unit cost measured alone) over the measured time.
"""
import argparse
import json
import subprocess
import time

from bench_common import ENV



def tessera(bench, ranks, *args):
    env = dict(ENV, OMP_NUM_THREADS="1")
    out = subprocess.run(["mpirun", "-np", str(ranks), bench, *map(str, args)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def noop(i):
    return i


def dask_us_per_task(workers, tasks):
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.gather(client.map(noop, range(200), pure=False))  # warm up
        t = time.perf_counter()
        client.gather(client.map(noop, range(tasks), pure=False))
        return 1e6 * (time.perf_counter() - t) / tasks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default="build/bench/bench_farm")
    p.add_argument("--ranks", default="1,2,3")
    p.add_argument("--empty-tasks", type=int, default=1_000_000)
    p.add_argument("--dask-tasks", type=int, default=20_000)
    p.add_argument("--uneven-tasks", type=int, default=400)
    p.add_argument("--work", type=int, default=20000, help="sqrt iterations per cost unit")
    a = p.parse_args()
    print(f"{'ranks':>5} {'tessera us/task':>16} {'tasks/s':>12} {'dask us/task':>13} "
          f"{'dask/tessera':>13} {'uneven eff.':>12}")
    for ranks in map(int, a.ranks.split(",")):
        empty = tessera(a.bench, ranks, "empty", a.empty_tasks)
        uneven = tessera(a.bench, ranks, "uneven", a.uneven_tasks, a.work)
        try:
            dask = dask_us_per_task(ranks, a.dask_tasks)
            ratio = f"{dask / empty['us_per_task']:13.0f}"
            dask = f"{dask:13.1f}"
        except ImportError:
            dask, ratio = f"{'(no dask)':>13}", f"{'-':>13}"
        print(f"{ranks:5d} {empty['us_per_task']:16.3f} {empty['tasks_per_second']:12.0f} {dask} "
              f"{ratio} {uneven['efficiency']:12.3f}  ({uneven['seconds']:.3f} s, ideal "
              f"{uneven['ideal_seconds']:.3f} s)")


if __name__ == "__main__":
    main()
