//! The search for a toolkit as a whole: what was required, where it looked, every
//! candidate with the reason it was refused, and the one message that explains a failed
//! search (written here, once, for `Error::Explicit` / `NoMatch` / `NotFound`).

use std::fmt;
use std::path::Path;

use super::{Candidate, Refusal, Source};
use crate::torch::Libtorch;
use crate::version::{CudaVersion, VersionReq};

/// How a libtorch without a version is named in messages.
pub(crate) const UNKNOWN_TORCH: &str = "of unknown version";

/// What was required, where it was looked for, and what was found there.
///
/// ```no_run
/// let report = cuda_build::Probe::new().version_req(">=13").report();
/// println!("searched: {}", report.search.searched.join("; "));
/// for c in &report.search.candidates {
///     println!("{} {:?}", c.path.display(), c.refusal);
/// }
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Search {
    /// The version range, when one was given.
    pub required: Option<VersionReq>,
    /// Each kind of place searched, in order, with what it held.
    pub searched: Vec<String>,
    /// Every toolkit seen, in rank order.
    pub candidates: Vec<Candidate>,
    /// The libtorch whose CUDA major every toolkit must match ([`crate::Probe::libtorch`], when its
    /// CUDA is known): toolkits of another major are refused like an out-of-range version.
    pub libtorch: Option<Libtorch>,
}

