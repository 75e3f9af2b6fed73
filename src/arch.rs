//! GPU architectures: the spec syntaxes people already write, validation against the
//! toolkit, and the `-gencode` flags they become.

use std::fmt;

use crate::compat;
use crate::error::Error;
use crate::version::CudaVersion;

/// A GPU architecture: compute capability plus an optional `a` (arch-specific) or
/// `f` (family) suffix. `sm()` is the number nvcc uses (`8.6` -> 86, `12.0` -> 120).
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let mut kernels = cuda.kernels();
/// kernels.dir("kernels").arch("75;86");
/// // Known before anything compiles: SASS for sm_75 and sm_86, PTX for compute_86.
/// let archs: cuda_build::ArchList = kernels.archs().expect("a valid spec");
/// let newest: Option<&cuda_build::Arch> = archs.real.iter().max();
/// if newest.is_some_and(|a| a.major >= 8) {
///     kernels.define("HAS_BF16", None);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arch {
    /// Compute capability major (`8` in 8.6).
    pub major: u32,
    /// Compute capability minor (`6` in 8.6).
    pub minor: u32,
    /// `Some('a')`, `Some('f')` or `None`.
    pub suffix: Option<char>,
}

impl Arch {
    /// From nvcc's number (`86`, `90a`'s 90, `120`).
    #[must_use]
    pub fn from_sm(sm: u32) -> Self {
        Arch { major: sm / 10, minor: sm % 10, suffix: None }
    }

    /// The `sm_`/`compute_` number.
    #[must_use]
    pub fn sm(&self) -> u32 {
        self.major * 10 + self.minor
    }

    fn name(&self) -> String {
        format!("{}{}", self.sm(), self.suffix.map(String::from).unwrap_or_default())
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One requested architecture and what to build for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchTarget {
    /// The architecture.
    pub arch: Arch,
    /// SASS (`sm_XX`), run as is on that GPU.
    pub real: bool,
    /// PTX (`compute_XX`) always, or `None` for "PTX only if it is the highest plain entry".
    pub ptx: Option<bool>,
}

/// Where an arch spec came from, for messages and precedence.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let compiled = cuda.kernels().dir("kernels").default_arch("80").compile_or_exit();
/// if let cuda_build::SpecSource::Var(var) = &compiled.arch_source {
///     println!("cargo::warning=architectures from {var}");
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecSource {
    /// `Kernels::arch`.
    Builder,
    /// `Kernels::default_arch`: the crate's default, below the variables.
    BuilderDefault,
    /// A variable (`CUDAARCHS`, `CMAKE_CUDA_ARCHITECTURES`, `TORCH_CUDA_ARCH_LIST`, `CUDA_COMPUTE_CAP`).
    Var(String),
    /// The GPUs present (`native`).
    Native,
    /// No spec: the documented default.
    Default,
}

impl fmt::Display for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecSource::Builder => f.write_str("Kernels::arch"),
            SpecSource::BuilderDefault => f.write_str("Kernels::default_arch"),
            SpecSource::Var(v) => f.write_str(v),
            SpecSource::Native => f.write_str("native (the GPUs present)"),
            SpecSource::Default => f.write_str("the default (no spec given)"),
        }
    }
}

/// A parsed spec, before it meets a toolkit: `all`/`all-major`/`native` are resolved later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Target(ArchTarget),
    All,
    AllMajor,
    Native,
}

