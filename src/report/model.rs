//! The versioned result model. Every renderer is a pure function of a [`RunReport`]; runs write
//! it as jobs complete; a partial run says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kinds::FindingKind;

/// Bumped on any incompatible change to the JSON shape.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// The decision, computed once when the run finished: renderers show it, derive nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    #[serde(default)]
    pub timings: Timings,
    /// A digest of the matrix as run (bases, dependencies, policy; not its path): shards of one
    /// matrix have the same.
    #[serde(default)]
    pub matrix_digest: String,
    /// Set when the run took one shard of the matrix's dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::merge::Shard>,
    /// The comparison with a baseline report (`run --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<super::diff::ReportDiff>,
}

/// What a finished run decided, and the counts behind it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunOutcome {
    pub exit_code: i32,
    pub findings: usize,
    pub blocking: usize,
    /// Verdicts that fail (on any base, required or not).
    pub failing_verdicts: usize,
    pub errors: usize,
    /// One line: what the exit code means for this run.
    pub summary: String,
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
    /// The compilers a source build would use in its prepared image ("cc", "c++"), observed;
    /// empty when not observed (the prep failed, or the probe did not finish: see `errors`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compilers: BTreeMap<String, String>,
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
    /// The base itself could not be prepared (its package step failed): the job was not run;
    /// the base carries one `prep-failed` finding.
    BaseFailed,
    /// The requirement's environment marker excludes this base: pip installed nothing, as asked.
    NotApplicable,
    /// The requirements do not resolve together (pip's ResolutionImpossible): the error holds
    /// pip's explanation, a line each.
    Conflict,
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
    /// Why it was reused (`reused: index unchanged`, `reused: --offline, …`) or built
    /// (`built: not in the cache`, `rebuilt: changed on the index: numpy`, …).
    #[serde(default)]
    pub reuse: String,
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
    /// The probe's observations came from the observation cache (same image, same probe).
    #[serde(default)]
    pub probe_cached: bool,
    /// Seconds spent probing this job (imports, smoke, crash depth), 0 when cached.
    #[serde(default)]
    pub probe_secs: f64,
    /// What was built from an sdist: each build's time, and why one failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_builds: Vec<crate::srcbuild::SourceBuild>,
}

impl JobRecord {
    /// A job not run yet: nothing built, nothing observed. Fields are filled in as it runs.
    pub fn new(dependency: &str, base: &str, requirement: &str, outcome: BuildOutcome) -> JobRecord {
        JobRecord {
            id: crate::plan::job_id(dependency, base),
            dependency: dependency.to_string(),
            base: base.to_string(),
            requirement: requirement.to_string(),
            outcome,
            cached: false,
            reuse: String::new(),
            build_secs: 0.0,
            image: None,
            image_size: None,
            size_over_base: None,
            distributions: vec![],
            log_tail: String::new(),
            error: None,
            probe: None,
            crash_depth: None,
            probe_cached: false,
            probe_secs: 0.0,
            source_builds: vec![],
        }
    }
}

/// Where a run's time went, in seconds: wall time in total, and the sum over jobs and sections
/// of each phase (phases of parallel jobs overlap, so they add up to more than the wall time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Timings {
    pub total: f64,
    /// Pulling the bases, observing their libc, preparing their venv layer.
    pub bases: f64,
    pub build: f64,
    pub probe: f64,
    pub profile: f64,
    pub resolver: f64,
}

/// The outcome of one check run in a subprocess.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum CheckOutcome {
    Ok,
    Error {
        message: String,
    },
    Crash {
        signal: i64,
        name: String,
    },
    Timeout,
    Skipped {
        message: String,
    },
    /// The import failed only because a module that no installed distribution provides (and
    /// the standard library lacks) is missing: an optional integration nobody asked for.
    MissingOptional {
        module: String,
        message: String,
    },
}

