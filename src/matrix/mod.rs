//! The matrix: which bases, which dependencies, which policy.
//!
//! Loading is two-phase, like cargo-deny's configuration: [`raw`] deserialises the TOML keeping
//! the span of every value (unknown keys and wrong types fail here, with their position), then
//! [`validate`] checks meaning and collects *every* problem as a [`Diagnostic`] pointing at the
//! file, line and column, before anything is built.

pub mod discover;
pub mod embedded;
mod raw;
pub mod reqfile;
pub mod requirement;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::kinds::FindingKind;
pub use discover::Source;
pub use requirement::Requirement;

/// A problem in an input file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

/// How a base installs system packages before pip runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Apk,
    Apt,
    None,
}

/// What installs the requirements in a build: pip, or uv (`uv pip install`), installed into
/// the base's prep image from the builds' own index with a pinned hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Installer {
    #[default]
    Pip,
    Uv,
}

impl Installer {
    /// Pip is the default: left out of the matrix digest, so matrices from before the installer
    /// existed keep their digest.
    pub fn is_pip(&self) -> bool {
        *self == Installer::Pip
    }

    pub fn name(&self) -> &'static str {
        match self {
            Installer::Pip => "pip",
            Installer::Uv => "uv",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Base {
    pub name: String,
    /// The image reference as written (a tag or a digest).
    pub image: String,
    pub family: Family,
    pub python: String,
    pub packages: Vec<String>,
    pub required: bool,
    /// The base's own `installer`, else the policy's.
    #[serde(default, skip_serializing_if = "Installer::is_pip")]
    pub installer: Installer,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KnownDifference {
    pub kinds: Vec<FindingKind>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dependency {
    pub name: String,
    pub requirement: Requirement,
    /// More requirements installed with it, in the same pip run (the rest of a requirements
    /// file gated as one set).
    pub also: Vec<Requirement>,
    /// Constraints of the install (`-c` files): versions to respect, not things to install.
    pub constraints: Vec<Requirement>,
    /// The smoke script's path and source.
    pub smoke: Option<(PathBuf, String)>,
    pub known_difference: Option<KnownDifference>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Policy {
    /// A source build on a base counts as a failure there.
    pub source_builds_fail: bool,
    pub build_timeout: Duration,
    pub probe_timeout: Duration,
    pub blocking: Vec<FindingKind>,
    /// Extra CA certificates for pip in builds and probes.
    pub ca_bundle: Option<PathBuf>,
    /// The package index pip uses in builds (PEP 503 simple API), instead of pip's default.
    pub index_url: Option<String>,
    /// `name:address` entries for the /etc/hosts of build containers, for an index on a name
    /// that only this network knows.
    pub extra_hosts: Vec<String>,
    /// Timed repetitions of the main-thread smoke run on each base (0: not timed).
    pub runtime_runs: u32,
    /// How many times slower one base's median smoke run time must be than another's, beyond the
    /// ratio of their controls' medians and with the spreads apart, to be a `runtime-differs`
    /// finding.
    pub runtime_ratio: f64,
    /// The installer of the bases that do not name their own.
    #[serde(default, skip_serializing_if = "Installer::is_pip")]
    pub installer: Installer,
}

/// The share of the probe timeout that the timed smoke repetitions may take together: the rest
/// is for the imports and the two other smoke runs, so timing never makes a probe time out.
pub const RUNTIME_BUDGET_SHARE: f64 = 0.25;

/// Bounds of the runtime settings: fewer than [`MIN_RUNTIME_RUNS`] runs are never compared (so
/// asking for fewer is a mistake, not a choice), more than this many only make probes slower.
pub const MIN_RUNTIME_RUNS: u32 = 3;
pub const MAX_RUNTIME_RUNS: u32 = 50;
pub const MAX_RUNTIME_RATIO: f64 = 100.0;

impl Policy {
    /// Whether a finding of this kind blocks: missing evidence always does, the rest when
    /// `blocking` lists it.
    pub fn blocks(&self, kind: FindingKind) -> bool {
        kind.is_missing_evidence() || self.blocking.contains(&kind)
    }

    /// What all timed smoke repetitions of one probe may take together.
    pub fn runtime_budget(&self) -> Duration {
        self.probe_timeout.mul_f64(RUNTIME_BUDGET_SHARE)
    }
}

/// Checks a package index URL: http(s), no whitespace or control characters, no credentials
/// shown back in errors. It reaches pip as an environment variable, never a shell.
pub fn check_index_url(url: &str) -> Result<(), String> {
    let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
    if !ok_scheme {
        return Err("must start with https:// or http://".into());
    }
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be one line without spaces, at most 2048 characters".into());
    }
    Ok(())
}

/// Checks a `name:address` host entry: a DNS name and an IPv4 or IPv6 address.
pub fn check_extra_host(entry: &str) -> Result<(), String> {
    let (name, addr) =
        entry.split_once(':').ok_or_else(|| format!("`{}` is not NAME:ADDRESS", entry.escape_debug()))?;
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !name_ok {
        return Err(format!("`{}` is not a host name", name.escape_debug()));
    }
    addr.parse::<std::net::IpAddr>().map_err(|_| format!("`{}` is not an IP address", addr.escape_debug()))?;
    Ok(())
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            source_builds_fail: false,
            build_timeout: Duration::from_secs(30 * 60),
            probe_timeout: Duration::from_secs(300),
            blocking: FindingKind::default_blocking(),
            ca_bundle: None,
            index_url: None,
            extra_hosts: vec![],
            runtime_runs: 5,
            runtime_ratio: 1.5,
            installer: Installer::Pip,
        }
    }
}

/// A validated matrix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Matrix {
    pub path: PathBuf,
    pub bases: Vec<Base>,
    pub dependencies: Vec<Dependency>,
    pub policy: Policy,
    /// How the matrix was chosen (not part of what is run, so not of the digest).
    #[serde(skip)]
    pub source: Source,
}

impl Dependency {
    /// Everything this dependency installs, in one pip run.
    pub fn install_set(&self) -> Vec<Requirement> {
        std::iter::once(self.requirement.clone()).chain(self.also.iter().cloned()).collect()
    }
}

impl Matrix {
    /// A digest of what is run: bases, dependencies (with their smoke scripts) and policy, but
    /// not where the file or the CA bundle lie, which differ from one runner to the next.
    pub fn digest(&self) -> String {
        let mut v = serde_json::to_value(self).expect("a matrix serialises");
        if let Some(o) = v.as_object_mut() {
            o.remove("path");
            if let Some(p) = o.get_mut("policy").and_then(|p| p.as_object_mut()) {
                p.remove("ca_bundle");
            }
        }
        crate::key::key(&[&v.to_string()])
    }

