//! Hostile source trees against the compile stage, with real nvcc 13.5: generated file names
//! (keywords, unicode, digits, punctuation, near-collisions, injections), odd files and
//! directories. Each gets a compiling module with unique names or one clear error before
//! nvcc runs; nothing is injected, nothing is lost, nothing stale is trusted.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{counting_launcher, real_nvcc, real_root, take_log};
use cuda_build::{Cuda, Env, Error, PathProblem, Probe};

/// A probe of real CUDA 13.5 whose every nvcc goes through a counting launcher in `logs`.
fn cuda(logs: &Path) -> Option<Cuda> {
    let nvcc = real_nvcc("13.5")?;
    let launcher = counting_launcher(logs, "0");
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
        ("CUDA_BUILD_LAUNCHER", launcher),
    ]);
    Some(Probe::new().env(env).find().unwrap())
}

fn kernel(name: &str) -> String {
    // Every kernel distinct, so a lost or swapped output would show in its entry name.
    let h = name.bytes().fold(0u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("extern \"C\" __global__ void k{h:x}(int* x) {{ x[0] = 1; }}\n")
}

const KEYWORDS: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "crate",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "async",
    "await",
    "dyn",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
    "union",
    "macro_rules",
    "raw",
    "safe",
    "___",
];

/// Names with only characters nvcc and cargo carry: keywords, digits, unicode, punctuation,
/// long ones, and designed near-collisions (listed in [`COLLIDING`]).
fn safe_names() -> Vec<String> {
    let mut v: Vec<String> = KEYWORDS.iter().map(|s| s.to_string()).collect();
    v.extend(
        ["0", "1d", "2d", "007", "9lives", "x0", "x_0", "r#type", "k.tmp1-0", "k", "k.tmp", "k.tmpl"].map(String::from),
    );
    v.extend(
        ["ä", "ö", "日本語", "rocket 🚀", "Ünïcödé", "ß", "ﬁ", "é", "e\u{301}", "Ω", "ι", "ǅ", "ٯ"].map(String::from),
    );
    let punct = [
        " ", "-", ".", "'", ";", "&", "|", "(", ")", "[", "]", "{", "}", "#", "~", "!", "%", "=", "+", "@", "^", "*",
        "?", "<", ">", ":",
    ];
    for (i, p) in punct.iter().enumerate() {
        v.push(format!("p{i}{p}q"));
        v.push(format!("{p}lead{i}"));
    }
    v.push("x".repeat(200));
    v.push(format!("{}y", "x".repeat(199)));
    for i in 0..60 {
        v.push(format!("gen{i}-{}", ["mix", "Mix", "MIX", "m.i.x", "m i x"][i % 5]));
    }
    // Hidden files are kernels too (`.hidden.cu`).
    v.push(".hidden".into());
    v.extend(COLLIDING.iter().flat_map(|(a, b)| [a.to_string(), b.to_string()]));
    v.sort();
    v.dedup();
    v
}

/// Pairs that must be refused as one module name.
const COLLIDING: &[(&str, &str)] = &[
    ("a-b", "a_b"),
    ("A", "a"),
    ("sub/k", "sub_k"),
    ("ä_", "ue4_"),
    ("Box", "box"),
    ("Self", "self"),
    ("static", "static_"),
    ("_", "__"),
];

/// Names that nvcc's shell, its fatbinary step or a cargo directive line would misread.
const UNSAFE: &[&str] = &[
    "nl\nx",
    "evil\ncargo::rustc-cfg=pwned",
    "cr\rx",
    "x$(touch PWNED)",
    "bt`touch PWNED`",
    "dq\"x",
    "bs\\x",
    "tab\tx",
    "comma,x",
    "brace{a,b}",
    "ctl\u{1}x",
    "dollar$HOME",
];

