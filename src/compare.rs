//! Results across bases -> findings and verdicts. Pure functions of observed records: nothing
//! here knows what musl or glibc "should" do; it only says where the bases differ.

use std::collections::{BTreeMap, BTreeSet};

use crate::kinds::FindingKind;
use crate::matrix::{Dependency, Policy};
use crate::report::model::{BuildOutcome, CheckOutcome, Finding, JobRecord, ProbeSection, Severity, Source, Verdict};

/// Per-base inputs for one dependency: the job record and whether that base is required.
pub struct BaseResult<'a> {
    pub job: &'a JobRecord,
    pub required: bool,
}

/// Ratios at or above these become informational findings.
const BUILD_TIME_RATIO: f64 = 3.0;
const SIZE_RATIO: f64 = 2.0;

struct Builder<'a> {
    dep: &'a Dependency,
    policy: &'a Policy,
    required: BTreeMap<String, bool>,
    findings: Vec<Finding>,
}

impl Builder<'_> {
    /// Adds a finding; `bad` are the bases on the failing side, which decide whether it blocks.
    fn add(&mut self, kind: FindingKind, summary: String, evidence: BTreeMap<String, String>, bad: &[&str]) {
        let known = self
            .dep
            .known_difference
            .as_ref()
            .filter(|k| k.kinds.contains(&kind))
            .map(|k| k.reason.clone());
        let involves_required = bad.iter().any(|b| self.required.get(*b).copied().unwrap_or(false));
        let severity = if self.policy.blocking.contains(&kind) && known.is_none() && involves_required {
            Severity::Blocking
        } else {
            Severity::Info
        };
        self.findings.push(Finding { subject: self.dep.name.clone(), kind, severity, summary, evidence, known });
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    if l.chars().count() > 200 {
        format!("{}…", l.chars().take(200).collect::<String>())
    } else {
        l.to_string()
    }
}

fn outcome_text(o: &CheckOutcome) -> String {
    match o {
        CheckOutcome::Error { message } => format!("error: {}", first_line(message)),
        other => other.label(),
    }
}

