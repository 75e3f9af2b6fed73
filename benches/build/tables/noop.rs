//! Table 2: the no-op rebuild.

use std::fmt::Write as _;
use std::fs;

use cuda_build::{Env, Probe};

use crate::harness::consumers::Tool;
use crate::harness::{median, Bench, Run};
use crate::report::{ratio, secs};
use crate::suites::{Suite, Vars};
use crate::{NOOP_GOAL_MS, NOOP_OF_MAKE_MARGIN, NOOP_PEER_MS, NOOP_ROUNDS};

impl Bench {
    pub fn noop(&mut self, s: &Suite) {
        let mut t = String::from("## 2. No-op rebuild\n\n");
        let _ = writeln!(
            t,
            "The build script re-run with nothing changed (after a complete build of table 1's suite; make: \
             `make -j2` with everything up to date, which also reads every depfile and stats every header). \
             Median of {NOOP_ROUNDS} interleaved rounds. nvcc spawns include version and arch queries. Goal: 0 spawns and at most \
             {NOOP_GOAL_MS} ms for cuda-build on a machine where bindgen_cuda's no-op takes {NOOP_PEER_MS} ms (the limit scales \
             with bindgen_cuda's time in this run when the machine is slower); the run fails on any spawn, above that \
             limit or above {NOOP_OF_MAKE_MARGIN}x make's no-op.\n"
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
        // Interleaved rounds (each row once a round), so a drift of the machine's speed
        // shifts every row alike.
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); rows.len()];
        for _ in 0..NOOP_ROUNDS {
            for (i, (tool, _, vars)) in rows.iter().enumerate() {
                let r = self.build(s, *tool, false, vars);
                runs[i].push(r);
            }
        }
        let med_of = |i: usize| median(&runs[i].iter().map(|r| r.wall).collect::<Vec<_>>());
        let (make_med, cb_med, bg_med) = (med_of(0), med_of(1), med_of(3));
        for ((tool, label, _), rs) in rows.iter().zip(&runs) {
            let name = format!("{}{label}", tool.name());
            if let Some(e) = rs.iter().find_map(|r| r.error.clone()) {
                let _ = writeln!(t, "| {name} | failed: {} | | | |", e.lines().last().unwrap_or(""));
                continue;
            }
            let med = median(&rs.iter().map(|r| r.wall).collect::<Vec<_>>());
            let spawns = rs.iter().map(Run::spawns).max().unwrap_or(0);
            let compiled: usize = rs.iter().map(|r| r.compiles().len()).sum();
            println!("  {name:<40} {:>9}  spawns {spawns}", secs(med));
            let _ =
                writeln!(t, "| {name} | {} | {} | {spawns} | {} |", secs(med), ratio(med / make_med), rs[0].kinds());
            if *tool == Tool::CudaBuild && label.is_empty() {
                self.check("no-op rebuild: cuda-build nvcc spawns", spawns.to_string(), "0".into(), spawns == 0);
                self.check(
                    "no-op rebuild: cuda-build / make",
                    format!("{} ({} vs {})", ratio(med / make_med), secs(med), secs(make_med)),
                    format!("<= {NOOP_OF_MAKE_MARGIN}x"),
                    med / make_med <= NOOP_OF_MAKE_MARGIN,
                );
            }
            if *tool == Tool::Make {
                assert_eq!(compiled, 0, "make's no-op compiled something: the Makefile is wrong");
            }
        }
        // The goal is 15 ms where bindgen_cuda's no-op (one nvcc spawn) takes 9 ms: on a
        // slower run of this shared machine the limit grows with bindgen_cuda's time.
        let speed = (bg_med * 1000.0 / NOOP_PEER_MS).max(1.0);
        let limit = NOOP_GOAL_MS * speed;
        let ok = cb_med * 1000.0 <= limit;
        self.check(
            "no-op rebuild: cuda-build wall",
            format!("{} (bindgen_cuda {})", secs(cb_med), secs(bg_med)),
            format!("<= {limit:.1} ms ({NOOP_GOAL_MS} ms x {speed:.2}, this run's speed)"),
            ok,
        );
        self.goal(
            &format!(
                "no-op rebuild of cuda-build at most {NOOP_GOAL_MS} ms (where bindgen_cuda's takes {NOOP_PEER_MS} ms)"
            ),
            format!("{} (bindgen_cuda {})", secs(cb_med), secs(bg_med)),
            ok,
        );
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
            "\ncuda-build's no-op: {} ({} the goal: {limit:.1} ms in this run, {NOOP_GOAL_MS} ms where bindgen_cuda's \
             no-op takes {NOOP_PEER_MS} ms; here it took {}; {} the unscaled {NOOP_GOAL_MS} ms). The search finds {found} toolkits on this \
             machine (the provisioned matrix included); the row with cuda-build's toolkit cache hidden shows what \
             those in the cache cost a build that names its toolkit (CUDA_PATH). Its {n_out} outputs total {:.1} MB.\n",
            secs(cb_med),
            if ok { "meets" } else { "MISSES" },
            secs(bg_med),
            if cb_med * 1000.0 <= NOOP_GOAL_MS { "within" } else { "above" },
            bytes_out as f64 / 1e6,
        );
        self.sections.push(t);
    }
}
