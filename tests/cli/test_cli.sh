#!/usr/bin/env bash
# Tests of the `tessera` command: exit codes, one-line errors, result files, and the
# same results under mpirun. Usage: test_cli.sh TESSERA WORKDIR [MPIEXEC]
set -uo pipefail
tessera=$1
work=$2
mpiexec=${3:-}
fixtures=${TESSERA_FIXTURES:?}
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
run() {  # run NAME ARGS...: stdout/stderr/rc into NAME.{out,err,rc}
  local name=$1; shift
  "$@" >"$name.out" 2>"$name.err"
  echo $? >"$name.rc"
}
rc() { cat "$1.rc"; }
one_error_line() {  # exactly one line on stderr, starting with "error: " and containing $2
  [[ $(grep -c '' "$1.err") -eq 1 ]] && head -1 "$1.err" | grep -q "^error: .*$2"
}

run help "$tessera" --help
check "--help exits 0 and lists stats" bash -c "[[ $(rc help) == 0 ]] && grep -q stats help.out"
run stats_help "$tessera" stats --help
check "stats --help lists --nan" bash -c "[[ $(rc stats_help) == 0 ]] && grep -q -- --nan stats_help.out"
run version "$tessera" --version
check "--version" bash -c "[[ $(rc version) == 0 ]] && grep -Eq '^tessera [0-9]+\.[0-9]+\.[0-9]+' version.out"
run datasets "$tessera" datasets
check "datasets lists digits" bash -c "[[ $(rc datasets) == 0 ]] && grep -q '^digits ' datasets.out"

run digits "$tessera" stats --data digits --out digits1 --quiet
check "stats on digits exits 0" test "$(rc digits)" = 0
check "stats --quiet prints nothing" test ! -s digits.out
check "stats.json and run.json written" test -s digits1/stats.json -a -s digits1/run.json
check "stats.json matches NumPy" python3 - digits1/stats.json "$fixtures/digits_stats.json" <<'PY'
import json, sys
got, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert got["rows"] == ref["rows"] == 1797
assert len(got["columns"]) == 64
for j, c in enumerate(got["columns"]):
    assert c["index"] == j and c["count"] == 1797 and c["nan_count"] == 0
    assert c["sum"] == ref["sum"][j]
    for key in ("mean", "std"):
        assert abs(c[key] - ref[key][j]) <= 1e-12 * max(1.0, abs(ref[key][j])), (j, key)
    assert c["min"] == ref["min"][j] and c["max"] == ref["max"][j]
assert abs(got["overall"]["mean"] - ref["overall"]["mean"]) < 1e-12
assert "index" not in got["overall"]
PY
check "run.json describes the run" python3 -c "
import json; r = json.load(open('digits1/run.json'))
assert r['ranks'] == 1 and r['command'][1] == 'stats' and 'reduce' in r['phases']
assert r['execution_space'] and r['threads_per_rank'] >= 1 and r['tessera_version']"
check "run.json names the host BLAS and its kernels" python3 -c "
import json; b = json.load(open('digits1/run.json'))['blas']
assert b == 'BLAS' or (b.startswith('OpenBLAS ') and len(b.split()) >= 3), b"

printf 'a,b,c\n1,2,3\n4,oops,6\n' >bad.csv
run bad "$tessera" stats --data bad.csv --out badout
check "malformed CSV exits 2" test "$(rc bad)" = 2
check "malformed CSV: one error line naming line 3" one_error_line bad "bad.csv:3:3: field 2"
check "no result file after a failure" test ! -e badout/stats.json
printf '1,2\n3,4,5\n' >ragged.csv
run ragged "$tessera" stats --data ragged.csv
check "ragged CSV: exit 2 naming line 2" bash -c "[[ $(rc ragged) == 2 ]] && grep -q 'ragged.csv:2: expected 2 fields' ragged.err"
run missing "$tessera" stats --data does-not-exist.csv
check "missing file: exit 2" bash -c "[[ $(rc missing) == 2 ]]" && check "missing file: one error line" one_error_line missing "does-not-exist.csv"
run unknown_opt "$tessera" stats --data digits --bogus
check "unknown option: exit 2, one error line" bash -c "[[ $(rc unknown_opt) == 2 ]]" && check "unknown option named" one_error_line unknown_opt "bogus"
run no_cmd "$tessera"
check "no subcommand: exit 2" test "$(rc no_cmd)" = 2
run bad_cols "$tessera" stats --data digits --columns 70 --out colout
check "column out of range: exit 2" bash -c "[[ $(rc bad_cols) == 2 ]]" && check "column named" one_error_line bad_cols "column 70"
run bad_spec "$tessera" stats --data blobs:n=ten
check "bad generator spec: exit 2" bash -c "[[ $(rc bad_spec) == 2 ]]" && check "spec named" one_error_line bad_spec "n='ten'"
run bad_mem "$tessera" stats --data digits --memory-limit 12Q
check "bad --memory-limit: exit 2" test "$(rc bad_mem)" = 2
for limit in 99999999999999999999999 inf 0.5; do  # the cast to uint64 was undefined / 0
  run mem_$limit "$tessera" stats --data digits --memory-limit $limit
  check "--memory-limit $limit: exit 2 naming it" one_error_line mem_$limit "--memory-limit: '$limit' is"
