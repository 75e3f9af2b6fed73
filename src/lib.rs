//! Find, check and use the CUDA toolkit from a build script.
//!
//! ```no_run
//! // build.rs of a GPU crate
//! let cuda = cuda_build::Probe::new().version_req(">=11.8, <14").find_or_exit();
//! cuda.emit(); // cfg(cuda), cuda_version="X.Y", cuda_ge_X_Y, link search, rerun-if lines
//! ```
//!
//! # Stages
//! `env` (every variable read is recorded) → [`locate`](toolkit) (candidates, in rank
//! order) → inspect (layout, version files, `cuda.h`) → choose (version range; explicit
//! choices are final) → [`Cuda::directives`] (typed, printed once by [`Cuda::emit`]).
//!
//! # Where toolkits are looked for, in order
//! 1. `NVCC`, then `CUDACXX` (each also as `NVCC_<target>`, `NVCC_<target_with_underscores>`,
//!    `TARGET_NVCC`/`HOST_NVCC`, as cc reads them): the nvcc program.
//! 2. `CUDAToolkit_ROOT`, `CUDA_PATH`, `CUDA_HOME`, `CUDA_ROOT`, `CUDA_TOOLKIT_ROOT_DIR`: a root.
//! 3. The first `nvcc` on `PATH`, symlinks and distribution wrappers (Debian's `/usr/bin/nvcc`)
//!    resolved to the real root.
//! 4. `/usr/local/cuda`, `/usr/local/cuda-X.Y` (newest first), `CUDA_PATH_Vx_y` (Windows
//!    installer), `/opt/cuda`, `/usr/lib/nvidia-cuda-toolkit` (Debian/Ubuntu).
//! 5. `$CONDA_PREFIX`; NVIDIA's wheels in site-packages (`nvidia/cu13`, `nvidia/cuda_nvcc`);
//!    cuda-build's cache (`CUDA_BUILD_CACHE`, default `~/.cache/cuda-build`).
//! 6. pkg-config files `cuda-X.Y.pc` / `cudart-X.Y.pc` (their `cudaroot`).
//!
//! A toolkit named by a variable of rank 1 or 2 is final: if it is broken or outside the
//! range, that is the error, never a silent fall-through. Otherwise the best rank holding a
//! toolkit in range wins, and within a rank the newest.
//!
//! # Version
//! Read from `version.json` / `version.txt` when the toolkit has one (no process spawned),
//! else from `nvcc --version` (spawned once, for the chosen toolkit), and cross-checked with
//! `cuda.h`'s `CUDA_VERSION`: a disagreement is a warning naming both sources.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

pub mod arch;
#[cfg(feature = "bindgen")]
mod bindings;
mod cache;
mod check;
pub mod compat;
pub mod compile;
mod cuda;
pub mod driver;
mod emit;
mod env;
mod error;
mod fsx;
#[cfg(test)]
mod fuzz;
pub mod host;
mod json;
mod probe;
mod run;
pub mod toolkit;
pub mod torch;
mod version;

pub use check::{Check, Status};
pub use compile::{Compiled, CompiledKernel, Format, Kernels};
pub use cuda::{Cuda, Cudart};
pub use emit::Directive;
pub use env::Env;
pub use error::{Error, ParseError, ToolError, ToolProblem};
pub use probe::{Probe, Report, Search, DEFAULT_TOOL_TIMEOUT};
pub use toolkit::{Candidate, Refusal, Source, Toolkit, VersionSource};
pub use version::{CudaVersion, VersionReq};
