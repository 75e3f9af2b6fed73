//! The launcher's parsing, judging and summary, without running a cache.
use super::*;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

fn from(vars: &[(&str, &str)]) -> Result<Option<Launcher>, Error> {
    // An empty PATH: names stay as given, nothing on this machine is found.
    let mut all: Vec<(&str, &str)> = vec![("PATH", "/nonexistent-cuda-build-test")];
    all.extend_from_slice(vars);
    Launcher::from_env(&Env::from_vars(all.iter().copied()))
}

fn words(vars: &[(&str, &str)]) -> Option<(String, Vec<String>, &'static str)> {
    from(vars).unwrap().map(|l| {
        let args = l.args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        (l.program().display().to_string(), args, l.variable())
    })
}

fn program(vars: &[(&str, &str)]) -> Option<String> {
    words(vars).map(|(p, _, _)| p)
}

#[test]
fn precedence_and_only_sccache_from_rustc_wrapper() {
    assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/sccache")]).as_deref(), Some("/usr/bin/sccache"));
    assert_eq!(program(&[("RUSTC_WRAPPER", "sccache")]).as_deref(), Some("sccache"));
    assert_eq!(program(&[("RUSTC_WRAPPER", "/opt/sccache.exe")]).as_deref(), Some("/opt/sccache.exe"));
    assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/clippy-driver")]), None, "only sccache caches nvcc too");
    assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/sccache-wrapper")]), None);
    assert_eq!(program(&[("RUSTC_WRAPPER", "")]), None);
    assert_eq!(
        words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"), ("RUSTC_WRAPPER", "sccache")]),
        Some(("ccache".into(), vec![], "CMAKE_CUDA_COMPILER_LAUNCHER"))
    );
    assert_eq!(
        words(&[("CUDA_BUILD_LAUNCHER", "a"), ("CMAKE_CUDA_COMPILER_LAUNCHER", "b"), ("RUSTC_WRAPPER", "sccache")]),
        Some(("a".into(), vec![], "CUDA_BUILD_LAUNCHER"))
    );
    assert_eq!(program(&[]), None);
}

#[test]
fn the_off_switch_beats_rustc_wrapper_and_cmake() {
    for off in ["none", "NONE", "None", "off", "Off", "0", "false", "FALSE", "no", "", "  ", " none "] {
        let vars = [
            ("CUDA_BUILD_LAUNCHER", off),
            ("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"),
            ("RUSTC_WRAPPER", "/usr/bin/sccache"),
        ];
        assert_eq!(program(&vars), None, "CUDA_BUILD_LAUNCHER={off:?}");
    }
    // Off words are ours: in CMake's variable `none` is a program name.
    assert_eq!(program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "none")]).as_deref(), Some("none"));
    // An empty CMake variable is unset, so RUSTC_WRAPPER still counts.
    assert_eq!(
        program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ""), ("RUSTC_WRAPPER", "sccache")]).as_deref(),
        Some("sccache")
    );
    // The variables read are recorded for rerun-if-env-changed, the empty one too.
    let env = Env::from_vars([("CUDA_BUILD_LAUNCHER", "")]);
    assert!(Launcher::from_env(&env).unwrap().is_none());
    assert!(env.recorded().contains(&"CUDA_BUILD_LAUNCHER".to_owned()));
}

#[test]
fn a_launcher_with_arguments_is_a_command_line() {
    assert_eq!(
        words(&[("CUDA_BUILD_LAUNCHER", "ccache --max-size=1G")]),
        Some(("ccache".into(), vec!["--max-size=1G".into()], "CUDA_BUILD_LAUNCHER"))
    );
    assert_eq!(
        words(&[("CUDA_BUILD_LAUNCHER", r#"'/opt/my tools/ccache' "a b" c\ d"#)]),
        Some(("/opt/my tools/ccache".into(), vec!["a b".into(), "c d".into()], "CUDA_BUILD_LAUNCHER"))
    );
    let e = from(&[("CUDA_BUILD_LAUNCHER", "ccache 'unclosed")]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("CUDA_BUILD_LAUNCHER=\"ccache 'unclosed\""), "{text}");
    assert!(text.contains("unclosed quote"), "{text}");
    assert!(text.contains("CUDA_BUILD_LAUNCHER=none"), "{text}");
}

#[test]
fn an_existing_path_with_spaces_is_not_split() {
    let dir = tempfile::Builder::new().prefix("my tools ").tempdir().unwrap();
    let tool = dir.path().join("sc cache");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    let value = tool.to_str().unwrap();
    assert_eq!(words(&[("CUDA_BUILD_LAUNCHER", value)]), Some((value.into(), vec![], "CUDA_BUILD_LAUNCHER")));
    assert_eq!(program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", value)]).as_deref(), Some(value));
}

#[test]
fn cmake_launcher_is_a_cmake_list() {
    assert_eq!(
        words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache;--max-size=1G")]),
        Some(("ccache".into(), vec!["--max-size=1G".into()], "CMAKE_CUDA_COMPILER_LAUNCHER"))
    );
    // Empty elements dropped, `\;` is a literal semicolon, spaces are kept inside an element.
    assert_eq!(
        words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ";/opt/my tools/ccache;;a\\;b;")]),
        Some(("/opt/my tools/ccache".into(), vec!["a;b".into()], "CMAKE_CUDA_COMPILER_LAUNCHER"))
    );
    let e = from(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ";;")]).unwrap_err().to_string();
    assert!(e.contains("names no program") && e.contains("\"ccache;--max-size=1G\""), "{e}");
}

