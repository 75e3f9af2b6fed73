//! Prints what build.rs compiled, then (with a GPU) launches vector_add and checks it.

use std::process::ExitCode;

mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}

fn main() -> ExitCode {
    println!("format: {}", kernels::FORMAT);
    println!("archs: {}", kernels::ARCHS.join(" "));
    for (name, image, entries) in kernels::MODULES {
        println!("module {name}: {} bytes, entries: {}", image.len(), entries.join(" "));
    }
    // Only "no device" is a skip; anything failing once a device exists exits non-zero.
    let count = match device_count() {
        Ok(n) => n,
        Err(why) => {
            println!("skipped: no CUDA device ({why})");
            return ExitCode::SUCCESS;
        }
    };
    match run_on_gpu(count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The number of devices, or why there is none: no driver library, a driver that cannot
/// initialise (no GPU), or zero devices.
fn device_count() -> Result<i32, String> {
    // SAFETY: only asks whether libcuda can be loaded.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err("no driver library (libcuda.so.1)".into());
    }
    match cudarc::driver::CudaContext::device_count() {
        Ok(0) => Err("0 devices".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e:?}")),
    }
}

fn run_on_gpu(count: i32) -> Result<(), Box<dyn std::error::Error>> {
    use cudarc::driver::{CudaContext, LaunchConfig, PushKernelArg};
    let ctx = CudaContext::new(0)?;
    let (major, minor) = ctx.compute_capability()?;
    println!("devices: {count}; device 0: {} (compute capability {major}.{minor})", ctx.name()?);
    let module = ctx.load_module(cudarc::nvrtc::Ptx::from_binary(kernels::vector_add::IMAGE.to_vec()))?;
    let f = module.load_function("vector_add")?;
    let stream = ctx.default_stream();
    let n = 1 << 20;
    let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..n).map(|i| 2.0 * i as f32).collect();
    let (da, db) = (stream.clone_htod(&a)?, stream.clone_htod(&b)?);
    let mut dc = stream.alloc_zeros::<f32>(n)?;
    let n32 = n as u32;
    let mut launch = stream.launch_builder(&f);
    launch.arg(&da).arg(&db).arg(&mut dc).arg(&n32);
    // SAFETY: the kernel's signature is (const float*, const float*, float*, unsigned).
    unsafe { launch.launch(LaunchConfig::for_num_elems(n32)) }?;
    let c = stream.clone_dtoh(&dc)?;
    let bad = (0..n).filter(|&i| c[i] != a[i] + b[i]).count();
    println!("vector_add of {n} floats: {}", if bad == 0 { "correct".to_owned() } else { format!("{bad} wrong") });
    if bad != 0 {
        return Err(format!("{bad} wrong results").into());
    }
    Ok(())
}
