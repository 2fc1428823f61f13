//! The report's schema: one run's bases, jobs, sections, findings, verdicts and outcome, its
//! timings, and the shard it took or the baseline it was compared with. Every renderer is a pure
//! function of a [`RunReport`]; runs write it as jobs complete; a partial run says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decision::{Finding, RunOutcome, Severity, Verdict};
use super::observations::{
    BuildOutcome, Completion, Distribution, Libc, Observation, ProbeSection, ReproRecord, SourceBuild, WheelProbe,
};

/// Bumped on any incompatible change to the JSON shape.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub run_id: String,
    /// `run`, `gate`, `repro` or `dns`.
    pub command: String,
    /// The matrix file's path (`<embedded>/default.toml` for the built-in default).
    pub matrix: String,
    /// How the matrix was chosen: `path (--matrix)`, `path (MUSLCHECK_MATRIX)`,
    /// `muslcheck.toml (found in DIR)`, `[tool.muslcheck] of pyproject.toml (found in DIR)`,
    /// `embedded default`. Empty in reports written before it existed.
    #[serde(default)]
    pub matrix_source: String,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    pub finished_at: Option<u64>,
    /// True until the run finished; an interrupted run leaves a partial report.
    pub partial: bool,
    /// Jobs planned but not (yet) run.
    pub not_run: Vec<String>,
    /// The whole matrix's plan (every shard's, after `--only`), by dependency: each one's job
    /// ids. Recorded when the run starts, so `report merge` can check that the shards' jobs are
    /// exactly the plan; empty in reports written before it was recorded.
    #[serde(default)]
    pub planned: BTreeMap<String, Vec<String>>,
    pub bases: Vec<BaseRecord>,
    pub jobs: Vec<JobRecord>,
    pub findings: Vec<Finding>,
    pub verdicts: Vec<Verdict>,
    /// The per-base sections by kind (`kinds::SECTIONS`: the libc behaviour profile under
    /// `profile`, the resolver profile under `resolver`), each a list of one section per base.
    /// Flattened: each kind is a key of the report's JSON, and a kind with nothing is absent.
    #[serde(flatten)]
    pub sections: BTreeMap<String, Vec<ProbeSection>>,
    /// `repro` results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repro: Vec<ReproRecord>,
    /// `inspect`: the Python interpreters found in each image, and what each saw.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interpreters: Vec<InterpreterRecord>,
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
    pub shard: Option<Shard>,
    /// The comparison with a baseline report (`run --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<ReportDiff>,
    /// What reading the inputs left out, and why (a lock's entry for the project's own code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
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

/// `inspect`: one Python interpreter of an image (its `base`), how it was found, and what the
/// wheel probe saw through it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InterpreterRecord {
    /// The image's name in the report (a base's name).
    pub base: String,
    /// Its path in the image.
    pub path: String,
    /// How it was found (`on PATH`, `virtual environment`, `VIRTUAL_ENV`, `--python`).
    pub how: String,
    /// The one the smoke script, the reproducer and the profiles ran with.
    pub main: bool,
    pub libc: Option<Libc>,
    /// The distributions it sees, `name version`, sorted; those another interpreter of the
    /// image saw first are judged there (`judged_elsewhere`).
    pub distributions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_elsewhere: Vec<String>,
    pub completion: Completion,
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
    pub source_builds: Vec<SourceBuild>,
    /// The installer that ran the install and its version (`pip 25.3`, `uv 0.9.9`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
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
            installer: None,
        }
    }
}

/// Where a run's time went, in seconds: wall time in total, and the sum over jobs and sections
/// of each phase (phases of parallel jobs overlap, so they add up to more than the wall time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub total: f64,
    /// Pulling the bases, observing their libc, preparing their venv layer.
    pub bases: f64,
    pub build: f64,
    pub probe: f64,
    /// Per section kind, its time (every kind of `kinds::SECTIONS` is present).
    #[serde(flatten)]
    pub sections: BTreeMap<String, f64>,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            total: 0.0,
            bases: 0.0,
            build: 0.0,
            probe: 0.0,
            sections: crate::kinds::SECTIONS.iter().map(|k| (k.id.to_string(), 0.0)).collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub k: u32,
    pub n: u32,
}

