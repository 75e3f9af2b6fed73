//! libtorch discovery and the cpp_extension rules, on layouts made from REAL files of PyPI's
//! torch wheels (tests/fixtures/libtorch: version.py, macros.h, library names) and, when
//! provisioned, a real torch 2.11.0 wheel found through LIBTORCH_USE_PYTORCH.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Fake;
use cuda_build::{Error, Probe, Status};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/libtorch").join(name)
}

/// A torch package directory (a wheel's `site-packages/torch`) from a fixture's real files.
fn wheel_layout(fs: &Fake, name: &str) -> PathBuf {
    let site = fs.path(&format!("/site-{name}"));
    let torch = site.join("torch");
    fs::create_dir_all(torch.join("lib")).unwrap();
    fs::write(torch.join("__init__.py"), "raise SystemExit('cuda-build must not import torch')\n").unwrap();
    fs::copy(fixture(name).join("version.py"), torch.join("version.py")).unwrap();
    if fixture(name).join("macros.h").is_file() {
        fs::create_dir_all(torch.join("include/caffe2/core")).unwrap();
        fs::copy(fixture(name).join("macros.h"), torch.join("include/caffe2/core/macros.h")).unwrap();
    }
    for lib in fs::read_to_string(fixture(name).join("lib-files.txt")).unwrap().lines().filter(|l| !l.is_empty()) {
        fs::write(torch.join("lib").join(lib), "").unwrap();
    }
    torch
}

/// A libtorch archive's layout: `build-version`, include/, lib/ (no version.py).
fn archive_layout(fs: &Fake, name: &str, build_version: &str) -> PathBuf {
    let torch = wheel_layout(fs, name);
    fs::remove_file(torch.join("version.py")).unwrap();
    fs::write(torch.join("build-version"), format!("{build_version}\n")).unwrap();
    torch
}

fn toolkit(fs: &Fake) -> PathBuf {
    if !fs.path("/cuda").exists() {
        fs.nvidia_root("/cuda", "13.5.37");
    }
    fs.path("/cuda")
}

fn report(fs: &Fake, vars: &[(&str, &Path)], setup: impl Fn(&mut Probe)) -> cuda_build::Report {
    let root = toolkit(fs);
    // The system's host compiler, unless a test sets its own PATH (later entries win).
    let mut all: Vec<(&str, &Path)> = vec![("CUDA_PATH", &root), ("PATH", Path::new("/usr/bin:/bin"))];
    all.extend_from_slice(vars);
    let mut p = Probe::new();
    p.env(fs.env(&all)).libtorch(true).tool_timeout(Duration::from_secs(3));
    setup(&mut p);
    p.report()
}

fn check<'a>(r: &'a cuda_build::Report, name: &str) -> &'a cuda_build::Check {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name} check in {:#?}", r.checks))
}

#[test]
fn every_real_layout_reports_its_version_and_cuda() {
    let cases = [
        ("2.4.0+cu121", "2.4.0", Some("12.1"), "version.py"),
        ("2.5.1+cu124", "2.5.1", Some("12.4"), "version.py"),
        ("2.8.0+cu128", "2.8.0", Some("12.8"), "macros.h"),
        ("2.11.0+cu130", "2.11.0", Some("13.0"), "macros.h"),
        // 2.15 writes {"USE_CUDA", "1"} (was "ON") and {"CUDA_VERSION", "13.2"}.
        ("2.15.0+cu132", "2.15.0", Some("13.2"), "macros.h"),
        ("2.5.1-cpu", "2.5.1", None, "version.py"),
        ("2.8.0+cpu", "2.8.0", None, "macros.h"),
    ];
    for (name, version, cuda, source) in cases {
        let fs = Fake::new();
        let torch = wheel_layout(&fs, name);
        let r = report(&fs, &[("LIBTORCH", &torch)], |_| {});
        let lt = r.libtorch.as_ref().unwrap_or_else(|| panic!("{name}: {:#?}", r.checks));
        assert_eq!(lt.version.as_deref(), Some(version), "{name}");
        assert_eq!(lt.cuda.map(|c| format!("{}.{}", c.major, c.minor)).as_deref(), cuda, "{name}");
        assert_eq!(lt.source, source, "{name}");
        assert_eq!(lt.cuda_build, cuda.is_some(), "{name}");
        assert_eq!(lt.rule.to_string(), "LIBTORCH");
    }
}