impl CheckOutcome {
    pub fn label(&self) -> String {
        match self {
            CheckOutcome::Ok => "ok".into(),
            CheckOutcome::Error { .. } => "error".into(),
            CheckOutcome::MissingOptional { module, .. } => format!("needs {module} (not installed)"),
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
    /// `extension` (a module) or `vendored` (a shared library under `<dist>.libs/`).
    #[serde(default = "extension_kind")]
    pub kind: String,
    pub path: String,
    pub needed: Vec<String>,
    pub glibc_linked: bool,
    pub foreign_libc: bool,
    /// Has DT_RELR relative relocations (the loader must support them).
    #[serde(default)]
    pub relr: bool,
    /// `GLIBC_x` symbol versions it needs, oldest first.
    #[serde(default)]
    pub glibc_symbol_versions: Vec<String>,
    /// NEEDED libraries this base's own loader does not find.
    #[serde(default)]
    pub missing_needed: Vec<String>,
}

fn extension_kind() -> String {
    "extension".into()
}

/// Whether a probe said everything it planned to. Anything but `Complete` means some
/// observations are missing, and the base fails: silence is never a pass.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Completion {
    Complete,
    /// Not run yet, or nothing known (the default of an empty record).
    #[default]
    Unknown,
    TimedOut {
        secs: u64,
    },
    OomKilled,
    OutputCut,
    /// The container ended with a non-zero status.
    Died {
        exit_code: Option<i64>,
        stderr: String,
    },
    /// No closing record: the probe stopped early.
    NoClosingRecord,
    /// The probe says it emitted fewer records than it planned, or fewer arrived than it sent.
    Short {
        planned: u64,
        emitted: u64,
        received: u64,
    },
    /// The probe's protocol was broken (a record for one check twice, garbage between records).
    Protocol {
        errors: Vec<String>,
    },
}

impl Completion {
    pub fn is_complete(&self) -> bool {
        *self == Completion::Complete
    }
    /// One line for reasons and evidence.
    pub fn describe(&self) -> String {
        match self {
            Completion::Complete => "complete".into(),
            Completion::Unknown => "not observed".into(),
            Completion::TimedOut { secs } => format!("the probe did not finish within {secs} s; it was stopped"),
            Completion::OomKilled => "the probe was killed for exceeding its memory limit (OOM)".into(),
            Completion::OutputCut => "the probe printed more than its output limit; it was stopped".into(),
            Completion::Died { exit_code, stderr } => format!(
                "the probe exited with {}{}",
                exit_code.map(|c| c.to_string()).unwrap_or_else(|| "no status".into()),
                if stderr.is_empty() { String::new() } else { format!(": {}", stderr.lines().last().unwrap_or("")) }
            ),
            Completion::NoClosingRecord => "the probe stopped before its closing record".into(),
            Completion::Short { planned, emitted, received } => {
                format!("the probe planned {planned} records, emitted {emitted}, {received} arrived")
            }
            Completion::Protocol { errors } => {
                format!("probe protocol broken: {}", errors.first().map(String::as_str).unwrap_or(""))
            }
        }
    }
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
    /// module -> the distribution it belongs to.
    #[serde(default)]
    pub module_dist: BTreeMap<String, String>,
    /// Extension files loaded by path (the interpreter cannot see them by suffix), path -> outcome.
    #[serde(default)]
    pub loads: BTreeMap<String, CheckOutcome>,
    /// Distributions whose metadata could not be read, with why.
    #[serde(default)]
    pub dist_errors: BTreeMap<String, String>,
    /// Per distribution, the tags of the wheel it was installed from.
    #[serde(default)]
    pub wheel_tags: BTreeMap<String, Vec<String>>,
    /// The smoke script in the main thread.
    pub smoke: Option<CheckOutcome>,
    pub smoke_output: Option<String>,
    /// The same script in a `threading.Thread` with the base's default stack.
    #[serde(default)]
    pub smoke_thread: Option<CheckOutcome>,
    #[serde(default)]
    pub smoke_thread_output: Option<String>,
    /// The stack a `threading.Thread` had on this base, observed inside one.
    #[serde(default)]
    pub thread_stack_bytes: Option<u64>,
    /// The main-thread smoke run timed over several repetitions (absent without a smoke
    /// script, and in reports written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke_runtime: Option<SmokeRuntime>,
    /// Extension modules and vendored libraries, with their linkage.
    pub extensions: Vec<Extension>,
    /// Lines the probe printed that are not protocol, or a probe that died.
    pub protocol_errors: Vec<String>,
    /// The probe container itself: exit code, OOM, time-out.
    pub container: ContainerOutcome,
    /// Whether the probe said everything it planned to.
    #[serde(default)]
    pub completion: Completion,
}

/// Wall times of the main-thread smoke script, each in a fresh child, after a first run that
/// is not counted (it warms the page cache and the bytecode). The spread is min..max of the
/// counted runs: with a handful of runs an interquartile range is barely narrower, and the
/// whole range is the cautious one when two bases are compared for overlap.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SmokeRuntime {
    /// Timed runs asked for (`policy.runtime_runs`).
    pub requested: u32,
    /// Seconds of each counted run, in the order they ran; only runs that passed are here.
    pub runs_secs: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_secs: Option<f64>,
    /// The first run's seconds (not counted).
    #[serde(default)]
    pub warmup_secs: f64,
    /// What all repetitions together were allowed to take.
    #[serde(default)]
    pub budget_secs: f64,
    /// Why fewer runs than asked were timed (the budget, a run that did not pass), or why none
    /// were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl SmokeRuntime {
    /// The timing of these runs: their median and spread.
    pub fn from_runs(requested: u32, runs_secs: Vec<f64>) -> SmokeRuntime {
        let mut sorted = runs_secs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        };
        SmokeRuntime {
            requested,
            median_secs: median,
            min_secs: sorted.first().copied(),
            max_secs: sorted.last().copied(),
            runs_secs,
            ..Default::default()
        }
    }

    /// "median 0.21 s (0.20–0.23 s, 5 runs)", or what was timed when nothing could be.
    pub fn describe(&self) -> String {
        match (self.median_secs, self.min_secs, self.max_secs) {
            (Some(m), Some(lo), Some(hi)) => format!(
                "median {} ({}–{}, {} run{})",
                secs(m),
                secs_bare(lo),
                secs(hi),
                self.runs_secs.len(),
                if self.runs_secs.len() == 1 { "" } else { "s" }
            ),
            _ => "no timed run".to_string(),
        }
    }
}

