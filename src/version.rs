//! CUDA toolkit versions: parsing every source a toolkit carries, and version ranges.

use std::fmt;

/// A text (tool output, version file, variable) that could not be parsed.
///
/// ```
/// let e = cuda_build::VersionReq::parse(">=twelve").unwrap_err();
/// assert!(e.to_string().starts_with("cannot parse"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What was being parsed (`"cuda.h CUDA_VERSION"`).
    pub what: String,
    /// The offending input (shortened).
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &str, input: &str, reason: &str) -> Self {
        ParseError { what: what.to_owned(), input: crate::text::cut(input, 120), reason: reason.to_owned() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse {} {:?}: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// A CUDA toolkit version: `12.4.131` from nvcc, or `12.4` from `cuda.h` (no patch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CudaVersion {
    /// Major release (`12` in 12.4.131).
    pub major: u32,
    /// Minor release (`4` in 12.4.131).
    pub minor: u32,
    /// Patch (nvcc's build number, `131` in 12.4.131), when the source gives it.
    pub patch: Option<u32>,
}

impl CudaVersion {
    /// A version without a patch number.
    #[must_use]
    pub const fn new(major: u32, minor: u32) -> Self {
        CudaVersion { major, minor, patch: None }
    }

    /// Whether both name the same `major.minor` release (patches differ between
    /// components of one toolkit: nvcc 13.0.88 ships with cudart 13.0.96).
    #[must_use]
    pub fn same_release(&self, other: &CudaVersion) -> bool {
        self.major == other.major && self.minor == other.minor
    }

    /// The semver form used to match ranges; an unknown patch counts as 0.
    #[must_use]
    pub fn to_semver(&self) -> semver::Version {
        semver::Version::new(u64::from(self.major), u64::from(self.minor), u64::from(self.patch.unwrap_or(0)))
    }

    /// Parses `12`, `12.4`, `12.4.131` (and a leading `v`/`V`).
    ///
    /// # Errors
    /// Anything but one to three dot-separated numbers.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let mut parts = t.split('.');
        let major = parse_num(parts.next(), text)?;
        let minor = match parts.next() {
            Some(p) => parse_num(Some(p), text)?,
            None => 0,
        };
        let patch = parts.next().map(|p| parse_num(Some(p), text)).transpose()?;
        if parts.next().is_some() {
            return Err(ParseError::new("CUDA version", text, "more than three numbers"));
        }
        Ok(CudaVersion { major, minor, patch })
    }

    /// `nvcc --version` output: the ` V12.4.131` on the `release` line.
    ///
    /// ```
    /// let out = "Cuda compilation tools, release 12.4, V12.4.131\nBuild cuda_12.4.r12.4/compiler.34097967_0";
    /// assert_eq!(cuda_build::CudaVersion::from_nvcc_output(out).unwrap().to_string(), "12.4.131");
    /// ```
    ///
    /// # Errors
    /// No `release` line with a version.
    pub fn from_nvcc_output(out: &str) -> Result<Self, ParseError> {
        for line in out.lines().filter(|l| l.contains("release")) {
            // `Cuda compilation tools, release 12.4, V12.4.131`
            if let Some(v) = line.split_whitespace().find_map(|w| w.strip_prefix('V')) {
                if let Ok(v) = CudaVersion::parse(v.trim_end_matches(',')) {
                    if v.patch.is_some() {
                        return Ok(v);
                    }
                }
            }
            if let Some(rest) = line.split("release").nth(1) {
                if let Some(num) = rest.split([',', ' ']).find(|w| !w.is_empty()) {
                    if let Ok(v) = CudaVersion::parse(num) {
                        return Ok(v);
                    }
                }
            }
        }
        Err(ParseError::new("nvcc --version output", first_line(out), "no `release X.Y, VX.Y.Z` line"))
    }

    /// `cuda.h`: `#define CUDA_VERSION 12040` (1000 * major + 10 * minor).
    ///
    /// # Errors
    /// No `#define CUDA_VERSION`, or not a number of the 1000 * major + 10 * minor form.
    pub fn from_cuda_h(text: &str) -> Result<Self, ParseError> {
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some("#define") && words.next() == Some("CUDA_VERSION") {
                let value = words.next().unwrap_or("");
                let n: u32 =
                    value.parse().map_err(|_| ParseError::new("cuda.h CUDA_VERSION", value, "not a number"))?;
                if n < 1000 {
                    return Err(ParseError::new("cuda.h CUDA_VERSION", value, "expected 1000 * major + 10 * minor"));
                }
                return Ok(CudaVersion::new(n / 1000, (n % 1000) / 10));
            }
        }
        Err(ParseError::new("cuda.h", "", "no `#define CUDA_VERSION` line"))
    }

    /// `version.txt` of old toolkits: `CUDA Version 11.2.152`.
    ///
    /// # Errors
    /// A first line other than `CUDA Version X.Y.Z`.
    pub fn from_version_txt(text: &str) -> Result<Self, ParseError> {
        let line = text.lines().next().unwrap_or("");
        match line.trim().strip_prefix("CUDA Version") {
            Some(v) => CudaVersion::parse(v),
            None => Err(ParseError::new("version.txt", line, "expected `CUDA Version X.Y.Z`")),
        }
    }

    /// `version.json`: `cuda_nvcc.version` (`12.6.85`) when present, else `cuda.version`
    /// whose third field may be a build date (`12.6.20241114`): then only major.minor count.
    ///
    /// # Errors
    /// Invalid JSON, or neither key holds a version.
    pub fn from_version_json(text: &str) -> Result<Self, ParseError> {
        let json = crate::json::parse(text).map_err(|e| ParseError::new("version.json", first_line(text), &e))?;
        let field = |component: &str| json.get(component).and_then(|c| c.get("version")).and_then(|v| v.as_str());
        if let Some(v) = field("cuda_nvcc") {
            return CudaVersion::parse(v);
        }
        match field("cuda") {
            Some(v) => {
                let mut version = CudaVersion::parse(v)?;
                if version.patch.is_some_and(|p| p > 10_000_000) {
                    version.patch = None;
                }
                Ok(version)
            }
            None => Err(ParseError::new("version.json", first_line(text), "no `cuda_nvcc.version` or `cuda.version`")),
        }
    }
}

