//! Prepare time: what each binary was built with, and what cuda-build's driver rules say
//! about it for every driver version, so the run can compare the rules with a real driver.
//!
//! The rules are cuda-build's own code, run through its public API exactly as a build runs
//! them: a probe of the same toolkit and a compile of the same kernel for the same CUDAARCHS,
//! with `/proc/driver/nvidia/version` (in a scratch sysroot) naming an assumed driver. They
//! compare the driver with the version tables in `cuda_build::tables`, so their answer can
//! only change at a version named there: evaluating at each of those versions (and below
//! them all) gives the answer for any driver.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use cuda_build::tables as compat;
use cuda_build::{DriverVersion, Env, Probe};
use serde_json::{json, Value};

/// One binary to describe: `NAME|PACKAGE|NVCC|CUDAARCHS|KERNEL|PURPOSE` (the doctor has no
/// NVCC, CUDAARCHS or KERNEL).
struct Build {
    name: String,
    package: String,
    nvcc: String,
    cudaarchs: String,
    kernel: String,
    purpose: String,
}

fn parse_build(spec: &str) -> Result<Build, String> {
    let f: Vec<&str> = spec.split('|').collect();
    let [name, package, nvcc, cudaarchs, kernel, purpose] = f[..] else {
        return Err(format!("--build {spec:?}: want NAME|PACKAGE|NVCC|CUDAARCHS|KERNEL|PURPOSE"));
    };
    Ok(Build {
        name: name.into(),
        package: package.into(),
        nvcc: nvcc.into(),
        cudaarchs: cudaarchs.into(),
        kernel: kernel.into(),
        purpose: purpose.into(),
    })
}

