//! Cargo directives: a typed list, rendered and printed in this one place.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::compat;
use crate::env::Env;
use crate::error::Error;

/// One instruction to cargo.
///
/// ```
/// let d = cuda_build::Directive::RerunIfEnvChanged("CUDA_PATH".into());
/// assert_eq!(d.render(), "cargo::rerun-if-env-changed=CUDA_PATH");
/// // A warning of several lines is several directives: no text starts one of its own.
/// let w = cuda_build::Directive::Warning("a\ncargo::rustc-cfg=x".into());
/// assert_eq!(w.render(), "cargo::warning=a\ncargo::warning=cargo::rustc-cfg=x");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Directive {
    /// `cargo::rustc-cfg=NAME` or `NAME="VALUE"`.
    Cfg {
        /// The cfg's name.
        name: String,
        /// Its value, for key-value cfgs.
        value: Option<String>,
    },
    /// `cargo::rustc-check-cfg=cfg(...)`: declares a cfg so consumers get no `unexpected_cfgs`.
    CheckCfg(String),
    /// `cargo::rustc-env=NAME=VALUE`: a variable the crate reads with `env!` at compile time.
    RustcEnv {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `cargo::rustc-link-search=native=DIR`.
    LinkSearch(String),
    /// `cargo::rustc-link-lib=KIND=NAME` (`static`, `dylib`, `dylib:+verbatim`).
    LinkLib {
        /// The kind, with modifiers.
        kind: String,
        /// The library's name.
        name: String,
    },
    /// `cargo::rustc-link-arg=ARG`.
    LinkArg(String),
    /// `cargo::rerun-if-changed=PATH`.
    RerunIfChanged(String),
    /// `cargo::rerun-if-env-changed=VAR`.
    RerunIfEnvChanged(String),
    /// `cargo::warning=MESSAGE` (one line).
    Warning(String),
}

impl Directive {
    /// The line cargo reads: one line always (a warning of several lines becomes one
    /// `cargo::warning=` line each), so no text can start a directive of its own.
    #[must_use]
    pub fn render(&self) -> String {
        if let Directive::Warning(w) = self {
            let lines: Vec<String> =
                w.split(['\n', '\r']).filter(|l| !l.trim().is_empty()).map(|l| format!("cargo::warning={l}")).collect();
            return if lines.is_empty() { "cargo::warning=".into() } else { lines.join("\n") };
        }
        self.render_line()
    }

    fn render_line(&self) -> String {
        match self {
            Directive::Cfg { name, value: None } => format!("cargo::rustc-cfg={name}"),
            Directive::Cfg { name, value: Some(v) } => format!("cargo::rustc-cfg={name}=\"{v}\""),
            Directive::CheckCfg(c) => format!("cargo::rustc-check-cfg={c}"),
            Directive::RustcEnv { name, value } => format!("cargo::rustc-env={name}={value}"),
            Directive::LinkSearch(dir) => format!("cargo::rustc-link-search=native={dir}"),
            Directive::LinkLib { kind, name } => format!("cargo::rustc-link-lib={kind}={name}"),
            Directive::LinkArg(a) => format!("cargo::rustc-link-arg={a}"),
            Directive::RerunIfChanged(p) => format!("cargo::rerun-if-changed={p}"),
            Directive::RerunIfEnvChanged(v) => format!("cargo::rerun-if-env-changed={v}"),
            Directive::Warning(w) => format!("cargo::warning={w}"),
        }
    }
}

/// A path as a directive value; cargo directives carry only UTF-8 text on one line.
pub(crate) fn path_str(path: &Path) -> Result<String, Error> {
    let text = crate::env::utf8(path).ok_or_else(|| Error::NonUtf8Path(path.to_path_buf()))?;
    match text.chars().find(|c| *c == '\n' || *c == '\r') {
        Some(c) => Err(Error::KernelPath {
            path: path.to_path_buf(),
            what: "path",
            problem: crate::error::PathProblem::Unsafe(c),
        }),
        None => Ok(text.to_owned()),
    }
}

