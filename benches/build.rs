//! `cargo bench --bench build`: cuda-build measured side by side with `make -j2` running the
//! same nvcc commands, bindgen_cuda and cudaforge, with the real provisioned toolkits
//! (13.5, and 12.4 where cheap). Prints ratios, regenerates BENCHMARKS.md, and exits non-zero
//! with a loud message when a ratio is worse than its margin.
//!
//! `cargo bench --bench build -- --quick`: a smoke run on tiny suites (writes
//! target/bench/BENCHMARKS.partial.md, never BENCHMARKS.md); `-- --only=1,7` runs just those tables.
//!
//! How each number is taken (also written into BENCHMARKS.md):
//! - Every nvcc goes through a counting shim: a fake toolkit root whose `bin/nvcc` logs
//!   start/end times and arguments, then runs the real nvcc (the rest of the root are symlinks
//!   to the real toolkit). cuda-build gets it as CUDA_PATH, the peers as the `nvcc` on PATH,
//!   make as its `$(NVCC)`. So spawns, concurrency and per-file durations come from one log.
//! - Build scripts are compiled once by cargo (a scratch consumer crate per tool, under
//!   target/bench), then their binary is re-run directly with the environment cargo gave it
//!   and a 2-token jobserver, exactly like `cargo build -j2` running that build script.
//!   "Cold" = its OUT_DIR emptied first (as after `cargo clean`).
#![allow(clippy::disallowed_methods)] // a benchmark driver reads and sets the real environment

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cuda_build::{Env, Probe};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// nvcc flags of every compile (candle-kernels' own, plus the stream flag the peers always add).
const PEER_FLAGS: &str = "-O3 -std=c++17 --expt-relaxed-constexpr";
/// `--default-stream=per-thread` in one word: sccache 0.4 takes the two-word form's
/// `per-thread` for a second input file and refuses to cache the call.
const CB_FLAGS: &str = "-O3 -std=c++17 --expt-relaxed-constexpr --default-stream=per-thread";
/// The token limit of every build (cargo build -j2 on this 2-core machine).
const JOBS: usize = 2;
const BINDGEN_CUDA: &str = "=0.1.6";
const CUDAFORGE: &str = "=0.1.6";

// ---------------------------------------------------------------------------------------------
// Margins: a ratio worse than these fails the run (goals are stated next to them).
const COLD_GOAL: f64 = 1.05;
const COLD_MARGIN: f64 = 1.10;
/// A no-op may cost this many times make's no-op (which reads every depfile and stats every header).
const NOOP_OF_MAKE_MARGIN: f64 = 3.0;
const NOOP_GOAL_MS: f64 = 50.0;
const HEADER_MARGIN: f64 = 1.10;
const CACHE_GOAL: f64 = 0.15;
const CACHE_MARGIN: f64 = 0.25;
const SCCACHE_MARGIN: f64 = 0.35;
/// A cold run during which other processes took more than this share of the CPU is repeated
/// (up to 3 times): this machine is shared.
const FOREIGN_LIMIT: f64 = 0.10;

fn main() {
    let started = Instant::now();
    let quick = std::env::args().any(|a| a == "--quick");
    let only: Option<BTreeSet<u32>> = std::env::args()
        .find_map(|a| a.strip_prefix("--only=").map(|l| l.split(',').filter_map(|n| n.trim().parse().ok()).collect()));
    let cfg = if quick {
        Cfg { quick, reps: 1, n_main: 4, scale: vec![2, 8], cache_n: 2, depcost_reps: 1, only }
    } else {
        Cfg { quick, reps: 3, n_main: 16, scale: vec![8, 32, 64], cache_n: 8, depcost_reps: 3, only }
    };
    let root = PathBuf::from(ROOT);
    let work = root.join("target/bench");
    fs::create_dir_all(&work).unwrap();
    let mut b = Bench::new(cfg, root, work);
    b.run();
    let total = started.elapsed().as_secs_f64();
    let doc = b.document(total);
    let dest = if b.cfg.quick || b.cfg.only.is_some() {
        b.work.join("BENCHMARKS.partial.md")
    } else {
        b.root.join("BENCHMARKS.md")
    };
    fs::write(&dest, &doc).unwrap();
    println!("\n{doc}");
    println!("wrote {} (total {:.0} s)", dest.display(), total);
    let failed: Vec<&Check> = b.checks.iter().filter(|c| !c.ok).collect();
    if !failed.is_empty() {
        eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! BENCHMARK CHECKS FAILED: {} of {}", failed.len(), b.checks.len());
        for c in failed {
            eprintln!("!!!   {}: {} (limit {})", c.name, c.value, c.limit);
        }
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        std::process::exit(1);
    }
    println!("all {} checks passed", b.checks.len());
}

struct Cfg {
    quick: bool,
    /// Runs per measurement (the median is reported); runs over 30 s are taken once.
    reps: usize,
    n_main: usize,
    scale: Vec<usize>,
    cache_n: usize,
    depcost_reps: usize,
    /// `--only=1,7`: just these tables (development; BENCHMARKS.md is then not written).
    only: Option<BTreeSet<u32>>,
}

/// A goal of the issue: reported (met or not), never failing the run by itself.
struct Goal {
    name: String,
    value: String,
    /// None: not measured here.
    met: Option<bool>,
}

struct Check {
    name: String,
    value: String,
    limit: String,
    ok: bool,
}

// ---------------------------------------------------------------------------------------------
// The nvcc log written by the shim.

#[derive(Clone, Debug)]
struct Call {
    start: f64,
    end: f64,
    args: Vec<String>,
}

impl Call {
    /// What this nvcc run was: a compile, a preprocessing pass (a cache's), or a query.
    fn kind(&self) -> String {
        if let Some(q) = self.args.iter().find(|a| a.starts_with("--version") || a.starts_with("--list-gpu")) {
            q.clone()
        } else if self.args.iter().any(|a| a == "-E") {
            "preprocess (-E)".into()
        } else if self.args.iter().any(|a| a == "-M") {
            "depfile (-M)".into()
        } else if self.source().is_some() {
            "compile".into()
        } else {
            self.args.first().cloned().unwrap_or_default()
        }
    }

    fn source(&self) -> Option<String> {
        let last = self.args.last()?;
        last.ends_with(".cu").then(|| Path::new(last).file_name().unwrap().to_string_lossy().into_owned())
    }
}

fn read_log(path: &Path) -> Vec<Call> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut open: BTreeMap<String, Call> = BTreeMap::new();
    let mut done = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(4, ' ');
        let (Some(kind), Some(t), Some(pid)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Ok(t) = t.parse::<f64>() else { continue };
        match kind {
            "S" => {
                let args = parts.next().unwrap_or("").split('\x1f').map(str::to_owned).collect();
                open.insert(pid.to_owned(), Call { start: t, end: f64::NAN, args });
            }
            "E" => {
                if let Some(mut c) = open.remove(pid) {
                    c.end = t;
                    done.push(c);
                }
            }
            _ => {}
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| a.start.total_cmp(&b.start));
    done
}

fn max_concurrency(calls: &[Call]) -> usize {
    let mut ev: Vec<(f64, i32)> = Vec::new();
    for c in calls {
        ev.push((c.start, 1));
        ev.push((if c.end.is_nan() { f64::MAX } else { c.end }, -1));
    }
    ev.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in ev {
        now += d;
        max = max.max(now);
    }
    max as usize
}

/// One measured run of one tool.
#[derive(Clone, Debug, Default)]
struct Run {
    wall: f64,
    launched: f64,
    /// Share of the machine's CPU time used by processes outside this benchmark during the run.
    foreign: f64,
    calls: Vec<Call>,
    error: Option<String>,
}

impl Run {
    fn spawns(&self) -> usize {
        self.calls.len()
    }
    /// "2 compile, 1 --version": the spawns by kind.
    fn kinds(&self) -> String {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for c in &self.calls {
            *by.entry(c.kind()).or_default() += 1;
        }
        if by.is_empty() {
            return "-".into();
        }
        by.into_iter().map(|(k, n)| format!("{n} `{k}`")).collect::<Vec<_>>().join(", ")
    }
    fn compiled(&self) -> BTreeSet<String> {
        self.calls.iter().filter_map(Call::source).collect()
    }
    fn compiles(&self) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.source().is_some()).collect()
    }
    fn nvcc_secs(&self) -> f64 {
        self.compiles().iter().map(|c| c.end - c.start).filter(|d| d.is_finite()).sum()
    }
    /// Time from launch to the first compile's start (probe, setup), and from the last
    /// compile's end to exit (archive, generated module).
    fn startup_tail(&self) -> (f64, f64) {
        let c = self.compiles();
        if c.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let first = c.iter().map(|c| c.start).fold(f64::MAX, f64::min);
        let last = c.iter().map(|c| c.end).fold(0.0, f64::max);
        (first - self.launched, self.launched + self.wall - last)
    }
}

/// (CPU ticks the whole machine spent busy, ticks of this process and its waited-for descendants).
fn cpu_ticks() -> (u64, u64) {
    let all = fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|t| {
            let f: Vec<u64> = t.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal
            Some(f.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum())
        })
        .unwrap_or(0);
    let ours = fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| {
            let rest = &t[t.rfind(')')? + 1..];
            let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            // after the state field: utime stime cutime cstime are fields 14-17 of the line
            Some(f.get(10..14)?.iter().sum())
        })
        .unwrap_or(0);
    (all, ours)
}

/// Waits (up to a minute) until other processes use less than FOREIGN_LIMIT of the CPU.
fn wait_quiet() {
    for _ in 0..12 {
        let before = cpu_ticks();
        std::thread::sleep(std::time::Duration::from_secs(1));
        let share = foreign_share(before, cpu_ticks(), 1.0);
        if share <= FOREIGN_LIMIT {
            return;
        }
        println!("  (other processes use {:.0}% of the CPU: waiting)", share * 100.0);
        std::thread::sleep(std::time::Duration::from_secs(4));
    }
}

