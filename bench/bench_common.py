"""Helpers shared by the peer-comparison scripts in bench/ (run as bench/<script>.py, so
this folder is on their import path)."""
import os
import time

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
