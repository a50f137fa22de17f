#!/usr/bin/env bash
# tessera pca as users and scripts run it: pca.json fields and shapes, variance.svg, the
# --transform scores, the same results on 1 and 3 ranks, and clear errors for bad input.
# (Agreement with scikit-learn: the test_pca unit test.)
#   test_pca_cli.sh TESSERA WORKDIR MPIEXEC
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh" "$@"

run one "$tessera" pca --data digits --components 5 --chunk-rows 200 --transform one/scores.npy --out one
check "pca --components 5: exit 0, pca.json, variance.svg, run.json, scores.npy" bash -c "[[ $(rc one) == 0 ]] && test -s one/pca.json -a -s one/variance.svg -a -s one/run.json -a -s one/scores.npy"
check "pca.json: 5 components of 64, variances falling, ratios in (0, 1], mean of 64" python3 - one <<'PY'
import json, math, struct, sys
d = json.load(open(sys.argv[1] + "/pca.json"))
assert len(d["components"]) == 5 and all(len(c) == 64 for c in d["components"])
for c in d["components"]:
    assert abs(math.sqrt(sum(v * v for v in c)) - 1) < 1e-12  # unit vectors
ev = d["explained_variance"]
assert len(ev) == 5 and all(a >= b > 0 for a, b in zip(ev, ev[1:])), ev
assert all(0 < r <= 1 for r in d["explained_variance_ratio"]) and sum(d["explained_variance_ratio"]) < 1
assert len(d["mean"]) == 64 and d["noise_variance"] > 0
assert all(abs(s * s / 1796 - v) < 1e-9 * v for s, v in zip(d["singular_values"], ev))
raw = open(sys.argv[1] + "/scores.npy", "rb").read()
n = struct.unpack("<H", raw[8:10])[0]
assert "'shape': (1797, 5)" in raw[10:10 + n].decode(), raw[10:10 + n]
PY
check "variance.svg has labelled axes" bash -c "grep -q '>component<' one/variance.svg && grep -q 'fraction of the variance' one/variance.svg"
run three "$mpiexec" -np 3 --oversubscribe "$tessera" pca --data digits --components 5 --chunk-rows 200 --out three --quiet
check "mpirun -np 3: exit 0, the same pca.json" bash -c "[[ $(rc three) == 0 ]] && cmp one/pca.json three/pca.json"

run threads env OMP_NUM_THREADS=2 "$tessera" pca --data digits --components 5 --chunk-rows 200 --out threads --quiet
check "2 threads: the same pca.json as 1 thread" bash -c "[[ $(rc threads) == 0 ]] && cmp one/pca.json threads/pca.json"

# --- the randomized solver: the covariance solver's answer on digits
run randomized "$tessera" pca --data digits --components 5 --solver randomized --out rnd
check "--solver randomized: exit 0, components within 1e-5 and variances within 1e-8 of the covariance solver" python3 -c "
import json
a = json.load(open('one/pca.json')); b = json.load(open('rnd/pca.json'))
assert max(abs(x - y) for r, s in zip(a['components'], b['components']) for x, y in zip(r, s)) < 1e-5
assert all(abs(x / y - 1) < 1e-8 for x, y in zip(a['explained_variance'], b['explained_variance']))"

# --- streamed under --memory-limit (the 1797 x 5 scores as data): the in-memory results
run mem "$tessera" pca --data one/scores.npy --chunk-rows 100 --transform mem/z.npy --out mem
run streamed "$mpiexec" -np 3 --oversubscribe "$tessera" pca --data one/scores.npy --chunk-rows 100 --memory-limit 16K --transform streamed/z.npy --out streamed
check "--memory-limit 16K on 3 ranks: streamed, the same pca.json and scores" bash -c "[[ $(rc mem) == 0 && $(rc streamed) == 0 ]] && grep -q streamed streamed.out && cmp mem/pca.json streamed/pca.json && cmp mem/z.npy streamed/z.npy"

run mem3 "$mpiexec" -np 3 --oversubscribe "$tessera" pca --data one/scores.npy --chunk-rows 100 --transform mem3/z.npy --out mem3 --quiet
check "in memory on 3 ranks (each reads only its rows): the same pca.json and scores" bash -c "[[ $(rc mem3) == 0 ]] && cmp mem/pca.json mem3/pca.json && cmp mem/z.npy mem3/z.npy"

bad too_many "n_components = 65 is more than min(rows, features)" pca --data digits --components 65
bad whiten_zero_variance "has zero variance" pca --data digits --whiten
bad unknown_solver "unknown PCA solver" pca --data digits --solver svd
bad not_npy "written as .npy" pca --data digits --transform scores.csv
bad beyond_memory "rows × 100000 columns that one rank holds on this node need 8e+05 GB, more than the" pca --data random:rows=1000000000,cols=100000,seed=1
bad randomized_streamed "randomized solver needs the data in memory" pca --data one/scores.npy --solver randomized --memory-limit 16K

finish "pca cli"
