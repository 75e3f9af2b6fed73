//! A library crate whose static library links the shared CUDA runtime.

extern "C" {
    fn klib_runtime_version() -> i32;
}

/// The linked runtime's `cudaRuntimeGetVersion`, and the libcudart the loader mapped.
pub fn runtime() -> (i32, String) {
    // SAFETY: a plain C function of the linked static library.
    let v = unsafe { klib_runtime_version() };
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let path = maps.split_whitespace().find(|w| w.contains("/libcudart")).unwrap_or("none").to_owned();
    (v, path)
}
