use cuda_build::{Cudart, Probe};

fn main() {
    let mut probe = Probe::new();
    probe.version_req(">=11.8, <14");
    if std::env::var_os("CARGO_FEATURE_OPTIONAL").is_some() {
        // CPU fallback: without a toolkit, no cfg(cuda) and one warning saying why.
        if let Some(mut cuda) = probe.find_optional() {
            cuda.link_cudart(Cudart::Shared).rpath(true).emit_or_exit();
        }
    } else {
        let mut cuda = probe.find_or_exit();
        cuda.link_cudart(Cudart::Shared).rpath(true).emit_or_exit();
    }
}
