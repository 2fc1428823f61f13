//! Rules of a gate against a lock: on each base, what the new requirements change in the lock's
//! resolution (distributions added, upgraded, downgraded, removed), compared with the lock
//! installed alone on the same base. One finding per changed distribution, and one for the
//! whole set saying, per base, what moved or why nothing could be compared. Information, not
//! a failure: whether the combined set installs at all is the `conflict` and install rules' job.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::{finalize, first_line, Draft};
use crate::kinds::FindingKind;
use crate::lock::LockPlan;
use crate::matrix::{Base, Policy};
use crate::model::{BuildOutcome, Finding, JobRecord};
use crate::plan::job_id;

/// What happened to one distribution of the lock's resolution on one base.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Added(String),
    Removed(String),
    Upgraded(String, String),
    Downgraded(String, String),
    Unchanged(String),
}

impl Change {
    fn text(&self) -> String {
        match self {
            Change::Added(v) => format!("added {v}"),
            Change::Removed(v) => format!("removed (the lock alone has {v})"),
            Change::Upgraded(a, b) => format!("upgraded {a} -> {b}"),
            Change::Downgraded(a, b) => format!("downgraded {a} -> {b}"),
            Change::Unchanged(v) => format!("unchanged {v}"),
        }
    }
}

/// A base's name and its changes, or why there are none to show.
type PerBase = (String, Result<BTreeMap<String, Change>, String>);

