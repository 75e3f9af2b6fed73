//! Calls the C launcher compiled into libsaxpy.a by build.rs.

use std::ffi::CStr;
use std::os::raw::{c_char, c_float, c_int};

extern "C" {
    fn saxpy_device_count() -> c_int;
    fn saxpy_last_error() -> *const c_char;
    fn saxpy(a: c_float, x: *const c_float, y: *mut c_float, n: c_int) -> c_int;
}

fn main() {
    // SAFETY: plain C functions of the linked library.
    let devices = unsafe { saxpy_device_count() };
    println!("linked libsaxpy.a with the CUDA runtime; devices: {devices}");
    if devices <= 0 {
        // SAFETY: cudaGetErrorString returns a static NUL-terminated string.
        let why = unsafe { CStr::from_ptr(saxpy_last_error()) }.to_string_lossy();
        println!("skipped: no CUDA device ({why})");
        return;
    }
    let n = 1 << 16;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut y: Vec<f32> = vec![1.0; n];
    // SAFETY: x and y hold n floats each.
    let rc = unsafe { saxpy(2.0, x.as_ptr(), y.as_mut_ptr(), n as c_int) };
    let ok = rc == 0 && (0..n).all(|i| y[i] == 2.0 * i as f32 + 1.0);
    println!(
        "saxpy of {n} floats: {}",
        if ok {
            "correct".to_owned()
        } else {
            format!("FAILED (cudaError {rc})")
        }
    );
    if !ok {
        std::process::exit(1);
    }
}
