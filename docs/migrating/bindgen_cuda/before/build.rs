use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The kernel arch comes from CUDA_COMPUTE_CAP, else from nvidia-smi (a panic without it).
    let bindings = bindgen_cuda::Builder::default()
        .kernel_paths_glob("kernels/*.cu")
        .include_paths_glob("kernels/*.cuh")
        .arg("-O3")
        .build_ptx()
        .unwrap();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    bindings.write(out_dir.join("ptx.rs")).unwrap();
}
