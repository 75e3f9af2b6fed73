//! Every toolkit layout of cuda-facts section 5 as a fake tree, with fake nvcc scripts
//! printing real `--version` outputs. These test discovery, selection and errors; the
//! real compilers are exercised in tests/real_toolkits.rs.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Fake;
use cuda_build::{Cudart, Directive, Error, Probe, Refusal, Source, Status, VersionSource};

fn probe(env: cuda_build::Env) -> Probe {
    let mut p = Probe::new();
    p.env(env);
    p
}

fn lines(d: &[Directive]) -> Vec<String> {
    d.iter().map(Directive::render).collect()
}

#[test]
fn standard_nvidia_tree_via_cuda_path() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda-12.6", "12.6.77");
    let cuda = probe(fs.env(&[("CUDA_PATH", &root)])).find().unwrap();
    let t = cuda.toolkit();
    assert_eq!(t.version.to_string(), "12.6.77");
    assert_eq!(t.version_source, VersionSource::Nvcc);
    assert_eq!(t.source, Source::RootVar("CUDA_PATH".into()));
    assert_eq!(t.root, root.canonicalize().unwrap());
    assert_eq!(t.include_dirs, [t.root.join("include")]);
    // lib64 is a symlink to targets/x86_64-linux/lib: listed once.
    assert_eq!(t.lib_dirs, [t.root.join("lib64")]);
    assert_eq!(t.stubs_dir.as_deref(), Some(t.root.join("lib64/stubs").as_path()));
    assert_eq!(fs.nvcc_runs(), 1, "nvcc is spawned once when no version file exists");
}

#[test]
fn version_file_means_no_nvcc_spawn() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/opt/cuda", "12.6.77");
    fs.file("/opt/cuda/version.json", r#"{"cuda": {"name": "CUDA SDK", "version": "12.6.20241114"}, "cuda_nvcc": {"name": "CUDA NVCC", "version": "12.6.77"}}"#);
    let report = probe(fs.env(&[])).report();
    let t = report.result.as_ref().unwrap();
    assert_eq!(t.version.to_string(), "12.6.77");
    assert!(matches!(t.version_source, VersionSource::VersionJson(_)));
    assert_eq!(t.source, Source::Location("/opt/cuda".into()));
    assert_eq!(t.root, root.canonicalize().unwrap());
    assert_eq!(fs.nvcc_runs(), 0);
    let vs = report.checks.iter().find(|c| c.name == "version-sources").unwrap();
    assert_eq!(vs.status, Status::Ok, "{}", vs.message);
}

#[test]
fn version_txt_of_old_toolkits() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "11.2.152");
    fs.file("/usr/local/cuda/version.txt", "CUDA Version 11.2.152\n");
    let t = probe(fs.env(&[])).find().unwrap();
    assert!(matches!(t.toolkit().version_source, VersionSource::VersionTxt(_)));
    assert_eq!(t.toolkit().root, root.canonicalize().unwrap());
    assert_eq!(fs.nvcc_runs(), 0);
}

#[test]
fn disagreeing_version_sources_warn_naming_both() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "12.6.77");
    fs.file("/usr/local/cuda/version.json", r#"{"cuda_nvcc": {"version": "12.6.77"}}"#);
    fs.cuda_h("/usr/local/cuda/targets/x86_64-linux/include", 12040);
    let report = probe(fs.env(&[])).report();
    assert!(report.result.is_ok());
    let w = report.checks.iter().find(|c| c.status == Status::Warn).expect("a warning");
    assert_eq!(w.name, "version-sources");
    assert!(w.message.contains("version.json") && w.message.contains("12.6.77"), "{}", w.message);
    assert!(w.message.contains("cuda.h") && w.message.contains("12.4"), "{}", w.message);
    // The warning reaches cargo too.
    let cuda = probe(fs.env(&[])).find().unwrap();
    assert!(lines(&cuda.directives().unwrap())
        .iter()
        .any(|l| l.starts_with("cargo::warning=") && l.contains("cuda.h")));
    let _ = root;
}

