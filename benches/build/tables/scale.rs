//! Table 6: cold builds as the suite grows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::harness::consumers::Tool;
use crate::harness::shim::max_concurrency;
use crate::harness::{median, Bench, Run};
use crate::report::{ratio, secs};
use crate::suites::gen_suite;
use crate::{COLD_GOAL, COLD_MARGIN, JOBS};

impl Bench {
    pub fn scale(&mut self, gen_runs: &BTreeMap<&'static str, Vec<Run>>) {
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
}
