#!/usr/bin/env bash
# Run the crate's doctor (examples/doctor.rs) and make sure it has a real nvcc to look at.
#
# Usage: bash build-support/doctor.sh [doctor args, e.g. --json]
#
# If an nvcc is already findable (NVCC or CUDACXX set, nvcc on PATH, or
# /usr/local/cuda/bin/nvcc) the doctor runs as is. Otherwise CUDA 13.5 is
# provisioned from NVIDIA's PyPI wheels (build-support/provision.sh user: no
# root, no system file touched) and the doctor runs with that nvcc first on PATH.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

run_doctor() {
  cd "$ROOT"
  exec cargo run -q --example doctor -- "$@"
}

nvcc_on_path() {
  local p
  p="$(command -v nvcc 2>/dev/null)" && [[ -f "$p" && -x "$p" ]]
}

if [[ -n "${NVCC:-}" || -n "${CUDACXX:-}" ]] || nvcc_on_path || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  run_doctor "$@"
fi

echo "doctor.sh: no nvcc found (NVCC, CUDACXX, PATH, /usr/local/cuda); provisioning CUDA 13.5 from PyPI" >&2
bash "$HERE/provision.sh" user >/dev/null

CACHE="${CUDA_BUILD_CACHE:-$HOME/.cache/cuda-build}/toolkits"
BIN="$(cd "$CACHE/pypi-13.5/nvidia/cu13/bin" 2>/dev/null && pwd)" || {
  echo "doctor.sh: provisioning did not produce $CACHE/pypi-13.5/nvidia/cu13/bin/nvcc (see the lines above)" >&2
  exit 1
}
PATH="$BIN:$PATH" run_doctor "$@"
