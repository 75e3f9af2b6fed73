//! Prints what build.rs compiled, then (with a GPU) launches vector_add and checks it.
//!
//! ```text
//! vector-add               # load, launch, check (1 Mi floats and a size with a tail)
//! vector-add --bandwidth   # the kernel against cuMemcpyDtoD at a large size: the ratio
//! ```
//! Exit status: 0 when every result is right, or when there is no CUDA device (see
//! [`no_device`]: the only skip); 1 for anything else that fails (loading the module,
//! launching, copying, a wrong result); 2 for a bad argument.

use std::process::ExitCode;
use std::sync::Arc;

use cudarc::driver::{
    result, sys, CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig, PushKernelArg,
};

mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}

/// The toolkit build.rs compiled the kernels with (`13.5.37`).
const TOOLKIT: &str = env!("VECTOR_ADD_CUDA");

fn main() -> ExitCode {
    let bandwidth = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--bandwidth") => true,
        Some(other) => {
            eprintln!("vector-add: unknown argument {other:?}\nusage: vector-add [--bandwidth]");
            return ExitCode::from(2);
        }
    };
    println!("toolkit: CUDA {TOOLKIT}");
    println!("format: {}", kernels::FORMAT);
    println!("archs: {}", kernels::ARCHS.join(" "));
    for (name, image, entries) in kernels::MODULES {
        println!("module {name}: {} bytes, entries: {}", image.len(), entries.join(" "));
    }
    match no_device() {
        Ok(Some(why)) => {
            println!("skipped: no CUDA device ({why})");
            return ExitCode::SUCCESS;
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: the CUDA driver failed before any device was used: {}", describe(e));
            return ExitCode::FAILURE;
        }
    }
    let outcome = if bandwidth { run_bandwidth() } else { run_checks() };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The one decision that turns a run into a skip. "No CUDA device" means exactly: no driver
/// library can be loaded, or the driver says there is none (`cuInit` answers
/// `CUDA_ERROR_NO_DEVICE`, or it counts 0 devices). `Ok(Some(why))` then; `Ok(None)` when a
/// device is there. Any other driver error is returned, and fails the run: once a device may
/// exist, nothing is a skip.
fn no_device() -> Result<Option<String>, DriverError> {
    // SAFETY: only tries to load the library.
    if !unsafe { sys::is_culib_present() } {
        return Ok(Some("no driver library: libcuda.so.1 cannot be loaded".into()));
    }
    match result::init() {
        Err(DriverError(sys::CUresult::CUDA_ERROR_NO_DEVICE)) => {
            return Ok(Some("cuInit: CUDA_ERROR_NO_DEVICE".into()));
        }
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if result::device::get_count()? == 0 {
        return Ok(Some("the driver counts 0 devices".into()));
    }
    Ok(None)
}

/// What went wrong once a device existed: printed, exit status 1.
struct Failure(String);

impl From<DriverError> for Failure {
    fn from(e: DriverError) -> Self {
        Failure(describe(e))
    }
}

/// `CUDA_ERROR_UNSUPPORTED_PTX_VERSION (the provided PTX was compiled with ...)`.
fn describe(e: DriverError) -> String {
    let name = e.error_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|_| format!("{:?}", e.0));
    match e.error_string() {
        Ok(text) => format!("{name} ({})", text.to_string_lossy()),
        Err(_) => name,
    }
}

/// The device, its `sm_` number and the newest CUDA its driver supports.
struct Device {
    ctx: Arc<CudaContext>,
    name: String,
    sm: u32,
    driver_cuda: (i32, i32),
}

fn open_device() -> Result<Device, Failure> {
    let ctx = CudaContext::new(0)?;
    let (major, minor) = ctx.compute_capability()?;
    let mut version = 0;
    // SAFETY: cuDriverGetVersion writes one int.
    unsafe { sys::cuDriverGetVersion(&mut version) }.result()?;
    let driver_cuda = (version / 1000, version % 1000 / 10);
    let dev = Device { name: ctx.name()?, ctx, sm: (major * 10 + minor) as u32, driver_cuda };
    println!(
        "devices: {}; device 0: {} (sm_{}), driver supports CUDA {}.{}",
        CudaContext::device_count()?,
        dev.name,
        dev.sm,
        dev.driver_cuda.0,
        dev.driver_cuda.1
    );
    Ok(dev)
}

/// Loads `kernels::vector_add`. A module that does not load is an error that says why and
/// how to fix it, in the terms of cuda-build's driver check ("ptx-jit").
fn load(dev: &Device) -> Result<(CudaFunction, CudaFunction), Failure> {
    let sass = format!("sm_{}", dev.sm);
    let path = if kernels::ARCHS.contains(&sass.as_str()) {
        format!("SASS for {sass}")
    } else {
        let ptx: Vec<&str> = kernels::ARCHS.iter().copied().filter(|a| a.starts_with("compute_")).collect();
        format!("no SASS for {sass}: the driver JIT-compiles PTX ({})", ptx.join(" "))
    };
    println!("loading vector_add: {path}");
    let image = cudarc::nvrtc::Ptx::from_binary(kernels::vector_add::IMAGE.to_vec());
    let module = match dev.ctx.load_module(image) {
        Ok(m) => m,
        Err(e) => return Err(Failure(load_error(dev, e))),
    };
    Ok((module.load_function("vector_add")?, module.load_function("vector_add_scalar")?))
}

