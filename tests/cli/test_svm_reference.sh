#!/usr/bin/env bash
# The reference run (RBF SVC, digits, C = logspace(-6,6,20), gamma = logspace(-6,1,20),
# 5-fold stratified CV: 2000 fits) on 1, 2 and 3 ranks: every cell's mean_test_score
# within 0.005 of scikit-learn's (tests/fixtures/svm_grid.json), the same best cell, and
# the same results whatever the rank count. Label `slow` (about a minute a run here).
#   test_svm_reference.sh TESSERA WORKDIR MPIEXEC FIXTURES
set -euo pipefail
tessera=$1 work=$2 mpiexec=$3 fixtures=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
grid=(svm-search --data digits --C logspace:-6:6:20 --gamma logspace:-6:1:20 --folds 5 --quiet)
OMP_NUM_THREADS=2 "$tessera" "${grid[@]}" --out np1
"$mpiexec" -np 2 --oversubscribe "$tessera" "${grid[@]}" --out np2
"$mpiexec" -np 3 --oversubscribe "$tessera" "${grid[@]}" --out np3
python3 - "$fixtures/svm_grid.json" <<'PY'
import csv, json, sys
ref = json.load(open(sys.argv[1]))
runs = {}
for run in ("np1", "np2", "np3"):
    rows = list(csv.DictReader(open(f"{run}/cv_results.csv")))
    assert len(rows) == 400, len(rows)
    worst = 0.0
    for k, r in enumerate(rows):
        assert abs(float(r["param_C"]) / ref["C"][k] - 1) < 1e-12, (k, r["param_C"])
        assert abs(float(r["param_gamma"]) / ref["gamma"][k] - 1) < 1e-12, (k, r["param_gamma"])
        worst = max(worst, abs(float(r["mean_test_score"]) - ref["mean_test_score"][k]))
    assert worst <= 0.005, f"{run}: a cell differs from scikit-learn by {worst}"
    best = json.load(open(f"{run}/best.json"))
    assert best["best_params"]["C"] == ref["best_params"]["C"], best
    assert abs(best["best_params"]["gamma"] / ref["best_params"]["gamma"] - 1) < 1e-12, best
    assert abs(best["best_score"] - ref["best_score"]) <= 0.005, best
    runs[run] = [{k: v for k, v in r.items() if "fit_time" not in k} for r in rows]
    print(f"{run}: 400 cells within {worst:.5f} of scikit-learn {ref['sklearn']}; best C={best['best_params']['C']:.6g} "
          f"gamma={best['best_params']['gamma']:.6g} score {best['best_score']:.5f} (scikit-learn {ref['best_score']:.5f})")
assert runs["np1"] == runs["np2"] == runs["np3"], "results differ between rank counts"
print("same results on 1, 2 and 3 ranks")
print("svm reference grid ok")
PY
