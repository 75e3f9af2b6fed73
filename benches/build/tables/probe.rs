//! Table 4: the cost of `Probe::find()`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

use cuda_build::{Env, Probe};

use crate::harness::shim::{fake_root, read_log};
use crate::harness::{median, Bench};
use crate::report::{ratio, secs};

impl Bench {
    pub fn probe_cost(&mut self) {
        let real = fs::read_link(self.root135.join("include")).unwrap();
        let real_nvcc = fs::read_to_string(self.root135.join("bin/nvcc")).unwrap();
        let real_nvcc = real_nvcc.lines().find_map(|l| l.strip_prefix("REAL='")).unwrap().trim_end_matches('\'');
        let _ = real;
        let rel = &self.release135;
        let patch = rel.split("(V").nth(1).unwrap_or("13.5.37)").trim_end_matches(')').to_owned();
        let json = format!(
            "{{\n  \"cuda\": {{\"name\": \"CUDA SDK\", \"version\": \"{patch}\"}},\n  \"cuda_nvcc\": {{\"name\": \"CUDA NVCC\", \"version\": \"{patch}\"}}\n}}\n"
        );
        let with_json = fake_root(&self.work.join("roots/13.5-version-json"), Path::new(real_nvcc), Some(&json));
        let without = fake_root(&self.work.join("roots/13.5-probe"), Path::new(real_nvcc), None);
        let out_dir = self.work.join("probe-out");
        let path = std::env::var("PATH").unwrap_or_default();
        let iters = if self.cfg.quick { 5 } else { 21 };
        let measure = |root: &Path, out: Option<&Path>, seq: &mut usize| -> (f64, f64, String) {
            let mut vars = vec![
                ("CUDA_PATH".to_owned(), root.display().to_string()),
                ("PATH".to_owned(), path.clone()),
                ("HOME".to_owned(), std::env::var("HOME").unwrap_or_default()),
            ];
            if let Some(o) = out {
                vars.push(("OUT_DIR".into(), o.display().to_string()));
            }
            let mut times = Vec::new();
            let mut spawns = 0usize;
            let mut source = String::new();
            for _ in 0..iters {
                *seq += 1;
                let log = self.work.join("logs").join(format!("probe-{seq}.log"));
                fs::create_dir_all(log.parent().unwrap()).unwrap();
                let _ = fs::remove_file(&log);
                std::env::set_var("BENCH_NVCC_LOG", &log);
                let t = Instant::now();
                let cuda = Probe::new().env(Env::from_vars(vars.clone())).find().expect("probe");
                times.push(t.elapsed().as_secs_f64());
                std::env::remove_var("BENCH_NVCC_LOG");
                spawns += read_log(&log).len();
                source = cuda.toolkit().version_source.to_string();
                if let Some(name) = Path::new(&source).file_name().filter(|_| source.starts_with('/')) {
                    source = name.to_string_lossy().into_owned();
                }
                if out.is_some() && source.contains("nvcc") {
                    source.push_str(" (its answer cached in OUT_DIR)");
                }
            }
            (median(&times), spawns as f64 / iters as f64, source)
        };
        let mut seq = 0;
        let a = measure(&with_json, None, &mut seq);
        let b = measure(&without, None, &mut seq);
        let _ = fs::remove_dir_all(&out_dir);
        fs::create_dir_all(&out_dir).unwrap();
        // Fill the cache once, then measure it warm.
        let _ = Probe::new()
            .env(Env::from_vars([
                ("CUDA_PATH", without.display().to_string()),
                ("OUT_DIR", out_dir.display().to_string()),
            ]))
            .find();
        let c = measure(&without, Some(&out_dir), &mut seq);
        let mut t = String::from("## 4. Probe cost\n\n");
        let _ = writeln!(
            t,
            "`Probe::find()` in-process (the bench binary: release build; build scripts run it unoptimised) with CUDA_PATH = a copy of the {rel} root whose `bin/nvcc` is the counting \
             shim; median of {iters} calls; ratio to the version.json case. Goal: no nvcc spawn when a version file \
             answers or the OUT_DIR cache is warm, one otherwise; the run fails on any other count.\n"
        );
        t.push_str("| case | nvcc spawns per find() | median time | ratio | version from |\n|---|---|---|---|---|\n");
        for (name, (time, sp, src), want) in [
            ("version.json present", &a, 0.0),
            ("no version file, no OUT_DIR", &b, 1.0),
            ("no version file, OUT_DIR cache warm", &c, 0.0),
        ] {
            let _ = writeln!(t, "| {name} | {sp} | {} | {} | {src} |", secs(*time), ratio(time / a.0));
            println!("  {name:<40} {:>9}  spawns {sp}", secs(*time));
            self.check(&format!("probe, {name}: nvcc spawns"), sp.to_string(), format!("{want}"), *sp == want);
            self.goal(&format!("probe, {name}: {want} nvcc spawn(s)"), sp.to_string(), *sp == want);
        }
        self.sections.push(t);
    }
}