done
for seed in -1 99999999999999999999999 1.5; do  # CLI11 wrapped or saturated these silently
  run seed_$seed "$tessera" stats --data digits --seed $seed
  check "--seed $seed: exit 2 naming it" bash -c "[[ $(rc seed_$seed) == 2 ]] && grep -q \"^error: --seed: '$seed' is not an integer from 0 to 18446744073709551615\" seed_$seed.err"
done
run ddof_negative "$tessera" stats --data digits --ddof -1  # CLI11 printed 1.8e308 in full
check "--ddof -1: exit 2, 'must be >= 0, got -1'" one_error_line ddof_negative "--ddof: must be >= 0, got -1"
run range_infinite "$tessera" stats --data digits --bins 3 --range 0:inf  # one infinite bin
check "--range 0:inf: exit 2, the range must be finite" one_error_line range_infinite "range must be finite"
run bins_negative "$tessera" stats --data digits --bins -1  # wrapped to 2^64 - 1 bins: exit 1
check "--bins -1: exit 2 naming the range" one_error_line bins_negative "--bins: Value -1 not in range 1 to 1000000"
run many_threads "$tessera" stats --data digits --threads 100000  # OpenMP crashed (SIGSEGV)
check "--threads 100000: exit 2 naming the limit" bash -c "[[ $(rc many_threads) == 2 ]] && grep -q '^error: --threads: 100000 threads per rank is more than' many_threads.err"
run small_mem "$tessera" stats --data digits --memory-limit 100K
check "data above --memory-limit: exit 2, not silently ignored" bash -c "[[ $(rc small_mem) == 2 ]]" && check "limit named" one_error_line small_mem "memory-limit"

printf '1 1:0.5 3:2\n-1 2:1\n' >s.svm
run libsvm "$tessera" stats --data s.svm --out svm --quiet
check "libsvm input" python3 -c "
import json; s = json.load(open('svm/stats.json')); assert s['rows'] == 2 and len(s['columns']) == 3
assert s['columns'][2]['sum'] == 2.0"
run npy "$tessera" stats --data "$fixtures/npy/f4_c.npy" --out npy --quiet
check "npy input" python3 -c "
import json; s = json.load(open('npy/stats.json')); assert s['rows'] == 3 and s['columns'][3]['sum'] == 3 + 13 + 23"
python3 - <<'PY'
# A 3000 x 3 float64 .npy written by hand (header as numpy writes it), values i*j/7.
import struct
rows, cols = 3000, 3
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
with open("big.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%dd" % (rows * cols), *[i * j / 7 for i in range(rows) for j in range(cols)]))
PY
run npy_stream "$tessera" stats --data big.npy --chunk-rows 100 --memory-limit 5K --out npystream --quiet
run npy_whole "$tessera" stats --data big.npy --chunk-rows 100 --out npywhole --quiet
check "npy streamed under --memory-limit: exit 0" test "$(rc npy_stream)" = 0
check "npy streamed = npy in one batch, bitwise" cmp npystream/stats.json npywhole/stats.json
python3 - <<'PY'
# The same 3000 x 3 values as CSV (round-trip decimals, a header, CRLF) and as raw float64.
import struct
rows, cols = 3000, 3
values = [[i * j / 7 for j in range(cols)] for i in range(rows)]
with open("big.csv", "w", newline="") as f:
    f.write("a,b,c\r\n" + "".join(",".join(repr(v) for v in row) + "\r\n" for row in values))
with open("big.bin", "wb") as f:
    f.write(struct.pack("<%dd" % (rows * cols), *[v for row in values for v in row]))