/// PEP 440 order where both versions parse; otherwise their text (never equal when they differ).
fn newer(a: &str, b: &str) -> bool {
    use pep508_rs::pep440_rs::Version;
    match (Version::from_str(a), Version::from_str(b)) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

/// The changes between the lock's resolution and the combined one, by distribution.
fn delta(lock: &JobRecord, combined: &JobRecord) -> BTreeMap<String, Change> {
    let before: BTreeMap<&str, &str> =
        lock.distributions.iter().map(|d| (d.name.as_str(), d.version.as_str())).collect();
    let after: BTreeMap<&str, &str> =
        combined.distributions.iter().map(|d| (d.name.as_str(), d.version.as_str())).collect();
    let mut out = BTreeMap::new();
    for (name, v) in &after {
        let c = match before.get(name) {
            None => Change::Added(v.to_string()),
            Some(old) if old == v => Change::Unchanged(v.to_string()),
            Some(old) if newer(v, old) => Change::Upgraded(old.to_string(), v.to_string()),
            Some(old) => Change::Downgraded(old.to_string(), v.to_string()),
        };
        out.insert(name.to_string(), c);
    }
    for (name, v) in &before {
        out.entry(name.to_string()).or_insert_with(|| Change::Removed(v.to_string()));
    }
    out
}

/// On one base: the changes, or why there are none to show.
fn per_base(lock: Option<&JobRecord>, combined: Option<&JobRecord>) -> Result<BTreeMap<String, Change>, String> {
    let (Some(lock), Some(combined)) = (lock, combined) else { return Err("not observed".into()) };
    let why = |j: &JobRecord| first_line(j.error.as_deref().unwrap_or(""));
    match (lock.outcome, combined.outcome) {
        (BuildOutcome::Installed, BuildOutcome::Installed) => Ok(delta(lock, combined)),
        (_, BuildOutcome::Conflict) => Err("the lock and the new requirements do not resolve together".into()),
        (BuildOutcome::Installed, _) => {
            Err(format!("the lock with the new requirements does not install: {}", why(combined)))
        }
        (_, _) => Err(format!("the lock alone does not install here: {}", why(lock))),
    }
}

/// The lock-change findings of a gate against `lock`, from the jobs of both sets on every base.
pub fn lock_findings(
    lock: &LockPlan,
    jobs: &[JobRecord],
    bases: &[Base],
    policy: &Policy,
    required: &BTreeMap<String, bool>,
) -> Vec<Finding> {
    let find = |dep: &str, base: &str| {
        let id = job_id(dep, base);
        jobs.iter().find(|j| j.id == id && j.outcome != BuildOutcome::InfraError)
    };
    let results: Vec<PerBase> = bases
        .iter()
        .filter(|b| !matches!(find(&lock.gated, &b.name), Some(j) if j.outcome == BuildOutcome::NotApplicable))
        .map(|b| (b.name.clone(), per_base(find(&lock.baseline.name, &b.name), find(&lock.gated, &b.name))))
        .collect();
    let mut drafts = changed_distributions(&results);
    drafts.push(whole(lock, &results));
    drafts.into_iter().map(|d| finalize(&lock.gated, d, policy, required, None)).collect()
}

/// One finding per distribution that moves on some base.
fn changed_distributions(results: &[PerBase]) -> Vec<Draft> {
    let mut by_dist: BTreeMap<&str, BTreeMap<String, &Change>> = BTreeMap::new();
    for (base, r) in results {
        for (dist, c) in r.iter().flatten() {
            by_dist.entry(dist).or_default().insert(base.clone(), c);
        }
    }
    let mut out = vec![];
    for (dist, per_base) in by_dist {
        let failing: Vec<String> =
            per_base.iter().filter(|(_, c)| !matches!(c, Change::Unchanged(_))).map(|(b, _)| b.clone()).collect();
        if failing.is_empty() {
            continue;
        }
        let evidence: BTreeMap<String, String> = per_base.iter().map(|(b, c)| (b.clone(), c.text())).collect();
        // Bases with the same change are named together: "downgraded 2.0 -> 1.0 on glibc, musl".
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (b, t) in &evidence {
            groups.entry(t.clone()).or_default().push(b);
        }
        let summary = format!(
            "{dist}, against the lock: {}",
            groups.iter().map(|(t, bs)| format!("{t} on {}", bs.join(", "))).collect::<Vec<_>>().join("; ")
        );
        out.push(Draft::new(FindingKind::LockChange, dist, summary, evidence, failing));
    }
    out
}

/// The whole set: per base what moved, or why nothing could be compared.
fn whole(lock: &LockPlan, results: &[PerBase]) -> Draft {
    let mut evidence = BTreeMap::new();
    let mut failing = vec![];
    let mut counts = vec![];
    for (base, r) in results {
        let text = match r {
            Ok(changes) => {
                let moved: Vec<String> = changes
                    .iter()
                    .filter(|(_, c)| !matches!(c, Change::Unchanged(_)))
                    .map(|(d, c)| format!("{d} {}", c.text()))
                    .collect();
                if !moved.is_empty() {
                    failing.push(base.clone());
                }
                counts.push(format!("{base} {} changed", moved.len()));
                if moved.is_empty() {
                    "no distribution of the lock's resolution changes".to_string()
                } else {
                    moved.join("; ")
                }
            }
            Err(why) => {
                counts.push(format!("{base} not compared"));
                why.clone()
            }
        };
        evidence.insert(base.clone(), text);
    }
    let summary = format!("against the lock {}: {}", lock.file.display(), counts.join(", "));
    let mut d = Draft::new(FindingKind::LockChange, "", summary, evidence, failing);
    if lock.hashes_dropped {
        for (base, _) in results {
            d.explanation.insert(
                base.clone(),
                vec![format!(
                    "the lock's hashes are checked by the lock-alone job ({}); the combined install runs without them, \
                     because the new requirements have none and pip's hash-checking mode covers a whole run or nothing",
                    job_id(&lock.baseline.name, base)
                )],
            );
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Distribution, Source};

    fn job(dep: &str, base: &str, outcome: BuildOutcome, dists: &[(&str, &str)]) -> JobRecord {
        JobRecord {
            id: job_id(dep, base),
            dependency: dep.into(),
            base: base.into(),
            requirement: String::new(),
            outcome,
            cached: false,
            reuse: String::new(),
            build_secs: 1.0,
            image: None,
            image_size: None,
            size_over_base: None,
            distributions: dists
                .iter()
                .map(|(n, v)| Distribution {
                    name: n.to_string(),
                    version: v.to_string(),
                    source: Source::Pure,
                    file: String::new(),
                    requested: false,
                })
                .collect(),
            log_tail: String::new(),
            error: (outcome != BuildOutcome::Installed)
                .then(|| "the requirements do not resolve\nB depends on A>=2".into()),
            probe: None,
            crash_depth: None,
            probe_cached: false,
            probe_secs: 0.0,
            source_builds: vec![],
            installer: None,
        }
    }

    fn base(name: &str) -> Base {
        Base {
            name: name.into(),
            image: String::new(),
            family: crate::matrix::Family::None,
            python: "python3".into(),
            packages: vec![],
            required: true,
            installer: Default::default(),
        }
    }

    fn plan(hashes: bool) -> LockPlan {
        let r = crate::matrix::Requirement::parse("a>=1").unwrap();
        LockPlan {
            file: "lock.txt".into(),
            baseline: crate::matrix::Dependency {
                name: "lock".into(),
                requirement: r,
                also: vec![],
                constraints: vec![],
                smoke: None,
                known_difference: None,
            },
            gated: "b".into(),
            hashes_dropped: hashes,
        }
    }

    #[test]
    fn added_upgraded_downgraded_and_removed_are_told_apart_per_base() {
        use BuildOutcome::*;
        let jobs = vec![
            job("lock", "glibc", Installed, &[("a", "2.0"), ("c", "1.0"), ("d", "1.0")]),
            job("b", "glibc", Installed, &[("a", "1.0"), ("b", "1.0"), ("c", "1.10"), ("e", "1")]),
            job("lock", "musl", Installed, &[("a", "2.0")]),
            job("b", "musl", Conflict, &[]),
        ];
        let policy = Policy::default();
        let required = BTreeMap::from([("glibc".to_string(), true), ("musl".to_string(), true)]);
        let f = lock_findings(&plan(true), &jobs, &[base("glibc"), base("musl")], &policy, &required);
        let by_id: BTreeMap<&str, &Finding> = f.iter().map(|f| (f.id.as_str(), f)).collect();
        assert_eq!(by_id["b/lock-change/a"].evidence["glibc"], "downgraded 2.0 -> 1.0");
        assert_eq!(by_id["b/lock-change/b"].evidence["glibc"], "added 1.0");
        // 1.10 is newer than 1.0 by PEP 440, not by text.
        assert_eq!(by_id["b/lock-change/c"].evidence["glibc"], "upgraded 1.0 -> 1.10");
        assert!(by_id["b/lock-change/d"].evidence["glibc"].starts_with("removed"));
        let all = by_id["b/lock-change/"];
        assert_eq!(all.failing, ["glibc"]);
        assert!(all.evidence["musl"].contains("do not resolve together"), "{all:?}");
        assert!(all.summary.contains("glibc 5 changed") && all.summary.contains("musl not compared"), "{all:?}");
        assert!(all.explanation["glibc"][0].contains("lock[glibc]"), "{all:?}");
        assert!(f.iter().all(|f| f.severity == crate::model::Severity::Info), "information, not a failure");
    }

    #[test]
    fn nothing_moves_when_the_new_requirement_is_already_in_the_resolution() {
        use BuildOutcome::*;
        let jobs =
            vec![job("lock", "glibc", Installed, &[("a", "2.0")]), job("b", "glibc", Installed, &[("a", "2.0")])];
        let f = lock_findings(&plan(false), &jobs, &[base("glibc")], &Policy::default(), &BTreeMap::new());
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].failing.is_empty() && f[0].explanation.is_empty(), "{f:?}");
        assert_eq!(f[0].evidence["glibc"], "no distribution of the lock's resolution changes");
    }
}
