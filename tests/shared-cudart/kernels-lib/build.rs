use cuda_build::{Cudart, Probe};

fn main() {
    // A library crate linking the SHARED runtime: its rpath reaches only this package's own
    // binaries, so each dependent binary adds one itself (the README's recipe, in lib-user).
    let cuda = Probe::new().find_or_exit();
    cuda.kernels().dir("kernels").static_lib("klib").cudart(Cudart::Shared).compile_or_exit();
    cuda.emit_or_exit();
}