PY
run csv_stream "$tessera" stats --data big.csv --chunk-rows 100 --memory-limit 5K --out csvstream --quiet
check "csv streamed under --memory-limit (file 5x larger): bitwise equal to the npy result" cmp csvstream/stats.json npywhole/stats.json
run raw_stream "$tessera" stats --data big.bin --raw-cols 3 --chunk-rows 100 --memory-limit 5K --out rawstream --quiet
check "raw float64 streamed: bitwise equal to the npy result" cmp rawstream/stats.json npywhole/stats.json
run raw_nocols "$tessera" stats --data big.bin
check "raw without --raw-cols: exit 2 naming it" bash -c "[[ $(rc raw_nocols) == 2 ]]" && check "names --raw-cols" one_error_line raw_nocols "raw-cols"
run raw_badcols "$tessera" stats --data big.bin --raw-cols 7
check "raw size not a whole number of rows: exit 2" bash -c "[[ $(rc raw_badcols) == 2 ]]" && check "says so" one_error_line raw_badcols "not a whole number of rows"
run raw_type "$tessera" stats --data big.bin --raw-cols 3 --raw-type complex
check "unknown --raw-type: exit 2" bash -c "[[ $(rc raw_type) == 2 ]]"
run npy_tiny "$tessera" stats --data big.npy --chunk-rows 100 --memory-limit 1K
check "npy: a chunk above --memory-limit: exit 2 naming --chunk-rows" bash -c "[[ $(rc npy_tiny) == 2 ]] && grep -q 'chunk-rows' npy_tiny.err"
run ddof "$tessera" stats --data digits --ddof 1 --out ddof --quiet
check "--ddof 1 gives NumPy's std(ddof=1)" python3 - ddof/stats.json "$fixtures/digits_stats.json" <<'PY'
import json, sys
got, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for c, want in zip(got["columns"], ref["std_ddof1"]):
    assert abs(c["std"] - want) <= 1e-12 * max(1.0, want), (c["index"], c["std"], want)
PY
printf '1,2\n,4\n5,6\n' >nan.csv
run nan_skip "$tessera" stats --data nan.csv --nan skip --out nanskip --quiet
check "--nan skip" python3 -c "
import json; c = json.load(open('nanskip/stats.json'))['columns'][0]
assert c['nan_count'] == 1 and c['count'] == 2 and c['mean'] == 3.0"
run nan_prop "$tessera" stats --data nan.csv --out nanprop --quiet
check "--nan propagate gives null" python3 -c "
import json; c = json.load(open('nanprop/stats.json'))['columns'][0]
assert c['mean'] is None and c['nan_count'] == 1"

run threads1 "$tessera" stats --data random:rows=20000,cols=5,seed=4 --chunk-rows 1000 --threads 1 --out t1 --quiet
run threads2 "$tessera" stats --data random:rows=20000,cols=5,seed=4 --chunk-rows 1000 --threads 2 --out t2 --quiet
check "--threads 1 and 2 give bitwise equal stats.json" cmp t1/stats.json t2/stats.json
run gen_stream "$tessera" stats --data random:rows=20000,cols=5,seed=4 --chunk-rows 1000 --memory-limit 100K --out genstream --quiet
check "generator streamed under --memory-limit (data 8x larger): bitwise equal" cmp genstream/stats.json t1/stats.json
check "--threads is reported in run.json" python3 -c "
import json; assert json.load(open('t1/run.json'))['threads_per_rank'] == 1"

run group "$tessera" stats --data digits --group-by label --out group --quiet
check "--group-by label: 10 groups matching NumPy" python3 - group/stats.json "$fixtures/digits_stats.json" <<'PY'
import json, sys
got, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
groups = got["groups"]
assert [g["key"] for g in groups] == list(range(10))
for k, g in enumerate(groups):
    c = g["columns"][10]
    assert c["index"] == 10 and c["count"] == ref["label_counts"][k]
    assert abs(c["mean"] - ref["group_mean_col10"][k]) < 1e-12
