//! Table 7: a shared compiler cache (ccache, sccache) as the launcher.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Stdio};

use crate::harness::consumers::Tool;
use crate::harness::{median, Bench};
use crate::report::{ratio, secs};
use crate::suites::gen_suite;
use crate::{CACHE_GOAL, CACHE_MARGIN, SCCACHE_MARGIN};

impl Bench {
    pub fn cache(&mut self) {
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
}
