#!/usr/bin/env bash
# The device check: cuda-build's output against a real driver and GPU, in one go.
#
# Usage:
#   bash build-support/gpu-check.sh prepare DIR   # here: needs the Rust toolchain and the
#                                                 # provisioned toolkits (build-support/provision.sh
#                                                 # all or matrix); builds everything into DIR
#                                                 # (< 64 MiB), ~2-4 min on 2 cores
#   bash DIR/gpu-check.sh run DIR [REPORT_DIR]    # on the GPU machine, from DIR alone: no cargo,
#                                                 # registry or toolkit; < 1 min; writes
#                                                 # report.txt and report.json to REPORT_DIR
#                                                 # (default DIR)
#
# prepare builds release binaries, for explicit architecture lists:
#   bin/vector-add-sass     the newest toolkit, SASS for every arch it has (CUDAARCHS=$SASS_ARCHS)
#                           plus PTX of the highest: loads without a JIT on any GPU it supports
#   bin/vector-add-ptx-old  the oldest toolkit, PTX only (CUDAARCHS=75-virtual): the JIT path
#   bin/vector-add-ptx-new  the newest toolkit, PTX only (CUDAARCHS=75-virtual): on a driver
#                           older than that toolkit, the load must fail loudly
#                           (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) naming the fix
#   bin/static-lib          the newest toolkit's static CUDA runtime, SASS as above
#   bin/doctor              examples/doctor.rs
#   gpu-check               the runner (build-support/gpu-check/)
# and manifest.json: what each was built with, and cuda-build's driver rules (the doctor's
# driver check, the build's PTX-JIT finding) evaluated for every driver version where they
# can change, so the run can compare them with the real driver. (75-virtual rather than
# 90-virtual: every GPU these toolkits support is sm_75 or newer, so both PTX-only builds
# apply to any of them and differ only in the toolkit.)
#
# run checks, with the real driver (device 0 = nvidia-smi's first GPU):
#   doctor        its driver and GPU fields against nvidia-smi's own output (and /proc)
#   sass          vector-add-sass: SASS path, 3 launches correct
#   ptx-jit       vector-add-ptx-old: JIT path, correct
#   ptx-too-new   vector-add-ptx-new: fails loudly with the fix when the driver's CUDA is older
#                 than the toolkit (cuDriverGetVersion), else runs correct
#   static-lib    saxpy correct
#   bandwidth     vector_add against cuMemcpyDtoD in the same run: ratio >= 0.95
#   driver-rules  the crate's rules, for this driver and GPU, predicted each outcome above
# Exit 0 when every check passes; without a CUDA device it prints "skipped: no CUDA device
# (why)" and exits 0.
set -euo pipefail