#[test]
fn debian_split_layout_through_the_usr_bin_wrapper() {
    let fs = Fake::new();
    let real = fs.nvcc_of("/usr/lib/nvidia-cuda-toolkit/bin/nvcc", "11.8.89-windows");
    fs.exe("/usr/bin/nvcc", &format!("#!/bin/sh\nexec \"{}\" \"$@\"\n", real.display()));
    fs.cuda_h("/usr/include", 11080);
    fs.file("/usr/include/cuda_runtime.h", "");
    fs.file("/usr/lib/x86_64-linux-gnu/libcudart.so", "");
    fs.file("/usr/lib/x86_64-linux-gnu/stubs/libcuda.so", "");
    let report = probe(fs.env(&[("PATH", &fs.path("/usr/bin"))])).report();
    let t = report.result.as_ref().unwrap();
    let usr = fs.path("/usr").canonicalize().unwrap();
    assert_eq!(t.source, Source::Path);
    assert_eq!(t.root, usr.join("lib/nvidia-cuda-toolkit"));
    assert_eq!(t.nvcc, usr.join("bin/nvcc"), "the wrapper is what runs");
    assert_eq!(t.include_dirs, [usr.join("include")]);
    assert_eq!(t.lib_dirs, [usr.join("lib/x86_64-linux-gnu")]);
    assert_eq!(t.version.to_string(), "11.8.89");
    // The conventional Debian location names the same toolkit: listed, as a duplicate.
    let dup = report
        .search
        .candidates
        .iter()
        .find(|c| c.source == Source::Location("/usr/lib/nvidia-cuda-toolkit".into()))
        .unwrap();
    assert!(matches!(dup.refusal, Some(Refusal::Duplicate(_))), "{:?}", dup.refusal);
}

#[test]
fn python_wheel_layout_links_the_versioned_cudart() {
    let fs = Fake::new();
    let site = fs.path("/venv/lib/python3.11/site-packages");
    fs.nvcc_of("/venv/lib/python3.11/site-packages/nvidia/cu13/bin/nvcc", "13.0.48");
    fs.cuda_h("/venv/lib/python3.11/site-packages/nvidia/cu13/include", 13000);
    fs.file("/venv/lib/python3.11/site-packages/nvidia/cu13/lib/libcudart.so.13", "");
    // A 12.x nvcc wheel holds ptxas and headers but no nvcc.
    fs.file("/venv/lib/python3.11/site-packages/nvidia/cuda_nvcc/bin/ptxas", "");
    let report = probe(fs.env(&[("VIRTUAL_ENV", &fs.path("/venv"))])).report();
    let t = report.result.as_ref().unwrap();
    assert_eq!(t.source, Source::Wheel(site.clone()));
    assert_eq!(t.version.to_string(), "13.0.48");
    let no_nvcc = report.search.candidates.iter().find(|c| c.path.ends_with("cuda_nvcc")).unwrap();
    assert!(matches!(no_nvcc.refusal, Some(Refusal::NoNvcc(_))));

    let mut cuda = probe(fs.env(&[("VIRTUAL_ENV", &fs.path("/venv"))])).find().unwrap();
    let out = lines(&cuda.link_cudart(Cudart::Shared).rpath(true).directives().unwrap());
    let lib = site.join("nvidia/cu13/lib");
    assert!(out.contains(&"cargo::rustc-link-lib=dylib:+verbatim=libcudart.so.13".to_owned()), "{out:#?}");
    assert!(out.contains(&format!("cargo::rustc-link-search=native={}", lib.display())));
    assert!(out.contains(&format!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.display())));
}

