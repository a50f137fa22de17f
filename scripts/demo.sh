#!/usr/bin/env bash
# Set-up, build, then the main job on the embedded data: per-column and per-digit
# (group-by label) statistics of the digits data (1797 x 64) under mpirun -np 2, checked
# bit for bit against the one-rank result.
# (The SVM grid search replaces this as soon as it exists.)
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup
build_preset release -DTESSERA_BUILD_TESTS=OFF
out=${TESSERA_OUT:-$repo/tessera-out/demo}
tessera=$repo/build/bin/tessera
"$tessera" datasets
echo
echo "[tessera] stats on digits with 2 ranks -> $out"
mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS=1 -x OMP_PROC_BIND -x OMP_WAIT_POLICY \
  "$tessera" stats --data digits --group-by label --chunk-rows 256 --out "$out"
"$tessera" stats --data digits --group-by label --chunk-rows 256 --out "$out/one-rank" --quiet
if cmp -s "$out/stats.json" "$out/one-rank/stats.json"; then
  echo "[tessera] 2-rank result is bitwise identical to the 1-rank result"
else
  echo "[tessera] 2-rank and 1-rank results differ" >&2
  exit 1
fi
echo "[tessera] results: $out/stats.json, run report: $out/run.json"