#[test]
fn two_hundred_generated_names_give_unique_modules_that_compile_or_one_clear_error() {
    let logs = tempfile::tempdir().unwrap();
    let Some(cuda) = cuda(logs.path()) else { return };
    let dir = tempfile::Builder::new().prefix("hostile names ").tempdir().unwrap();
    let src = dir.path().join("kernels");
    let names = safe_names();
    assert!(names.len() >= 200, "{}", names.len());
    for n in &names {
        let p = src.join(format!("{n}.cu"));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, kernel(n)).unwrap();
    }
    let out = dir.path().join("out");
    // Each collision is refused before nvcc, naming both files; drop one and go on.
    let mut refused: Vec<BTreeSet<String>> = Vec::new();
    let compiled = loop {
        match cuda.kernels().dir(&src).out_dir(&out).ptx().arch("75").compile() {
            Ok(c) => break c,
            Err(Error::KernelCollision { shared, files }) => {
                assert!(take_log(logs.path(), "runs.log").is_empty(), "nvcc ran before the collision was found");
                assert_eq!(files.len(), 2, "{shared}: {files:?}");
                let rel: BTreeSet<String> = files
                    .iter()
                    .map(|f| f.strip_prefix(&src).unwrap().with_extension("").to_string_lossy().into_owned())
                    .collect();
                fs::remove_file(&files[1]).unwrap();
                refused.push(rel);
            }
            Err(e) => panic!("{e}"),
        }
    };
    let expected: Vec<BTreeSet<String>> =
        COLLIDING.iter().map(|(a, b)| [a.to_string(), b.to_string()].into_iter().collect()).collect();
    for pair in &expected {
        assert!(refused.contains(pair), "{pair:?} not refused; refused: {refused:?}");
    }
    assert_eq!(refused.len(), expected.len(), "only the designed collisions: {refused:?}");
    assert_eq!(compiled.kernels.len(), names.len() - expected.len());

    // Unique modules, every output holding its own kernel.
    let idents: BTreeSet<&str> = compiled.kernels.iter().map(|k| k.ident.as_str()).collect();
    assert_eq!(idents.len(), compiled.kernels.len());
    for k in &compiled.kernels {
        let name = k.source.strip_prefix(&src).unwrap().with_extension("");
        let want = kernel(&name.to_string_lossy());
        let entry = want.split("void ").nth(1).unwrap().split('(').next().unwrap();
        assert_eq!(k.entries, [entry], "{}", k.source.display());
    }
    // The module compiles, without a warning, in every edition that has keywords of its own.
    let module = fs::read_to_string(&compiled.module).unwrap();
    assert_eq!(module.matches("\npub mod ").count(), compiled.kernels.len());
    for edition in ["2015", "2018", "2021", "2024"] {
        rustc_check(&compiled.module, edition);
    }
    // Every directive is one line.
    for d in compiled.directives() {
        assert!(!d.render().contains('\n'), "{d:?}");
    }
}

