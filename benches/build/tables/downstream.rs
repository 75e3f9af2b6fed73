//! Table 5: the cost to downstream users (a cold build of the build-dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::time::Instant;

use crate::harness::consumers::{cargo, run_ok};
use crate::harness::{median, Bench};
use crate::report::{ratio, secs};

impl Bench {
    pub fn dep_cost(&mut self) {
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
}
