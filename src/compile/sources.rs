//! Which kernel sources a build compiles, and the names they get: found, checked and
//! named before any nvcc runs, so a hostile tree gets one clear error, never a silent
//! omission, a hang, a name rustc rejects, or two kernels writing one file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, PathProblem};

/// One kernel source: where it is, where its output goes, its module's name.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub output: PathBuf,
    pub ident: String,
}

/// Below this many directory levels a tree is taken for a mistake (a path this deep is
/// near the OS's length limit anyway).
const MAX_DEPTH: usize = 128;

/// Characters refused in any path given to nvcc: cargo directives end at a line break, and
/// nvcc runs its sub-steps through a shell with paths in double quotes, where these
/// characters are still interpreted (`x$(touch PWNED).cu` ran the command).
const UNSAFE: &[char] = &['\n', '\r', '"', '`', '$', '\\'];

/// Checks a path nvcc or cargo will be given: UTF-8 (cargo directives carry only text)
/// and free of characters a shell or a directive line would interpret.
pub(crate) fn check_path(path: &Path, what: &'static str) -> Result<(), Error> {
    let bad = |problem| Err(Error::KernelPath { path: path.to_path_buf(), what, problem });
    let Some(text) = path.to_str() else { return bad(PathProblem::NonUtf8) };
    match text.chars().find(|c| UNSAFE.contains(c) || c.is_control()) {
        Some(c) => bad(PathProblem::Unsafe(c)),
        None => Ok(()),
    }
}

