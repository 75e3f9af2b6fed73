//! Findings: each an ok / warn / error with a message a person can act on.

use std::fmt;

/// How a check came out.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// let worst = report.checks.iter().map(|c| c.status).max_by_key(|s| *s as u8);
/// println!("{worst:?}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Fine.
    Ok,
    /// The build goes on; the message says what may go wrong.
    Warn,
    /// The build cannot go on.
    Error,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Error => "error",
        })
    }
}

/// One finding of a probe.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// for check in report.checks.iter().filter(|c| c.status != cuda_build::Status::Ok) {
///     println!("cargo::warning={}: {}", check.name, check.message);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// A stable name (`"toolkit"`, `"version-sources"`, ...).
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found, and the fix when it is not ok.
    pub message: String,
}

impl Check {
    pub(crate) fn ok(name: &'static str, message: String) -> Self {
        Check { name, status: Status::Ok, message }
    }
    pub(crate) fn warn(name: &'static str, message: String) -> Self {
        Check { name, status: Status::Warn, message }
    }
    pub(crate) fn error(name: &'static str, message: String) -> Self {
        Check { name, status: Status::Error, message }
    }
}
