#[cfg(cuda)]
extern "C" {
    // Answers without a GPU or driver: the version of the linked CUDA runtime.
    fn cudaRuntimeGetVersion(version: *mut i32) -> i32;
}

fn main() {
    #[cfg(cuda)]
    {
        let mut v = 0;
        // SAFETY: a plain out-parameter call into the CUDA runtime.
        let rc = unsafe { cudaRuntimeGetVersion(&mut v) };
        println!("linked CUDA runtime {}.{} (rc {rc})", v / 1000, (v % 1000) / 10);
    }
    #[cfg(not(cuda))]
    println!("built without CUDA");
    let seen = [("11.8", cfg!(cuda_version = "11.8")), ("12.4", cfg!(cuda_version = "12.4")), ("13.5", cfg!(cuda_version = "13.5"))];
    for (v, on) in seen {
        if on {
            println!("cfg cuda_version={v}");
        }
    }
    if cfg!(cuda_ge_12_0) {
        println!("cfg cuda_ge_12_0");
    }
}
