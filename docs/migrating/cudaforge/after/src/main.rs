//! Prints what build.rs compiled: a PTX module, and a static library called through FFI.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

mod ptx {
    // `pub mod affine { pub const PTX: &str; pub const ENTRIES: &[&str]; .. }`, one per .cu file.
    include!(concat!(env!("OUT_DIR"), "/ptx.rs"));
}

extern "C" {
    fn saxpy_device_count() -> c_int;
    fn saxpy_last_error() -> *const c_char;
}

/// The `.target` line of a PTX text (`sm_75`).
fn target(ptx: &str) -> &str {
    ptx.lines()
        .find_map(|l| l.trim().strip_prefix(".target "))
        .unwrap_or("?")
}

fn main() {
    // cudaforge's `ptx::AFFINE` is `ptx::affine::PTX`; the entry names come with it.
    let ptx = ptx::affine::PTX;
    println!(
        "affine: target {}, entries {:?} ({} bytes of PTX)",
        target(ptx),
        ptx::affine::ENTRIES,
        ptx.len()
    );
    // SAFETY: plain C functions of the linked library.
    let devices = unsafe { saxpy_device_count() };
    println!("linked libsaxpy.a with the CUDA runtime; devices: {devices}");
    if devices <= 0 {
        // SAFETY: cudaGetErrorString returns a static NUL-terminated string.
        let why = unsafe { CStr::from_ptr(saxpy_last_error()) }.to_string_lossy();
        println!("skipped: no CUDA device ({why})");
    }
}
