//! Running and timing the tools: one build of one tool on one suite, and the interleaved cold
//! rounds; each build script replayed as `cargo build -j2` runs it (its environment, a 2-token
//! jobserver), with the share of the CPU other processes took meanwhile.

pub mod consumers;
pub mod makefile;
pub mod shim;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::report::{secs, Check, Goal};
use crate::suites::Suite;
use crate::{Cfg, CB_FLAGS, FOREIGN_LIMIT, JOBS, PEER_FLAGS};
use consumers::{sanitize, Consumer, Tool};
use shim::{fake_root, max_concurrency, nvcc_release, read_log, toolkit_nvcc, Call};

/// One measured run of one tool.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub wall: f64,
    pub launched: f64,
    /// Share of the machine's CPU time used by processes outside this benchmark during the run.
    pub foreign: f64,
    pub calls: Vec<Call>,
    pub error: Option<String>,
}

impl Run {
    pub fn spawns(&self) -> usize {
        self.calls.len()
    }
    /// "2 compile, 1 --version": the spawns by kind.
    pub fn kinds(&self) -> String {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for c in &self.calls {
            *by.entry(c.kind()).or_default() += 1;
        }
        if by.is_empty() {
            return "-".into();
        }
        by.into_iter().map(|(k, n)| format!("{n} `{k}`")).collect::<Vec<_>>().join(", ")
    }
    pub fn compiled(&self) -> BTreeSet<String> {
        self.calls.iter().filter_map(Call::source).collect()
    }
    pub fn compiles(&self) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.source().is_some()).collect()
    }
    pub fn nvcc_secs(&self) -> f64 {
        self.compiles().iter().map(|c| c.end - c.start).filter(|d| d.is_finite()).sum()
    }
    /// Time from launch to the first compile's start (probe, setup), and from the last
    /// compile's end to exit (archive, generated module).
    pub fn startup_tail(&self) -> (f64, f64) {
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
pub fn cpu_ticks() -> (u64, u64) {
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
pub fn wait_quiet() {
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
pub fn foreign_share(before: (u64, u64), after: (u64, u64), wall: f64) -> f64 {
    let tick = 100.0; // USER_HZ
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let foreign = after.0.saturating_sub(before.0) as f64 - after.1.saturating_sub(before.1) as f64;
    (foreign / tick / (wall * cores)).max(0.0)
}

/// Runs `cmd` as one measured run: wall time, the foreign CPU share meanwhile, the nvcc calls
/// the shim logged to `log`; `failure` words the error of a run that exits non-zero.
fn timed(cmd: &mut Command, log: &Path, failure: impl FnOnce(&Output) -> String) -> Run {
    let cpu0 = cpu_ticks();
    let launched = now();
    let t = Instant::now();
    let out = cmd.output().unwrap();
    let wall = t.elapsed().as_secs_f64();
    let foreign = foreign_share(cpu0, cpu_ticks(), wall);
    let error = (!out.status.success()).then(|| failure(&out));
    if let Some(e) = &error {
        eprintln!("  !! {e}");
    }
    Run { wall, launched, foreign, calls: read_log(log), error }
}

pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

pub fn median(v: &[f64]) -> f64 {
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

/// One benchmark run: its configuration, the consumer crates and toolkit roots it set up, and
/// what the tables have found so far.
pub struct Bench {
    pub cfg: Cfg,
    pub root: PathBuf,
    pub work: PathBuf,
    pub checks: Vec<Check>,
    pub goals: Vec<Goal>,
    /// Cold runs repeated because other processes took the CPU.
    pub disturbed: usize,
    pub sections: Vec<String>,
    pub consumers: BTreeMap<&'static str, Consumer>,
    pub root135: PathBuf,
    pub root124: Option<PathBuf>,
    pub release135: String,
    pub release124: String,
    pub log_seq: usize,
}

impl Bench {
    pub fn new(cfg: Cfg, root: PathBuf, work: PathBuf) -> Self {
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

    pub fn new_log(&mut self) -> PathBuf {
        self.log_seq += 1;
        let dir = self.work.join("logs");
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{:05}.log", self.log_seq));
        let _ = fs::remove_file(&p);
        p
    }

    /// Runs a consumer's build script as cargo would (its environment, a 2-token jobserver).
    pub fn replay(&mut self, key: &str, fake: &Path, vars: &[(&str, String)]) -> Run {
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
        let run = timed(&mut cmd, &log, |out| {
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let tail: Vec<&str> = text.lines().rev().take(12).collect();
            format!("{} ({}): {}", key, out.status, tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
        });
        drop(client);
        run
    }

    pub fn make(&mut self, makefile: &Path, cwd: &Path) -> Run {
        let log = self.new_log();
        let mut cmd = Command::new("make");
        sanitize(&mut cmd);
        cmd.arg(format!("-j{JOBS}")).arg("-s").arg("-f").arg(makefile).current_dir(cwd).env("BENCH_NVCC_LOG", &log);
        timed(&mut cmd, &log, |out| format!("make: {}", String::from_utf8_lossy(&out.stderr)))
    }

    /// One build of `tool`: cold (outputs removed first) or incremental.
    pub fn build(&mut self, s: &Suite, tool: Tool, cold: bool, extra: &[(&str, String)]) -> Run {
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

    /// Cold builds of every tool, interleaved (rotating order), `reps` times each.
    /// `warm_up`: one unmeasured cuda-build run first (a toolkit's first use reads it from disk).
    /// Otherwise cuda-build runs first in round 1 and its commands make the Makefile.
    pub fn cold(
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
            // Where the pair takes under 20 s, every tool gets five rounds: a peer compared
            // with cuda-build round by round needs as many rounds as it.
            if rep == 0 && !self.cfg.quick && core.iter().all(|t| runs[t.name()][0].wall < 20.0) {
                core_reps = reps.max(5);
                reps = core_reps;
            }
            rep += 1;
        }
        runs
    }
}
