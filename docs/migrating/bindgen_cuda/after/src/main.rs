//! Prints what build.rs compiled: one PTX module per kernel file.

mod ptx {
    // `pub mod affine { pub const PTX: &str; pub const IMAGE: &[u8]; pub const ENTRIES: &[&str]; .. }`,
    // one module per .cu file, plus ARCHS, FORMAT and MODULES.
    include!(concat!(env!("OUT_DIR"), "/ptx.rs"));
}

/// The `.target` line of a PTX text (`sm_75`).
fn target(ptx: &str) -> &str {
    ptx.lines()
        .find_map(|l| l.trim().strip_prefix(".target "))
        .unwrap_or("?")
}

fn main() {
    // bindgen_cuda's `ptx::AFFINE` is `ptx::affine::PTX`; the entry names come with it.
    for (name, ptx, entries) in [
        ("affine", ptx::affine::PTX, ptx::affine::ENTRIES),
        ("fill", ptx::fill::PTX, ptx::fill::ENTRIES),
    ] {
        println!(
            "{name}: target {}, entries {entries:?} ({} bytes of PTX)",
            target(ptx),
            ptx.len()
        );
    }
    println!("archs {:?}, {} modules", ptx::ARCHS, ptx::MODULES.len());
}
