//! Run time, on the GPU machine, from the prepared folder alone: each check runs a prepared
//! binary, compares what it does with what the driver, nvidia-smi and the crate's rules say,
//! and the whole is written to report.txt and report.json.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wait_timeout::ChildExt;

use crate::driver::{self, Seen};

/// The bandwidth goal: vector_add against cuMemcpyDtoD (an H200 measured 0.98x).
pub const GOAL: f64 = 0.95;

/// One check's outcome.
struct Check {
    name: &'static str,
    pass: bool,
    summary: String,
    details: Value,
}

/// What a binary did.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    secs: f64,
}

impl Ran {
    fn json(&self) -> Value {
        json!({"exit": self.code, "seconds": (self.secs * 100.0).round() / 100.0, "stdout": self.stdout, "stderr": self.stderr})
    }

    /// `exit 1: error: ...` or `exit 0`.
    fn outcome(&self) -> String {
        match (self.code, self.stderr.lines().find(|l| !l.trim().is_empty())) {
            (Some(0), _) => "exit 0".into(),
            (Some(c), Some(l)) => format!("exit {c}: {l}"),
            (Some(c), None) => format!("exit {c}"),
            (None, _) => "killed (timeout or signal)".into(),
        }
    }

    fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }
}

fn exec(program: &Path, args: &[&str], timeout: Duration) -> Ran {
    let start = Instant::now();
    let spawned = Command::new(program)
        .args(args)
        // Device 0 is nvidia-smi's first GPU (CUDA's default order is fastest first).
        .env("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                code: Some(127),
                stdout: String::new(),
                stderr: format!("{}: {e}", program.display()),
                secs: 0.0,
            }
        }
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let code = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status.code(),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let mut stderr = err.join().unwrap_or_default();
    if code.is_none() {
        stderr.push_str(&format!("\n(gpu-check: killed after {} s)", timeout.as_secs()));
    }
    Ran { code, stdout: out.join().unwrap_or_default(), stderr, secs: start.elapsed().as_secs_f64() }
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// `580.95.05` -> [580, 95, 5], compared field by field as cuda-build compares drivers.
pub fn version_fields(s: &str) -> Option<Vec<u32>> {
    s.trim().split('.').map(|p| p.parse().ok()).collect()
}

/// The driver version from `/proc/driver/nvidia/version` (its NVRM line).
pub fn parse_proc(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    let rest = &line[line.find("Kernel Module")?..];
    rest.split_whitespace().find(|t| t.contains('.') && version_fields(t).is_some()).map(str::to_owned)
}

/// nvidia-smi's view: the driver version and (name, compute capability) per GPU.
#[derive(Debug, PartialEq)]
pub struct Smi {
    pub driver: String,
    pub gpus: Vec<(String, String)>,
}

/// `--query-gpu=name,driver_version,compute_cap --format=csv,noheader` lines (a name may hold commas).
pub fn parse_smi(text: &str) -> Option<Smi> {
    let mut driver = None;
    let mut gpus = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut f: Vec<&str> = line.rsplitn(3, ',').map(str::trim).collect();
        f.reverse();
        let [name, version, cc] = f[..] else { return None };
        version_fields(version)?;
        driver.get_or_insert_with(|| version.to_owned());
        gpus.push((name.to_owned(), cc.to_owned()));
    }
    Some(Smi { driver: driver?, gpus })
}

fn nvidia_smi() -> Result<Smi, String> {
    let text = command_line("nvidia-smi", &["--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"])
        .ok_or("nvidia-smi is missing or failed")?;
    parse_smi(&text).ok_or_else(|| format!("nvidia-smi printed what gpu-check cannot read: {text:?}"))
}

/// The manifest's entry for a binary.
struct Bin<'a> {
    entry: &'a Value,
    path: PathBuf,
}

