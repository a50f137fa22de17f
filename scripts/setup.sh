#!/usr/bin/env bash
# Installs what tessera's build needs and provides Kokkos. Idempotent: a second run
# takes seconds.
#
#   scripts/setup.sh            apt packages + Kokkos (OpenMP+Serial) in the cache
#   scripts/setup.sh --cuda     apt packages + Kokkos (CUDA+Serial, AMPERE80, patched for CUDA 13)
#                               its prefix is printed last (nvcc_wrapper in its bin/)
#   Kokkos_ROOT=/path ...       use an existing Kokkos install instead (cluster modules)
#   TESSERA_CACHE=/dir ...      cache folder (default ~/.cache/tessera)
#   TESSERA_SKIP_APT=1 ...      do not touch apt (machines where you are not root)
#
# Prints nothing on stdout but the Kokkos prefix on its last line, so callers can do
#   KOKKOS_PREFIX=$(scripts/setup.sh | tail -1)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_cuda=${TESSERA_CUDA:-0}
for arg in "$@"; do
  case $arg in
    --cuda) want_cuda=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
cache="${TESSERA_CACHE:-$HOME/.cache/tessera}"
kokkos_version=3.4.01
trilinos_version=13.2.0
log() { echo "[setup] $*" >&2; }

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then echo sudo; else
      log "not root and no sudo: install the packages by hand or set TESSERA_SKIP_APT=1"
      exit 1
    fi
  fi
}

packages=(
  cmake g++ make pkg-config dpkg-dev xz-utils patch clang-format
  openmpi-bin libopenmpi-dev
  libopenblas-openmp-dev liblapacke-dev
  libgtest-dev googletest libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libfast-float-dev libthrust-dev
  python3 python3-numpy libsvm-tools
)

install_packages() {
  [[ "${TESSERA_SKIP_APT:-0}" == 1 ]] && return
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo; sudo=$(need_root)
    log "installing: ${missing[*]}"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# Adds deb-src entries mirroring the machine's own deb entries (same mirrors, suites,
# keys), so `apt-get source` works without naming any host here.
add_deb_src() {
  local target=/etc/apt/sources.list.d/tessera-deb-src.sources
  if apt-cache showsrc trilinos 2>/dev/null | grep -q "^Package: trilinos"; then return; fi
  local sudo; sudo=$(need_root)
  local tmp; tmp=$(mktemp)
  # deb822 files: copy every stanza whose Types has "deb", as deb-src.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" && "$f" != "$target" ]] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         {
           n = split($0, lines, "\n"); deb = 0; out = ""
           for (i = 1; i <= n; i++) {
             if (lines[i] ~ /^Types:/) {
               if (lines[i] ~ /[: ]deb( |$)/) deb = 1
               lines[i] = "Types: deb-src"
             }
             out = out lines[i] "\n"
           }
           if (deb) printf "%s\n", out
         }' "$f" >>"$tmp"
  done
  # one-line sources.list entries
  if [[ -f /etc/apt/sources.list ]]; then
    grep -E '^deb[[:space:]]' /etc/apt/sources.list | grep debian |
      sed -E 's/^deb([[:space:]])/deb-src\1/' >"$tmp.list" || true
    [[ -s "$tmp.list" ]] && $sudo cp "$tmp.list" /etc/apt/sources.list.d/tessera-deb-src.list
    rm -f "$tmp.list"
  fi
  if [[ -s "$tmp" ]]; then $sudo cp "$tmp" "$target"; fi
  rm -f "$tmp"
  log "added deb-src entries derived from the apt sources; updating"
  $sudo apt-get update -qq >&2
}