#[test]
fn conda_layout_with_targets_dir() {
    let fs = Fake::new();
    let prefix = fs.path("/conda/envs/gpu");
    fs.nvcc_of("/conda/envs/gpu/bin/nvcc", "12.8.61");
    fs.cuda_h("/conda/envs/gpu/targets/x86_64-linux/include", 12080);
    fs.file("/conda/envs/gpu/targets/x86_64-linux/lib/libcudart.so", "");
    let cuda = probe(fs.env(&[("CONDA_PREFIX", &prefix)])).find().unwrap();
    let t = cuda.toolkit();
    assert_eq!(t.source, Source::Conda);
    assert_eq!(t.include_dirs, [prefix.join("targets/x86_64-linux/include")]);
    assert_eq!(t.lib_dirs, [prefix.join("targets/x86_64-linux/lib")]);
}

#[test]
fn windows_layout_and_installer_variables() {
    let fs = Fake::new();
    for (v, code) in [("11.8.89-windows", 11080), ("12.1.105", 12010)] {
        let (ma, mi) = common::major_minor(v);
        let root = format!("/Program Files/NVIDIA GPU Computing Toolkit/CUDA/v{ma}.{mi}");
        fs.nvcc_of(&format!("{root}/bin/nvcc.exe"), v);
        fs.cuda_h(&format!("{root}/include"), code);
        fs.file(&format!("{root}/lib/x64/cudart.lib"), "");
        fs.file(&format!("{root}/lib/x64/cudart_static.lib"), "");
    }
    let base = fs.path("/Program Files/NVIDIA GPU Computing Toolkit/CUDA");
    let env = fs.env(&[
        ("TARGET", Path::new("x86_64-pc-windows-msvc")),
        ("HOST", Path::new("x86_64-pc-windows-msvc")),
        ("CUDA_PATH_V11_8", &base.join("v11.8")),
        ("CUDA_PATH_V12_1", &base.join("v12.1")),
    ]);
    let mut cuda = probe(env).find().unwrap();
    let t = cuda.toolkit().clone();
    assert_eq!(t.source, Source::VersionedVar("CUDA_PATH_V12_1".into()), "newest installer variable wins");
    assert_eq!(t.lib_dirs, [t.root.join("lib/x64")]);
    let out = lines(&cuda.link_cudart(Cudart::Static).directives().unwrap());
    assert!(out.contains(&"cargo::rustc-link-lib=static=cudart_static".to_owned()));
    assert!(!out.iter().any(|l| l.ends_with("=dl")), "no Linux system libs on Windows: {out:#?}");
    assert!(out.contains(&"cargo::rerun-if-env-changed=CUDA_PATH_V12_1".to_owned()));
}

#[test]
fn usr_local_versions_newest_first_and_range_filters() {
    let fs = Fake::new();
    for v in ["11.2.152", "12.6.77", "12.1.105"] {
        let (ma, mi) = common::major_minor(v);
        fs.nvidia_root(&format!("/usr/local/cuda-{ma}.{mi}"), v);
    }
    let t = probe(fs.env(&[])).find().unwrap();
    assert_eq!(t.toolkit().source, Source::Location("/usr/local/cuda-12.6".into()));

    let mut p = probe(fs.env(&[]));
    let report = p.version_req("<12.5").report();
    let t = report.result.as_ref().unwrap();
    assert_eq!(t.version.to_string(), "12.1.105");
    let newest =
        report.search.candidates.iter().find(|c| c.source == Source::Location("/usr/local/cuda-12.6".into())).unwrap();
    assert!(matches!(newest.refusal, Some(Refusal::OutOfRange { .. })), "{:?}", newest.refusal);
    let older =
        report.search.candidates.iter().find(|c| c.source == Source::Location("/usr/local/cuda-11.2".into())).unwrap();
    assert!(matches!(older.refusal, Some(Refusal::Outranked(_))));
}

#[test]
fn pkg_config_file_names_the_root() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/somewhere/cuda", "12.8.61");
    fs.file(
        "/usr/lib/pkgconfig/cudart-12.8.pc",
        &format!(
            "cudaroot={}\nlibdir=${{cudaroot}}/targets/x86_64-linux/lib\nName: cudart\nVersion: 12.8\n",
            root.display()
        ),
    );
    let t = probe(fs.env(&[])).find().unwrap();
    assert_eq!(t.toolkit().source, Source::PkgConfig(fs.path("/usr/lib/pkgconfig/cudart-12.8.pc")));
}