impl Bin<'_> {
    fn str(&self, key: &str) -> &str {
        self.entry[key].as_str().unwrap_or("?")
    }

    fn archs(&self) -> Vec<&str> {
        self.entry["archs"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    fn what(&self) -> String {
        format!("{} (CUDA {}, {})", self.str("package"), self.str("toolkit"), self.archs().join(" "))
    }
}

/// The crate's prediction for `bin` on driver `version` and a GPU `sm_<sm>`: `Ok(())` it
/// runs, `Err(why)` it fails.
pub fn predict(rules: &[Value], archs: &[&str], version: &[u32], sm: u32) -> Option<Result<(), String>> {
    let row = rules
        .iter()
        .rev()
        .find(|r| r["driver_from"].as_str().and_then(version_fields).is_some_and(|from| from.as_slice() <= version))?;
    if row["driver"]["status"] != "ok" {
        return Some(Err(format!("driver too old: {}", row["driver"]["message"].as_str().unwrap_or("?"))));
    }
    if let (Some(msg), false) = (row["ptx_jit"].as_str(), archs.contains(&format!("sm_{sm}").as_str())) {
        return Some(Err(format!("no SASS for sm_{sm} and PTX too new: {msg}")));
    }
    Some(Ok(()))
}

/// A version like `13.5.37` as (13, 5).
fn major_minor(v: &str) -> Option<(i32, i32)> {
    let mut it = v.split('.').map(|p| p.parse::<i32>().ok());
    Some((it.next()??, it.next()??))
}

pub fn main(dir: &Path, report_dir: &Path) -> Result<ExitCode, String> {
    let start = Instant::now();
    let manifest: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("manifest.json")).map_err(|e| format!("{}/manifest.json: {e}", dir.display()))?,
    )
    .map_err(|e| format!("manifest.json: {e}"))?;
    let empty = Vec::new();
    let entries = manifest["binaries"].as_array().unwrap_or(&empty);
    let bin = |name: &str| {
        entries
            .iter()
            .find(|b| b["name"] == name)
            .map(|entry| Bin { entry, path: dir.join(entry["file"].as_str().unwrap_or("")) })
    };
    let date = command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_else(|| "?".into());
    let mut machine = json!({
        "date": date,
        "uname": command_line("uname", &["-srm"]),
        "glibc": command_line("getconf", &["GNU_LIBC_VERSION"]),
    });
    // The driver enumerates in PCI order for this process too: device 0 = nvidia-smi's first.
    std::env::set_var("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    let mut checks = Vec::new();
    let seen: Option<Seen> = match driver::probe() {
        Ok(Err(why)) => {
            let line = format!("skipped: no CUDA device ({why})");
            write_reports(report_dir, &manifest, &machine, &[], Some(&line), start)?;
            println!("{line}");
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Ok(seen)) => Some(seen),
        Err(e) => {
            checks.push(Check { name: "driver", pass: false, summary: e, details: Value::Null });
            None
        }
    };
    let smi = nvidia_smi();
    let proc_driver = fs::read_to_string("/proc/driver/nvidia/version").ok().and_then(|t| parse_proc(&t));
    let driver_version = smi.as_ref().ok().map(|s| s.driver.clone()).or_else(|| proc_driver.clone());
    machine["driver"] = json!({
        "nvidia_smi": smi.as_ref().map(|s| json!({"driver": s.driver, "gpus": s.gpus})).unwrap_or_else(|e| json!(e)),
        "proc": proc_driver,
        "cuda": seen.as_ref().map(|s| format!("{}.{}", s.cuda.0, s.cuda.1)),
        "device0": seen.as_ref().map(|s| json!({"name": s.name, "sm": s.sm, "devices": s.count})),
    });
    let sm = seen.as_ref().map_or(0, |s| s.sm);

    checks.push(doctor(bin("doctor"), &smi, proc_driver.as_deref()));
    let mut observed: BTreeMap<&'static str, (Option<Bin>, Result<(), String>)> = BTreeMap::new();
    for (name, file, path) in [
        ("sass", "vector-add-sass", true),
        ("ptx-jit", "vector-add-ptx-old", false),
        ("ptx-too-new", "vector-add-ptx-new", false),
    ] {
        let b = bin(file);
        let (check, outcome) = match (&b, &seen) {
            (Some(b), Some(seen)) => vector_add(name, b, seen, path),
            _ => (missing(name, file), Err("not run".into())),
        };
        checks.push(check);
        observed.insert(name, (b, outcome));
    }
    let b = bin("static-lib");
    let (check, outcome) = match &b {
        Some(b) => static_lib(b),
        None => (missing("static-lib", "static-lib"), Err("not run".into())),
    };
    checks.push(check);
    observed.insert("static-lib", (b, outcome));
    checks.push(match bin("vector-add-sass") {
        Some(b) => bandwidth(&b),
        None => missing("bandwidth", "vector-add-sass"),
    });
    checks.push(rules(&observed, driver_version.as_deref(), sm));

    let passed = write_reports(report_dir, &manifest, &machine, &checks, None, start)?;
    print!("{}", fs::read_to_string(report_dir.join("report.txt")).unwrap_or_default());
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn missing(name: &'static str, file: &str) -> Check {
    Check {
        name,
        pass: false,
        summary: format!("{file} is not in the manifest, or no device was usable"),
        details: Value::Null,
    }
}

/// The doctor's driver and GPU fields against nvidia-smi's own output (and /proc's).
fn doctor(bin: Option<Bin>, smi: &Result<Smi, String>, proc_driver: Option<&str>) -> Check {
    let Some(bin) = bin else { return missing("doctor", "doctor") };
    let ran = exec(&bin.path, &["--json"], Duration::from_secs(20));
    let mut problems = Vec::new();
    let report: Value = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| {
        problems.push(format!("its --json output does not parse: {e}"));
        Value::Null
    });
    let d = &report["driver"];
    let version = d["version"].as_str().unwrap_or("");
    let gpus: Vec<(String, String)> = d["gpus"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    (g["name"].as_str().unwrap_or("").to_owned(), g["compute_cap"].as_str().unwrap_or("").to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    match smi {
        Ok(smi) => {
            if version != smi.driver {
                problems.push(format!("driver {version:?}, nvidia-smi says {:?}", smi.driver));
            }
            if gpus != smi.gpus {
                problems.push(format!("GPUs {gpus:?}, nvidia-smi says {:?}", smi.gpus));
            }
        }
        Err(e) => problems.push(format!("cannot compare: {e}")),
    }
    if let Some(p) = proc_driver {
        if version != p {
            problems.push(format!("driver {version:?}, /proc/driver/nvidia/version says {p:?}"));
        }
    }
    // Exit 0 when it chose a toolkit and no check is an error. A GPU machine without a CUDA
    // toolkit (or a host compiler) is one the doctor rightly calls not ready to build: exit 1
    // is right there, as long as those are its only errors.
    let errors: Vec<&str> = report["checks"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["status"] == "error").filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let ok = report["ok"].as_bool();
    let exit_note = match (ok, ran.code) {
        (Some(true), Some(0)) => "exit 0".to_owned(),
        (Some(false), Some(1)) if errors.iter().all(|e| ["toolkit", "host-compiler"].contains(e)) => {
            format!("exit 1, its only errors {errors:?}: this machine has no usable CUDA toolkit to build with")
        }
        _ => {
            problems.push(format!("ok: {ok:?}, errors {errors:?}, {}", ran.outcome()));
            ran.outcome()
        }
    };
    let summary = if problems.is_empty() {
        format!(
            "driver {version} (from {}) and GPUs {gpus:?} as nvidia-smi says; {exit_note}",
            d["source"].as_str().unwrap_or("?")
        )
    } else {
        problems.join("; ")
    };
    Check { name: "doctor", pass: problems.is_empty(), summary, details: json!({"ran": ran.json(), "driver": d}) }
}

/// vector-add: the three launches right, through the expected path (SASS or JIT); for the
/// PTX-only build of a toolkit newer than the driver, a loud load failure naming the fix.
fn vector_add(name: &'static str, bin: &Bin, seen: &Seen, sass_expected: bool) -> (Check, Result<(), String>) {
    let ran = exec(&bin.path, &[], Duration::from_secs(40));
    let outcome = if ran.code == Some(0) { Ok(()) } else { Err(ran.outcome()) };
    let sm = seen.sm;
    let correct = [
        "vector_add of 1048576 floats: correct",
        "vector_add of 1048579 floats: correct",
        "vector_add_scalar of 1048576 floats: correct",
    ];
    let runs_right = ran.code == Some(0) && correct.iter().all(|l| ran.has_line(l));
    let mut problems = Vec::new();
    if ran.stdout.contains("skipped:") {
        problems.push("it skipped although the driver reports a device".to_owned());
    }
    let toolkit = major_minor(bin.str("toolkit")).unwrap_or((0, 0));
    let summary = if name == "ptx-too-new" && seen.cuda < toolkit {
        // NVIDIA's rule: a driver JIT-compiles PTX of its own CUDA version or older.
        let fix = format!("fix: add SASS for this GPU, e.g. CUDAARCHS=\"{sm}-real\"");
        if ran.code != Some(1) || !ran.stderr.contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION") {
            problems.push(format!("expected exit 1 with CUDA_ERROR_UNSUPPORTED_PTX_VERSION, got {}", ran.outcome()));
        }
        if !ran.stderr.contains(&fix) {
            problems.push(format!("the error does not name the fix ({fix})"));
        }
        format!(
            "{} on a driver for CUDA {}.{}: the load fails loudly as expected ({})",
            bin.what(),
            seen.cuda.0,
            seen.cuda.1,
            ran.stderr.lines().next().unwrap_or("")
        )
    } else {
        let path = if sass_expected {
            format!("loading vector_add: SASS for sm_{sm}")
        } else {
            format!("loading vector_add: no SASS for sm_{sm}: the driver JIT-compiles PTX")
        };
        if !ran.stdout.lines().any(|l| l.starts_with(&path)) {
            problems.push(format!("expected {path:?}"));
        }
        if !runs_right {
            problems.push(format!("expected 3 correct results and exit 0, got {}", ran.outcome()));
        }
        format!(
            "{}: {}, 3 results correct in {:.1} s",
            bin.what(),
            if sass_expected { "SASS" } else { "JIT from PTX" },
            ran.secs
        )
    };
    let pass = problems.is_empty();
    let summary = if pass { summary } else { problems.join("; ") };
    (Check { name, pass, summary, details: json!({"binary": bin.entry["name"], "ran": ran.json()}) }, outcome)
}

fn static_lib(bin: &Bin) -> (Check, Result<(), String>) {
    let ran = exec(&bin.path, &[], Duration::from_secs(40));
    let pass = ran.code == Some(0) && ran.has_line("saxpy of 65536 floats: correct") && !ran.stdout.contains("skipped");
    let outcome = if ran.code == Some(0) { Ok(()) } else { Err(ran.outcome()) };
    let summary = if pass {
        format!("{} with the static CUDA runtime: saxpy correct", bin.what())
    } else {
        format!("expected saxpy correct and exit 0, got {}", ran.outcome())
    };
    (
        Check { name: "static-lib", pass, summary, details: json!({"binary": bin.entry["name"], "ran": ran.json()}) },
        outcome,
    )
}

fn bandwidth(bin: &Bin) -> Check {
    let ran = exec(&bin.path, &["--bandwidth"], Duration::from_secs(90));
    let line = ran.stdout.lines().find(|l| l.starts_with("{\"bench\":\"vector-add-bandwidth\""));
    let figures: Value = line.and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    let ratio = figures["ratio"].as_f64();
    let pass = ran.code == Some(0) && figures["correct"] == true && ratio.is_some_and(|r| r >= GOAL);
    let summary = match ratio {
        Some(r) => format!(
            "vector_add {:.0} GB/s = {r:.3}x cuMemcpyDtoD {:.0} GB/s (scalar {:.3}x), {} floats; goal >= {GOAL}x{}",
            figures["vector_add_gbps"].as_f64().unwrap_or(0.0),
            figures["memcpy_dtod_gbps"].as_f64().unwrap_or(0.0),
            figures["ratio_scalar"].as_f64().unwrap_or(0.0),
            figures["floats"],
            if figures["correct"] == true { "" } else { "; WRONG RESULTS" }
        ),
        None => format!("no bandwidth line: {}", ran.outcome()),
    };
    Check { name: "bandwidth", pass, summary, details: json!({"figures": figures, "ran": ran.json()}) }
}

/// cuda-build's driver rules (the manifest's tables) against what the binaries did.
fn rules(observed: &BTreeMap<&'static str, (Option<Bin>, Result<(), String>)>, driver: Option<&str>, sm: u32) -> Check {
    let Some(version) = driver.and_then(version_fields) else {
        return Check {
            name: "driver-rules",
            pass: false,
            summary: "no driver version seen (nvidia-smi, /proc): the rules cannot be evaluated".into(),
            details: Value::Null,
        };
    };
    let driver = driver.unwrap_or("?");
    let mut rows = Vec::new();
    let mut disagree = Vec::new();
    for (name, (bin, outcome)) in observed {
        let Some(bin) = bin else { continue };
        let rules = bin.entry["rules"].as_array().cloned().unwrap_or_default();
        let predicted = predict(&rules, &bin.archs(), &version, sm);
        let agree = predicted.as_ref().map(|p| p.is_ok() == outcome.is_ok());
        if agree != Some(true) {
            disagree.push(*name);
        }
        rows.push(json!({
            "check": name,
            "predicted": predicted.as_ref().map(|p| match p { Ok(()) => "runs".to_owned(), Err(e) => format!("fails: {e}") }),
            "observed": match outcome { Ok(()) => "runs".to_owned(), Err(e) => format!("fails: {e}") },
            "agree": agree,
        }));
    }
    let said = |r: &Value| {
        format!(
            "{} {}",
            r["check"].as_str().unwrap_or("?"),
            if r["predicted"].as_str().is_some_and(|p| p == "runs") { "runs" } else { "fails" }
        )
    };
    let summary = if disagree.is_empty() {
        format!(
            "for driver {driver} and sm_{sm} the rules said {}: all as observed",
            rows.iter().map(said).collect::<Vec<_>>().join(", ")
        )
    } else {
        format!("for driver {driver} the rules disagree with reality for {}", disagree.join(", "))
    };
    Check {
        name: "driver-rules",
        pass: disagree.is_empty(),
        summary,
        details: json!({"driver": driver, "sm": sm, "rows": rows}),
    }
}

/// Writes report.txt and report.json; returns whether every check passed.
fn write_reports(
    dir: &Path,
    manifest: &Value,
    machine: &Value,
    checks: &[Check],
    skipped: Option<&str>,
    start: Instant,
) -> Result<bool, String> {
    let passed = skipped.is_none() && !checks.is_empty() && checks.iter().all(|c| c.pass);
    let secs = start.elapsed().as_secs_f64();
    let json = json!({
        "result": if skipped.is_some() { "skipped" } else if passed { "pass" } else { "fail" },
        "skipped": skipped,
        "seconds": (secs * 10.0).round() / 10.0,
        "machine": machine,
        "prepared": manifest["meta"],
        "checks": checks.iter().map(|c| json!({"name": c.name, "pass": c.pass, "summary": c.summary, "details": c.details})).collect::<Vec<_>>(),
    });
    let mut txt = format!(
        "cuda-build GPU check, {}\nprepared: {} ({})\nmachine: {}; {}\n",
        machine["date"].as_str().unwrap_or("?"),
        manifest["meta"]["commit"].as_str().unwrap_or("?"),
        manifest["meta"]["built_on"].as_str().unwrap_or("?"),
        machine["uname"].as_str().unwrap_or("?"),
        machine["glibc"].as_str().unwrap_or("?"),
    );
    if let Some(d) = machine.get("driver") {
        let dev = &d["device0"];
        txt += &format!(
            "driver: {} (nvidia-smi), {} (/proc), CUDA {} (cuDriverGetVersion)\ndevice 0 of {}: {} (sm_{})\n",
            d["nvidia_smi"]["driver"].as_str().unwrap_or("?"),
            d["proc"].as_str().unwrap_or("-"),
            d["cuda"].as_str().unwrap_or("?"),
            dev["devices"],
            dev["name"].as_str().unwrap_or("?"),
            dev["sm"]
        );
    }
    txt.push('\n');
    if let Some(line) = skipped {
        txt += line;
        txt.push('\n');
    }
    for c in checks {
        txt += &format!("{:<13} {}  {}\n", c.name, if c.pass { "PASS" } else { "FAIL" }, c.summary);
    }
    if skipped.is_none() {
        let failed = checks.iter().filter(|c| !c.pass).count();
        txt += &format!(
            "\n{} in {secs:.0} s\n",
            if failed == 0 {
                format!("all {} checks passed", checks.len())
            } else {
                format!("{failed} of {} checks FAILED", checks.len())
            }
        );
    }
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    fs::write(dir.join("report.json"), text + "\n").map_err(|e| format!("{}/report.json: {e}", dir.display()))?;
    fs::write(dir.join("report.txt"), txt).map_err(|e| format!("{}/report.txt: {e}", dir.display()))?;
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_and_smi_lines() {
        let p = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  (dvs-builder@U22)  Tue Sep 23 2025\nGCC version: gcc 12\n";
        assert_eq!(parse_proc(p).as_deref(), Some("580.95.05"));
        assert_eq!(parse_proc("garbage"), None);
        let s = parse_smi("NVIDIA H200, 580.95.05, 9.0\nWeird, Name, 580.95.05, 8.0\n").unwrap();
        assert_eq!(s.driver, "580.95.05");
        assert_eq!(s.gpus, [("NVIDIA H200".into(), "9.0".into()), ("Weird, Name".into(), "8.0".into())]);
        assert_eq!(parse_smi("NVIDIA H200, x, 9.0"), None);
        assert_eq!(parse_smi(""), None);
    }

    fn table() -> Vec<Value> {
        vec![
            json!({"driver_from": "100", "driver": {"status": "warn", "message": "too old"}, "ptx_jit": "PTX ... CUDA_ERROR_UNSUPPORTED_PTX_VERSION"}),
            json!({"driver_from": "580", "driver": {"status": "ok", "message": "fine"}, "ptx_jit": "PTX ... CUDA_ERROR_UNSUPPORTED_PTX_VERSION"}),
            json!({"driver_from": "610.43.02", "driver": {"status": "ok", "message": "fine"}, "ptx_jit": null}),
        ]
    }

    #[test]
    fn predictions_follow_the_table_and_the_gpus_sass() {
        let v = |s| version_fields(s).unwrap();
        let sass = ["sm_80", "sm_90", "compute_90"];
        let ptx = ["compute_75"];
        assert!(predict(&table(), &sass, &v("550.54.14"), 90).unwrap().unwrap_err().starts_with("driver too old"));
        // 580 itself and every 580.x are at or above the baseline "580".
        assert_eq!(predict(&table(), &sass, &v("580.95.05"), 90).unwrap(), Ok(()));
        assert!(predict(&table(), &ptx, &v("580.95.05"), 90).unwrap().unwrap_err().contains("no SASS for sm_90"));
        assert!(predict(&table(), &sass, &v("580.95.05"), 86).unwrap().is_err(), "no sm_86 SASS");
        assert_eq!(predict(&table(), &ptx, &v("610.43.02"), 90).unwrap(), Ok(()));
        assert_eq!(predict(&table(), &ptx, &v("99"), 90), None);
    }

    #[test]
    fn toolkit_versions() {
        assert_eq!(major_minor("13.5.37"), Some((13, 5)));
        assert!((13, 0) < major_minor("13.5.37").unwrap());
        assert_eq!(major_minor("x"), None);
    }
}