impl Shard {
    /// Parses `K/N` (1 <= K <= N <= 1000).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) =
            s.split_once('/').ok_or_else(|| format!("--shard `{}` is not K/N (e.g. 1/4)", crate::input::shown(s)))?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| format!("--shard `{s}`: K is not a number"))?,
            n.trim().parse().map_err(|_| format!("--shard `{s}`: N is not a number"))?,
        );
        if n == 0 || n > 1000 || k == 0 || k > n {
            return Err(format!("--shard `{s}`: needs 1 <= K <= N <= 1000"));
        }
        Ok(Shard { k, n })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportDiff {
    pub old_run: String,
    pub new_run: String,
    pub new: Vec<Finding>,
    pub resolved: Vec<Finding>,
    /// Same id, worse: its severity went up, or it fails a base it did not fail before.
    /// (before, after), by id.
    #[serde(default)]
    pub worsened: Vec<(Finding, Finding)>,
    /// Same id, other evidence or summary, or fewer failing bases, no worse. (before, after),
    /// by id.
    pub changed: Vec<(Finding, Finding)>,
    pub unchanged: Vec<String>,
    /// What makes the comparison weaker than it looks, each allowed by a flag: a report that
    /// did not finish (`--allow-unfinished`), reports of different matrices
    /// (`--allow-other-matrix`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}

impl ReportDiff {
    /// New findings that block.
    pub fn new_blocking(&self) -> usize {
        self.new.iter().filter(|f| f.severity == Severity::Blocking).count()
    }

    /// Worsened findings that block now.
    pub fn worsened_blocking(&self) -> usize {
        self.worsened.iter().filter(|(_, f)| f.severity == Severity::Blocking).count()
    }

    /// What makes a nightly comparison fail: a blocking finding that is new or worse.
    pub fn regressions(&self) -> usize {
        self.new_blocking() + self.worsened_blocking()
    }
}

impl RunReport {
    pub fn new(command: &str, run_id: &str, matrix: &str) -> RunReport {
        RunReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            run_id: run_id.to_string(),
            command: command.to_string(),
            matrix: matrix.to_string(),
            matrix_source: String::new(),
            started_at: now(),
            finished_at: None,
            partial: true,
            not_run: vec![],
            planned: BTreeMap::new(),
            bases: vec![],
            jobs: vec![],
            findings: vec![],
            verdicts: vec![],
            sections: BTreeMap::new(),
            repro: vec![],
            interpreters: vec![],
            errors: vec![],
            outcome: None,
            timings: Timings::default(),
            matrix_digest: String::new(),
            shard: None,
            baseline: None,
            inputs: vec![],
        }
    }

    /// Why this is not a finished run's report, if it is not: it never closed (killed, or
    /// interrupted before deciding), or jobs of its plan were not run. A report that closed
    /// with infrastructure errors is finished: its outcome says exit 3.
    pub fn unfinished(&self) -> Option<String> {
        let not_run = (!self.not_run.is_empty()).then(|| format!("jobs not run: {}", self.not_run.join(", ")));
        let never_closed = (self.finished_at.is_none() || self.outcome.is_none())
            .then(|| "it never closed (the run was killed or stopped before deciding)".to_string());
        match (never_closed, not_run) {
            (None, None) => None,
            (a, b) => Some(a.into_iter().chain(b).collect::<Vec<_>>().join("; ")),
        }
    }

    /// Whether any finding blocks.
    pub fn has_blocking(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Blocking)
    }

    /// The sections of one kind, one per base (empty when it was not observed).
    pub fn section(&self, kind: &crate::kinds::SectionKind) -> &[ProbeSection] {
        self.sections.get(kind.id).map(Vec::as_slice).unwrap_or_default()
    }

    /// Adds a base's section of a kind.
    pub fn add_section(&mut self, kind: &crate::kinds::SectionKind, section: ProbeSection) {
        self.sections.entry(kind.id.to_string()).or_default().push(section);
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
