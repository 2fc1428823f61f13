//! What the comparison decided: findings (with stable ids), per-base verdicts, and the run's
//! outcome (exit code and counts), computed once and stored in the report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kinds::FindingKind;

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
    /// Set when the harness could not do this job (an infrastructure error): the verdict is
    /// `error`, with nothing observed to pass or fail, and says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Verdict {
    /// `pass`, `fail` or `error` (nothing observed).
    pub fn status(&self) -> &'static str {
        match (self.error.is_some(), self.pass) {
            (true, _) => "error",
            (false, true) => "pass",
            (false, false) => "fail",
        }
    }

    /// A failing verdict on a required base: what makes a JUnit case fail and the run exit 1.
    pub fn blocks(&self) -> bool {
        !self.pass && self.required
    }
}
