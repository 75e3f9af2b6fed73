//! nvcc's Make-style depfile (`-MD -MF k.d`): `out : k.cu \` then one prerequisite a line.

use std::path::PathBuf;

/// The prerequisites of the first rule, in order, without duplicates.
/// Handles `\`-newline continuations, `\ ` escaped spaces, `$$`, and `-MP` phony rules.
pub(crate) fn parse(text: &str) -> Vec<PathBuf> {
    // Join continuation lines; the first rule ends at the first unescaped newline.
    let mut joined = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                joined.push(' ');
            }
            '\\' if chars.peek() == Some(&'\r') => {
                chars.next();
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                joined.push(' ');
            }
            '\n' => break,
            c => joined.push(c),
        }
    }
    // The target ends at the first `: ` (a Windows drive's `C:` has no space after it).
    let Some(idx) = joined.find(": ").or_else(|| joined.strip_suffix(':').map(|s| s.len())) else {
        return Vec::new();
    };
    let rest = &joined[(idx + 1).min(joined.len())..];
    let mut out: Vec<PathBuf> = Vec::new();
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
            c if c.is_whitespace() => push(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    push(&mut cur, &mut out);
    out
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
    fn garbage_gives_nothing_not_a_panic() {
        for g in ["", ":", "no colon here", "\\", "a: \\", "a:\\\n"] {
            let _ = parse(g);
        }
        assert!(parse("no colon here").is_empty());
    }
}
