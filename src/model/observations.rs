//! What probes and builds observed, as typed values: a build's outcome and the distributions it
//! installed, each check's outcome, a probe's completion, the wheel probe's findings, the smoke
//! script's run times, per-base sections and reproducer runs. The vocabulary the probes, the
//! builds and the comparison share.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use crate::dist::Source;

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Distribution {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// The file pip chose (wheel or sdist name).
    pub file: String,
    pub requested: bool,
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
    /// The distributions installed because they were asked for by name (a `REQUESTED` file in
    /// their metadata), as opposed to those installed as dependencies. pip writes it only for
    /// what it was asked for; uv (0.9) writes it for every distribution, so in an image uv built
    /// everything counts as asked for. Empty where the installer wrote none: nothing is known.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub requested: BTreeSet<String>,
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
    /// The fixed pure-Python control, run before each counted smoke run (control, smoke,
    /// control, smoke, ...) in the same probe: the speed of this base's interpreter in the same
    /// window, under the same load. Absent in records made before the control existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlRuntime>,
    /// The CPU the timed runs were pinned to, when the probe could pin them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// The run's probe slot this probe held, which chose that CPU: probes that ran at once held
    /// different slots, and so timed on different CPUs where the engine has enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u32>,
    /// Why this timing is not compared with the other bases' although it could be on its own:
    /// set when the run closes (one base's timing kept from an earlier run, another's new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

/// Wall times of the control, each in a fresh child, after a warm-up of its own; counted runs
/// only, in the order they ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ControlRuntime {
    pub runs_secs: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_secs: Option<f64>,
    #[serde(default)]
    pub warmup_secs: f64,
    /// Why the control stopped (a run that did not pass): its later runs are missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl ControlRuntime {
    /// The control's timing of these runs: their median and spread.
    pub fn from_runs(runs_secs: Vec<f64>) -> ControlRuntime {
        let (median_secs, min_secs, max_secs) = median_and_spread(&runs_secs);
        ControlRuntime { median_secs, min_secs, max_secs, runs_secs, ..Default::default() }
    }

    /// The median, when there are enough runs to compare ([`crate::matrix::MIN_RUNTIME_RUNS`]).
    pub fn comparable_median(&self) -> Option<f64> {
        let enough = self.runs_secs.len() >= crate::matrix::MIN_RUNTIME_RUNS as usize;
        self.median_secs.filter(|m| enough && *m > 0.0)
    }
}

/// The median, minimum and maximum of some runs (`None`s for none).
fn median_and_spread(runs: &[f64]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    };
    (median, sorted.first().copied(), sorted.last().copied())
}

impl SmokeRuntime {
    /// Why a timing is not compared, or `None` when it can be: what a job's rendering says.
    pub fn not_comparable(&self) -> Option<String> {
        if let Some(why) = &self.not_compared {
            return Some(why.clone());
        }
        let (n, min) = (self.runs_secs.len(), crate::matrix::MIN_RUNTIME_RUNS);
        if n < min as usize {
            let why = self.stopped.as_deref().map(|s| format!(": {s}")).unwrap_or_default();
            return Some(format!(
                "not compared: {n} timed run{} of {} (at least {min} needed){why}",
                if n == 1 { "" } else { "s" },
                self.requested
            ));
        }
        // A control that ran but did not give enough runs leaves the smoke runs without their
        // measure of the interpreter: compared alone, an interpreter-wide slowdown would be
        // the dependency's.
        let c = self.control.as_ref()?;
        if c.comparable_median().is_some() {
            return None;
        }
        let why = c.stopped.as_deref().map(|s| format!(": {s}")).unwrap_or_default();
        Some(format!("not compared: {} control run(s) of the {n} needed{why}", c.runs_secs.len()))
    }

    /// The timing of these runs: their median and spread.
    pub fn from_runs(requested: u32, runs_secs: Vec<f64>) -> SmokeRuntime {
        let (median_secs, min_secs, max_secs) = median_and_spread(&runs_secs);
        SmokeRuntime { requested, median_secs, min_secs, max_secs, runs_secs, ..Default::default() }
    }

    /// These runs with the control's runs beside them.
    pub fn with_control(mut self, control_secs: Vec<f64>) -> SmokeRuntime {
        self.control = Some(ControlRuntime::from_runs(control_secs));
        self
    }

    /// "median 0.21 s (0.20–0.23 s, 5 runs)", then the control's "; control median 0.15 s
    /// (0.14–0.17 s)" when it ran, or what was timed when nothing could be.
    pub fn describe(&self) -> String {
        let smoke = match (self.median_secs, self.min_secs, self.max_secs) {
            (Some(m), Some(lo), Some(hi)) => format!(
                "median {} ({}–{}, {} run{})",
                secs(m),
                secs_bare(lo),
                secs(hi),
                self.runs_secs.len(),
                if self.runs_secs.len() == 1 { "" } else { "s" }
            ),
            _ => return "no timed run".to_string(),
        };
        match self.control.as_ref().map(|c| (c.median_secs, c.min_secs, c.max_secs)) {
            Some((Some(m), Some(lo), Some(hi))) => {
                format!("{smoke}; control median {} ({}–{})", secs(m), secs_bare(lo), secs(hi))
            }
            _ => smoke,
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Observation {
    pub status: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// What the check looks at, in one line (from the probe; absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// What this base gave, in words built by the probe from `value` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub says: Option<String>,
}

impl Observation {
    /// A short text for the observation: its value, or its status and message.
    pub fn summary(&self) -> String {
        let v = self.value.to_string();
        let v = if v.chars().count() > 160 { format!("{}…", v.chars().take(160).collect::<String>()) } else { v };
        match (self.status.as_str(), self.message.as_deref()) {
            ("ok", _) => v,
            (s, Some(m)) => format!("{s}: {}", crate::text::first_line(m)),
            (s, None) => format!("{s}: {v}"),
        }
    }

    /// What this base gave, in words where the probe put it in words, else [`Self::summary`].
    pub fn words(&self) -> String {
        self.says.clone().unwrap_or_else(|| self.summary())
    }
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

/// One distribution built from an sdist in a pip run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceBuild {
    /// Normalised distribution name.
    pub distribution: String,
    /// The sdist pip built (file name).
    pub file: String,
    pub ok: bool,
    /// Wall time of its build steps, in seconds.
    pub secs: f64,
    /// On failure, the first compiler, linker or backend error line of its output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// pip took a wheel it had built before from its cache (`file` is that wheel): the build
    /// was not paid in this run, and `secs` is 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_cache: bool,
}
