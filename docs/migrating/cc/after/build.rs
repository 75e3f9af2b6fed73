fn main() {
    let cuda = cuda_build::Probe::new()
        .version_req(">=11.8, <14")
        .find_or_exit();
    // nvcc -c every .cu below kernels/, archive them into libsaxpy.a, link it with the
    // static CUDA runtime (of this toolkit) and libstdc++. Rerun-if lines cover each .cu
    // and every header nvcc's depfile listed.
    cuda.kernels()
        .dir("kernels")
        .static_lib("saxpy")
        .compile_or_exit();
    cuda.emit_or_exit();
}
