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
//!
//! Layout: `harness/` runs and times the tools (the counting shim, the consumer crates, the
//! Makefile), `suites.rs` writes the kernel suites, `tables/` measures one table a file,
//! `report.rs` keeps the goals and checks and writes BENCHMARKS.md.
#![allow(clippy::disallowed_methods)] // a benchmark driver reads and sets the real environment

mod harness;
#[path = "../../tests/common/registry.rs"]
mod registry;
mod report;
mod suites;
mod tables;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use harness::consumers::{Tool, ALL_TOOLS, GEN_TOOLS};
use harness::Bench;
use report::Check;
use suites::gen_suite;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// nvcc flags of every compile (candle-kernels' own, plus the stream flag the peers always add).
pub const PEER_FLAGS: &str = "-O3 -std=c++17 --expt-relaxed-constexpr";
/// `--default-stream=per-thread` in one word: sccache 0.4 takes the two-word form's
/// `per-thread` for a second input file and refuses to cache the call.
pub const CB_FLAGS: &str = "-O3 -std=c++17 --expt-relaxed-constexpr --default-stream=per-thread";
/// The token limit of every build (cargo build -j2 on this 2-core machine).
pub const JOBS: usize = 2;
pub const BINDGEN_CUDA: &str = "=0.1.6";
pub const CUDAFORGE: &str = "=0.1.6";

// ---------------------------------------------------------------------------------------------
// Margins: a ratio worse than these fails the run (goals are stated next to them).
pub const COLD_GOAL: f64 = 1.05;
pub const COLD_MARGIN: f64 = 1.10;
/// Issue 19, generated suite: cold build against bindgen_cuda (no header tracking) and
/// against make with nvcc's own `-MD -MF` pass.
pub const COLD_OF_BINDGEN_GOAL: f64 = 1.05;
pub const COLD_OF_MAKE_MD_GOAL: f64 = 0.85;
/// A no-op may cost this many times make's no-op (which reads every depfile and stats every header).
pub const NOOP_OF_MAKE_MARGIN: f64 = 3.0;
pub const NOOP_GOAL_MS: f64 = 15.0;
/// bindgen_cuda's no-op when the goal was set (issue 19): the machine speed it assumes.
pub const NOOP_PEER_MS: f64 = 9.0;
pub const NOOP_ROUNDS: usize = 7;
pub const HEADER_MARGIN: f64 = 1.10;
pub const CACHE_GOAL: f64 = 0.15;
pub const CACHE_MARGIN: f64 = 0.25;
pub const SCCACHE_MARGIN: f64 = 1.0;
/// sccache 0.16 with CUDA 12.4 caches every nvcc step: a rebuild from it (issue 15).
pub const SCCACHE_GOAL: f64 = 0.10;
/// A failing cache costs at most one extra nvcc run per kernel: cold / plain.
pub const FALLBACK_GOAL: f64 = 2.0;
pub const FALLBACK_MARGIN: f64 = 2.3;
/// A cold run during which other processes took more than this share of the CPU is repeated
/// (up to 3 times): this machine is shared.
pub const FOREIGN_LIMIT: f64 = 0.10;

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

pub struct Cfg {
    pub quick: bool,
    /// Runs per measurement (the median is reported); runs over 30 s are taken once.
    pub reps: usize,
    pub n_main: usize,
    pub scale: Vec<usize>,
    pub cache_n: usize,
    pub depcost_reps: usize,
    /// `--only=1,7`: just these tables (development; BENCHMARKS.md is then not written).
    pub only: Option<BTreeSet<u32>>,
}

impl Bench {
    pub fn run(&mut self) {
        let want = |n: u32| match &self.cfg.only {
            Some(o) => o.contains(&n),
            None => true,
        };
        let (w1, w2, w3, w4, w5, w6, w7, w9) = (want(1), want(2), want(3), want(4), want(5), want(6), want(7), want(9));
        println!("== setup: consumer crates (build scripts compiled once; registry fetched first)");
        self.setup_consumers();
        // The longest table first: a failing check there shows within half an hour.
        if w9 {
            println!("== 9. candle-kernels {}", tables::candle::CANDLE);
            self.candle();
        }
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
        self.gpu();
        // Order the sections 1..9.
        self.sections.sort_by_key(|s| s.split_whitespace().nth(1).map(str::to_owned));
    }
}