#[test]
fn archive_build_version_and_library_names_as_fallbacks() {
    let fs = Fake::new();
    let torch = archive_layout(&fs, "2.5.1+cu124", "2.5.1+cu124");
    let lt = report(&fs, &[("LIBTORCH", &torch)], |_| {}).libtorch.unwrap();
    assert_eq!((lt.version.as_deref(), lt.source.as_str()), (Some("2.5.1"), "build-version"));
    assert_eq!(lt.cuda.unwrap().to_string(), "12.4");

    let fs = Fake::new();
    let torch = archive_layout(&fs, "2.5.1+cu124", "2.5.1+cpu");
    assert_eq!(report(&fs, &[("LIBTORCH", &torch)], |_| {}).libtorch.unwrap().cuda, None);

    // Only library names: libtorch_cuda plus a bundled libcudart-<hash>.so.12 gives the major.
    let fs = Fake::new();
    let torch = archive_layout(&fs, "2.5.1+cu124", "x");
    fs::remove_file(torch.join("build-version")).unwrap();
    fs::write(torch.join("lib/libcudart-9335f6a2.so.12"), "").unwrap();
    let r = report(&fs, &[("LIBTORCH", &torch)], |_| {});
    let lt = r.libtorch.as_ref().unwrap();
    assert_eq!((lt.cuda.unwrap().major, lt.source.as_str()), (12, "library names (major only)"));
    let err = r.result.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("CUDA 13.5 does not fit libtorch of unknown version, built with CUDA 12.0"),
        "12 vs 13 refuses even from names: {err}"
    );

    // LIBTORCH_INCLUDE / LIBTORCH_LIB override the parts.
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.11.0+cu130");
    let moved = fs.path("/elsewhere/lib");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    fs::rename(torch.join("lib"), &moved).unwrap();
    let lt = report(&fs, &[("LIBTORCH", &torch), ("LIBTORCH_LIB", &moved)], |_| {}).libtorch.unwrap();
    assert_eq!(lt.lib_dir, moved);
}

#[test]
fn cpp_extension_rules() {
    // Major differs: the toolkit named by CUDA_PATH is refused, naming both and what to use.
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.5.1+cu124");
    let r = report(&fs, &[("LIBTORCH", &torch)], |_| {});
    let c = check(&r, "toolkit");
    assert_eq!(c.status, Status::Error);
    assert!(
        c.message.contains("CUDA 13.5 does not fit libtorch 2.5.1, built with CUDA 12.4")
            && c.message.contains("(from version.py)"),
        "{}",
        c.message
    );
    assert!(
        c.message.contains("fix: point CUDA_PATH at a CUDA 12.x toolkit") && c.message.contains("+cu13x"),
        "{}",
        c.message
    );
    assert!(!r.ok());
    assert_eq!(r.libtorch.as_ref().unwrap().version.as_deref(), Some("2.5.1"), "libtorch is reported all the same");
    // ... and the build stops, as cpp_extension raises.
    let root = toolkit(&fs);
    let err =
        Probe::new().env(fs.env(&[("CUDA_PATH", &root), ("LIBTORCH", &torch)])).libtorch(true).find().unwrap_err();
    assert!(matches!(err, Error::Explicit(_)), "{err}");

    // Minor differs: a warning, the report stays ok.
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.11.0+cu130");
    let r = report(&fs, &[("LIBTORCH", &torch)], |_| {});
    assert_eq!(check(&r, "libtorch-cuda").status, Status::Warn);
    assert!(r.ok(), "{:#?}", r.checks);
    let versions = check(&r, "cuda-versions");
    assert!(
        versions.message.contains("toolkit (nvcc) CUDA 13.5.37; libtorch built with CUDA 13.0; no driver seen"),
        "{}",
        versions.message
    );

    // CPU-only: error, unless allowed.
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.5.1-cpu");
    let r = report(&fs, &[("LIBTORCH", &torch)], |_| {});
    let c = check(&r, "libtorch-cuda");
    assert_eq!(c.status, Status::Error);
    assert!(c.message.contains("CPU-only build, but CUDA code is being built for it"), "{}", c.message);
    let r = report(&fs, &[("LIBTORCH", &torch)], |p| {
        p.allow_cpu_libtorch(true);
    });
    assert_eq!(check(&r, "libtorch-cuda").status, Status::Warn);

    // torch's version against torch-sys's expectation.
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.11.0+cu130");
    let r = report(&fs, &[("LIBTORCH", &torch)], |p| {
        p.torch_sys_version("0.18.1");
    });
    let c = check(&r, "libtorch-version");
    assert_eq!(c.status, Status::Warn);
    assert!(c.message.contains("torch-sys 0.18.1 expects PyTorch 2.5.1, but libtorch is 2.11.0"), "{}", c.message);
    let r = report(&fs, &[("LIBTORCH", &torch)], |p| {
        p.torch_sys_version("0.24.0");
    });
    assert_eq!(check(&r, "libtorch-version").status, Status::Ok);
}

