//! nvcc's Make-style depfile (`-MD -MF k.d`): `out : k.cu \` then one prerequisite a line.

use std::path::PathBuf;

/// The prerequisites of every rule, in order, without duplicates: nvcc's own depfile has
/// one rule (plus `-MP` phony ones, which add nothing); one written by the host compiler
/// through `SUNPRO_DEPENDENCIES` has a rule per preprocessing pass (host, then each arch).
/// Handles `\`-newline continuations, `\ ` escaped spaces and `$$`.
pub(crate) fn parse(text: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for rule in logical_lines(text) {
        // The target ends at the first `: ` (a Windows drive's `C:` has no space after it).
        let Some(idx) = rule.find(": ").or_else(|| rule.strip_suffix(':').map(str::len)) else { continue };
        prerequisites(&rule[(idx + 1).min(rule.len())..], &mut out);
    }
    out
}

/// The text split into rules: continuation lines joined, line ends (LF or CRLF) removed.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                cur.push(' ');
            }
            '\\' if chars.peek() == Some(&'\r') => {
                chars.next();
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                cur.push(' ');
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => lines.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    lines.push(cur);
    lines
}

fn prerequisites(rest: &str, out: &mut Vec<PathBuf>) {
    let mut cur = String::new();
    let mut it = rest.chars().peekable();
    let push = |cur: &mut String, out: &mut Vec<PathBuf>| {
        if !cur.is_empty() {
            let p = PathBuf::from(std::mem::take(cur));
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    while let Some(c) = it.next() {
        match c {
            '\\' if matches!(it.peek(), Some(' ') | Some('#')) => cur.push(it.next().unwrap_or(' ')),
            '$' if it.peek() == Some(&'$') => {
                it.next();
                cur.push('$');
            }
            c if c.is_whitespace() => push(&mut cur, out),
            c => cur.push(c),
        }
    }
    push(&mut cur, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvcc_depfile_with_phony_rules() {
        let d = "/out/k.fatbin : kernels/k.cu \\\n    /usr/include/stdc-predef.h \\\n    /cuda/bin/../include/cuda_runtime.h \\\n    kernels/common.cuh\n\nkernels/common.cuh:\n";
        let deps = parse(d);
        assert_eq!(
            deps,
            ["kernels/k.cu", "/usr/include/stdc-predef.h", "/cuda/bin/../include/cuda_runtime.h", "kernels/common.cuh"]
                .map(PathBuf::from)
        );
    }

    #[test]
    fn escaped_spaces_dollars_and_crlf() {
        let d = "C:/out/k.o: C:/my\\ dir/k.cu \\\r\n  C:/my\\ dir/a$$b.h\r\n";
        assert_eq!(parse(d), [PathBuf::from("C:/my dir/k.cu"), PathBuf::from("C:/my dir/a$b.h")]);
    }

    #[test]
    fn one_rule_per_pass_from_the_host_compiler_are_joined() {
        // SUNPRO_DEPENDENCIES appends a rule per preprocessing pass (here sm_86, then sm_75).
        let d = "k.o: common.cuh /cuda/include/cuda_runtime.h \\\n only_sm80.cuh\nk.o: common.cuh \\\n /cuda/include/cuda_runtime.h\n";
        assert_eq!(parse(d), ["common.cuh", "/cuda/include/cuda_runtime.h", "only_sm80.cuh"].map(PathBuf::from));
    }

    #[test]
    fn garbage_gives_nothing_not_a_panic() {
        for g in ["", ":", "no colon here", "\\", "a: \\", "a:\\\n"] {
            let _ = parse(g);
        }
        assert!(parse("no colon here").is_empty());
    }
}