/// Findings for one dependency across its bases (in matrix order).
pub fn dependency_findings(dep: &Dependency, policy: &Policy, results: &[BaseResult]) -> Vec<Finding> {
    let mut b = Builder {
        dep,
        policy,
        required: results.iter().map(|r| (r.job.base.clone(), r.required)).collect(),
        findings: vec![],
    };
    let considered: Vec<&BaseResult> =
        results.iter().filter(|r| !matches!(r.job.outcome, BuildOutcome::InfraError | BuildOutcome::NotApplicable)).collect();
    if considered.is_empty() {
        return vec![];
    }
    let installed: Vec<&BaseResult> = considered.iter().copied().filter(|r| r.job.outcome == BuildOutcome::Installed).collect();
    let not_installed: Vec<&BaseResult> = considered.iter().copied().filter(|r| r.job.outcome != BuildOutcome::Installed).collect();

    // Installs on one base only / times out / fails everywhere.
    let install_evidence = |rs: &[&BaseResult]| -> BTreeMap<String, String> {
        rs.iter()
            .map(|r| {
                let text = match r.job.outcome {
                    BuildOutcome::Installed => "installed".to_string(),
                    o => format!("{}: {}", serde_json::to_value(o).unwrap().as_str().unwrap_or(""), first_line(r.job.error.as_deref().unwrap_or(""))),
                };
                (r.job.base.clone(), text)
            })
            .collect()
    };
    let names = |rs: &[&BaseResult]| rs.iter().map(|r| r.job.base.clone()).collect::<Vec<_>>();
    if !installed.is_empty() && !not_installed.is_empty() {
        let bad = names(&not_installed);
        let bad_ref: Vec<&str> = bad.iter().map(String::as_str).collect();
        b.add(
            FindingKind::InstallDiffers,
            format!("installs on {} but not on {}", names(&installed).join(", "), bad.join(", ")),
            install_evidence(&considered),
            &bad_ref,
        );
        let timed: Vec<&str> = not_installed.iter().filter(|r| r.job.outcome == BuildOutcome::Timeout).map(|r| r.job.base.as_str()).collect();
        if !timed.is_empty() {
            b.add(FindingKind::Timeout, format!("the build timed out on {}", timed.join(", ")), install_evidence(&considered), &timed);
        }
    } else if installed.is_empty() {
        let bad = names(&not_installed);
        let bad_ref: Vec<&str> = bad.iter().map(String::as_str).collect();
        b.add(FindingKind::Fails, format!("does not install on any base ({})", bad.join(", ")), install_evidence(&considered), &bad_ref);
    }

    // Source builds: a distribution built from an sdist on some bases and a wheel on others.
    let mut sources: BTreeMap<String, BTreeMap<String, (Source, String)>> = BTreeMap::new();
    for r in &considered {
        for d in &r.job.distributions {
            sources.entry(d.name.clone()).or_default().insert(r.job.base.clone(), (d.source, d.file.clone()));
        }
    }
    for (dist, per_base) in &sources {
        let sdist: Vec<&str> = per_base.iter().filter(|(_, (s, _))| *s == Source::Sdist).map(|(b, _)| b.as_str()).collect();
        let wheel: Vec<&str> = per_base.iter().filter(|(_, (s, _))| *s != Source::Sdist).map(|(b, _)| b.as_str()).collect();
        if !sdist.is_empty() && !wheel.is_empty() {
            let evidence = per_base.iter().map(|(b, (s, f))| (b.clone(), format!("{} ({f})", serde_json::to_value(s).unwrap().as_str().unwrap_or("")))).collect();
            b.add(FindingKind::SourceBuild, format!("{dist} is built from source on {} but installed from a wheel on {}", sdist.join(", "), wheel.join(", ")), evidence, &sdist);
        }
    }

    // Different resolved versions anywhere in the tree.
    let mut versions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in &installed {
        for d in &r.job.distributions {
            versions.entry(d.name.clone()).or_default().insert(r.job.base.clone(), d.version.clone());
        }
    }
    for (dist, per_base) in &versions {
        let distinct: BTreeSet<&String> = per_base.values().collect();
        let missing: Vec<&str> = installed.iter().map(|r| r.job.base.as_str()).filter(|b| !per_base.contains_key(*b)).collect();
        if distinct.len() > 1 || (!missing.is_empty() && per_base.len() < installed.len()) {
            let mut evidence: BTreeMap<String, String> = per_base.clone();
            for m in &missing {
                evidence.insert(m.to_string(), "not installed".into());
            }
            let all: Vec<&str> = evidence.keys().map(String::as_str).collect();
            b.add(FindingKind::VersionDiffers, format!("{dist} resolves differently: {}", evidence.iter().map(|(b, v)| format!("{b} {v}")).collect::<Vec<_>>().join(", ")), evidence.clone(), &all);
        }
    }

    // Imports, smoke, crashes, foreign libc: only between bases where it installed.
    let probed: Vec<&BaseResult> = installed.iter().copied().filter(|r| r.job.probe.is_some()).collect();
    let mut modules: BTreeSet<&String> = BTreeSet::new();
    for r in &probed {
        modules.extend(r.job.probe.as_ref().unwrap().imports.keys());
    }
    let mut crash_bases: BTreeSet<String> = BTreeSet::new();
    let mut crash_evidence: BTreeMap<String, String> = BTreeMap::new();
    for m in modules {
        let per: Vec<(&str, CheckOutcome)> = probed
            .iter()
            .map(|r| {
                let o = r.job.probe.as_ref().unwrap().imports.get(m).cloned().unwrap_or(CheckOutcome::Skipped { message: "module not present".into() });
                (r.job.base.as_str(), o)
            })
            .collect();
        for (base, o) in &per {
            if let CheckOutcome::Crash { name, .. } = o {
                crash_bases.insert(base.to_string());
                crash_evidence.insert(base.to_string(), format!("import {m}: {name}"));
            }
        }
        let ok: Vec<&str> = per.iter().filter(|(_, o)| o.is_ok()).map(|(b, _)| *b).collect();
        let bad: Vec<&str> = per.iter().filter(|(_, o)| !o.is_ok()).map(|(b, _)| *b).collect();
        if !ok.is_empty() && !bad.is_empty() {
            let evidence = per.iter().map(|(b, o)| (b.to_string(), outcome_text(o))).collect();
            b.add(FindingKind::ImportDiffers, format!("import {m} works on {} but not on {}", ok.join(", "), bad.join(", ")), evidence, &bad);
        } else if ok.is_empty() && !bad.is_empty() {
            // Failing wherever it is installed: a failure of the dependency, not a difference.
            // A directly imported extension submodule that raises (circular imports) is the
            // package's own affair; a top-level module, a crash or a hang is not.
            let top_level = probed.iter().any(|r| r.job.probe.as_ref().unwrap().top_level.contains(m));
            let hard = per.iter().any(|(_, o)| matches!(o, CheckOutcome::Crash { .. } | CheckOutcome::Timeout));
            if top_level || hard {
                let evidence = per.iter().map(|(b, o)| (b.to_string(), outcome_text(o))).collect();
                b.add(FindingKind::Fails, format!("import {m} fails wherever it is installed ({})", bad.join(", ")), evidence, &bad);
            }
        }
    }
    let smokes: Vec<(&str, CheckOutcome, Option<String>)> = probed
        .iter()
        .filter_map(|r| {
            let p = r.job.probe.as_ref().unwrap();
            p.smoke.clone().map(|s| (r.job.base.as_str(), s, p.smoke_output.clone()))
        })
        .collect();
    {
        let ok: Vec<&str> = smokes.iter().filter(|(_, o, _)| o.is_ok()).map(|(b, _, _)| *b).collect();
        let bad: Vec<&str> = smokes.iter().filter(|(_, o, _)| !o.is_ok()).map(|(b, _, _)| *b).collect();
        for (base, o, _) in &smokes {
            if let CheckOutcome::Crash { name, .. } = o {
                crash_bases.insert(base.to_string());
                crash_evidence.insert(base.to_string(), format!("smoke: {name}"));
            }
        }
        let evidence: BTreeMap<String, String> = smokes.iter().map(|(b, o, _)| (b.to_string(), outcome_text(o))).collect();
        if !ok.is_empty() && !bad.is_empty() {
            b.add(FindingKind::SmokeDiffers, format!("the smoke test passes on {} but not on {}", ok.join(", "), bad.join(", ")), evidence, &bad);
        } else if ok.is_empty() && !bad.is_empty() {
            b.add(FindingKind::Fails, format!("the smoke test fails wherever it is installed ({})", bad.join(", ")), evidence, &bad);
        }
    }
    if !crash_bases.is_empty() && crash_bases.len() < probed.len() {
        let bad: Vec<&str> = crash_bases.iter().map(String::as_str).collect();
        b.add(FindingKind::Crash, format!("crashes on {} only", bad.join(", ")), crash_evidence, &bad);
    }
    for r in &probed {
        let foreign: Vec<&str> = r.job.probe.as_ref().unwrap().extensions.iter().filter(|e| e.foreign_libc).map(|e| e.path.as_str()).collect();
        if !foreign.is_empty() {
            let evidence = BTreeMap::from([(r.job.base.clone(), format!("linked against another libc: {}", foreign.join(", ")))]);
            b.add(FindingKind::ForeignLibc, format!("{} extension module(s) on {} are linked against another libc", foreign.len(), r.job.base), evidence, &[r.job.base.as_str()]);
        }
    }

    // Ratios (informational unless the policy says otherwise).
    ratio_finding(&mut b, FindingKind::BuildTime, BUILD_TIME_RATIO, &installed, |r| Some(r.job.build_secs).filter(|s| *s > 5.0), |v| format!("{v:.1} s"));
    ratio_finding(&mut b, FindingKind::Size, SIZE_RATIO, &installed, |r| r.job.size_over_base.filter(|s| *s > 1_000_000).map(|s| s as f64), |v| format!("{:.1} MB", v / 1e6));
    b.findings
}