fn load_error(dev: &Device, e: DriverError) -> String {
    let (ma, mi) = dev.driver_cuda;
    let archs = kernels::ARCHS.join(" ");
    let head =
        format!("cannot load kernels::vector_add (archs: {archs}) on {} (sm_{}): {}", dev.name, dev.sm, describe(e));
    let has_sass = kernels::ARCHS.contains(&format!("sm_{}", dev.sm).as_str());
    let fix = match e.0 {
        sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION if !has_sass => format!(
            "\n  the image has no SASS for sm_{sm}, and its PTX, from CUDA {TOOLKIT}, is newer than this driver can JIT-compile (it supports CUDA <= {ma}.{mi})\n  fix: add SASS for this GPU, e.g. CUDAARCHS=\"{sm}-real\" (or build with CUDA <= {ma}.{mi}, or update the driver)",
            sm = dev.sm
        ),
        sys::CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU if !has_sass => format!(
            "\n  the image has neither SASS for sm_{sm} nor PTX of an arch <= sm_{sm} to JIT-compile\n  fix: add this GPU's arch, e.g. CUDAARCHS=\"{sm}\"",
            sm = dev.sm
        ),
        _ => String::new(),
    };
    head + &fix
}

/// Threads per block, and blocks for a grid-stride launch: one full wave of the device
/// (every SM holding as many blocks as it can), fewer when `items` needs fewer.
const BLOCK: u32 = 256;

fn grid(dev: &Device, items: u32) -> Result<LaunchConfig, Failure> {
    let sms = dev.ctx.attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?;
    let per_sm = dev.ctx.attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR)?;
    let wave = (sms.max(1) as u32) * (per_sm.max(BLOCK as i32) as u32 / BLOCK);
    let blocks = items.div_ceil(BLOCK).clamp(1, wave);
    Ok(LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 })
}

/// `c = f(a, b)` for `n` floats. vector_add works on float4s (n / 4 items), the scalar one on floats.
fn launch(
    dev: &Device,
    stream: &Arc<CudaStream>,
    f: &CudaFunction,
    vec4: bool,
    (a, b, c): (&CudaSlice<f32>, &CudaSlice<f32>, &mut CudaSlice<f32>),
    n: u32,
) -> Result<(), Failure> {
    let cfg = grid(dev, if vec4 { n / 4 + n % 4 } else { n })?;
    let mut builder = stream.launch_builder(f);
    builder.arg(a).arg(b).arg(c).arg(&n);
    // SAFETY: both kernels take (const float*, const float*, float*, unsigned), and every
    // buffer holds at least n floats.
    unsafe { builder.launch(cfg) }?;
    Ok(())
}

/// Inputs whose sums are exact in f32.
fn inputs(n: usize) -> (Vec<f32>, Vec<f32>) {
    ((0..n).map(|i| (i % 65536) as f32).collect(), (0..n).map(|i| (2 * (i % 4096)) as f32).collect())
}

fn wrong(a: &[f32], b: &[f32], c: &[f32]) -> usize {
    a.iter().zip(b).zip(c).filter(|((&x, &y), &z)| x + y != z).count()
}

fn run_checks() -> Result<(), Failure> {
    let dev = open_device()?;
    let (vector_add, scalar) = load(&dev)?;
    let stream = dev.ctx.default_stream();
    // A multiple of 4, and one with a 3-float tail (the kernel's scalar loop).
    let mut bad_total = 0;
    for (name, f, vec4, n) in [
        ("vector_add", &vector_add, true, 1usize << 20),
        ("vector_add", &vector_add, true, (1 << 20) + 3),
        ("vector_add_scalar", &scalar, false, 1 << 20),
    ] {
        let (a, b) = inputs(n);
        let (da, db) = (stream.clone_htod(&a)?, stream.clone_htod(&b)?);
        let mut dc = stream.alloc_zeros::<f32>(n)?;
        launch(&dev, &stream, f, vec4, (&da, &db, &mut dc), n as u32)?;
        let c = stream.clone_dtoh(&dc)?;
        let bad = wrong(&a, &b, &c);
        println!("{name} of {n} floats: {}", if bad == 0 { "correct".to_owned() } else { format!("{bad} wrong") });
        bad_total += bad;
    }
    if bad_total != 0 {
        return Err(Failure(format!("{bad_total} wrong results")));
    }
    Ok(())
}

