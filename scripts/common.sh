# Shared by scripts/test.sh and scripts/demo.sh: set-up, then configure and build a preset.
# shellcheck shell=bash
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${TESSERA_JOBS:-$(nproc)}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_PROC_BIND=${OMP_PROC_BIND:-false}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
user_kokkos_root=${Kokkos_ROOT:-}

# setup [--cuda]: packages + Kokkos; exports Kokkos_ROOT (a user's Kokkos_ROOT wins).
setup() {
  local prefix
  prefix=$(Kokkos_ROOT=$user_kokkos_root "$repo/scripts/setup.sh" "$@" | tail -1)
  export Kokkos_ROOT=$prefix
}

build_preset() {  # build_preset PRESET [extra cmake args...]
  local preset=$1; shift
  echo "[tessera] configure + build: $preset" >&2
  cmake --preset "$preset" -S "$repo" "$@" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
}

have_nvcc() { command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; }
have_gpu() { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; }