/// Prints directives to stdout, where cargo reads them. A build script prints from several
/// places (`Kernels::compile_or_exit`, `Cuda::emit_or_exit`), so each line is printed once per process:
/// one link line per library, always. rustc refuses a library named twice with modifiers
/// (`dylib:+verbatim=libcudart.so.13` twice: "overriding linking modifiers from command line is
/// not supported"), and the same library linked two ways (`static=cudart_static` then
/// `dylib=cudart`) would load two CUDA runtimes: the first way wins, with a warning.
pub fn print(directives: &[Directive]) {
    let lines = {
        let mut printed = PRINTED.lock().unwrap_or_else(|e| e.into_inner());
        printed.admit(directives)
    };
    let mut out = std::io::stdout().lock();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
}

/// What this process printed so far.
static PRINTED: Mutex<Printed> = Mutex::new(Printed { lines: Vec::new(), libs: Vec::new() });

/// The lines a build script printed and the libraries they link, in order.
#[derive(Debug, Default)]
pub(crate) struct Printed {
    lines: Vec<String>,
    /// (library, the line linking it), in print order.
    libs: Vec<(String, String)>,
}

impl Printed {
    /// The lines of `directives` to print now: each not printed before, except a plain
    /// `static=` library printed before another static library that may need it. GNU ld reads
    /// archives in order, so it is printed again after it (rustc keeps a plain library's last
    /// mention only: still one link line).
    pub(crate) fn admit(&mut self, directives: &[Directive]) -> Vec<String> {
        let mut out = Vec::new();
        for d in directives {
            let line = d.render();
            if let Directive::LinkLib { kind, name } = d {
                let lib = library(kind, name);
                if let Some(i) = self.libs.iter().position(|(l, _)| *l == lib) {
                    let first = self.libs[i].1.clone();
                    if first != line {
                        let warning = Directive::Warning(format!(
                            "{lib} is linked two ways (`{first}`, then `{line}`): keeping the first; link it one way (e.g. the same Cudart for Kernels::cudart and Cuda::link_cudart)"
                        ))
                        .render();
                        if !self.lines.contains(&warning) {
                            self.lines.push(warning.clone());
                            out.push(warning);
                        }
                        continue;
                    }
                    let static_after = self.libs[i + 1..].iter().any(|(_, l)| l.contains("rustc-link-lib=static"));
                    if kind == "static" && static_after {
                        let entry = self.libs.remove(i);
                        self.libs.push(entry);
                        out.push(line);
                    }
                    continue;
                }
                self.libs.push((lib, line.clone()));
            } else if self.lines.contains(&line) {
                continue;
            }
            self.lines.push(line.clone());
            out.push(line);
        }
        out
    }
}

/// The library a link line names, whatever the form: `cudart`, `cudart_static`,
/// `libcudart.so.13` (verbatim) and `cudart.lib` are all the CUDA runtime `cudart`.
fn library(kind: &str, name: &str) -> String {
    let mut n = name;
    if kind.contains("+verbatim") {
        n = n.strip_prefix("lib").unwrap_or(n);
        n = n.split(".so").next().unwrap_or(n);
        n = n.strip_suffix(".a").or_else(|| n.strip_suffix(".lib")).or_else(|| n.strip_suffix(".dylib")).unwrap_or(n);
    }
    n.strip_suffix("_static").unwrap_or(n).to_owned()
}

/// `cuda`, `cuda_version` and every `cuda_ge_X_Y` declared, so code may test any of them.
pub(crate) fn check_cfgs(found: Option<(u32, u32)>) -> Vec<Directive> {
    let mut releases: Vec<(u32, u32)> = compat::RELEASES.to_vec();
    if let Some(f) = found {
        if !releases.contains(&f) {
            releases.push(f);
        }
    }
    let values: Vec<String> = releases.iter().map(|(ma, mi)| format!("\"{ma}.{mi}\"")).collect();
    let mut out = vec![
        Directive::CheckCfg("cfg(cuda)".into()),
        Directive::CheckCfg(format!("cfg(cuda_version, values({}))", values.join(", "))),
    ];
    out.extend(releases.iter().map(|(ma, mi)| Directive::CheckCfg(format!("cfg(cuda_ge_{ma}_{mi})"))));
    out
}

pub(crate) fn rerun_env(env: &Env) -> Vec<Directive> {
    env.recorded().into_iter().map(Directive::RerunIfEnvChanged).collect()
}