/// Compiles `module` as a library with rustc, warnings denied.
fn rustc_check(module: &Path, edition: &str) {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.rs");
    fs::write(&lib, format!("include!({:?});\n", module.display().to_string())).unwrap();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args(["--crate-type", "lib", "--emit", "metadata", "-D", "warnings", "--edition", edition, "--out-dir"])
        .arg(dir.path())
        .arg(&lib)
        .output()
        .unwrap();
    assert!(out.status.success(), "edition {edition}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unsafe_names_are_refused_before_nvcc_and_nothing_runs() {
    let logs = tempfile::tempdir().unwrap();
    let Some(cuda) = cuda(logs.path()) else { return };
    for name in UNSAFE {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("kernels");
        fs::create_dir_all(&src).unwrap();
        let file = src.join(format!("{name}.cu"));
        fs::write(&file, kernel(name)).unwrap();
        fs::write(src.join("fine.cu"), kernel("fine")).unwrap();
        let err = cuda.kernels().dir(&src).out_dir(dir.path().join("out")).arch("75").compile().unwrap_err();
        let msg = err.to_string();
        match &err {
            Error::KernelPath { path, problem: PathProblem::Unsafe(_), .. } => assert_eq!(path, &file, "{msg}"),
            other => panic!("{name:?}: {other}"),
        }
        assert!(msg.starts_with("kernel source \""), "{msg}");
        assert!(msg.contains("\n  fix: rename it"), "{msg}");
        // The name is shown escaped: the message's lines are its own.
        assert_eq!(msg.lines().count(), 2, "{msg}");
        assert!(take_log(logs.path(), "runs.log").is_empty(), "{name:?}: nvcc ran");
        assert!(!dir.path().join("out").exists() || fs::read_dir(dir.path().join("out/kernels")).is_err());
        assert!(!src.join("PWNED").exists() && !dir.path().join("PWNED").exists());
    }
}

#[test]
fn odd_files_and_directories_each_get_a_clear_error_or_are_followed() {
    let logs = tempfile::tempdir().unwrap();
    let Some(cuda) = cuda(logs.path()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("kernels");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.cu"), kernel("a")).unwrap();
    let out = dir.path().join("out");
    let build = || cuda.kernels().dir(&src).out_dir(&out).ptx().arch("75").compile();
    let problem = |e: Error| match e {
        Error::KernelPath { path, problem, .. } => (path, problem),
        other => panic!("{other}"),
    };

    // A FIFO named like a kernel would hang nvcc.
    let fifo = src.join("pipe.cu");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    assert_eq!(problem(build().unwrap_err()), (fifo.clone(), PathProblem::NotAFile));
    fs::remove_file(&fifo).unwrap();
    // A dangling link.
    std::os::unix::fs::symlink(dir.path().join("nowhere.cu"), src.join("dangling.cu")).unwrap();
    assert!(matches!(problem(build().unwrap_err()).1, PathProblem::Missing));
    fs::remove_file(src.join("dangling.cu")).unwrap();
    // A name that is not UTF-8 is a kernel's problem, named as such.
    use std::os::unix::ffi::OsStrExt;
    let latin1 = src.join(std::ffi::OsStr::from_bytes(b"caf\xe9.cu"));
    fs::write(&latin1, kernel("latin1")).unwrap();
    let err = build().unwrap_err();
    assert!(err.to_string().starts_with("kernel source \"") && err.to_string().contains("is not valid UTF-8"), "{err}");
    assert_eq!(problem(err), (latin1.clone(), PathProblem::NonUtf8));
    fs::remove_file(&latin1).unwrap();
    // A directory that does not exist (it would also rerun the build script every time).
    let missing = cuda.kernels().dir(dir.path().join("no-such-dir")).out_dir(&out).ptx().arch("75").compile();
    let (p, pr) = problem(missing.unwrap_err());
    assert_eq!((p, pr), (dir.path().join("no-such-dir"), PathProblem::Missing));
    // A kernel 140 directories deep.
    let mut deep = src.join("deep");
    for _ in 0..140 {
        deep = deep.join("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("k.cu"), kernel("deep")).unwrap();
    assert!(matches!(problem(build().unwrap_err()).1, PathProblem::TooDeep(_)));
    fs::remove_dir_all(src.join("deep")).unwrap();
    assert!(take_log(logs.path(), "runs.log").is_empty(), "nvcc ran before an error");

    // A symlinked directory is followed; a link back to an ancestor is skipped with a warning.
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(elsewhere.join("linked.cu"), kernel("linked")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, src.join("via-link")).unwrap();
    std::os::unix::fs::symlink(&src, src.join("loop")).unwrap();
    let c = build().unwrap();
    let idents: Vec<&str> = c.kernels.iter().map(|k| k.ident.as_str()).collect();
    assert_eq!(idents, ["a", "via_link_linked"]);
    assert!(c.warnings.iter().any(|w| w.contains("loop") && w.contains("not followed")), "{:?}", c.warnings);

    // An empty source and one without kernels compile, with no "compressed" warning.
    fs::write(src.join("empty.cu"), "").unwrap();
    fs::write(src.join("host_only.cu"), "static int helper() { return 1; }\n").unwrap();
    for format in ["ptx", "fatbin"] {
        let mut k = cuda.kernels();
        k.dir(&src).out_dir(dir.path().join(format)).arch("75");
        if format == "ptx" {
            k.ptx();
        }
        let c = k.compile().unwrap();
        assert!(!c.warnings.iter().any(|w| w.contains("compressed")), "{format}: {:?}", c.warnings);
        let empty = c.kernels.iter().find(|k| k.ident == "empty").unwrap();
        assert!(empty.entries.is_empty());
    }
}

#[test]
fn a_neighbours_temp_like_name_is_never_deleted() {
    let logs = tempfile::tempdir().unwrap();
    let Some(cuda) = cuda(logs.path()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("kernels");
    fs::create_dir_all(&src).unwrap();
    for n in ["k", "k.tmp1-0", "k.tmp99999-3", ".cuda-build-tmp-1-0"] {
        fs::write(src.join(format!("{n}.cu")), kernel(n)).unwrap();
    }
    let out = dir.path().join("out");
    let first = cuda.kernels().dir(&src).out_dir(&out).arch("75").compile().unwrap();
    assert_eq!(first.kernels.len(), 4);
    // Recompile k alone: its neighbours' outputs stay.
    fs::write(src.join("k.cu"), kernel("k2")).unwrap();
    let f = fs::File::options().append(true).open(src.join("k.cu")).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    let again = cuda.kernels().dir(&src).out_dir(&out).arch("75").compile().unwrap();
    let recompiled: Vec<&str> = again.kernels.iter().filter(|k| k.recompiled).map(|k| k.ident.as_str()).collect();
    assert_eq!(recompiled, ["k"]);
    for k in &again.kernels {
        assert!(k.output.is_file(), "{} lost", k.output.display());
    }
}

#[test]
fn every_failing_kernel_is_shown_once_with_the_flags_nvcc_adds() {
    let nvcc = match real_nvcc("13.5") {
        Some(n) => n,
        None => return,
    };
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
        ("NVCC_APPEND_FLAGS", PathBuf::from("-DFROM_APPEND=1")),
    ]);
    let cuda = Probe::new().env(env).find().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("kernels");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("bad1.cu"), "__global__ void k(int* x) { x[0] = undefined_one; }\n").unwrap();
    fs::write(src.join("bad2.cu"), "__global__ void k(int* x) { x[0] = undefined_two; }\n").unwrap();
    fs::write(src.join("good.cu"), kernel("good")).unwrap();
    let err = cuda.kernels().dir(&src).out_dir(dir.path().join("out")).ptx().arch("75").compile().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(&err, Error::Kernels(e) if e.len() == 2), "{msg}");
    assert!(msg.starts_with("2 kernels failed to compile:"), "{msg}");
    assert_eq!(msg.matches("error: identifier \"undefined_one\" is undefined").count(), 1, "{msg}");
    assert_eq!(msg.matches("error: identifier \"undefined_two\" is undefined").count(), 1, "{msg}");
    assert_eq!(msg.matches("  command: NVCC_APPEND_FLAGS=\"-DFROM_APPEND=1\" ").count(), 2, "{msg}");

    // A long arch spec is echoed cut, not whole.
    let long = "7".repeat(100_000);
    let err = cuda.kernels().dir(&src).out_dir(dir.path().join("out")).arch(&long).compile().unwrap_err();
    let msg = err.to_string();
    assert!(msg.len() < 2_000, "{} characters", msg.len());
    assert!(msg.contains("(100000 characters)"), "{msg}");
}

#[test]
fn a_launcher_that_writes_nothing_is_named_and_nvcc_runs_directly() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let liar = dir.path().join("liar.sh");
    fs::write(&liar, "#!/bin/sh\nexit 0\n").unwrap();
    common::make_executable(&liar);
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
        ("CUDA_BUILD_LAUNCHER", liar.clone()),
    ]);
    let cuda = Probe::new().env(env).find().unwrap();
    let src = dir.path().join("kernels");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.cu"), kernel("a")).unwrap();
    fs::write(src.join("b.cu"), kernel("b")).unwrap();
    let c = cuda.kernels().dir(&src).out_dir(dir.path().join("out")).ptx().arch("75").compile().unwrap();
    assert!(c.kernels.iter().all(|k| k.output.is_file() && k.entries.len() == 1));
    let warned: Vec<&String> = c.warnings.iter().filter(|w| w.contains("liar.sh")).collect();
    assert_eq!(warned.len(), 1, "one warning per build: {:?}", c.warnings);
    assert!(warned[0].contains("failed on 2 of 2 kernels") && warned[0].contains("wrote no output"), "{warned:?}");
}

