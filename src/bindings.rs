//! Feature `bindgen`: Rust bindings for a header of host-side types shared with kernels.

use std::path::Path;

use crate::Cuda;

impl Cuda {
    /// A [`bindgen::Builder`] for `header`, set up for this toolkit: parsed as C++17 (the
    /// host's view of the header, `__CUDACC__` undefined) with the toolkit's include
    /// directories, so `#include <cuda_runtime.h>` and types such as `float4` resolve.
    /// Add your allowlist and call `generate()`.
    ///
    /// ```no_run
    /// # let cuda = cuda_build::Probe::new().find().unwrap();
    /// let bindings = cuda.bindgen("kernels/params.h").allowlist_type("Params").generate().unwrap();
    /// bindings.write_to_file(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("params.rs")).unwrap();
    /// ```
    pub fn bindgen(&self, header: impl AsRef<Path>) -> bindgen::Builder {
        let mut b = bindgen::Builder::default().header(header.as_ref().to_string_lossy().into_owned()).clang_args([
            "-x",
            "c++",
            "-std=c++17",
        ]);
        for dir in &self.toolkit().include_dirs {
            b = b.clang_arg(format!("-I{}", dir.display()));
        }
        b
    }
}
