#!/usr/bin/env bash
# The in-situ example as a user runs it: the simulation and its PCA/k-means analysis give
# the same lines on 1 and 3 ranks (the rows follow the fixed chunk grid), and the analysis
# sees the field change (PCA variance ratios differ between analysis steps).
#   test_insitu.sh EXAMPLES_BUILD_DIR MPIEXEC
set -euo pipefail
example=$1/insitu_heat/example_insitu_heat mpiexec=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
one=$("$example" 96 64 300 100 | grep '^step')
three=$("$mpiexec" -n 3 --oversubscribe "$example" 96 64 300 100 2>/dev/null | grep '^step')
[[ "$one" == "$three" ]] || fail "1 rank and 3 ranks differ:
$one
---
$three"
[[ $(grep -c '^step' <<<"$one") == 3 ]] || fail "expected 3 analysis lines: $one"
[[ $(cut -d' ' -f6 <<<"$one" | sort -u | wc -l) == 3 ]] || fail "the first variance ratio did not change: $one"
echo "$one"
echo "insitu example ok"