/// Foreign CPU share between two snapshots over `wall` seconds.
fn foreign_share(before: (u64, u64), after: (u64, u64), wall: f64) -> f64 {
    let tick = 100.0; // USER_HZ
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let foreign = after.0.saturating_sub(before.0) as f64 - after.1.saturating_sub(before.1) as f64;
    (foreign / tick / (wall * cores)).max(0.0)
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn secs(s: f64) -> String {
    if !s.is_finite() {
        "-".into()
    } else if s < 0.01 {
        format!("{:.2} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn ratio(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.3}x")
    } else {
        "-".into()
    }
}

// ---------------------------------------------------------------------------------------------
// Toolkits and the counting shim.

fn toolkit_nvcc(version: &str) -> Option<PathBuf> {
    let var = format!("CUDA_BUILD_TEST_NVCC_{}", version.replace('.', "_"));
    if let Some(v) = std::env::var_os(&var) {
        return Some(PathBuf::from(v));
    }
    let cache = std::env::var_os("CUDA_BUILD_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(|x| PathBuf::from(x).join("cuda-build"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cuda-build")))
    })?;
    let text = fs::read_to_string(cache.join("toolkits/toolkits.env")).ok()?;
    text.lines().find_map(|l| l.strip_prefix(&format!("{var}=")).map(PathBuf::from)).filter(|p| p.is_file())
}

const SHIM: &str = r#"#!/bin/bash
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
"#;

/// A toolkit root whose bin/nvcc is the counting shim; everything else links to the real root.
fn fake_root(dir: &Path, real_nvcc: &Path, version_json: Option<&str>) -> PathBuf {
    let real_nvcc = fs::canonicalize(real_nvcc).unwrap();
    let real_bin = real_nvcc.parent().unwrap();
    let real_root = real_bin.parent().unwrap();
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("bin")).unwrap();
    for e in fs::read_dir(real_root).unwrap().flatten() {
        let name = e.file_name();
        if name != "bin" && name != "version.json" && name != "version.txt" {
            std::os::unix::fs::symlink(e.path(), dir.join(&name)).unwrap();
        }
    }
    for e in fs::read_dir(real_bin).unwrap().flatten() {
        if e.file_name() != "nvcc" {
            std::os::unix::fs::symlink(e.path(), dir.join("bin").join(e.file_name())).unwrap();
        }
    }
    let shim = dir.join("bin/nvcc");
    fs::write(&shim, SHIM.replace("@REAL@", &real_nvcc.to_string_lossy())).unwrap();
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    if let Some(j) = version_json {
        fs::write(dir.join("version.json"), j).unwrap();
    }
    dir.to_path_buf()
}

fn nvcc_release(nvcc: &Path) -> String {
    let out = Command::new(nvcc).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.unwrap_or_default()
        .lines()
        .find_map(|l| l.split("release ").nth(1).map(|r| r.replace(", V", " (V").trim().to_owned() + ")"))
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------------------------------------
// The generated suite: templated elementwise and reduction kernels.

const COMMON_CUH: &str = r#"#pragma once
// Generated by benches/build.rs (cuda-build benchmarks): shared helpers.
#include <cuda_fp16.h>
#include <stdint.h>
template <typename T> struct Acc { using type = T; };
template <> struct Acc<__half> { using type = float; };
template <typename T> __device__ __forceinline__ typename Acc<T>::type to_acc(T v) { return static_cast<typename Acc<T>::type>(v); }
template <> __device__ __forceinline__ float to_acc<__half>(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_acc(typename Acc<T>::type v) { return static_cast<T>(v); }
template <> __device__ __forceinline__ __half from_acc<__half>(float v) { return __float2half(v); }
template <typename T, int N> struct alignas(sizeof(T) * N) Vec { T v[N]; };
"#;

const ELEMENTWISE_CUH: &str = r#"#pragma once
// Generated by benches/build.rs (cuda-build benchmarks): vectorised elementwise kernels.
#include "common.cuh"
#define EW_VEC 4
struct AddOp { template <typename A> __device__ A operator()(A a, A b) const { return a + b; } };
struct MulOp { template <typename A> __device__ A operator()(A a, A b) const { return a * b; } };
struct AxpyOp { template <typename A> __device__ A operator()(A a, A b) const { return A(2) * a + b; } };
struct MaxOp { template <typename A> __device__ A operator()(A a, A b) const { return a > b ? a : b; } };
template <typename T, typename Op>
__device__ void ew_binary(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, size_t n) {
  using V = Vec<T, EW_VEC>;
  Op op;
  size_t nv = n / EW_VEC;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nv; i += (size_t)gridDim.x * blockDim.x) {
    V va = reinterpret_cast<const V*>(a)[i], vb = reinterpret_cast<const V*>(b)[i], vo;
#pragma unroll
    for (int k = 0; k < EW_VEC; ++k) vo.v[k] = from_acc<T>(op(to_acc(va.v[k]), to_acc(vb.v[k])));
    reinterpret_cast<V*>(out)[i] = vo;
  }
  for (size_t i = nv * EW_VEC + blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    out[i] = from_acc<T>(op(to_acc(a[i]), to_acc(b[i])));
}
template <typename T, typename Op>
__device__ void ew_strided(const T* a, const T* b, T* out, const size_t* dims, const size_t* sa, const size_t* sb, int rank, size_t n) {
  Op op;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    size_t r = i, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) { size_t c = r % dims[d]; r /= dims[d]; ia += c * sa[d]; ib += c * sb[d]; }
    out[i] = from_acc<T>(op(to_acc(a[ia]), to_acc(b[ib])));
  }
}
#define EW_KERNELS(T, OP, NAME) \
  extern "C" __global__ void NAME##_contig(const T* a, const T* b, T* o, size_t n) { ew_binary<T, OP>(a, b, o, n); } \
  extern "C" __global__ void NAME##_strided(const T* a, const T* b, T* o, const size_t* d, const size_t* sa, const size_t* sb, int r, size_t n) { ew_strided<T, OP>(a, b, o, d, sa, sb, r, n); }
"#;

const REDUCE_CUH: &str = r#"#pragma once
// Generated by benches/build.rs (cuda-build benchmarks): row reductions and softmax on cub.
#include "common.cuh"
#include <cub/block/block_reduce.cuh>
#define RED_BLOCK 256
#define RED_SCALE 2.0f
struct SumR { template <typename A> __device__ static A init() { return A(0); } template <typename A> __device__ static A f(A a, A b) { return a + b; } };
struct MaxR { template <typename A> __device__ static A init() { return A(-1e30); } template <typename A> __device__ static A f(A a, A b) { return a > b ? a : b; } };
template <typename R> struct CubOp { template <typename A> __device__ A operator()(const A& a, const A& b) const { return R::template f<A>(a, b); } };
template <typename T, typename R>
__device__ void reduce_rows(const T* __restrict__ in, T* __restrict__ out, size_t cols) {
  using A = typename Acc<T>::type;
  using BR = cub::BlockReduce<A, RED_BLOCK>;
  __shared__ typename BR::TempStorage tmp;
  const T* row = in + blockIdx.x * cols;
  A acc = R::template init<A>();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) acc = R::template f<A>(acc, to_acc(row[c]));
  acc = BR(tmp).Reduce(acc, CubOp<R>());
  if (threadIdx.x == 0) out[blockIdx.x] = from_acc<T>(acc * A(RED_SCALE));
}
template <typename T>
__device__ void softmax_rows(const T* __restrict__ in, T* __restrict__ out, size_t cols) {
  using A = typename Acc<T>::type;
  using BR = cub::BlockReduce<A, RED_BLOCK>;
  __shared__ typename BR::TempStorage tmp;
  __shared__ A bm, bs;
  const T* row = in + blockIdx.x * cols;
  T* orow = out + blockIdx.x * cols;
  A m = MaxR::init<A>();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) m = MaxR::f<A>(m, to_acc(row[c]));
  m = BR(tmp).Reduce(m, CubOp<MaxR>());
  if (threadIdx.x == 0) bm = m;
  __syncthreads();
  A s = A(0);
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) s += exp(to_acc(row[c]) - bm);
  s = BR(tmp).Reduce(s, CubOp<SumR>());
  if (threadIdx.x == 0) bs = s;
  __syncthreads();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) orow[c] = from_acc<T>(exp(to_acc(row[c]) - bm) / bs * A(RED_SCALE));
}
#define RED_KERNELS(T, NAME) \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_sum(const T* i, T* o, size_t c) { reduce_rows<T, SumR>(i, o, c); } \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_max(const T* i, T* o, size_t c) { reduce_rows<T, MaxR>(i, o, c); } \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_softmax(const T* i, T* o, size_t c) { softmax_rows<T>(i, o, c); }
"#;

/// `n` kernels: even ones elementwise (12-24 instantiations), odd ones reductions on cub
/// (2-6 instantiations of 3 kernels), so files take different times, as real suites do.
fn gen_suite(dir: &Path, n: usize) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("common.cuh"), COMMON_CUH).unwrap();
    fs::write(dir.join("elementwise.cuh"), ELEMENTWISE_CUH).unwrap();
    fs::write(dir.join("reduce.cuh"), REDUCE_CUH).unwrap();
    let ew_types = [
        ("float", "f32"),
        ("double", "f64"),
        ("__half", "f16"),
        ("int", "i32"),
        ("long long", "i64"),
        ("unsigned", "u32"),
    ];
    let ops = [("AddOp", "add"), ("MulOp", "mul"), ("AxpyOp", "axpy"), ("MaxOp", "max")];
    let red_types = [("float", "f32"), ("double", "f64"), ("__half", "f16")];
    for i in 0..n {
        let mut s = String::new();
        let name = if i % 2 == 0 {
            s.push_str("#include \"elementwise.cuh\"\n");
            for j in 0..[12, 16, 20, 24][(i / 2) % 4] {
                let (t, tn) = ew_types[(i + j) % ew_types.len()];
                let (o, on) = ops[(i / 2 + j) % ops.len()];
                let _ = writeln!(s, "EW_KERNELS({t}, {o}, {on}_{tn}_{i}_{j})");
            }
            format!("k{i:03}_ew.cu")
        } else {
            s.push_str("#include \"reduce.cuh\"\n");
            for j in 0..[2, 3, 4, 6][(i / 2) % 4] {
                let (t, tn) = red_types[(i + j) % red_types.len()];
                let _ = writeln!(s, "RED_KERNELS({t}, red_{tn}_{i}_{j})");
            }
            format!("k{i:03}_red.cu")
        };
        fs::write(dir.join(name), s).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        let s = name.to_string_lossy();
        if s.ends_with(".cu") || s.ends_with(".cuh") {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn set_red_scale(dir: &Path, value: &str) {
    let p = dir.join("reduce.cuh");
    let text = fs::read_to_string(&p).unwrap();
    let line = text.lines().find(|l| l.starts_with("#define RED_SCALE")).unwrap().to_owned();
    fs::write(&p, text.replace(&line, &format!("#define RED_SCALE {value}"))).unwrap();
}

/// Extra variables for one run.
type Vars<'a> = [(&'a str, String)];

