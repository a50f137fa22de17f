#!/usr/bin/env python3
"""Sum, mean and std of a whole matrix and of a vector: tessera vs NumPy vs dask.array,
with a STREAM triad as the bandwidth ceiling and a streamed .npy file against `cat`,
all in one run on the same machine.

  /usr/bin/python3 bench/collections_vs_dask.py [--rows 20000 --cols 20000 --n 100000000]

tessera: build/bench/bench_collections (array::summary: sum, mean and std in one read,
blocks of 2048 elements merged in order; beside it array::column_stats, every column's
statistics, for reference; the triad a = b + 3c and a plain read of the same data, a
vectorised sum that does nothing else, run in the same program: the ceilings) and
`tessera stats` on an .npy file (its "reduce" phase reads and reduces the per-column
statistics, overlapped).
NumPy: X.sum(), X.mean(), X.std() on the in-memory array. Dask: the same three from
da.from_array(X, chunks=(2000, 2000)) in one dask.compute on the threaded scheduler.
Ratios > 1 mean tessera is faster.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

from bench_common import ENV, best_of




def tessera_bench(binary, rows, cols, repeat, chunk_rows):
    out = subprocess.run([binary, str(rows), str(cols), str(repeat), str(chunk_rows)], env=ENV,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def peers(shape, chunks, repeat):
    import dask
    import dask.array as da
    X = np.random.default_rng(0).random(shape)
    gb = X.nbytes / 1e9
    numpy = best_of(repeat, lambda: (X.sum(), X.mean(), X.std()))
    D = da.from_array(X, chunks=chunks)
    with dask.config.set(scheduler="threads"):
        dask_time = best_of(repeat, lambda: dask.compute(D.sum(), D.mean(), D.std()))
    return X, gb, numpy, dask_time


def line(name, gb, tessera, numpy, dask_time, triad, read):
    print(f"{name:<22} {gb:6.2f} GB  tessera {tessera:7.3f} s ({gb / tessera:6.2f} GB/s, "
          f"{(gb / tessera) / triad:4.0%} of triad, {(gb / tessera) / read:4.0%} of a plain read)  "
          f"NumPy {numpy:7.3f} s ({numpy / tessera:5.1f}x)  "
          f"Dask {dask_time:7.3f} s ({dask_time / tessera:5.1f}x)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--cols", type=int, default=20000)
    p.add_argument("--n", type=int, default=100_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bench", default="build/bench/bench_collections")
    p.add_argument("--tessera", default="build/bin/tessera")
    a = p.parse_args()

    m = tessera_bench(a.bench, a.rows, a.cols, a.repeat, 2000)
    triad = m["triad_gbps"]
    print(f"STREAM triad (tessera, Kokkos): {triad:.1f} GB/s; a plain read of the matrix (a "
          f"vectorised sum): {m['read_gbps']:.1f} GB/s; "
          f"threads: {os.environ.get('OMP_NUM_THREADS', 'all cores')}")
    X, gb, numpy, dask_time = peers((a.rows, a.cols), (2000, 2000), a.repeat)
    line(f"{a.rows} x {a.cols}", gb, m["seconds"], numpy, dask_time, triad, m["read_gbps"])
    print(f"{'  (per-column stats)':<22} {gb:6.2f} GB  tessera column_stats "
          f"{m['column_stats_seconds']:7.3f} s ({gb / m['column_stats_seconds']:6.2f} GB/s)")
    assert abs(m["mean"] - 0.5) < 1e-3 and abs(X.mean() - 0.5) < 1e-3

    # Streaming the matrix from an .npy file (page cache warm) against cat's rate.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.npy")
        np.save(path, X)
        del X
        cat = best_of(a.repeat, lambda: subprocess.run(f"cat {path} > /dev/null", shell=True,
                                                        check=True))
        out = os.path.join(tmp, "out")
        streamed = float("inf")
        for _ in range(a.repeat):
            subprocess.run([a.tessera, "stats", "--data", path, "--chunk-rows", "2000", "--out", out,
                            "--quiet"], env=ENV, check=True)
            streamed = min(streamed,
                           json.load(open(os.path.join(out, "run.json")))["phases"]["reduce"])
        print(f"{'streamed .npy':<22} {gb:6.2f} GB  tessera stats {streamed:7.3f} s "
              f"({gb / streamed:6.2f} GB/s)  cat > /dev/null {cat:7.3f} s ({gb / cat:6.2f} GB/s): "
              f"{cat / streamed:4.0%} of cat's rate")

    v = tessera_bench(a.bench, a.n, 1, a.repeat, 65536)
    _, gbv, numpy_v, dask_v = peers((a.n,), (2000 * 2000,), a.repeat)
    line(f"vector 1e{len(str(a.n)) - 1}", gbv, v["seconds"], numpy_v, dask_v, v["triad_gbps"],
         v["read_gbps"])


if __name__ == "__main__":
    main()
