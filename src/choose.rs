//! The choose stage: each located toolkit inspected (layout, version files), judged against
//! the range and libtorch (nvcc asked only when no file answers), and the winner built into
//! a [`Toolkit`] with its versions cross-checked.

use std::path::Path;
use std::time::Duration;

use crate::check::Check;
use crate::compat;
use crate::env::Env;
use crate::error::{Error, ParseError};
use crate::run;
use crate::toolkit::layout::{self, Layout};
use crate::toolkit::locate::Hint;
use crate::toolkit::search::{fmt_version, UNKNOWN_TORCH};
use crate::toolkit::{Candidate, Refusal, Search, Source, Toolkit, VersionSource};
use crate::torch::Libtorch;
use crate::version::{CudaVersion, VersionReq};

/// Inspects `located` in order, appending to `out` (duplicates of earlier ones marked).
pub(crate) fn inspect_all(env: &Env, located: Vec<(Source, Hint)>, out: &mut Vec<Candidate>) {
    for (source, hint) in located {
        let (path, inspected) = match &hint {
            Hint::Nvcc(p) => (p.clone(), layout::from_nvcc(env, p)),
            Hint::Root(p) => (p.clone(), layout::from_root(env, p)),
        };
        // Conventional places that are simply absent are not candidates; an explicit
        // variable always is, so its problem can be reported.
        if !source.is_explicit() && inspected.as_ref().err() == Some(&Refusal::Missing) {
            continue;
        }
        let mut c = Candidate { source, path, root: None, nvcc: None, version: None, refusal: None, layout: None };
        match inspected {
            Ok(l) => {
                if let Some(first) = out.iter().find(|o| o.layout.as_ref().is_some_and(|ol| ol.root == l.root)) {
                    c.refusal = Some(Refusal::Duplicate(first.source.to_string()));
                }
                c.root = Some(l.root.clone());
                c.nvcc = Some(l.nvcc.clone());
                c.version = known_version(&l);
                c.layout = Some(l);
            }
            Err(r) => c.refusal = Some(r),
        }
        out.push(c);
    }
}

/// The version from files alone: version.json / version.txt, else cuda.h.
fn known_version(l: &Layout) -> Option<CudaVersion> {
    [&l.file_version, &l.header_version].into_iter().flatten().find_map(|(_, v)| v.as_ref().ok().copied())
}

fn file_version(l: &Layout) -> Option<CudaVersion> {
    l.file_version.as_ref().and_then(|(_, v)| v.as_ref().ok().copied())
}

/// Picks the winner's index, setting a refusal on every other candidate.
pub(crate) fn choose(
    cands: &mut [Candidate],
    req: Option<&VersionReq>,
    ctx: Ctx<'_>,
    checks: &mut Vec<Check>,
) -> Option<usize> {
    // An explicit choice is final: the first explicit variable decides, for better or worse.
    if let Some(e) = cands.iter().position(|c| c.source.is_explicit()) {
        let by = cands[e].source.to_string();
        let chosen_root = cands[e].root.clone();
        for (i, c) in cands.iter_mut().enumerate() {
            if i != e && c.refusal.is_none() {
                if c.source.is_explicit() && c.root != chosen_root {
                    checks.push(Check::warn(
                        "explicit",
                        format!("{} names a different toolkit than {by}; {by} takes precedence", c.source),
                    ));
                }
                c.refusal = Some(Refusal::Overridden(by.clone()));
            }
        }
        return judge(&mut cands[e], req, ctx).then_some(e);
    }

    let mut order: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].refusal.is_none()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&cands[a], &cands[b]);
        ca.source.rank().cmp(&cb.source.rank()).then_with(|| cb.version.cmp(&ca.version))
    });
    let mut winner = None;
    let mut passed_over = Vec::new();
    for i in order {
        match winner {
            None => {
                if judge(&mut cands[i], req, ctx) {
                    winner = Some(i);
                } else {
                    passed_over.push(i);
                }
            }
            Some(w) => {
                let by = format!("{} from {}", fmt_version(cands[w].version), cands[w].source);
                cands[i].refusal = Some(Refusal::Outranked(by));
            }
        }
    }
    // A better-ranked toolkit was refused: say which one is used instead, and why.
    if let (Some(w), false) = (winner, passed_over.is_empty()) {
        let refused: Vec<String> = passed_over
            .iter()
            .map(|&i| {
                let c = &cands[i];
                let why = c.refusal.as_ref().map_or_else(String::new, ToString::to_string);
                format!(
                    "{} at {} (from {}): {why}",
                    fmt_version(c.version),
                    c.root.as_deref().unwrap_or(&c.path).display(),
                    c.source
                )
            })
            .collect();
        let c = &cands[w];
        checks.push(Check::warn(
            "choice",
            format!(
                "using {} at {} (from {}) instead of a better-ranked toolkit, refused: {}",
                fmt_version(c.version),
                c.root.as_deref().unwrap_or(&c.path).display(),
                c.source,
                refused.join("; ")
            ),
        ));
    }
    winner
}