#[test]
fn path_beats_conventional_locations_and_symlinks_resolve() {
    let fs = Fake::new();
    fs.nvidia_root("/usr/local/cuda", "12.8.61");
    let old = fs.nvidia_root("/opt/old-cuda", "12.1.105");
    fs.symlink(&old.join("bin/nvcc").display().to_string(), "/home/me/bin/nvcc");
    let report = probe(fs.env(&[("PATH", &fs.path("/home/me/bin"))])).report();
    let t = report.result.as_ref().unwrap();
    assert_eq!(t.source, Source::Path);
    assert_eq!(t.root, old.canonicalize().unwrap(), "the symlink's target decides the root");
    assert_eq!(t.version.to_string(), "12.1.105");
}

#[test]
fn every_real_version_output_parses() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nvcc-version");
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(version) = name.strip_suffix(".txt") else { continue };
        let fs = Fake::new();
        let nvcc = fs.nvcc_of("/x/bin/nvcc", version);
        let t = probe(fs.env(&[("NVCC", &nvcc)])).find().unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(t.version().to_string(), version.trim_end_matches("-windows"));
        seen += 1;
    }
    assert!(seen >= 8, "fixtures from 10.2 to 13.x");
}

#[test]
fn cuda_path_missing_file_or_empty_each_get_their_own_error() {
    let fs = Fake::new();
    // A usable toolkit on PATH must not be silently used instead.
    fs.nvidia_root("/usr/local/cuda-12.6", "12.6.77");
    let empty = fs.path("/empty");
    std::fs::create_dir_all(&empty).unwrap();
    let file = fs.file("/usr/local/cuda-12.6/README", "x");
    let nvcc_file = fs.path("/usr/local/cuda-12.6/bin/nvcc");
    let cases: [(&Path, &str, &str); 4] = [
        (&fs.path("/nope"), "does not exist", "point CUDA_PATH at a toolkit root"),
        (&file, "is a file, not a toolkit root directory", "point CUDA_PATH at a toolkit root"),
        (&empty, "holds no nvcc", "point CUDA_PATH at a toolkit root"),
        (&nvcc_file, "is a file", "CUDA_PATH names nvcc itself; set CUDA_PATH="),
    ];
    for (value, why, fix) in cases {
        let err = probe(fs.env(&[("CUDA_PATH", value)])).find().unwrap_err();
        assert!(matches!(err, Error::Explicit(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("the CUDA toolkit named by CUDA_PATH={}", value.display())), "{msg}");
        assert!(msg.contains(why), "{why:?} in {msg}");
        assert!(msg.contains(fix), "{fix:?} in {msg}");
        assert!(msg.contains("or unset CUDA_PATH to use CUDA 12.6"), "the alternative is named: {msg}");
    }
}

#[test]
fn explicit_nvcc_out_of_range_is_an_error_not_a_fallback() {
    let fs = Fake::new();
    fs.nvidia_root("/usr/local/cuda", "12.8.61");
    let old = fs.nvcc_of("/old/bin/nvcc", "11.2.152");
    let mut p = probe(fs.env(&[("NVCC", &old)]));
    let err = p.version_req(">=12").find().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Explicit(_)));
    assert!(msg.contains("NVCC=") && msg.contains("version 11.2.152 does not satisfy >=12"), "{msg}");
    assert!(msg.contains("fix: point NVCC at a toolkit matching >=12"), "{msg}");
}

#[test]
fn conflicting_explicit_variables_warn_and_the_first_wins() {
    let fs = Fake::new();
    let a = fs.nvidia_root("/a", "12.8.61");
    let b = fs.nvidia_root("/b", "12.1.105");
    let report = probe(fs.env(&[("CUDA_PATH", &a), ("CUDA_HOME", &b)])).report();
    assert_eq!(report.result.as_ref().unwrap().source, Source::RootVar("CUDA_PATH".into()));
    assert!(report
        .checks
        .iter()
        .any(|c| c.name == "explicit" && c.status == Status::Warn && c.message.contains("CUDA_HOME")));
}

