//! Verdicts and the run's outcome, derived from the findings: a verdict fails exactly when a
//! finding the policy blocks on (and the matrix does not accept) names its base as failing, so
//! the verdict, the finding's severity, JUnit and the exit code can never disagree.

use super::{base_subject, first_line, BaseResult};
use crate::error::{EXIT_FINDINGS, EXIT_INFRA, EXIT_OK};
use crate::matrix::{Dependency, Policy};
use crate::model::{BuildOutcome, Finding, RunOutcome, RunReport, Severity, Verdict};

/// Pass or fail of a dependency on each base, with the findings behind it.
pub fn verdicts(dep: &Dependency, policy: &Policy, results: &[BaseResult], findings: &[Finding]) -> Vec<Verdict> {
    results
        .iter()
        .map(|r| {
            let base = &r.job.base;
            let about_base = base_subject(base);
            let naming: Vec<&Finding> = findings
                .iter()
                .filter(|f| (f.subject == dep.name || f.subject == about_base) && f.failing.contains(base))
                .collect();
            let failed_by: Vec<String> =
                naming.iter().filter(|f| policy.blocks(f.kind) && f.known.is_none()).map(|f| f.id.clone()).collect();
            let mut reasons: Vec<String> = naming
                .iter()
                .map(|f| match &f.known {
                    Some(_) => format!("[{}, accepted] {}", f.kind, f.summary),
                    None => format!("[{}] {}", f.kind, f.summary),
                })
                .collect();
            // A job the harness could not run has no evidence at all: never a pass.
            let error = (r.job.outcome == BuildOutcome::InfraError)
                .then(|| first_line(r.job.error.as_deref().unwrap_or("infrastructure error")));
            if let Some(e) = &error {
                reasons.push(format!("not run: {e}"));
            }
            Verdict {
                dependency: dep.name.clone(),
                base: base.clone(),
                pass: failed_by.is_empty() && error.is_none(),
                required: r.required,
                reasons,
                failed_by,
                error,
            }
        })
        .collect()
}

/// The run's outcome from its findings, verdicts and errors: exit 3 when the harness itself
/// failed, 1 when a finding blocks, else 0.
pub fn run_outcome(r: &RunReport) -> RunOutcome {
    let blocking = r.findings.iter().filter(|f| f.severity == Severity::Blocking).count();
    let failing_verdicts = r.verdicts.iter().filter(|v| !v.pass).count();
    let (exit_code, summary) = if !r.errors.is_empty() {
        (EXIT_INFRA, format!("{} infrastructure error(s): the run is not conclusive", r.errors.len()))
    } else if blocking > 0 {
        (EXIT_FINDINGS, format!("{blocking} blocking finding(s)"))
    } else {
        (EXIT_OK, "no blocking finding".to_string())
    };
    RunOutcome { exit_code, findings: r.findings.len(), blocking, failing_verdicts, errors: r.errors.len(), summary }
}