#[test]
fn torch_sys_version_from_the_consumers_lockfile_and_dep_tch() {
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.11.0+cu130");
    fs.file("/crate/Cargo.lock", "[[package]]\nname = \"torch-sys\"\nversion = \"0.17.0\"\n");
    let lib = torch.join("lib");
    let r = report(&fs, &[("DEP_TCH_LIBTORCH_LIB", &lib), ("CARGO_MANIFEST_DIR", &fs.path("/crate"))], |_| {});
    assert_eq!(r.libtorch.as_ref().unwrap().rule.to_string(), "DEP_TCH_LIBTORCH_LIB");
    assert!(check(&r, "libtorch-version").message.contains("torch-sys 0.17.0 expects PyTorch 2.4.0"));
}

#[test]
fn nothing_found_and_bad_variables_are_findings() {
    let fs = Fake::new();
    let r = report(&fs, &[], |_| {});
    assert_eq!(check(&r, "libtorch").status, Status::Warn);
    assert!(check(&r, "libtorch").message.contains("no libtorch found"));
    let r = report(&fs, &[("LIBTORCH", &fs.path("/nope"))], |_| {});
    let c = check(&r, "libtorch");
    assert_eq!(c.status, Status::Error);
    assert!(c.message.contains("has no library directory"), "{}", c.message);
}

fn python_script(fs: &Fake, body: &str) -> PathBuf {
    fs.exe("/pybin/python3", &format!("#!/bin/sh\n{body}\n"));
    fs.path("/pybin")
}

#[test]
fn use_pytorch_with_broken_pythons_is_a_clear_finding() {
    let one = Path::new("1");
    // No python at all.
    let fs = Fake::new();
    let empty = fs.path("/empty");
    fs::create_dir_all(&empty).unwrap();
    let c = check(&report(&fs, &[("LIBTORCH_USE_PYTORCH", one), ("PATH", &empty)], |_| {}), "libtorch").clone();
    assert_eq!(c.status, Status::Error);
    assert!(c.message.contains("python3: not on PATH") && c.message.contains("python: not on PATH"), "{}", c.message);
    // Hangs, garbage, no torch.
    for (body, expect) in [
        ("exec sleep 60", "did not finish within 3 s"),
        ("echo '\\377 garbage'", "printed no answer"),
        ("echo CUDA_BUILD_TORCH_DIR=", "has no torch package"),
    ] {
        let fs = Fake::new();
        let bin = python_script(&fs, body);
        let start = Instant::now();
        let c = check(&report(&fs, &[("LIBTORCH_USE_PYTORCH", one), ("PATH", &bin)], |_| {}), "libtorch").clone();
        assert!(start.elapsed() < Duration::from_secs(30));
        assert_eq!(c.status, Status::Error, "{body}");
        assert!(c.message.contains(expect), "{body}: {}", c.message);
    }
}

