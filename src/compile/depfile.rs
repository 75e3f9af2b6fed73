//! nvcc's Make-style depfile (`-MD -MF k.d`): `out : k.cu \` then one prerequisite a line.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::fsx::PathSet;

/// The prerequisites of every rule, in order, without duplicates: nvcc's own depfile has
/// one rule (plus `-MP` phony ones, which add nothing); one written by the host compiler
/// through `SUNPRO_DEPENDENCIES` has a rule per preprocessing pass (host, then each arch).
/// Handles `\`-newline continuations, `\ ` escaped spaces and `$$`.
///
/// Linear in the text: a build script runs unoptimized, and an object's depfile lists ~1,000
/// headers once per pass (280 kB); a pairwise duplicate check took 0.18 s of the job's token.
pub(crate) fn parse(text: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen: PathSet<OsString> = PathSet::default();
    for rule in logical_lines(text) {
        // The target ends at the first `: ` (a Windows drive's `C:` has no space after it).
        let Some(idx) = rule.find(": ").or_else(|| rule.strip_suffix(':').map(str::len)) else { continue };
        prerequisites(&rule[(idx + 1).min(rule.len())..], &mut |p| {
            if seen.insert(OsString::from(&p)) {
                out.push(PathBuf::from(p));
            }
        });
    }
    out
}

/// The text split into rules: continuation lines joined, line ends (LF or CRLF) removed.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    // `split` on a char runs std's (optimized) memchr; the lines are copied, not each char.
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match line.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                lines.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Make splits words at ASCII blanks only: a name with a no-break or ideographic space
/// (U+00A0, U+3000) is one path, as gcc wrote it.
fn prerequisites(rest: &str, found: &mut dyn FnMut(String)) {
    // Most depfiles hold only spaces and plain names: split there (`split` and `contains` on
    // one char run std's optimized memchr; a char-by-char loop costs ~50 ns a byte unoptimized).
    if !['\\', '$', '\t', '\r', '\x0c'].iter().any(|&c| rest.contains(c)) {
        rest.split(' ').filter(|w| !w.is_empty()).for_each(|w| found(w.to_owned()));
        return;
    }
    let mut cur = String::new();
    let mut it = rest.chars().peekable();
    let mut push = |cur: &mut String| {
        if !cur.is_empty() {
            found(std::mem::take(cur));
        }
    };
    while let Some(c) = it.next() {
        match c {
            '\\' if matches!(it.peek(), Some(' ') | Some('#')) => cur.push(it.next().unwrap_or(' ')),
            '$' if it.peek() == Some(&'$') => {
                it.next();
                cur.push('$');
            }
            c if c.is_ascii_whitespace() => push(&mut cur),
            c => cur.push(c),
        }
    }
    push(&mut cur);
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
    fn only_ascii_blanks_separate_names() {
        let d = "k.o: dir/a\u{a0}b.cuh\tdir/c\u{3000}d.cuh  e.cuh\n";
        assert_eq!(parse(d), ["dir/a\u{a0}b.cuh", "dir/c\u{3000}d.cuh", "e.cuh"].map(PathBuf::from));
        let d = "k.o: dir/a\u{a0}b.cuh dir/c\u{2003}d.cuh\n";
        assert_eq!(parse(d), ["dir/a\u{a0}b.cuh", "dir/c\u{2003}d.cuh"].map(PathBuf::from));
    }

    #[test]
    fn garbage_gives_nothing_not_a_panic() {
        for g in ["", ":", "no colon here", "\\", "a: \\", "a:\\\n"] {
            let _ = parse(g);
        }
        assert!(parse("no colon here").is_empty());
    }
}
