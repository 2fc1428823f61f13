//! Closing an `inspect` report: its jobs are one per (distribution, image), so the images are
//! compared exactly as `run` compares bases, matched by distribution, through the same rules
//! (`dependency_findings`, `verdicts`, the sections' rules); one image alone is judged by the
//! rules that need no second base (`alone`). The reproducer's runs decide as `repro` does.

use std::collections::{BTreeMap, BTreeSet};

use super::{finalize, probe, BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::matrix::{Dependency, KnownDifference, Policy, Requirement};
use crate::model::{Finding, RunReport};

/// The subject of the reproducer's findings.
pub const REPRO: &str = "<repro>";

/// The subject of the smoke script's findings in `inspect`: it is the image's, no
/// distribution's.
pub const SMOKE: &str = "<smoke>";

fn dependency(name: &str, known: Option<KnownDifference>) -> Dependency {
    Dependency {
        name: name.to_string(),
        requirement: Requirement { name: name.to_string(), text: name.to_string(), hashes: vec![] },
        also: vec![],
        constraints: vec![],
        smoke: None,
        known_difference: known,
    }
}

/// The findings of one image alone for one of its jobs.
fn alone(r: &BaseResult) -> Vec<Draft> {
    let one = [r];
    let mut drafts = probe::incomplete(&one);
    let observed: Vec<&BaseResult> =
        one.iter().copied().filter(|r| r.job.probe.as_ref().is_some_and(|p| p.completion.is_complete())).collect();
    drafts.extend(probe::dist_errors(&observed));
    drafts.extend(probe::smoke(&observed));
    drafts.extend(probe::thread_crash(&observed));
    drafts.extend(super::alone::distribution(r));
    drafts
}

/// What the reproducer's runs decide: with one image, a run that ended by a signal is a crash;
/// with several, outcomes that differ between them (a crash on some only is a crash).
fn repro(r: &RunReport) -> Vec<Draft> {
    if r.repro.is_empty() {
        return vec![];
    }
    let evidence: BTreeMap<String, String> = r
        .repro
        .iter()
        .map(|x| {
            let outcomes = x.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
            (x.base.clone(), format!("{} run(s): {outcomes}", x.runs.len()))
        })
        .collect();
    let crashed: Vec<String> = r.repro.iter().filter(|x| x.crash_rate > 0.0).map(|x| x.base.clone()).collect();
    let sets: BTreeSet<Vec<&String>> = r.repro.iter().map(|x| x.outcomes.keys().collect()).collect();
    if r.repro.len() == 1 || crashed.len() == r.repro.len() {
        if crashed.is_empty() {
            return vec![];
        }
        let summary = format!("the reproducer crashes in {}", crashed.join(", "));
        return vec![Draft::new(FindingKind::Crash, "repro", summary, evidence, crashed)];
    }
    if !crashed.is_empty() {
        let summary = format!("the reproducer crashes in {} only", crashed.join(", "));
        return vec![Draft::new(FindingKind::Crash, "repro", summary, evidence, crashed)];
    }
    if sets.len() > 1 {
        let all: Vec<String> = evidence.keys().cloned().collect();
        let summary = "the reproducer's outcomes differ between the images".to_string();
        return vec![Draft::new(FindingKind::SmokeDiffers, "repro", summary, evidence, all)];
    }
    vec![]
}

/// The distributions the images are compared by: those each image's main interpreter sees
/// (its application's environment). A distribution only another interpreter sees (the system
/// Python's packages beside a virtual environment) is judged in its image alone.
pub fn compared(r: &RunReport) -> BTreeSet<String> {
    r.interpreters
        .iter()
        .filter(|i| i.main)
        .flat_map(|i| i.distributions.iter().map(|d| d.split_once(' ').map_or(d.as_str(), |(n, _)| n).to_string()))
        .chain(std::iter::once(SMOKE.to_string()))
        .collect()
}

/// Decides an `inspect` report: findings, verdicts and the outcome. `known` gives the
/// accepted differences of a distribution the matrix lists by name.
pub fn close_images(r: &mut RunReport, policy: &Policy, known: &dyn Fn(&str) -> Option<KnownDifference>) {
    let required: BTreeMap<String, bool> = r.bases.iter().map(|b| (b.name.clone(), true)).collect();
    r.findings.clear();
    r.verdicts.clear();
    let names: BTreeSet<String> = r.jobs.iter().map(|j| j.dependency.clone()).collect();
    let compared = compared(r);
    let mut findings: Vec<Finding> = vec![];
    let mut verdicts = vec![];
    for name in &names {
        let dep = dependency(name, known(name));
        let results: Vec<BaseResult> = r
            .bases
            .iter()
            .filter_map(|b| r.jobs.iter().find(|j| &j.dependency == name && j.base == b.name))
            .map(|job| BaseResult { job, required: true, compiler: None })
            .collect();
        let mut found = if r.bases.len() == 1 || !compared.contains(name) {
            results
                .iter()
                .flat_map(alone)
                .map(|d| finalize(name, d, policy, &required, dep.known_difference.as_ref()))
                .collect()
        } else {
            let mut found = super::dependency_findings(&dep, policy, &results);
            // Nothing is installed in an image as it is: a distribution one image has and
            // another has not is what differs, and is said so (the run's words, "installs on …
            // but not on …", tell of an install that failed).
            for f in found.iter_mut().filter(|f| f.kind == FindingKind::InstallDiffers) {
                let present: Vec<&str> =
                    results.iter().map(|r| r.job.base.as_str()).filter(|b| !f.failing.iter().any(|x| x == b)).collect();
                f.summary = format!("is installed in {} but not in {}", present.join(", "), f.failing.join(", "));
            }
            found
        };
        verdicts.extend(super::verdicts(&dep, policy, &results, &found));
        findings.append(&mut found);
    }
    for d in repro(r) {
        findings.push(finalize(REPRO, d, policy, &required, None));
    }
    for section in crate::sections::ALL {
        let observed = r.section(section.kind);
        findings.extend(super::section_findings(section.kind, observed, policy, &required, section.normalise));
        findings.extend(super::incomplete_section_findings(section.kind.subject, observed, policy, &required));
    }
    r.findings = findings;
    r.verdicts = verdicts;
    r.partial = false;
    r.finished_at = Some(crate::model::now());
    r.normalise();
    r.errors.extend(super::close::duplicate_ids(&r.findings));
    r.outcome = Some(super::run_outcome(r));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BaseRecord, BuildOutcome, CheckOutcome, Completion, JobRecord, ReproRecord, WheelProbe};

    fn base(name: &str) -> BaseRecord {
        BaseRecord {
            name: name.into(),
            image: name.into(),
            digest: None,
            image_id: format!("sha256:{name}"),
            size: 0,
            required: true,
            libc: None,
            compilers: Default::default(),
        }
    }

    fn job(dist: &str, image: &str, import: CheckOutcome) -> JobRecord {
        let mut p = WheelProbe { completion: Completion::Complete, ..Default::default() };
        p.imports.insert(dist.into(), import);
        p.top_level.insert(dist.into());
        p.module_dist.insert(dist.into(), dist.into());
        JobRecord { probe: Some(p), ..JobRecord::new(dist, image, dist, BuildOutcome::Installed) }
    }

    fn closed(bases: &[&str], jobs: Vec<JobRecord>) -> RunReport {
        let mut r = RunReport::new("inspect", "r", "m.toml");
        r.bases = bases.iter().map(|b| base(b)).collect();
        // Each image's main interpreter sees the distributions installed there.
        for b in bases {
            r.interpreters.push(crate::model::InterpreterRecord {
                base: b.to_string(),
                path: "/opt/venv/bin/python".into(),
                how: "virtual environment".into(),
                main: true,
                libc: None,
                distributions: jobs
                    .iter()
                    .filter(|j| j.base == *b && j.outcome == BuildOutcome::Installed)
                    .map(|j| format!("{} 1", j.dependency))
                    .collect(),
                judged_elsewhere: vec![],
                completion: Completion::Complete,
            });
        }
        r.jobs = jobs;
        close_images(&mut r, &Policy::default(), &|_| None);
        r
    }

    #[test]
    fn images_are_compared_by_distribution_with_the_run_rules() {
        let error = CheckOutcome::Error { message: "ImportError: boom".into() };
        let r = closed(
            &["a", "b"],
            vec![
                job("six", "a", CheckOutcome::Ok),
                job("six", "b", CheckOutcome::Ok),
                job("pkg", "a", CheckOutcome::Ok),
                job("pkg", "b", error),
            ],
        );
        let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["pkg/import-differs/pkg"], "{:#?}", r.findings);
        assert_eq!(r.verdicts.iter().filter(|v| !v.pass).count(), 1);
        assert_eq!(r.outcome.as_ref().unwrap().exit_code, 1);
        // Missing from one image: installed on one and not the other.
        let mut absent = JobRecord::new("six", "b", "six", BuildOutcome::InstallFailed);
        absent.error = Some("not installed in this image".into());
        let r = closed(&["a", "b"], vec![job("six", "a", CheckOutcome::Ok), absent]);
        assert_eq!(r.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["six/install-differs/"]);
        assert_eq!(r.findings[0].summary, "is installed in a but not in b");
        // A distribution no main interpreter sees is judged in its image alone.
        let mut r = closed(&["a", "b"], vec![job("six", "a", CheckOutcome::Ok), job("six", "b", CheckOutcome::Ok)]);
        r.jobs.push(job("sys-pkg", "b", CheckOutcome::Ok));
        close_images(&mut r, &Policy::default(), &|_| None);
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
    }

    #[test]
    fn one_image_alone_passes_when_everything_imports_and_a_crashing_reproducer_blocks() {
        let mut r = closed(&["a"], vec![job("six", "a", CheckOutcome::Ok)]);
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert_eq!(r.outcome.as_ref().unwrap().exit_code, 0);
        r.repro.push(ReproRecord {
            base: "a".into(),
            runs: vec![],
            crash_rate: 0.5,
            outcomes: BTreeMap::from([("SIGSEGV".into(), 1), ("exit 0".into(), 1)]),
            install_error: None,
        });
        close_images(&mut r, &Policy::default(), &|_| None);
        assert_eq!(r.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["<repro>/crash/repro"]);
        assert_eq!(r.outcome.as_ref().unwrap().exit_code, 1);
        // A probe that did not finish fails the image: missing evidence is never a pass.
        let mut cut = JobRecord::new("<probe:/usr/bin/python3>", "a", "the wheel probe", BuildOutcome::Installed);
        cut.probe = Some(WheelProbe { completion: Completion::NoClosingRecord, ..Default::default() });
        let r = closed(&["a"], vec![job("six", "a", CheckOutcome::Ok), cut]);
        let f: Vec<(&str, crate::model::Severity)> = r.findings.iter().map(|f| (f.id.as_str(), f.severity)).collect();
        assert_eq!(f, [("<probe:/usr/bin/python3>/incomplete/probe", crate::model::Severity::Blocking)]);
    }
}
