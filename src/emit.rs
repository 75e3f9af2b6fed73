//! Cargo directives: a typed list, rendered and printed in this one place.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::compat;
use crate::env::Env;
use crate::error::Error;

/// One instruction to cargo.
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

/// Prints directives to stdout, where cargo reads them.
pub fn print(directives: &[Directive]) {
    let mut out = std::io::stdout().lock();
    for d in directives {
        let _ = writeln!(out, "{}", d.render());
    }
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
