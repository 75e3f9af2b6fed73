//! Running external tools: no shell, a timeout, bounded output, and errors that name the tool.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::error::{ToolError, ToolProblem};

/// Output beyond this is dropped (a tool that floods its output must not exhaust memory).
const MAX_OUTPUT: u64 = 4 << 20;

/// What a tool printed, decoded lossily (a non-UTF-8 byte never fails a probe).
#[derive(Debug)]
pub(crate) struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args` and returns its output when it exits 0 within `timeout`.
pub(crate) fn run(program: &Path, args: &[&str], timeout: Duration) -> Result<Output, ToolError> {
    let err = |problem| ToolError {
        program: PathBuf::from(program),
        args: args.iter().map(|a| a.to_string()).collect(),
        problem,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(ToolProblem::Spawn(e.to_string())))?;
    // Read both pipes on threads so a tool that fills one never blocks on it.
    let readers: Vec<_> = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .map(|pipe| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut buf);
            }
            buf
        })
    })
    .collect();
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err(ToolProblem::Timeout(timeout)));
        }
        Err(e) => return Err(err(ToolProblem::Spawn(e.to_string()))),
    };
    let mut outs = readers.into_iter().map(|r| r.join().unwrap_or_default());
    let stdout = String::from_utf8_lossy(&outs.next().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&outs.next().unwrap_or_default()).into_owned();
    if !status.success() {
        return Err(err(ToolProblem::Failed { status: status.to_string(), stderr: stderr.trim().to_owned() }));
    }
    Ok(Output { stdout, stderr })
}
