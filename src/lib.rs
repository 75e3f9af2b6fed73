//! Find, check and use the CUDA toolkit from a build script.
//!
//! ```no_run
//! // build.rs of a GPU crate
//! let cuda = cuda_build::Probe::new().version_req(">=11.8, <14").find_or_exit();
//! cuda.emit_or_exit(); // cfg(cuda), cuda_version="X.Y", cuda_ge_X_Y, link search, rerun-if lines
//! ```
//!
//! # Stages
//! ```text
//! env + filesystem --> Env (every read recorded -> rerun-if-env-changed)
//!   --> locate: candidates [(source, nvcc or root)], in rank order      toolkit::locate
//!   --> inspect: layout, version.json / version.txt / cuda.h            toolkit::layout
//!   --> choose: range, explicit choices final, nvcc --version once      probe
//!   --> checks: host compiler, driver, libtorch -> Check {ok|warn|error} host, driver, torch
//!   --> compile: archs, one nvcc job per .cu (jobserver), stamps        arch, compile
//!   --> Directive list --> printed once                                 emit
//! ```
//! Each stage is a function of the previous one plus [`Env`], which is how the tests give
//! the crate a fake environment and a fake filesystem root
//! (`Env::from_vars(...).with_sysroot(dir)`).
//!
//! ```
//! // Probing an environment made of explicit variables, as the tests do.
//! let env = cuda_build::Env::from_vars([("CUDA_PATH", "/nonexistent/cuda")]);
//! let err = cuda_build::Probe::new().env(env).find().unwrap_err();
//! assert!(err.to_string().starts_with("the CUDA toolkit named by CUDA_PATH=/nonexistent/cuda is not usable"));
//! ```
//!
//! # Where toolkits are looked for, in order (rank)
//! 1. The variables, in this order: `NVCC`, then `CUDACXX` (each also as `NVCC_<target>`,
//!    `NVCC_<target_with_underscores>`, `TARGET_NVCC`/`HOST_NVCC`, as cc reads them): the nvcc
//!    program; then `CUDAToolkit_ROOT`, `CUDA_PATH`, `CUDA_HOME`, `CUDA_ROOT`,
//!    `CUDA_TOOLKIT_ROOT_DIR`: a root. The first one set decides.
//! 2. The first `nvcc` on `PATH`, symlinks and distribution wrappers (Debian's `/usr/bin/nvcc`)
//!    resolved to the real root.
//! 3. `/usr/local/cuda`, `/usr/local/cuda-X.Y` (newest first), `CUDA_PATH_Vx_y` (Windows
//!    installer), `/opt/cuda`, `/usr/lib/nvidia-cuda-toolkit` (Debian/Ubuntu).
//! 4. `$CONDA_PREFIX`; NVIDIA's wheels in site-packages (`nvidia/cu13`, `nvidia/cuda_nvcc`);
//!    cuda-build's cache (`CUDA_BUILD_CACHE`, default `~/.cache/cuda-build`).
//! 5. pkg-config files `cuda-X.Y.pc` / `cudart-X.Y.pc` (their `cudaroot`).
//!
//! A toolkit named by a rank-1 variable (`NVCC`, `CUDACXX`, `CUDAToolkit_ROOT`, `CUDA_PATH`,
//! `CUDA_HOME`, `CUDA_ROOT`, `CUDA_TOOLKIT_ROOT_DIR`) is final: if it is broken, outside the
//! range or of another CUDA major than libtorch's, that is the error, never a silent
//! fall-through. Otherwise the best rank holding a toolkit that fits wins, and within a rank
//! the newest; when a better-ranked toolkit was refused, a warning names it, why, and the
//! toolkit used instead.
//!
//! With [`Probe::libtorch`], libtorch is found first and toolkits of another CUDA major than
//! its own are refused like an out-of-range version, so a compatible toolkit found elsewhere
//! is chosen; when none fits, the error lists the compatible ones found and how to select them.
//!
//! The chosen toolkit's version reaches the crate as cfgs (`cuda_version="X.Y"`,
//! `cuda_ge_X_Y`) and as `env!("CUDA_BUILD_CUDA_VERSION")` (`"13.5.37"`, [`VERSION_VAR`]).
//!
//! # Version
//! Read from `version.json` / `version.txt` when the toolkit has one (no process spawned),
//! else from `nvcc --version` (spawned once, for the chosen toolkit), and cross-checked with
//! `cuda.h`'s `CUDA_VERSION`: a disagreement is a warning naming both sources.
//!
//! # Environment -> behaviour
//! What a build meets, and what it gets; each row is proven by the named test.
//!
//! | environment | behaviour | test |
//! |---|---|---|
//! | no toolkit anywhere | one error listing every place searched and the fix; `find_optional` builds without `cfg(cuda)` and one warning | `consumer::no_toolkit_fails_clearly_and_optional_mode_builds_without_cuda` |
//! | `DOCS_RS` set, no toolkit | the build script succeeds with the cfgs declared and a warning | `hardening::docs_rs_without_a_toolkit_builds` |
//! | a better-ranked toolkit refused (out of range, another CUDA major than libtorch's) | the next one that fits, and a warning naming both | `defaults::a_refused_better_ranked_toolkit_is_named_with_the_one_used_instead`, `libtorch::libtorch_steers_the_choice_past_a_toolkit_of_another_major` |
//! | shared cudart from the kernels and the build script | one link line, an rpath: the binary starts | `shared_cudart::a_binary_with_shared_cudart_starts_with_every_toolkit` |
//! | `CUDA_PATH` missing, a file, an empty dir, `a:b`, relative | an error naming the variable and why; never another toolkit | `layouts::cuda_path_missing_file_or_empty_each_get_their_own_error`, `layouts::odd_variable_values_are_clear_errors` |
//! | empty variables | unset | `env::tests::host_prefix_when_not_cross_compiling_and_empty_is_unset` |
//! | nvcc hangs / prints garbage / fails / floods | killed at the timeout / refused, each named | `layouts::hanging_nvcc_is_killed_and_named`, `layouts::nvcc_printing_garbage_or_failing_is_a_clear_refusal`, `layouts::a_flooding_nvcc_is_drained_not_waited_for` |
//! | nvidia-smi missing, hanging, garbage; libcuda without a GPU | "no driver seen", a note, never a failure | `host_driver::missing_garbage_or_hanging_nvidia_smi_means_no_driver_seen` |
//! | python missing, hanging, garbage (`LIBTORCH_USE_PYTORCH`) | a finding naming it | `libtorch::use_pytorch_with_broken_pythons_is_a_clear_finding` |
//! | paths with spaces | work (every fake tree's path has spaces) | `layouts::*` |
//! | non-UTF-8 toolkit path | `Error::NonUtf8Path` (cargo directives are UTF-8) | `layouts::non_utf8_toolkit_path_is_an_error_for_directives` |
//! | very long kernel names, symlink loops, an unwritable `OUT_DIR` | work / skipped with a warning / `Error::Io` naming the path | `hardening::unwritable_out_dir_symlink_loops_and_long_names` |
//! | two builds writing one `OUT_DIR` at once | unique temp files, atomic renames, both succeed | `hardening::concurrent_builds_into_one_out_dir_do_not_corrupt_each_other` |
//! | nvcc or the whole build script `SIGKILLed` mid-compile | nothing truncated is trusted; the next build recompiles and cleans up | `compile::an_nvcc_killed_mid_compile_leaves_nothing_the_next_build_accepts`, `hardening::a_build_script_sigkilled_mid_nvcc_is_recovered_by_the_next_build` |
//! | cross-compiling (aarch64 sbsa / Jetson), Windows layouts | the target's `targets/<triple>/lib` or `lib/x64`, never the host's | `layouts::cross_compiling_links_the_target_libraries_not_the_hosts`, `layouts::jetson_style_aarch64_linux_targets_dir`, `layouts::windows_layout_and_installer_variables` |
//! | kernel names: keywords, `_`, digits, unicode, punctuation (200+ generated) | a module that compiles in every edition, or one collision error naming both files, before nvcc | `hostile::two_hundred_generated_names_give_unique_modules_that_compile_or_one_clear_error` |
//! | a kernel name with a newline, `$(...)`, a backtick, `"`, `\`, a comma | refused before nvcc, the name shown escaped; nothing injected into directives or run by nvcc's shell | `hostile::unsafe_names_are_refused_before_nvcc_and_nothing_runs`, `hostile::through_cargo_names_cannot_inject_and_an_edit_during_the_build_is_recompiled` |
//! | a source edited while nvcc runs | recorded as changed: the next build recompiles it | `hostile::through_cargo_names_cannot_inject_and_an_edit_during_the_build_is_recompiled` |
//! | `k.cu` beside `k.tmp1-0.cu` | both outputs kept (temps are `.cuda-build-tmp-<pid>-<n>`, removed only for dead processes) | `hostile::a_neighbours_temp_like_name_is_never_deleted` |
//! | a FIFO or dangling link named `*.cu`, a missing or 129-deep directory, symlinked directories | an error naming it / followed (a loop skipped with a warning) | `hostile::odd_files_and_directories_each_get_a_clear_error_or_are_followed` |
//! | an unreadable kernel directory or subdirectory | an error naming it, never a silent omission | `hostile::through_cargo_unreadable_directories_are_errors_not_omissions` |
//! | several kernels fail; `NVCC_APPEND_FLAGS` set; a 100 000-character `CUDAARCHS` | every failure once, the variables shown in the command; the input cut | `hostile::every_failing_kernel_is_shown_once_with_the_flags_nvcc_adds` |
//! | a launcher that fails, is killed, or exits 0 without output | nvcc runs directly; one warning per build naming the launcher | `hostile::a_launcher_that_writes_nothing_is_named_and_nvcc_runs_directly`, `compile::a_launcher_killed_mid_compile_leaves_nothing_trusted_and_nvcc_runs_directly` |
//! | any parser input | no panic (100 000 proptest cases per parser in CI) | `fuzz::*` |
//!
//! Nothing is written outside `OUT_DIR` (outputs, stamps, the tool-answer cache) but one
//! small file per kernel in cuda-build's cache (`durations/`, the last nvcc time, so a build
//! after `cargo clean` starts the longest jobs first; `CUDA_BUILD_DURATIONS=off` turns it off);
//! the `build-support/` scripts alone write the toolkits there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]
#![warn(unnameable_types)]
// The pedantic lints that matter for a public API (checked in CI with -D warnings).
#![warn(clippy::doc_markdown, clippy::must_use_candidate, clippy::return_self_not_must_use, clippy::missing_errors_doc)]

