# shellcheck shell=bash
# Sourced by build-support/provision.sh after common.sh.
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

# Report line (appended to LINES): tch's torch site, when present and verified.
tch_report() {
  if tch_torch_present && tch_torch_verified; then
    LINES+=("CUDA_BUILD_TEST_TCH_SITE=$TCH_SITE")
  fi
}
