# shellcheck shell=bash
# Sourced by build-support/provision.sh after common.sh.
# CUDA 13.5: NVIDIA's PyPI wheels, no root. The other 13.x minors (matrix): the same way.

# The exact versions the tests were written against.
PYPI_PINS=(
  nvidia-cuda-nvcc==13.5.37
  nvidia-nvvm==13.5.37
  nvidia-cuda-crt==13.5.37
  nvidia-cuda-runtime==13.5.37
  nvidia-cuda-cccl==13.3.5.0.6
  nvidia-cuda-cuobjdump==13.5.37
  nvidia-cuda-nvdisasm==13.5.37
)
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

PYPI_DIR="$CACHE/pypi-13.5"
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

# Report lines (appended to LINES): the 13.x minors present, verified by a smoke compile.
pypi_report() {
  local minor pins nvcc
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
}
