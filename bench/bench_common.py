"""Helpers shared by the peer-comparison scripts in bench/ (run as bench/<script>.py, so
this folder is on their import path)."""
import ctypes
import os
import sys
import time

# OpenBLAS's SSE-era kernels: what a build for several CPUs falls back to on a CPU newer than
# itself (Debian 12's 0.3.21 on Sapphire and Emerald Rapids chooses Prescott's).
SSE_ERA = {"katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2",
           "penryn", "dunnington", "nehalem", "athlon", "opteron", "opteron(sse3)", "barcelona",
           "nano"}


def openblas_cores():
    """The kernels each OpenBLAS loaded in this process runs ({library path: name})."""
    cores = {}
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
    except OSError:
        return cores
    for path in paths:
        try:
            name = ctypes.CDLL(path).openblas_get_corename
        except (OSError, AttributeError):  # not loadable, or its symbols renamed (SciPy's builds)
            continue
        name.restype = ctypes.c_char_p
        cores[path] = name().decode()
    return cores


def fair_peers():
    """Where the peers' OpenBLAS (NumPy's, scikit-learn's) fell back to its SSE-era kernels
    on a CPU with AVX2 and FMA, run this script again with OPENBLAS_CORETYPE set to the
    kernels the CPU runs, as tessera does for itself: the peers at their own best speed."""
    if os.environ.get("OPENBLAS_CORETYPE") or not sys.argv or not os.path.isfile(sys.argv[0]):
        return
    try:
        import numpy  # noqa: F401  (loads its BLAS)
    except ImportError:
        return
    fallback = sorted(c for c in openblas_cores().values() if c.lower() in SSE_ERA)
    try:
        with open("/proc/cpuinfo") as info:
            flags = set(next(line for line in info if line.startswith("flags")).split()[2:])
    except (OSError, StopIteration):
        return
    if not fallback or not {"avx2", "fma"} <= flags:
        return
    target = ("SkylakeX" if {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"} <= flags
              else "Haswell")
    print(f"[bench] the peers' OpenBLAS chose its {fallback[0]} kernels on this CPU: running again "
          f"with OPENBLAS_CORETYPE={target}", file=sys.stderr, flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, OPENBLAS_CORETYPE=target))


fair_peers()

# Environment for tessera runs: Open MPI as root, oversubscription, unbound OpenMP threads.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMP_PROC_BIND="false")


# One process with two OpenMP threads, as a user runs it (no OMP_PROC_BIND=false: unbound
# threads beside OpenBLAS's own made k-means 2.7x slower).
ONE_RANK = {k: v for k, v in ENV.items() if k != "OMP_PROC_BIND"}
ONE_RANK["OMP_NUM_THREADS"] = "2"


def best_of(n, f):
    """The shortest of n timed calls of f (seconds)."""
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best
