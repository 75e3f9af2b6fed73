fn main() {
    let cuda = cuda_build::Probe::new().version_req(">=11.8, <14").find_or_exit();
    // Every .cu below kernels/, as a fatbin for CUDAARCHS (or the default), with
    // $OUT_DIR/kernels.rs listing each module's image and entry names.
    cuda.kernels().dir("kernels").fatbin().compile_or_exit();
    // The toolkit's version, for the binary's error messages (PTX from a toolkit newer than
    // the driver cannot be JIT-compiled).
    println!("cargo::rustc-env=VECTOR_ADD_CUDA={}", cuda.version());
    cuda.emit_or_exit();
}
