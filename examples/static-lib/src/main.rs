//! Calls into a static library of CUDA code that build.rs compiled and linked.
//!
//! Exit status: 0 when saxpy is right, or when there is no CUDA device (see [`no_device`]:
//! the only skip); 1 for anything else that fails.

use std::ffi::{c_uint, c_void, CStr};
use std::os::raw::{c_char, c_float, c_int};
use std::process::ExitCode;

extern "C" {
    fn saxpy_device_count() -> c_int;
    fn saxpy_last_error() -> *const c_char;
    fn saxpy(a: c_float, x: *const c_float, y: *mut c_float, n: c_int) -> c_int;
}

fn main() -> ExitCode {
    println!("linked libsaxpy.a with the CUDA runtime");
    match no_device() {
        Ok(Some(why)) => {
            println!("skipped: no CUDA device ({why})");
            return ExitCode::SUCCESS;
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    // SAFETY: plain C functions of the linked library; cudaGetErrorString's strings are static.
    let (devices, last_error) = unsafe { (saxpy_device_count(), CStr::from_ptr(saxpy_last_error()).to_string_lossy()) };
    if devices <= 0 {
        // The driver sees a device but this runtime cannot use it (e.g. a driver older than
        // the runtime: cudaErrorInsufficientDriver).
        eprintln!("error: the driver reports a device, but the CUDA runtime counts {devices}: {last_error}");
        return ExitCode::FAILURE;
    }
    println!("devices: {devices}");
    let n = 1 << 16;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut y: Vec<f32> = vec![1.0; n];
    // SAFETY: x and y hold n floats each.
    let rc = unsafe { saxpy(2.0, x.as_ptr(), y.as_mut_ptr(), n as c_int) };
    if rc != 0 {
        // SAFETY: as above.
        let why = unsafe { CStr::from_ptr(saxpy_last_error()) }.to_string_lossy();
        eprintln!("error: saxpy failed: cudaError {rc} ({why})");
        return ExitCode::FAILURE;
    }
    let bad = (0..n).filter(|&i| y[i] != 2.0 * i as f32 + 1.0).count();
    println!("saxpy of {n} floats: {}", if bad == 0 { "correct".to_owned() } else { format!("{bad} wrong") });
    if bad != 0 {
        eprintln!("error: {bad} wrong results");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The one decision that turns a run into a skip. "No CUDA device" means exactly: the
/// driver library cannot be loaded, or the driver says there is none (`cuInit` answers
/// `CUDA_ERROR_NO_DEVICE`, or it counts 0 devices). `Ok(Some(why))` then; `Ok(None)` when a
/// device is there; any other driver answer is an error. The driver is asked directly: the
/// static runtime answers `cudaErrorInsufficientDriver` both when there is no driver and when
/// the driver is too old for it, and only the second is a failure.
fn no_device() -> Result<Option<String>, String> {
    // libdl's, in libc since glibc 2.34 (and linked by Rust's std before that).
    extern "C" {
        fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    }
    const RTLD_NOW: c_int = 2;
    const CUDA_SUCCESS: c_int = 0;
    const CUDA_ERROR_NO_DEVICE: c_int = 100;
    // SAFETY: NUL-terminated names; the two symbols have the driver API's signatures
    // (CUresult cuInit(unsigned), CUresult cuDeviceGetCount(int*)).
    unsafe {
        let lib = dlopen(c"libcuda.so.1".as_ptr(), RTLD_NOW);
        if lib.is_null() {
            return Ok(Some("no driver library: libcuda.so.1 cannot be loaded".into()));
        }
        let (init, count) = (dlsym(lib, c"cuInit".as_ptr()), dlsym(lib, c"cuDeviceGetCount".as_ptr()));
        if init.is_null() || count.is_null() {
            return Err("libcuda.so.1 has no cuInit or cuDeviceGetCount".into());
        }
        let init: extern "C" fn(c_uint) -> c_int = std::mem::transmute(init);
        let count: extern "C" fn(*mut c_int) -> c_int = std::mem::transmute(count);
        match init(0) {
            CUDA_SUCCESS => {}
            CUDA_ERROR_NO_DEVICE => return Ok(Some("cuInit: CUDA_ERROR_NO_DEVICE".into())),
            rc => return Err(format!("cuInit failed: CUresult {rc}")),
        }
        let mut n = 0;
        match count(&mut n) {
            CUDA_SUCCESS if n == 0 => Ok(Some("the driver counts 0 devices".into())),
            CUDA_SUCCESS => Ok(None),
            rc => Err(format!("cuDeviceGetCount failed: CUresult {rc}")),
        }
    }
}