#[test]
fn a_bare_name_is_resolved_on_the_probes_path() {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("ccache");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = Env::from_vars([("PATH", dir.path().as_os_str()), ("CUDA_BUILD_LAUNCHER", OsStr::new("ccache -v"))]);
    let l = Launcher::from_env(&env).unwrap().unwrap();
    assert_eq!(l.program(), tool);
    let cmd = l.command(Path::new("/cuda/bin/nvcc"));
    assert_eq!(cmd.program, tool);
    assert_eq!(cmd.args, [OsString::from("-v"), OsString::from("/cuda/bin/nvcc")]);
}

#[test]
fn version_is_asked_once_and_cached_in_out_dir() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs");
    let tool = dir.path().join("sccache");
    std::fs::write(&tool, format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 'sccache 0.16.0'\necho more\n", log.display()))
        .unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.path().join("out");
    let env = Env::from_vars([("RUSTC_WRAPPER", tool.as_os_str()), ("OUT_DIR", out.as_os_str())]);
    let runs = || std::fs::read_to_string(&log).unwrap_or_default().lines().count();
    let l = Launcher::from_env(&env).unwrap().unwrap();
    assert_eq!(l.version(&env), Some("sccache 0.16.0"));
    assert_eq!(l.version(&env), Some("sccache 0.16.0"));
    assert_eq!(runs(), 1);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "--version\n");
    // A later build script run: answered from OUT_DIR, nothing spawned.
    let again = Launcher::from_env(&env).unwrap().unwrap();
    assert_eq!(again.version(&env), Some("sccache 0.16.0"));
    assert_eq!(runs(), 1);
    assert_eq!(again.describe(again.version(&env)), format!("sccache 0.16.0 ({}, from RUSTC_WRAPPER)", tool.display()));
}

#[test]
fn a_launcher_that_does_not_answer_has_no_version() {
    let env = Env::from_vars([("CUDA_BUILD_LAUNCHER", "/nonexistent/ccache --max-size=1G")]);
    let l = Launcher::from_env(&env).unwrap().unwrap();
    assert_eq!(l.version(&env), None);
    assert_eq!(
        l.describe(None),
        "ccache (version unknown) (/nonexistent/ccache --max-size=1G, from CUDA_BUILD_LAUNCHER)"
    );
    assert_eq!(l.describe(Some("4.7")), "ccache (4.7) (/nonexistent/ccache --max-size=1G, from CUDA_BUILD_LAUNCHER)");
}

fn sccache() -> Launcher {
    from(&[("RUSTC_WRAPPER", "/opt/sccache")]).unwrap().unwrap()
}

fn output(code: i32, stdout: &str, stderr: &str) -> Result<Output, ToolError> {
    Ok(Output { status: ExitStatus::from_raw(code << 8), stdout: stdout.into(), stderr: stderr.into() })
}

#[test]
fn judge_success_failure_and_silent_failure() {
    let l = sccache();
    let k = Path::new("kernels/a.cu");
    assert_eq!(judge(&l, k, &output(0, "", "warning: x"), true), None);
    let no_output = judge(&l, k, &output(0, "", ""), false).unwrap();
    assert!(no_output.first_error.starts_with("exited 0 but wrote no output"), "{no_output:?}");
    // What sccache 0.16 prints for nvcc 13.5 (measured): its own line is the one shown.
    let f = judge(
        &l,
        k,
        &output(
            1,
            "",
            "fatbinary fatal   : Could not open input file 'a.compute_75.cubin'\nsccache: Compiler killed by signal 1\n",
        ),
        false,
    )
    .unwrap();
    assert_eq!(f.first_error, "sccache: Compiler killed by signal 1");
    assert_eq!(f.kernel, k);
    assert!(!f.could_not_start);
    let quiet = judge(&l, k, &output(2, "", ""), false).unwrap();
    assert_eq!(quiet.first_error, "failed (exit status: 2) and printed nothing");
}

