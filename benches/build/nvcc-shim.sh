#!/bin/bash
# Counting nvcc shim of the cuda-build benchmarks: logs each start and end, runs the real nvcc.
REAL='@REAL@'
if [ -z "$BENCH_NVCC_LOG" ]; then "$REAL" "$@"; exit $?; fi
IFS=$'\x1f'
printf 'S %s %s %s\n' "$EPOCHREALTIME" "$$" "$*" >> "$BENCH_NVCC_LOG"
unset IFS
"$REAL" "$@"
rc=$?
printf 'E %s %s %s\n' "$EPOCHREALTIME" "$$" "$rc" >> "$BENCH_NVCC_LOG"
exit $rc