#[test]
fn use_pytorch_with_a_real_python_finds_torch_without_importing_it() {
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.8.0+cu128");
    let site = torch.parent().unwrap().to_path_buf();
    let path = PathBuf::from(std::env::var_os("PATH").unwrap());
    let r = report(&fs, &[("LIBTORCH_USE_PYTORCH", Path::new("1")), ("PYTHONPATH", &site), ("PATH", &path)], |_| {});
    let lt = r.libtorch.as_ref().unwrap_or_else(|| panic!("{:#?}", r.checks));
    assert!(lt.rule.to_string().starts_with("LIBTORCH_USE_PYTORCH ("), "{}", lt.rule);
    assert_eq!(lt.root.canonicalize().unwrap(), torch.canonicalize().unwrap());
    assert_eq!(lt.cuda.unwrap().to_string(), "12.8");
}

#[test]
fn link_libtorch_cuda_keeps_it_loaded() {
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.11.0+cu130");
    let root = toolkit(&fs);
    let mut cuda =
        Probe::new().env(fs.env(&[("CUDA_PATH", &root), ("LIBTORCH", &torch)])).libtorch(true).find().unwrap();
    let lines: Vec<String> = cuda.link_libtorch_cuda().directives().unwrap().iter().map(|d| d.render()).collect();
    let lib = torch.join("lib");
    assert!(lines.contains(&format!("cargo::rustc-link-search=native={}", lib.display())), "{lines:#?}");
    assert!(lines.contains(&"cargo::rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed".to_owned()));
    assert!(lines.contains(&format!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.display())));
    assert!(
        lines.iter().any(|l| l.starts_with("cargo::warning=libtorch 2.11.0 was built with CUDA 13.0")),
        "{lines:#?}"
    );
}

