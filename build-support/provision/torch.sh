# shellcheck shell=bash
# Sourced by build-support/provision.sh after common.sh.
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

# Report line (appended to LINES): the torch site, when present and verified.
torch_report() {
  if torch_present && torch_verified; then
    LINES+=("CUDA_BUILD_TEST_TORCH_SITE=$TORCH_SITE")
  fi
}