fn ratio_finding(b: &mut Builder, kind: FindingKind, threshold: f64, rs: &[&BaseResult], value: impl Fn(&BaseResult) -> Option<f64>, show: impl Fn(f64) -> String) {
    let vals: Vec<(&str, f64)> = rs.iter().filter_map(|r| value(r).map(|v| (r.job.base.as_str(), v))).collect();
    if vals.len() < 2 {
        return;
    }
    let (min_b, min) = vals.iter().copied().fold(("", f64::MAX), |a, x| if x.1 < a.1 { x } else { a });
    let (max_b, max) = vals.iter().copied().fold(("", f64::MIN), |a, x| if x.1 > a.1 { x } else { a });
    if min > 0.0 && max / min >= threshold {
        let evidence = vals.iter().map(|(b, v)| (b.to_string(), show(*v))).collect();
        let what = if kind == FindingKind::BuildTime { "build time" } else { "installed size" };
        b.add(kind, format!("{what} on {max_b} is {:.1}x that on {min_b}", max / min), evidence, &[max_b]);
    }
}

/// Pass/fail of a dependency on each base, with reasons, from what was observed there.
pub fn verdicts(dep: &Dependency, policy: &Policy, results: &[BaseResult]) -> Vec<Verdict> {
    results
        .iter()
        .map(|r| {
            let j = r.job;
            let mut reasons = vec![];
            match j.outcome {
                BuildOutcome::Installed | BuildOutcome::NotApplicable => {}
                BuildOutcome::InfraError => reasons.push(format!("not run: {}", first_line(j.error.as_deref().unwrap_or("infrastructure error")))),
                BuildOutcome::Timeout => reasons.push("build timed out".to_string()),
                BuildOutcome::InstallFailed => reasons.push(format!("install failed: {}", first_line(j.error.as_deref().unwrap_or("")))),
            }
            if policy.source_builds_fail {
                for d in j.distributions.iter().filter(|d| d.source == Source::Sdist) {
                    reasons.push(format!("{} {} built from source ({})", d.name, d.version, d.file));
                }
            }
            if let Some(p) = &j.probe {
                // Importing an extension submodule directly can fail for reasons of the package's
                // own (circular imports): only top-level modules, crashes and time-outs decide.
                for (m, o) in p.imports.iter().filter(|(m, o)| match o {
                    CheckOutcome::Error { .. } => p.top_level.contains(*m),
                    other => !other.is_ok(),
                }) {
                    reasons.push(format!("import {m}: {}", outcome_text(o)));
                }
                if let Some(s) = p.smoke.as_ref().filter(|s| !s.is_ok()) {
                    reasons.push(format!("smoke test: {}", outcome_text(s)));
                }
                for e in p.extensions.iter().filter(|e| e.foreign_libc) {
                    reasons.push(format!("{} is linked against another libc", e.path));
                }
                for e in &p.protocol_errors {
                    reasons.push(format!("probe: {}", first_line(e)));
                }
            }
            Verdict { dependency: dep.name.clone(), base: j.base.clone(), pass: reasons.is_empty(), required: r.required, reasons }
        })
        .collect()
}

