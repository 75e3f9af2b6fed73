//! Table 1: cold builds, every tool against make.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::harness::consumers::{Tool, ALL_TOOLS};
use crate::harness::shim::max_concurrency;
use crate::harness::{median, Bench, Run};
use crate::report::{ratio, secs};
use crate::{CB_FLAGS, COLD_GOAL, COLD_MARGIN, COLD_OF_BINDGEN_GOAL, COLD_OF_MAKE_MD_GOAL};

impl Bench {
    pub fn cold_table(&mut self, out: &mut String, title: &str, runs: &BTreeMap<&'static str, Vec<Run>>, main: bool) {
        if out.is_empty() {
            out.push_str("## 1. Cold build\n\n");
            let _ = writeln!(
                out,
                "PTX for compute_75, flags `{CB_FLAGS}` (the peers add `--default-stream per-thread` themselves). \
                 Wall time of the build script (make: of `make -j2`) with its OUT_DIR emptied, 2 jobserver tokens; \
                 median of the runs shown (3, or 5 where a run of cuda-build and make, run back to back, takes under 20 s; \
                 then every tool gets 5 rounds); ratio = median / median of make. \"nvcc s\" is the sum of the nvcc processes' \
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
        if let (Some(nodeps), Some(host), Some(cbm), Some(_)) =
            (med_of(Tool::MakeNoDeps), med_of(Tool::MakeHostDeps), med_of(Tool::CudaBuild), med_of(Tool::BindgenCuda))
        {
            let _ = writeln!(
                out,
                "Header tracking's price: make with nvcc's `-MD -MF` / make without: {}; with the depfile from \
                 `-Xcompiler -MD` / without: {}. cuda-build / make without depfiles: {}; cuda-build / bindgen_cuda (median of the rounds' ratios): {}.\n",
                ratio(make_med / nodeps),
                ratio(host / nodeps),
                ratio(cbm / nodeps),
                ratio(paired(&runs[Tool::CudaBuild.name()], &runs[Tool::BindgenCuda.name()]))
            );
            // Issue 19's goals for the generated suite: exact header tracking at the price of
            // the peers that have none.
            if title.starts_with("Generated") {
                // Against bindgen_cuda round by round (the two ran minutes apart at most):
                // this shared machine's speed drifts by a third within a run.
                let to_bg = paired(&runs[Tool::CudaBuild.name()], &runs[Tool::BindgenCuda.name()]);
                let to_make = cbm / make_med;
                self.check(
                    &format!("cold build {title}: cuda-build / bindgen_cuda"),
                    ratio(to_bg),
                    format!("<= {COLD_OF_BINDGEN_GOAL}x"),
                    to_bg <= COLD_OF_BINDGEN_GOAL,
                );
                self.check(
                    &format!("cold build {title}: cuda-build / make with nvcc's -MD -MF"),
                    ratio(to_make),
                    format!("<= {COLD_OF_MAKE_MD_GOAL}x"),
                    to_make <= COLD_OF_MAKE_MD_GOAL,
                );
            }
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
}

/// The median over rounds of `a`'s wall time over `b`'s in the same round.
fn paired(a: &[Run], b: &[Run]) -> f64 {
    median(&a.iter().zip(b).map(|(x, y)| x.wall / y.wall).collect::<Vec<_>>())
}
