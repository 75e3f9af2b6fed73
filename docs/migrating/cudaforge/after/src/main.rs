//! Prints what build.rs compiled: a PTX module, and a static library called through FFI.

use std::ffi::{c_uint, c_void, CStr};
use std::os::raw::{c_char, c_int};
use std::process::ExitCode;

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

fn main() -> ExitCode {
    // cudaforge's `ptx::AFFINE` is `ptx::affine::PTX`; the entry names come with it.
    let ptx = ptx::affine::PTX;
    println!(
        "affine: target {}, entries {:?} ({} bytes of PTX)",
        target(ptx),
        ptx::affine::ENTRIES,
        ptx.len()
    );
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
    let (devices, last_error) = unsafe {
        (
            saxpy_device_count(),
            CStr::from_ptr(saxpy_last_error()).to_string_lossy(),
        )
    };
    if devices <= 0 {
        // The driver sees a device but this runtime cannot use it (e.g. a driver older than
        // the runtime: cudaErrorInsufficientDriver).
        eprintln!(
            "error: the driver reports a device, but the CUDA runtime counts {devices}: {last_error}"
        );
        return ExitCode::FAILURE;
    }
    println!("devices: {devices}");
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
            return Ok(Some(
                "no driver library: libcuda.so.1 cannot be loaded".into(),
            ));
        }
        let (init, count) = (
            dlsym(lib, c"cuInit".as_ptr()),
            dlsym(lib, c"cuDeviceGetCount".as_ptr()),
        );
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
