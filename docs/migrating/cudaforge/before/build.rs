use cudaforge::KernelBuilder;

fn main() -> cudaforge::Result<()> {
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");

    // PTX, loaded at run time. The arch comes from CUDA_COMPUTE_CAP, else nvidia-smi (an
    // error without it). Headers count only when listed in watch().
    let ptx = KernelBuilder::new()
        .source_glob("kernels/ptx/*.cu")
        .watch(["kernels/common.cuh"])
        .arg("-O3")
        .build_ptx()?;
    ptx.write(format!("{out_dir}/ptx.rs"))?;

    // A static library with a C launcher, called through FFI.
    KernelBuilder::new()
        .source_dir("kernels/lib")
        .watch(["kernels/lib/saxpy.cuh"])
        .arg("-O3")
        .build_lib(format!("{out_dir}/libsaxpy.a"))?;
    // Linking is left to the build script: the library, the CUDA runtime (from the right
    // toolkit: the linker takes the first libcudart it finds), libstdc++.
    println!("cargo:rustc-link-search=native={out_dir}");
    println!("cargo:rustc-link-lib=static=saxpy");
    println!("cargo:rerun-if-env-changed=CUDA_PATH");
    if let Ok(root) = std::env::var("CUDA_PATH") {
        println!("cargo:rustc-link-search=native={root}/lib64");
        println!("cargo:rustc-link-search=native={root}/lib");
    }
    println!("cargo:rustc-link-lib=static=cudart_static");
    println!("cargo:rustc-link-lib=stdc++");
    Ok(())
}