assert len(got["columns"]) == 64
PY
python3 - <<'PY'
# 4000 rows: a value, an integer key (0-6, key 6 in few chunks), another value.
import math
with open("keyed.csv", "w") as f:
    for i in range(4000):
        key = 6 if i % 331 == 0 else (i // 250) % 6
        f.write("%r,%d,%r\n" % (math.sin(i) * 10, key, math.cos(i / 7.0)))
PY
run group_stream "$tessera" stats --data keyed.csv --group-by 1 --chunk-rows 100 --memory-limit 5K --out gstream --quiet
run group_whole "$tessera" stats --data keyed.csv --group-by 1 --chunk-rows 100 --out gwhole --quiet
check "--group-by COL streamed under --memory-limit (file 30x larger): per-key stats as Python's, bitwise equal to one batch" bash -c "[[ $(rc group_stream) == 0 ]] && cmp gstream/stats.json gwhole/stats.json && python3 - gstream/stats.json" <<'PY'
import json, math, sys
got = json.load(open(sys.argv[1]))
rows = [[float(v) for v in line.split(",")] for line in open("keyed.csv")]
assert [g["key"] for g in got["groups"]] == list(range(7))
for g in got["groups"]:
    for c in g["columns"]:
        vals = [r[c["index"]] for r in rows if r[1] == g["key"]]
        mean = math.fsum(vals) / len(vals)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / len(vals))
        assert c["count"] == len(vals) and abs(c["mean"] - mean) < 1e-12 and abs(c["std"] - std) < 1e-12, (g["key"], c)
        assert c["min"] == min(vals) and c["max"] == max(vals)
assert [c["index"] for c in got["columns"]] == [0, 2]
PY
run hist_stream "$tessera" stats --data keyed.csv --columns 0,2 --bins 7 --chunk-rows 100 --memory-limit 5K --out hstream --quiet
run hist_range "$tessera" stats --data keyed.csv --columns 0 --bins 4 --range -5:5 --out hrange --quiet
check "--bins: numpy.histogram's counts over the data's range (streamed), and over --range" bash -c "[[ $(rc hist_stream) == 0 && $(rc hist_range) == 0 ]] && python3 - hstream/stats.json hrange/stats.json" <<'PY'
import bisect, json, math, sys
rows = [[float(v) for v in line.split(",")] for line in open("keyed.csv")]
def expect(values, lo, hi, bins):  # numpy.histogram with range=(lo, hi)
    edges = [lo + b * ((hi - lo) / bins) for b in range(bins)] + [hi]
    counts = [0] * bins
    below = above = 0
    for v in values:
        if v < lo: below += 1
        elif v > hi: above += 1
        else: counts[min(bisect.bisect_right(edges, v) - 1, bins - 1)] += 1
    return counts, below, above
s = json.load(open(sys.argv[1]))
h = s["histogram"]
lo, hi = min(r[c] for r in rows for c in (0, 2)), max(r[c] for r in rows for c in (0, 2))
assert h["range"] == [lo, hi] and h["bins"] == 7 and len(h["edges"]) == 8, h["range"]
for c in h["columns"]:
    counts, below, above = expect([r[c["index"]] for r in rows], lo, hi, 7)
    assert c["counts"] == counts and c["below"] == below == 0 and c["above"] == above == 0, (c, counts)
h = json.load(open(sys.argv[2]))["histogram"]
counts, below, above = expect([r[0] for r in rows], -5.0, 5.0, 4)
c = h["columns"][0]
assert c["index"] == 0 and c["counts"] == counts and c["below"] == below > 0 and c["above"] == above > 0, (c, counts)
PY
run bad_range "$tessera" stats --data digits --bins 3 --range 5:1
check "--range 5:1: exit 2 naming it" bash -c "[[ $(rc bad_range) == 2 ]] && grep -q 'range 5:1: needs lo < hi' bad_range.err"
printf '1,2\n,4\n5,6\n' >nanh.csv
run nan_hist "$tessera" stats --data nanh.csv --bins 3
check "--bins on NaN data without --range: exit 2 suggesting --range or --nan skip" bash -c "[[ $(rc nan_hist) == 2 ]] && grep -q 'give --range LO:HI or --nan skip' nan_hist.err"
printf '1,0\n2,1\n3,0.5\n' >keys.csv
run bad_key "$tessera" stats --data keys.csv --group-by 1
check "--group-by on a non-integer key: exit 2 naming the row" bash -c "[[ $(rc bad_key) == 2 ]] && grep -q 'row 2' bad_key.err"

# A process started on its own runs without MPI (no singleton start-up); TESSERA_MPI=1
# starts MPI anyway, and under mpirun the launcher's variables do.
launcher_vars=(-u OMPI_COMM_WORLD_SIZE -u PMIX_RANK -u PMI_RANK -u PMI_SIZE -u MPI_LOCALNRANKS
  -u MV2_COMM_WORLD_SIZE -u SLURM_PROCID -u TESSERA_MPI)
