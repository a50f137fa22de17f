#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (no network needed): build Kokkos with CUDA from a
# source folder you bring, build tessera against it, run the tests (the `gpu` label
# compares device results with host results), the kernel benchmarks and the reference grid
# search (one fold per task, then every fold of a gamma in one launch), print a summary.
#
#   scripts/gpu-check.sh KOKKOS_SOURCE_DIR [--arch ARCH] [--jobs N] [--out DIR]
#
# KOKKOS_SOURCE_DIR: a Kokkos source tree, e.g. ~/.cache/tessera/src/kokkos-3.4.01 copied
# from a machine that ran scripts/setup.sh, or a Kokkos 4.x/5.x release. Kokkos 3.4.01 is
# patched for CUDA 13 (cmake/patches/) and built for AMPERE80 (its PTX runs on Hopper);
# newer Kokkos is built for the GPU found (HOPPER90 on an H100). Needs cmake, g++, the
# CUDA toolkit, MPI, OpenBLAS/LAPACKE, GoogleTest, CLI11, nlohmann-json, fmt, fast_float
# (and Google Benchmark for the benchmarks) installed already.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: scripts/gpu-check.sh KOKKOS_SOURCE_DIR [--arch ARCH] [--jobs N] [--out DIR]}
shift
arch="" jobs=$(nproc) out="$repo/build-gpu"
while (($#)); do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "gpu-check.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[gpu-check] $*" >&2; }
src=$(cd "$src" && pwd)
[[ -f "$src/CMakeLists.txt" ]] || { log "$src is not a Kokkos source folder"; exit 2; }
export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { log "nvcc not found (CUDA toolkit)"; exit 1; }
command -v nvidia-smi >/dev/null || { log "nvidia-smi not found: no GPU driver here"; exit 1; }

gpu=$(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader | head -1)
cc=$(echo "$gpu" | cut -d, -f2 | tr -d ' .')
kmajor=$(grep -oP 'set\(Kokkos_VERSION_MAJOR \K[0-9]+' "$src/CMakeLists.txt")
kminor=$(grep -oP 'set\(Kokkos_VERSION_MINOR \K[0-9]+' "$src/CMakeLists.txt")
kpatch=$(grep -oP 'set\(Kokkos_VERSION_PATCH \K[0-9]+' "$src/CMakeLists.txt")
kversion="$kmajor.$kminor.$kpatch"
if [[ -z "$arch" ]]; then
  if ((kmajor < 4)); then arch=AMPERE80
  else case $cc in
    90) arch=HOPPER90 ;; 89) arch=ADA89 ;; 86) arch=AMPERE86 ;; 80) arch=AMPERE80 ;;
    70) arch=VOLTA70 ;; *) arch=AMPERE80 ;;
  esac; fi
fi
log "GPU: $gpu; Kokkos $kversion for $arch"
mkdir -p "$out"

# Kokkos with CUDA (+ Serial), patched where needed.
kokkos="$out/kokkos-install"
if [[ ! -f "$kokkos/.complete" ]]; then
  rm -rf "$out/kokkos-src" "$out/kokkos-build"
  cp -r "$src" "$out/kokkos-src"
  if [[ "$kversion" == 3.4.1 || "$kversion" == 3.4.01 ]]; then
    patch -d "$out/kokkos-src" -p1 --quiet <"$repo/cmake/patches/kokkos-3.4.01-cuda13.patch"
    sed -i 's/^default_arch="sm_35"/default_arch="sm_80"/' "$out/kokkos-src/bin/nvcc_wrapper"
  fi
  cxx_std=17; ((kmajor >= 5)) && cxx_std=20
  cmake -S "$out/kokkos-src" -B "$out/kokkos-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$kokkos" -DCMAKE_CXX_STANDARD=$cxx_std \
    -DCMAKE_CXX_COMPILER="$out/kokkos-src/bin/nvcc_wrapper" \
    -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ENABLE_SERIAL=ON \
    -DKokkos_ARCH_$arch=ON >"$out/kokkos-configure.log"
  cmake --build "$out/kokkos-build" -j "$jobs" >"$out/kokkos-build.log"
  cmake --install "$out/kokkos-build" >/dev/null
  touch "$kokkos/.complete"
fi

# tessera, with NCCL and the benchmarks when they are installed.
nccl=OFF
[[ -f /usr/local/cuda/include/nccl.h || -f /usr/include/nccl.h || -n "${NCCL_ROOT:-}" ]] && nccl=ON
bench=OFF
[[ -f /usr/include/benchmark/benchmark.h ]] && bench=ON
cmake -S "$repo" -B "$out/tessera" -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$kokkos" \
  -DCMAKE_CXX_COMPILER="$kokkos/bin/nvcc_wrapper" -DTESSERA_ENABLE_NCCL=$nccl \
  -DTESSERA_BUILD_BENCH=$bench >"$out/tessera-configure.log"
cmake --build "$out/tessera" -j "$jobs" >"$out/tessera-build.log"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_PROC_BIND=false
set +e
(cd "$out/tessera" && ctest -L gpu --output-on-failure) >"$out/ctest-gpu.log" 2>&1
gpu_rc=$?
(cd "$out/tessera" && ctest -LE "gpu|package" --output-on-failure) >"$out/ctest-all.log" 2>&1
all_rc=$?
bench_out="(not built: Google Benchmark missing)"
if [[ $bench == ON ]]; then
  "$out/tessera/bench/bench_kernels" --benchmark_min_time=0.2 >"$out/bench.log" 2>&1
  bench_out=$(grep -E "^BM_" "$out/bench.log")
fi
# The reference grid search (2000 fits) with one fold per task and with every fold of a
# gamma in one launch (the CUDA build's default): the "search" phase of each.
grid_out=""
for fb in 1 0; do
  "$out/tessera/bin/tessera" svm-search --data digits --C logspace:-6:6:20 \
    --gamma logspace:-6:1:20 --folds 5 --fold-batch $fb --out "$out/grid-fold-batch-$fb" \
    --quiet >"$out/grid-fold-batch-$fb.log" 2>&1
  grid_out+="  --fold-batch $fb: search $(grep -oP '"search": \K[0-9.]+' \
    "$out/grid-fold-batch-$fb/run.json" 2>/dev/null || echo failed) s"$'\n'
done
set -e

{
  echo "== tessera gpu-check =="
  echo "GPU: $gpu"
  echo "Kokkos: $kversion, arch $arch, NCCL $nccl"
  echo "ctest -L gpu: $(grep -E 'tests passed|tests failed' "$out/ctest-gpu.log" | tail -1) (exit $gpu_rc)"
  echo "other tests on the GPU build: $(grep -E 'tests passed|tests failed' "$out/ctest-all.log" | tail -1) (exit $all_rc)"
  echo "benchmarks:"
  echo "$bench_out"
  echo "reference grid search, 1 rank:"
  echo -n "$grid_out"
  echo "logs: $out/*.log"
} | tee "$out/summary.txt"
exit $((gpu_rc != 0 || all_rc != 0))
