//! Answers of tools (`nvcc --version`, `nvcc --list-gpu-code`) kept in `OUT_DIR`, keyed by
//! the tool's path, size and mtime, so a re-run build script spawns no nvcc to re-learn them.

use std::fs;
use std::path::{Path, PathBuf};

use crate::env::Env;

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn identity(tool: &Path) -> Option<String> {
    Some(format!("{}|{}", tool.display(), crate::fsx::file_sig(tool)?))
}

fn file(env: &Env, query: &str, tool: &Path) -> Option<(PathBuf, String)> {
    let out = PathBuf::from(env.cargo_var("OUT_DIR")?);
    let key = format!("{query}|{}", identity(tool)?);
    Some((out.join("cuda-build-cache").join(format!("{:016x}", fnv(&key))), key))
}

/// The cached answer of `query` for `tool`, if any and still valid.
fn get(env: &Env, query: &str, tool: &Path) -> Option<String> {
    let (path, key) = file(env, query, tool)?;
    let text = fs::read_to_string(path).ok()?;
    let (first, rest) = text.split_once('\n')?;
    (first == key).then(|| rest.to_owned())
}

/// Stores an answer; failures only cost a spawn next time.
fn put(env: &Env, query: &str, tool: &Path, value: &str) {
    let Some((path, key)) = file(env, query, tool) else { return };
    let _ = crate::fsx::write_atomic(&path, format!("{key}\n{value}").as_bytes());
}

/// The cached answer of `query` for `tool`, else `compute`'s, stored for next time: the one
/// way a tool's answer is asked (a failure is not cached).
pub(crate) fn get_or<E>(
    env: &Env,
    query: &str,
    tool: &Path,
    compute: impl FnOnce() -> Result<String, E>,
) -> Result<String, E> {
    if let Some(v) = get(env, query, tool) {
        return Ok(v);
    }
    let v = compute()?;
    put(env, query, tool, &v);
    Ok(v)
}