// ---------------------------------------------------------------------------------------------
// Scratch consumer crates, one per tool.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    CudaBuild,
    Make,
    /// make running cuda-build's commands without `-MD -MF`: no header tracking (the peers' work).
    MakeNoDeps,
    /// make with the depfile written by the preprocessor pass nvcc runs anyway
    /// (`-Xcompiler -MD,-MF,...`) instead of nvcc's `-MD` (which adds a pass).
    MakeHostDeps,
    BindgenCuda,
    Cudaforge,
    /// cudaforge with CUDAFORGE_THREADS=2 (its default is 50% of the cores: 1 here).
    Cudaforge2,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::CudaBuild => "cuda-build",
            Tool::Make => "make -j2 (same nvcc commands, nvcc's -MD -MF)",
            Tool::MakeNoDeps => "make -j2, same commands without -MD -MF",
            Tool::MakeHostDeps => "make -j2, depfile via -Xcompiler -MD instead",
            Tool::BindgenCuda => "bindgen_cuda 0.1.6",
            Tool::Cudaforge => "cudaforge 0.1.6 (default threads)",
            Tool::Cudaforge2 => "cudaforge 0.1.6, CUDAFORGE_THREADS=2",
        }
    }
    fn short(self) -> &'static str {
        match self {
            Tool::CudaBuild => "cuda-build",
            Tool::Make | Tool::MakeNoDeps | Tool::MakeHostDeps => "make",
            Tool::BindgenCuda => "bindgen_cuda",
            Tool::Cudaforge | Tool::Cudaforge2 => "cudaforge",
        }
    }
}

struct Consumer {
    dir: PathBuf,
    exe: PathBuf,
    out_dir: PathBuf,
    env: Vec<(String, String)>,
}

/// Variables never passed from the harness's own environment to the tools.
fn sanitize(cmd: &mut Command) {
    for v in [
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CUDA_BUILD_LAUNCHER",
        "CMAKE_CUDA_COMPILER_LAUNCHER",
        "NVCC",
        "CUDACXX",
        "CUDA_PATH",
        "CUDA_HOME",
        "CUDA_ROOT",
        "CUDAARCHS",
        "CMAKE_CUDA_ARCHITECTURES",
        "TORCH_CUDA_ARCH_LIST",
        "CUDA_COMPUTE_CAP",
        "NVCC_CCBIN",
        "NVCC_PREPEND_FLAGS",
        "NVCC_APPEND_FLAGS",
        "RAYON_NUM_THREADS",
        "CUDAFORGE_THREADS",
        "BENCH_NVCC_LOG",
    ] {
        cmd.env_remove(v);
    }
}

fn consumer_manifest(tool: Tool, root: &Path) -> String {
    let dep = match tool {
        Tool::CudaBuild => format!("cuda-build = {{ path = {:?} }}", root.display().to_string()),
        Tool::BindgenCuda => format!("bindgen_cuda = \"{BINDGEN_CUDA}\""),
        _ => format!("cudaforge = \"{CUDAFORGE}\""),
    };
    format!(
        "# Generated by benches/build.rs: scratch consumer crate of the cuda-build benchmarks.\n\
         [package]\nname = \"bench-consumer-{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [build-dependencies]\n{dep}\n\n[workspace]\n",
        tool.short().replace('_', "-")
    )
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    sanitize(&mut c);
    c
}

fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------

struct Bench {
    cfg: Cfg,
    root: PathBuf,
    work: PathBuf,
    checks: Vec<Check>,
    goals: Vec<Goal>,
    /// Cold runs repeated because other processes took the CPU.
    disturbed: usize,
    sections: Vec<String>,
    consumers: BTreeMap<&'static str, Consumer>,
    root135: PathBuf,
    root124: Option<PathBuf>,
    release135: String,
    release124: String,
    log_seq: usize,
}

struct Suite {
    name: String,
    /// Per tool: its own copy of the sources.
    dirs: BTreeMap<&'static str, PathBuf>,
    fake_root: PathBuf,
    mode: &'static str,
}

impl Bench {
    fn new(cfg: Cfg, root: PathBuf, work: PathBuf) -> Self {
        let nvcc135 = toolkit_nvcc("13.5").unwrap_or_else(|| {
            eprintln!("!!! no CUDA 13.5 toolkit: run `bash build-support/provision.sh matrix` (or set CUDA_BUILD_TEST_NVCC_13_5)");
            std::process::exit(2);
        });
        let root135 = fake_root(&work.join("roots/13.5"), &nvcc135, None);
        let nvcc124 = toolkit_nvcc("12.4");
        let root124 = nvcc124.as_ref().map(|n| fake_root(&work.join("roots/12.4"), n, None));
        let release135 = nvcc_release(&nvcc135);
        let release124 = nvcc124.as_deref().map(nvcc_release).unwrap_or_default();
        Bench {
            cfg,
            root,
            work,
            checks: Vec::new(),
            goals: Vec::new(),
            disturbed: 0,
            sections: Vec::new(),
            consumers: BTreeMap::new(),
            root135,
            root124,
            release135,
            release124,
            log_seq: 0,
        }
    }

    fn goal(&mut self, name: &str, value: String, met: bool) {
        println!("  goal {}: {name}: {value}", if met { "met   " } else { "MISSED" });
        self.goals.push(Goal { name: name.into(), value, met: Some(met) });
    }

    fn check(&mut self, name: &str, value: String, limit: String, ok: bool) {
        println!("  check {}: {name}: {value} (limit {limit})", if ok { "ok  " } else { "FAIL" });
        self.checks.push(Check { name: name.into(), value, limit, ok });
    }

    fn run(&mut self) {
        let want = |n: u32| match &self.cfg.only {
            Some(o) => o.contains(&n),
            None => true,
        };
        let (w1, w2, w3, w4, w5, w6, w7) = (want(1), want(2), want(3), want(4), want(5), want(6), want(7));
        println!("== setup: consumer crates (build scripts compiled once; registry fetched first)");
        self.setup_consumers();
        if w4 {
            println!("== 4. probe cost");
            self.probe_cost();
        }
        let gen_src = self.work.join("suites/gen-src");
        gen_suite(&gen_src, self.cfg.n_main);
        let mut t1 = String::new();
        if w1 || w2 || w3 || w6 {
            println!("== 1. cold builds (generated suite, N={})", self.cfg.n_main);
            let gen = self.suite("gen", &gen_src, self.root135.clone(), "ptx", &ALL_TOOLS);
            let gen_runs = self.cold(&gen, &GEN_TOOLS, None, true);
            let title = format!("Generated suite, {} kernels, CUDA {}", self.cfg.n_main, self.release135);
            self.cold_table(&mut t1, &title, &gen_runs, true);
            if w2 {
                println!("== 2. no-op rebuild");
                self.noop(&gen);
            }
            if w3 {
                println!("== 3. one header edited");
                self.header_edit(&gen);
            }
            if w6 {
                println!("== 6. scale");
                self.scale(&gen_runs);
            }
        }
        if w1 {
            println!("== 1. cold builds (candle-kernels subset)");
            let candle_src = self.root.join("build-support/bench/candle-kernels");
            let candle = self.suite("candle", &candle_src, self.root135.clone(), "ptx", &ALL_TOOLS);
            let reps = if self.cfg.quick { 1 } else { self.cfg.reps.max(5) };
            let candle_runs = self.cold(&candle, &ALL_TOOLS, Some(reps), false);
            let title = format!("candle-kernels 0.9.2 subset (3 kernels), CUDA {}", self.release135);
            self.cold_table(&mut t1, &title, &candle_runs, true);
            if let Some(r124) = self.root124.clone() {
                println!("== 1. cold builds (generated suite, CUDA 12.4)");
                let s = self.suite("gen124", &gen_src, r124, "ptx", &[Tool::CudaBuild, Tool::Make]);
                let runs = self.cold(&s, &[Tool::CudaBuild, Tool::Make], None, true);
                let title = format!("Generated suite, {} kernels, CUDA {}", self.cfg.n_main, self.release124);
                self.cold_table(&mut t1, &title, &runs, false);
            }
        }
        if !t1.is_empty() {
            self.sections.push(t1);
        }
        if w7 {
            println!("== 7. shared cache");
            self.cache();
        }
        if w5 {
            println!("== 5. cost to downstream users");
            self.dep_cost();
        }
        self.sections.push(
            "## 8. On a GPU: vector-add bandwidth against cudaMemcpy\n\n\
             | measurement | result |\n|---|---|\n\
             | vector-add bandwidth / cudaMemcpy device-to-device | not run: no CUDA device on this machine |\n\
             | launch of every example kernel, results checked | not run: no CUDA device on this machine |\n\n\
             Measuring it needs a machine with a GPU (the project's lent `device` machine); this harness \
             has no GPU code path and writes this table as not run. For scale only: the project's notes \
             record one hand measurement on an H200 (a float4 grid-stride vector add at 0.98x \
             cudaMemcpy device-to-device, scalar loads 0.87x).\n"
                .into(),
        );
        self.goals.push(Goal {
            name: "GPU: vector-add bandwidth >= 0.95x cudaMemcpy".into(),
            value: "not run: no CUDA device on this machine".into(),
            met: None,
        });
        // Order the sections 1..8.
        self.sections.sort_by_key(|s| s.split_whitespace().nth(1).map(str::to_owned));
    }

