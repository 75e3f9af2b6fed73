fn main() {
    let cuda = cuda_build::Probe::new().version_req(">=11.8, <14").find_or_exit();
    // nvcc -c each .cu, archive them into libsaxpy.a, and link it with the static CUDA
    // runtime (the default; `.cudart(Cudart::Shared)` for libcudart.so).
    cuda.kernels().dir("kernels").static_lib("saxpy").compile_or_exit();
    cuda.emit_or_exit();
}
