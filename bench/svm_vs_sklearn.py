#!/usr/bin/env python3
"""SVM fits and the reference grid search: tessera vs scikit-learn (and libsvm's
svm-train), side by side in one run on the same cores.

  /usr/bin/python3 bench/svm_vs_sklearn.py [--skip-grid] [--ranks 2]

1. One fit, RBF, C=10, gamma=0.001, digits (1797 x 64): `tessera svm-train` (its "fit"
   phase from run.json) vs SVC(shrinking=False).fit vs `svm-train -h 0` (libsvm's
   command, whole process, reading included: ~0.02 s of it).
2. The reference grid: C = logspace(-6,6,20) x gamma = logspace(-6,1,20), 5-fold
   stratified CV = 2000 fits: `mpirun -np R tessera svm-search` (its "search" phase) vs
   GridSearchCV(SVC(shrinking=False), cv=5, n_jobs=R).
3. A larger fit: 50000 x 100 synthetic binary problem (make_classification, seed 0),
   RBF, gamma=scale: `tessera svm-train --shrinking` (kernel rows cached in its default 8 GiB) vs
   SVC(gamma="scale").fit with scikit-learn's defaults (shrinking, 200 MB cache).
Ratios > 1 mean tessera is faster.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from sklearn import datasets
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from bench_common import ENV, ONE_RANK, best_of




def phase(out, name):
    return json.load(open(os.path.join(out, "run.json")))["phases"][name]


def write_libsvm(path, X, y):
    with open(path, "w") as f:
        for row, label in zip(X, y):
            f.write(f"{int(label)} " + " ".join(f"{j + 1}:{v:.17g}" for j, v in enumerate(row) if v != 0) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tessera", default="build/bin/tessera")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--skip-grid", action="store_true")
    p.add_argument("--skip-large", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    X, y = datasets.load_digits(return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "digits.libsvm")
        write_libsvm(data, X, y)
        out = os.path.join(tmp, "out")
        env1 = dict(ONE_RANK, OMP_NUM_THREADS=str(a.ranks))
        t_fit = float("inf")
        for _ in range(a.repeat):
            subprocess.run([a.tessera, "svm-train", "--data", data, "--C", "10", "--gamma", "0.001",
                            "--model", os.path.join(tmp, "t.model"), "--out", out, "--quiet"],
                           env=env1, check=True)
            t_fit = min(t_fit, phase(out, "fit"))
        sk_fit = best_of(a.repeat, lambda: SVC(C=10, gamma=0.001, shrinking=False).fit(X, y))
        lib_fit = best_of(a.repeat, lambda: subprocess.run(
            ["svm-train", "-q", "-c", "10", "-g", "0.001", "-h", "0", data, os.path.join(tmp, "l.model")],
            check=True))
        print(f"one fit (digits, C=10, gamma=0.001): tessera {t_fit:.4f} s ({a.ranks} threads), "
              f"scikit-learn {sk_fit:.4f} s ({sk_fit / t_fit:.1f}x), libsvm svm-train {lib_fit:.4f} s "
              f"({lib_fit / t_fit:.1f}x)")
        # The same fit repeated in one process (as scikit-learn's is timed): no first-touch
        # page faults, warm threads; from build/bench/bench_kernels when it was built.
        kernels = os.path.join(os.path.dirname(a.tessera), "..", "bench", "bench_kernels")
        if os.path.exists(kernels):
            r = subprocess.run([kernels, "--benchmark_filter=svc_fit", "--benchmark_format=json"],
                               env=env1, check=True, capture_output=True, text=True)
            warm = json.loads(r.stdout)["benchmarks"][0]["real_time"] / 1e3
            print(f"one fit repeated in process: tessera {warm:.4f} s, scikit-learn {sk_fit:.4f} s "
                  f"({sk_fit / warm:.1f}x)")

        if not a.skip_grid:
            env = dict(ENV, OMP_NUM_THREADS="1")
            subprocess.run(["mpirun", "-np", str(a.ranks), a.tessera, "svm-search", "--data", "digits",
                            "--C", "logspace:-6:6:20", "--gamma", "logspace:-6:1:20", "--folds", "5",
                            "--out", out, "--quiet"], env=env, check=True)
            t_grid = phase(out, "search")
            grid = {"C": np.logspace(-6, 6, 20), "gamma": np.logspace(-6, 1, 20)}
            t = time.perf_counter()
            GridSearchCV(SVC(shrinking=False), grid, cv=5, n_jobs=a.ranks).fit(X, y)
            sk_grid = time.perf_counter() - t
            print(f"reference grid (2000 fits): tessera {t_grid:.1f} s (mpirun -np {a.ranks}), "
                  f"scikit-learn GridSearchCV(n_jobs={a.ranks}) {sk_grid:.1f} s ({sk_grid / t_grid:.1f}x)")

        if a.skip_large:
            return
        Xb, yb = datasets.make_classification(n_samples=50000, n_features=100, random_state=0)
        xb, lb = os.path.join(tmp, "big_X.npy"), os.path.join(tmp, "big_y.npy")
        np.save(xb, Xb)
        np.save(lb, yb.astype(np.float64))
        big = os.path.join(tmp, "big")
        subprocess.run([a.tessera, "svm-train", "--data", xb, "--labels", lb, "--shrinking", "--model",
                        os.path.join(tmp, "big.model"), "--out", big, "--quiet"], env=env1, check=True)
        t_big = phase(big, "fit")
        with open(os.path.join(tmp, "big.model")) as f:
            header = dict(line.split(" ", 1) for line in (next(f).strip() for _ in range(8)))
        t = time.perf_counter()
        m = SVC(gamma="scale").fit(Xb, yb)  # scikit-learn's defaults: shrinking, 200 MB cache
        sk_big = time.perf_counter() - t
        print(f"50000 x 100 binary RBF fit (gamma=scale, C=1): tessera {t_big:.1f} s ({a.ranks} threads; "
              f"support vectors {header['nr_sv']}, rho {float(header['rho']):.6f}), scikit-learn "
              f"{sk_big:.1f} s (support vectors {' '.join(map(str, m.n_support_))}, rho "
              f"{-m._intercept_[0]:.6f}): {sk_big / t_big:.1f}x")

if __name__ == "__main__":
    main()