    fn setup_consumers(&mut self) {
        for (key, tool, script) in [
            ("cuda-build", Tool::CudaBuild, include_str!("../build-support/bench/consumers/cuda_build.rs")),
            ("bindgen_cuda", Tool::BindgenCuda, include_str!("../build-support/bench/consumers/bindgen_cuda.rs")),
            ("cudaforge", Tool::Cudaforge, include_str!("../build-support/bench/consumers/cudaforge.rs")),
        ] {
            let dir = self.work.join("consumers").join(key);
            fs::create_dir_all(dir.join("src")).unwrap();
            fs::write(dir.join("Cargo.toml"), consumer_manifest(tool, &self.root)).unwrap();
            fs::write(dir.join("src/lib.rs"), "// empty: the build script is what is measured\n").unwrap();
            // Rewritten every time: a newer build.rs makes cargo rebuild and rerun it (the capture).
            fs::write(dir.join("build.rs"), script).unwrap();
            let manifest = dir.join("Cargo.toml");
            run_ok(cargo().arg("fetch").arg("--manifest-path").arg(&manifest), &format!("cargo fetch ({key})"));
            let capture = dir.join("captured-env.txt");
            let _ = fs::remove_file(&capture);
            let t = Instant::now();
            run_ok(
                cargo()
                    .args(["build", "--offline", "--manifest-path"])
                    .arg(&manifest)
                    .env("CARGO_TARGET_DIR", self.work.join("targets").join(key))
                    .env("BENCH_CAPTURE", &capture),
                &format!("cargo build ({key})"),
            );
            let text = fs::read_to_string(&capture).expect("the build script did not run (capture missing)");
            let mut env = Vec::new();
            let mut exe = PathBuf::new();
            for line in text.lines() {
                let Some((k, v)) = line.split_once('=') else { continue };
                if k == "EXE" {
                    exe = PathBuf::from(v);
                } else if !k.starts_with("BENCH_") {
                    env.push((k.to_owned(), v.to_owned()));
                }
            }
            let out_dir = PathBuf::from(&env.iter().find(|(k, _)| k == "OUT_DIR").unwrap().1);
            println!("  {key}: build script ready in {:.1} s ({})", t.elapsed().as_secs_f64(), exe.display());
            self.consumers.insert(key, Consumer { dir, exe, out_dir, env });
        }
    }

    fn new_log(&mut self) -> PathBuf {
        self.log_seq += 1;
        let dir = self.work.join("logs");
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{:05}.log", self.log_seq));
        let _ = fs::remove_file(&p);
        p
    }

    /// Runs a consumer's build script as cargo would (its environment, a 2-token jobserver).
    fn replay(&mut self, key: &str, fake: &Path, vars: &[(&str, String)]) -> Run {
        let log = self.new_log();
        let c = &self.consumers[key];
        let mut cmd = Command::new(&c.exe);
        cmd.env_clear();
        for (k, v) in &c.env {
            if !matches!(k.as_str(), "CARGO_MAKEFLAGS" | "MAKEFLAGS" | "MFLAGS" | "RUSTC_WRAPPER") {
                cmd.env(k, v);
            }
        }
        let path = c.env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", fake.join("bin").display()));
        cmd.env("CUDA_PATH", fake);
        cmd.env("NUM_JOBS", JOBS.to_string());
        cmd.env("BENCH_NVCC_LOG", &log);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.current_dir(&c.dir).stdin(Stdio::null());
        let client = jobserver::Client::new(JOBS - 1).unwrap();
        client.configure(&mut cmd);
        let cpu0 = cpu_ticks();
        let launched = now();
        let t = Instant::now();
        let out = cmd.output().unwrap();
        let wall = t.elapsed().as_secs_f64();
        let foreign = foreign_share(cpu0, cpu_ticks(), wall);
        drop(client);
        let error = (!out.status.success()).then(|| {
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let tail: Vec<&str> = text.lines().rev().take(12).collect();
            format!("{} ({}): {}", key, out.status, tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
        });
        if let Some(e) = &error {
            eprintln!("  !! {e}");
        }
        Run { wall, launched, foreign, calls: read_log(&log), error }
    }

    fn make(&mut self, makefile: &Path, cwd: &Path) -> Run {
        let log = self.new_log();
        let mut cmd = Command::new("make");
        sanitize(&mut cmd);
        cmd.arg(format!("-j{JOBS}")).arg("-s").arg("-f").arg(makefile).current_dir(cwd).env("BENCH_NVCC_LOG", &log);
        let cpu0 = cpu_ticks();
        let launched = now();
        let t = Instant::now();
        let out = cmd.output().unwrap();
        let wall = t.elapsed().as_secs_f64();
        let foreign = foreign_share(cpu0, cpu_ticks(), wall);
        let error = (!out.status.success()).then(|| format!("make: {}", String::from_utf8_lossy(&out.stderr)));
        if let Some(e) = &error {
            eprintln!("  !! {e}");
        }
        Run { wall, launched, foreign, calls: read_log(&log), error }
    }

    fn suite(&self, name: &str, src: &Path, fake_root: PathBuf, mode: &'static str, tools: &[Tool]) -> Suite {
        let mut dirs = BTreeMap::new();
        for t in tools {
            let d = self.work.join("suites").join(format!("{name}-{}", t.short()));
            if !dirs.contains_key(t.short()) {
                copy_dir(src, &d);
                dirs.insert(t.short(), d);
            }
        }
        Suite { name: name.into(), dirs, fake_root, mode }
    }

    fn consumer_key(tool: Tool) -> &'static str {
        match tool {
            Tool::CudaBuild => "cuda-build",
            Tool::BindgenCuda => "bindgen_cuda",
            _ => "cudaforge",
        }
    }

