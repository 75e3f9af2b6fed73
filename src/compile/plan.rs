//! The plan shared by every job of one build: the architectures (from the builder, the
//! variables or the GPUs), the host compiler, the nvcc flags, the rebuild key and the
//! launcher. Everything here is decided before any nvcc runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::launcher::Launcher;
use super::{sources, Format, Kernels};
use crate::arch::{self, ArchList, Item, SpecSource, Supported};
use crate::error::Error;
use crate::run::Cmd;

/// A parser for one spec syntax.
type SpecParser = fn(&str, &SpecSource) -> Result<Vec<Item>, Error>;

/// The variables an arch spec is read from, in precedence order, with their syntax.
const ARCH_VARS: &[(&str, SpecParser)] = &[
    ("CUDAARCHS", arch::parse_cmake),
    ("CMAKE_CUDA_ARCHITECTURES", arch::parse_cmake),
    ("TORCH_CUDA_ARCH_LIST", arch::parse_torch),
    ("CUDA_COMPUTE_CAP", arch::parse_compute_cap),
];

/// Without any spec: SASS + PTX for `sm_75` (Turing, the oldest arch every CUDA 11-13
/// toolkit targets): it runs on every GPU since 2018, newer ones JIT-compiling the PTX.
pub const DEFAULT_ARCH: &str = "75";

pub(crate) struct Plan {
    pub archs: ArchList,
    pub arch_source: SpecSource,
    /// The arguments every job shares (format, archs, host compiler, flags).
    pub common: Vec<String>,
    /// The include directories, absolute: headers below them are the crate's.
    pub includes: Vec<PathBuf>,
    /// Hash of everything that decides the outputs besides the sources.
    pub key: u64,
    pub launcher: Option<Launcher>,
    /// Dependencies come from the host compiler's own preprocessing passes (gcc's
    /// `SUNPRO_DEPENDENCIES`, which every pass appends to), not from nvcc's `-MD`, which
    /// adds a preprocessing pass of its own (measured: 29% of nvcc's time on small kernels).
    /// Not through a launcher: a cache hit runs no preprocessor and would write no depfile.
    pub host_deps: bool,
    /// Where each job's nvcc duration is kept beyond `OUT_DIR`, so a build after `cargo
    /// clean` still starts the long poles first: `<cuda-build cache>/durations`, unless
    /// `CUDA_BUILD_DURATIONS` is `0`/`off`/`no`/`false`.
    pub durations: Option<PathBuf>,
    /// `NVCC_PREPEND_FLAGS` / `NVCC_APPEND_FLAGS`, which nvcc adds itself: shown in errors.
    pub nvcc_env: Vec<(&'static str, String)>,
    /// A job's cost per byte of source, relative: what orders jobs with no recorded duration.
    pub per_byte: f64,
    /// For a static library: the archiver, chosen with the host compiler (see [`crate::host::archiver`]).
    pub archiver: Option<PathBuf>,
}

impl Plan {
    pub(crate) fn new(k: &Kernels<'_>, base: &Path, warnings: &mut Vec<String>) -> Result<Plan, Error> {
        let env = k.cuda.env();
        let toolkit = k.cuda.toolkit();
        let (archs, source, driver) = resolve_archs(k, warnings)?;
        // The host compiler, chosen and checked before any nvcc runs.
        let host = crate::host::select(env, toolkit, k.host.as_deref(), k.allow_unsupported, Duration::from_secs(60))?;
        warnings.extend(host.warning.clone());
        for c in crate::driver::checks(&driver, &toolkit.version, Some(&archs)) {
            if c.status == crate::Status::Warn {
                warnings.push(c.message);
            }
        }

        let mut common: Vec<String> = vec![k.format.flag().to_owned()];
        common.extend(match &k.format {
            Format::Ptx => archs.ptx.iter().map(|a| format!("-arch=compute_{a}")).collect(),
            Format::Cubin => archs.real.iter().map(|a| format!("-arch=sm_{a}")).collect(),
            _ => archs.gencode(),
        });
        if matches!(k.format, Format::StaticLib(_)) && !env.target().is_some_and(|t| t.contains("windows")) {
            common.extend(["-Xcompiler".into(), "-fPIC".into()]);
        }
        let debug = env.cargo_var("DEBUG").is_some_and(|d| d == "true");
        if k.device_debug {
            common.push("-G".into());
        } else if k.lineinfo.unwrap_or(debug) {
            common.push("-lineinfo".into());
        }
        if k.fast_math {
            common.push("--use_fast_math".into());
        }
        // Always explicit: NVCC_CCBIN is honoured by nvcc 13 only, and Debian's 11.8 picks
        // its own g++-N; the chosen compiler's path and version are part of the key.
        common.push("-ccbin".into());
        common.push(host.compiler.path.to_string_lossy().into_owned());
        if !host.compiler.supported {
            common.push("-allow-unsupported-compiler".into());
        }
        let includes: Vec<PathBuf> = k.includes.iter().map(|i| base.join(i)).collect();
        for i in &includes {
            sources::check_path(i, "include directory")?;
            // Relative to the crate when below it, so outputs do not depend on the checkout's place.
            common.push(format!("-I{}", relative(i, base).display()));
        }
        for (name, v) in &k.defines {
            common.push(match v {
                Some(v) => format!("-D{name}={v}"),
                None => format!("-D{name}"),
            });
        }
        common.extend(k.flags.iter().cloned());
        // nvcc reads these itself: never passed twice, but they change the output.
        let mut nvcc_env = Vec::new();
        for var in ["NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS"] {
            if let Some(v) = env.get_str(var).filter(|v| !v.is_empty()) {
                nvcc_env.push((var, v));
            }
        }
        let key = super::stamp::key_hash(&format!(
            "nvcc={}\nversion={}\nhost={:?}\nargs={:?}\nnvcc_env={nvcc_env:?}",
            toolkit.nvcc.display(),
            toolkit.version,
            host.compiler.version.map(|v| v.to_string()),
            common
        ));
        let launcher = Launcher::from_env(env)?;
        let host_deps = launcher.is_none() && host.compiler.kind == crate::host::HostKind::Gcc;
        let off = env
            .get_str("CUDA_BUILD_DURATIONS")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "0" | "off" | "no" | "false"));
        let durations = if off { None } else { crate::toolkit::locate::cache_dir(env).map(|c| c.join("durations")) };
        let per_byte = per_byte(&k.format, &archs);
        let archiver = match k.format {
            Format::StaticLib(_) => Some(crate::host::archiver(env, &host.compiler.path).map_err(Error::Tool)?),
            _ => None,
        };
        Ok(Plan {
            archs,
            arch_source: source,
            common,
            includes,
            key,
            launcher,
            nvcc_env,
            host_deps,
            durations,
            per_byte,
            archiver,
        })
    }
}

