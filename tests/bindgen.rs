//! Feature `bindgen`: a header shared by host and kernels, bound for the real toolkit.
#![cfg(feature = "bindgen")]

mod common;

use common::{real_nvcc, real_root};
use cuda_build::{Env, Probe};

#[test]
fn shared_header_with_cuda_types_binds() {
    for v in ["12.4", "13.5"] {
        let Some(nvcc) = real_nvcc(v) else { continue };
        let cuda = Probe::new().env(Env::from_vars([("CUDA_PATH", real_root(&nvcc))])).find().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let header = dir.path().join("params.h");
        std::fs::write(
            &header,
            "#pragma once\n#include <cuda_runtime.h>\nstruct Params { float4 scale; unsigned n; };\n#define PARAMS_BLOCK 256\n",
        )
        .unwrap();
        let text = cuda
            .bindgen(&header)
            .allowlist_type("Params")
            .allowlist_var("PARAMS_BLOCK")
            .generate()
            .unwrap_or_else(|e| panic!("CUDA {v}: {e}"))
            .to_string();
        assert!(text.contains("pub struct Params"), "{text}");
        assert!(text.contains("pub scale: float4"), "CUDA {v}: float4 comes from the toolkit's vector_types.h\n{text}");
        assert!(text.contains("pub struct float4"), "{text}");
        assert!(text.contains("pub const PARAMS_BLOCK: u32 = 256;"), "{text}");
    }
}
