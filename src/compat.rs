//! Compatibility data, each table with its source (see `cuda-facts.md` in the design notes).

use crate::version::CudaVersion;

/// Every CUDA toolkit release (major.minor) this crate knows, oldest first.
/// Source: NVIDIA's release notes / CUDA Toolkit Archive; there was no 12.7.
/// `cuda_ge_X_Y` cfgs are emitted for each release up to the toolkit found.
pub const RELEASES: &[(u32, u32)] = &[
    (10, 0),
    (10, 1),
    (10, 2),
    (11, 0),
    (11, 1),
    (11, 2),
    (11, 3),
    (11, 4),
    (11, 5),
    (11, 6),
    (11, 7),
    (11, 8),
    (12, 0),
    (12, 1),
    (12, 2),
    (12, 3),
    (12, 4),
    (12, 5),
    (12, 6),
    (12, 8),
    (12, 9),
    (13, 0),
    (13, 1),
    (13, 2),
    (13, 3),
    (13, 4),
    (13, 5),
];

/// The newest release in [`RELEASES`]: a toolkit beyond it is newer than this crate's tables.
pub fn newest_known() -> CudaVersion {
    let (major, minor) = RELEASES.last().copied().unwrap_or((0, 0));
    CudaVersion::new(major, minor)
}

/// The releases at or below `v`, plus `v` itself when it is newer than every known one.
pub fn releases_up_to(v: &CudaVersion) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> =
        RELEASES.iter().copied().filter(|&(ma, mi)| (ma, mi) <= (v.major, v.minor)).collect();
    if !RELEASES.contains(&(v.major, v.minor)) {
        out.push((v.major, v.minor));
    }
    out
}
