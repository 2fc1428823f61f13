//! The versioned result model. Every renderer is a pure function of a [`RunReport`]; runs write
//! it as jobs complete; a partial run says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kinds::FindingKind;

/// Bumped on any incompatible change to the JSON shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub run_id: String,
    /// `run`, `gate`, `repro` or `dns`.
    pub command: String,
    pub matrix: String,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    pub finished_at: Option<u64>,
    /// True until the run finished; an interrupted run leaves a partial report.
    pub partial: bool,
    /// Jobs planned but not (yet) run.
    pub not_run: Vec<String>,
    pub bases: Vec<BaseRecord>,
    pub jobs: Vec<JobRecord>,
    pub findings: Vec<Finding>,
    pub verdicts: Vec<Verdict>,
    /// Per base, the libc behaviour profile (check id -> observation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<ProbeSection>,
    /// Per base, the resolver profile (scenario id -> observation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolver: Vec<ProbeSection>,
    /// `repro` results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repro: Vec<ReproRecord>,
    /// The harness's own failures during the run (engine lost, ...).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaseRecord {
    pub name: String,
    pub image: String,
    /// The registry digest (`sha256:…`), when the image came from a registry.
    pub digest: Option<String>,
    pub image_id: String,
    pub size: i64,
    pub required: bool,
    pub libc: Option<Libc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Libc {
    pub family: String,
    pub version: Option<String>,
}

impl std::fmt::Display for Libc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.family, self.version.as_deref().unwrap_or("?"))
    }
}

/// What happened to one (dependency, base) build.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum BuildOutcome {
    Installed,
    InstallFailed,
    Timeout,
    /// The harness could not do the job (engine lost, disk full): not a finding.
    InfraError,
    /// The requirement's environment marker excludes this base: pip installed nothing, as asked.
    NotApplicable,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Musllinux,
    Manylinux,
    /// A platform wheel that is neither (e.g. `linux_x86_64` from a local build).
    OtherWheel,
    Pure,
    Sdist,
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Distribution {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// The file pip chose (wheel or sdist name).
    pub file: String,
    pub requested: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub dependency: String,
    pub base: String,
    pub requirement: String,
    pub outcome: BuildOutcome,
    /// The image was reused from an earlier run.
    pub cached: bool,
    pub build_secs: f64,
    pub image: Option<String>,
    pub image_size: Option<i64>,
    pub size_over_base: Option<i64>,
    pub distributions: Vec<Distribution>,
    /// The end of pip's output (the full log is in the results directory).
    pub log_tail: String,
    pub error: Option<String>,
    pub probe: Option<WheelProbe>,
    /// The thread crash depth (nested json.dumps in a threading.Thread) with this dependency
    /// imported first, observed in the job's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_depth: Option<Observation>,
}

/// The outcome of one check run in a subprocess.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum CheckOutcome {
    Ok,
    Error { message: String },
    Crash { signal: i64, name: String },
    Timeout,
    Skipped { message: String },
}

impl CheckOutcome {
    pub fn label(&self) -> String {
        match self {
            CheckOutcome::Ok => "ok".into(),
            CheckOutcome::Error { .. } => "error".into(),
            CheckOutcome::Crash { name, .. } => format!("crash ({name})"),
            CheckOutcome::Timeout => "timeout".into(),
            CheckOutcome::Skipped { .. } => "skipped".into(),
        }
    }
    pub fn is_ok(&self) -> bool {
        matches!(self, CheckOutcome::Ok | CheckOutcome::Skipped { .. })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Extension {
    pub distribution: String,
    pub path: String,
    pub needed: Vec<String>,
    pub glibc_linked: bool,
    pub foreign_libc: bool,
}

/// What the wheel-loading probe saw in a built image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WheelProbe {
    pub libc: Option<Libc>,
    /// module -> outcome of importing it in a subprocess.
    pub imports: BTreeMap<String, CheckOutcome>,
    /// The modules of `imports` that are top-level modules of a distribution (the rest are
    /// extension submodules, imported directly).
    #[serde(default)]
    pub top_level: std::collections::BTreeSet<String>,
    pub smoke: Option<CheckOutcome>,
    pub smoke_output: Option<String>,
    pub extensions: Vec<Extension>,
    /// Lines the probe printed that are not protocol, or a probe that died.
    pub protocol_errors: Vec<String>,
    /// The probe container itself: exit code, OOM, time-out.
    pub container: ContainerOutcome,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ContainerOutcome {
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub timed_out: bool,
    pub output_truncated: bool,
    pub secs: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocking,
    Info,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// The dependency, or `<profile>`/`<resolver>` for base-level sections.
    pub subject: String,
    pub kind: FindingKind,
    pub severity: Severity,
    /// One line: what differs.
    pub summary: String,
    /// Per base, what was observed (a short excerpt).
    pub evidence: BTreeMap<String, String>,
    /// Set when the matrix accepts this difference (then it does not block).
    pub known: Option<String>,
}

/// Pass or fail of one dependency on one base, with reasons.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub dependency: String,
    pub base: String,
    pub pass: bool,
    pub required: bool,
    pub reasons: Vec<String>,
}

/// A probe's observations on one base: check id -> (status, value, message).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProbeSection {
    pub base: String,
    pub libc: Option<Libc>,
    pub checks: BTreeMap<String, Observation>,
    pub protocol_errors: Vec<String>,
    pub container: ContainerOutcome,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Observation {
    pub status: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

/// `repro`: one base's runs of a reproducer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReproRecord {
    pub base: String,
    pub runs: Vec<ReproRun>,
    /// Runs that ended by a signal, over all runs.
    pub crash_rate: f64,
    /// Distinct outcomes, e.g. {"exit 0": 3, "SIGSEGV": 2}.
    pub outcomes: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReproRun {
    pub outcome: String,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub secs: f64,
    pub stdout_sha256: String,
    pub stderr_sha256: String,
    pub excerpt: String,
}

impl RunReport {
    pub fn new(command: &str, run_id: &str, matrix: &str) -> RunReport {
        RunReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            run_id: run_id.to_string(),
            command: command.to_string(),
            matrix: matrix.to_string(),
            started_at: now(),
            finished_at: None,
            partial: true,
            not_run: vec![],
            bases: vec![],
            jobs: vec![],
            findings: vec![],
            verdicts: vec![],
            profile: vec![],
            resolver: vec![],
            repro: vec![],
            errors: vec![],
        }
    }

    /// Whether any finding blocks.
    pub fn has_blocking(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Blocking)
    }

    /// Sorts everything that has an order, so two runs on the same inputs print the same.
    pub fn normalise(&mut self) {
        self.jobs.sort_by(|a, b| a.id.cmp(&b.id));
        self.not_run.sort();
        self.findings.sort_by(|a, b| (&a.subject, a.kind, &a.summary).cmp(&(&b.subject, b.kind, &b.summary)));
        self.verdicts.sort_by(|a, b| (&a.dependency, &a.base).cmp(&(&b.dependency, &b.base)));
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
