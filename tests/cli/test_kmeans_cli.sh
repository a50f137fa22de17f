#!/usr/bin/env bash
# tessera kmeans as users and scripts run it: result files and their shapes, the same
# results on 1 and 3 ranks (one k, and a sweep farmed over the ranks), a sweep's k equal
# to that k alone, and clear errors for bad input. (Agreement with scikit-learn: the
# test_kmeans unit test.)
#   test_kmeans_cli.sh TESSERA WORKDIR MPIEXEC
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh" "$@"

data="blobs:n=3000,features=4,centers=5,std=0.6,box=10,seed=2"
# --- one k: files, shapes, ranks
run one "$tessera" kmeans --data "$data" --k 5 --chunk-rows 500 --out one
check "kmeans --k 5: exit 0" test "$(rc one)" = 0
check "kmeans.json, inertia.csv, labels.csv, run.json written" test -s one/kmeans.json -a -s one/inertia.csv -a -s one/labels.csv -a -s one/run.json
check "kmeans.json: one run, 5 centroids of 4 numbers; labels.csv: 3000 labels in 0..4" python3 - one <<'PY'
import json, sys
runs = json.load(open(sys.argv[1] + "/kmeans.json"))["runs"]
assert len(runs) == 1 and runs[0]["k"] == 5 and runs[0]["n_iter"] >= 1 and runs[0]["inertia"] > 0, runs
assert len(runs[0]["centroids"]) == 5 and all(len(c) == 4 for c in runs[0]["centroids"])
labels = [int(l) for l in open(sys.argv[1] + "/labels.csv")]
assert len(labels) == 3000 and set(labels) == set(range(5))
assert open(sys.argv[1] + "/inertia.csv").read().splitlines() == ["k,inertia", f"5,{runs[0]['inertia']!r}"]
PY
run one3 "$mpiexec" -np 3 --oversubscribe "$tessera" kmeans --data "$data" --k 5 --chunk-rows 500 --out one3 --quiet
check "mpirun -np 3: exit 0, the same kmeans.json and labels.csv" bash -c "[[ $(rc one3) == 0 ]] && cmp one/kmeans.json one3/kmeans.json && cmp one/labels.csv one3/labels.csv"

run batch_unused "$tessera" kmeans --data "$data" --k 5 --batch-size 100 --chunk-rows 500 --out batch_unused
check "--batch-size without --mini-batch: a warning naming it, the same result" bash -c "[[ $(rc batch_unused) == 0 ]] && grep -q -- '--batch-size is not used: with --mini-batch only' batch_unused.err && cmp one/kmeans.json batch_unused/kmeans.json && ! grep -q 'is not used' one.err"
run threads env OMP_NUM_THREADS=2 "$tessera" kmeans --data "$data" --k 5 --chunk-rows 500 --out threads --quiet
check "2 threads: the same kmeans.json and labels.csv as 1 thread" bash -c "[[ $(rc threads) == 0 ]] && cmp one/kmeans.json threads/kmeans.json && cmp one/labels.csv threads/labels.csv"

# --- a sweep: elbow, ranks, and each k as when run alone
run sweep "$tessera" kmeans --data "$data" --k 2:7 --chunk-rows 500 --out sweep
check "kmeans --k 2:7: exit 0, elbow.svg with labelled axes, no labels.csv" bash -c "[[ $(rc sweep) == 0 ]] && grep -q 'k (clusters)' sweep/elbow.svg && grep -q '>inertia<' sweep/elbow.svg && test ! -e sweep/labels.csv"
check "inertia.csv: k = 2..7, inertia falling to the true k" python3 - sweep <<'PY'
import sys
rows = [l.split(",") for l in open(sys.argv[1] + "/inertia.csv").read().splitlines()[1:]]
ks, inertia = [int(k) for k, _ in rows], [float(v) for _, v in rows]
assert ks == list(range(2, 8)), ks
assert all(a > b for a, b in zip(inertia[:4], inertia[1:4])), inertia  # decreasing up to k = 5
PY
run sweep3 "$mpiexec" -np 3 --oversubscribe "$tessera" kmeans --data "$data" --k 2:7 --chunk-rows 500 --out sweep3 --quiet
check "sweep on 3 ranks: the same kmeans.json" bash -c "[[ $(rc sweep3) == 0 ]] && cmp sweep/kmeans.json sweep3/kmeans.json"
check "the sweep's k = 5 is the single run's k = 5" python3 -c "
import json
a = json.load(open('sweep/kmeans.json'))['runs'][3]; b = json.load(open('one/kmeans.json'))['runs'][0]
assert a == b, (a['inertia'], b['inertia'])"
run init "$tessera" kmeans --data "$data" --k 5 --init 'k-means||' --out par --quiet
run random "$tessera" kmeans --data "$data" --k 5 --init random --out rnd --quiet
check "--init k-means|| and random: exit 0, the k-means++ inertia on separated blobs" python3 -c "
import json
ref = json.load(open('one/kmeans.json'))['runs'][0]['inertia']
for d in ('par', 'rnd'):
    v = json.load(open(d + '/kmeans.json'))['runs'][0]['inertia']
    assert abs(v - ref) < 1e-9 * ref, (d, v, ref)"

