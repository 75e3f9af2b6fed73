fn main() {
    let cuda = cuda_build::Probe::new()
        .version_req(">=11.8, <14")
        .find_or_exit();
    // PTX, loaded at run time: $OUT_DIR/ptx.rs. CUDA_COMPUTE_CAP works as before; without
    // any arch setting: sm_75, no GPU or nvidia-smi needed. Headers are followed through
    // nvcc's depfile: no watch list.
    cuda.kernels()
        .dir("kernels/ptx")
        .name("ptx")
        .ptx()
        .flag("-O3")
        .compile_or_exit();
    // The static library, linked with this toolkit's static CUDA runtime and libstdc++.
    cuda.kernels()
        .dir("kernels/lib")
        .name("lib")
        .static_lib("saxpy")
        .flag("-O3")
        .compile_or_exit();
    cuda.emit_or_exit();
}