/// The doctor's `--libtorch` acceptance: cu124 + 13.x is an error naming 12 and 13, a 13.0
/// layout is ok, a CPU layout reports "cuda": null and the CPU finding.
#[test]
fn doctor_libtorch_json() {
    let exe = std::env::current_exe().unwrap();
    let doctor = exe.parent().unwrap().parent().unwrap().join("examples/doctor");
    let fs = Fake::new();
    let root = toolkit(&fs);
    let run = |torch: &Path| -> serde_json::Value {
        let out = Command::new(&doctor)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("CUDA_PATH", &root)
            .env("LIBTORCH", torch)
            .args(["--json", "--libtorch"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = run(&wheel_layout(&fs, "2.5.1+cu124"));
    assert_eq!(v["ok"], false);
    assert_eq!(v["libtorch"]["cuda"], "12.4");
    assert_eq!(v["libtorch"]["rule"], "LIBTORCH");
    let err = v["checks"].as_array().unwrap().iter().find(|c| c["status"] == "error").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(err.contains("CUDA 13.5 does not fit libtorch 2.5.1, built with CUDA 12.4"), "{err}");

    let v = run(&wheel_layout(&fs, "2.11.0+cu130"));
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!((v["libtorch"]["version"].as_str(), v["libtorch"]["cuda"].as_str()), (Some("2.11.0"), Some("13.0")));
    assert_eq!(v["libtorch"]["source"], "macros.h");

    let v = run(&wheel_layout(&fs, "2.8.0+cpu"));
    assert_eq!(v["libtorch"]["cuda"], serde_json::Value::Null);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "libtorch-cuda" && c["message"].as_str().unwrap().contains("CPU-only")));
}

/// The real torch 2.11.0 wheel from PyPI (provisioned without its nvidia-* dependencies:
/// nothing imports it), found through LIBTORCH_USE_PYTORCH and judged against real toolkits.
#[test]
fn real_pypi_wheel_through_use_pytorch() {
    let Some(site) = common::real_torch_site() else { return };
    let path = PathBuf::from(std::env::var_os("PATH").unwrap());
    for (v, status, needle) in [
        ("13.5", Status::Warn, "built with CUDA 13.0 and the toolkit is CUDA 13.5"),
        ("12.4", Status::Error, "does not fit libtorch 2.11.0, built with CUDA 13.0"),
    ] {
        let Some(nvcc) = common::real_nvcc(v) else { continue };
        let env = cuda_build::Env::from_vars([
            ("CUDA_PATH", common::real_root(&nvcc)),
            ("LIBTORCH_USE_PYTORCH", PathBuf::from("1")),
            ("PYTHONPATH", site.clone()),
            ("PATH", path.clone()),
        ]);
        let r = Probe::new().env(env).libtorch(true).report();
        let lt = r.libtorch.as_ref().unwrap_or_else(|| panic!("{:#?}", r.checks));
        assert_eq!(lt.root, site.join("torch"));
        assert_eq!(lt.version.as_deref(), Some("2.11.0"));
        assert_eq!(lt.cuda.unwrap().to_string(), "13.0");
        assert_eq!(lt.source, "macros.h");
        let c = check(&r, if status == Status::Error { "toolkit" } else { "libtorch-cuda" });
        assert_eq!(c.status, status, "CUDA {v}: {}", c.message);
        assert!(c.message.contains(needle), "CUDA {v}: {}", c.message);
    }
}

/// A fake filesystem with a CUDA 12.4 toolkit whose nvcc is on PATH (rank 2), and `others`
/// toolkits at `/usr/local/cuda-X.Y` (rank 3).
fn toolkits_12_4_on_path(fs: &Fake, others: &[&str]) -> PathBuf {
    fs.nvidia_root("/opt/cuda-12.4", "12.4.131");
    for v in others {
        let (ma, mi) = common::major_minor(v);
        fs.nvidia_root(&format!("/usr/local/cuda-{ma}.{mi}"), v);
    }
    fs.path("/opt/cuda-12.4/bin")
}

#[test]
fn libtorch_steers_the_choice_past_a_toolkit_of_another_major() {
    let fs = Fake::new();
    let path = toolkits_12_4_on_path(&fs, &["13.5.37"]);
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    let env = || fs.env(&[("PATH", &path), ("LIBTORCH", &torch)]);
    // Without libtorch, PATH's 12.4 wins (rank 2 beats rank 3).
    assert_eq!(Probe::new().env(env()).find().unwrap().version().major, 12);
    // With it, 12.4 is refused like an out-of-range version and 13.5 is chosen, with a warning.
    let r = Probe::new().env(env()).libtorch(true).report();
    let t = r.result.as_ref().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.root, fs.path("/usr/local/cuda-13.5"));
    let w = check(&r, "choice");
    assert_eq!(w.status, Status::Warn);
    assert!(
        w.message.starts_with(&format!(
            "using CUDA 13.5 at {} (from /usr/local/cuda-13.5) instead of a better-ranked toolkit, refused: CUDA 12.4 at {} (from PATH): CUDA 12.4 does not fit libtorch 2.15.0, built with CUDA 13.2",
            fs.path("/usr/local/cuda-13.5").display(),
            fs.path("/opt/cuda-12.4").display()
        )),
        "{}",
        w.message
    );
    assert_eq!(check(&r, "libtorch-cuda").status, Status::Warn, "13.2 vs 13.5: the minor warning");
    // The build gets it as a cargo warning.
    let cuda = Probe::new().env(env()).libtorch(true).find().unwrap();
    let lines: Vec<String> = cuda.directives().unwrap().iter().map(|d| d.render()).collect();
    assert!(lines.iter().any(|l| l.starts_with("cargo::warning=using CUDA 13.5 at")), "{lines:#?}");
}

