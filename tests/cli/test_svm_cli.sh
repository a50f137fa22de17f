#!/usr/bin/env bash
# tessera svm-search / svm-train / svm-predict as users and scripts run them: result files
# and their columns, the same results on 1 and 3 ranks, a SIGTERM midway then --resume,
# models read by libsvm's own svm-predict, and clear errors for bad input.
#   test_svm_cli.sh TESSERA WORKDIR MPIEXEC
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh" "$@"
# cv_results.csv without the timing columns (they differ from run to run)
scores() { python3 -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print({k: v for k, v in r.items() if 'fit_time' not in k})" "$1"; }
export -f scores  # used inside the checks' bash -c

# Digits as libsvm files: the first 1500 rows to train, the rest to test.
"$tessera" datasets >/dev/null  # the binary runs
python3 - "$TESSERA_FIXTURES/../../data/digits.csv" <<'PY'
import sys
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
def write(name, part):
    with open(name, "w") as f:
        for r in part:
            feats = " ".join(f"{j + 1}:{v}" for j, v in enumerate(r[:-1]) if float(v) != 0)
            f.write(f"{int(float(r[-1]))} {feats}\n")
write("train.libsvm", rows[:1500]); write("test.libsvm", rows[1500:])
write("binary_train.libsvm", [r for r in rows[:1500] if r[-1] in ("3", "8")])
write("binary_test.libsvm", [r for r in rows[1500:] if r[-1] in ("3", "8")])
PY
check "digits written as libsvm files" test -s train.libsvm -a -s test.libsvm

# --- svm-search: files, columns, best, test score
run search "$tessera" svm-search --data train.libsvm --test test.libsvm --C 1,10,100 --gamma 0.0001,0.001 --folds 3 --out s1
check "svm-search exits 0" test "$(rc search)" = 0
check "cv_results.csv, best.json, heatmap.svg, run.json written" test -s s1/cv_results.csv -a -s s1/best.json -a -s s1/heatmap.svg -a -s s1/run.json
check "cv_results.csv header" test "$(head -1 s1/cv_results.csv)" = "param_C,param_gamma,mean_test_score,std_test_score,rank_test_score,mean_train_score,std_train_score,mean_fit_time,std_fit_time,split0_test_score,split1_test_score,split2_test_score,split0_train_score,split1_train_score,split2_train_score"
check "grid order (C slowest) and ranks, best = first of the top" python3 - s1 <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/cv_results.csv")))
assert [(float(r["param_C"]), float(r["param_gamma"])) for r in rows] == [(c, g) for c in (1, 10, 100) for g in (1e-4, 1e-3)]
means = [float(r["mean_test_score"]) for r in rows]
for r, m in zip(rows, means):
    assert int(r["rank_test_score"]) == 1 + sum(x > m for x in means)
    folds = [float(r[f"split{k}_test_score"]) for k in range(3)]
    assert abs(sum(folds) / 3 - m) < 1e-12
best = json.load(open(sys.argv[1] + "/best.json"))
i = means.index(max(means))
assert best["best_params"] == {"C": float(rows[i]["param_C"]), "gamma": float(rows[i]["param_gamma"])}
assert best["best_score"] == means[i] and 0.95 < best["test_score"] <= 1.0, best
PY
check "heat map has labelled axes" bash -c "grep -q '>C<' s1/heatmap.svg && grep -q '>gamma<' s1/heatmap.svg"
run search3 "$mpiexec" -np 3 --oversubscribe "$tessera" svm-search --data train.libsvm --C 1,10,100 --gamma 0.0001,0.001 --folds 3 --out s3 --quiet
check "mpirun -np 3: exit 0" test "$(rc search3)" = 0
check "mpirun -np 3: the same cv_results as 1 rank" bash -c "diff <(scores s1/cv_results.csv) <(scores s3/cv_results.csv)"
for np in 2 3; do
  run batched$np "$mpiexec" -np $np --oversubscribe "$tessera" svm-search --data train.libsvm --C 1,10,100 --gamma 0.0001,0.001 --folds 3 --fold-batch 2 --out sb$np --quiet
  check "--fold-batch 2 on $np ranks: the same cv_results as 1 rank" bash -c "[[ $(rc batched$np) == 0 ]] && diff <(scores s1/cv_results.csv) <(scores sb$np/cv_results.csv)"
done

# --- SIGTERM midway (journal flushed), then --resume: the uninterrupted results
grid=(--data train.libsvm --C logspace:-1:3:9 --gamma logspace:-4:-2:30 --folds 5)  # seconds: long enough to stop
run full "$tessera" svm-search "${grid[@]}" --out full --quiet
interrupt cut '(( $(cat cut/journal/journal.*.bin 2>/dev/null | wc -c) > 32 ))' "$tessera" svm-search "${grid[@]}" --out cut --quiet
check "SIGTERM: exit 1 with the interruption named" bash -c "[[ $(rc cut) == 1 ]] && grep -q 'interrupted by SIGTERM' cut.err"
check "SIGTERM: no cv_results.csv" test ! -e cut/cv_results.csv
run resume "$tessera" svm-search "${grid[@]}" --out cut --resume
check "--resume: exit 0, tasks resumed" bash -c "[[ $(rc resume) == 0 ]] && grep -q 'tasks resumed' resume.out"
check "--resume: cv_results identical to the uninterrupted run" bash -c "diff <(scores full/cv_results.csv) <(scores cut/cv_results.csv)"
check "--resume: best.json identical" cmp full/best.json cut/best.json
# the same with two folds per task (a task's results are those of its folds)
interrupt cutb '(( $(cat cutb/journal/journal.*.bin 2>/dev/null | wc -c) > 32 ))' "$tessera" svm-search "${grid[@]}" --fold-batch 2 --out cutb --quiet
run resumeb "$tessera" svm-search "${grid[@]}" --fold-batch 2 --out cutb --resume
check "--fold-batch 2: SIGTERM, --resume: tasks resumed, the uninterrupted cv_results" bash -c "[[ $(rc cutb) == 1 && $(rc resumeb) == 0 ]] && grep -q 'tasks resumed' resumeb.out && diff <(scores full/cv_results.csv) <(scores cutb/cv_results.csv)"
run resumeb1 "$tessera" svm-search "${grid[@]}" --fold-batch 1 --out cutb --resume
check "--resume with another --fold-batch: refused" bash -c "[[ $(rc resumeb1) != 0 ]] && grep -qi 'journal' resumeb1.err"

# --- svm-train / svm-predict, and libsvm's svm-predict on tessera's model
for kind in "" binary_; do
  run train_$kind "$tessera" svm-train --data ${kind}train.libsvm --C 10 --gamma 0.001 --model ${kind}digits.model
  check "svm-train ${kind}: exit 0 and a model" bash -c "[[ $(rc train_$kind) == 0 ]] && grep -q '^svm_type c_svc' ${kind}digits.model"
  run predict_$kind "$tessera" svm-predict --data ${kind}test.libsvm --model ${kind}digits.model --out p_$kind
  check "svm-predict ${kind}: predictions.csv (one per row), metrics.json" bash -c "[[ $(rc predict_$kind) == 0 && \$(wc -l <p_$kind/predictions.csv) == \$(wc -l <${kind}test.libsvm) ]] && grep -q accuracy p_$kind/metrics.json"
  if command -v svm-predict >/dev/null; then
    svm-predict ${kind}test.libsvm ${kind}digits.model libsvm_$kind.txt >/dev/null
    check "libsvm's svm-predict gives tessera's predictions (${kind:-multiclass})" python3 -c "
a = [float(x) for x in open('p_$kind/predictions.csv')]; b = [float(x) for x in open('libsvm_$kind.txt')]
assert len(a) == len(b) and a == b, sum(x != y for x, y in zip(a, b))"
  else
    check "libsvm's svm-predict is installed (scripts/setup.sh installs libsvm-tools)" false
  fi
done
run shrink "$tessera" svm-train --data train.libsvm --C 10 --gamma 0.001 --kernel-memory 1M --shrinking --model shrink.model
run shrink_predict "$tessera" svm-predict --data test.libsvm --model shrink.model --out p_shrink
check "svm-train --shrinking (cached rows): the in-memory model's predictions" python3 -c "
a = open('p_/predictions.csv').read().split(); b = open('p_shrink/predictions.csv').read().split()
assert len(a) == len(b) == 297 and sum(x != y for x, y in zip(a, b)) <= 2, (len(a), len(b))"

# --- the kernel-row cache: a --kernel-memory far below the 1500 x 1500 kernel matrix;
# the model still reads in libsvm and predicts as the full matrix's (scikit-learn
# agreement of this path: test_ml's KernelRowCacheMatchesScikitLearn)
run train_cached "$tessera" svm-train --data train.libsvm --C 10 --gamma 0.001 --kernel-memory 64K --model cached.model
run predict_cached "$tessera" svm-predict --data test.libsvm --model cached.model --out p_cached
check "--kernel-memory 64K: exit 0, the full matrix's predictions" bash -c "[[ $(rc train_cached) == 0 && $(rc predict_cached) == 0 ]] && cmp p_/predictions.csv p_cached/predictions.csv"

# --- .npy data with --labels (an .npy vector), written here without NumPy
python3 - <<'PY'
import struct
rows = [l.split() for l in open("binary_train.libsvm")]
X = [[0.0] * 64 for _ in rows]
for i, r in enumerate(rows):
    for item in r[1:]:
        j, v = item.split(":")
        X[i][int(j) - 1] = float(v)
def save(name, shape, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (shape,)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(name, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%dd" % len(values), *values))
save("binary_X.npy", (len(X), 64), [v for row in X for v in row])
save("binary_y.npy", (len(X),), [float(r[0]) for r in rows])
PY
run train_npy "$tessera" svm-train --data binary_X.npy --labels binary_y.npy --C 10 --gamma 0.001 --model npy.model
run predict_npy "$tessera" svm-predict --data binary_test.libsvm --model npy.model --out p_npy
check "--data X.npy --labels y.npy: the libsvm file's model" bash -c "[[ $(rc train_npy) == 0 && $(rc predict_npy) == 0 ]] && cmp p_binary_/predictions.csv p_npy/predictions.csv"

# --- bad input: exit 2 and one error line
printf '1,2,0\n2,3,0\n3,4,0\n' >oneclass.csv
printf '1,2,0.5\n2,3,1\n3,4,0\n4,5,1\n' >fraclabels.csv
printf '1,2,0\n2,3,0\n3,4,0\n4,5,1\n5,6,1\n' >fewrows.csv
printf 'this is not a model\n' >bad.model
printf '1,2,0\n,3,1\n3,4,0\n4,5,1\n' >nan.csv
bad c_zero "C must be > 0" svm-search --data train.libsvm --C 0,1
bad gamma_negative "gamma" svm-search --data train.libsvm --gamma -1
bad fold_batch_negative "fold-batch" svm-search --data train.libsvm --fold-batch -1
bad search_memory "kernel memory budget" svm-search --data train.libsvm --kernel-memory 1K
bad degree_zero "degree must be >= 1" svm-search --data train.libsvm --kernel poly --degree 0
# svm-train's single values: "error: stod" with exit 1, and 2.5 read as 2, before
bad train_c_text "--C: .abc. is not a finite number" svm-train --data train.libsvm --C abc --model x.model
bad train_c_huge "--C: .1e400. is not a finite number" svm-train --data train.libsvm --C 1e400 --model x.model
bad train_degree_fraction "--degree: .2.5. is not an integer" svm-train --data train.libsvm --kernel poly --degree 2.5 --model x.model
bad train_coef0_text "--coef0: .x. is not a finite number" svm-train --data train.libsvm --kernel sigmoid --coef0 x --model x.model
bad single_class "single class" svm-train --data oneclass.csv
bad fractional_labels "not an integer" svm-search --data fraclabels.csv --folds 2
bad too_few_rows "fewer than the 3 folds" svm-search --data fewrows.csv --folds 3
bad empty_grid "C" svm-search --data train.libsvm --C ""
bad nan_feature "row 1, column 0 is nan" svm-train --data nan.csv
bad not_a_model "not a libsvm" svm-predict --data test.libsvm --model bad.model
bad missing_model "cannot open" svm-predict --data test.libsvm --model nowhere.model
bad kernel_memory "--kernel-memory: unknown size suffix" svm-train --data train.libsvm --kernel-memory 12Q
bad labels_not_vector "expected a 1-D array" svm-train --data binary_X.npy --labels binary_X.npy

finish "svm cli"
