fn main() {
    // Finds libtorch as torch-sys does (DEP_TCH_LIBTORCH_LIB, LIBTORCH_USE_PYTORCH, LIBTORCH,
    // /usr/lib/libtorch.so) and stops the build if its CUDA major differs from the toolkit's.
    let cuda = cuda_build::Probe::new().libtorch(true).find_or_exit();
    // A crate that links tch adds `cuda.link_libtorch_cuda()` so libtorch_cuda stays loaded
    // at run time (else tch::Cuda::is_available() is false); this example links no torch.
    let report = match cuda.libtorch() {
        Some(lt) => format!(
            "libtorch {} ({}) found by {}; toolkit CUDA {}",
            lt.version.as_deref().unwrap_or("?"),
            lt.cuda.map_or_else(|| "CPU-only".to_owned(), |c| format!("CUDA {}.{}", c.major, c.minor)),
            lt.rule,
            cuda.version()
        ),
        None => format!("no libtorch found; toolkit CUDA {}", cuda.version()),
    };
    // The example hands the verdict to its binary (a plain cargo directive of its own).
    println!("cargo::rustc-env=LIBTORCH_CHECK={report}");
    cuda.emit_or_exit();
}