fn parse_num(part: Option<&str>, whole: &str) -> Result<u32, ParseError> {
    match part {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().map_err(|_| ParseError::new("CUDA version", whole, "number too large"))
        }
        _ => Err(ParseError::new("CUDA version", whole, "expected numbers like 12.4 or 12.4.131")),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
}

impl fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// A toolkit version range, in cargo's syntax with one CUDA twist: a bare version
/// means that release, so `"12.4"` is any 12.4.x and `"12"` any 12.x
/// (cargo would read `"12.4"` as `^12.4`).
///
/// ```
/// use cuda_build::{CudaVersion, VersionReq};
/// let r = VersionReq::parse("12.4").unwrap();
/// assert!(r.matches(&CudaVersion::parse("12.4.131").unwrap()));
/// assert!(!r.matches(&CudaVersion::parse("12.5.40").unwrap()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionReq {
    text: String,
    req: semver::VersionReq,
}

impl VersionReq {
    /// Parses `">=11.8, <14"`, `"12.4"`, `"~13.0"`, `"*"`.
    ///
    /// # Errors
    /// Not a cargo-style range.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let rewritten: Vec<String> = text
            .split(',')
            .map(|c| {
                let c = c.trim();
                if c.starts_with(|ch: char| ch.is_ascii_digit()) {
                    format!("={c}")
                } else {
                    c.to_owned()
                }
            })
            .collect();
        let req = semver::VersionReq::parse(&rewritten.join(", "))
            .map_err(|e| ParseError::new("version range", text, &e.to_string()))?;
        Ok(VersionReq { text: text.trim().to_owned(), req })
    }

    /// Whether `version` is in the range (an unknown patch counts as 0).
    #[must_use]
    pub fn matches(&self, version: &CudaVersion) -> bool {
        self.req.matches(&version.to_semver())
    }

    /// Whether the range compares patch numbers, so that a version without one
    /// (from `cuda.h`) cannot decide it.
    #[must_use]
    pub fn needs_patch(&self) -> bool {
        self.req.comparators.iter().any(|c| c.patch.is_some_and(|p| p != 0))
    }
}

impl fmt::Display for VersionReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_versions_and_rejects_garbage() {
        assert_eq!(CudaVersion::parse("12.4.131").unwrap().to_string(), "12.4.131");
        assert_eq!(CudaVersion::parse("V13.0").unwrap(), CudaVersion::new(13, 0));
        for bad in ["", "12.", "x.y", "12.4.1.1", "-1", "99999999999", "12..4"] {
            assert!(CudaVersion::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn cuda_h_define() {
        let v = CudaVersion::from_cuda_h("/* x */\n#define CUDA_VERSION 12040\n").unwrap();
        assert_eq!(v, CudaVersion::new(12, 4));
        assert_eq!(CudaVersion::from_cuda_h("#define  CUDA_VERSION   11080").unwrap(), CudaVersion::new(11, 8));
        assert!(CudaVersion::from_cuda_h("#define CUDA_VERSION abc").is_err());
        assert!(CudaVersion::from_cuda_h("#define CUDA_VERSION 12").is_err());
        assert!(CudaVersion::from_cuda_h("int main;").is_err());
        // CUDA_VERSION_MAJOR-like names must not match.
        assert!(CudaVersion::from_cuda_h("#define CUDA_VERSION_X 12040").is_err());
    }

    #[test]
    fn version_txt_and_json() {
        assert_eq!(CudaVersion::from_version_txt("CUDA Version 11.2.152\n").unwrap().to_string(), "11.2.152");
        assert!(CudaVersion::from_version_txt("hello").is_err());
        let json = r#"{ "cuda" : { "name" : "CUDA SDK", "version" : "12.6.20241114" },
                       "cuda_nvcc" : { "name" : "CUDA NVCC", "version" : "12.6.85" } }"#;
        assert_eq!(CudaVersion::from_version_json(json).unwrap().to_string(), "12.6.85");
        let only_sdk = r#"{"cuda": {"version": "12.6.20241114"}}"#;
        assert_eq!(CudaVersion::from_version_json(only_sdk).unwrap().to_string(), "12.6");
        assert!(CudaVersion::from_version_json("{").is_err());
        assert!(CudaVersion::from_version_json(r#"{"cuda": 3}"#).is_err());
    }

    #[test]
    fn ranges_treat_bare_versions_as_a_release() {
        let r = VersionReq::parse("12.4").unwrap();
        assert!(r.matches(&CudaVersion::parse("12.4.131").unwrap()));
        assert!(!r.matches(&CudaVersion::parse("12.5.40").unwrap()));
        let r = VersionReq::parse(">=11.8, <14").unwrap();
        assert!(r.matches(&CudaVersion::new(11, 8)));
        assert!(r.matches(&CudaVersion::parse("13.5.37").unwrap()));
        assert!(!r.matches(&CudaVersion::new(14, 0)));
        assert!(!r.needs_patch());
        assert!(VersionReq::parse(">=12.4.100").unwrap().needs_patch());
        assert!(VersionReq::parse(">=banana").is_err());
        assert!(VersionReq::parse("").is_err());
    }
}