impl Search {
    /// The explicitly named candidate, if any.
    fn explicit(&self) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.source.is_explicit())
    }

    /// A usable toolkit that satisfies the range, other than `except`: the alternative a fix can name.
    fn alternative(&self, except: Option<&Candidate>) -> Option<&Candidate> {
        self.compatible(except)
            .into_iter()
            .find(|c| c.version.is_some_and(|v| self.required.as_ref().is_none_or(|r| r.matches(&v))))
    }

    /// Usable toolkits of libtorch's CUDA major (any version when no libtorch is asked for),
    /// other than `except`, whatever the range says.
    fn compatible(&self, except: Option<&Candidate>) -> Vec<&Candidate> {
        let major = self.libtorch.as_ref().and_then(|lt| lt.cuda).map(|c| c.major);
        self.candidates
            .iter()
            .filter(|c| {
                !std::ptr::eq(*c, except.map_or(std::ptr::null(), |e| e as *const _))
                    && c.layout.is_some()
                    && !matches!(
                        c.refusal,
                        Some(Refusal::Duplicate(_) | Refusal::NvccFailed(_) | Refusal::UnknownVersion(_))
                    )
                    && c.version.is_some_and(|v| major.is_none_or(|m| m == v.major))
            })
            .collect()
    }

    /// With libtorch: the toolkits of its CUDA major found, and how to select one.
    fn fmt_compatible(&self, f: &mut fmt::Formatter<'_>, except: Option<&Candidate>, var: &str) -> fmt::Result {
        let Some(cuda) = self.libtorch.as_ref().and_then(|lt| lt.cuda) else { return Ok(()) };
        let found: Vec<String> = self
            .compatible(except)
            .iter()
            .map(|c| {
                format!(
                    "CUDA {} at {} (from {})",
                    fmt_version(c.version).trim_start_matches("CUDA "),
                    c.root.as_deref().unwrap_or(&c.path).display(),
                    c.source
                )
            })
            .collect();
        if found.is_empty() {
            writeln!(f, "  compatible with libtorch (CUDA {}.x): none found", cuda.major)
        } else {
            writeln!(
                f,
                "  compatible with libtorch (CUDA {}.x): {}; select one with {var}=<its root>{}",
                cuda.major,
                found.join(", "),
                if self.required.is_some() { " (and a range that accepts it)" } else { "" }
            )
        }
    }

    /// The message when a variable named the toolkit: never replaced, so the fix is about it.
    fn fmt_explicit(&self, f: &mut fmt::Formatter<'_>, e: &Candidate, range: Option<&str>) -> fmt::Result {
        let var = e.source.var().unwrap_or("the variable");
        let why = e.refusal.as_ref().map_or_else(|| "is not usable".to_owned(), ToString::to_string);
        writeln!(f, "the CUDA toolkit named by {var}={} is not usable: {why}", e.path.display())?;
        if let Some(r) = &self.required {
            writeln!(f, "  required version: {r}")?;
        }
        writeln!(f, "  a toolkit named explicitly is never replaced by another one")?;
        self.fmt_libtorch(f)?;
        self.fmt_found(f, Some(e))?;
        self.fmt_compatible(f, Some(e), var)?;
        let what = if matches!(e.source, Source::Compiler(_)) {
            "the nvcc program (e.g. /usr/local/cuda/bin/nvcc)"
        } else {
            "a toolkit root, the directory that holds bin/nvcc"
        };
        let hint = match &e.refusal {
            Some(Refusal::NotADirectory) if e.path.file_name().is_some_and(|n| n == "nvcc" || n == "nvcc.exe") => {
                let root = e.path.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
                format!("{var} names nvcc itself; set {var}={} (the root above bin/)", root.display())
            }
            Some(Refusal::OutOfRange { .. }) => format!(
                "point {var} at a toolkit matching{}, or change the range passed to version_req",
                range.unwrap_or_default()
            ),
            Some(Refusal::Libtorch { version, libtorch_cuda, .. }) => format!(
                "point {var} at a CUDA {}.x toolkit, or use a libtorch built for CUDA {} (a torch whose version ends in +cu{}x)",
                libtorch_cuda.major, version.major, version.major
            ),
            Some(Refusal::NvccFailed(_)) => format!(
                "check that this nvcc runs (`{} --version`), or point {var} at another toolkit",
                e.nvcc.as_deref().unwrap_or(&e.path).display()
            ),
            _ => format!("point {var} at {what}"),
        };
        match self.alternative(Some(e)) {
            Some(alt) => write!(
                f,
                "  fix: {hint}; or unset {var} to use CUDA {} found at {} (from {})",
                fmt_version(alt.version).trim_start_matches("CUDA "),
                alt.root.as_deref().unwrap_or(&alt.path).display(),
                alt.source
            ),
            None => write!(f, "  fix: {hint}"),
        }
    }

    pub(crate) fn fmt_error(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = self.required.as_ref().map(|r| format!(" {r}"));
        if let Some(e) = self.explicit() {
            return self.fmt_explicit(f, e, range.as_deref());
        }
        let refused_by_torch = self.candidates.iter().any(|c| matches!(c.refusal, Some(Refusal::Libtorch { .. })));
        let torch = self.libtorch.as_ref().and_then(|lt| Some((lt, lt.cuda?)));
        match (&self.required, torch) {
            (_, Some((lt, cuda))) if refused_by_torch => {
                writeln!(
                    f,
                    "no CUDA toolkit fits libtorch {}, built with CUDA {}.{}: code linked into libtorch needs a CUDA {}.x toolkit",
                    lt.version.as_deref().unwrap_or(UNKNOWN_TORCH),
                    cuda.major,
                    cuda.minor,
                    cuda.major
                )?;
                if let Some(r) = &self.required {
                    writeln!(f, "  required version: {r}")?;
                }
            }
            (Some(r), _) if self.candidates.iter().any(|c| c.layout.is_some()) => {
                writeln!(f, "no CUDA toolkit satisfies the required version {r}")?
            }
            (Some(r), _) => writeln!(f, "no CUDA toolkit found (required version {r})")?,
            (None, _) => writeln!(f, "no CUDA toolkit found")?,
        }
        self.fmt_libtorch(f)?;
        writeln!(f, "  searched, in order: {}", self.searched.join("; "))?;
        self.fmt_found(f, None)?;
        self.fmt_compatible(f, None, "CUDA_PATH")?;
        if let (Some((_, cuda)), true) = (torch, refused_by_torch) {
            let mut others: Vec<u32> = self
                .candidates
                .iter()
                .filter_map(|c| match c.refusal {
                    Some(Refusal::Libtorch { version, .. }) => Some(version.major),
                    _ => None,
                })
                .collect();
            others.dedup();
            let torch_for: Vec<String> = others.iter().map(|m| format!("+cu{m}x")).collect();
            // NVIDIA's wheels carry nvcc from 13.0 on (nvidia/cu13).
            let wheels = if cuda.major >= 13 {
                let v = format!("{}.{}.*", cuda.major, cuda.minor);
                format!(", or without root `pip install nvidia-cuda-nvcc=={v} nvidia-nvvm=={v} nvidia-cuda-crt=={v} nvidia-cuda-runtime=={v}` and CUDA_PATH=<site-packages>/nvidia/cu{}", cuda.major)
            } else {
                String::new()
            };
            return write!(
                f,
                "  fix: install a CUDA {}.x toolkit{} and set CUDA_PATH to its root (NVIDIA's installer or packages{wheels}); or use a libtorch built for the CUDA found (a torch whose version ends in {})",
                cuda.major,
                range.as_deref().map(|r| format!(" matching{r}")).unwrap_or_default(),
                torch_for.join(" or ")
            );
        }
        write!(
            f,
            "  fix: install a CUDA toolkit{} and set CUDA_PATH to its root (or put its bin/ on PATH): NVIDIA's installer or packages, Debian/Ubuntu `apt install nvidia-cuda-toolkit`, or without root `pip install nvidia-cuda-nvcc nvidia-nvvm nvidia-cuda-crt nvidia-cuda-runtime` (nvcc in site-packages/nvidia/cu13/bin){}",
            range.as_deref().map(|r| format!(" matching{r}")).unwrap_or_default(),
            if self.required.is_some() && self.candidates.iter().any(|c| c.layout.is_some()) { "; or widen the range passed to version_req" } else { "" }
        )
    }

    /// The libtorch that steered the choice, and where it was found.
    fn fmt_libtorch(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.libtorch.as_ref().and_then(|lt| Some((lt, lt.cuda?))) {
            Some((lt, cuda)) => writeln!(
                f,
                "  libtorch {} at {} (found by {}) was built with CUDA {}.{} (from {})",
                lt.version.as_deref().unwrap_or(UNKNOWN_TORCH),
                lt.root.display(),
                lt.rule,
                cuda.major,
                cuda.minor,
                lt.source
            ),
            None => Ok(()),
        }
    }

    fn fmt_found(&self, f: &mut fmt::Formatter<'_>, except: Option<&Candidate>) -> fmt::Result {
        let others: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|c| {
                !except.is_some_and(|e| std::ptr::eq(*c, e)) && !matches!(c.refusal, Some(Refusal::Duplicate(_)))
            })
            .collect();
        if others.is_empty() {
            return if except.is_some() { Ok(()) } else { writeln!(f, "  found: nothing") };
        }
        writeln!(f, "  {}:", if except.is_some() { "also found (not used)" } else { "found" })?;
        for c in others {
            let at = c.root.as_deref().unwrap_or(&c.path).display();
            let why = c.refusal.as_ref().map_or_else(|| "usable".to_owned(), ToString::to_string);
            writeln!(f, "    - {} at {at} (from {}): {why}", fmt_version(c.version), c.source)?;
        }
        Ok(())
    }
}

pub(crate) fn fmt_version(v: Option<CudaVersion>) -> String {
    v.map_or_else(|| "CUDA".to_owned(), |v| format!("CUDA {v}"))
}
