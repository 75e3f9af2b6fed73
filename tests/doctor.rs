//! The doctor example, run as a user would: text and JSON, exit status, with real toolkits.

mod common;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{nvcc_says, real_nvcc};
use cuda_build::{Env, Probe};
use serde_json::Value;

fn doctor() -> Command {
    // cargo builds examples before running integration tests: target/<profile>/examples/doctor.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let doctor = dir.join("examples/doctor");
    assert!(doctor.is_file(), "{} not built", doctor.display());
    let mut cmd = Command::new(doctor);
    cmd.env_clear();
    cmd
}

fn json_of(cmd: &mut Command) -> (i32, Value) {
    let out = cmd.arg("--json").output().unwrap();
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), v)
}

#[test]
fn only_the_13_nvcc_on_path_is_ok_with_its_version() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let bin = nvcc.parent().unwrap();
    // The 13.x nvcc first; the system's dirs after it for the host compiler.
    let (code, v) = json_of(doctor().env("PATH", format!("{}:/usr/bin:/bin", bin.display())));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["toolkit"]["version"], nvcc_says(&nvcc).as_str());
    assert_eq!(v["toolkit"]["source"], "PATH");
    assert_eq!(v["toolkit"]["nvcc"], nvcc.canonicalize().unwrap().to_str().unwrap());
    assert!(v["toolkit"]["include_dirs"].as_array().unwrap().iter().all(Value::is_string));
    assert!(!v["toolkit"]["lib_dirs"].as_array().unwrap().is_empty());
    let chosen: Vec<&Value> = v["candidates"].as_array().unwrap().iter().filter(|c| c["accepted"] == true).collect();
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["reason"], Value::Null);
    for c in v["candidates"].as_array().unwrap() {
        for key in ["root", "nvcc", "version", "source", "accepted", "reason"] {
            assert!(c.get(key).is_some(), "candidate lacks {key}: {c}");
        }
    }
    // The host compiler nvcc would use, and the driver (none on this machine kind).
    let host = &v["host_compiler"];
    assert!(host["path"].is_string() && host["version"].is_string(), "{host}");
    assert_eq!(host["kind"], "gcc");
    assert_eq!(host["supported"], true);
    let driver = &v["driver"];
    assert!(driver["gpus"].is_array(), "{driver}");
    assert!(driver.get("version").is_some() && driver.get("source").is_some(), "{driver}");
    for c in v["checks"].as_array().unwrap() {
        assert!(["ok", "warn", "error"].contains(&c["status"].as_str().unwrap()), "{c}");
        assert!(c["name"].is_string() && c["message"].is_string());
    }
}

#[test]
fn cuda_path_to_a_missing_directory_exits_1_naming_cuda_path() {
    let missing = PathBuf::from("/nonexistent/cuda-12.4");
    let (code, v) = json_of(doctor().env("CUDA_PATH", &missing));
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["toolkit"], Value::Null);
    let errors: Vec<&Value> = v["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "error").collect();
    assert_eq!(errors.len(), 1, "{v:#}");
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(msg.contains("CUDA_PATH=/nonexistent/cuda-12.4") && msg.contains("does not exist"), "{msg}");
    assert!(msg.contains("fix:"), "{msg}");
    let cand = &v["candidates"][0];
    assert_eq!(cand["source"], "CUDA_PATH");
    assert_eq!(cand["accepted"], false);
    assert_eq!(cand["reason"], "does not exist");
}

#[test]
fn text_report_and_require() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let bin = nvcc.parent().unwrap();
    let out = doctor().env("PATH", bin).args(["--require", ">=14"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("toolkit:   none"), "{text}");
    assert!(text.contains("required:  >=14"), "{text}");
    assert!(text.contains("[ERROR] toolkit: no CUDA toolkit satisfies the required version >=14"), "{text}");

    let out = doctor().env("PATH", format!("{}:/usr/bin:/bin", bin.display())).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("toolkit:   CUDA {}", nvcc_says(&nvcc))), "{text}");

    let out = doctor().arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument \"--bogus\""));
}

/// The doctor run with exactly `vars` and `args`, and the same probe in this process: its
/// stdout is `Report`'s `Display` or `Report::to_json` plus a newline, its status `Report::ok`.
fn prints_what_the_report_says(vars: &[(&str, String)], args: &[&str]) {
    let mut cmd = doctor();
    cmd.envs(vars.iter().map(|(k, v)| (*k, v))).args(args);
    let out = cmd.output().unwrap();
    let mut probe = Probe::new();
    probe.env(Env::from_vars(vars.iter().map(|(k, v)| (*k, v))));
    if let Some(i) = args.iter().position(|a| *a == "--require") {
        probe.version_req(args[i + 1]);
    }
    if args.contains(&"--libtorch") {
        probe.libtorch(true);
    }
    let report = probe.report();
    let expected = if args.contains(&"--json") { report.to_json() } else { report.to_string() };
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{expected}\n"), "{args:?}");
    assert_eq!(out.status.code(), Some(if report.ok() { 0 } else { 1 }), "{args:?}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    if args.contains(&"--json") {
        // JSON that any reader parses, with the fields the README calls stable.
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["ok", "toolkit", "candidates", "checks", "host_compiler", "driver", "required", "searched"] {
            assert!(v.get(key).is_some(), "{key} missing: {v:#}");
        }
    }
}

#[test]
fn display_and_to_json_are_what_the_doctor_prints() {
    let missing = [("CUDA_PATH", "/nonexistent/cuda-12.4".to_owned())];
    prints_what_the_report_says(&missing, &[]);
    prints_what_the_report_says(&missing, &["--json"]);
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let path = [("PATH", format!("{}:/usr/bin:/bin", nvcc.parent().unwrap().display()))];
    for args in [&[][..], &["--json"], &["--require", ">=14"], &["--json", "--require", ">=12, <14"], &["--libtorch"]] {
        prints_what_the_report_says(&path, args);
    }
}

/// `doctor | head -1`: a reader that has gone is no failure (it panicked with a backtrace).
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let expected = |vars: &[(&str, &str)]| {
        let ok = Probe::new().env(Env::from_vars(vars.iter().copied())).report().ok();
        Some(if ok { 0 } else { 1 })
    };
    let vars = [("CUDA_PATH", "/nonexistent/cuda")];
    for json in [false, true] {
        // A socket whose other end is closed before the doctor starts: every write is EPIPE.
        let (ours, theirs) = UnixStream::pair().unwrap();
        drop(ours);
        let mut cmd = doctor();
        cmd.envs(vars).stdout(Stdio::from(OwnedFd::from(theirs))).stderr(Stdio::piped());
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), expected(&vars), "json: {json}");
    }
    // A real pipe, as a shell makes it: the reader (`true`) has exited before the doctor writes.
    let exe = doctor().get_program().to_owned();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("(sleep 1; \"$0\"; echo \"doctor exit $?\" >&2) | true")
        .arg(&exe)
        .env_clear()
        .envs(vars)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(stderr, format!("doctor exit {}\n", expected(&vars).unwrap()), "no panic, no message");
}
