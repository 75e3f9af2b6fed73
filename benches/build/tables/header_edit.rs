//! Table 3: one header edited.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::process::Command;

use crate::harness::consumers::Tool;
use crate::harness::{median, Bench};
use crate::report::{ratio, secs};
use crate::suites::{set_red_scale, Suite};
use crate::{CB_FLAGS, HEADER_MARGIN};

impl Bench {
    pub fn header_edit(&mut self, s: &Suite) {
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
    pub fn reruns_on(&mut self, s: &Suite, header: &str) -> String {
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
    pub fn outputs(&self, s: &Suite, tool: Tool, includers: &BTreeSet<String>) -> BTreeMap<String, Vec<u8>> {
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
}
