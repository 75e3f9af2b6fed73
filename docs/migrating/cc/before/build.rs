fn main() {
    // cc prints only rerun-if-env-changed lines, which switch off cargo's default
    // "rerun when any file of the package changes": list every source by hand.
    println!("cargo:rerun-if-changed=kernels/saxpy.cu");
    cc::Build::new()
        .cuda(true)
        .cudart("static")
        .file("kernels/saxpy.cu")
        .compile("saxpy");
    // cc adds a search path for cudart only where NVIDIA's runfile puts it
    // (<nvcc>/../targets/x86_64-linux/lib). For Debian's, conda's or NVIDIA's wheels
    // layout the linker takes the first libcudart_static.a it finds, which may belong to
    // another toolkit: name the right directory by hand.
    println!("cargo:rerun-if-env-changed=CUDA_PATH");
    if let Ok(root) = std::env::var("CUDA_PATH") {
        println!("cargo:rustc-link-search=native={root}/lib64");
        println!("cargo:rustc-link-search=native={root}/lib");
    }
}
