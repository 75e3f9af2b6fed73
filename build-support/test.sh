#!/usr/bin/env bash
# Runs every test against real CUDA toolkits: provisions them first (idempotent, cached
# under ${CUDA_BUILD_CACHE:-~/.cache/cuda-build}; may install Debian packages, so run as
# root on a fresh machine), then `cargo test` with the toolkits' paths exported.
# Extra arguments go to cargo test (e.g. `bash build-support/test.sh --test layouts`).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
# Provision, reading the NAME=PATH lines it prints.
toolkits=$(bash build-support/provision.sh all)
echo "provisioned in $(($(date +%s) - start)) s:" >&2
echo "$toolkits" >&2
while IFS= read -r line; do
  [[ "$line" == CUDA_BUILD_TEST_NVCC_*=* ]] && export "${line?}"
done <<<"$toolkits"

cargo test --locked "$@"