/// The tests that build a crate share one target directory: one cargo at a time.
static CARGO_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A fresh crate whose build.rs compiles `kernels/` to PTX with cuda-build, and whose main
/// prints every module's name and entry names (and `cfg pwned` if a cfg was injected).
fn consumer(dir: &Path) {
    let repo = env!("CARGO_MANIFEST_DIR");
    fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"hostile\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[build-dependencies]\ncuda-build = {{ path = {repo:?} }}\n"),
    )
    .unwrap();
    fs::write(
        dir.join("build.rs"),
        "fn main() {\n    let cuda = cuda_build::Probe::new().find_or_exit();\n    cuda.kernels().dir(\"kernels\").ptx().arch(\"75\").compile_or_exit();\n    cuda.emit_or_exit();\n}\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("src/main.rs"),
        "#![allow(unexpected_cfgs)]\nmod kernels {\n    include!(concat!(env!(\"OUT_DIR\"), \"/kernels.rs\"));\n}\n\nfn main() {\n    for (name, _, entries) in kernels::MODULES {\n        println!(\"{name} {entries:?}\");\n    }\n    if cfg!(pwned) {\n        println!(\"cfg pwned\");\n    }\n}\n",
    )
    .unwrap();
}

fn cargo(dir: &Path, args: &[&str], vars: &[(&str, &Path)], wrap: Option<&[&str]>) -> (bool, String, String) {
    let mut cmd = match wrap {
        Some(w) => {
            let mut c = Command::new(w[0]);
            c.args(&w[1..]).arg(env!("CARGO"));
            c
        }
        None => Command::new(env!("CARGO")),
    };
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hostile"));
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    let nvcc = real_nvcc("13.5").unwrap();
    cmd.env("CUDA_PATH", real_root(&nvcc));
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file below `dir` but `target/`, with its content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().unwrap() != "target" {
                stack.push(p);
            } else if p.is_file() {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The build script's directive output (`target/hostile/debug/build/hostile-*/output`).
fn build_output() -> String {
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hostile/debug/build");
    let mut text = String::new();
    for e in fs::read_dir(build).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("hostile-") {
            text.push_str(&fs::read_to_string(e.path().join("output")).unwrap_or_default());
        }
    }
    text
}

#[test]
fn through_cargo_names_cannot_inject_and_an_edit_during_the_build_is_recompiled() {
    let Some(_) = real_nvcc("13.5") else { return };
    let _serial = CARGO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::Builder::new().prefix("hostile crate ").tempdir().unwrap();
    let root = dir.path();
    consumer(root);
    let k = root.join("kernels");
    fs::create_dir_all(&k).unwrap();
    fs::write(k.join("a.cu"), kernel("a")).unwrap();

    // A newline in a name would end a directive line and start another.
    let evil = k.join("evil\ncargo::rustc-cfg=pwned.cu");
    fs::write(&evil, kernel("evil")).unwrap();
    let (ok, _, stderr) = cargo(root, &["build"], &[], None);
    assert!(!ok);
    assert!(stderr.contains("error: hostile@0.0.0: kernel source \""), "{stderr}");
    assert!(stderr.contains("evil\\ncargo::rustc-cfg=pwned.cu\" contains '\\n'"), "{stderr}");
    assert!(!build_output().lines().any(|l| l.starts_with("cargo::rustc-cfg=pwned")), "{}", build_output());
    fs::remove_file(&evil).unwrap();
    // `$(...)` would run in the shell nvcc uses for its steps.
    let subst = k.join("x$(touch PWNED).cu");
    fs::write(&subst, kernel("x")).unwrap();
    let (ok, _, stderr) = cargo(root, &["build"], &[], None);
    assert!(!ok && stderr.contains("contains '$'"), "{stderr}");
    fs::remove_file(&subst).unwrap();
    assert!(!snapshot(root).iter().any(|(p, _)| p.ends_with("PWNED")));

    // Keywords, `_` and a neighbour's temp-like name: a valid module, nothing deleted.
    for n in ["box", "true", "yield", "_", "k", "k.tmp1-0"] {
        fs::write(k.join(format!("{n}.cu")), kernel(n)).unwrap();
    }
    let before = snapshot(root);
    let (ok, stdout, stderr) = cargo(root, &["run", "-q"], &[], None);
    assert!(ok, "{stderr}");
    let names: Vec<&str> = stdout.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(names, ["__", "a", "box_", "k", "k_tmp1_0", "true_", "yield_"], "{stdout}");
    assert!(!stdout.contains("cfg pwned"));
    assert_eq!(snapshot(root), before, "nothing outside OUT_DIR is written");

    // An edit saved after nvcc read the source, before the build ended.
    let shim = root.join("shim.sh");
    fs::write(
        &shim,
        format!(
            "#!/bin/sh\n\"$@\" || exit $?\nif [ ! -e '{flag}' ]; then\n  : > '{flag}'\n  printf 'extern \"C\" __global__ void edited_k(int* x) {{ x[0] = 2; }}\\n' > '{k}'\nfi\n",
            flag = root.join("edited").display(),
            k = k.join("k.cu").display()
        ),
    )
    .unwrap();
    common::make_executable(&shim);
    let f = fs::File::options().append(true).open(k.join("k.cu")).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(2)).unwrap();
    drop(f);
    let launcher: [(&str, &Path); 1] = [("CUDA_BUILD_LAUNCHER", &shim)];
    let (ok, stdout, stderr) = cargo(root, &["run", "-q"], &launcher, None);
    assert!(ok, "{stderr}");
    assert!(root.join("edited").exists(), "the shim edited k.cu");
    assert!(stdout.contains("k [\"k"), "this build compiled what nvcc read: {stdout}");
    // The next build, same environment: cargo reruns the build script for the edited file,
    // and cuda-build recompiles it instead of trusting the stamp.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let (ok, stdout, stderr) = cargo(root, &["run", "-q"], &launcher, None);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("k [\"edited_k\"]"), "the edit is compiled: {stdout}");
}