    fn make_variant(tool: Tool) -> &'static str {
        match tool {
            Tool::MakeNoDeps => "nodeps",
            Tool::MakeHostDeps => "hostdeps",
            _ => "exact",
        }
    }

    fn make_out(&self, s: &Suite, tool: Tool) -> PathBuf {
        self.work.join("make").join(&s.name).join(Self::make_variant(tool))
    }

    fn makefile(&self, s: &Suite, tool: Tool) -> PathBuf {
        self.work.join("make").join(&s.name).join(format!("{}.mk", Self::make_variant(tool)))
    }

    /// One build of `tool`: cold (outputs removed first) or incremental.
    fn build(&mut self, s: &Suite, tool: Tool, cold: bool, extra: &[(&str, String)]) -> Run {
        if matches!(tool, Tool::Make | Tool::MakeNoDeps | Tool::MakeHostDeps) {
            let out = self.make_out(s, tool);
            if cold {
                let _ = fs::remove_dir_all(&out);
            }
            fs::create_dir_all(&out).unwrap();
            let dir = self.consumers["cuda-build"].dir.clone();
            let mk = self.makefile(s, tool);
            return self.make(&mk, &dir);
        }
        let key = Self::consumer_key(tool);
        let out_dir = self.consumers[key].out_dir.clone();
        if cold {
            let _ = fs::remove_dir_all(&out_dir);
            fs::create_dir_all(&out_dir).unwrap();
        }
        let flags = if tool == Tool::CudaBuild { CB_FLAGS } else { PEER_FLAGS };
        let mut vars: Vec<(&str, String)> = vec![
            ("BENCH_MODE", s.mode.into()),
            ("BENCH_KERNELS", s.dirs[tool.short()].display().to_string()),
            ("BENCH_FLAGS", flags.into()),
        ];
        if tool != Tool::CudaBuild {
            vars.push(("CUDA_COMPUTE_CAP", "75".into()));
        }
        if tool == Tool::Cudaforge2 {
            vars.push(("CUDAFORGE_THREADS", "2".into()));
        }
        vars.extend(extra.iter().cloned());
        let fake = s.fake_root.clone();
        self.replay(key, &fake, &vars)
    }

    /// The Makefile running the nvcc commands cuda-build ran (from the shim's log), in source
    /// order, with nvcc's own depfiles (`-MD -MF`, which cuda-build no longer uses: it reads
    /// the host compiler's) included, so a header edit rebuilds its includers;
    /// and its two variants (no depfile; depfile from the preprocessor pass).
    fn write_makefile(&self, s: &Suite, cb: &Run) {
        let nvcc = s.fake_root.join("bin/nvcc");
        let cb_dir = s.dirs["cuda-build"].display().to_string();
        let make_dir = s.dirs["make"].display().to_string();
        for tool in [Tool::Make, Tool::MakeNoDeps, Tool::MakeHostDeps] {
            let out = self.make_out(s, tool);
            let mut rules = Vec::new();
            for call in cb.compiles() {
                let src = call.args.last().unwrap().replace(&cb_dir, &make_dir);
                let ext = if call.args.iter().any(|a| a == "-ptx") {
                    "ptx"
                } else if call.args.iter().any(|a| a == "-fatbin") {
                    "fatbin"
                } else {
                    "o"
                };
                let stem = Path::new(&src).file_stem().unwrap().to_string_lossy().into_owned();
                let target = out.join(format!("{stem}.{ext}"));
                let mut words = vec![shell_quote(&nvcc.display().to_string())];
                let mut it = call.args[..call.args.len() - 1].iter();
                while let Some(a) = it.next() {
                    match (a.as_str(), tool) {
                        ("-o", _) => {
                            it.next();
                            words.push("-o $@".into());
                        }
                        // cuda-build takes its depfile from the host compiler's passes
                        // (SUNPRO_DEPENDENCIES, not on the command line), or from -MD -MF
                        // through a launcher: each variant gets its own below.
                        ("-MF", _) => {
                            it.next();
                        }
                        ("-MD", _) => {}
                        _ => words.push(shell_quote(&a.replace(&cb_dir, &make_dir))),
                    }
                }
                match tool {
                    Tool::Make => words.push("-MD -MF $@.d".into()),
                    Tool::MakeHostDeps => words.push("-Xcompiler -MD,-MF,$@.d,-MT,$@".into()),
                    _ => {}
                }
                words.push("$<".into());
                rules.push((src.clone(), target, words.join(" ")));
            }
            rules.sort();
            let mut mk = String::from(
                "# Generated by benches/build.rs from the nvcc commands cuda-build ran.\n.DELETE_ON_ERROR:\n",
            );
            let targets: Vec<String> = rules.iter().map(|(_, t, _)| t.display().to_string()).collect();
            let _ = writeln!(mk, "all: {}\n", targets.join(" "));
            for (src, target, cmd) in &rules {
                let _ = writeln!(mk, "{}: {}\n\t{}\n", target.display(), src, cmd);
            }
            let _ = writeln!(mk, "-include $(wildcard {}/*.d)", out.display());
            fs::create_dir_all(self.makefile(s, tool).parent().unwrap()).unwrap();
            fs::write(self.makefile(s, tool), mk).unwrap();
        }
    }

    /// Cold builds of every tool, interleaved (rotating order), `reps` times each.
    /// `warm_up`: one unmeasured cuda-build run first (a toolkit's first use reads it from disk).
    /// Otherwise cuda-build runs first in round 1 and its commands make the Makefile.
    fn cold(
        &mut self,
        s: &Suite,
        tools: &[Tool],
        reps: Option<usize>,
        warm_up: bool,
    ) -> BTreeMap<&'static str, Vec<Run>> {
        let mut reps = reps.unwrap_or(self.cfg.reps);
        if warm_up {
            let warm = self.build(s, Tool::CudaBuild, true, &[]);
            assert!(warm.error.is_none(), "cuda-build failed on suite {}: {:?}", s.name, warm.error);
            self.write_makefile(s, &warm);
        }
        let mut runs: BTreeMap<&'static str, Vec<Run>> = BTreeMap::new();
        // cuda-build and make (the goal's pair) run back to back, alternating which goes first, then
        // the other tools in a rotating order; the pair gets five rounds where a run takes under 20 s.
        let core: Vec<Tool> = tools.iter().copied().filter(|t| matches!(t, Tool::CudaBuild | Tool::Make)).collect();
        let others: Vec<Tool> = tools.iter().copied().filter(|t| !core.contains(t)).collect();
        let mut core_reps = reps;
        let mut rep = 0;
        while rep < reps.max(core_reps) {
            let mut order = core.clone();
            if rep % 2 == 1 {
                order.reverse();
            }
            if rep < reps && !others.is_empty() {
                let mut o = others.clone();
                let k = rep % o.len();
                o.rotate_left(k);
                order.extend(o);
            }
            for &t in &order {
                let mut r = self.build(s, t, true, &[]);
                let mut tries = 1;
                while r.foreign > FOREIGN_LIMIT && tries < 4 && r.error.is_none() {
                    println!(
                        "  {} {}: disturbed ({:.0}% of the CPU went to other processes), repeated",
                        s.name,
                        t.name(),
                        r.foreign * 100.0
                    );
                    self.disturbed += 1;
                    wait_quiet();
                    r = self.build(s, t, true, &[]);
                    tries += 1;
                }
                if let (Tool::CudaBuild | Tool::Make, Some(e)) = (t, &r.error) {
                    eprintln!("!!! {} failed on suite {}: {e}", t.name(), s.name);
                    std::process::exit(1);
                }
                if t == Tool::CudaBuild && rep == 0 && !warm_up {
                    self.write_makefile(s, &r);
                }
                println!(
                    "  {} rep {}: {:<40} {:>9}  spawns {:>3}  max concurrent {}  foreign CPU {:.0}%",
                    s.name,
                    rep + 1,
                    t.name(),
                    secs(r.wall),
                    r.spawns(),
                    max_concurrency(&r.calls),
                    r.foreign * 100.0
                );
                runs.entry(t.name()).or_default().push(r);
            }
            if runs.values().all(|v| v.last().is_some_and(|r| r.wall > 30.0)) {
                break;
            }
            // Short runs are noisier: five rounds when every run of the first took under 10 s.
            if rep == 0 && !self.cfg.quick && runs.values().all(|v| v[0].wall < 10.0) {
                reps = reps.max(5);
            }
            if rep == 0 && !self.cfg.quick && core.iter().all(|t| runs[t.name()][0].wall < 20.0) {
                core_reps = reps.max(5);
            }
            rep += 1;
        }
        runs
    }

    fn cold_table(&mut self, out: &mut String, title: &str, runs: &BTreeMap<&'static str, Vec<Run>>, main: bool) {
        if out.is_empty() {
            out.push_str("## 1. Cold build\n\n");
            let _ = writeln!(
                out,
                "PTX for compute_75, flags `{CB_FLAGS}` (the peers add `--default-stream per-thread` themselves). \
                 Wall time of the build script (make: of `make -j2`) with its OUT_DIR emptied, 2 jobserver tokens; \
                 median of the runs shown (3, or 5 where a run takes under 10 s; cuda-build and make, run back to back, 5 where \
                 under 20 s); ratio = median / median of make. \"nvcc s\" is the sum of the nvcc processes' \
                 durations (the work done), \"start\" the time from launch to the first compile, \"tail\" from the last \
                 compile's end to exit. Goal: cuda-build <= {COLD_GOAL}x make; the run fails above {COLD_MARGIN}x.\n"
            );
        }
        let make_med = median(&runs[Tool::Make.name()].iter().map(|r| r.wall).collect::<Vec<_>>());
        let _ = writeln!(out, "### {title}\n");
        out.push_str("| tool | runs | median wall | ratio to make | nvcc spawns | max concurrent nvcc | nvcc s | start | tail |\n|---|---|---|---|---|---|---|---|---|\n");
        for t in ALL_TOOLS {
            let Some(rs) = runs.get(t.name()) else { continue };
            if let Some(e) = rs.iter().find_map(|r| r.error.clone()) {
                let _ = writeln!(
                    out,
                    "| {} | {} | failed: {} | | | | | | |",
                    t.name(),
                    rs.len(),
                    e.lines().last().unwrap_or("")
                );
                continue;
            }
            let med = median(&rs.iter().map(|r| r.wall).collect::<Vec<_>>());
            let st: Vec<(f64, f64)> = rs.iter().map(Run::startup_tail).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
                t.name(),
                rs.len(),
                secs(med),
                ratio(med / make_med),
                rs[0].spawns(),
                rs.iter().map(|r| max_concurrency(&r.calls)).max().unwrap_or(0),
                median(&rs.iter().map(Run::nvcc_secs).collect::<Vec<_>>()),
                secs(median(&st.iter().map(|x| x.0).collect::<Vec<_>>())),
                secs(median(&st.iter().map(|x| x.1).collect::<Vec<_>>())),
            );
        }
        out.push('\n');
        let med_of = |t: Tool| runs.get(t.name()).map(|rs| median(&rs.iter().map(|r| r.wall).collect::<Vec<_>>()));
        if let (Some(nodeps), Some(host), Some(cbm), Some(bg)) =
            (med_of(Tool::MakeNoDeps), med_of(Tool::MakeHostDeps), med_of(Tool::CudaBuild), med_of(Tool::BindgenCuda))
        {
            let _ = writeln!(
                out,
                "Header tracking's price: make with nvcc's `-MD -MF` / make without: {}; with the depfile from \
                 `-Xcompiler -MD` / without: {}. cuda-build / make without depfiles: {}; cuda-build / bindgen_cuda: {}.\n",
                ratio(make_med / nodeps),
                ratio(host / nodeps),
                ratio(cbm / nodeps),
                ratio(cbm / bg)
            );
        }
        let cb = &runs[Tool::CudaBuild.name()];
        let cb_med = median(&cb.iter().map(|r| r.wall).collect::<Vec<_>>());
        let r = cb_med / make_med;
        self.check(
            &format!("cold build {title}: cuda-build / make"),
            ratio(r),
            format!("<= {COLD_MARGIN}x"),
            r <= COLD_MARGIN,
        );
        self.goal(&format!("cold build, {title}: cuda-build <= {COLD_GOAL}x make"), ratio(r), r <= COLD_GOAL);
        // Where the peers' commands differ from cuda-build's, show them once.
        if main {
            out.push_str("<details><summary>first nvcc command of each tool</summary>\n\n```\n");
            for t in [Tool::CudaBuild, Tool::Make, Tool::MakeHostDeps, Tool::BindgenCuda, Tool::Cudaforge] {
                if let Some(c) = runs.get(t.name()).and_then(|rs| rs[0].compiles().first().map(|c| c.args.join(" "))) {
                    let _ = writeln!(out, "{}: nvcc {}", t.name(), c);
                }
            }
            out.push_str("```\n</details>\n\n");
        }
    }

    fn noop(&mut self, s: &Suite) {
        let mut t = String::from("## 2. No-op rebuild\n\n");
        let _ = writeln!(
            t,
            "The build script re-run with nothing changed (after a complete build of table 1's suite; make: \
             `make -j2` with everything up to date, which also reads every depfile and stats every header). \
             Median of 5 runs. nvcc spawns include version and arch queries. Goal: 0 spawns and under \
             {NOOP_GOAL_MS} ms for cuda-build; the run fails on any spawn or above {NOOP_OF_MAKE_MARGIN}x \
             make's no-op.\n"
        );
        t.push_str("| tool | median wall | ratio to make | nvcc spawns | which |\n|---|---|---|---|---|\n");
        let hidden = self.work.join("empty-cache");
        fs::create_dir_all(&hidden).unwrap();
        let no_cache: Vec<(&str, String)> = vec![("CUDA_BUILD_CACHE", hidden.display().to_string())];
        let rows: [(Tool, &str, &Vars); 5] = [
            (Tool::Make, "", &[]),
            (Tool::CudaBuild, "", &[]),
            (Tool::CudaBuild, ", its toolkit cache hidden (CUDA_BUILD_CACHE=empty dir)", &no_cache),
            (Tool::BindgenCuda, "", &[]),
            (Tool::Cudaforge, "", &[]),
        ];
        let mut make_med = f64::NAN;
        let mut cb_med = f64::NAN;
        for (tool, label, vars) in rows {
            let mut rs = Vec::new();
            for _ in 0..5 {
                rs.push(self.build(s, tool, false, vars));
            }
            let name = format!("{}{label}", tool.name());
            if let Some(e) = rs.iter().find_map(|r| r.error.clone()) {
                let _ = writeln!(t, "| {name} | failed: {} | | | |", e.lines().last().unwrap_or(""));
                continue;
            }
            let med = median(&rs.iter().map(|r| r.wall).collect::<Vec<_>>());
            if tool == Tool::Make {
                make_med = med;
            }
            let spawns = rs.iter().map(Run::spawns).max().unwrap_or(0);
            let compiled: usize = rs.iter().map(|r| r.compiles().len()).sum();
            println!("  {name:<40} {:>9}  spawns {spawns}", secs(med));
            let _ =
                writeln!(t, "| {name} | {} | {} | {spawns} | {} |", secs(med), ratio(med / make_med), rs[0].kinds());
            if tool == Tool::CudaBuild && label.is_empty() {
                cb_med = med;
                self.check("no-op rebuild: cuda-build nvcc spawns", spawns.to_string(), "0".into(), spawns == 0);
                self.check(
                    "no-op rebuild: cuda-build / make",
                    format!("{} ({} vs {})", ratio(med / make_med), secs(med), secs(make_med)),
                    format!("<= {NOOP_OF_MAKE_MARGIN}x"),
                    med / make_med <= NOOP_OF_MAKE_MARGIN,
                );
                self.goal("no-op rebuild of cuda-build under 50 ms", secs(med), med * 1000.0 < NOOP_GOAL_MS);
            }
            if tool == Tool::Make {
                assert_eq!(compiled, 0, "make's no-op compiled something: the Makefile is wrong");
            }
        }
        // What cuda-build reads on every run, whatever changed (see the no-op notes in the report).
        let out = self.consumers["cuda-build"].out_dir.join("kernels");
        let (n_out, bytes_out) = fs::read_dir(&out)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(&format!(".{}", s.mode)))
                    .fold((0, 0u64), |(n, b), e| (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0)))
            })
            .unwrap_or((0, 0));
        let fake = s.fake_root.display().to_string();
        let report = Probe::new()
            .env(Env::from_vars([
                ("CUDA_PATH", fake),
                ("PATH", std::env::var("PATH").unwrap_or_default()),
                ("HOME", std::env::var("HOME").unwrap_or_default()),
            ]))
            .report();
        let found = report.search.candidates.iter().filter(|c| c.root.is_some()).count();
        let _ = writeln!(
            t,
            "\ncuda-build's no-op: {} ({} the {NOOP_GOAL_MS} ms goal). The search finds {found} toolkits on this \
             machine (the provisioned matrix included); the row with cuda-build's toolkit cache hidden shows what \
             those in the cache cost a build that names its toolkit (CUDA_PATH). Its {n_out} outputs total {:.1} MB.\n",
            secs(cb_med),
            if cb_med * 1000.0 < NOOP_GOAL_MS { "meets" } else { "MISSES" },
            bytes_out as f64 / 1e6,
        );
        self.sections.push(t);
    }

    fn header_edit(&mut self, s: &Suite) {
        let includers: BTreeSet<String> = fs::read_dir(&s.dirs["cuda-build"])
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with("_red.cu"))
            .collect();
        let total = fs::read_dir(&s.dirs["cuda-build"])
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".cu"))
            .count();
        let mut t = String::from("## 3. One header edited\n\n");
        let _ = writeln!(
            t,
            "`reduce.cuh` changes one `#define` (a constant that appears in the generated code); {} of the {} \
             kernels include it. Then the build script (make: `make -j2`) runs again. \"stale\" = includers \
             whose output did not change although their code did. Median of {} edits. Goal: exactly the \
             includers recompile, nothing stale; the run fails otherwise, or if cuda-build takes more than \
             {HEADER_MARGIN}x make's time.\n",
            includers.len(),
            total,
            self.cfg.reps
        );
        t.push_str("| tool | recompiled | stale outputs | median wall | ratio to make | cargo reruns the build script? |\n|---|---|---|---|---|---|\n");
        let mut make_med = f64::NAN;
        let tools = [Tool::Make, Tool::CudaBuild, Tool::BindgenCuda, Tool::Cudaforge];
        for tool in tools {
            // Start from a complete, up-to-date build.
            let first = self.build(s, tool, false, &[]);
            if first.error.is_some() {
                let _ = writeln!(t, "| {} | failed | | | | |", tool.name());
                continue;
            }
            let mut walls = Vec::new();
            let mut recompiled = BTreeSet::new();
            let mut stale_max = 0;
            for rep in 0..self.cfg.reps {
                let dir = s.dirs[tool.short()].clone();
                let before = self.outputs(s, tool, &includers);
                set_red_scale(&dir, &format!("{}.0f", 3 + rep));
                let r = self.build(s, tool, false, &[]);
                let after = self.outputs(s, tool, &includers);
                let stale = includers.iter().filter(|k| before.get(*k) == after.get(*k)).count();
                stale_max = stale_max.max(stale);
                walls.push(r.wall);
                recompiled = r.compiled();
                println!("  {:<40} {:>9}  recompiled {}  stale {}", tool.name(), secs(r.wall), recompiled.len(), stale);
            }
            let med = median(&walls);
            if tool == Tool::Make {
                make_med = med;
            }
            let which = if recompiled == includers {
                format!("{} = exactly the includers", recompiled.len())
            } else if recompiled.len() == total {
                format!("{} = everything", recompiled.len())
            } else {
                format!("{} of {}", recompiled.len(), total)
            };
            let reruns = match tool {
                Tool::Make => "n/a".into(),
                Tool::CudaBuild => self.reruns_on(s, "reduce.cuh"),
                Tool::BindgenCuda => "yes (`include_paths` are printed as rerun-if-changed)".into(),
                _ => "yes (`watch` paths are printed as rerun-if-changed)".into(),
            };
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} |",
                tool.name(),
                which,
                stale_max,
                secs(med),
                ratio(med / make_med),
                reruns
            );
            if tool == Tool::CudaBuild {
                let others = recompiled.difference(&includers).count();
                let hit = recompiled.intersection(&includers).count();
                self.goal(
                    "header edit: exactly its includers recompile",
                    format!("{hit} of {} includers, {others} other kernels, {stale_max} stale", includers.len()),
                    recompiled == includers && stale_max == 0,
                );
                self.check(
                    "header edit: cuda-build recompiles exactly the includers",
                    format!("{} recompiled, {} includers, {} stale", recompiled.len(), includers.len(), stale_max),
                    "equal, 0 stale".into(),
                    recompiled == includers && stale_max == 0,
                );
                self.check(
                    "header edit: cuda-build / make",
                    ratio(med / make_med),
                    format!("<= {HEADER_MARGIN}x"),
                    med / make_med <= HEADER_MARGIN,
                );
            }
        }
        self.sections.push(t);
    }

    /// Whether cuda-build told cargo to watch the header (its rerun-if-changed lines).
    fn reruns_on(&mut self, s: &Suite, header: &str) -> String {
        let c = &self.consumers["cuda-build"];
        let mut cmd = Command::new(&c.exe);
        cmd.env_clear().envs(c.env.iter().map(|(k, v)| (k, v)));
        let path = c.env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", s.fake_root.join("bin").display()))
            .env("CUDA_PATH", &s.fake_root)
            .env("NUM_JOBS", "2")
            .env("BENCH_MODE", s.mode)
            .env("BENCH_KERNELS", &s.dirs["cuda-build"])
            .env("BENCH_FLAGS", CB_FLAGS)
            .current_dir(&c.dir);
        let out = String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned();
        if out.lines().any(|l| l.contains("rerun-if-changed") && l.ends_with(header)) {
            format!("yes (`rerun-if-changed={header}`)")
        } else {
            "NO".into()
        }
    }

    /// Output bytes of each includer's compiled file.
    fn outputs(&self, s: &Suite, tool: Tool, includers: &BTreeSet<String>) -> BTreeMap<String, Vec<u8>> {
        let dir = match tool {
            Tool::Make | Tool::MakeNoDeps | Tool::MakeHostDeps => self.make_out(s, tool),
            Tool::CudaBuild => self.consumers["cuda-build"].out_dir.join("kernels"),
            _ => self.consumers[Self::consumer_key(tool)].out_dir.clone(),
        };
        includers
            .iter()
            .map(|k| {
                let stem = k.trim_end_matches(".cu");
                (k.clone(), fs::read(dir.join(format!("{stem}.{}", s.mode))).unwrap_or_default())
            })
            .collect()
    }

    fn probe_cost(&mut self) {
        let real = fs::read_link(self.root135.join("include")).unwrap();
        let real_nvcc = fs::read_to_string(self.root135.join("bin/nvcc")).unwrap();
        let real_nvcc = real_nvcc.lines().find_map(|l| l.strip_prefix("REAL='")).unwrap().trim_end_matches('\'');
        let _ = real;
        let rel = &self.release135;
        let patch = rel.split("(V").nth(1).unwrap_or("13.5.37)").trim_end_matches(')').to_owned();
        let json = format!(
            "{{\n  \"cuda\": {{\"name\": \"CUDA SDK\", \"version\": \"{patch}\"}},\n  \"cuda_nvcc\": {{\"name\": \"CUDA NVCC\", \"version\": \"{patch}\"}}\n}}\n"
        );
        let with_json = fake_root(&self.work.join("roots/13.5-version-json"), Path::new(real_nvcc), Some(&json));
        let without = fake_root(&self.work.join("roots/13.5-probe"), Path::new(real_nvcc), None);
        let out_dir = self.work.join("probe-out");
        let path = std::env::var("PATH").unwrap_or_default();
        let iters = if self.cfg.quick { 5 } else { 21 };
        let measure = |root: &Path, out: Option<&Path>, seq: &mut usize| -> (f64, f64, String) {
            let mut vars = vec![
                ("CUDA_PATH".to_owned(), root.display().to_string()),
                ("PATH".to_owned(), path.clone()),
                ("HOME".to_owned(), std::env::var("HOME").unwrap_or_default()),
            ];
            if let Some(o) = out {
                vars.push(("OUT_DIR".into(), o.display().to_string()));
            }
            let mut times = Vec::new();
            let mut spawns = 0usize;
            let mut source = String::new();
            for _ in 0..iters {
                *seq += 1;
                let log = self.work.join("logs").join(format!("probe-{seq}.log"));
                fs::create_dir_all(log.parent().unwrap()).unwrap();
                let _ = fs::remove_file(&log);
                std::env::set_var("BENCH_NVCC_LOG", &log);
                let t = Instant::now();
                let cuda = Probe::new().env(Env::from_vars(vars.clone())).find().expect("probe");
                times.push(t.elapsed().as_secs_f64());
                std::env::remove_var("BENCH_NVCC_LOG");
                spawns += read_log(&log).len();
                source = cuda.toolkit().version_source.to_string();
                if let Some(name) = Path::new(&source).file_name().filter(|_| source.starts_with('/')) {
                    source = name.to_string_lossy().into_owned();
                }
                if out.is_some() && source.contains("nvcc") {
                    source.push_str(" (its answer cached in OUT_DIR)");
                }
            }
            (median(&times), spawns as f64 / iters as f64, source)
        };
        let mut seq = 0;
        let a = measure(&with_json, None, &mut seq);
        let b = measure(&without, None, &mut seq);
        let _ = fs::remove_dir_all(&out_dir);
        fs::create_dir_all(&out_dir).unwrap();
        // Fill the cache once, then measure it warm.
        let _ = Probe::new()
            .env(Env::from_vars([
                ("CUDA_PATH", without.display().to_string()),
                ("OUT_DIR", out_dir.display().to_string()),
            ]))
            .find();
        let c = measure(&without, Some(&out_dir), &mut seq);
        let mut t = String::from("## 4. Probe cost\n\n");
        let _ = writeln!(
            t,
            "`Probe::find()` in-process (the bench binary: release build; build scripts run it unoptimised) with CUDA_PATH = a copy of the {rel} root whose `bin/nvcc` is the counting \
             shim; median of {iters} calls; ratio to the version.json case. Goal: no nvcc spawn when a version file \
             answers or the OUT_DIR cache is warm, one otherwise; the run fails on any other count.\n"
        );
        t.push_str("| case | nvcc spawns per find() | median time | ratio | version from |\n|---|---|---|---|---|\n");
        for (name, (time, sp, src), want) in [
            ("version.json present", &a, 0.0),
            ("no version file, no OUT_DIR", &b, 1.0),
            ("no version file, OUT_DIR cache warm", &c, 0.0),
        ] {
            let _ = writeln!(t, "| {name} | {sp} | {} | {} | {src} |", secs(*time), ratio(time / a.0));
            println!("  {name:<40} {:>9}  spawns {sp}", secs(*time));
            self.check(&format!("probe, {name}: nvcc spawns"), sp.to_string(), format!("{want}"), *sp == want);
            self.goal(&format!("probe, {name}: {want} nvcc spawn(s)"), sp.to_string(), *sp == want);
        }
        self.sections.push(t);
    }

    fn scale(&mut self, gen_runs: &BTreeMap<&'static str, Vec<Run>>) {
        let mut rows: Vec<(usize, BTreeMap<&'static str, Vec<Run>>)> = Vec::new();
        for &n in &self.cfg.scale.clone() {
            let src = self.work.join(format!("suites/scale{n}-src"));
            gen_suite(&src, n);
            let s = self.suite(&format!("scale{n}"), &src, self.root135.clone(), "ptx", &[Tool::CudaBuild, Tool::Make]);
            // cold() stops after one round when every run took over 30 s.
            let reps = self.cfg.reps;
            rows.push((n, self.cold(&s, &[Tool::CudaBuild, Tool::Make], Some(reps), false)));
        }
        let main: BTreeMap<&'static str, Vec<Run>> = gen_runs
            .iter()
            .filter(|(k, _)| **k == Tool::CudaBuild.name() || **k == Tool::Make.name())
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        rows.push((self.cfg.n_main, main));
        rows.sort_by_key(|r| r.0);
        let mut t = String::from("## 6. Scale\n\n");
        let _ = writeln!(
            t,
            "Cold builds of the generated suite (PTX, CUDA {}) as N grows; median of {} runs (5 where they \
             take under 10 s, 1 where over 30 s; the count is in the runs column); the N={} row is table 1's. Max concurrent nvcc: from the shim's log, must equal the \
             token limit ({JOBS}). The run fails if a ratio exceeds {COLD_MARGIN}x or cuda-build's concurrency is \
             not {JOBS}.\n",
            self.release135, self.cfg.reps, self.cfg.n_main
        );
        t.push_str("| N | runs | nvcc s (work) | make -j2 | cuda-build | ratio | max concurrent (cuda-build / make) | cuda-build start + tail |\n|---|---|---|---|---|---|---|---|\n");
        for (n, runs) in &rows {
            let m = &runs[Tool::Make.name()];
            let c = &runs[Tool::CudaBuild.name()];
            let mm = median(&m.iter().map(|r| r.wall).collect::<Vec<_>>());
            let cm = median(&c.iter().map(|r| r.wall).collect::<Vec<_>>());
            let cc = c.iter().map(|r| max_concurrency(&r.calls)).max().unwrap_or(0);
            let mc = m.iter().map(|r| max_concurrency(&r.calls)).max().unwrap_or(0);
            let _ = writeln!(
                t,
                "| {n} | {} | {:.1} | {} | {} | {} | {cc} / {mc} | {} |",
                c.len(),
                median(&m.iter().map(Run::nvcc_secs).collect::<Vec<_>>()),
                secs(mm),
                secs(cm),
                ratio(cm / mm),
                secs(median(
                    &c.iter()
                        .map(|r| {
                            let (a, b) = r.startup_tail();
                            a + b
                        })
                        .collect::<Vec<_>>()
                ))
            );
            self.check(
                &format!("scale N={n}: cuda-build / make"),
                ratio(cm / mm),
                format!("<= {COLD_MARGIN}x"),
                cm / mm <= COLD_MARGIN,
            );
            let min_conc = c.iter().map(|r| max_concurrency(&r.calls)).min().unwrap_or(0);
            self.goal(&format!("scale N={n}: cuda-build <= {COLD_GOAL}x make"), ratio(cm / mm), cm / mm <= COLD_GOAL);
            self.goal(
                &format!("scale N={n}: nvcc count held at the token limit ({JOBS})"),
                format!("max {min_conc}..{cc} over the runs"),
                cc == JOBS && min_conc == JOBS,
            );
            self.check(
                &format!("scale N={n}: cuda-build max concurrent nvcc"),
                format!("{min_conc}..{cc}"),
                format!("= {JOBS}"),
                cc == JOBS && min_conc == JOBS,
            );
        }
        self.sections.push(t);
    }

    fn cache(&mut self) {
        let n = self.cfg.cache_n;
        let src = self.work.join("suites/cache-src");
        gen_suite(&src, n);
        let s = self.suite("cache", &src, self.root135.clone(), "static", &[Tool::CudaBuild]);
        let out_dir = self.consumers["cuda-build"].out_dir.clone();
        let mut t = String::from("## 7. Shared compiler cache\n\n");
        let _ = writeln!(
            t,
            "`.static_lib()` (nvcc `-c`, which ccache and sccache can cache; they do not cache `-fatbin`) of the \
             generated suite, N={n}, CUDA {}. With CUDA_BUILD_LAUNCHER = the cache: a cold build into an empty cache, \
             then OUT_DIR deleted (as `cargo clean`) and built again. Ratio = second / cold, median of {} rounds, \
             each with a fresh cache directory; \"plain\" = the same cold build without a launcher. Goal <= {CACHE_GOAL}; \
             the run fails above {CACHE_MARGIN} for ccache, above {SCCACHE_MARGIN} for sccache (checked only if it \
             caches at all: sccache 0.4 has no direct mode for nvcc and runs `nvcc -M` and `nvcc -E` for every call, hits included).\n",
            self.release135, self.cfg.reps
        );
        t.push_str("| launcher | plain cold | cold, empty cache | rebuild from cache | ratio rebuild / cold | ratio cold / plain | nvcc spawns in rebuild | cache hits |\n|---|---|---|---|---|---|---|---|\n");
        let ccache = which::which("ccache").ok();
        let sccache = which::which("sccache").ok();
        for (name, tool) in [("ccache", ccache), ("sccache", sccache)] {
            let Some(tool) = tool else {
                let _ = writeln!(t, "| {name} | not installed | | | | | | |");
                continue;
            };
            let mut plain = Vec::new();
            let mut colds = Vec::new();
            let mut warms = Vec::new();
            let mut ratios = Vec::new();
            let mut warm_spawns = String::new();
            let mut hits = String::new();
            let mut failure = None;
            for rep in 0..self.cfg.reps {
                let p = self.build(&s, Tool::CudaBuild, true, &[]);
                plain.push(p.wall);
                let cache_dir = self.work.join(format!("cache/{name}-{rep}"));
                let _ = fs::remove_dir_all(&cache_dir);
                fs::create_dir_all(&cache_dir).unwrap();
                let port = "4731";
                let mut vars: Vec<(&str, String)> = vec![("CUDA_BUILD_LAUNCHER", tool.display().to_string())];
                if name == "ccache" {
                    vars.push(("CCACHE_DIR", cache_dir.display().to_string()));
                } else {
                    vars.push(("SCCACHE_DIR", cache_dir.display().to_string()));
                    vars.push(("SCCACHE_SERVER_PORT", port.into()));
                    let _ = Command::new(&tool).env("SCCACHE_SERVER_PORT", port).arg("--stop-server").output();
                    let started = Command::new(&tool)
                        .env("SCCACHE_SERVER_PORT", port)
                        .env("SCCACHE_DIR", &cache_dir)
                        .env("SCCACHE_IDLE_TIMEOUT", "0")
                        .arg("--start-server")
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    if !started.is_ok_and(|s| s.success()) {
                        failure = Some("server did not start".to_owned());
                        break;
                    }
                }
                let cold = self.build(&s, Tool::CudaBuild, true, &vars);
                let _ = fs::remove_dir_all(&out_dir);
                fs::create_dir_all(&out_dir).unwrap();
                let warm = self.build(&s, Tool::CudaBuild, false, &vars);
                if let Some(e) = cold.error.clone().or(warm.error.clone()) {
                    failure = Some(e.lines().last().unwrap_or("").to_owned());
                }
                hits = if name == "ccache" {
                    let st = Command::new(&tool).env("CCACHE_DIR", &cache_dir).arg("--print-stats").output().unwrap();
                    let st = String::from_utf8_lossy(&st.stdout).into_owned();
                    let get = |key: &str| -> u64 {
                        st.lines()
                            .filter(|l| l.starts_with(key))
                            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
                            .sum()
                    };
                    format!(
                        "{} direct + {} preprocessed of {n}",
                        get("direct_cache_hit"),
                        get("preprocessed_cache_hit")
                    )
                } else {
                    let st = Command::new(&tool).env("SCCACHE_SERVER_PORT", port).arg("-s").output().unwrap();
                    let st = String::from_utf8_lossy(&st.stdout).into_owned();
                    let _ = Command::new(&tool).env("SCCACHE_SERVER_PORT", port).arg("--stop-server").output();
                    st.lines()
                        .find(|l| l.starts_with("Cache hits") && !l.contains("rate"))
                        .and_then(|l| l.split_whitespace().last().map(|h| format!("{h} of {n}")))
                        .unwrap_or_else(|| "?".into())
                };
                warm_spawns = warm.kinds();
                println!(
                    "  {name} round {}: plain {}  cold {}  rebuild {}  ratio {:.3}  rebuild nvcc {warm_spawns}  hits {hits}",
                    rep + 1,
                    secs(p.wall),
                    secs(cold.wall),
                    secs(warm.wall),
                    warm.wall / cold.wall,
                );
                colds.push(cold.wall);
                warms.push(warm.wall);
                ratios.push(warm.wall / cold.wall);
            }
            if let Some(f) = failure {
                let _ = writeln!(t, "| {name} | did not behave: {f} | | | | | | |");
                if name == "ccache" {
                    self.check("cache: ccache works as the launcher", f, "works".into(), false);
                }
                continue;
            }
            let r = median(&ratios);
            let _ = writeln!(
                t,
                "| {name} | {} | {} | {} | {} | {} | {warm_spawns} | {hits} |",
                secs(median(&plain)),
                secs(median(&colds)),
                secs(median(&warms)),
                ratio(r),
                ratio(median(&colds) / median(&plain)),
            );
            self.goal(&format!("shared cache: {name} rebuild / cold <= {CACHE_GOAL}"), ratio(r), r <= CACHE_GOAL);
            let caches = !hits.starts_with('0') && !hits.starts_with('?');
            // sccache 0.4 preprocesses every call twice (`-M`, `-E`) even on a hit: its own margin.
            let margin = if name == "ccache" { CACHE_MARGIN } else { SCCACHE_MARGIN };
            if name == "ccache" || caches {
                self.check(&format!("cache: {name} rebuild / cold"), ratio(r), format!("<= {margin}"), r <= margin);
            }
        }
        self.sections.push(t);
    }

    fn dep_cost(&mut self) {
        let mut t = String::from("## 5. Cost to downstream users\n\n");
        let _ = writeln!(
            t,
            "A consumer crate with only the tool as build-dependency (default features) and a build script that \
             links it: cold `cargo build --offline` (registry already fetched) into an empty private \
             CARGO_TARGET_DIR, dev profile, 2 cores; median of {} builds, rotating order. Crates: unique packages in \
             `cargo tree -e normal,build` (the consumer excluded); lines: `cargo tree | wc -l`.\n",
            self.cfg.depcost_reps
        );
        t.push_str("| build-dependency | crates | cargo tree lines | median cold build | ratio to cuda-build |\n|---|---|---|---|---|\n");
        let keys = ["cuda-build", "bindgen_cuda", "cudaforge"];
        let mut times: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for rep in 0..self.cfg.depcost_reps {
            let mut order = keys.to_vec();
            order.rotate_left(rep % keys.len());
            for key in order {
                let target = self.work.join("depcost").join(key);
                let _ = fs::remove_dir_all(&target);
                let manifest = self.consumers[key].dir.join("Cargo.toml");
                let t0 = Instant::now();
                run_ok(
                    cargo()
                        .args(["build", "--offline", "--manifest-path"])
                        .arg(&manifest)
                        .env("CARGO_TARGET_DIR", &target),
                    &format!("cold cargo build ({key})"),
                );
                let w = t0.elapsed().as_secs_f64();
                println!("  rep {}: {key:<14} {}", rep + 1, secs(w));
                times.entry(key).or_default().push(w);
            }
        }
        let cb = median(&times["cuda-build"]);
        let mut crates_of = BTreeMap::new();
        for key in keys {
            let manifest = self.consumers[key].dir.join("Cargo.toml");
            let tree = run_ok(
                cargo()
                    .args(["tree", "--offline", "-e", "normal,build", "--prefix", "none", "--manifest-path"])
                    .arg(&manifest),
                "cargo tree",
            );
            let unique: BTreeSet<String> = tree
                .lines()
                .map(|l| l.trim_end_matches(" (*)").split_whitespace().take(2).collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty() && !l.starts_with("bench-consumer"))
                .collect();
            let lines = run_ok(cargo().args(["tree", "--offline", "--manifest-path"]).arg(&manifest), "cargo tree")
                .lines()
                .count();
            let m = median(&times[key]);
            crates_of.insert(key, unique.len());
            let _ = writeln!(
                t,
                "| {key} (default features) | {} | {lines} | {} | {} |",
                unique.len(),
                secs(m),
                ratio(m / cb)
            );
        }
        let bg = median(&times["bindgen_cuda"]);
        let cf = median(&times["cudaforge"]);
        self.check(
            "downstream cost: cuda-build cold build / cudaforge's",
            ratio(cb / cf),
            "<= 1.0x".into(),
            cb / cf <= 1.0,
        );
        self.check(
            "downstream cost: cuda-build cold build / bindgen_cuda's",
            ratio(cb / bg),
            "<= 1.5x".into(),
            cb / bg <= 1.5,
        );
        let _ = writeln!(
            t,
            "\nbindgen_cuda / cuda-build: {}; cudaforge / cuda-build: {}.\n",
            ratio(bg / cb),
            ratio(cf / cb)
        );
        let _ = crates_of;
        self.sections.push(t);
    }

    fn document(&self, total: f64) -> String {
        let mut d = String::from("# Benchmarks\n\n");
        let commit = Command::new("git")
            .args(["-C", ROOT, "describe", "--always", "--dirty"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines().find_map(|l| {
                    l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
                })
            })
            .unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let _ = writeln!(
            d,
            "Regenerated by `cargo bench --bench build` (this file is its output; do not edit by hand).\n\n\
             - run: {} (commit `{commit}`), total {:.1} min{}\n\
             - machine: {cores} cores ({cpu}), no GPU; every timed build uses {JOBS} jobserver tokens\n\
             - toolkits: CUDA {} (PyPI wheels), CUDA {} (Debian packages), as `build-support/provision.sh matrix` provisions them\n\
             - peers: bindgen_cuda {BINDGEN_CUDA}, cudaforge {CUDAFORGE} (crates.io)\n\n\
             This machine is noisy (and shared): compare ratios measured side by side in the same run, not absolute \
             times (shown for scale only). Tools run interleaved (cuda-build and make back to back, alternating which goes first; the others \
             in an order rotating each round); a cold run during \
             which other processes took more than {:.0}% of the CPU (from /proc/stat against this process tree's \
             own CPU time) is repeated, up to 3 times: {} were repeated in this run. The goals of the issue are \
             listed at the end, met or not; every check there fails the command (exit status 1) when a ratio is \
             worse than its margin.\n\n\
             **How it is measured.** Every nvcc runs through a counting shim (a toolkit root whose `bin/nvcc` logs \
             start, end and arguments, then runs the real nvcc; the rest links to the real toolkit): cuda-build gets \
             it as CUDA_PATH, bindgen_cuda and cudaforge as the `nvcc` on PATH, make as the program in its recipes. \
             Each tool runs from the build script of a scratch consumer crate (target/bench/consumers), compiled \
             once by cargo, then re-run directly with the environment cargo gave it and a 2-token jobserver, as \
             `cargo build -j2` runs a build script; only that run is timed. The Makefile is generated from the exact \
             nvcc commands cuda-build ran (same flags, nvcc's depfiles included), sources in name order. \
             Sizes were chosen to keep the run under 25 minutes on 2 cores: the generated suite has {} kernels \
             (about 1-2 s of nvcc each), the scale table goes to {}, the cache table uses {} kernels.\n",
            chrono_like(),
            total / 60.0,
            if self.cfg.quick { " — QUICK SMOKE RUN, not the real numbers" } else { "" },
            self.release135,
            if self.release124.is_empty() { "12.4: not provisioned".into() } else { self.release124.clone() },
            FOREIGN_LIMIT * 100.0,
            self.disturbed,
            self.cfg.n_main,
            self.cfg.scale.iter().max().unwrap_or(&0),
            self.cfg.cache_n,
        );
        for s in &self.sections {
            d.push_str(s);
            d.push('\n');
        }
        d.push_str("## Goals of the issue\n\n| goal | measured | met |\n|---|---|---|\n");
        for g in &self.goals {
            let met = match g.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "not measured",
            };
            let _ = writeln!(d, "| {} | {} | {met} |", g.name, g.value);
        }
        d.push_str("\n## Checks\n\n| check | measured | limit | result |\n|---|---|---|---|\n");
        for c in &self.checks {
            let _ =
                writeln!(d, "| {} | {} | {} | {} |", c.name, c.value, c.limit, if c.ok { "ok" } else { "**FAILED**" });
        }
        d
    }
}

const ALL_TOOLS: [Tool; 7] = [
    Tool::CudaBuild,
    Tool::Make,
    Tool::MakeNoDeps,
    Tool::MakeHostDeps,
    Tool::BindgenCuda,
    Tool::Cudaforge,
    Tool::Cudaforge2,
];
/// The generated suite leaves out cudaforge with 2 threads (time budget; the candle table has it).
const GEN_TOOLS: [Tool; 6] =
    [Tool::CudaBuild, Tool::Make, Tool::MakeNoDeps, Tool::MakeHostDeps, Tool::BindgenCuda, Tool::Cudaforge];

fn shell_quote(s: &str) -> String {
    let s = s.replace('$', "$$");
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=+,:@".contains(c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// UTC date and time of now, without a date crate.
fn chrono_like() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}
