//! Prints what build.rs compiled: one PTX string per kernel file.

mod ptx {
    // `pub const AFFINE: &str = include_str!(.../affine.ptx);`, one per .cu file.
    include!(concat!(env!("OUT_DIR"), "/ptx.rs"));
}

/// The `.target` line of a PTX text (`sm_75`).
fn target(ptx: &str) -> &str {
    ptx.lines()
        .find_map(|l| l.trim().strip_prefix(".target "))
        .unwrap_or("?")
}

/// The `.entry` names of a PTX text.
fn entries(ptx: &str) -> Vec<&str> {
    ptx.lines()
        .filter_map(|l| l.trim().strip_prefix(".visible .entry "))
        .map(|l| l.split('(').next().unwrap_or(l))
        .collect()
}

fn main() {
    for (name, ptx) in [("affine", ptx::AFFINE), ("fill", ptx::FILL)] {
        println!(
            "{name}: target {}, entries {:?} ({} bytes of PTX)",
            target(ptx),
            entries(ptx),
            ptx.len()
        );
    }
}