/// Findings for a per-base probe section (profile or resolver): one per check whose normalised
/// observation differs between bases. `normalise` drops what is expected to vary run to run
/// (timings, ports).
pub fn section_findings(subject: &str, kind: FindingKind, sections: &[ProbeSection], normalise: impl Fn(&str, &serde_json::Value) -> serde_json::Value) -> Vec<Finding> {
    let mut checks: BTreeSet<&String> = BTreeSet::new();
    for s in sections {
        checks.extend(s.checks.keys());
    }
    let mut out = vec![];
    for c in checks {
        if c == "libc" {
            continue;
        }
        let per: Vec<(&str, serde_json::Value, String)> = sections
            .iter()
            .map(|s| match s.checks.get(c) {
                Some(o) => {
                    let v = serde_json::json!({"status": o.status, "value": normalise(c, &o.value)});
                    (s.base.as_str(), v, summarise(&o.status, &o.value, o.message.as_deref()))
                }
                None => (s.base.as_str(), serde_json::Value::Null, "not observed".into()),
            })
            .collect();
        let distinct: BTreeSet<String> = per.iter().map(|(_, v, _)| v.to_string()).collect();
        if distinct.len() > 1 {
            out.push(Finding {
                subject: subject.to_string(),
                kind,
                severity: Severity::Info,
                summary: format!("{c} differs"),
                evidence: per.into_iter().map(|(b, _, s)| (b.to_string(), s)).collect(),
                known: None,
            });
        }
    }
    out
}

/// Per dependency: the thread crash depth observed with it imported, where it differs between
/// bases (informational: the base profile already says the stacks differ; this says how much
/// room the dependency leaves).
pub fn crash_depth_findings(jobs: &[JobRecord]) -> Vec<Finding> {
    let mut by_dep: BTreeMap<&str, Vec<&JobRecord>> = BTreeMap::new();
    for j in jobs.iter().filter(|j| j.crash_depth.is_some()) {
        by_dep.entry(j.dependency.as_str()).or_default().push(j);
    }
    let mut out = vec![];
    for (dep, js) in by_dep {
        let describe = |j: &JobRecord| {
            let v = &j.crash_depth.as_ref().unwrap().value;
            let fail = v["failure"]["signal_name"].as_str().or(v["failure"]["exception"].as_str()).unwrap_or("none");
            (v["max_ok_depth"].as_i64(), fail.to_string())
        };
        let distinct: BTreeSet<(Option<i64>, String)> = js.iter().map(|j| describe(j)).collect();
        if distinct.len() > 1 {
            out.push(Finding {
                subject: dep.to_string(),
                kind: FindingKind::Behaviour,
                severity: Severity::Info,
                summary: "thread crash depth with it imported differs".into(),
                evidence: js
                    .iter()
                    .map(|j| {
                        let (d, f) = describe(j);
                        (j.base.clone(), format!("json.dumps in a thread survives depth {}, then {f}", d.map(|d| d.to_string()).unwrap_or_else(|| "?".into())))
                    })
                    .collect(),
                known: None,
            });
        }
    }
    out
}

/// A short text for an observation.
pub fn summarise(status: &str, value: &serde_json::Value, message: Option<&str>) -> String {
    let v = value.to_string();
    let v = if v.chars().count() > 160 { format!("{}…", v.chars().take(160).collect::<String>()) } else { v };
    match (status, message) {
        ("ok", _) => v,
        (s, Some(m)) => format!("{s}: {}", first_line(m)),
        (s, None) => format!("{s}: {v}"),
    }
}

#[cfg(test)]
mod tests;
