//! The launcher nvcc runs through (a compiler cache): `CUDA_BUILD_LAUNCHER`,
//! `CMAKE_CUDA_COMPILER_LAUNCHER`, or `RUSTC_WRAPPER` when it is sccache.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::run::Cmd;

/// A launcher: its program and the arguments before nvcc's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Launcher {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl Launcher {
    pub(crate) fn from_env(env: &crate::Env) -> Result<Option<Launcher>, Error> {
        if let Some(l) = env.get("CUDA_BUILD_LAUNCHER").or_else(|| env.get("CMAKE_CUDA_COMPILER_LAUNCHER")) {
            if l == "none" {
                return Ok(None);
            }
            return Ok(Some(Launcher { program: PathBuf::from(l), args: Vec::new() }));
        }
        let Some(wrapper) = env.get("RUSTC_WRAPPER").map(PathBuf::from) else { return Ok(None) };
        let is_sccache = wrapper.file_stem().and_then(|n| n.to_str()) == Some("sccache");
        Ok(is_sccache.then(|| Launcher { program: wrapper, args: Vec::new() }))
    }

    /// The command that runs `nvcc` through the launcher.
    pub(crate) fn command(&self, nvcc: &Path) -> Cmd {
        let mut c = Cmd::new(&self.program);
        for a in &self.args {
            c.arg(a);
        }
        c.arg(nvcc);
        c
    }

    /// How messages name it.
    pub(crate) fn describe(&self, _env: &crate::Env) -> String {
        self.program.display().to_string()
    }
}
