//! One crate, two builds: with CUDA it carries the compiled PTX; without, a CPU path.

#[cfg(cuda)]
mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}

#[cfg(cuda)]
fn backend() -> String {
    format!(
        "cuda: {} PTX module(s), entries {:?}, archs {:?}",
        kernels::MODULES.len(),
        kernels::square::ENTRIES,
        kernels::ARCHS
    )
}

#[cfg(not(cuda))]
fn backend() -> String {
    "cpu fallback (built without CUDA)".to_owned()
}

fn main() {
    println!("{}", backend());
    // The CPU path is always there; a GPU path would load kernels::square::PTX (see vector-add).
    let squares: Vec<f32> = (0..4).map(|i| (i * i) as f32).collect();
    println!("squares on the CPU: {squares:?}");
}
