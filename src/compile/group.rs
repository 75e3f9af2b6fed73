//! One build of one or more kernel groups: each group prepared (sources and plan, all
//! checked before nvcc runs), the stale jobs of every group run in one schedule, then each
//! group finished (library, generated module, directives).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::job::{self, Job, JobCtx, JobResult};
use super::launcher::Tally;
use super::plan::Plan;
use super::{module, schedule, sources, stamp, Compiled, CompiledKernel, Format, Kernels};
use crate::emit::{path_str, Directive};
use crate::error::Error;
use crate::fsx;

/// Where a group's files are, normal (see [`fsx::under`]): the crate's (its directory, include
/// and kernel dirs) and the toolkit's.
struct Places {
    crate_dirs: Vec<PathBuf>,
    toolkit_dirs: Vec<PathBuf>,
}

/// A group ready to run: what it compiles and how.
struct Prepared<'k, 'a> {
    k: &'k Kernels<'a>,
    base: PathBuf,
    out_root: PathBuf,
    dirs: Vec<PathBuf>,
    plan: Plan,
    /// Longest first: previous durations, else the bytes of the source and its headers.
    jobs: Vec<Job>,
    warnings: Vec<String>,
    tally: Tally,
}

pub(crate) fn compile(groups: &[&Kernels<'_>]) -> Result<Vec<Compiled>, Error> {
    let prepared: Vec<Prepared> = groups.iter().map(|k| prepare(k)).collect::<Result<_, _>>()?;
    let ctxs: Vec<JobCtx> = prepared.iter().map(Prepared::ctx).collect();
    let sigs = stamp::Sigs::default();
    let mut results: Vec<Vec<Option<Result<JobResult, Error>>>> =
        prepared.iter().zip(&ctxs).map(|(p, c)| p.jobs.iter().map(|j| c.fresh(j, &sigs).map(Ok)).collect()).collect();

    // Up-to-date jobs are settled; only stale ones go to the scheduler, longest first
    // across all groups, and a jobserver client (a helper thread reading cargo's pipe)
    // exists only when two or more must run: a no-op build touches no token.
    let mut stale: Vec<(usize, usize)> = Vec::new();
    for (g, r) in results.iter().enumerate() {
        stale.extend(r.iter().enumerate().filter(|(_, r)| r.is_none()).map(|(i, _)| (g, i)));
    }
    if !stale.is_empty() {
        let job = |&(g, i): &(usize, usize)| &prepared[g].jobs[i];
        stale.sort_by(|a, b| job(b).weight.total_cmp(&job(a).weight));
        // Output folders exist, and temps of killed builds (only those) are gone.
        let out_dirs: BTreeSet<&Path> = stale.iter().filter_map(|s| job(s).source.output.parent()).collect();
        for dir in out_dirs {
            fsx::create_dir_all(dir)?;
            fsx::remove_dead_temps(dir);
        }
        let env = prepared[0].k.cuda.env();
        let limit = env.cargo_var("NUM_JOBS").and_then(|n| n.to_str()?.parse().ok());
        let client = if stale.len() > 1 { schedule::client(limit) } else { None };
        let done = schedule::run(&stale, client, &|s: &(usize, usize)| ctxs[s.0].compile(job(s)));
        for (&(g, i), r) in stale.iter().zip(done) {
            results[g][i] = Some(r);
        }
    }
    drop(ctxs);

    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (p, r) in prepared.into_iter().zip(results) {
        match p.finish(r.into_iter().flatten().collect()) {
            Ok(c) => out.push(c),
            Err(e) => errors.extend(e),
        }
    }
    match errors.len() {
        0 => Ok(out),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Kernels(errors)),
    }
}

fn prepare<'k, 'a>(k: &'k Kernels<'a>) -> Result<Prepared<'k, 'a>, Error> {
    let (base, out_root) = k.locations()?;
    sources::check_group_name(&k.name)?;
    let out_dir = if k.flat { out_root.clone() } else { out_root.join(&k.name) };
    sources::check_path(&out_dir, "output directory")?;
    let mut warnings = Vec::new();
    let dirs: Vec<PathBuf> = k.dirs.iter().map(|d| base.join(d)).collect();
    let files: Vec<PathBuf> = k.files.iter().map(|f| base.join(f)).collect();
    let found = sources::collect(&dirs, &files, &k.exclude, &out_dir, k.format.ext(), &mut warnings)?;
    if found.is_empty() {
        return Err(Error::NoKernels { searched: dirs.iter().chain(&files).cloned().collect() });
    }
    let plan = Plan::new(k, &base, &mut warnings)?;
    let durations = plan.durations.as_deref();
    let mut jobs: Vec<Job> =
        found.into_iter().map(|s| Job::new(s, &plan.includes, durations, plan.key, plan.per_byte)).collect();
    jobs.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Ok(Prepared { k, base, out_root, dirs, plan, jobs, warnings, tally: Tally::default() })
}