#[test]
fn nothing_found_lists_every_place_and_the_fix() {
    let fs = Fake::new();
    let err = probe(fs.env(&[("PATH", &fs.path("/bin"))])).find().unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
    let msg = err.to_string();
    for place in [
        "NVCC (unset)",
        "CUDA_PATH (unset)",
        "nvcc on PATH",
        "/usr/local/cuda",
        "CONDA_PREFIX",
        "site-packages",
        "pkg-config",
        "fix: install a CUDA toolkit",
    ] {
        assert!(msg.contains(place), "{place:?} missing from {msg}");
    }
}

#[test]
fn hanging_nvcc_is_killed_and_named() {
    let fs = Fake::new();
    let nvcc = fs.exe("/hang/bin/nvcc", "#!/bin/sh\nexec sleep 600\n");
    let start = Instant::now();
    let mut p = probe(fs.env(&[("NVCC", &nvcc)]));
    let err = p.tool_timeout(Duration::from_secs(2)).find().unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    let msg = err.to_string();
    assert!(msg.contains(&format!("{} --version` did not finish within 2 s", nvcc.display())), "{msg}");
}

#[test]
fn nvcc_printing_garbage_or_failing_is_a_clear_refusal() {
    let fs = Fake::new();
    let garbage = fs.exe("/g/bin/nvcc", "#!/bin/sh\nprintf '\\377\\376 not a version\\n'\n");
    let err = probe(fs.env(&[("NVCC", &garbage)])).find().unwrap_err().to_string();
    assert!(err.contains("version unknown") && err.contains("nvcc --version output"), "{err}");
    let failing = fs.exe("/f/bin/nvcc", "#!/bin/sh\necho 'cannot execute' >&2\nexit 3\n");
    let err = probe(fs.env(&[("NVCC", &failing)])).find().unwrap_err().to_string();
    assert!(err.contains("failed (exit status: 3): cannot execute"), "{err}");
}

#[test]
fn directives_are_complete_and_deterministic() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "12.1.105");
    let env = || fs.env(&[("CUDA_PATH", &root), ("PATH", &fs.path("/bin"))]);
    let render = || {
        let mut cuda = probe(env()).find().unwrap();
        lines(&cuda.link_cudart(Cudart::Static).link_lib("cudart").link_driver().directives().unwrap())
    };
    let out = render();
    assert_eq!(out, render(), "same inputs, same lines, same order");
    for expected in [
        "cargo::rustc-cfg=cuda",
        "cargo::rustc-cfg=cuda_version=\"12.1\"",
        "cargo::rustc-cfg=cuda_ge_11_8",
        "cargo::rustc-cfg=cuda_ge_12_1",
        "cargo::rustc-check-cfg=cfg(cuda)",
        "cargo::rustc-check-cfg=cfg(cuda_ge_13_5)",
        "cargo::rustc-link-lib=static=cudart_static",
        "cargo::rustc-link-lib=dylib=cudart",
        "cargo::rustc-link-lib=dylib=cuda",
        "cargo::rerun-if-env-changed=CUDA_PATH",
        "cargo::rerun-if-env-changed=NVCC",
    ] {
        assert!(out.contains(&expected.to_owned()), "{expected} missing from {out:#?}");
    }
    assert!(!out.iter().any(|l| l == "cargo::rustc-cfg=cuda_ge_12_2"), "no cfg above the found release");
    assert!(out
        .iter()
        .any(|l| l.starts_with("cargo::rustc-check-cfg=cfg(cuda_version, values(") && l.contains("\"13.5\"")));
    let stubs = root.canonicalize().unwrap().join("lib64/stubs");
    assert!(out.contains(&format!("cargo::rustc-link-search=native={}", stubs.display())));
    assert!(out.iter().any(|l| l.starts_with("cargo::rerun-if-changed=") && l.ends_with("cuda.h")));
    assert!(!out.iter().any(|l| l.contains("-rpath")), "rpath only when asked");
    // cfg lines come before link lines, rerun lines after.
    let pos = |prefix: &str| out.iter().position(|l| l.starts_with(prefix)).unwrap();
    assert!(pos("cargo::rustc-cfg") < pos("cargo::rustc-link-search"));
    assert!(pos("cargo::rustc-link-lib") < pos("cargo::rerun-if-changed"));
}

