#!/usr/bin/env bash
# The task farm's examples as a user runs them: pi is the same on 1 and 3 ranks; the
# simulation sweep killed midway with SIGTERM (as Slurm does at the time limit, through
# mpirun) and resumed — on another rank count — writes the same results.csv as an
# uninterrupted run.
#   test_farm_examples.sh EXAMPLES_BUILD_DIR WORK_DIR MPIEXEC
set -euo pipefail
examples=$1 work=$2 mpiexec=$3
pi=$examples/pi/example_pi
sim=$examples/simulation_farm/example_simulation_farm
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
run_np() { local np=$1; shift; "$mpiexec" -n "$np" --oversubscribe "$@"; }

# --- pi: identical estimate on 1 and 3 ranks
one=$("$pi" 48 1e5 | grep '^pi')
three=$(run_np 3 "$pi" 48 1e5 2>/dev/null | grep '^pi')
[[ "$one" == "$three" ]] || fail "pi differs: '$one' (1 rank) vs '$three' (3 ranks)"
[[ "$one" =~ ^pi\ ~\ 3\.1[34] ]] || fail "pi estimate off: $one"
echo "pi same on 1 and 3 ranks: $one"

# --- reference sweep, uninterrupted, one rank
tasks=160
"$sim" --tasks $tasks --out ref > /dev/null
[[ -s ref/results.csv ]] || fail "no reference results"

# journal_bytes DIR: total size of the journal files
journal_bytes() { cat "$1"/journal/journal.*.bin 2>/dev/null | wc -c; }

# kill_midway OUT LAUNCHER...: starts (the launcher a program, not a shell function, so
# that the signal reaches it) the sweep, waits for finished tasks in the
# journal (it is flushed every second), sends SIGTERM, expects the interrupted exit.
kill_midway() {
  local out=$1; shift
  "$@" "$sim" --tasks $tasks --sleep-ms 40 --out "$out" > "$out.log" 2>&1 &
  local pid=$! waited=0
  while (( $(journal_bytes "$out") < 32 + 10 * 56 )); do
    sleep 0.2; waited=$((waited + 1))
    (( waited < 300 )) || { kill -KILL $pid; fail "$out: no journal records after 60 s"; }
    kill -0 $pid 2>/dev/null || fail "$out: finished before it could be killed; make tasks slower"
  done
  kill -TERM $pid
  local rc=0; wait $pid || rc=$?
  (( rc != 0 )) || fail "$out: exit 0 after SIGTERM"
  grep -q "interrupted by SIGTERM" "$out.log" || fail "$out: no interruption message: $(cat "$out.log")"
  [[ ! -e "$out/results.csv" ]] || fail "$out: results.csv written by an interrupted run"
  echo "$out: stopped with exit $rc: $(grep -o 'interrupted.*' "$out.log" | head -1)"
}

# resume OUT LAUNCHER...: finishes the sweep and compares with the reference.
resume() {
  local out=$1; shift
  "$@" "$sim" --tasks $tasks --out "$out" --resume > "$out.resume.log" 2>&1 ||
    fail "$out: resume failed: $(cat "$out.resume.log")"
  local resumed
  resumed=$(grep -o '([0-9]* resumed' "$out.resume.log" | grep -o '[0-9]*')
  (( resumed > 0 && resumed < tasks )) || fail "$out: resumed $resumed of $tasks tasks"
  cmp -s ref/results.csv "$out/results.csv" || fail "$out: resumed results differ from the uninterrupted run"
  echo "$out: resumed $resumed of $tasks tasks from the journal; results.csv identical"
}

# Under mpirun on 2 ranks (mpirun passes SIGTERM on to the ranks), resumed on 3.
kill_midway mpi "$mpiexec" -n 2 --oversubscribe
resume mpi "$mpiexec" -n 3 --oversubscribe
# One process, no launcher.
kill_midway single env
resume single env

# A journal from another job is refused, not mixed in.
rc=0
"$sim" --tasks 50 --out single --resume > other.log 2>&1 || rc=$?
(( rc == 2 )) && grep -q "belongs to another job" other.log ||
  fail "another job's journal: exit $rc, $(cat other.log)"
echo "another job's journal refused (exit 2)"
echo "farm examples ok"
