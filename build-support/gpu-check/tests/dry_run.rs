//! The runner end to end without a GPU: the prepared folder (`GPU_CHECK_PREPARED`, which
//! build-support/test.sh sets after `gpu-check.sh prepare`) run here as is (a skip), then
//! against a fake libcuda.so.1 and a fake nvidia-smi that stand for a GPU whose driver
//! (CUDA 13.0) cannot JIT-compile 13.5's PTX and whose every module load fails that way.
//! What a fake can answer is asserted: the skip, the doctor against nvidia-smi, the
//! PTX-too-new expectation both ways, and the rules check seeing the disagreements.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn prepared() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("GPU_CHECK_PREPARED")?);
    Some(dir).filter(|d| d.join("manifest.json").is_file())
}

/// A copy of the prepared folder (the run writes its reports there).
fn copy(from: &Path, to: &Path) {
    let ok = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap().success();
    assert!(ok);
}

fn fakes(dir: &Path) -> (PathBuf, PathBuf) {
    let libs = dir.join("lib");
    std::fs::create_dir_all(&libs).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fake-libcuda/libcuda.c");
    let out =
        Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(libs.join("libcuda.so.1")).arg(&src).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::os::unix::fs::symlink("libcuda.so.1", libs.join("libcuda.so")).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("nvidia-smi"), "#!/bin/sh\necho 'Fake GPU, 580.95.05, 9.0'\n").unwrap();
    Command::new("chmod").arg("+x").arg(bin.join("nvidia-smi")).status().unwrap();
    (libs, bin)
}

/// `gpu-check.sh run folder [reports]`: exit code, stdout, report.json.
fn run(
    folder: &Path,
    reports: Option<&Path>,
    vars: &[(&str, &str)],
    libs: Option<(&Path, &Path)>,
) -> (Option<i32>, String, Value) {
    let mut cmd = Command::new("bash");
    cmd.arg(folder.join("gpu-check.sh")).arg("run").arg(folder).args(reports).envs(vars.iter().copied());
    if let Some((libs, bin)) = libs {
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        cmd.env("LD_LIBRARY_PATH", libs).env("PATH", path);
    }
    let out = cmd.output().unwrap();
    let report = std::fs::read_to_string(reports.unwrap_or(folder).join("report.json")).unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), serde_json::from_str(&report).unwrap())
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name}: {report}"))
}

#[test]
fn skip_here_and_a_fake_gpu_end_to_end() {
    let Some(src) = prepared() else {
        assert!(std::env::var_os("CI").is_none(), "CI runs this after gpu-check.sh prepare");
        eprintln!("skipped: GPU_CHECK_PREPARED is not a prepared folder");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("prepared");
    copy(&src, &folder);

    // This machine as it is: without a device (CI has no GPU) exactly one line, exit 0; the
    // reports go where asked (the folder stays as prepared).
    let reports = tmp.path().join("reports");
    let (code, stdout, report) = run(&folder, Some(&reports), &[], None);
    assert!(reports.join("report.txt").is_file() && !folder.join("report.txt").exists());
    if stdout.starts_with("skipped: no CUDA device (") {
        assert_eq!((code, stdout.lines().count()), (Some(0), 1), "{stdout}");
        assert_eq!(report["result"], "skipped");
    } else {
        assert_eq!(report["result"], if code == Some(0) { "pass" } else { "fail" }, "a GPU here: {stdout}");
    }

    let (libs, bin) = fakes(tmp.path());
    let fake = Some((libs.as_path(), bin.as_path()));
    let ptx_error = [("FAKE_CUDA_LOAD", "222"), ("FAKE_CUDA_CC", "90")];
    let (code, stdout, report) = run(&folder, None, &[ptx_error[0], ptx_error[1], ("FAKE_CUDA_DRIVER", "13000")], fake);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("device 0 of 1: Fake GPU (sm_90)"), "{stdout}");
    assert_eq!(check(&report, "doctor")["pass"], true, "{}", check(&report, "doctor"));
    let too_new = check(&report, "ptx-too-new");
    assert_eq!(too_new["pass"], true, "{too_new}");
    assert!(too_new["summary"]
        .as_str()
        .unwrap()
        .contains("on a driver for CUDA 13.0: the load fails loudly as expected"));
    for name in ["sass", "ptx-jit", "static-lib", "bandwidth"] {
        assert_eq!(check(&report, name)["pass"], false, "{name}");
    }
    // The rules say 13.5's SASS runs on driver 580.95.05 and its PTX does not: the fake
    // failed every load, so the rules disagree for sass and the others, not for ptx-too-new.
    let rules = check(&report, "driver-rules");
    let summary = rules["summary"].as_str().unwrap();
    assert!(summary.starts_with("for driver 580.95.05 the rules disagree with reality for"), "{summary}");
    assert!(summary.contains("sass") && !summary.contains("ptx-too-new"), "{summary}");
    assert_eq!(report["result"], "fail");
    assert!(std::fs::read_to_string(folder.join("report.txt")).unwrap().contains("ptx-too-new   PASS"));

    // A driver that supports CUDA 13.5 must JIT its PTX: the same load failure is then a FAIL.
    let (code, _, report) = run(&folder, None, &[ptx_error[0], ptx_error[1], ("FAKE_CUDA_DRIVER", "13050")], fake);
    assert_eq!(code, Some(1));
    assert_eq!(check(&report, "ptx-too-new")["pass"], false);
}