#[test]
fn missing_library_is_a_typed_error() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "12.1.105");
    let mut cuda = probe(fs.env(&[("CUDA_PATH", &root)])).find().unwrap();
    let err = cuda.link_lib("cublas").directives().unwrap_err();
    assert!(matches!(err, Error::LibraryNotFound { .. }));
    assert!(err.to_string().contains("CUDA library `cublas` not found"));
}

#[test]
fn toolkit_newer_than_the_tables_warns_and_still_works() {
    let fs = Fake::new();
    fs.nvcc("/future/bin/nvcc", "Cuda compilation tools, release 14.2, V14.2.10\n");
    fs.cuda_h("/future/include", 14020);
    fs.file("/future/lib64/libcudart.so", "");
    let cuda = probe(fs.env(&[("CUDA_PATH", &fs.path("/future"))])).find().unwrap();
    let out = lines(&cuda.directives().unwrap());
    assert!(out.contains(&"cargo::rustc-cfg=cuda_ge_14_2".to_owned()));
    assert!(out.contains(&"cargo::rustc-cfg=cuda_ge_13_5".to_owned()));
    assert!(out.contains(&"cargo::rustc-check-cfg=cfg(cuda_ge_14_2)".to_owned()));
    assert!(out.iter().any(|l| l.starts_with("cargo::warning=CUDA 14.2.10 is newer than")));
}

#[test]
fn invalid_range_is_reported_not_panicked() {
    let fs = Fake::new();
    let mut p = probe(fs.env(&[]));
    let err = p.version_req(">=twelve").find().unwrap_err();
    assert!(matches!(err, Error::InvalidVersionReq(_)));
    assert!(err.to_string().contains("\">=twelve\""), "{err}");
}

#[test]
fn range_with_patch_asks_nvcc_even_with_cuda_h() {
    let fs = Fake::new();
    fs.nvidia_root("/usr/local/cuda-12.6", "12.6.77");
    let mut p = probe(fs.env(&[]));
    let err = p.version_req(">=12.6.80").find().unwrap_err().to_string();
    assert!(err.contains("12.6.77 does not satisfy >=12.6.80"), "{err}");
    assert_eq!(fs.nvcc_runs(), 1);
}

#[test]
fn non_utf8_toolkit_path_is_an_error_for_directives() {
    use std::os::unix::ffi::OsStrExt;
    let fs = Fake::new();
    let weird = std::ffi::OsStr::from_bytes(b"/cuda-\xff");
    let rel = PathBuf::from(weird);
    let root = fs.dir.path().join(rel.strip_prefix("/").unwrap());
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let nvcc = fs.nvcc_of("/tmpnvcc", "12.1.105");
    std::fs::copy(&nvcc, root.join("bin/nvcc")).unwrap();
    std::fs::create_dir_all(root.join("lib64")).unwrap();
    std::fs::write(root.join("lib64/libcudart.so"), "").unwrap();
    let cuda = probe(fs.env(&[("CUDA_PATH", &root)])).find().unwrap();
    assert!(matches!(cuda.directives(), Err(Error::NonUtf8Path(_))));
}