fn invalid(source: &SpecSource, spec: &str, item: &str, reason: &str) -> Error {
    Error::InvalidArch {
        source: source.to_string(),
        spec: spec.to_owned(),
        item: item.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `86`, `100`, `90a`, `100f` (nvcc / `CMake` numbers).
fn parse_number(s: &str) -> Option<Arch> {
    let (digits, suffix) = match s.strip_suffix(['a', 'f']) {
        Some(d) => (d, s.chars().last()),
        None => (s, None),
    };
    if digits.len() < 2 || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some(Arch { major: n / 10, minor: n % 10, suffix })
}

/// `8.6`, `9.0a`, `12.0` (`PyTorch` / compute capability form).
fn parse_dotted(s: &str) -> Option<Arch> {
    let (digits, suffix) = match s.strip_suffix(['a', 'f']) {
        Some(d) => (d, s.chars().last()),
        None => (s, None),
    };
    let (ma, mi) = digits.split_once('.')?;
    let ok = |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !ok(ma) || !ok(mi) || mi.len() != 1 {
        return None;
    }
    Some(Arch { major: ma.parse().ok()?, minor: mi.parse().ok()?, suffix })
}

fn split_items(spec: &str) -> impl Iterator<Item = &str> {
    spec.split([';', ',', ' ', '\t', '\n']).filter(|s| !s.is_empty())
}

/// `CMake`'s `CUDAARCHS` / `CMAKE_CUDA_ARCHITECTURES` syntax: `75;86`, `86-real`,
/// `86-virtual`, `90a`, `100f`, `all`, `all-major`, `native`; nvcc's `sm_86` /
/// `compute_86` are accepted too.
pub(crate) fn parse_cmake(spec: &str, source: &SpecSource) -> Result<Vec<Item>, Error> {
    let mut out = Vec::new();
    for item in split_items(spec) {
        let lower = item.to_ascii_lowercase();
        let parsed = match lower.as_str() {
            "all" => Some(Item::All),
            "all-major" => Some(Item::AllMajor),
            "native" => Some(Item::Native),
            _ => {
                let (body, real, ptx) = if let Some(b) = lower.strip_suffix("-real") {
                    (b, true, Some(false))
                } else if let Some(b) = lower.strip_suffix("-virtual") {
                    (b, false, Some(true))
                } else if let Some(b) = lower.strip_prefix("sm_") {
                    (b, true, Some(false))
                } else if let Some(b) = lower.strip_prefix("compute_") {
                    (b, false, Some(true))
                } else {
                    (lower.as_str(), true, None)
                };
                parse_number(body).map(|arch| Item::Target(ArchTarget { arch, real, ptx }))
            }
        };
        match parsed {
            Some(p) => out.push(p),
            None => {
                let hint = if item.contains('.') || item.contains('+') {
                    "this is PyTorch's syntax: CMake's is `86` (or `86-real`, `86-virtual`); use TORCH_CUDA_ARCH_LIST for `8.6+PTX`"
                } else {
                    "expected an architecture number such as 75, 86, 90a, 100f (optionally -real or -virtual), all, all-major or native"
                };
                return Err(invalid(source, spec, item, hint));
            }
        }
    }
    if out.is_empty() {
        return Err(invalid(source, spec, spec, "no architecture in the list"));
    }
    Ok(out)
}

/// `PyTorch`'s names for architecture families (`torch/utils/cpp_extension.py`, `named_arches`).
const TORCH_NAMES: &[(&str, &str)] = &[
    ("kepler+tesla", "3.7"),
    ("kepler", "3.5+PTX"),
    ("maxwell+tegra", "5.3"),
    ("maxwell", "5.0;5.2+PTX"),
    ("pascal", "6.0;6.1+PTX"),
    ("volta+tegra", "7.2"),
    ("volta", "7.0+PTX"),
    ("turing", "7.5+PTX"),
    ("ampere+tegra", "8.7"),
    ("ampere", "8.0;8.6+PTX"),
    ("ada", "8.9+PTX"),
    ("hopper", "9.0+PTX"),
    ("blackwell+tegra", "11.0"),
    ("blackwell", "10.0;10.3;12.0;12.1+PTX"),
];

/// `PyTorch`'s `TORCH_CUDA_ARCH_LIST`: `7.5;8.6+PTX`, space separated too, family names
/// (`Ampere`). An entry builds SASS only; `+PTX` adds that arch's PTX.
pub(crate) fn parse_torch(spec: &str, source: &SpecSource) -> Result<Vec<Item>, Error> {
    let mut out = Vec::new();
    for item in split_items(spec) {
        let lower = item.to_ascii_lowercase();
        if let Some((_, expansion)) = TORCH_NAMES.iter().find(|(n, _)| *n == lower) {
            out.extend(parse_torch(expansion, source)?);
            continue;
        }
        let (body, ptx) = match lower.strip_suffix("+ptx") {
            Some(b) => (b, true),
            None => (lower.as_str(), false),
        };
        match parse_dotted(body) {
            Some(arch) => out.push(Item::Target(ArchTarget { arch, real: true, ptx: Some(ptx) })),
            None => {
                let hint = if body.is_empty() || lower.ends_with('+') {
                    "a `+` must be followed by PTX, as in 8.6+PTX"
                } else {
                    "expected a compute capability such as 7.5, 8.6+PTX, 9.0a, or a name such as Ampere, Hopper"
                };
                return Err(invalid(source, spec, item, hint));
            }
        }
    }
    if out.is_empty() {
        return Err(invalid(source, spec, spec, "no architecture in the list"));
    }
    Ok(out)
}

/// candle / `bindgen_cuda`'s `CUDA_COMPUTE_CAP`: `86` or `8.6`, a list allowed.
pub(crate) fn parse_compute_cap(spec: &str, source: &SpecSource) -> Result<Vec<Item>, Error> {
    let mut out = Vec::new();
    for item in split_items(spec) {
        match parse_number(item).or_else(|| parse_dotted(item)) {
            Some(arch) => out.push(Item::Target(ArchTarget { arch, real: true, ptx: None })),
            None => return Err(invalid(source, spec, item, "expected a compute capability such as 86 or 8.6")),
        }
    }
    if out.is_empty() {
        return Err(invalid(source, spec, spec, "no architecture in the list"));
    }
    Ok(out)
}

/// What the toolkit can target: `sm_` numbers, from nvcc when it answered, else the table.
#[derive(Clone, Debug)]
pub struct Supported {
    /// Ascending `sm_` numbers.
    pub sms: Vec<u32>,
    /// The toolkit's version (decides `a`/`f` variants).
    pub version: CudaVersion,
    /// `"nvcc --list-gpu-code"` or `"cuda-build's table"`.
    pub source: &'static str,
}

impl Supported {
    /// Parses `nvcc --list-gpu-code` output (`sm_75\nsm_80\n…`, unsorted in 13.x).
    pub(crate) fn from_list(text: &str, version: CudaVersion) -> Option<Self> {
        let mut sms: Vec<u32> =
            text.split_whitespace().filter_map(|w| w.strip_prefix("sm_")).filter_map(|n| n.parse().ok()).collect();
        sms.sort_unstable();
        sms.dedup();
        (!sms.is_empty()).then_some(Supported { sms, version, source: "nvcc --list-gpu-code" })
    }

    pub(crate) fn from_table(version: CudaVersion) -> Self {
        Supported { sms: compat::archs_for(&version), version, source: "cuda-build's table" }
    }

    fn supports(&self, a: &Arch) -> bool {
        self.sms.contains(&a.sm()) && a.suffix.is_none_or(|s| compat::variant_supported(a.sm(), s, &self.version))
    }

    fn range(&self) -> String {
        let list: Vec<String> = self.sms.iter().map(u32::to_string).collect();
        format!("{} ({})", list.join(" "), self.source)
    }
}

/// The resolved list: what nvcc is asked to build.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let compiled = cuda.kernels().dir("kernels").arch("75;86").compile_or_exit();
/// assert_eq!(compiled.archs.names(), ["sm_75", "sm_86", "compute_86"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchList {
    /// SASS targets, ascending.
    pub real: Vec<Arch>,
    /// PTX targets, ascending.
    pub ptx: Vec<Arch>,
}

impl ArchList {
    /// nvcc's `-gencode` arguments: one per arch, SASS and PTX of one arch in one flag.
    #[must_use]
    pub fn gencode(&self) -> Vec<String> {
        let mut all: Vec<Arch> = self.real.iter().chain(&self.ptx).copied().collect();
        all.sort();
        all.dedup();
        all.iter()
            .map(|a| {
                let mut codes = Vec::new();
                if self.real.contains(a) {
                    codes.push(format!("sm_{}", a.name()));
                }
                if self.ptx.contains(a) {
                    codes.push(format!("compute_{}", a.name()));
                }
                format!("-gencode=arch=compute_{},code=[{}]", a.name(), codes.join(","))
            })
            .collect()
    }

    /// `sm_75 sm_86 compute_86`, for messages and the generated module.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.real.iter().map(|a| format!("sm_{a}")).chain(self.ptx.iter().map(|a| format!("compute_{a}"))).collect()
    }
}