#[test]
fn when_no_toolkit_fits_libtorch_the_error_lists_the_compatible_ones() {
    // None of libtorch's major at all.
    let fs = Fake::new();
    let path = toolkits_12_4_on_path(&fs, &["11.8.89"]);
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    let err = Probe::new().env(fs.env(&[("PATH", &path), ("LIBTORCH", &torch)])).libtorch(true).find().unwrap_err();
    assert!(matches!(err, Error::NoMatch(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("no CUDA toolkit fits libtorch 2.15.0, built with CUDA 13.2: code linked into libtorch needs a CUDA 13.x toolkit\n"), "{msg}");
    assert!(
        msg.contains(&format!(
            "  libtorch 2.15.0 at {} (found by LIBTORCH) was built with CUDA 13.2 (from macros.h)",
            torch.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("  compatible with libtorch (CUDA 13.x): none found"), "{msg}");
    assert!(msg.contains("pip install nvidia-cuda-nvcc==13.2.* nvidia-nvvm==13.2.* nvidia-cuda-crt==13.2.* nvidia-cuda-runtime==13.2.*"), "{msg}");
    assert!(msg.contains("a torch whose version ends in +cu12x or +cu11x"), "{msg}");

    // One of libtorch's major, outside the range: listed, with how to select it.
    let fs = Fake::new();
    let path = toolkits_12_4_on_path(&fs, &["13.5.37"]);
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    let err = Probe::new()
        .env(fs.env(&[("PATH", &path), ("LIBTORCH", &torch)]))
        .libtorch(true)
        .version_req("<13.3")
        .find()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("  required version: <13.3"), "{msg}");
    assert!(
        msg.contains(&format!(
            "  compatible with libtorch (CUDA 13.x): CUDA 13.5 at {} (from /usr/local/cuda-13.5); select one with CUDA_PATH=<its root> (and a range that accepts it)",
            fs.path("/usr/local/cuda-13.5").display()
        )),
        "{msg}"
    );

    // Named explicitly: final, and the error names the compatible one found elsewhere.
    let root = fs.path("/opt/cuda-12.4");
    let err = Probe::new()
        .env(fs.env(&[("PATH", &path), ("CUDA_PATH", &root), ("LIBTORCH", &torch)]))
        .libtorch(true)
        .find()
        .unwrap_err();
    assert!(matches!(err, Error::Explicit(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("the CUDA toolkit named by CUDA_PATH={} is not usable: CUDA 12.4 does not fit libtorch 2.15.0, built with CUDA 13.2", root.display())), "{msg}");
    let at = fs.path("/usr/local/cuda-13.5");
    assert!(msg.contains(&format!("  compatible with libtorch (CUDA 13.x): CUDA 13.5 at {} (from /usr/local/cuda-13.5); select one with CUDA_PATH=<its root>\n", at.display())), "{msg}");
    assert!(
        msg.ends_with(&format!("  fix: point CUDA_PATH at a CUDA 13.x toolkit, or use a libtorch built for CUDA 12 (a torch whose version ends in +cu12x); or unset CUDA_PATH to use CUDA 13.5 found at {} (from /usr/local/cuda-13.5)", at.display())),
        "{msg}"
    );
}

/// The README's example of this error: its first and last lines are what the crate prints
/// (libtorch 2.15.0 from the real wheel's files, only Debian's 11.8 found).
#[test]
fn the_readmes_libtorch_error_is_the_real_one() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("no CUDA toolkit fits libtorch 2.15.0").expect("the README shows the error");
    let block: Vec<&str> = readme[start..start + readme[start..].find("```").unwrap()].lines().collect();
    let fs = Fake::new();
    fs.nvidia_root("/usr/lib/nvidia-cuda-toolkit", "11.8.89");
    let path = fs.path("/usr/lib/nvidia-cuda-toolkit/bin");
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    let msg = Probe::new()
        .env(fs.env(&[("PATH", &path), ("LIBTORCH", &torch)]))
        .libtorch(true)
        .find()
        .unwrap_err()
        .to_string();
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(lines[0], block[0]);
    assert_eq!(lines.last(), block.last(), "{msg}");
    assert!(lines.contains(&"  compatible with libtorch (CUDA 13.x): none found"), "{msg}");
}

#[test]
fn use_pytorch_asks_the_virtual_envs_python_first() {
    let one = Path::new("1");
    let fs = Fake::new();
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    let venv = fs.path("/venv");
    let other = wheel_layout(&fs, "2.11.0+cu130");
    fs.exe("/venv/bin/python", &format!("#!/bin/sh\necho CUDA_BUILD_TORCH_DIR={}\n", torch.display()));
    // PATH's python3 knows another torch: without VIRTUAL_ENV it is the one asked.
    let bin = python_script(&fs, &format!("echo CUDA_BUILD_TORCH_DIR={}", other.display()));
    let lt = report(&fs, &[("LIBTORCH_USE_PYTORCH", one), ("PATH", &bin)], |_| {}).libtorch.unwrap();
    assert_eq!(lt.version.as_deref(), Some("2.11.0"));
    let r = report(&fs, &[("LIBTORCH_USE_PYTORCH", one), ("PATH", &bin), ("VIRTUAL_ENV", &venv)], |_| {});
    let lt = r.libtorch.as_ref().unwrap_or_else(|| panic!("{:#?}", r.checks));
    assert_eq!(lt.version.as_deref(), Some("2.15.0"));
    assert_eq!(lt.rule.to_string(), format!("LIBTORCH_USE_PYTORCH ({})", venv.join("bin/python").display()));
    // A VIRTUAL_ENV without a python: said, then PATH's are asked.
    let empty = fs.path("/empty-venv");
    fs::create_dir_all(&empty).unwrap();
    let r =
        report(&fs, &[("LIBTORCH_USE_PYTORCH", one), ("PATH", &fs.path("/nothing")), ("VIRTUAL_ENV", &empty)], |_| {});
    let c = check(&r, "libtorch");
    assert!(
        c.message.contains(&format!("VIRTUAL_ENV={}: no bin/python", empty.display()))
            && c.message.contains("python: not on PATH")
            && c.message.contains("python3: not on PATH"),
        "{}",
        c.message
    );
}

/// A real virtual environment (`python3 -m venv`) holding torch 2.15.0's files, not active
/// (PATH's python3 has no torch): VIRTUAL_ENV alone makes it the one asked.
#[test]
fn a_real_virtual_env_is_asked_first() {
    let fs = Fake::new();
    let venv = fs.path("/venv");
    let made = Command::new("python3").args(["-m", "venv", "--without-pip"]).arg(&venv).status();
    if !made.is_ok_and(|s| s.success()) {
        assert!(std::env::var_os("CI").is_none(), "CI has python3 -m venv");
        eprintln!("skipped: python3 -m venv is not available");
        return;
    }
    let lib = fs::read_dir(venv.join("lib")).unwrap().flatten().next().unwrap().path();
    let torch = wheel_layout(&fs, "2.15.0+cu132");
    fs::rename(torch.parent().unwrap(), lib.join("site-packages")).unwrap_or_else(|_| {
        fs::remove_dir_all(lib.join("site-packages")).unwrap();
        fs::rename(torch.parent().unwrap(), lib.join("site-packages")).unwrap();
    });
    let path = PathBuf::from(std::env::var_os("PATH").unwrap());
    let r = report(&fs, &[("LIBTORCH_USE_PYTORCH", Path::new("1")), ("PATH", &path), ("VIRTUAL_ENV", &venv)], |_| {});
    let lt = r.libtorch.as_ref().unwrap_or_else(|| panic!("{:#?}", r.checks));
    assert_eq!(lt.root.canonicalize().unwrap(), lib.join("site-packages/torch").canonicalize().unwrap());
    assert_eq!(lt.cuda.unwrap().to_string(), "13.2");
}
