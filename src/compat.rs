//! Compatibility data. Each table's sources, and what is not known, are in the crate's
//! `docs/compatibility.md` (cited below by section).

use crate::version::CudaVersion;

/// Every CUDA toolkit release (major.minor) this crate knows, oldest first.
/// Source: NVIDIA's CUDA Toolkit Archive (`docs/compatibility.md` section 7); there was no 12.7.
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
#[must_use]
pub fn newest_known() -> CudaVersion {
    let (major, minor) = RELEASES.last().copied().unwrap_or((0, 0));
    CudaVersion::new(major, minor)
}

/// The releases at or below `v`, plus `v` itself when it is newer than every known one.
#[must_use]
pub fn releases_up_to(v: &CudaVersion) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> =
        RELEASES.iter().copied().filter(|&(ma, mi)| (ma, mi) <= (v.major, v.minor)).collect();
    if !RELEASES.contains(&(v.major, v.minor)) {
        out.push((v.major, v.minor));
    }
    out
}

/// GPU architectures (`sm_` numbers) by toolkit: supported when `first <= toolkit < removed`.
/// Source: `docs/compatibility.md` section 1 — real `nvcc --list-gpu-code` of 11.2, 11.8,
/// 12.4, 13.0-13.5 and `ptxas --help` of every 12.x wheel, compared with `CMake`, Meson,
/// clang and Spack tables.
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
/// Source: `docs/compatibility.md` section 2 (`nvcc -arch=sm_90a` accepted from 12.0; `f`
/// from 12.9; 101 renamed 110 in 13.0). They run only on that exact arch (`a`) or family (`f`).
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
#[must_use]
pub fn archs_for(v: &CudaVersion) -> Vec<u32> {
    let t = (v.major, v.minor);
    ARCHS.iter().filter(|r| r.first <= t && r.removed.is_none_or(|rm| t < rm)).map(|r| r.sm).collect()
}

/// Whether `sm` with `suffix` (`'a'`/`'f'`) exists in toolkit `v`.
#[must_use]
pub fn variant_supported(sm: u32, suffix: char, v: &CudaVersion) -> bool {
    let t = (v.major, v.minor);
    let removed = ARCHS.iter().find(|r| r.sm == sm).and_then(|r| r.removed);
    ARCH_VARIANTS.iter().any(|&(s, x, first)| s == sm && x == suffix && first <= t) && removed.is_none_or(|rm| t < rm)
}

/// Newest host compilers each nvcc accepts: `(nvcc from version, gcc max major, clang max major,
/// MSVC `_`MSC_VER`` range)`. Rows apply from their version up to the next row's. Source:
/// `docs/compatibility.md` section 3, read from each toolkit's `crt/host_config.h` (11.2,
/// 11.7-13.5 verified; 11.0-11.6 from `PyTorch`'s `cpp_extension` and Spack). Read by nvcc's
/// version, patch included: the limits change within a minor (12.2.91 -> 12.2.128).
pub const HOST_COMPILERS: &[HostRow] = &[
    HostRow { from: (11, 0, 0), gcc_max: 9, clang_max: 9, msvc: None, status: "secondary: PyTorch, Spack" },
    HostRow { from: (11, 1, 0), gcc_max: 10, clang_max: 10, msvc: None, status: "secondary: PyTorch, Spack" },
    HostRow {
        from: (11, 2, 0),
        gcc_max: 10,
        clang_max: 11,
        msvc: Some((1910, 1929)),
        status: "verified: host_config.h 11.2.152",
    },
    HostRow { from: (11, 3, 0), gcc_max: 10, clang_max: 11, msvc: None, status: "secondary: PyTorch, Spack" },
    HostRow {
        from: (11, 4, 0),
        gcc_max: 10,
        clang_max: 11,
        msvc: None,
        status: "secondary: V11.4.48 only; clang disputed (PyTorch 12)",
    },
    HostRow { from: (11, 4, 49), gcc_max: 11, clang_max: 12, msvc: None, status: "secondary: PyTorch, Spack" },
    HostRow { from: (11, 6, 0), gcc_max: 11, clang_max: 13, msvc: None, status: "secondary: PyTorch, Spack" },
    HostRow {
        from: (11, 7, 0),
        gcc_max: 11,
        clang_max: 13,
        msvc: Some((1910, 1939)),
        status: "verified: host_config.h 11.7.99",
    },
    HostRow {
        from: (11, 8, 0),
        gcc_max: 11,
        clang_max: 14,
        msvc: Some((1910, 1939)),
        status: "verified: host_config.h 11.8.89",
    },
    HostRow {
        from: (12, 0, 0),
        gcc_max: 12,
        clang_max: 14,
        msvc: Some((1910, 1939)),
        status: "verified: host_config.h 12.0.76",
    },
    HostRow {
        from: (12, 1, 0),
        gcc_max: 12,
        clang_max: 15,
        msvc: Some((1910, 1939)),
        status: "verified: host_config.h 12.1.66",
    },
    HostRow {
        from: (12, 2, 128),
        gcc_max: 12,
        clang_max: 16,
        msvc: Some((1910, 1939)),
        status: "verified: host_config.h 12.2.128",
    },
    HostRow {
        from: (12, 4, 0),
        gcc_max: 13,
        clang_max: 17,
        msvc: Some((1910, 1949)),
        status: "verified: host_config.h 12.4.131",
    },
    HostRow {
        from: (12, 6, 0),
        gcc_max: 13,
        clang_max: 18,
        msvc: Some((1910, 1949)),
        status: "verified: host_config.h 12.6.85",
    },
    HostRow {
        from: (12, 8, 0),
        gcc_max: 14,
        clang_max: 19,
        msvc: Some((1910, 1949)),
        status: "verified: host_config.h 12.8.61",
    },
    HostRow {
        from: (13, 0, 0),
        gcc_max: 15,
        clang_max: 20,
        msvc: Some((1920, 1949)),
        status: "verified: host_config.h 13.0.48",
    },
    HostRow {
        from: (13, 1, 0),
        gcc_max: 15,
        clang_max: 21,
        msvc: Some((1920, 1949)),
        status: "verified: host_config.h 13.1.80",
    },
    HostRow {
        from: (13, 2, 0),
        gcc_max: 15,
        clang_max: 21,
        msvc: Some((1920, 1959)),
        status: "verified: host_config.h 13.2.51",
    },
    HostRow {
        from: (13, 4, 0),
        gcc_max: 16,
        clang_max: 22,
        msvc: Some((1920, 1959)),
        status: "verified: host_config.h 13.5.37",
    },
];