#[test]
fn judge_spawn_failure_and_timeout() {
    let l = sccache();
    let k = Path::new("a.cu");
    let err = |problem| Err(ToolError { program: "/opt/sccache".into(), args: vec![], problem });
    let spawn = judge(&l, k, &err(ToolProblem::Spawn("No such file or directory (os error 2)".into())), false);
    let spawn = spawn.unwrap();
    assert!(spawn.could_not_start);
    assert_eq!(spawn.first_error, "could not be started: No such file or directory (os error 2)");
    let t = judge(&l, k, &err(ToolProblem::Timeout(Duration::from_secs(600))), false).unwrap();
    assert_eq!(t.first_error, "did not finish within 600 s");
    assert!(!t.could_not_start);
}

#[test]
fn first_error_line_prefers_the_launchers_own_then_errors() {
    assert_eq!(first_error_line("sccache", "a\nb error: x\nsccache: boom\n", "").as_deref(), Some("sccache: boom"));
    assert_eq!(first_error_line("ccache", "note\n", "k.cu(3): error: bad\n").as_deref(), Some("k.cu(3): error: bad"));
    assert_eq!(first_error_line("ccache", "\n  \nfirst\nsecond", "").as_deref(), Some("first"));
    assert_eq!(first_error_line("ccache", "", ""), None);
    // Control characters never reach a cargo directive; long lines are capped.
    assert_eq!(first_error_line("x", "a\rcargo::rustc-cfg=evil\n", "").as_deref(), Some("a"));
    assert_eq!(first_error_line("x", "tab\there\u{1b}[0m", "").as_deref(), Some("tab here [0m"));
    let long = "e".repeat(1000);
    assert_eq!(first_error_line("x", &long, "").unwrap().chars().count(), MAX_LINE + 1);
}

fn failure(kernel: &str, could_not_start: bool) -> Failure {
    Failure { kernel: kernel.into(), first_error: format!("error in {kernel}"), could_not_start }
}

#[test]
fn tally_gives_up_after_repeated_failures_without_success() {
    let t = Tally::default();
    assert!(t.should_launch());
    t.launch_failed(failure("a.cu", false));
    assert!(t.should_launch(), "one failure may be a flake");
    t.launch_failed(failure("b.cu", false));
    assert!(!t.should_launch(), "two failures and no success: give up");
    t.bypassed();
    t.bypassed();
    let c = t.counts();
    assert_eq!((c.ok, c.failed.len(), c.bypassed, c.given_up), (0, 2, 2, true));

    // A launcher that works sometimes (sccache's flakiness) is kept.
    let flaky = Tally::default();
    flaky.launched_ok();
    for k in ["a.cu", "b.cu", "c.cu"] {
        flaky.launch_failed(failure(k, false));
    }
    assert!(flaky.should_launch());

    // One that cannot start is given up at once.
    let missing = Tally::default();
    missing.launch_failed(failure("a.cu", true));
    assert!(!missing.should_launch());
}

#[test]
fn tally_is_shared_by_threads() {
    let t = Tally::default();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| t.launched_ok());
        }
    });
    assert_eq!(t.counts().ok, 8);
}

#[test]
fn one_summary_for_the_build_counts_the_kernels() {
    let l = sccache();
    let env = Env::from_vars([("PATH", "/nonexistent")]);
    let t = Tally::default();
    t.launched_ok();
    assert_eq!(t.summary(&l, &env), None, "no failure, no warning (and no version asked)");
    t.launch_failed(failure("kernels/b.cu", false));
    t.launch_failed(failure("kernels/c.cu", false));
    let s = t.summary(&l, &env).unwrap();
    assert_eq!(
        s,
        "nvcc's launcher sccache (version unknown) (/opt/sccache, from RUSTC_WRAPPER) failed on 2 of 3 kernels; \
         nvcc compiled them directly. First error (kernels/b.cu): error in kernels/b.cu. The outputs are nvcc's \
         own; set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher"
    );
    assert!(!s.contains('\n'));
}

#[test]
fn summary_after_giving_up_says_how_many_ran_without_it() {
    let counts =
        Counts { ok: 0, failed: vec![failure("a.cu", false), failure("b.cu", false)], bypassed: 14, given_up: true };
    let s = summary("sccache 0.16.0 (/x/sccache, from RUSTC_WRAPPER)", &counts);
    assert!(
        s.starts_with(
            "nvcc's launcher sccache 0.16.0 (/x/sccache, from RUSTC_WRAPPER) failed on 2 of 16 kernels; nvcc \
             compiled them directly and the other 14 without it (given up for this build). First error (a.cu): \
             error in a.cu."
        ),
        "{s}"
    );
    let one = Counts { ok: 0, failed: vec![failure("k\n.cu", false)], bypassed: 0, given_up: false };
    let s = summary("ccache 4.7.5 (/usr/bin/ccache, from CUDA_BUILD_LAUNCHER)", &one);
    assert!(s.contains("failed on 1 of 1 kernel; nvcc compiled it directly. First error (k .cu)"), "{s}");
    assert!(s.ends_with("set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher"));
}