impl Prepared<'_, '_> {
    fn ctx(&self) -> JobCtx<'_> {
        JobCtx {
            nvcc: &self.k.cuda.toolkit().nvcc,
            launcher: self.plan.launcher.as_ref(),
            tally: &self.tally,
            common: &self.plan.common,
            key: self.plan.key,
            cwd: &self.base,
            timeout: self.k.timeout,
            nvcc_env: &self.plan.nvcc_env,
            host_deps: self.plan.host_deps,
            includes: &self.plan.includes,
            durations: self.plan.durations.as_deref(),
        }
    }

    /// The group's result from its jobs' results (in `jobs` order), or every failure.
    fn finish(mut self, results: Vec<Result<JobResult, Error>>) -> Result<Compiled, Vec<Error>> {
        let env = self.k.cuda.env();
        // One warning per build about a launcher that failed (its version asked only then).
        if let Some(w) = self.plan.launcher.as_ref().and_then(|l| self.tally.summary(l, env)) {
            self.warnings.push(w);
        }
        let mut kernels = Vec::new();
        let mut user_files: BTreeSet<PathBuf> = BTreeSet::new();
        let places = self.places();
        let mut failures = Vec::new();
        for (job, result) in self.jobs.iter().zip(results) {
            let src = &job.source;
            let r = match result {
                Ok(r) => r,
                Err(e) => {
                    failures.push((src.path.clone(), e));
                    continue;
                }
            };
            for line in r.warnings.lines().filter(|l| !l.trim().is_empty()) {
                self.warnings.push(format!("{}: {line}", src.path.display()));
            }
            user_files.insert(src.path.clone());
            user_files.extend(self.user_deps(&r, &places));
            // A static library's module lists no images: its entry names are never read.
            if r.unreadable && !matches!(self.k.format, Format::StaticLib(_)) {
                self.warnings.push(format!(
                    "{}: the output is compressed; entry names could not be read (ENTRIES is empty)",
                    src.path.display()
                ));
            }
            kernels.push(CompiledKernel {
                source: src.path.clone(),
                output: src.output.clone(),
                ident: src.ident.clone(),
                entries: r.entries,
                recompiled: r.recompiled,
            });
        }
        if !failures.is_empty() {
            failures.sort_by(|a, b| a.0.cmp(&b.0));
            return Err(failures.into_iter().map(|(_, e)| e).collect());
        }
        kernels.sort_by(|a, b| a.source.cmp(&b.source));
        self.output(kernels, &user_files).map_err(|e| vec![e])
    }

    /// Library, generated module and directives of a group whose kernels all compiled;
    /// `user_files` (the sources and the crate's headers they read) become rerun-if lines.
    fn output(self, kernels: Vec<CompiledKernel>, user_files: &BTreeSet<PathBuf>) -> Result<Compiled, Error> {
        let env = self.k.cuda.env();

        let mut directives = Vec::new();
        let library = self.link_library(&kernels, &mut directives)?;
        let module = self.out_root.join(format!("{}.rs", self.k.name));
        let text = module::generate(&self.k.format, self.k.module_style, &self.plan.archs, &kernels)?;
        fsx::write_if_changed(&module, text.as_bytes())?;
        for p in self.dirs.iter().chain(user_files) {
            directives.push(Directive::RerunIfChanged(path_str(p)?));
        }
        directives.extend(crate::emit::rerun_env(env));
        directives.extend(self.warnings.iter().map(|w| Directive::Warning(w.clone())));
        Ok(Compiled {
            archs: self.plan.archs,
            arch_source: self.plan.arch_source,
            kernels,
            module,
            library,
            warnings: self.warnings,
            directives,
        })
    }

    /// The files nvcc read (absolute and normal: the job made them so) that belong to the
    /// crate (below it, its include dirs or kernel dirs), not to the toolkit: the
    /// rerun-if-changed lines.
    fn user_deps(&self, r: &JobResult, places: &Places) -> Vec<PathBuf> {
        let is_user = |d: &Path| {
            places.crate_dirs.iter().any(|c| fsx::under(d, c)) && !places.toolkit_dirs.iter().any(|t| fsx::under(d, t))
        };
        r.deps.paths().filter(|d| is_user(d)).map(Path::to_path_buf).collect()
    }

    fn places(&self) -> Places {
        let toolkit = self.k.cuda.toolkit();
        let crate_dirs = std::iter::once(&self.base).chain(&self.plan.includes).chain(&self.dirs);
        let toolkit_dirs = std::iter::once(&toolkit.root).chain(&toolkit.include_dirs);
        Places {
            crate_dirs: crate_dirs.map(|p| fsx::normal(p)).collect(),
            toolkit_dirs: toolkit_dirs.map(|p| fsx::normal(p)).collect(),
        }
    }

    /// For a static library: archives it (when an object changed) and says how to link it.
    fn link_library(
        &self,
        kernels: &[CompiledKernel],
        directives: &mut Vec<Directive>,
    ) -> Result<Option<PathBuf>, Error> {
        // The plan chose an archiver exactly when the format is a static library.
        let (Format::StaticLib(name), Some(ar)) = (&self.k.format, &self.plan.archiver) else { return Ok(None) };
        let env = self.k.cuda.env();
        let lib = self.out_root.join(format!("lib{name}.a"));
        if kernels.iter().any(|k| k.recompiled) || !lib.is_file() {
            let objects: Vec<&Path> = kernels.iter().map(|k| k.output.as_path()).collect();
            job::archive(ar, &lib, &objects, self.k.timeout)?;
        }
        directives.push(Directive::LinkSearch(path_str(&self.out_root)?));
        directives.push(Directive::LinkLib { kind: "static".into(), name: name.clone() });
        directives.extend(self.k.cuda.runtime_directives(self.k.cudart, self.k.rpath)?);
        if env.target().map_or(cfg!(target_os = "linux"), |t| t.contains("linux")) {
            directives.push(Directive::LinkLib { kind: "dylib".into(), name: "stdc++".into() });
        }
        Ok(Some(lib))
    }
}
