//! Table 2: the no-op rebuild.

use std::fmt::Write as _;
use std::fs;

use cuda_build::{Env, Probe};

use crate::harness::consumers::Tool;
use crate::harness::{median, Bench, Run};
use crate::report::{ratio, secs};
use crate::suites::{Suite, Vars};
use crate::{NOOP_GOAL_MS, NOOP_OF_MAKE_MARGIN};

impl Bench {
    pub fn noop(&mut self, s: &Suite) {
        let mut t = String::from("## 2. No-op rebuild\n\n");
        let _ = writeln!(
            t,
            "The build script re-run with nothing changed (after a complete build of table 1's suite; make: \
             `make -j2` with everything up to date, which also reads every depfile and stats every header). \
             Median of 5 runs. nvcc spawns include version and arch queries. Goal: 0 spawns and at most \
             {NOOP_GOAL_MS} ms for cuda-build; the run fails on any spawn, above {NOOP_GOAL_MS} ms or above \
             {NOOP_OF_MAKE_MARGIN}x make's no-op.\n"
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
                let ok = med * 1000.0 <= NOOP_GOAL_MS;
                self.check("no-op rebuild: cuda-build wall", secs(med), format!("<= {NOOP_GOAL_MS} ms"), ok);
                self.goal(&format!("no-op rebuild of cuda-build at most {NOOP_GOAL_MS} ms"), secs(med), ok);
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
            if cb_med * 1000.0 <= NOOP_GOAL_MS { "meets" } else { "MISSES" },
            bytes_out as f64 / 1e6,
        );
        self.sections.push(t);
    }
}
