//! tch tensors, and our own CUDA kernel (kernels/scale_relu.cu, built by build.rs) run on a
//! CUDA tensor's memory and compared with what tch computes.

use std::ffi::{c_char, c_int, CStr};
use std::process::ExitCode;

use tch::{Device, Kind, Tensor};

extern "C" {
    fn ext_device_count(count: *mut c_int) -> c_int;
    fn ext_error_string(error: c_int) -> *const c_char;
    fn ext_scale_relu(x: *const f32, y: *mut f32, a: f32, b: f32, n: i64) -> c_int;
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    println!("built with {}", env!("TCH_EXT_BUILD"));
    let (a, b) = (1.5, -0.25);
    let x = Tensor::linspace(-4.0, 4.0, 1 << 20, (Kind::Float, Device::Cpu));
    let sum = (&x * a + b).relu().sum(Kind::Double).double_value(&[]);
    println!("tch on the CPU: sum of relu({a} x + {b}) = {sum:.3}");
    println!("tch::Cuda::is_available(): {}", tch::Cuda::is_available());
    let device = Device::cuda_if_available();
    println!("device: {device:?}");
    check_loaded()?;

    // Whether a GPU exists is asked of the CUDA runtime, not of tch: a tch that does not see
    // a GPU the runtime sees is the failure link_libtorch_cuda() prevents.
    let mut count = 0;
    // SAFETY: writes one int.
    let rc = unsafe { ext_device_count(&mut count) };
    if rc != 0 || count == 0 {
        let why = if rc != 0 { cuda_error(rc) } else { "0 devices".to_owned() };
        println!("skipped: no CUDA device (cudaGetDeviceCount: {why})");
        return Ok(());
    }
    if device == Device::Cpu {
        return Err(format!("the CUDA runtime sees {count} device(s), but tch::Cuda::is_available() is false"));
    }
    let xg = x.to_device(device);
    let yg = xg.empty_like();
    let n = xg.numel() as i64;
    // SAFETY: xg and yg are contiguous f32 tensors of n elements on the device.
    let rc = unsafe { ext_scale_relu(xg.data_ptr() as *const f32, yg.data_ptr() as *mut f32, a as f32, b as f32, n) };
    if rc != 0 {
        return Err(format!("ext_scale_relu: {}", cuda_error(rc)));
    }
    let expected = (&xg * a + b).relu();
    let max_diff = (&yg - &expected).abs().max().double_value(&[]);
    println!("our kernel vs tch on {n} floats on {device:?}: max |diff| {max_diff:e}");
    if !yg.allclose(&expected, 1e-6, 1e-6, false) {
        return Err("our kernel and tch differ".into());
    }
    Ok(())
}

fn cuda_error(e: c_int) -> String {
    // SAFETY: cudaGetErrorString returns a static NUL-terminated string for any value.
    let text = unsafe { CStr::from_ptr(ext_error_string(e)) };
    format!("{} (cudaError {e})", text.to_string_lossy())
}

/// libtorch_cuda is loaded (else tch never sees a GPU), and one CUDA runtime, not two.
#[cfg(target_os = "linux")]
fn check_loaded() -> Result<(), String> {
    let maps = std::fs::read_to_string("/proc/self/maps").map_err(|e| format!("/proc/self/maps: {e}"))?;
    let mut libs: Vec<&str> = maps.lines().filter_map(|l| l.split_whitespace().nth(5)).collect();
    libs.sort_unstable();
    libs.dedup();
    let torch_cuda = libs.iter().filter(|p| p.ends_with("/libtorch_cuda.so")).count();
    let cudart: Vec<&str> = libs.into_iter().filter(|p| p.contains("/libcudart.so")).collect();
    println!("loaded: libtorch_cuda.so: {torch_cuda}, CUDA runtime: {}", cudart.join(", "));
    match (torch_cuda, cudart.len()) {
        (0, _) => Err("libtorch_cuda.so is not loaded".into()),
        (_, 1) => Ok(()),
        (_, n) => Err(format!("{n} CUDA runtimes loaded")),
    }
}

#[cfg(not(target_os = "linux"))]
fn check_loaded() -> Result<(), String> {
    Ok(())
}
