//! Starts without LD_LIBRARY_PATH, says which libcudart the loader mapped, and on a GPU runs
//! the kernel (any failure there exits non-zero; no device is a skip).

extern "C" {
    fn app_runtime_version() -> i32;
    fn app_device_count() -> i32;
    fn app_twice(x: *mut f32, n: i32) -> i32;
}

fn main() {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let cudart = maps.split_whitespace().find(|w| w.contains("/libcudart")).unwrap_or("none");
    println!("loaded {cudart}");
    println!("toolkit {}", env!("CUDA_BUILD_CUDA_VERSION"));
    // SAFETY: plain C functions of the linked static library.
    let (v, devices) = unsafe { (app_runtime_version(), app_device_count()) };
    println!("runtime {v}");
    if devices <= 0 {
        println!("skipped: no CUDA device ({devices})");
        return;
    }
    let mut x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    // SAFETY: x holds 1000 floats.
    let rc = unsafe { app_twice(x.as_mut_ptr(), 1000) };
    let ok = rc == 0 && x.iter().enumerate().all(|(i, v)| *v == 2.0 * i as f32);
    println!(
        "twice on {devices} device(s): {}",
        if ok { "correct".to_owned() } else { format!("FAILED (cudaError {rc})") }
    );
    if !ok {
        std::process::exit(1);
    }
}
