fn main() {
    let cuda = cuda_build::Probe::new()
        .version_req(">=12, <14")
        .find_or_exit();
    // candle's flags, and the one cudaforge adds to every nvcc run.
    let flags = [
        "--expt-relaxed-constexpr",
        "-std=c++17",
        "-O3",
        "--default-stream=per-thread",
    ];

    // PTX, loaded at run time: OUT_DIR/affine.ptx, ... and OUT_DIR/ptx.rs holding
    // `pub const AFFINE: &str`, as cudaforge wrote them, so src/lib.rs does not change.
    let mut ptx = cuda.kernels();
    ptx.dir("src")
        .exclude(&["moe_*.cu", "mmvq_gguf.cu", "mmq_*.cu"])
        .ptx()
        .flat_outputs(true)
        .module_style(cuda_build::ModuleStyle::Constants)
        .name("ptx")
        .flags(flags);

    // The MoE and GGUF kernels with their C launchers: OUT_DIR/libmoe.a, linked with this
    // toolkit's static CUDA runtime and libstdc++.
    let mut moe = cuda.kernels();
    moe.dir("src/moe")
        .dir("src/mmq_gguf")
        .file("src/mmvq_gguf.cu")
        .static_lib("moe")
        .flags(flags);
    if !cfg!(feature = "cutile") {
        moe.exclude(&["moe_align.cu"]);
    }
    // bf16 WMMA fragments need sm_80: candle leaves those kernels out below it.
    let archs = moe
        .archs()
        .map(|a| [a.real, a.ptx].concat())
        .unwrap_or_default();
    if archs.iter().any(|a| a.major < 8) {
        moe.define("NO_BF16_KERNEL", None);
    }

    cuda_build::compile_all_or_exit(&[&ptx, &moe]);
    cuda.emit_or_exit();
}
