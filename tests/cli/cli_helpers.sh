# Shared by the CLI test scripts (sourced): a fresh work folder, checks that count
# failures, runs that keep stdout/stderr/exit code, and the bad-input check.
#   source cli_helpers.sh TESSERA WORKDIR MPIEXEC
tessera=$1 work=$2 mpiexec=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
run() { local name=$1; shift; "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.rc"; }
rc() { cat "$1.rc"; }
one_error_line() { [[ $(grep -c '' "$1.err") -eq 1 ]] && head -1 "$1.err" | grep -q "^error: .*$2"; }
# bad NAME PATTERN ARGS...: tessera ARGS exits 2 with one error line naming PATTERN
bad() {
  local name=$1 pattern=$2; shift 2
  run $name "$tessera" "$@"
  check "$name: exit 2, one error line naming '$pattern'" bash -c "[[ $(rc $name) == 2 ]] && $(declare -f one_error_line); one_error_line $name '$pattern'"
}
# interrupt NAME CONDITION CMD...: runs CMD in the background, sends SIGTERM once the
# shell test CONDITION holds (the run is midway), waits; keeps NAME.out/.err/.rc like run
interrupt() {
  local name=$1 condition=$2; shift 2
  "$@" >"$name.out" 2>"$name.err" &
  local pid=$!
  for _ in $(seq 600); do
    eval "$condition" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  kill -TERM $pid 2>/dev/null
  wait $pid
  echo $? >"$name.rc"
}
# finish NAME: the summary line the test's PASS_REGULAR_EXPRESSION looks for
finish() {
  echo "$failures failure(s)"
  (( failures == 0 )) && echo "$1 ok"
}
