# shellcheck shell=bash
# Sourced by build-support/provision.sh after common.sh.
# CUDA from Debian: bookworm's 11.8 installed system-wide, trixie's 12.4 and experimental's
# 12.5 unpacked into the cache.

# The exact packages the tests were written against.
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
DEBIAN_ARCHIVE_DEFAULT="http://deb.debian.org/debian"
TRIXIE_DIR="$CACHE/debian-12.4"
EXPERIMENTAL_DIR="$CACHE/debian-12.5"

# ---------------------------------------------------------------------------
# CUDA 11.8: Debian bookworm's nvidia-cuda-toolkit, system-wide (root).

# apt_update_ok LOGFILE [apt-get prefix...]: apt-get update, which exits 0 even when
# the archive does not answer ("W: Failed to fetch"): treat that as a failure.
apt_update_ok() {
  local logf="$1"
  shift
  "$@" apt-get -q -o Acquire::Retries=1 -o Acquire::http::Timeout=30 update 2>&1 | tee "$logf" >&2 || return 1
  ! grep -Eq '^(W|E): (Failed to fetch|Some index files failed)' "$logf"
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

# Report lines (appended to LINES): 11.8, 12.4, 12.5 when present, each verified.
debian_report() {
  if bookworm_present && verified cuda-11.8 11.8 /usr/bin/nvcc -ccbin g++-11; then
    LINES+=("CUDA_BUILD_TEST_NVCC_11_8=/usr/bin/nvcc")
  fi
  if trixie_present && verified cuda-12.4 12.4 "$TRIXIE_NVCC"; then
    LINES+=("CUDA_BUILD_TEST_NVCC_12_4=$TRIXIE_NVCC")
  fi
  if experimental_present && verified cuda-12.5 12.5 "$EXPERIMENTAL_NVCC"; then
    LINES+=("CUDA_BUILD_TEST_NVCC_12_5=$EXPERIMENTAL_NVCC")
  fi
}
