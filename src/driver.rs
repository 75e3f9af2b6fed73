//! The NVIDIA driver and GPUs of this machine, without linking libcuda: build machines
//! often have neither, and that is normal. Sources: `/proc/driver/nvidia/version`, then
//! `nvidia-smi` (with a timeout; missing or hanging means "none seen"), then, with the
//! feature `driver`, cudarc's dynamically loaded driver API.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::arch::{Arch, ArchList};
use crate::check::Check;
use crate::compat;
use crate::env::Env;
use crate::run::Cmd;
use crate::version::CudaVersion;

/// How long nvidia-smi may take.
pub const NVIDIA_SMI_TIMEOUT: Duration = Duration::from_secs(10);

/// A GPU seen on this machine.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// for gpu in &report.driver.gpus {
///     println!("{} (sm_{})", gpu.name, gpu.compute_cap.map_or("?".into(), |a| a.to_string()));
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gpu {
    /// `NVIDIA H200`.
    pub name: String,
    /// `9.0`, when the source reports it (nvidia-smi's field exists from driver 510).
    pub compute_cap: Option<Arch>,
}

/// What was seen of the driver.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// match &report.driver.version {
///     Some(v) => println!("driver {v} (from {})", report.driver.source.as_deref().unwrap_or("?")),
///     None => println!("no driver: normal on a build machine"),
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Driver {
    /// `580.159.04`, or `None` when no driver was seen.
    pub version: Option<DriverVersion>,
    /// Where the version came from (`/proc/driver/nvidia/version`, `nvidia-smi`, `libcuda`).
    pub source: Option<String>,
    /// The GPUs, when asked for and seen.
    pub gpus: Vec<Gpu>,
    /// Why a source gave nothing (nvidia-smi hung, printed garbage, ...).
    pub notes: Vec<String>,
}

/// A driver version: `580.159.04` compared field by field.
///
/// ```
/// use cuda_build::DriverVersion;
/// let h200 = DriverVersion::parse("580.95.05").unwrap();
/// assert!(h200 >= DriverVersion::parse("580.65.06").unwrap());
/// assert!(h200 < DriverVersion::parse("590.44.01").unwrap());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DriverVersion(pub Vec<u32>);

