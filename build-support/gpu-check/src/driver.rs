//! The CUDA driver, asked directly through libcuda.so.1 (dlopen): whether there is a device,
//! and what the driver says about device 0. Independent of cuda-build and of the examples.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

extern "C" {
    fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
}

const RTLD_NOW: c_int = 2;
const CUDA_ERROR_NO_DEVICE: c_int = 100;

/// What the driver says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `cuDriverGetVersion`: (13, 0).
    pub cuda: (i32, i32),
    pub count: i32,
    /// Device 0 (in PCI bus order: the run sets `CUDA_DEVICE_ORDER=PCI_BUS_ID`).
    pub name: String,
    /// `90` for compute capability 9.0.
    pub sm: u32,
}

/// The examples' rule, decided here on its own: `Ok(Err(why))` when there is no CUDA device
/// (libcuda.so.1 does not load, `cuInit` says `CUDA_ERROR_NO_DEVICE`, 0 devices), `Ok(Ok(seen))`
/// with a device, `Err` when the driver fails otherwise.
#[allow(unsafe_code)] // FFI: dlopen and the driver API's C functions
pub fn probe() -> Result<Result<Seen, String>, String> {
    // SAFETY: NUL-terminated names; each symbol is cast to the driver API's signature.
    unsafe {
        let lib = dlopen(c"libcuda.so.1".as_ptr(), RTLD_NOW);
        if lib.is_null() {
            return Ok(Err("no driver library: libcuda.so.1 cannot be loaded".into()));
        }
        let sym = |name: &CStr| {
            let p = dlsym(lib, name.as_ptr());
            if p.is_null() {
                Err(format!("libcuda.so.1 has no {}", name.to_string_lossy()))
            } else {
                Ok(p)
            }
        };
        let init: extern "C" fn(c_uint) -> c_int = std::mem::transmute(sym(c"cuInit")?);
        let version: extern "C" fn(*mut c_int) -> c_int = std::mem::transmute(sym(c"cuDriverGetVersion")?);
        let count: extern "C" fn(*mut c_int) -> c_int = std::mem::transmute(sym(c"cuDeviceGetCount")?);
        let get: extern "C" fn(*mut c_int, c_int) -> c_int = std::mem::transmute(sym(c"cuDeviceGet")?);
        let name: extern "C" fn(*mut c_char, c_int, c_int) -> c_int = std::mem::transmute(sym(c"cuDeviceGetName")?);
        let attr: extern "C" fn(*mut c_int, c_int, c_int) -> c_int = std::mem::transmute(sym(c"cuDeviceGetAttribute")?);
        let check = |what: &str, rc: c_int| if rc == 0 { Ok(()) } else { Err(format!("{what} failed: CUresult {rc}")) };
        match init(0) {
            0 => {}
            CUDA_ERROR_NO_DEVICE => return Ok(Err("cuInit: CUDA_ERROR_NO_DEVICE".into())),
            rc => return Err(format!("cuInit failed: CUresult {rc}")),
        }
        let mut n = 0;
        check("cuDeviceGetCount", count(&mut n))?;
        if n == 0 {
            return Ok(Err("the driver counts 0 devices".into()));
        }
        let mut v = 0;
        check("cuDriverGetVersion", version(&mut v))?;
        let mut dev = 0;
        check("cuDeviceGet", get(&mut dev, 0))?;
        let mut buf = [0 as c_char; 256];
        check("cuDeviceGetName", name(buf.as_mut_ptr(), buf.len() as c_int, dev))?;
        let (mut major, mut minor) = (0, 0);
        // 75, 76: CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, _MINOR.
        check("cuDeviceGetAttribute", attr(&mut major, 75, dev))?;
        check("cuDeviceGetAttribute", attr(&mut minor, 76, dev))?;
        Ok(Ok(Seen {
            cuda: (v / 1000, v % 1000 / 10),
            count: n,
            name: CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned(),
            sm: (major * 10 + minor) as u32,
        }))
    }
}
