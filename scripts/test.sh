#!/usr/bin/env bash
# Set-up, build and the whole test suite:
#   ci-release    release build, warnings as errors, all tests
#   asan          AddressSanitizer + UndefinedBehaviorSanitizer build, all tests
#   cuda-compile  CUDA build (Kokkos 3.4 + CUDA via nvcc_wrapper): everything compiled and
#                 linked; the tests run only where a GPU is present
# scripts/test.sh runs all three (cuda-compile only when nvcc exists and
# TESSERA_SKIP_CUDA is not 1); scripts/test.sh PRESET... runs those.
set -euo pipefail
source "$(dirname "$0")/common.sh"
presets=("$@")
if ((${#presets[@]} == 0)); then
  presets=(ci-release asan)
  if have_nvcc && [[ "${TESSERA_SKIP_CUDA:-0}" != 1 ]]; then presets+=(cuda-compile); fi
fi

setup
# Formatting: every C++ file as .clang-format says.
if command -v clang-format >/dev/null; then
  echo "[tessera] clang-format check" >&2
  (cd "$repo" && git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror)
fi

for preset in "${presets[@]}"; do
  start=$(date +%s)
  if [[ "$preset" == cuda-compile ]]; then
    (
      export PATH="/usr/local/cuda/bin:$PATH"
      setup --cuda
      build_preset cuda-compile
      if have_gpu; then
        ctest --preset cuda-compile -j 1
      else
        echo "[tessera] cuda-compile: no GPU here, everything compiled and linked, nothing run" >&2
      fi
    )
  else
    build_preset "$preset"
    echo "[tessera] tests: $preset" >&2
    ctest --preset "$preset" -j "$jobs"
  fi
  echo "[tessera] $preset: $(( $(date +%s) - start )) s" >&2
done
