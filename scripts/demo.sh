#!/usr/bin/env bash
# Set-up, build, then the main job on the embedded data: the reference SVM grid search
# (RBF SVC on digits, C = logspace(-6, 6, 20), gamma = logspace(-6, 1, 20), 5-fold
# stratified CV: 2000 fits) under mpirun -np 2, printing the best parameters, the best CV
# score, the test score and where the heat map is. The data is split 80/20 (stratified
# by the fixed digits order: the first 1437 rows train, the last 360 test).
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup
build_preset release -DTESSERA_BUILD_TESTS=OFF
out=${TESSERA_OUT:-$repo/tessera-out/demo}
tessera=$repo/build/bin/tessera
mkdir -p "$out"
# Train / test split of the embedded digits as CSV (label last).
head -n 1437 "$repo/data/digits.csv" >"$out/digits_train.csv"
tail -n +1438 "$repo/data/digits.csv" >"$out/digits_test.csv"
echo "[tessera] svm-search on digits (1437 train / 360 test rows), 400 grid points x 5 folds, 2 ranks -> $out"
start=$(date +%s)
mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS=1 -x OMP_PROC_BIND -x OMP_WAIT_POLICY \
  "$tessera" svm-search --data "$out/digits_train.csv" --test "$out/digits_test.csv" \
  --kernel rbf --C logspace:-6:6:20 --gamma logspace:-6:1:20 --folds 5 --out "$out" "$@"
echo "[tessera] done in $(( $(date +%s) - start )) s"
python3 - "$out" <<'PY'
import json, sys
best = json.load(open(sys.argv[1] + "/best.json"))
p = best["best_params"]
print(f"[tessera] best parameters: C = {p['C']:.6g}, gamma = {p['gamma']:.6g}")
print(f"[tessera] best mean CV accuracy: {best['best_score']:.4f}")
print(f"[tessera] test accuracy (refit on the 1437 training rows): {best['test_score']:.4f}")
print(f"[tessera] heat map: {sys.argv[1]}/heatmap.svg; table: {sys.argv[1]}/cv_results.csv")
PY
