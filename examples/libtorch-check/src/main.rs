//! Prints what build.rs found and judged: libtorch's CUDA against the toolkit's.
fn main() {
    println!("{}", env!("LIBTORCH_CHECK"));
}