/// The sources below each dir (recursively, symlinked directories followed) and the given
/// files, with outputs under `out_dir` mirroring their relative paths, in a stable order.
/// Warnings (a directory link back to an ancestor, skipped) go to `warnings`.
pub(crate) fn collect(
    dirs: &[PathBuf],
    files: &[PathBuf],
    exclude: &[String],
    out_dir: &Path,
    ext: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Source>, Error> {
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new(); // (source, relative path)
    for dir in dirs {
        let meta = fs::metadata(dir).map_err(|e| unreadable(dir, "kernel directory", &e))?;
        if !meta.is_dir() {
            return Err(Error::KernelPath {
                path: dir.clone(),
                what: "kernel directory",
                problem: PathProblem::NotADirectory,
            });
        }
        let mut here = Vec::new();
        let mut ancestors = Vec::new();
        walk(dir, Path::new(""), 0, &mut ancestors, &mut here, warnings)?;
        here.retain(|rel| !excluded(rel, exclude));
        here.sort();
        found.extend(here.into_iter().map(|rel| (dir.join(&rel), rel)));
    }
    for file in files {
        let rel = PathBuf::from(file.file_name().unwrap_or_default());
        found.push((file.clone(), rel));
    }
    let mut sources = Vec::with_capacity(found.len());
    for (path, rel) in found {
        check_source(&path)?;
        let output = out_dir.join(&rel).with_extension(ext);
        sources.push(Source { ident: ident_for(&rel), path, output });
    }
    check_collisions(&sources)?;
    Ok(sources)
}

/// Whether `rel` (a path below a kernel directory) matches an exclude pattern: one with a
/// `/` against the whole relative path, one without against the file name.
fn excluded(rel: &Path, patterns: &[String]) -> bool {
    let whole = rel.to_string_lossy().replace('\\', "/");
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    patterns.iter().any(|p| if p.contains('/') { glob(p, &whole) } else { glob(p, &name) })
}

/// `*` (any run of characters but `/`) and `?` (one character but `/`); the rest literal.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == t[j] || (p[i] == '?' && t[j] != '/')) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star.filter(|_| t[mark] != '/') {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

fn unreadable(path: &Path, what: &'static str, e: &std::io::Error) -> Error {
    let problem = match e.kind() {
        std::io::ErrorKind::NotFound => PathProblem::Missing,
        _ => PathProblem::Unreadable(e.to_string()),
    };
    Error::KernelPath { path: path.to_path_buf(), what, problem }
}

/// Every `*.cu` below `dir/rel`. A directory that cannot be read is an error (its kernels
/// would vanish from the module while the build succeeds); a directory symlink pointing
/// back at an ancestor is skipped with a warning (everything below it is reached anyway).
fn walk(
    root: &Path,
    rel: &Path,
    depth: usize,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let dir = if rel.as_os_str().is_empty() { root.to_path_buf() } else { root.join(rel) };
    if depth > MAX_DEPTH {
        return Err(Error::KernelPath {
            path: dir,
            what: "kernel directory",
            problem: PathProblem::TooDeep(MAX_DEPTH),
        });
    }
    let canonical = fs::canonicalize(&dir).map_err(|e| unreadable(&dir, "kernel directory", &e))?;
    ancestors.push(canonical);
    let rd = fs::read_dir(&dir).map_err(|e| unreadable(&dir, "kernel directory", &e))?;
    for entry in rd {
        let entry = entry.map_err(|e| unreadable(&dir, "kernel directory", &e))?;
        let name = PathBuf::from(entry.file_name());
        let path = dir.join(&name);
        let file_type = entry.file_type().map_err(|e| unreadable(&path, "kernel directory entry", &e))?;
        // Symlinks are followed: to a directory, recursed into; to a file, a source.
        let is_dir = file_type.is_dir() || (file_type.is_symlink() && path.is_dir());
        if is_dir {
            let target = fs::canonicalize(&path).map_err(|e| unreadable(&path, "kernel directory", &e))?;
            if ancestors.contains(&target) {
                warnings.push(format!(
                    "{}: a directory link back to {}, not followed (its kernels are reached there)",
                    path.display(),
                    target.display()
                ));
                continue;
            }
            walk(root, &rel.join(&name), depth + 1, ancestors, out, warnings)?;
        } else if name.extension().is_some_and(|e| e == "cu") {
            out.push(rel.join(name));
        }
    }
    ancestors.pop();
    Ok(())
}

/// A source must be a readable regular file (a FIFO named `k.cu` would hang nvcc) with a
/// path that nvcc's shell and cargo's directives carry unchanged.
fn check_source(path: &Path) -> Result<(), Error> {
    let what = "kernel source";
    check_path(path, what)?;
    // nvcc names its intermediate files after the source and lists them to fatbinary as
    // `file=...,` options: a comma in the name ends the option (fatbin and object builds fail).
    if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(',')) {
        return Err(Error::KernelPath { path: path.to_path_buf(), what, problem: PathProblem::Unsafe(',') });
    }
    let meta = fs::metadata(path).map_err(|e| unreadable(path, what, &e))?;
    if !meta.is_file() {
        return Err(Error::KernelPath { path: path.to_path_buf(), what, problem: PathProblem::NotAFile });
    }
    // Opening a regular file never blocks; it tells a permission problem before nvcc does.
    fs::File::open(path).map_err(|e| unreadable(path, what, &e))?;
    Ok(())
}

/// Two sources sharing a module name (rustc's E0428) or an output file (one silently
/// overwriting the other) are refused, naming both.
fn check_collisions(sources: &[Source]) -> Result<(), Error> {
    let mut by_ident: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
    let mut by_output: BTreeMap<&Path, Vec<&Path>> = BTreeMap::new();
    for s in sources {
        by_ident.entry(&s.ident).or_default().push(&s.path);
        by_output.entry(&s.output).or_default().push(&s.path);
    }
    if let Some((out, files)) = by_output.into_iter().find(|(_, f)| f.len() > 1) {
        return Err(Error::KernelCollision {
            shared: format!("the output file {}", out.display()),
            files: dedup(files),
        });
    }
    if let Some((ident, files)) = by_ident.into_iter().find(|(_, f)| f.len() > 1) {
        return Err(Error::KernelCollision { shared: format!("the module name `{ident}`"), files: dedup(files) });
    }
    Ok(())
}

fn dedup(files: Vec<&Path>) -> Vec<PathBuf> {
    let set: BTreeSet<&Path> = files.into_iter().collect();
    set.into_iter().map(Path::to_path_buf).collect()
}