MODE="${1:-}"
DIR="${2:-}"
if [[ -z "$DIR" || ($MODE != prepare && $MODE != run) ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
fi

if [[ $MODE == run ]]; then
  DIR="$(cd "$DIR" && pwd)"
  [[ -x "$DIR/gpu-check" && -f "$DIR/manifest.json" ]] || {
    echo "gpu-check: $DIR is not a prepared folder (run: bash build-support/gpu-check.sh prepare DIR)" >&2
    exit 1
  }
  # Binaries built on one glibc need at least that one: say so plainly rather than let the
  # loader's "version GLIBC_2.xx not found" stand for a failed check.
  started=$("$DIR/gpu-check" 2>&1 || true)
  if [[ $started != *usage:* ]]; then
    need=$(sed -n 's/.*"needs_glibc": "\([^"]*\)".*/\1/p' "$DIR/manifest.json")
    echo "gpu-check: the prepared binaries do not start here: they need glibc >= $need, this machine has $(getconf GNU_LIBC_VERSION 2>/dev/null || echo '?')" >&2
    echo "$started" | head -3 >&2
    exit 1
  fi
  REPORT_DIR="${3:-$DIR}"
  mkdir -p "$REPORT_DIR"
  exec "$DIR/gpu-check" run "$DIR" "$REPORT_DIR"
fi

# ---------------------------------------------------------------------------- prepare
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
start=$(date +%s)

# The provisioned toolkits (provision nothing: only read what is there).
declare -A NVCC_OF=()
while IFS='=' read -r key path; do
  [[ $key == CUDA_BUILD_TEST_NVCC_* ]] || continue
  v=${key#CUDA_BUILD_TEST_NVCC_}
  NVCC_OF[${v/_/.}]=$path
done < <(bash build-support/provision.sh env 2>/dev/null)
mapfile -t VERSIONS < <(printf '%s\n' "${!NVCC_OF[@]}" | sort -V)
if ((${#VERSIONS[@]} == 0)); then
  echo "gpu-check: no provisioned toolkit: run bash build-support/provision.sh all (or matrix)" >&2
  exit 1
fi
NEWEST=${VERSIONS[-1]}
OLDEST=${VERSIONS[0]}
NEW_NVCC=${NVCC_OF[$NEWEST]}
OLD_NVCC=${NVCC_OF[$OLDEST]}
if [[ $NEWEST == "$OLDEST" ]]; then
  # The JIT check needs PTX older than the newest toolkit: a driver older than that one
  # cannot JIT its PTX (that is the ptx-too-new check).
  echo "gpu-check: one toolkit only (CUDA $NEWEST); the JIT check needs an older one too: bash build-support/provision.sh all" >&2
  exit 1
fi
# SASS for every real arch the newest toolkit lists (75 ... 121 for 13.5), PTX of the highest.
SASS_ARCHS=$("$NEW_NVCC" --list-gpu-code | sed -n 's/^sm_\([0-9]*\)$/\1/p' | sort -n | paste -sd';')
echo "gpu-check: newest CUDA $NEWEST ($NEW_NVCC), oldest CUDA $OLDEST ($OLD_NVCC); SASS for $SASS_ARCHS" >&2

# Builds as a user's would be, with nothing inherited that picks another toolkit, arch list or
# CPU (RUSTFLAGS=-Ctarget-cpu=native would not run elsewhere); stripped to keep DIR small.
export CARGO_TARGET_DIR="$ROOT/target/gpu-check"
export CARGO_PROFILE_RELEASE_STRIP=symbols
clean=(-u CUDACXX -u CUDA_PATH -u CUDA_HOME -u CUDAToolkit_ROOT -u CUDA_ROOT -u CUDA_TOOLKIT_ROOT_DIR
  -u TORCH_CUDA_ARCH_LIST -u CUDA_COMPUTE_CAP -u CMAKE_CUDA_ARCHITECTURES -u NVCC_CCBIN -u CUDAHOSTCXX
  -u NVCC_PREPEND_FLAGS -u NVCC_APPEND_FLAGS -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS
  -u CARGO_BUILD_TARGET -u CUDA_BUILD_SYSROOT)
rm -rf "$DIR/bin" "$DIR/.scratch" "$DIR/manifest.json" "$DIR/report.txt" "$DIR/report.json"
mkdir -p "$DIR/bin"

build() { # NAME PACKAGE NVCC CUDAARCHS
  echo "gpu-check: building $1 (CUDA from $3, CUDAARCHS=$4)" >&2
  env "${clean[@]}" NVCC="$3" CUDAARCHS="$4" cargo build --locked --release -q -p "$2"
  cp "$CARGO_TARGET_DIR/release/$2" "$DIR/bin/$1"
}
build vector-add-sass vector-add "$NEW_NVCC" "$SASS_ARCHS"
build vector-add-ptx-old vector-add "$OLD_NVCC" 75-virtual
build vector-add-ptx-new vector-add "$NEW_NVCC" 75-virtual
build static-lib static-lib "$NEW_NVCC" "$SASS_ARCHS"
echo "gpu-check: building doctor" >&2
env "${clean[@]}" cargo build --locked --release -q --example doctor
cp "$CARGO_TARGET_DIR/release/examples/doctor" "$DIR/bin/doctor"
echo "gpu-check: building the runner" >&2
env "${clean[@]}" cargo build --locked --release -q --manifest-path build-support/gpu-check/Cargo.toml
cp "$CARGO_TARGET_DIR/release/gpu-check" "$DIR/gpu-check"
cp build-support/gpu-check.sh "$DIR/gpu-check.sh"

# The newest glibc symbol version any binary needs: the GPU machine must have at least it.
needs_glibc=$(for f in "$DIR"/bin/* "$DIR/gpu-check"; do objdump -T "$f"; done | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
commit="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
built_on="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(rustc --version | cut -d' ' -f1-2), glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
echo "gpu-check: manifest (cuda-build's driver rules at every driver version in its tables)" >&2
"$DIR/gpu-check" manifest "$DIR" \
  --meta "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --meta "commit=$commit" --meta "built_on=$built_on" \
  --meta "needs_glibc=$needs_glibc" \
  --build "vector-add-sass|vector-add|$NEW_NVCC|$SASS_ARCHS|examples/vector-add/kernels/vector_add.cu|SASS for every arch of the newest toolkit: loads without a JIT" \
  --build "vector-add-ptx-old|vector-add|$OLD_NVCC|75-virtual|examples/vector-add/kernels/vector_add.cu|PTX only, oldest toolkit: the driver JIT-compiles it" \
  --build "vector-add-ptx-new|vector-add|$NEW_NVCC|75-virtual|examples/vector-add/kernels/vector_add.cu|PTX only, newest toolkit: fails loudly on a driver older than it" \
  --build "static-lib|static-lib|$NEW_NVCC|$SASS_ARCHS|examples/static-lib/kernels/saxpy.cu|static CUDA runtime, SASS as vector-add-sass" \
  --build "doctor|cuda-build|||examples/doctor.rs|the doctor (driver and GPU fields)"

size=$(du -sb "$DIR" | cut -f1)
limit=$((64 * 1024 * 1024))
echo "gpu-check: prepared $DIR: $((size / 1024 / 1024)) MiB, needs glibc >= $needs_glibc, in $(($(date +%s) - start)) s" >&2
if ((size >= limit)); then
  echo "gpu-check: $DIR is $size bytes, over the 64 MiB a device check may carry" >&2
  exit 1
fi
echo "gpu-check: copy $DIR to the GPU machine and run there: bash $DIR/gpu-check.sh run $DIR [REPORT_DIR]" >&2