/// Median of `runs` timings (ms) of `reps` back-to-back launches of `work`, per launch.
fn time_ms(
    dev: &Device,
    stream: &Arc<CudaStream>,
    runs: usize,
    reps: usize,
    mut work: impl FnMut() -> Result<(), Failure>,
) -> Result<f64, Failure> {
    let timing = Some(sys::CUevent_flags::CU_EVENT_DEFAULT);
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = dev.ctx.new_event(timing)?;
        let end = dev.ctx.new_event(timing)?;
        start.record(stream)?;
        for _ in 0..reps {
            work()?;
        }
        end.record(stream)?;
        samples.push(f64::from(start.elapsed_ms(&end)?) / reps as f64);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// vector_add at the largest power-of-two size that fits comfortably (3 vectors in at most
/// a quarter of free memory, at most 1 GiB each), against cuMemcpyDtoD in the same run.
/// Bandwidth counts bytes moved: 12 per element for the add (read a and b, write c), twice
/// the copy's size for the copy (read and write).
fn run_bandwidth() -> Result<(), Failure> {
    let dev = open_device()?;
    let (vector_add, scalar) = load(&dev)?;
    // One stream and no cross-stream use: cudarc's per-buffer events would only add work
    // between the timed launches.
    // SAFETY: everything below runs on the one default stream.
    unsafe { dev.ctx.disable_event_tracking() };
    let stream = dev.ctx.default_stream();
    let (free, _) = dev.ctx.mem_get_info()?;
    let mut n: usize = 1 << 28;
    while n > 1 << 20 && 12 * n > free / 4 {
        n /= 2;
    }
    let (a, b) = inputs(n);
    let (da, db) = (stream.clone_htod(&a)?, stream.clone_htod(&b)?);
    let mut dc = stream.alloc_zeros::<f32>(n)?;
    let mut copy = stream.alloc_zeros::<f32>(n)?;
    let n32 = n as u32;
    // Warm up, then each figure is the median of 7 runs of 10 back-to-back launches.
    for _ in 0..3 {
        launch(&dev, &stream, &vector_add, true, (&da, &db, &mut dc), n32)?;
        launch(&dev, &stream, &scalar, false, (&da, &db, &mut dc), n32)?;
        stream.memcpy_dtod(&da, &mut copy)?;
    }
    let (runs, reps) = (7, 10);
    let t_copy = time_ms(&dev, &stream, runs, reps, || Ok(stream.memcpy_dtod(&da, &mut copy)?))?;
    let t_scalar =
        time_ms(&dev, &stream, runs, reps, || launch(&dev, &stream, &scalar, false, (&da, &db, &mut dc), n32))?;
    let t_add =
        time_ms(&dev, &stream, runs, reps, || launch(&dev, &stream, &vector_add, true, (&da, &db, &mut dc), n32))?;
    // The last launch was vector_add: its result must be right.
    let c = stream.clone_dtoh(&dc)?;
    let bad = wrong(&a, &b, &c);
    let gbps = |bytes: f64, ms: f64| bytes / (ms * 1e-3) / 1e9;
    let bytes = (4 * n) as f64;
    let (bw_copy, bw_add, bw_scalar) =
        (gbps(2.0 * bytes, t_copy), gbps(3.0 * bytes, t_add), gbps(3.0 * bytes, t_scalar));
    let (ratio, ratio_scalar) = (bw_add / bw_copy, bw_scalar / bw_copy);
    println!("bandwidth: {n} floats ({} MiB per vector), median of {runs} x {reps} launches", (4 * n) >> 20);
    println!("  cuMemcpyDtoD       {bw_copy:8.1} GB/s  ({t_copy:.3} ms per copy)");
    println!("  vector_add         {bw_add:8.1} GB/s  ({t_add:.3} ms)  {ratio:.3}x memcpy");
    println!("  vector_add_scalar  {bw_scalar:8.1} GB/s  ({t_scalar:.3} ms)  {ratio_scalar:.3}x memcpy");
    println!("vector_add of {n} floats: {}", if bad == 0 { "correct".to_owned() } else { format!("{bad} wrong") });
    println!(
        "{{\"bench\":\"vector-add-bandwidth\",\"gpu\":{},\"sm\":{},\"driver_cuda\":\"{}.{}\",\"toolkit\":{},\"floats\":{n},\"memcpy_dtod_gbps\":{bw_copy:.1},\"vector_add_gbps\":{bw_add:.1},\"vector_add_scalar_gbps\":{bw_scalar:.1},\"ratio\":{ratio:.4},\"ratio_scalar\":{ratio_scalar:.4},\"correct\":{}}}",
        json_str(&dev.name),
        dev.sm,
        dev.driver_cuda.0,
        dev.driver_cuda.1,
        json_str(TOOLKIT),
        bad == 0
    );
    if bad != 0 {
        return Err(Failure(format!("{bad} wrong results")));
    }
    Ok(())
}