    /// Reads, parses and validates a matrix file. Every problem is returned, each located.
    pub fn load(path: &Path) -> Result<Matrix, Vec<Diagnostic>> {
        let text = read_located(path, "the matrix")?;
        Matrix::parse(path, &text)
    }

    /// Parses and validates matrix text; `path` locates diagnostics and relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Matrix, Vec<Diagnostic>> {
        let raw = raw::parse(path, text)?;
        validate::validate(path, text, raw, validate::Files::Disk, 0)
    }

    /// The line the report's `matrix_source` and `doctor` show.
    pub fn source_line(&self) -> String {
        self.source.describe(&self.path)
    }

    /// Base name -> whether it is required: what decides a finding's severity.
    pub fn required(&self) -> std::collections::BTreeMap<String, bool> {
        self.bases.iter().map(|b| (b.name.clone(), b.required)).collect()
    }

    pub fn base(&self, name: &str) -> Option<&Base> {
        self.bases.iter().find(|b| b.name == name)
    }

    pub fn dependency(&self, name: &str) -> Option<&Dependency> {
        self.dependencies.iter().find(|d| d.name == name)
    }
}

/// Parses "90s", "20m", "1h", "1h30m" or a plain number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let invalid = || format!("invalid duration `{}` (examples: 90s, 20m, 1h30m)", s.escape_debug());
    let mut total = 0u64;
    let mut num = String::new();
    // Each unit at most once and largest first: `1m1m` or `30s1h` is a typo, not a sum.
    let mut last_unit = u64::MAX;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| invalid())?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(invalid()),
        };
        if unit >= last_unit {
            return Err(format!(
                "invalid duration `{s}`: each unit once, hours before minutes before seconds (e.g. 1h30m)"
            ));
        }
        last_unit = unit;
        total = n.checked_mul(unit).and_then(|x| x.checked_add(total)).ok_or_else(invalid)?;
    }
    if !num.is_empty() || total == 0 {
        return Err(format!("invalid duration `{s}` (examples: 90s, 20m, 1h30m; must be more than 0)"));
    }
    Ok(Duration::from_secs(total))
}

/// A configuration file's text, or one diagnostic at the position reading stopped (the first
/// bad byte of a file that is not UTF-8).
pub(crate) fn read_located(path: &Path, what: &str) -> Result<String, Vec<Diagnostic>> {
    crate::input::read_text(path, crate::input::MAX_TEXT).map_err(|e| {
        let (line, column) = e.position();
        vec![Diagnostic { file: path.to_path_buf(), line, column, message: format!("failed to read {what}: {e}") }]
    })
}

#[cfg(test)]
mod tests;