# --- --init FILE.npy: starting at the fitted centroids, one iteration, the same inertia
python3 - <<'PY'
import json, struct
cents = json.load(open("one/kmeans.json"))["runs"][0]["centroids"]
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (len(cents), len(cents[0]))
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open("fitted.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%dd" % (len(cents) * len(cents[0])), *[v for row in cents for v in row]))
PY
run given "$tessera" kmeans --data "$data" --k 5 --init fitted.npy --chunk-rows 500 --out given
check "--init fitted.npy: exit 0, 1 iteration, the fit's inertia and labels" python3 -c "
import json
a = json.load(open('given/kmeans.json'))['runs'][0]; b = json.load(open('one/kmeans.json'))['runs'][0]
assert a['n_iter'] == 1 and abs(a['inertia'] - b['inertia']) <= 1e-12 * b['inertia'], (a['n_iter'], a['inertia'], b['inertia'])
assert open('given/labels.csv').read() == open('one/labels.csv').read()"
run given_k "$tessera" kmeans --data "$data" --init fitted.npy --chunk-rows 500 --out given_k --quiet
check "--init fitted.npy without --k: k from the file's 5 rows, the same result" bash -c "[[ $(rc given_k) == 0 ]] && cmp given/kmeans.json given_k/kmeans.json"
python3 - <<'PY'
b = bytearray(open("fitted.npy", "rb").read())
b[-8:] = bytes.fromhex("000000000000f87f")  # the last value a NaN
open("nan_init.npy", "wb").write(bytes(b))
PY

# --- mini-batch, streamed from the generator: the same on 1 and 3 ranks, near Lloyd's inertia
run mb "$tessera" kmeans --data "$data" --k 5 --mini-batch --batch-size 256 --out mb
run mb3 "$mpiexec" -np 3 --oversubscribe "$tessera" kmeans --data "$data" --k 5 --mini-batch --batch-size 256 --out mb3 --quiet
check "--mini-batch: exit 0 on 1 and 3 ranks, the same kmeans.json and labels.csv" bash -c "[[ $(rc mb) == 0 && $(rc mb3) == 0 ]] && cmp mb/kmeans.json mb3/kmeans.json && cmp mb/labels.csv mb3/labels.csv"
check "--mini-batch: inertia within 1% of Lloyd's, 3000 labels" python3 -c "
import json
a = json.load(open('mb/kmeans.json'))['runs'][0]['inertia']; b = json.load(open('one/kmeans.json'))['runs'][0]['inertia']
assert a < 1.01 * b, (a, b)
assert len(open('mb/labels.csv').read().split()) == 3000"

# --- bad input: exit 2 and one error line
printf '1,2\n3,nan\n5,6\n' >nan.csv
bad k_zero "is not N or A:B" kmeans --data digits --k 0
bad k_empty_range "the range is empty" kmeans --data digits --k 5:2
bad k_too_many "more clusters than the 3 rows" kmeans --data nan.csv --k 4
bad bad_init "init" kmeans --data digits --init kmeans+++
bad nan_data "row 1, column 1 is not finite" kmeans --data nan.csv --k 2
bad beyond_memory "rows × 100000 columns that one rank holds on this node need 8e+05 GB, more than the" kmeans --data random:rows=1000000000,cols=100000,seed=1 --k 2
bad beyond_memory_sweep "100000 columns, made whole, need 8e+05 GB, more than the" kmeans --data random:rows=1000000000,cols=100000,seed=1 --k 2:3
bad n_init_zero "n-init" kmeans --data digits --n-init 0
bad minibatch_digits "--mini-batch streams" kmeans --data digits --mini-batch
bad init_wrong_k "5 centroids, but --k is 4" kmeans --data "$data" --k 4 --init fitted.npy
bad init_nan "initial centroids must be finite: centroid 4, column 3 is nan" kmeans --data "$data" --init nan_init.npy  # ran to exit 0

finish "kmeans cli"