impl DriverVersion {
    /// Parses `550.54.14` (one to four numeric fields).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Option<Vec<u32>> = s.trim().split('.').map(|p| p.parse().ok()).collect();
        let parts = parts?;
        (!parts.is_empty() && parts.len() <= 4 && parts[0] >= 100).then_some(DriverVersion(parts))
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: Vec<String> =
            self.0.iter().enumerate().map(|(i, n)| if i == 0 { n.to_string() } else { format!("{n:02}") }).collect();
        f.write_str(&s.join("."))
    }
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024`
/// or `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ...`.
pub fn parse_proc_version(text: &str) -> Option<DriverVersion> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    let after = &line[line.find("Kernel Module")?..];
    after.split_whitespace().find_map(DriverVersion::parse)
}

/// `nvidia-smi --query-gpu=name,driver_version[,compute_cap] --format=csv,noheader` lines.
pub fn parse_nvidia_smi(text: &str, with_cc: bool) -> Option<(DriverVersion, Vec<Gpu>)> {
    let mut version = None;
    let mut gpus = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // The name may hold commas; the other fields do not.
        let n = if with_cc { 3 } else { 2 };
        let mut fields: Vec<&str> = line.rsplitn(n, ',').map(str::trim).collect();
        fields.reverse();
        if fields.len() != n {
            return None;
        }
        let v = DriverVersion::parse(fields[1])?;
        let cc = if with_cc { Some(parse_cc(fields[2])?) } else { None };
        version.get_or_insert(v);
        gpus.push(Gpu { name: fields[0].to_owned(), compute_cap: cc });
    }
    Some((version?, gpus))
}

/// `9.0` -> `sm_90`.
fn parse_cc(s: &str) -> Option<Arch> {
    let (ma, mi) = s.trim().split_once('.')?;
    Some(Arch { major: ma.parse().ok()?, minor: mi.parse().ok()?, suffix: None })
}

/// Reads the driver version from `/proc` only: no process is spawned (for every build).
pub(crate) fn quick(env: &Env) -> Driver {
    let path = env.system_path("/proc/driver/nvidia/version");
    match std::fs::read(&path) {
        Ok(bytes) => match parse_proc_version(&String::from_utf8_lossy(&bytes)) {
            Some(v) => {
                Driver { version: Some(v), source: Some("/proc/driver/nvidia/version".into()), ..Driver::default() }
            }
            None => {
                Driver { notes: vec![format!("{} has no driver version line", path.display())], ..Driver::default() }
            }
        },
        Err(_) => Driver::default(),
    }
}

/// The driver and its GPUs: `/proc`, then nvidia-smi, then (feature `driver`) libcuda.
pub(crate) fn probe(env: &Env, timeout: Duration) -> Driver {
    let mut d = quick(env);
    let smi = env.which("nvidia-smi").or_else(|| Some(env.system_path("/usr/bin/nvidia-smi")).filter(|p| p.is_file()));
    if let Some(smi) = smi {
        match query_smi(&smi, timeout) {
            Ok((v, gpus)) => {
                if d.version.is_none() {
                    d.version = Some(v);
                    d.source = Some("nvidia-smi".into());
                }
                d.gpus = gpus;
            }
            Err(note) => d.notes.push(note),
        }
    }
    #[cfg(feature = "driver")]
    if d.gpus.is_empty() {
        libcuda(&mut d);
    }
    d
}

fn query_smi(smi: &PathBuf, timeout: Duration) -> Result<(DriverVersion, Vec<Gpu>), String> {
    for (fields, with_cc) in [("name,driver_version,compute_cap", true), ("name,driver_version", false)] {
        let mut cmd = Cmd::new(smi);
        cmd.arg(format!("--query-gpu={fields}")).arg("--format=csv,noheader");
        let out = cmd.output(timeout).map_err(|e| format!("{e}"))?;
        let text = format!("{}{}", out.stdout, out.stderr);
        if out.status.success() {
            return parse_nvidia_smi(&out.stdout, with_cc)
                .ok_or_else(|| format!("{} printed what cuda-build cannot read: {:?}", smi.display(), text.trim()));
        }
        // Drivers before 510 do not know compute_cap: ask again without it.
        if !(with_cc && text.contains("not a valid field")) {
            return Err(format!("{} failed ({}): {}", smi.display(), out.status, text.trim()));
        }
    }
    Err(format!("{} answered nothing usable", smi.display()))
}

#[cfg(feature = "driver")]
#[allow(unsafe_code)] // FFI through cudarc's dynamically loaded driver API
fn libcuda(d: &mut Driver) {
    use cudarc::driver::{result, sys};
    // SAFETY: only loads the library and asks whether it is there.
    if !unsafe { sys::is_culib_present() } {
        return;
    }
    // Debian's toolkit pulls in libcuda1 even where no GPU or kernel module exists: a
    // library that loads is not a driver that runs (cuInit says CUDA_ERROR_NO_DEVICE).
    if let Err(e) = result::init() {
        d.notes.push(format!("libcuda loads but cuInit failed: {e:?}"));
        return;
    }
    let Ok(count) = result::device::get_count() else { return };
    for i in 0..count {
        let Ok(dev) = result::device::get(i) else { continue };
        let name = result::device::get_name(dev).unwrap_or_default();
        // SAFETY: plain attribute queries on a valid device handle.
        let cc = unsafe {
            let ma = result::device::get_attribute(
                dev,
                sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
            );
            let mi = result::device::get_attribute(
                dev,
                sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
            );
            match (ma, mi) {
                (Ok(ma), Ok(mi)) => Some(Arch { major: ma as u32, minor: mi as u32, suffix: None }),
                _ => None,
            }
        };
        d.gpus.push(Gpu { name, compute_cap: cc });
    }
    if d.source.is_none() && !d.gpus.is_empty() {
        d.source = Some("libcuda".into());
    }
}

fn windows() -> bool {
    cfg!(windows)
}

/// This platform's value of a driver-table row.
fn platform(linux: Option<&'static str>, win: Option<&'static str>) -> Option<DriverVersion> {
    DriverVersion::parse(if windows() { win? } else { linux? })
}

/// Every toolkit release whose minimum driver is known (NVIDIA's table 3), oldest first.
fn known_minimums() -> impl Iterator<Item = ((u32, u32), DriverVersion)> {
    compat::DRIVER_MINIMUM.iter().filter_map(|(mm, linux, win)| Some((*mm, platform(*linux, *win)?)))
}

/// The minimum driver for toolkit `v` (GA of its minor), when known.
fn minimum_for(v: &CudaVersion) -> Option<DriverVersion> {
    known_minimums().find(|(mm, _)| *mm == (v.major, v.minor)).map(|(_, d)| d)
}

/// The minor-version-compatibility baseline of `major`: drivers at or above it run SASS of
/// every minor of that major.
fn baseline(major: u32) -> Option<DriverVersion> {
    let (_, linux, win) = compat::DRIVER_BASELINE.iter().find(|(m, _, _)| *m == major)?;
    platform(Some(*linux), *win)
}

/// The newest toolkit release whose minimum this driver meets: the newest PTX it is known to JIT.
fn newest_cuda(d: &DriverVersion) -> Option<(u32, u32)> {
    known_minimums().filter(|(_, min)| min <= d).map(|(mm, _)| mm).max()
}

/// The PTX this driver JIT-compiles, in words: `CUDA <= 13.0`, or, when it meets every known
/// minimum and later releases have none in the table, `CUDA <= 13.3; 13.4 and newer: unknown`.
pub(crate) fn jit_ceiling(d: &DriverVersion) -> String {
    let newest = newest_cuda(d);
    let above = |mm: &(u32, u32)| newest.is_none_or(|n| *mm > n);
    // A known release above the ceiling that this driver fails: the ceiling is exact.
    if known_minimums().any(|(mm, _)| above(&mm)) {
        return newest.map_or_else(|| "no CUDA release cuda-build knows".into(), |(a, b)| format!("CUDA <= {a}.{b}"));
    }
    match (newest, compat::RELEASES.iter().find(|mm| above(mm))) {
        (Some((a, b)), Some((c, e))) => format!("CUDA <= {a}.{b}; {c}.{e} and newer: unknown"),
        (Some((a, b)), None) => format!("CUDA <= {a}.{b}"),
        (None, _) => "unknown CUDA releases (no minimum driver known)".into(),
    }
}

/// Whether a driver can JIT-compile the PTX a toolkit writes. Minor-version compatibility
/// covers SASS only: JIT needs the driver of that toolkit release or newer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PtxJit {
    /// The driver meets the release's minimum.
    Yes(DriverVersion),
    /// The driver is older than the release's minimum, or than an earlier release's
    /// (minimums only rise), so it cannot.
    No,
    /// No minimum is known for the release, and the driver meets every known earlier one.
    Unknown,
}

/// Whether driver `d` JIT-compiles PTX built by toolkit `v`.
pub(crate) fn ptx_jit(d: &DriverVersion, v: &CudaVersion) -> PtxJit {
    let t = (v.major, v.minor);
    match minimum_for(v) {
        Some(min) if *d >= min => PtxJit::Yes(min),
        Some(_) => PtxJit::No,
        None if known_minimums().any(|(mm, min)| mm <= t && *d < min) => PtxJit::No,
        None => PtxJit::Unknown,
    }
}

/// Driver findings for a toolkit. `archs`: the kernels' archs once known (a build warns only
/// when they carry PTX the driver cannot JIT); `None` (the doctor) gives the PTX answer always.
pub(crate) fn checks(d: &Driver, toolkit: &CudaVersion, archs: Option<&ArchList>) -> Vec<Check> {
    let mut out = Vec::new();
    let (ma, mi) = (toolkit.major, toolkit.minor);
    let (min, base) = (minimum_for(toolkit), baseline(ma));
    let Some(v) = &d.version else {
        let need = match (&min, &base) {
            (Some(m), _) => format!(" (programs built with CUDA {ma}.{mi} need driver >= {m} to run)"),
            (None, Some(b)) => format!(
                " (programs built with CUDA {ma}.{mi} need driver >= {b} to run their SASS, by minor-version compatibility; the driver that JIT-compiles their PTX is unknown: no minimum driver for CUDA {ma}.{mi} is known)"
            ),
            (None, None) => String::new(),
        };
        out.push(Check::ok("driver", format!("no NVIDIA driver seen: normal on a build machine{need}")));
        return out;
    };
    let src = d.source.as_deref().unwrap_or("?");
    let too_old = |need: &DriverVersion| {
        Check::warn(
            "driver",
            format!("driver {v} (from {src}) is older than CUDA {toolkit} needs (>= {need}): programs built here will not run on this machine; update the driver, or build with an older toolkit (this machine's driver supports CUDA {})", newest_cuda(v).map_or("?".into(), |(a, b)| format!("{a}.{b}"))),
        )
    };
    out.push(match (&min, &base) {
        (Some(min), _) if v >= min => {
            Check::ok("driver", format!("driver {v} (from {src}) runs CUDA {toolkit} programs, PTX included (needs >= {min})"))
        }
        (Some(min), Some(base)) if v >= base => Check::ok(
            "driver",
            format!("driver {v} (from {src}) is older than CUDA {toolkit}'s {min}, but runs its SASS through minor-version compatibility (>= {base} for {ma}.x); PTX from it cannot be JIT-compiled"),
        ),
        (Some(min), _) => too_old(min),
        (None, Some(base)) if v >= base => Check::ok(
            "driver",
            format!("driver {v} (from {src}) runs SASS built by CUDA {toolkit} through minor-version compatibility (>= {base} for {ma}.x); {}", match ptx_jit(v, toolkit) {
                PtxJit::No => format!("PTX built by it cannot be JIT-compiled by this driver (it supports {})", jit_ceiling(v)),
                _ => format!("whether this driver JIT-compiles PTX built by it is unknown (no minimum driver for CUDA {ma}.{mi} is known)"),
            }),
        ),
        (None, Some(base)) => too_old(base),
        (None, None) => Check::ok("driver", format!("driver {v} (from {src}); no minimum known for CUDA {toolkit}")),
    });
    // The GPUs without SASS in the kernels (every GPU, for the doctor): where JIT would run.
    let gpu_sms: Vec<String> = d
        .gpus
        .iter()
        .filter_map(|g| g.compute_cap)
        .filter(|a| archs.is_none_or(|l| !l.real.contains(a)))
        .map(|a| a.sm().to_string())
        .collect();
    let hint = if gpu_sms.is_empty() {
        String::new()
    } else {
        format!(": add SASS for this GPU, e.g. CUDAARCHS=\"{}-real\"", gpu_sms.join("-real;"))
    };
    let ptx = archs.is_none_or(|l| !l.ptx.is_empty());
    match (ptx_jit(v, toolkit), archs) {
        (PtxJit::No, _) if ptx => out.push(Check::warn(
            "ptx-jit",
            format!("PTX built by CUDA {toolkit} cannot be JIT-compiled by driver {v} (it supports {}): GPUs without matching SASS will fail with CUDA_ERROR_UNSUPPORTED_PTX_VERSION{hint}", jit_ceiling(v)),
        )),
        (PtxJit::Yes(min), None) => {
            out.push(Check::ok("ptx-jit", format!("driver {v} JIT-compiles PTX built by CUDA {toolkit} (needs >= {min})")))
        }
        // A build says nothing: a warning on every build would be about what nobody knows.
        (PtxJit::Unknown, None) => out.push(Check::ok(
            "ptx-jit",
            format!("unknown whether driver {v} JIT-compiles PTX built by CUDA {toolkit}: no minimum driver for CUDA {ma}.{mi} is known (it supports {}); SASS for the GPU's arch needs no JIT{}", jit_ceiling(v), hint.replacen(": add", "; add", 1)),
        )),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_version_lines() {
        let prop = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n";
        assert_eq!(parse_proc_version(prop).unwrap().to_string(), "550.54.14");
        let open = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n";
        assert_eq!(parse_proc_version(open).unwrap().to_string(), "580.159.04");
        let aarch = "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  570.124.06  Release Build  (dvs-builder@U16-I1-N08-12-3)  Wed Feb 26 01:33:19 UTC 2025\n";
        assert_eq!(parse_proc_version(aarch).unwrap().to_string(), "570.124.06");
        assert_eq!(parse_proc_version("garbage"), None);
        assert_eq!(parse_proc_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  x.y  \n"), None);
    }

    #[test]
    fn nvidia_smi_csv() {
        let (v, g) = parse_nvidia_smi("NVIDIA H200, 580.159.04, 9.0\n", true).unwrap();
        assert_eq!(v.to_string(), "580.159.04");
        assert_eq!(
            g,
            [Gpu { name: "NVIDIA H200".into(), compute_cap: Some(Arch { major: 9, minor: 0, suffix: None }) }]
        );
        let (_, g) = parse_nvidia_smi(
            "NVIDIA GeForce RTX 3090, 535.104.05, 8.6\nNVIDIA A100-SXM4-80GB, 535.104.05, 8.0\n",
            true,
        )
        .unwrap();
        assert_eq!(g.len(), 2);
        let (v, g) = parse_nvidia_smi("Tesla V100-SXM2-16GB, 470.82.01\n", false).unwrap();
        assert_eq!((v.to_string(), g[0].compute_cap), ("470.82.01".into(), None));
        assert_eq!(parse_nvidia_smi("Weird, Name, 550.54.14, 8.9", true).unwrap().1[0].name, "Weird, Name");
        for bad in ["", "garbage", "NVIDIA X, not-a-version, 9.0", "NVIDIA X, 550.54.14, nine"] {
            assert!(parse_nvidia_smi(bad, true).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn minimums_and_jit_ceiling() {
        let v = |s| CudaVersion::parse(s).unwrap();
        let d = |s| DriverVersion::parse(s).unwrap();
        assert_eq!(minimum_for(&v("12.4.131")).unwrap().to_string(), "550.54.14");
        assert_eq!(minimum_for(&v("13.5.37")), None, "no source gives 13.5's minimum");
        assert_eq!(baseline(13).unwrap().to_string(), "580");
        assert_eq!(newest_cuda(&d("580.159.04")), Some((13, 0)));
        assert_eq!(newest_cuda(&d("535.104.05")), Some((12, 2)));
        assert_eq!(jit_ceiling(&d("580.159.04")), "CUDA <= 13.0");
        assert_eq!(jit_ceiling(&d("610.43.02")), "CUDA <= 13.3; 13.4 and newer: unknown");
        assert_eq!(jit_ceiling(&d("100")), "no CUDA release cuda-build knows");
    }

    #[test]
    fn ptx_jit_is_yes_no_or_unknown() {
        let v = |s| CudaVersion::parse(s).unwrap();
        let d = |s| DriverVersion::parse(s).unwrap();
        // Measured on an H200 with 580.159.04: 13.5's PTX fails (CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
        // and 12.4's is JIT-compiled; 13.1 already needs 590.44.01, so 13.5 cannot need less.
        assert_eq!(ptx_jit(&d("580.159.04"), &v("13.5.37")), PtxJit::No);
        assert_eq!(ptx_jit(&d("580.159.04"), &v("12.4.131")), PtxJit::Yes(d("550.54.14")));
        assert_eq!(ptx_jit(&d("580.159.04"), &v("13.0.88")), PtxJit::Yes(d("580.65.06")));
        assert_eq!(ptx_jit(&d("595.45.04"), &v("13.3.73")), PtxJit::No);
        // Newer than every known minimum: 13.4 and 13.5 have none, so no prediction.
        for driver in ["610.43.02", "700.10.01"] {
            assert_eq!(ptx_jit(&d(driver), &v("13.5.37")), PtxJit::Unknown, "{driver}");
            assert_eq!(ptx_jit(&d(driver), &v("13.4.92")), PtxJit::Unknown, "{driver}");
            assert_eq!(ptx_jit(&d(driver), &v("13.3.73")), PtxJit::Yes(d("610.43.02")), "{driver}");
        }
        // A toolkit newer than the tables, on a driver that fails a known release below it.
        assert_eq!(ptx_jit(&d("580.159.04"), &v("14.0.1")), PtxJit::No);
        assert_eq!(ptx_jit(&d("700.10.01"), &v("14.0.1")), PtxJit::Unknown);
    }
}