# Debian's trilinos source, only packages/kokkos, extracted once into $1.
kokkos_source() {
  local srcdir=$1 work="$cache/src"
  [[ -f "$srcdir/CMakeLists.txt" ]] && return
  add_deb_src
  mkdir -p "$work"
  local tarball
  tarball=$(ls "$work"/trilinos_${trilinos_version}*.orig.tar.* 2>/dev/null | head -1 || true)
  if [[ -z "$tarball" ]]; then
    log "downloading Debian's trilinos source (about 166 MB, once)"
    (cd "$work" && apt-get source --download-only -qq "trilinos=${trilinos_version}-4" >&2 2>/dev/null ||
      apt-get source --download-only -qq trilinos >&2)
    tarball=$(ls "$work"/trilinos_*.orig.tar.* | head -1)
  fi
  log "extracting packages/kokkos from $(basename "$tarball")"
  rm -rf "$srcdir" "$work/extract" && mkdir -p "$work/extract"
  tar -xf "$tarball" -C "$work/extract" --wildcards '*/packages/kokkos/*'
  mv "$work"/extract/*/packages/kokkos "$srcdir"
  rm -rf "$work/extract"
}

# build_kokkos VARIANT SOURCE CMAKE-ARGS...: configure, build, install into the cache once.
build_kokkos() {
  local variant=$1 srcdir=$2; shift 2
  local prefix="$cache/kokkos-$kokkos_version-$variant"
  if [[ -f "$prefix/.complete" ]]; then echo "$prefix"; return; fi
  local build="$cache/src/build-$variant"
  log "building Kokkos $kokkos_version ($variant) into $prefix"
  rm -rf "$build"
  cmake -S "$srcdir" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17 \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkos_ENABLE_SERIAL=ON \
    -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF "$@" >&2
  cmake --build "$build" -j"$(nproc)" >&2
  cmake --install "$build" >&2
  rm -rf "$build"
  touch "$prefix/.complete"
  echo "$prefix"
}

kokkos_openmp() {
  local src="$cache/src/kokkos-$kokkos_version"
  kokkos_source "$src"
  build_kokkos openmp "$src" -DKokkos_ENABLE_OPENMP=ON
}

# CUDA + Serial for Ampere (sm_80; the PTX also runs on Hopper), with the project's
# patch for the two places where Kokkos 3.4 and CUDA 13 disagree.
kokkos_cuda() {
  local prefix="$cache/kokkos-$kokkos_version-cuda"
  if [[ -f "$prefix/.complete" ]]; then echo "$prefix"; return; fi
  local nvcc; nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  [[ -x "$nvcc" ]] || { log "no nvcc (CUDA toolkit) found: install it or put it on PATH"; exit 1; }
  export PATH="$(dirname "$nvcc"):$PATH"
  local pristine="$cache/src/kokkos-$kokkos_version" src="$cache/src/kokkos-$kokkos_version-cuda13"
  kokkos_source "$pristine"
  if [[ ! -f "$src/.patched" ]]; then
    rm -rf "$src" && cp -r "$pristine" "$src"
    patch -d "$src" -p1 --quiet <"$repo/cmake/patches/kokkos-$kokkos_version-cuda13.patch"
    # nvcc 13 rejects nvcc_wrapper's default sm_35: default to the architecture built for,
    # so that projects compiled with this nvcc_wrapper need no -arch flag.
    sed -i 's/^default_arch="sm_35"/default_arch="sm_80"/' "$src/bin/nvcc_wrapper"
    touch "$src/.patched"
  fi
  build_kokkos cuda "$src" -DCMAKE_CXX_COMPILER="$src/bin/nvcc_wrapper" \
    -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ARCH_AMPERE80=ON
}

install_packages
if [[ -n "${Kokkos_ROOT:-}" ]]; then
  [[ -d "$Kokkos_ROOT" ]] || { log "Kokkos_ROOT=$Kokkos_ROOT does not exist"; exit 1; }
  log "using Kokkos from Kokkos_ROOT=$Kokkos_ROOT"
  echo "$Kokkos_ROOT"
elif [[ "$want_cuda" == 1 ]]; then
  kokkos_cuda
else
  kokkos_openmp
fi
