#!/usr/bin/env bash
# The CMA-ES example as a user runs it: the reference Rastrigin run, the user functor and
# the host-function "simulation" (farmed one individual per task) give the same lines on
# 1 and 3 ranks; the ellipsoid reaches its target; the oscillator fit recovers k = 4, c = 0.3.
#   test_cmaes_example.sh EXAMPLES_BUILD_DIR MPIEXEC
set -euo pipefail
example=$1/cmaes/example_cmaes mpiexec=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
one=$("$example" | sed 's/on [0-9]* rank(s)//')
three=$("$mpiexec" -n 3 --oversubscribe "$example" 2>/dev/null | sed 's/on [0-9]* rank(s)//')
[[ "$one" == "$three" ]] || fail "1 rank and 3 ranks differ:
$one
---
$three"
grep -q '^ellipsoid: .*(stop: target)' <<<"$one" || fail "the ellipsoid missed its target: $one"
grep -q '^oscillator fit: k = 4.0000[0-9]*, c = 0.3000' <<<"$one" || fail "the oscillator fit: $one"
echo "$one"
echo "cmaes example ok"
