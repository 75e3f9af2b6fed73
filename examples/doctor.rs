//! The doctor: what cuda-build finds on this machine, for a person or a tool.
//!
//! ```text
//! cargo run -q --example doctor -- [--json] [--require RANGE] [--libtorch]
//! ```
//! Exit status 0 when a toolkit was chosen and no check is an error, 1 otherwise, 2 for a
//! bad argument. The text and JSON are the crate's own (`Report`'s `Display` and
//! `Report::to_json`), so a project's tool prints the same. A reader that stops early
//! (`doctor | head -1`) is not an error: the rest is dropped quietly.

use std::io::{self, Write};
use std::process::ExitCode;

use cuda_build::Probe;

const USAGE: &str = "usage: doctor [--json] [--require RANGE] [--libtorch]";

fn main() -> ExitCode {
    let mut json = false;
    let mut probe = Probe::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--libtorch" => {
                probe.libtorch(true);
            }
            "--require" => match args.next() {
                Some(range) => {
                    probe.version_req(&range);
                }
                None => return usage("--require needs a range, e.g. --require '>=12.0, <14'"),
            },
            "-h" | "--help" => return out(USAGE, ExitCode::SUCCESS),
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let report = probe.report();
    let status = if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if json {
        out(&report.to_json(), status)
    } else {
        out(&report.to_string(), status)
    }
}

/// Prints `text` and a newline and exits with `status`. `println!` would panic when stdout
/// is closed (`doctor | head -1`); a reader that has gone is no failure of the doctor.
fn out(text: &str, status: ExitCode) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => status,
        Err(e) => {
            let _ = writeln!(io::stderr(), "doctor: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(msg: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "doctor: {msg}\n{USAGE}");
    ExitCode::from(2)
}
