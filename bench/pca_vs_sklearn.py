#!/usr/bin/env python3
"""PCA: tessera vs scikit-learn and dask.array, side by side in one run.

  /usr/bin/python3 bench/pca_vs_sklearn.py [--rows 1000000] [--cols 64] [--components 8]

1,000,000 x 64 float64 (correlated Gaussian) to 8 components: `tessera pca` (its "fit"
phase from run.json; 1 rank x 2 threads and 2 ranks x 1 thread) vs PCA(svd_solver="full")
and PCA(svd_solver="randomized") fits vs dask.array's tall-and-skinny SVD (chunks of
100000 rows, threaded scheduler) of the centred data. Checks that the components agree.
Ratios > 1 mean tessera is faster.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from sklearn.decomposition import PCA

from bench_common import ENV, ONE_RANK, best_of


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tessera", default="build/bin/tessera")
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--cols", type=int, default=64)
    p.add_argument("--components", type=int, default=8)
    p.add_argument("--repeat", type=int, default=2)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((a.rows, a.cols)) @ rng.standard_normal((a.cols, a.cols))
    with tempfile.TemporaryDirectory() as tmp:
        xp = os.path.join(tmp, "X.npy")
        np.save(xp, X)
        args = ["pca", "--data", xp, "--components", str(a.components), "--quiet"]
        ours = {}
        for label, cmd, env in [
                ("1 rank x 2 threads", [a.tessera], ONE_RANK),
                ("2 ranks x 1 thread", ["mpirun", "-np", "2", a.tessera], dict(ENV, OMP_NUM_THREADS="1"))]:
            best = float("inf")
            for r in range(a.repeat):
                out = os.path.join(tmp, f"out{len(ours)}{r}")
                subprocess.run(cmd + args + ["--out", out], env=env, check=True)
                best = min(best, json.load(open(os.path.join(out, "run.json")))["phases"]["fit"])
            ours[label] = (best, json.load(open(os.path.join(out, "pca.json"))))
        full = PCA(a.components, svd_solver="full")
        t_full = best_of(a.repeat, lambda: full.fit(X))
        t_rand = best_of(a.repeat, lambda: PCA(a.components, svd_solver="randomized", random_state=0).fit(X))
        try:
            import dask.array as da

            def dask_svd():
                D = da.from_array(X, chunks=(100000, a.cols))
                u, s, v = da.linalg.svd(D - D.mean(axis=0))
                return da.compute(s, v[: a.components])
            t_dask = best_of(a.repeat, dask_svd)
        except ImportError:
            t_dask = None
        print(f"PCA {a.rows} x {a.cols} -> {a.components} components:")
        for label, (t, res) in ours.items():
            ours_c = np.array(res["components"])
            # scikit-learn >= 1.5 flips signs by the components (v-based), older versions by
            # the scores (u-based, as tessera): compare up to each component's sign.
            signs = np.sign(np.sum(ours_c * full.components_, axis=1))[:, None]
            diff = np.abs(ours_c - signs * full.components_).max()
            print(f"  tessera ({label}): {t:.3f} s; {t_full / t:.1f}x scikit-learn full, {t_rand / t:.1f}x randomized"
                  + (f", {t_dask / t:.1f}x dask" if t_dask else "") + f" (components within {diff:.1e} of full)")
        print(f"  scikit-learn: full {t_full:.3f} s, randomized {t_rand:.3f} s")
        print(f"  dask.array svd (tsqr, 100000-row chunks): " + (f"{t_dask:.3f} s" if t_dask else "not installed"))


if __name__ == "__main__":
    main()