/// Words that cannot name a module in any edition: strict and reserved keywords (2015 to
/// 2024), the path keywords that have no raw form, and the weak keywords, kept out too.
const KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "macro_rules",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "raw",
    "ref",
    "return",
    "safe",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "union",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// The module name of a source: its path below the kernel directory without the extension,
/// lowercased, every other character `_` (non-ASCII as `u<hex>`, so `ä.cu` and `ö.cu` stay
/// apart); a leading digit, a lone `_` or a keyword gets an `_` (`2d` -> `_2d`, `box` -> `box_`).
pub(crate) fn ident_for(rel: &Path) -> String {
    let stem = rel.with_extension("");
    let mut s = String::new();
    for c in stem.to_string_lossy().chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if c.is_ascii() {
            s.push('_');
        } else {
            s.push_str(&format!("u{:x}", u32::from(c)));
        }
    }
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if s == "_" || KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A group name (`Kernels::name`) becomes `<name>.rs` and the folder `<name>/` in `OUT_DIR`:
/// one plain file name, so it cannot escape `OUT_DIR` or meet cuda-build's own files there.
pub(crate) fn check_group_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::KernelPath { path: PathBuf::from(name), what: "kernel group name", problem: PathProblem::BadName })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_are_valid_rust_and_keep_distinct_names_apart() {
        assert_eq!(ident_for(Path::new("vector_add.cu")), "vector_add");
        assert_eq!(ident_for(Path::new("sub/Soft-Max.cu")), "sub_soft_max");
        assert_eq!(ident_for(Path::new("2d.cu")), "_2d");
        assert_eq!(ident_for(Path::new("type.cu")), "type_");
        assert_eq!(ident_for(Path::new("box.cu")), "box_");
        assert_eq!(ident_for(Path::new("_.cu")), "__");
        assert_eq!(ident_for(Path::new("ä.cu")), "ue4");
        assert_ne!(ident_for(Path::new("ä.cu")), ident_for(Path::new("ö.cu")));
    }

    #[test]
    fn unsafe_paths_are_named() {
        for bad in ["a\nb.cu", "x$(touch P).cu", "a`b`.cu", "q\".cu", "b\\.cu", "cr\r.cu", "tab\t.cu"] {
            let e = check_path(Path::new(bad), "kernel source").unwrap_err();
            assert!(matches!(e, Error::KernelPath { problem: PathProblem::Unsafe(_), .. }), "{bad:?}: {e}");
        }
        for good in ["a b.cu", "ünï.cu", "k'q.cu", "a;b.cu", "a&b|c.cu", "(x).cu", "#h.cu", "~t.cu", "*.cu"] {
            check_path(Path::new(good), "kernel source").unwrap();
        }
    }

    #[test]
    fn exclude_patterns_match_names_or_relative_paths() {
        let ex = |rel: &str, pats: &[&str]| {
            excluded(Path::new(rel), &pats.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        };
        assert!(ex("moe_gemm.cu", &["moe_*.cu"]));
        assert!(ex("sub/moe_gemm.cu", &["moe_*.cu"]), "a name pattern matches at any depth");
        assert!(ex("moe/a.cu", &["moe/*"]));
        assert!(!ex("moe/deep/a.cu", &["moe/*"]), "* stops at /");
        assert!(ex("moe/deep/a.cu", &["moe/*/*.cu"]));
        assert!(!ex("affine.cu", &["moe_*.cu", "moe/*"]));
        assert!(ex("k1.cu", &["k?.cu"]) && !ex("k10.cu", &["k?.cu"]));
        assert!(glob("*", "") && glob("a*b*c", "aXbYc") && !glob("a*b", "a/b"));
    }

    #[test]
    fn group_names_are_plain_file_names() {
        for ok in ["kernels", "ptx", "moe-lib", "K_2"] {
            check_group_name(ok).unwrap();
        }
        for bad in ["", ".", "..", "a/b", ".hidden", "-x", "a b", "ä"] {
            assert!(check_group_name(bad).is_err(), "{bad:?}");
        }
    }
}