#[test]
fn through_cargo_unreadable_directories_are_errors_not_omissions() {
    let Some(_) = real_nvcc("13.5") else { return };
    let _serial = CARGO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // Root reads everything: drop the capabilities that let it, for cargo and its children.
    let root_user = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let wrap: Option<&[&str]> = if root_user {
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root without setpriv");
            return;
        }
        Some(&["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"])
    } else {
        None
    };
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix("hostile crate ").tempdir().unwrap();
    let root = dir.path();
    consumer(root);
    let k = root.join("kernels");
    fs::create_dir_all(k.join("sub")).unwrap();
    fs::write(k.join("a.cu"), kernel("a")).unwrap();
    fs::write(k.join("sub/b.cu"), kernel("b")).unwrap();
    fs::set_permissions(k.join("sub"), fs::Permissions::from_mode(0o000)).unwrap();
    let (ok, _, stderr) = cargo(root, &["build"], &[], wrap);
    fs::set_permissions(k.join("sub"), fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!ok, "a kernel directory that cannot be read fails the build: {stderr}");
    assert!(
        stderr.contains("kernel directory \"") && stderr.contains("sub\" cannot be read (Permission denied"),
        "{stderr}"
    );

    fs::set_permissions(&k, fs::Permissions::from_mode(0o000)).unwrap();
    let (ok, _, stderr) = cargo(root, &["build"], &[], wrap);
    fs::set_permissions(&k, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!ok);
    assert!(stderr.contains("kernels\" cannot be read (Permission denied"), "{stderr}");
    assert!(!stderr.contains("no CUDA kernel sources"), "{stderr}");
}