run alone env "${launcher_vars[@]}" "$tessera" stats --data digits --out alone --quiet
check "started on its own: one rank without MPI" python3 -c "
import json; r = json.load(open('alone/run.json')); assert r['ranks'] == 1 and r['comm_backend'] == 'self', r"
check "started on its own: the same stats" cmp alone/stats.json digits1/stats.json

if [[ -n "$mpiexec" ]]; then
  run forced env "${launcher_vars[@]}" TESSERA_MPI=1 "$tessera" stats --data digits --out forced --quiet
  check "TESSERA_MPI=1: MPI started" python3 -c "
import json; r = json.load(open('forced/run.json')); assert r['comm_backend'] == 'mpi', r"
  run launched "$mpiexec" -np 1 "$tessera" stats --data digits --out launched --quiet
  check "mpirun -np 1: MPI started" python3 -c "
import json; r = json.load(open('launched/run.json')); assert r['comm_backend'] == 'mpi', r"
  for np in 2 3; do
    run mpi$np "$mpiexec" -np $np --oversubscribe "$tessera" stats --data digits --out mpi$np --chunk-rows 64
    run mpi${np}_ref "$tessera" stats --data digits --out ref$np --chunk-rows 64
    check "mpirun -np $np: exit 0" test "$(rc mpi$np)" = 0
    check "mpirun -np $np: stats.json bitwise equal to 1 rank" cmp mpi$np/stats.json ref$np/stats.json
    check "mpirun -np $np: only rank 0 prints" bash -c "[[ \$(wc -l <mpi$np.out) == \$(wc -l <mpi${np}_ref.out) ]]"
    check "mpirun -np $np: run.json has $np ranks" python3 -c "
import json; r = json.load(open('mpi$np/run.json')); assert r['ranks'] == $np and len(r['devices']) == $np
for i, d in enumerate(r['devices']):
    assert d['rank'] == i and d['device'] and '\t' not in d['device'] and isinstance(d['device_id'], int), d"
  done
  run mpi_group "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data keyed.csv --group-by 1 --chunk-rows 100 --memory-limit 5K --out mpigroup --quiet
  check "mpirun -np 3: streamed --group-by bitwise equal to 1 rank" cmp mpigroup/stats.json gwhole/stats.json
  run mpi_hist "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data keyed.csv --columns 0,2 --bins 7 --chunk-rows 100 --memory-limit 5K --out mpihist --quiet
  check "mpirun -np 3: streamed --bins bitwise equal to 1 rank" cmp mpihist/stats.json hstream/stats.json
  run mpi_npy "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data big.npy --chunk-rows 100 --memory-limit 5K --out mpinpy --quiet
  check "mpirun -np 3 streamed npy: bitwise equal to 1 rank" cmp mpinpy/stats.json npywhole/stats.json
  run mpi_csv "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data big.csv --chunk-rows 100 --memory-limit 5K --out mpicsv --quiet
  check "mpirun -np 3 streamed csv: bitwise equal to 1 rank" cmp mpicsv/stats.json npywhole/stats.json
  run mpi_gen "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data random:rows=20000,cols=5,seed=4 --chunk-rows 1000 --memory-limit 100K --out mpigen --quiet
  check "mpirun -np 3 streamed generator: bitwise equal to 1 rank" cmp mpigen/stats.json t1/stats.json
  run mpi_raw "$mpiexec" -np 2 --oversubscribe "$tessera" stats --data big.bin --raw-cols 3 --chunk-rows 100 --memory-limit 5K --out mpiraw --quiet
  check "mpirun -np 2 streamed raw: bitwise equal to 1 rank" cmp mpiraw/stats.json npywhole/stats.json
  run mpi_group "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data digits --group-by label --out mpigroup --quiet
  check "mpirun -np 3 --group-by: bitwise equal to 1 rank" cmp mpigroup/stats.json group/stats.json
  run mpi_bad "$mpiexec" -np 3 --oversubscribe "$tessera" stats --data bad.csv --out mpibad
  check "mpirun -np 3 malformed CSV: exit 2" test "$(rc mpi_bad)" = 2
  check "mpirun -np 3 malformed CSV: one error line" bash -c "[[ \$(grep -c '^error:' mpi_bad.err) == 1 ]] && grep -q 'bad.csv:3:3' mpi_bad.err"
fi

echo "$failures failure(s)"
exit $((failures > 0))
