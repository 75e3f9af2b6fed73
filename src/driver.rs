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
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gpu {
    /// `NVIDIA H200`.
    pub name: String,
    /// `9.0`, when the source reports it (nvidia-smi's field exists from driver 510).
    pub compute_cap: Option<Arch>,
}

/// What was seen of the driver.
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

/// The minimum driver for toolkit `v` (GA of its minor), or the major's baseline.
pub(crate) fn minimum_for(v: &CudaVersion) -> Option<(DriverVersion, &'static str)> {
    let row = compat::DRIVER_MINIMUM.iter().find(|(mm, _, _)| *mm == (v.major, v.minor));
    let exact = row.and_then(|(_, linux, win)| if windows() { *win } else { *linux });
    match exact.and_then(DriverVersion::parse) {
        Some(d) => Some((d, "NVIDIA's release notes table 3")),
        None => baseline(v.major).map(|b| (b, "the major's minor-version-compatibility baseline")),
    }
}

fn baseline(major: u32) -> Option<DriverVersion> {
    let (_, linux, win) = compat::DRIVER_BASELINE.iter().find(|(m, _, _)| *m == major)?;
    let s = if windows() { (*win)? } else { linux };
    DriverVersion::parse(s)
}

/// The newest toolkit release whose minimum this driver meets: the newest PTX it can JIT.
pub(crate) fn newest_cuda(d: &DriverVersion) -> Option<(u32, u32)> {
    compat::DRIVER_MINIMUM
        .iter()
        .filter_map(|(mm, linux, win)| Some((*mm, DriverVersion::parse(if windows() { (*win)? } else { (*linux)? })?)))
        .filter(|(_, min)| min <= d)
        .map(|(mm, _)| mm)
        .max()
}

/// Driver findings for a toolkit (and, once kernels are known, their archs).
pub(crate) fn checks(d: &Driver, toolkit: &CudaVersion, archs: Option<&ArchList>) -> Vec<Check> {
    let mut out = Vec::new();
    let Some(v) = &d.version else {
        let need = minimum_for(toolkit)
            .map(|(m, _)| {
                format!(" (programs built with CUDA {}.{} need driver >= {m} to run)", toolkit.major, toolkit.minor)
            })
            .unwrap_or_default();
        out.push(Check::ok("driver", format!("no NVIDIA driver seen: normal on a build machine{need}")));
        return out;
    };
    let src = d.source.as_deref().unwrap_or("?");
    match minimum_for(toolkit) {
        Some((min, _)) if *v >= min => {
            out.push(Check::ok("driver", format!("driver {v} (from {src}) runs CUDA {} programs (needs >= {min})", toolkit)))
        }
        Some((min, _)) => match baseline(toolkit.major) {
            Some(base) if *v >= base => out.push(Check::ok(
                "driver",
                format!("driver {v} (from {src}) is older than CUDA {toolkit}'s {min}, but runs its SASS through minor-version compatibility (>= {base} for {}.x); PTX from it cannot be JIT-compiled", toolkit.major),
            )),
            _ => out.push(Check::warn(
                "driver",
                format!("driver {v} (from {src}) is older than CUDA {toolkit} needs (>= {min}): programs built here will not run on this machine; update the driver, or build with an older toolkit (this machine's driver supports CUDA {})", newest_cuda(v).map_or("?".into(), |(a, b)| format!("{a}.{b}"))),
            )),
        },
        None => out.push(Check::ok("driver", format!("driver {v} (from {src}); no minimum known for CUDA {toolkit}"))),
    }
    if let (Some(archs), Some((ma, mi))) = (archs, newest_cuda(v)) {
        if !archs.ptx.is_empty() && (toolkit.major, toolkit.minor) > (ma, mi) {
            let gpu_sms: Vec<String> = d
                .gpus
                .iter()
                .filter_map(|g| g.compute_cap)
                .filter(|a| !archs.real.contains(a))
                .map(|a| a.sm().to_string())
                .collect();
            let hint = if gpu_sms.is_empty() {
                String::new()
            } else {
                format!(": add SASS for this GPU, e.g. CUDAARCHS=\"{}-real\"", gpu_sms.join("-real;"))
            };
            out.push(Check::warn(
                "ptx-jit",
                format!("PTX built by CUDA {toolkit} cannot be JIT-compiled by driver {v} (it supports CUDA <= {ma}.{mi}): GPUs without matching SASS will fail with CUDA_ERROR_UNSUPPORTED_PTX_VERSION{hint}"),
            ));
        }
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
        assert_eq!(minimum_for(&v("12.4.131")).unwrap().0.to_string(), "550.54.14");
        assert_eq!(
            minimum_for(&v("13.5.37")).unwrap().0.to_string(),
            "580",
            "unverified rows fall back to the baseline"
        );
        assert_eq!(newest_cuda(&DriverVersion::parse("580.159.04").unwrap()), Some((13, 0)));
        assert_eq!(newest_cuda(&DriverVersion::parse("535.104.05").unwrap()), Some((12, 2)));
    }
}