pub fn main(dir: &str, args: &[String]) -> Result<ExitCode, String> {
    let dir = PathBuf::from(dir);
    let mut meta = serde_json::Map::new();
    let mut builds = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--meta" => {
                let (k, v) = v.split_once('=').ok_or_else(|| format!("--meta {v:?}: want KEY=VALUE"))?;
                meta.insert(k.into(), Value::String(v.into()));
            }
            "--build" => builds.push(parse_build(v)?),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    let scratch = dir.join(".scratch");
    let mut out = Vec::new();
    for b in &builds {
        eprintln!("gpu-check: manifest: {}", b.name);
        out.push(describe(&dir, b, &scratch)?);
    }
    let _ = fs::remove_dir_all(&scratch);
    meta.insert(
        "rules_note".into(),
        json!("rules: cuda-build's driver findings for this binary's toolkit and archs, for a Linux driver in [driver_from, driver_to); 'driver' is the doctor's check (warn: programs built with this toolkit will not run), 'ptx_jit' the build's finding that this driver cannot JIT-compile the image's PTX (GPUs without matching SASS fail)"),
    );
    let manifest = json!({"meta": meta, "binaries": out});
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    fs::write(dir.join("manifest.json"), text + "\n").map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn describe(dir: &Path, b: &Build, scratch: &Path) -> Result<Value, String> {
    let file = format!("bin/{}", b.name);
    let size = fs::metadata(dir.join(&file)).map_err(|e| format!("{}: {e}", dir.join(&file).display()))?.len();
    let mut v = json!({"name": b.name, "file": file, "package": b.package, "purpose": b.purpose, "bytes": size});
    if b.nvcc.is_empty() {
        return Ok(v);
    }
    let env = |sysroot: Option<&Path>| {
        let process = Env::from_process();
        let mut vars: Vec<(String, std::ffi::OsString)> = vec![
            ("NVCC".into(), b.nvcc.clone().into()),
            ("CUDAARCHS".into(), b.cudaarchs.clone().into()),
            ("OUT_DIR".into(), scratch.join("out").into()),
        ];
        for k in ["PATH", "HOME"] {
            if let Some(val) = process.get(k) {
                vars.push((k.into(), val));
            }
        }
        let env = Env::from_vars(vars);
        match sysroot {
            Some(s) => env.with_sysroot(s),
            None => env,
        }
    };
    let sysroot = scratch.join("sysroot");
    let proc_file = sysroot.join("proc/driver/nvidia/version");
    fs::create_dir_all(proc_file.parent().unwrap_or(&sysroot)).map_err(|e| e.to_string())?;
    fs::create_dir_all(scratch.join("out")).map_err(|e| e.to_string())?;

    let mut rows: Vec<(DriverVersion, Value, (String, bool))> = Vec::new();
    let mut facts = None;
    for d in boundaries() {
        let line = format!("NVRM version: NVIDIA UNIX x86_64 Kernel Module  {d}  (gpu-check: an assumed driver)\n");
        fs::write(&proc_file, line).map_err(|e| e.to_string())?;
        let mut probe = Probe::new();
        probe.env(env(Some(&sysroot)));
        let report = probe.report();
        let doctor = report
            .checks
            .iter()
            .find(|c| c.name == "driver")
            .ok_or_else(|| format!("{}: the doctor's report has no driver check for driver {d}", b.name))?;
        let cuda = probe.find().map_err(|e| format!("{}: {e}", b.name))?;
        let compiled = cuda
            .kernels()
            .file(&b.kernel)
            .fatbin()
            .out_dir(scratch.join("out"))
            .compile()
            .map_err(|e| format!("{}: {e}", b.name))?;
        // The build's driver findings are warnings; the PTX one names the error it predicts.
        let ptx_jit = compiled.warnings.iter().find(|w| w.contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION")).cloned();
        let status = doctor.status.to_string();
        let key = (status.clone(), ptx_jit.is_some());
        let row = json!({"driver_from": d.to_string(), "driver": {"status": status, "message": doctor.message}, "ptx_jit": ptx_jit});
        if rows.last().is_none_or(|(_, _, k)| *k != key) {
            rows.push((d, row, key));
        }
        facts.get_or_insert_with(|| (cuda.version().to_string(), compiled.archs.names()));
    }
    let (toolkit, archs) = facts.ok_or("no driver versions to evaluate")?;
    // A finding's wording changed if even the lowest driver draws none: fail here, not on the GPU.
    if rows.first().is_none_or(|(_, r, _)| r["driver"]["status"] != "warn") {
        return Err(format!("{}: cuda-build's rules no longer warn about driver 100: update gpu-check", b.name));
    }
    let mut table = Vec::new();
    for i in 0..rows.len() {
        let mut r = rows[i].1.clone();
        r["driver_to"] = rows.get(i + 1).map_or(Value::Null, |n| Value::String(n.0.to_string()));
        table.push(r);
    }
    // The binary itself must say it was built so (vector-add prints its toolkit and archs).
    if b.package == "vector-add" {
        let out = Command::new(dir.join(format!("bin/{}", b.name))).output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let want = [format!("toolkit: CUDA {toolkit}"), format!("archs: {}", archs.join(" "))];
        for w in &want {
            if !text.lines().any(|l| l == w) {
                return Err(format!("{}: the binary does not print {w:?}:\n{text}", b.name));
            }
        }
    }
    let o = v.as_object_mut().ok_or("not an object")?;
    o.insert("toolkit".into(), json!(toolkit));
    o.insert("nvcc".into(), json!(b.nvcc));
    o.insert("cudaarchs".into(), json!(b.cudaarchs));
    o.insert("archs".into(), json!(archs));
    o.insert("kernel".into(), json!(b.kernel));
    o.insert("rules".into(), Value::Array(table));
    Ok(v)
}

/// Every Linux driver version in cuda-build's tables (minimums and minor-version baselines),
/// lowest first, after a floor below them all.
fn boundaries() -> Vec<DriverVersion> {
    let named = compat::DRIVER_MINIMUM
        .iter()
        .filter_map(|(_, linux, _)| *linux)
        .chain(compat::DRIVER_BASELINE.iter().map(|(_, linux, _)| *linux))
        .chain(["100"]);
    let mut v: Vec<DriverVersion> = named.filter_map(DriverVersion::parse).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_start_below_every_table_row_and_are_sorted() {
        let b = boundaries();
        assert_eq!(b[0].to_string(), "100");
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        for s in ["450.51.05", "580", "580.65.06", "610.43.02", "525.60.13"] {
            assert!(b.contains(&DriverVersion::parse(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn build_specs() {
        let b = parse_build("sass|vector-add|/x/nvcc|75;90|k.cu|SASS").unwrap();
        assert_eq!((b.name.as_str(), b.cudaarchs.as_str()), ("sass", "75;90"));
        assert!(parse_build("a|b").is_err());
    }
}