/// The newest toolkit [`HOST_COMPILERS`] covers; beyond it the toolkit's own header is read.
pub const HOST_TABLE_NEWEST: (u32, u32) = (13, 5);

/// One row of [`HOST_COMPILERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRow {
    /// First nvcc version (major, minor, patch) the row applies to.
    pub from: (u32, u32, u32),
    /// Newest gcc major accepted.
    pub gcc_max: u32,
    /// Newest clang major accepted (Apple clang is never version-checked by nvcc).
    pub clang_max: u32,
    /// `_MSC_VER` range accepted, inclusive, where known.
    pub msvc: Option<(u32, u32)>,
    /// How the row is known.
    pub status: &'static str,
}

/// The host-compiler limits for nvcc `v`, if the table covers it.
#[must_use]
pub fn host_limits(v: &CudaVersion) -> Option<HostRow> {
    if (v.major, v.minor) > HOST_TABLE_NEWEST {
        return None;
    }
    let key = (v.major, v.minor, v.patch.unwrap_or(0));
    HOST_COMPILERS.iter().rev().find(|r| r.from <= key).copied()
}

/// `((major, minor), Linux minimum, Windows minimum)`.
pub type DriverRow = ((u32, u32), Option<&'static str>, Option<&'static str>);

/// Minimum Linux / Windows driver for each toolkit release's GA (x.y.0): the driver that runs
/// its programs, PTX JIT included. Source: `docs/compatibility.md` section 4: Meson's copy of
/// NVIDIA's release notes table 3, checked against the driver bundled in NVIDIA's installers.
/// `None`: no source found. SASS then runs from the major's baseline ([`DRIVER_BASELINE`]);
/// whether a driver JIT-compiles the PTX is unknown, unless it fails an earlier release's
/// minimum (minimums only rise).
pub const DRIVER_MINIMUM: &[DriverRow] = &[
    ((11, 0), Some("450.51.05"), Some("451.48")),
    ((11, 1), Some("455.23"), Some("456.38")),
    ((11, 2), Some("460.27.03"), Some("460.82")),
    ((11, 3), Some("465.19.01"), Some("465.89")),
    ((11, 4), Some("470.42.01"), Some("471.11")),
    ((11, 5), Some("495.29.05"), Some("496.04")),
    ((11, 6), Some("510.39.01"), Some("511.23")),
    ((11, 7), Some("515.43.04"), Some("516.01")),
    ((11, 8), Some("520.61.05"), Some("522.06")),
    ((12, 0), Some("525.60.13"), Some("527.41")),
    ((12, 1), Some("530.30.02"), Some("531.14")),
    ((12, 2), Some("535.54.03"), Some("536.25")),
    ((12, 3), Some("545.23.06"), Some("545.84")),
    ((12, 4), Some("550.54.14"), Some("551.61")),
    ((12, 5), Some("555.42.02"), Some("555.85")),
    ((12, 6), Some("560.28.03"), Some("560.76")),
    ((12, 8), Some("570.26"), Some("570.65")),
    ((12, 9), Some("575.51.03"), Some("576.02")),
    ((13, 0), Some("580.65.06"), None),
    ((13, 1), Some("590.44.01"), None),
    ((13, 2), Some("595.45.04"), None),
    ((13, 3), Some("610.43.02"), None),
    // Not found: Meson's table ends at 13.3.1, the 13.4+ runfiles name no driver, and the
    // copies of NVIDIA's 13.4 / 13.5 release notes searched did not reach table 3
    // (docs/compatibility.md section 4). Add them with their source when found.
    ((13, 4), None, None),
    ((13, 5), None, None),
];

/// Minor-version compatibility: a driver at or above the baseline runs SASS of any later
/// minor of that major; PTX still needs the release's own minimum. Source: NVIDIA's CUDA
/// Compatibility guide, table 1 (`docs/compatibility.md` section 5).
pub const DRIVER_BASELINE: &[(u32, &str, Option<&str>)] =
    &[(11, "450.80.02", Some("452.39")), (12, "525.60.13", Some("528.33")), (13, "580", None)];
