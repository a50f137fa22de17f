#!/usr/bin/env bash
# Set-up, build and the whole test suite: the release preset (warnings as errors), then
# the asan preset (AddressSanitizer + UndefinedBehaviorSanitizer).
#   scripts/test.sh              both
#   scripts/test.sh release      one preset (release, asan, debug)
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup
# Formatting: every C++ file as .clang-format says.
if command -v clang-format >/dev/null; then
  echo "[tessera] clang-format check" >&2
  (cd "$repo" && git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror)
fi
presets=("$@")
((${#presets[@]})) || presets=(ci-release asan)
for preset in "${presets[@]}"; do
  build_preset "$preset"
  echo "[tessera] tests: $preset" >&2
  ctest --preset "$preset" -j "$jobs"
done
