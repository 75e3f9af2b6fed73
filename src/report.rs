//! How a [`Report`] is shown: the doctor's text ([`fmt::Display`]) and its `--json` output
//! ([`Report::to_json`]), here so that any tool prints exactly what the doctor prints.

use std::fmt;
use std::path::Path;

use crate::check::Status;
use crate::driver::Driver;
use crate::json::Value;
use crate::probe::Report;
use crate::toolkit::Toolkit;
use crate::torch::Libtorch;

impl Report {
    /// The report as the doctor's `--json` prints it: one pretty-printed object whose keys
    /// `ok`, `toolkit`, `candidates`, `checks`, `host_compiler`, `driver`, `libtorch`,
    /// `required` and `searched` are stable (later versions only add keys).
    ///
    /// ```
    /// let env = cuda_build::Env::from_vars([("CUDA_PATH", "/nonexistent/cuda")]);
    /// let report = cuda_build::Probe::new().env(env).report();
    /// let json = report.to_json();
    /// assert!(json.starts_with("{\n  \"candidates\": [\n"));
    /// assert!(json.contains("\"ok\": false"));
    /// assert!(json.contains("\"reason\": \"does not exist\""));
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        self.json_value().to_pretty()
    }

    fn json_value(&self) -> Value {
        let toolkit = self.result.as_ref().map_or(Value::Null, toolkit_value);
        let candidates = self
            .search
            .candidates
            .iter()
            .map(|c| {
                Value::object([
                    ("root", path(c.root.as_deref().unwrap_or(&c.path))),
                    ("nvcc", c.nvcc.as_deref().map_or(Value::Null, path)),
                    ("version", Value::opt_str(c.version.map(|v| v.to_string()))),
                    ("source", Value::str(c.source.to_string())),
                    ("accepted", Value::Bool(c.accepted())),
                    ("reason", Value::opt_str(c.refusal.as_ref().map(ToString::to_string))),
                ])
            })
            .collect();
        let checks = self
            .checks
            .iter()
            .map(|c| {
                Value::object([
                    ("name", Value::str(c.name)),
                    ("status", Value::str(c.status.to_string())),
                    ("message", Value::str(c.message.clone())),
                ])
            })
            .collect();
        let host = self.host_compiler.as_ref().map_or(Value::Null, |h| {
            Value::object([
                ("path", path(&h.path)),
                ("kind", Value::str(h.kind.to_string())),
                ("version", Value::opt_str(h.version.map(|v| v.to_string()))),
                ("supported", Value::Bool(h.supported)),
                ("source", Value::str(h.source.clone())),
            ])
        });
        let driver = driver_value(&self.driver);
        let libtorch = self.libtorch.as_ref().map_or(Value::Null, libtorch_value);
        Value::object([
            ("ok", Value::Bool(self.ok())),
            ("libtorch", libtorch),
            ("host_compiler", host),
            ("driver", driver),
            ("required", Value::opt_str(self.search.required.as_ref().map(ToString::to_string))),
            ("toolkit", toolkit),
            ("candidates", Value::Array(candidates)),
            ("searched", Value::Array(self.search.searched.iter().map(|s| Value::str(s.clone())).collect())),
            ("checks", Value::Array(checks)),
        ])
    }
}

fn toolkit_value(t: &Toolkit) -> Value {
    let paths = |ps: &[std::path::PathBuf]| Value::Array(ps.iter().map(|p| path(p)).collect());
    Value::object([
        ("root", path(&t.root)),
        ("nvcc", path(&t.nvcc)),
        ("version", Value::str(t.version.to_string())),
        ("version_source", Value::str(t.version_source.to_string())),
        ("source", Value::str(t.source.to_string())),
        ("include_dirs", paths(&t.include_dirs)),
        ("lib_dirs", paths(&t.lib_dirs)),
        ("stubs_dir", t.stubs_dir.as_deref().map_or(Value::Null, path)),
    ])
}

fn driver_value(d: &Driver) -> Value {
    let gpus = d
        .gpus
        .iter()
        .map(|g| {
            Value::object([
                ("name", Value::str(g.name.clone())),
                ("compute_cap", Value::opt_str(g.compute_cap.map(|a| format!("{}.{}", a.major, a.minor)))),
            ])
        })
        .collect();
    Value::object([
        ("version", Value::opt_str(d.version.as_ref().map(ToString::to_string))),
        ("source", Value::opt_str(d.source.clone())),
        ("gpus", Value::Array(gpus)),
    ])
}

