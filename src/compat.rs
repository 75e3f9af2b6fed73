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

/// GPU architectures (`sm_` numbers) by toolkit: supported when `first <= toolkit < removed`.
/// Source: cuda-facts section 3 — real `nvcc --list-gpu-code` of 11.2, 11.8, 12.4, 13.0-13.5 and
/// `ptxas --help` of every 12.x wheel, compared with CMake, Meson, clang and Spack tables.
/// Used only when the installed nvcc cannot be asked (`--list-gpu-code`).
pub const ARCHS: &[ArchRow] = &[
    ArchRow { sm: 35, first: (5, 0), removed: Some((12, 0)) },
    ArchRow { sm: 37, first: (6, 5), removed: Some((12, 0)) },
    ArchRow { sm: 50, first: (6, 0), removed: Some((13, 0)) },
    ArchRow { sm: 52, first: (6, 5), removed: Some((13, 0)) },
    ArchRow { sm: 53, first: (6, 5), removed: Some((13, 0)) },
    ArchRow { sm: 60, first: (8, 0), removed: Some((13, 0)) },
    ArchRow { sm: 61, first: (8, 0), removed: Some((13, 0)) },
    ArchRow { sm: 62, first: (8, 0), removed: Some((13, 0)) },
    ArchRow { sm: 70, first: (9, 0), removed: Some((13, 0)) },
    ArchRow { sm: 72, first: (9, 0), removed: Some((13, 0)) },
    ArchRow { sm: 75, first: (10, 0), removed: None },
    ArchRow { sm: 80, first: (11, 0), removed: None },
    ArchRow { sm: 86, first: (11, 1), removed: None },
    // Bracketed by real toolkits: absent from 11.2.152, present in 11.7.99.
    ArchRow { sm: 87, first: (11, 4), removed: None },
    ArchRow { sm: 88, first: (13, 0), removed: None },
    ArchRow { sm: 89, first: (11, 8), removed: None },
    ArchRow { sm: 90, first: (11, 8), removed: None },
    ArchRow { sm: 100, first: (12, 8), removed: None },
    ArchRow { sm: 101, first: (12, 8), removed: Some((13, 0)) },
    ArchRow { sm: 103, first: (12, 9), removed: None },
    ArchRow { sm: 107, first: (13, 4), removed: None },
    ArchRow { sm: 110, first: (13, 0), removed: None },
    ArchRow { sm: 120, first: (12, 8), removed: None },
    ArchRow { sm: 121, first: (12, 9), removed: None },
];

/// Arch-specific (`a`) and family (`f`) variants: `(sm, suffix, first toolkit)`.
/// Source: cuda-facts section 3 (`nvcc -arch=sm_90a` accepted from 12.0; `f` from 12.9;
/// 101 renamed 110 in 13.0). They run only on that exact arch (`a`) or family (`f`).
pub const ARCH_VARIANTS: &[(u32, char, (u32, u32))] = &[
    (90, 'a', (12, 0)),
    (100, 'a', (12, 8)),
    (101, 'a', (12, 8)),
    (120, 'a', (12, 8)),
    (100, 'f', (12, 9)),
    (101, 'f', (12, 9)),
    (103, 'a', (12, 9)),
    (103, 'f', (12, 9)),
    (120, 'f', (12, 9)),
    (121, 'a', (12, 9)),
    (121, 'f', (12, 9)),
    (110, 'a', (13, 0)),
    (110, 'f', (13, 0)),
    (107, 'a', (13, 4)),
    (107, 'f', (13, 4)),
];

/// One row of [`ARCHS`].
#[derive(Clone, Copy, Debug)]
pub struct ArchRow {
    /// The `sm_` number (`86`).
    pub sm: u32,
    /// First toolkit (major, minor) that targets it.
    pub first: (u32, u32),
    /// First toolkit that no longer does.
    pub removed: Option<(u32, u32)>,
}

/// The `sm_` numbers the table says `v` can target, ascending.
pub fn archs_for(v: &CudaVersion) -> Vec<u32> {
    let t = (v.major, v.minor);
    ARCHS.iter().filter(|r| r.first <= t && r.removed.map_or(true, |rm| t < rm)).map(|r| r.sm).collect()
}

/// Whether `sm` with `suffix` (`'a'`/`'f'`) exists in toolkit `v`.
pub fn variant_supported(sm: u32, suffix: char, v: &CudaVersion) -> bool {
    let t = (v.major, v.minor);
    let removed = ARCHS.iter().find(|r| r.sm == sm).and_then(|r| r.removed);
    ARCH_VARIANTS.iter().any(|&(s, x, first)| s == sm && x == suffix && first <= t) && removed.map_or(true, |rm| t < rm)
}
