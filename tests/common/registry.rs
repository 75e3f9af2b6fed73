//! A crate from crates.io, unpacked as cargo downloads it: shared by tests/candle.rs and the
//! benchmarks (`#[path]`), which build real client crates fetched at run time, not vendored.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `name` at exactly `version`, fetched through a scratch manifest depending on it (`cargo
/// fetch` in `scratch`); `cargo metadata` says where cargo unpacked it. `cargo` makes the
/// command (the caller's cargo, its environment cleaned as the caller needs).
pub fn fetch_crate(scratch: &Path, name: &str, version: &str, cargo: impl Fn() -> Command) -> PathBuf {
    fs::create_dir_all(scratch.join("src")).unwrap();
    fs::write(
        scratch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\n{name} = \"={version}\"\n"
        ),
    )
    .unwrap();
    fs::write(scratch.join("src/lib.rs"), "").unwrap();
    let run = |args: &[&str]| {
        let out = cargo().args(args).current_dir(scratch).output().unwrap();
        assert!(out.status.success(), "cargo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    run(&["fetch"]);
    let meta: serde_json::Value =
        serde_json::from_slice(&run(&["metadata", "--format-version", "1", "--offline"])).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name} {version} in the scratch crate's metadata"));
    PathBuf::from(pkg["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf()
}

/// Copies the tree `from` to `to` (files and directories).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every `.cu` below `dir`, as paths relative to `base`.
pub fn cu_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            cu_files(base, &p, out);
        } else if p.extension().is_some_and(|x| x == "cu") {
            out.push(p.strip_prefix(base).unwrap().display().to_string());
        }
    }
}