/// Seconds with two significant digits under 10 s ("0.21 s", "1.9 s", "12 s").
fn secs(v: f64) -> String {
    format!("{} s", secs_bare(v))
}

fn secs_bare(v: f64) -> String {
    if v < 0.095 {
        format!("{v:.3}")
    } else if v < 0.995 {
        format!("{v:.2}")
    } else if v < 9.95 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
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
    /// Stable identity, `<subject>/<kind>/<item>`: never prose or versions, so two reports can
    /// be diffed and shards merged by it.
    pub id: String,
    /// The dependency, `<profile>`/`<resolver>` for base-level sections, or `<base:NAME>`.
    pub subject: String,
    pub kind: FindingKind,
    /// What within the subject: a module, a distribution, a check id; empty for the whole.
    #[serde(default)]
    pub item: String,
    /// The bases on the failing side: the ones this finding fails.
    pub failing: Vec<String>,
    pub severity: Severity,
    /// One line: what differs.
    pub summary: String,
    /// Per base, what was observed (a short excerpt).
    pub evidence: BTreeMap<String, String>,
    /// Set when the matrix accepts this difference (then it does not block).
    pub known: Option<String>,
    /// Per failing base, the facts that explain it and the rule linking them; "no explanation
    /// found" where no rule matches the evidence.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub explanation: BTreeMap<String, Vec<String>>,
}

/// Pass or fail of one dependency on one base, with reasons.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub dependency: String,
    pub base: String,
    /// False when a finding whose kind the policy blocks on (and the matrix does not accept)
    /// names this base as failing.
    pub pass: bool,
    pub required: bool,
    /// The summaries of every finding that names this base as failing.
    pub reasons: Vec<String>,
    /// The ids of the findings that fail this verdict.
    #[serde(default)]
    pub failed_by: Vec<String>,
}

impl Verdict {
    /// A failing verdict on a required base: what makes a JUnit case fail and the run exit 1.
    pub fn blocks(&self) -> bool {
        !self.pass && self.required
    }
}

/// A probe's observations on one base: check id -> (status, value, message).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProbeSection {
    pub base: String,
    pub libc: Option<Libc>,
    pub checks: BTreeMap<String, Observation>,
    pub protocol_errors: Vec<String>,
    pub container: ContainerOutcome,
    #[serde(default)]
    pub completion: Completion,
    /// Taken from the observation cache (same image, same probe, same scenarios).
    #[serde(default)]
    pub cached: bool,
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
    /// Distinct outcomes, e.g. {"exit 0": 3, "SIGSEGV": 2}; `not installed` when the
    /// requirements did not install (then `install_error` says why and nothing ran).
    pub outcomes: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_error: Option<String>,
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
            outcome: None,
            timings: Timings::default(),
            matrix_digest: String::new(),
            shard: None,
            baseline: None,
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
        self.findings.sort_by(|a, b| a.id.cmp(&b.id));
        self.verdicts.sort_by(|a, b| (&a.dependency, &a.base).cmp(&(&b.dependency, &b.base)));
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
