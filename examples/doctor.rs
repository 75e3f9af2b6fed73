//! The doctor: what cuda-build finds on this machine, for a person or a tool.
//!
//! ```text
//! cargo run -q --example doctor -- [--json] [--require RANGE] [--libtorch]
//! ```
//! Exit status 0 when a toolkit was chosen and no check is an error, 1 otherwise.

use std::process::ExitCode;

use cuda_build::{Probe, Report, Status};
use serde_json::{json, Value};

fn main() -> ExitCode {
    let mut json_out = false;
    let mut probe = Probe::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json_out = true,
            "--libtorch" => {
                probe.libtorch(true);
            }
            "--require" => match args.next() {
                Some(range) => {
                    probe.version_req(&range);
                }
                None => return usage("--require needs a range, e.g. --require '>=12.0, <14'"),
            },
            "-h" | "--help" => {
                println!("usage: doctor [--json] [--require RANGE] [--libtorch]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let report = probe.report();
    if json_out {
        match serde_json::to_string_pretty(&to_json(&report)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("doctor: cannot render JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print_text(&report);
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("doctor: {msg}\nusage: doctor [--json] [--require RANGE] [--libtorch]");
    ExitCode::from(2)
}

fn path(p: &std::path::Path) -> Value {
    Value::String(p.display().to_string())
}

fn to_json(r: &Report) -> Value {
    let toolkit = match &r.result {
        Ok(t) => json!({
            "root": path(&t.root),
            "nvcc": path(&t.nvcc),
            "version": t.version.to_string(),
            "version_source": t.version_source.to_string(),
            "source": t.source.to_string(),
            "include_dirs": t.include_dirs.iter().map(|p| path(p)).collect::<Vec<_>>(),
            "lib_dirs": t.lib_dirs.iter().map(|p| path(p)).collect::<Vec<_>>(),
            "stubs_dir": t.stubs_dir.as_deref().map(path),
        }),
        Err(_) => Value::Null,
    };
    let candidates: Vec<Value> = r
        .search
        .candidates
        .iter()
        .map(|c| {
            json!({
                "root": path(c.root.as_deref().unwrap_or(&c.path)),
                "nvcc": c.nvcc.as_deref().map(path),
                "version": c.version.map(|v| v.to_string()),
                "source": c.source.to_string(),
                "accepted": c.accepted(),
                "reason": c.refusal.as_ref().map(|r| r.to_string()),
            })
        })
        .collect();
    let checks: Vec<Value> = r
        .checks
        .iter()
        .map(|c| json!({"name": c.name, "status": c.status.to_string(), "message": c.message}))
        .collect();
    let host = r.host_compiler.as_ref().map(|h| {
        json!({
            "path": path(&h.path),
            "kind": h.kind.to_string(),
            "version": h.version.map(|v| v.to_string()),
            "supported": h.supported,
            "source": h.source,
        })
    });
    let driver = json!({
        "version": r.driver.version.as_ref().map(|v| v.to_string()),
        "source": r.driver.source,
        "gpus": r.driver.gpus.iter().map(|g| json!({
            "name": g.name,
            "compute_cap": g.compute_cap.map(|a| format!("{}.{}", a.major, a.minor)),
        })).collect::<Vec<_>>(),
    });
    let libtorch = r.libtorch.as_ref().map(|l| {
        json!({
            "root": path(&l.root),
            "version": l.version,
            "cuda": l.cuda.map(|c| format!("{}.{}", c.major, c.minor)),
            "source": l.source,
            "rule": l.rule.to_string(),
            "lib_dir": path(&l.lib_dir),
        })
    });
    json!({
        "ok": r.ok(),
        "libtorch": libtorch,
        "host_compiler": host,
        "driver": driver,
        "required": r.search.required.as_ref().map(|q| q.to_string()),
        "toolkit": toolkit,
        "candidates": candidates,
        "searched": r.search.searched,
        "checks": checks,
    })
}

fn print_text(r: &Report) {
    println!("cuda-build doctor");
    match &r.result {
        Ok(t) => {
            println!("  toolkit:   CUDA {} (version from {})", t.version, t.version_source);
            println!("  root:      {}", t.root.display());
            println!("  nvcc:      {}", t.nvcc.display());
            println!("  chosen by: {}", t.source);
            for d in &t.include_dirs {
                println!("  include:   {}", d.display());
            }
            for d in &t.lib_dirs {
                println!("  lib:       {}", d.display());
            }
            if let Some(s) = &t.stubs_dir {
                println!("  stubs:     {} (link only)", s.display());
            }
        }
        Err(_) => println!("  toolkit:   none"),
    }
    match &r.host_compiler {
        Some(h) => println!(
            "  host:      {} {} at {} (from {}){}",
            h.kind,
            h.version.map_or_else(|| "?".to_owned(), |v| v.to_string()),
            h.path.display(),
            h.source,
            if h.supported { "" } else { ": NOT supported by this toolkit" }
        ),
        None => println!("  host:      (not checked)"),
    }
    match &r.driver.version {
        Some(v) => println!(
            "  driver:    {v} (from {}) — the driver's version, not a toolkit's",
            r.driver.source.as_deref().unwrap_or("?")
        ),
        None => println!("  driver:    none seen (normal on a build machine)"),
    }
    for g in &r.driver.gpus {
        let cc = g.compute_cap.map_or_else(|| "?".to_owned(), |a| format!("{}.{}", a.major, a.minor));
        println!("  gpu:       {} (compute capability {cc})", g.name);
    }
    if let Some(l) = &r.libtorch {
        let cuda = l.cuda.map_or_else(
            || "CPU-only".to_owned(),
            |c| format!("built with CUDA {}.{} (from {})", c.major, c.minor, l.source),
        );
        println!(
            "  libtorch:  {} {cuda}, at {} (found by {})",
            l.version.as_deref().unwrap_or("?"),
            l.root.display(),
            l.rule
        );
    }
    if let Some(req) = &r.search.required {
        println!("  required:  {req}");
    }
    println!("candidates:");
    if r.search.candidates.is_empty() {
        println!("  (none)");
    }
    for c in &r.search.candidates {
        let mark = if c.accepted() { "*" } else { "-" };
        let version = c.version.map_or_else(|| "?".to_owned(), |v| v.to_string());
        let why = c.refusal.as_ref().map_or_else(|| "chosen".to_owned(), |r| r.to_string());
        println!(
            "  {mark} {version:<10} {} (from {}): {why}",
            c.root.as_deref().unwrap_or(&c.path).display(),
            c.source
        );
    }
    println!("checks:");
    for c in &r.checks {
        let tag = match c.status {
            Status::Ok => "ok   ",
            Status::Warn => "WARN ",
            _ => "ERROR",
        };
        let mut lines = c.message.lines();
        println!("  [{tag}] {}: {}", c.name, lines.next().unwrap_or(""));
        for l in lines {
            println!("          {l}");
        }
    }
}
