#!/usr/bin/env python3
"""k-means: tessera vs scikit-learn (and FAISS where installed), side by side in one run.

  /usr/bin/python3 bench/kmeans_vs_sklearn.py [--rows 1000000] [--cols 32] [--k 64] [--iters 20]

1. Lloyd iterations from the same initial centroids (tol 0): `tessera kmeans --init C.npy`
   (its "fit" phase from run.json, per iteration; 1 rank x 2 threads and 2 ranks x 1
   thread) vs KMeans(algorithm="lloyd", n_init=1).fit, per iteration. The assignment's
   GFLOP/s (2·n·k·d per iteration) beside NumPy's dgemm of the same shape and a square one,
   and a square sgemm (on AVX-512 CPUs tessera ranks the centroids in float32 first).
2. The elbow sweep: 5000 points, k = 2..19, n_init = 10, k-means++: `tessera kmeans
   --k 2:19` (farmed over 2 ranks) vs a loop of KMeans(k, n_init=10).
Ratios > 1 mean tessera is faster.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from bench_common import ENV, ONE_RANK, best_of


def phase(out, name):
    return json.load(open(os.path.join(out, "run.json")))["phases"][name]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tessera", default="build/bin/tessera")
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--cols", type=int, default=32)
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--iters", type=int, default=20)
    a = p.parse_args()
    X, _ = make_blobs(n_samples=a.rows, n_features=a.cols, centers=a.k, cluster_std=4.0, random_state=0)
    C = X[: a.k].copy()
    with tempfile.TemporaryDirectory() as tmp:
        xp, cp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "C.npy")
        np.save(xp, X)
        np.save(cp, C)
        args = ["kmeans", "--data", xp, "--k", str(a.k), "--init", cp, "--max-iter", str(a.iters),
                "--tol", "0", "--quiet"]
        timings = {}
        for label, cmd, env in [
                ("1 rank x 2 threads", [a.tessera], ONE_RANK),
                ("2 ranks x 1 thread", ["mpirun", "-np", "2", a.tessera], dict(ENV, OMP_NUM_THREADS="1"))]:
            best = float("inf")
            for r in range(2):
                out = os.path.join(tmp, f"out{len(timings)}{r}")
                subprocess.run(cmd + args + ["--out", out], env=env, check=True)
                run = json.load(open(os.path.join(out, "kmeans.json")))["runs"][0]
                best = min(best, phase(out, "fit") / run["n_iter"])
            timings[label] = (best, run)
        t = time.perf_counter()
        m = KMeans(a.k, init=C, n_init=1, max_iter=a.iters, tol=0, algorithm="lloyd").fit(X)
        sk = (time.perf_counter() - t) / m.n_iter_
        flops = 2.0 * a.rows * a.k * a.cols
        shape = best_of(3, lambda: X @ C.T)
        n = 4096
        A = np.random.default_rng(0).standard_normal((n, n))
        square = best_of(3, lambda: A @ A)
        A32 = A.astype(np.float32)
        square32 = best_of(3, lambda: A32 @ A32)
        print(f"k-means {a.rows} x {a.cols}, k = {a.k}, {a.iters} Lloyd iterations from the same centroids (tol 0):")
        for label, (per, run) in timings.items():
            print(f"  tessera ({label}): {per * 1000:.1f} ms per iteration ({run['n_iter']} iterations, "
                  f"inertia {run['inertia']:.10g}), assignment {flops / per / 1e9:.1f} GFLOP/s; "
                  f"{sk / per:.1f}x scikit-learn")
        print(f"  scikit-learn: {sk * 1000:.1f} ms per iteration ({m.n_iter_} iterations, inertia {m.inertia_:.10g})")
        print(f"  NumPy dgemm: {flops / shape / 1e9:.1f} GFLOP/s at this shape ({a.rows} x {a.cols} . {a.cols} x {a.k}), "
              f"{2.0 * n ** 3 / square / 1e9:.1f} GFLOP/s square {n}; sgemm (float32) "
              f"{2.0 * n ** 3 / square32 / 1e9:.1f} GFLOP/s square {n}")
        print("  (tessera's assignment ranks the centroids in float32 on AVX-512 CPUs, float64 only"
              " for near ties:\n   its GFLOP/s, counted per distance, compare with sgemm's)")
        try:
            import faiss
            # All rows in every iteration (FAISS samples 256 per centroid by default), the
            # same initial centroids, the same 2 threads; float32 is FAISS's only precision.
            faiss.omp_set_num_threads(2)
            X32, C32 = X.astype(np.float32), C.astype(np.float32)
            km = faiss.Kmeans(a.cols, a.k, niter=a.iters, max_points_per_centroid=a.rows)
            t = time.perf_counter()
            km.train(X32, init_centroids=C32)
            fa = (time.perf_counter() - t) / a.iters
            best_per = min(per for per, _ in timings.values())
            print(f"  FAISS {faiss.__version__} (float32, 2 threads): {fa * 1000:.1f} ms per iteration "
                  f"(objective {km.obj[-1]:.10g}); tessera (float64) {fa / best_per:.1f}x FAISS")
        except ImportError:
            print("  FAISS: not installed (pip install faiss-cpu)")

        # The elbow sweep
        E, _ = make_blobs(n_samples=5000, centers=8, n_features=2, random_state=0)
        ep = os.path.join(tmp, "E.npy")
        np.save(ep, E)
        out = os.path.join(tmp, "elbow")
        subprocess.run(["mpirun", "-np", "2", a.tessera, "kmeans", "--data", ep, "--k", "2:19", "--n-init", "10",
                        "--out", out, "--quiet"], env=dict(ENV, OMP_NUM_THREADS="1"), check=True)
        te = phase(out, "fit")
        t = time.perf_counter()
        sk_inertia = [KMeans(k, n_init=10).fit(E).inertia_ for k in range(2, 20)]
        se = time.perf_counter() - t
        ours = [r["inertia"] for r in json.load(open(os.path.join(out, "kmeans.json")))["runs"]]
        worst = max(o / s - 1 for o, s in zip(ours, sk_inertia))
        print(f"elbow sweep (5000 x 2, k = 2..19, n_init = 10): tessera {te:.3f} s (2 ranks), scikit-learn "
              f"{se:.3f} s ({se / te:.1f}x); tessera's inertia at most {worst * 100:.3f}% above scikit-learn's")


if __name__ == "__main__":
    main()