/// Decides one candidate: settles its version (spawning nvcc only when no file gives one,
/// or the range compares patch numbers) and checks the range. Sets the refusal on failure.
fn judge(c: &mut Candidate, req: Option<&VersionReq>, ctx: Ctx<'_>) -> bool {
    if c.refusal.is_some() {
        return false;
    }
    let Some(layout) = &c.layout else { return false };
    let needs_nvcc =
        c.version.is_none() || (req.is_some_and(VersionReq::needs_patch) && file_version(layout).is_none());
    if needs_nvcc {
        match nvcc_version(ctx, &layout.nvcc) {
            Ok(v) => c.version = Some(v),
            Err(r) => {
                c.refusal = Some(r);
                return false;
            }
        }
    }
    let Some(version) = c.version else {
        c.refusal = Some(Refusal::UnknownVersion("no version file, cuda.h or nvcc answered".into()));
        return false;
    };
    if let Some(req) = req {
        if !req.matches(&version) {
            c.refusal = Some(Refusal::OutOfRange { version, required: req.clone() });
            return false;
        }
    }
    if let Some((lt, cuda)) = ctx.libtorch.and_then(|lt| Some((lt, lt.cuda?))) {
        if cuda.major != version.major {
            c.refusal = Some(Refusal::Libtorch {
                version,
                libtorch_cuda: cuda,
                libtorch: lt.version.clone().unwrap_or_else(|| UNKNOWN_TORCH.into()),
            });
            return false;
        }
    }
    true
}

fn nvcc_version(ctx: Ctx<'_>, nvcc: &Path) -> Result<CudaVersion, Refusal> {
    let text = crate::cache::get_or(ctx.env, "--version", nvcc, || {
        let out = run::run(nvcc, &["--version"], ctx.timeout).map_err(Refusal::NvccFailed)?;
        CudaVersion::from_nvcc_output(&format!("{}\n{}", out.stdout, out.stderr))
            .map(|v| v.to_string())
            .map_err(|e: ParseError| Refusal::UnknownVersion(e.to_string()))
    })?;
    CudaVersion::parse(&text).map_err(|e| Refusal::UnknownVersion(e.to_string()))
}

/// What deciding a candidate needs besides the candidate.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub env: &'a Env,
    pub timeout: Duration,
    /// The libtorch whose CUDA major a toolkit must have.
    pub libtorch: Option<&'a Libtorch>,
}

/// Builds the chosen [`Toolkit`]: the full version (nvcc spawned at most once, and not at
/// all when version.json / version.txt answer), cross-checked against the other sources.
pub(crate) fn finish(c: &Candidate, ctx: Ctx<'_>, checks: &mut Vec<Check>) -> Result<Toolkit, Error> {
    let layout = c.layout.as_ref().ok_or_else(|| Error::NotFound(Box::default()))?;
    let mut sources: Vec<(VersionSource, CudaVersion)> = Vec::new();
    if let Some((path, Ok(v))) = &layout.file_version {
        let src = if path.ends_with("version.json") {
            VersionSource::VersionJson(path.clone())
        } else {
            VersionSource::VersionTxt(path.clone())
        };
        sources.push((src, *v));
    }
    if sources.is_empty() {
        // `judge` may already have asked nvcc; its answer is then the patch-bearing version.
        let from_judge = c.version.filter(|v| v.patch.is_some());
        let v = match from_judge {
            Some(v) => v,
            None => nvcc_version(ctx, &layout.nvcc).map_err(|r| {
                let mut bad = c.clone();
                bad.refusal = Some(r);
                Error::Explicit(Box::new(Search { candidates: vec![bad], ..Search::default() }))
            })?,
        };
        sources.push((VersionSource::Nvcc, v));
    }
    if let Some((path, Ok(v))) = &layout.header_version {
        sources.push((VersionSource::CudaH(path.clone()), *v));
    }
    for (path, parsed) in [&layout.file_version, &layout.header_version].into_iter().flatten() {
        if let Err(e) = parsed {
            checks.push(Check::warn("version-sources", format!("{}: {e}", path.display())));
        }
    }
    let (version_source, version) = sources[0].clone();
    match sources.iter().find(|(_, v)| !v.same_release(&version)) {
        Some((other_src, other)) => checks.push(Check::warn(
            "version-sources",
            format!(
                "{version_source} says CUDA {version} but {other_src} says {other}: the headers and the compiler come from different toolkits; point CUDA_PATH at one complete toolkit"
            ),
        )),
        None if sources.len() > 1 => {
            let names: Vec<String> = sources.iter().map(|(s, _)| s.to_string()).collect();
            checks.push(Check::ok("version-sources", format!("{} agree on {}.{}", names.join(" and "), version.major, version.minor)));
        }
        None => {}
    }
    if (version.major, version.minor) > (compat::newest_known().major, compat::newest_known().minor) {
        checks.push(Check::warn(
            "tables",
            format!("CUDA {version} is newer than this version of cuda-build knows (newest: {}); its tables may be out of date: update cuda-build", compat::newest_known()),
        ));
    }
    let mut watched: Vec<_> =
        [&layout.file_version, &layout.header_version].into_iter().flatten().map(|(p, _)| p.clone()).collect();
    watched.push(layout.nvcc.clone());
    Ok(Toolkit {
        root: layout.root.clone(),
        nvcc: layout.nvcc.clone(),
        version,
        version_source,
        include_dirs: layout.include_dirs.clone(),
        lib_dirs: layout.lib_dirs.clone(),
        stubs_dir: layout.stubs_dir.clone(),
        source: c.source.clone(),
        watched_files: watched,
    })
}