fn libtorch_value(l: &Libtorch) -> Value {
    Value::object([
        ("root", path(&l.root)),
        ("version", Value::opt_str(l.version.clone())),
        ("cuda", Value::opt_str(l.cuda.map(|c| format!("{}.{}", c.major, c.minor)))),
        ("source", Value::str(l.source.clone())),
        ("rule", Value::str(l.rule.to_string())),
        ("lib_dir", path(&l.lib_dir)),
    ])
}

fn path(p: &Path) -> Value {
    Value::str(p.display().to_string())
}

/// The doctor's text: the chosen toolkit, host compiler, driver, GPUs and libtorch, then
/// every candidate with its verdict and every check (no trailing newline).
///
/// ```
/// let env = cuda_build::Env::from_vars([("CUDA_PATH", "/nonexistent/cuda")]);
/// let text = cuda_build::Probe::new().env(env).report().to_string();
/// assert!(text.starts_with("cuda-build doctor\n  toolkit:   none\n"));
/// assert!(text.contains("  - ?          /nonexistent/cuda (from CUDA_PATH): does not exist\n"));
/// assert!(text.contains("[ERROR] toolkit: the CUDA toolkit named by CUDA_PATH=/nonexistent/cuda is not usable"));
/// ```
impl Report {
    /// The doctor's first block: the toolkit, host compiler, driver, GPUs and libtorch found.
    fn fmt_found(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(t) => {
                write!(f, "\n  toolkit:   CUDA {} (version from {})", t.version, t.version_source)?;
                write!(f, "\n  root:      {}", t.root.display())?;
                write!(f, "\n  nvcc:      {}", t.nvcc.display())?;
                write!(f, "\n  chosen by: {}", t.source)?;
                for d in &t.include_dirs {
                    write!(f, "\n  include:   {}", d.display())?;
                }
                for d in &t.lib_dirs {
                    write!(f, "\n  lib:       {}", d.display())?;
                }
                if let Some(s) = &t.stubs_dir {
                    write!(f, "\n  stubs:     {} (link only)", s.display())?;
                }
            }
            Err(_) => write!(f, "\n  toolkit:   none")?,
        }
        match &self.host_compiler {
            Some(h) => write!(
                f,
                "\n  host:      {} {} at {} (from {}){}",
                h.kind,
                h.version.map_or_else(|| "?".to_owned(), |v| v.to_string()),
                h.path.display(),
                h.source,
                if h.supported { "" } else { ": NOT supported by this toolkit" }
            )?,
            None => write!(f, "\n  host:      (not checked)")?,
        }
        match &self.driver.version {
            Some(v) => write!(
                f,
                "\n  driver:    {v} (from {}) — the driver's version, not a toolkit's",
                self.driver.source.as_deref().unwrap_or("?")
            )?,
            None => write!(f, "\n  driver:    none seen (normal on a build machine)")?,
        }
        for g in &self.driver.gpus {
            let cc = g.compute_cap.map_or_else(|| "?".to_owned(), |a| format!("{}.{}", a.major, a.minor));
            write!(f, "\n  gpu:       {} (compute capability {cc})", g.name)?;
        }
        if let Some(l) = &self.libtorch {
            let cuda = l.cuda.map_or_else(
                || "CPU-only".to_owned(),
                |c| format!("built with CUDA {}.{} (from {})", c.major, c.minor, l.source),
            );
            write!(
                f,
                "\n  libtorch:  {} {cuda}, at {} (found by {})",
                l.version.as_deref().unwrap_or("?"),
                l.root.display(),
                l.rule
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cuda-build doctor")?;
        self.fmt_found(f)?;
        if let Some(req) = &self.search.required {
            write!(f, "\n  required:  {req}")?;
        }
        write!(f, "\ncandidates:")?;
        if self.search.candidates.is_empty() {
            write!(f, "\n  (none)")?;
        }
        for c in &self.search.candidates {
            let mark = if c.accepted() { "*" } else { "-" };
            let version = c.version.map_or_else(|| "?".to_owned(), |v| v.to_string());
            let why = c.refusal.as_ref().map_or_else(|| "chosen".to_owned(), ToString::to_string);
            write!(
                f,
                "\n  {mark} {version:<10} {} (from {}): {why}",
                c.root.as_deref().unwrap_or(&c.path).display(),
                c.source
            )?;
        }
        write!(f, "\nchecks:")?;
        for c in &self.checks {
            let tag = match c.status {
                Status::Ok => "ok   ",
                Status::Warn => "WARN ",
                Status::Error => "ERROR",
            };
            let mut lines = c.message.lines();
            write!(f, "\n  [{tag}] {}: {}", c.name, lines.next().unwrap_or(""))?;
            for l in lines {
                write!(f, "\n          {l}")?;
            }
        }
        Ok(())
    }
}