mod arch;
#[cfg(feature = "bindgen")]
mod bindings;
mod cache;
mod check;
mod choose;
mod compat;
mod compile;
mod cuda;
mod driver;
mod emit;
mod env;
mod error;
mod fsx;
#[cfg(test)]
mod fuzz;
mod host;
mod json;
mod probe;
mod report;
mod run;
mod text;
mod toolkit;
mod torch;
mod version;

pub use arch::{Arch, ArchList, SpecSource};
pub use check::{Check, Status};
pub use compile::{
    compile_all, compile_all_or_exit, Compiled, CompiledKernel, Format, Kernels, ModuleStyle, DEFAULT_ARCH,
};
pub use cuda::{Cuda, Cudart, VERSION_VAR};
pub use driver::{Driver, DriverVersion, Gpu};
pub use emit::Directive;
pub use env::Env;
pub use error::{Error, ParseError, PathProblem, ToolError, ToolProblem};
pub use host::{HostCompiler, HostKind, HostVersion, Rejection as HostRejection};
pub use probe::{Probe, Report, DEFAULT_TOOL_TIMEOUT};
pub use toolkit::{Candidate, Refusal, Search, Source, Toolkit, VersionSource};
pub use torch::{Libtorch, NotFound as LibtorchNotFound, Rule as LibtorchRule};
pub use version::{CudaVersion, VersionReq};

/// The sourced compatibility tables and their parsers, for this crate's own matrix test and
/// device check (which compare them with real toolkits and drivers). Not part of the API:
/// anything here may change in any release.
#[doc(hidden)]
pub mod tables {
    pub use crate::compat::*;
    pub use crate::host::{parse_host_config, parse_version_output, HeaderLimits};
}
