// build.rs of a binary crate that depends on a library crate linking the shared cudart
fn main() {
    let mut cuda = cuda_build::Probe::new().find_or_exit();
    cuda.link_cudart(cuda_build::Cudart::Shared).rpath(true).emit_or_exit();
}