/// The architectures of a group, for its format, checked against the toolkit; where the
/// spec came from; and what was seen of the driver (for its checks).
pub(crate) fn resolve_archs(
    k: &Kernels<'_>,
    warnings: &mut Vec<String>,
) -> Result<(ArchList, SpecSource, crate::driver::Driver), Error> {
    let env = k.cuda.env();
    let (mut items, mut source, spec) = arch_spec(k)?;
    // The GPUs present: for `native`, and as the default when no spec is given.
    let wants_gpus = source == SpecSource::Default || items.contains(&Item::Native);
    let driver = if wants_gpus {
        crate::driver::probe(env, crate::driver::NVIDIA_SMI_TIMEOUT)
    } else {
        crate::driver::quick(env)
    };
    let gpus: Vec<arch::Arch> = driver.gpus.iter().filter_map(|g| g.compute_cap).collect();
    if source == SpecSource::Default && !gpus.is_empty() {
        items = vec![Item::Native];
        source = SpecSource::Native;
    }
    let archs = arch::resolve(&items, &source, &spec, &supported(k), &gpus, warnings)?;
    Ok((for_format(&k.format, archs)?, source, driver))
}

/// `path` relative to `base` (as `./x`, so a name starting with `-` is never an option),
/// or as it is when outside.
pub(crate) fn relative(path: &Path, base: &Path) -> PathBuf {
    match path.strip_prefix(base) {
        Ok(rel) => Path::new(".").join(rel),
        Err(_) => path.to_path_buf(),
    }
}

/// The passes nvcc runs over each byte of a job, weighted: one per PTX it emits (the
/// front end), four per real arch (the front end and ptxas, which dominates), one for the
/// host compiler of an object. Measured on candle-kernels (CUDA 12.4): an `sm_86` object
/// takes 3 to 7 times a PTX file's time per byte, so with sizes alone an object file
/// that is a long pole sorted behind larger PTX files and started last.
fn per_byte(format: &Format, archs: &ArchList) -> f64 {
    let host = if matches!(format, Format::StaticLib(_)) { 1 } else { 0 };
    (archs.ptx.len() + 4 * archs.real.len() + host).max(1) as f64
}

/// What the outputs will hold: PTX is one virtual arch (the lowest requested, which newer
/// GPUs JIT), a cubin one real arch; fatbins and objects hold the whole list.
fn for_format(format: &Format, archs: ArchList) -> Result<ArchList, Error> {
    Ok(match format {
        Format::Ptx => {
            let lowest = archs.real.iter().chain(&archs.ptx).min().copied();
            ArchList { real: Vec::new(), ptx: lowest.into_iter().collect() }
        }
        Format::Cubin => {
            if archs.real.len() != 1 {
                return Err(Error::CubinNeedsOneArch(archs.names()));
            }
            ArchList { real: archs.real.clone(), ptx: Vec::new() }
        }
        _ => archs,
    })
}

/// The spec and where it came from: builder, then the variables, then the builder's
/// default, then the default.
fn arch_spec(k: &Kernels<'_>) -> Result<(Vec<Item>, SpecSource, String), Error> {
    let env = k.cuda.env();
    if let Some(spec) = &k.arch {
        return Ok((arch::parse_cmake(spec, &SpecSource::Builder)?, SpecSource::Builder, spec.clone()));
    }
    for (var, parse) in ARCH_VARS {
        if let Some(spec) = env.get(var) {
            let spec = spec.to_string_lossy().into_owned();
            let source = SpecSource::Var((*var).to_owned());
            return Ok((parse(&spec, &source)?, source, spec));
        }
    }
    if let Some(spec) = &k.default_arch {
        let source = SpecSource::BuilderDefault;
        return Ok((arch::parse_cmake(spec, &source)?, source, spec.clone()));
    }
    Ok((arch::parse_cmake(DEFAULT_ARCH, &SpecSource::Default)?, SpecSource::Default, DEFAULT_ARCH.into()))
}

/// The toolkit's architectures, asked of nvcc once and cached in `OUT_DIR`.
fn supported(k: &Kernels<'_>) -> Supported {
    let env = k.cuda.env();
    let t = k.cuda.toolkit();
    let text = crate::cache::get_or(env, "--list-gpu-code", &t.nvcc, || {
        Cmd::new(&t.nvcc).arg("--list-gpu-code").success(Duration::from_secs(60)).map(|o| o.stdout)
    })
    .ok();
    text.and_then(|t2| Supported::from_list(&t2, t.version)).unwrap_or_else(|| Supported::from_table(t.version))
}
