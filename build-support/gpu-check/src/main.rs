//! The GPU check's program; build-support/gpu-check.sh drives it.
//!
//! ```text
//! gpu-check manifest DIR --meta KEY=VALUE... --build NAME|PACKAGE|NVCC|CUDAARCHS|KERNEL|PURPOSE...
//!     (prepare, in the repository root) DIR/manifest.json: each binary's toolkit and archs,
//!     and cuda-build's driver rules evaluated for every driver version where they can change
//! gpu-check run DIR [REPORT_DIR]
//!     (on the GPU machine) runs the checks from DIR alone; writes report.txt and report.json
//!     to REPORT_DIR (default DIR); exit 0 when every check passes or there is no CUDA device
//! ```

mod driver;
mod manifest;
mod run;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("manifest") if args.len() >= 2 => manifest::main(&args[1], &args[2..]),
        Some("run") if args.len() == 2 || args.len() == 3 => {
            let dir = std::path::Path::new(&args[1]);
            run::main(dir, args.get(2).map_or(dir, std::path::Path::new))
        }
        _ => Err("usage: gpu-check manifest DIR --meta K=V... --build SPEC... | gpu-check run DIR [REPORT_DIR]".into()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gpu-check: {e}");
            ExitCode::FAILURE
        }
    }
}
