#!/usr/bin/env python3
"""Per-column statistics: `tessera stats` against NumPy on the same .npy file, one run.

  /usr/bin/python3 bench/stats_vs_numpy.py [--rows 4000000] [--cols 16] [--tessera build/bin/tessera]

NumPy: np.load, then sum, mean, std (ddof 0), min, max per column (what stats.json
holds). tessera streams .npy files (reading ahead while it reduces), so its "reduce" phase
from run.json includes the reading; it is compared with NumPy's load + stats. Ratios > 1
mean tessera is faster.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

from bench_common import best_of



def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=4_000_000)
    p.add_argument("--cols", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tessera", default="build/bin/tessera")
    p.add_argument("--mpi", type=int, default=0, help="also run under mpirun -np N")
    p.add_argument("--keys", type=int, default=50,
                   help="group-by case: column 0 holds this many integer keys (0: skip it)")
    a = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        X = np.random.default_rng(0).random((a.rows, a.cols))
        path = os.path.join(tmp, "x.npy")
        np.save(path, X)
        load = best_of(a.repeat, lambda: np.load(path))

        def numpy_stats():
            return (X.sum(0), X.mean(0), X.std(0), X.min(0), X.max(0))

        numpy_time = best_of(a.repeat, numpy_stats)

        def tessera_run(prefix, extra=()):
            out = os.path.join(tmp, "out")
            best = None
            for _ in range(a.repeat):
                subprocess.run(prefix + [a.tessera, "stats", "--data", path, "--out", out, "--quiet",
                                         *extra], check=True)
                phases = json.load(open(os.path.join(out, "run.json")))["phases"]
                run = (phases["reduce"], phases["read"])
                best = run if best is None or run[0] < best[0] else best
            got = json.load(open(os.path.join(out, "stats.json")))
            if not extra:
                assert abs(got["columns"][0]["mean"] - X[:, 0].mean()) < 1e-12
            return best

        threads = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))
        print(f"data: {a.rows} x {a.cols} float64 ({X.nbytes / 2**20:.0f} MiB), "
              f"OMP_NUM_THREADS={threads}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}")
        numpy_total = load + numpy_time
        print(f"numpy   load {load:.3f} s + stats {numpy_time:.3f} s = {numpy_total:.3f} s")
        reduce_t, open_t = tessera_run([])
        print(f"tessera open {open_t:.3f} s + read&stats {reduce_t:.3f} s   "
              f"speed-up vs numpy: {numpy_total / (open_t + reduce_t):.2f}x")
        if a.mpi:
            env_prefix = ["mpirun", "-np", str(a.mpi), "--oversubscribe", "-x", "OMP_NUM_THREADS=1"]
            reduce_t, open_t = tessera_run(env_prefix)
            print(f"tessera -np {a.mpi} read&stats {reduce_t:.3f} s   "
                  f"speed-up vs numpy: {numpy_total / (open_t + reduce_t):.2f}x")

        if a.keys:  # group-by: column 0 as the key, the others' statistics per key
            X[:, 0] = np.random.default_rng(1).integers(0, a.keys, a.rows)
            np.save(path, X)
            grouped = numpy_group_stats(X)
            numpy_group = best_of(a.repeat, lambda: numpy_group_stats(X))
            reduce_t, open_t = tessera_run([], ["--group-by", "0"])
            got = json.load(open(os.path.join(tmp, "out", "stats.json")))["groups"]
            assert len(got) == a.keys
            assert abs(got[3]["columns"][0]["mean"] - grouped[1][3, 1]) < 1e-12
            print(f"group-by {a.keys} keys: numpy (stable argsort + reduceat) {numpy_group:.3f} s, "
                  f"tessera stats --group-by {reduce_t:.3f} s   speed-up: {numpy_group / reduce_t:.2f}x")


def numpy_group_stats(X):
    """Per key of column 0: count, mean, std, min, max of every column (sorted, reduceat)."""
    order = np.argsort(X[:, 0], kind="stable")
    S = X[order]
    starts = np.flatnonzero(np.r_[True, S[1:, 0] != S[:-1, 0]])
    counts = np.diff(np.r_[starts, len(S)])
    mean = np.add.reduceat(S, starts, axis=0) / counts[:, None]
    dev = S - np.repeat(mean, counts, axis=0)
    std = np.sqrt(np.add.reduceat(dev * dev, starts, axis=0) / counts[:, None])
    return counts, mean, std, np.minimum.reduceat(S, starts, axis=0), np.maximum.reduceat(S, starts, axis=0)


if __name__ == "__main__":
    main()


