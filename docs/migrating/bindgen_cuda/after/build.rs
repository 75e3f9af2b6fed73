fn main() {
    let cuda = cuda_build::Probe::new()
        .version_req(">=11.8, <14")
        .find_or_exit();
    // One PTX per .cu below kernels/, for the lowest arch asked (CUDA_COMPUTE_CAP works as
    // before; CUDAARCHS and TORCH_CUDA_ARCH_LIST too; sm_75 without any, no GPU needed).
    // Headers are followed through nvcc's depfile: no list to keep.
    cuda.kernels()
        .dir("kernels")
        .name("ptx")
        .ptx()
        .flag("-O3")
        .compile_or_exit();
    cuda.emit_or_exit();
}