/// Resolves parsed items against the toolkit. `gpus` are the compute capabilities of the
/// GPUs present (for `native`); an explicit arch the toolkit cannot target is an error,
/// a GPU newer than the toolkit falls back to its newest arch plus PTX, with a warning.
pub(crate) fn resolve(
    items: &[Item],
    source: &SpecSource,
    spec: &str,
    supported: &Supported,
    gpus: &[Arch],
    warnings: &mut Vec<String>,
) -> Result<ArchList, Error> {
    let mut targets: Vec<ArchTarget> = Vec::new();
    let newest = supported.sms.last().copied().unwrap_or(0);
    for item in items {
        match item {
            Item::Target(t) => {
                if !supported.supports(&t.arch) {
                    return Err(Error::UnsupportedArch {
                        source: source.to_string(),
                        arch: t.arch.to_string(),
                        toolkit: supported.version,
                        supported: supported.range(),
                    });
                }
                targets.push(*t);
            }
            Item::All => targets.extend(supported.sms.iter().map(|&sm| ArchTarget {
                arch: Arch::from_sm(sm),
                real: true,
                ptx: None,
            })),
            // nvcc's all-major: the lowest arch of each major (13.x: 75 80 90 100 110 120).
            Item::AllMajor => targets.extend(
                supported
                    .sms
                    .iter()
                    .filter(|&&sm| supported.sms.iter().find(|&&o| o / 10 == sm / 10) == Some(&sm))
                    .map(|&sm| ArchTarget { arch: Arch::from_sm(sm), real: true, ptx: None }),
            ),
            Item::Native => {
                if gpus.is_empty() {
                    return Err(Error::NoGpuForNative { source: source.to_string(), spec: spec.to_owned() });
                }
                for gpu in gpus {
                    let plain = Arch { suffix: None, ..*gpu };
                    if supported.supports(&plain) {
                        targets.push(ArchTarget { arch: plain, real: true, ptx: None });
                    } else if plain.sm() > newest {
                        warnings.push(format!(
                            "GPU sm_{} is newer than CUDA {} knows (newest sm_{newest}): building sm_{newest} SASS plus compute_{newest} PTX, which the driver compiles for this GPU; install a newer toolkit for native code",
                            plain.sm(),
                            supported.version
                        ));
                        targets.push(ArchTarget { arch: Arch::from_sm(newest), real: true, ptx: Some(true) });
                    } else {
                        return Err(Error::UnsupportedArch {
                            source: source.to_string(),
                            arch: plain.to_string(),
                            toolkit: supported.version,
                            supported: supported.range(),
                        });
                    }
                }
            }
        }
    }
    let mut real: Vec<Arch> = targets.iter().filter(|t| t.real).map(|t| t.arch).collect();
    let mut ptx: Vec<Arch> = targets.iter().filter(|t| t.ptx == Some(true)).map(|t| t.arch).collect();
    // Plain entries: PTX for the highest one only, so newer GPUs can JIT it.
    if let Some(top) = targets.iter().filter(|t| t.ptx.is_none()).map(|t| t.arch).max() {
        if !ptx.iter().any(|p| *p >= top) {
            ptx.push(top);
        }
    }
    real.sort();
    real.dedup();
    ptx.sort();
    ptx.dedup();
    Ok(ArchList { real, ptx })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmake(s: &str) -> Result<Vec<Item>, Error> {
        parse_cmake(s, &SpecSource::Var("CUDAARCHS".into()))
    }

    fn list(items: &[Item], v: CudaVersion) -> Result<ArchList, Error> {
        resolve(items, &SpecSource::Builder, "", &Supported::from_table(v), &[], &mut Vec::new())
    }

    fn names(l: &ArchList) -> String {
        l.names().join(" ")
    }

    #[test]
    fn cmake_syntax() {
        let v = CudaVersion::new(13, 5);
        assert_eq!(names(&list(&cmake("75;86").unwrap(), v).unwrap()), "sm_75 sm_86 compute_86");
        assert_eq!(names(&list(&cmake("86-real").unwrap(), v).unwrap()), "sm_86");
        assert_eq!(names(&list(&cmake("86-virtual").unwrap(), v).unwrap()), "compute_86");
        assert_eq!(names(&list(&cmake("90a;100f").unwrap(), v).unwrap()), "sm_90a sm_100f compute_100f");
        assert_eq!(names(&list(&cmake("sm_80 compute_80").unwrap(), v).unwrap()), "sm_80 compute_80");
        let all_major = list(&cmake("all-major").unwrap(), v).unwrap();
        assert_eq!(names(&all_major), "sm_75 sm_80 sm_90 sm_100 sm_110 sm_120 compute_120");
        assert_eq!(list(&cmake("all").unwrap(), v).unwrap().real.len(), 13);
        let old = list(&cmake("all-major").unwrap(), CudaVersion::new(11, 8)).unwrap();
        assert_eq!(names(&old), "sm_35 sm_50 sm_60 sm_70 sm_80 sm_90 compute_90", "as nvcc 11.8 expands it");
        let g = list(&cmake("75;86").unwrap(), v).unwrap().gencode();
        assert_eq!(g, ["-gencode=arch=compute_75,code=[sm_75]", "-gencode=arch=compute_86,code=[sm_86,compute_86]"]);
    }

    #[test]
    fn torch_syntax() {
        let src = SpecSource::Var("TORCH_CUDA_ARCH_LIST".into());
        let v = CudaVersion::new(12, 4);
        let l = list(&parse_torch("7.5;8.6+PTX", &src).unwrap(), v).unwrap();
        assert_eq!(names(&l), "sm_75 sm_86 compute_86");
        let l = list(&parse_torch("7.5 8.0", &src).unwrap(), v).unwrap();
        assert_eq!(names(&l), "sm_75 sm_80", "PyTorch builds no PTX without +PTX");
        let l = list(&parse_torch("Ampere", &src).unwrap(), v).unwrap();
        assert_eq!(names(&l), "sm_80 sm_86 compute_86");
        let l = list(&parse_torch("9.0a", &src).unwrap(), v).unwrap();
        assert_eq!(names(&l), "sm_90a");
    }

    #[test]
    fn compute_cap_syntax() {
        let src = SpecSource::Var("CUDA_COMPUTE_CAP".into());
        let l = list(&parse_compute_cap("86", &src).unwrap(), CudaVersion::new(12, 4)).unwrap();
        assert_eq!(names(&l), "sm_86 compute_86");
        let l = list(&parse_compute_cap("86,90", &src).unwrap(), CudaVersion::new(12, 4)).unwrap();
        assert_eq!(names(&l), "sm_86 sm_90 compute_90");
    }

    #[test]
    fn bad_input_is_an_error_that_names_the_item() {
        let torch = SpecSource::Var("TORCH_CUDA_ARCH_LIST".into());
        for (spec, item) in [("8.6+", "8.6+"), ("foo", "foo"), (";;", ";;"), ("", ""), ("75;x", "x"), ("1234", "1234")]
        {
            let e = cmake(spec).unwrap_err().to_string();
            assert!(e.contains(&format!("{item:?}")), "{spec:?}: {e}");
            assert!(e.contains("CUDAARCHS"), "{e}");
        }
        assert!(cmake("8.6+").unwrap_err().to_string().contains("PyTorch's syntax"));
        for spec in ["8.6+", "86", "8.", "Amper", "+PTX"] {
            assert!(parse_torch(spec, &torch).is_err(), "{spec:?}");
        }
        assert!(parse_torch("8.6+", &torch).unwrap_err().to_string().contains("followed by PTX"));
    }

    #[test]
    fn unsupported_arch_names_arch_toolkit_and_range() {
        let e = list(&cmake("20").unwrap(), CudaVersion::new(13, 5)).unwrap_err().to_string();
        assert!(e.contains("sm_20"), "{e}");
        assert!(e.contains("CUDA 13.5"), "{e}");
        assert!(e.contains("75 80 86 87 88 89 90 100 103 107 110 120 121"), "{e}");
        // Variants exist only from their first toolkit: 100f from 12.9, 90a from 12.0.
        assert!(list(&cmake("100f").unwrap(), CudaVersion::new(12, 8)).is_err());
        assert!(list(&cmake("90a").unwrap(), CudaVersion::new(11, 8)).is_err());
        assert!(list(&cmake("86a").unwrap(), CudaVersion::new(13, 5)).is_err());
        // sm_35 is in 11.8, gone in 12.0.
        assert!(list(&cmake("35").unwrap(), CudaVersion::new(11, 8)).is_ok());
        assert!(list(&cmake("35").unwrap(), CudaVersion::new(12, 0)).is_err());
    }

    #[test]
    fn native_without_gpu_is_an_error_and_a_too_new_gpu_falls_back() {
        let sup = Supported::from_table(CudaVersion::new(12, 4));
        let e = resolve(&[Item::Native], &SpecSource::Var("CUDAARCHS".into()), "native", &sup, &[], &mut Vec::new());
        assert!(matches!(e, Err(Error::NoGpuForNative { .. })));
        let mut warnings = Vec::new();
        let gpu = Arch { major: 12, minor: 0, suffix: None };
        let l = resolve(&[Item::Native], &SpecSource::Native, "native", &sup, &[gpu], &mut warnings).unwrap();
        assert_eq!(names(&l), "sm_90 compute_90");
        assert!(warnings[0].contains("sm_120 is newer than CUDA 12.4"), "{warnings:?}");
    }
}
