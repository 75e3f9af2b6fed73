fn main() {
    let (v, path) = kernels_lib::runtime();
    println!("loaded {path}");
    println!("runtime {v}");
}