#[test]
fn cross_compiling_links_the_target_libraries_not_the_hosts() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "12.8.61");
    fs.cuda_h("/usr/local/cuda/targets/sbsa-linux/include", 12080);
    fs.file("/usr/local/cuda/targets/sbsa-linux/lib/libcudart.so", "");
    let env = fs.env(&[
        ("TARGET", Path::new("aarch64-unknown-linux-gnu")),
        ("HOST", Path::new("x86_64-unknown-linux-gnu")),
        ("CUDA_PATH", &root),
    ]);
    let cuda = probe(env).find().unwrap();
    let t = cuda.toolkit();
    let real = root.canonicalize().unwrap();
    assert_eq!(t.lib_dirs, [real.join("targets/sbsa-linux/lib")]);
    assert_eq!(t.include_dirs, [real.join("targets/sbsa-linux/include")]);
    let out = lines(&cuda.directives().unwrap());
    assert!(!out.iter().any(|l| l.contains("x86_64-linux") || l.contains("lib64")), "{out:#?}");
}

#[test]
fn jetson_style_aarch64_linux_targets_dir() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda", "12.6.77");
    fs.cuda_h("/usr/local/cuda/targets/aarch64-linux/include", 12060);
    fs.file("/usr/local/cuda/targets/aarch64-linux/lib/libcudart.so", "");
    let env = fs.env(&[
        ("TARGET", Path::new("aarch64-unknown-linux-gnu")),
        ("HOST", Path::new("x86_64-unknown-linux-gnu")),
        ("CUDA_PATH", &root),
    ]);
    let t = probe(env).find().unwrap();
    assert_eq!(t.toolkit().lib_dirs, [root.canonicalize().unwrap().join("targets/aarch64-linux/lib")]);
}

#[test]
fn odd_variable_values_are_clear_errors() {
    let fs = Fake::new();
    // A list where one path is expected, and a relative path that names nothing.
    for value in ["/a/cuda:/b/cuda", "/a/cuda;/b/cuda", "relative/cuda"] {
        let err = probe(fs.env(&[("CUDA_PATH", Path::new(value))])).find().unwrap_err();
        assert!(matches!(err, Error::Explicit(_)), "{value}: {err:?}");
        assert!(err.to_string().contains(&format!("CUDA_PATH={value} is not usable: does not exist")), "{err}");
    }
    // Empty counts as unset: nothing explicit, so a plain "not found".
    let err = probe(fs.env(&[("CUDA_PATH", Path::new("")), ("PATH", &fs.path("/bin"))])).find().unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[test]
fn a_flooding_nvcc_is_drained_not_waited_for() {
    let fs = Fake::new();
    // 64 MiB of noise, then a version line the 4 MiB cap never reaches.
    let nvcc = fs.exe("/f/bin/nvcc", "#!/bin/sh\nhead -c 67108864 /dev/zero | tr '\\0' x\necho\necho 'Cuda compilation tools, release 12.1, V12.1.105'\n");
    let start = Instant::now();
    let mut p = probe(fs.env(&[("NVCC", &nvcc)]));
    let err = p.tool_timeout(Duration::from_secs(20)).find().unwrap_err().to_string();
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    assert!(err.contains("version unknown"), "{err}");
}

#[test]
fn a_build_with_an_explicit_toolkit_inspects_nothing_else() {
    let fs = Fake::new();
    let chosen = fs.nvidia_root("/chosen", "12.8.61");
    fs.nvidia_root("/usr/local/cuda-12.6", "12.6.77");
    fs.nvidia_root("/opt/cuda", "12.1.105");
    let cuda = probe(fs.env(&[("CUDA_PATH", &chosen)])).find().unwrap();
    assert_eq!(cuda.toolkit().source, Source::RootVar("CUDA_PATH".into()));
    assert_eq!(fs.nvcc_runs(), 1, "only the chosen toolkit's nvcc ran");
    // The doctor still sees everything.
    let report = probe(fs.env(&[("CUDA_PATH", &chosen)])).report();
    assert_eq!(report.search.candidates.len(), 3);
    // And when the explicit one fails, the error names the others.
    let err = probe(fs.env(&[("CUDA_PATH", &fs.path("/nope"))])).find().unwrap_err().to_string();
    assert!(err.contains("CUDA 12.6") && err.contains("CUDA 12.1"), "{err}");
}