/// What an optional build without CUDA tells cargo: declared cfgs, rerun lines, one warning.
pub(crate) fn without_cuda(env: &Env, e: &Error) -> Vec<Directive> {
    let mut out = check_cfgs(None);
    out.extend(rerun_env(env));
    let first = e.to_string().lines().next().unwrap_or("").to_owned();
    out.push(Directive::Warning(format!("building without CUDA (cfg(cuda) not set): {first}; run `cargo run --example doctor` of cuda-build, or see its README, for details")));
    out
}

/// Prints `e` as cargo errors and exits with status 1 (no panic, no backtrace).
/// `cargo::error` exists from cargo 1.84; older cargo gets warnings plus the full text on stderr.
pub(crate) fn exit_with_error(env: &Env, e: &Error) -> ! {
    // docs.rs builds documentation without any toolkit: never fail there. The build
    // script ends here successfully, with the cfgs declared and one warning.
    if env.docs_rs() {
        print(&without_cuda(env, e));
        std::process::exit(0)
    }
    let mut lines = rerun_env(env).into_iter().map(|d| d.render()).collect::<Vec<_>>();
    let text = e.to_string();
    let supports_error = rustc_minor(env).is_some_and(|minor| minor >= 84);
    let key = if supports_error { "error" } else { "warning" };
    // cargo shows only the first line of a directive: one directive per line of the message.
    lines.extend(text.split(['\n', '\r']).filter(|l| !l.is_empty()).map(|l| format!("cargo::{key}={l}")));
    let mut out = std::io::stdout().lock();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = out.flush();
    if !supports_error {
        eprintln!("error: {text}");
    }
    std::process::exit(1)
}

/// The minor version of the rustc cargo uses (`RUSTC`), which ships with the same cargo.
fn rustc_minor(env: &Env) -> Option<u32> {
    let rustc = env.get("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = crate::run::run(Path::new(&rustc), &["-V"], Duration::from_secs(20)).ok()?;
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    out.stdout.split_whitespace().nth(1)?.split('.').nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(kind: &str, name: &str) -> Directive {
        Directive::LinkLib { kind: kind.into(), name: name.into() }
    }

    #[test]
    fn one_link_line_per_library_across_prints() {
        let mut p = Printed::default();
        let search = Directive::LinkSearch("/cuda/lib".into());
        let rpath = Directive::LinkArg("-Wl,-rpath,/cuda/lib".into());
        let verbatim = lib("dylib:+verbatim", "libcudart.so.13");
        // Kernels::compile_or_exit, then Cuda::emit_or_exit asking for the same runtime.
        let first = p.admit(&[lib("static", "k"), search.clone(), verbatim.clone(), rpath.clone()]);
        assert_eq!(first.len(), 4);
        let second = p.admit(&[search, verbatim, rpath, Directive::Cfg { name: "cuda".into(), value: None }]);
        assert_eq!(second, ["cargo::rustc-cfg=cuda"], "repeats are not printed");
        // The runtime asked for another way: the first way stays, with one warning.
        let third = p.admit(&[lib("static", "cudart_static"), lib("static", "cudart_static")]);
        assert_eq!(third.len(), 1, "{third:?}");
        assert!(third[0].starts_with("cargo::warning=cudart is linked two ways"), "{third:?}");
    }

    #[test]
    fn a_static_library_is_repeated_after_a_later_static_library_that_needs_it() {
        let mut p = Printed::default();
        // Cuda::emit_or_exit before compile_or_exit: cudart_static first, the kernels' library later.
        p.admit(&[lib("static", "cudart_static"), lib("dylib", "rt")]);
        let later = p.admit(&[lib("static", "k"), lib("static", "cudart_static"), lib("dylib", "rt")]);
        assert_eq!(later, ["cargo::rustc-link-lib=static=k", "cargo::rustc-link-lib=static=cudart_static"]);
        // Nothing static after it since: not repeated.
        assert!(p.admit(&[lib("static", "cudart_static")]).is_empty());
    }

    #[test]
    fn library_names_of_every_form() {
        assert_eq!(library("dylib:+verbatim", "libcudart.so.13"), "cudart");
        assert_eq!(library("static", "cudart_static"), "cudart");
        assert_eq!(library("dylib", "cudart"), "cudart");
        assert_eq!(library("dylib:+verbatim", "libcublasLt.so.13.1"), "cublasLt");
        assert_eq!(library("static", "cudadevrt"), "cudadevrt");
    }
}
