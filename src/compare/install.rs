//! Rules about installing: on some bases only, not at all, past the time limit, from source,
//! and to different versions.

use std::collections::{BTreeMap, BTreeSet};

use super::{first_line, BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::model::{BuildOutcome, Source};

fn outcome_name(o: BuildOutcome) -> String {
    serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn install_evidence(rs: &[&BaseResult]) -> BTreeMap<String, String> {
    rs.iter()
        .map(|r| {
            let text = match r.job.outcome {
                BuildOutcome::Installed => "installed".to_string(),
                o => format!("{}: {}", outcome_name(o), first_line(r.job.error.as_deref().unwrap_or(""))),
            };
            (r.job.base.clone(), text)
        })
        .collect()
}

fn bases(rs: &[&BaseResult], f: impl Fn(&BaseResult) -> bool) -> Vec<String> {
    rs.iter().filter(|r| f(r)).map(|r| r.job.base.clone()).collect()
}

/// Installs on some bases and not on others.
pub fn install_differs(rs: &[&BaseResult]) -> Vec<Draft> {
    let ok = bases(rs, |r| r.job.outcome == BuildOutcome::Installed);
    let bad = bases(rs, |r| r.job.outcome != BuildOutcome::Installed);
    if ok.is_empty() || bad.is_empty() {
        return vec![];
    }
    let summary = format!("installs on {} but not on {}", ok.join(", "), bad.join(", "));
    vec![Draft::new(FindingKind::InstallDiffers, "", summary, install_evidence(rs), bad)]
}

/// The requirements do not resolve together on a base: pip's explanation for each such base.
pub fn conflict(rs: &[&BaseResult]) -> Vec<Draft> {
    let bad = bases(rs, |r| r.job.outcome == BuildOutcome::Conflict);
    if bad.is_empty() {
        return vec![];
    }
    let summary = format!("the requirements do not resolve together on {}", bad.join(", "));
    let mut d = Draft::new(FindingKind::Conflict, "", summary, install_evidence(rs), bad);
    for r in rs.iter().filter(|r| r.job.outcome == BuildOutcome::Conflict) {
        // The first line says "do not resolve"; pip's own lines follow.
        let lines: Vec<String> = r.job.error.as_deref().unwrap_or("").lines().skip(1).map(str::to_string).collect();
        d.explanation.insert(r.job.base.clone(), lines);
    }
    vec![d]
}

/// A build stopped at its time limit: never a pass, on one base or on all.
pub fn build_timeout(rs: &[&BaseResult]) -> Vec<Draft> {
    let timed = bases(rs, |r| r.job.outcome == BuildOutcome::Timeout);
    if timed.is_empty() {
        return vec![];
    }
    let summary = format!("the build timed out on {}", timed.join(", "));
    vec![Draft::new(FindingKind::Timeout, "build", summary, install_evidence(rs), timed)]
}

/// Installs nowhere: a failure of the dependency, not a difference. Where every base failed
/// for a resolution conflict, the `conflict` finding is that one cause already.
pub fn fails_to_install(rs: &[&BaseResult]) -> Vec<Draft> {
    if rs.iter().any(|r| r.job.outcome == BuildOutcome::Installed)
        || rs.iter().all(|r| r.job.outcome == BuildOutcome::Conflict)
    {
        return vec![];
    }
    let bad = bases(rs, |_| true);
    let summary = format!("does not install on any base ({})", bad.join(", "));
    vec![Draft::new(FindingKind::Fails, "install", summary, install_evidence(rs), bad)]
}

/// A distribution built from an sdist: on some bases while others take a wheel, or on all
/// (the build time, the compiler and the headers a base needs). It fails the bases that build.
/// The evidence is what was observed: each source build's time, the compiler the base offers,
/// and the first error line of a failed build; on a base that took a wheel, the install's time.
pub fn source_build(rs: &[&BaseResult]) -> Vec<Draft> {
    let mut sources: BTreeMap<String, BTreeMap<String, (Source, String)>> = BTreeMap::new();
    for r in rs {
        for d in &r.job.distributions {
            sources.entry(d.name.clone()).or_default().insert(r.job.base.clone(), (d.source, d.file.clone()));
        }
    }
    let mut out = vec![];
    for (dist, per_base) in &sources {
        let sdist: Vec<String> =
            per_base.iter().filter(|(_, (s, _))| *s == Source::Sdist).map(|(b, _)| b.clone()).collect();
        let wheel: Vec<String> =
            per_base.iter().filter(|(_, (s, _))| *s != Source::Sdist).map(|(b, _)| b.clone()).collect();
        if !sdist.is_empty() {
            let evidence = per_base
                .iter()
                .map(|(b, (s, f))| {
                    let r = rs.iter().find(|r| &r.job.base == b).expect("a base of these results");
                    (b.clone(), source_evidence(r, dist, *s, f))
                })
                .collect();
            let summary = if wheel.is_empty() {
                format!("{dist} is built from source on every base ({})", sdist.join(", "))
            } else {
                format!(
                    "{dist} is built from source on {} but installed from a wheel on {}",
                    sdist.join(", "),
                    wheel.join(", ")
                )
            };
            out.push(Draft::new(FindingKind::SourceBuild, dist.clone(), summary, evidence, sdist));
        }
    }
    out
}

/// One base's evidence for a distribution's source (see [`source_build`]).
fn source_evidence(r: &BaseResult, dist: &str, source: Source, file: &str) -> String {
    let kind = serde_json::to_value(source).unwrap().as_str().unwrap_or("").to_string();
    if source != Source::Sdist {
        return match r.job.outcome {
            BuildOutcome::Installed if r.job.build_secs > 0.0 => {
                format!("{kind} ({file}); the install took {:.1} s", r.job.build_secs)
            }
            _ => format!("{kind} ({file})"),
        };
    }
    let compiler = r.compiler.map(|c| format!("; C compiler: {c}")).unwrap_or_default();
    match r.job.source_builds.iter().find(|b| b.distribution == dist) {
        Some(b) if b.from_cache => format!(
            "built from source ({file}) before: pip's cache had the wheel it built ({}), so this run did not pay the build{compiler}",
            b.file
        ),
        Some(b) if b.ok => format!("built from source ({file}) in {:.1} s{compiler}", b.secs),
        Some(b) => format!(
            "the source build ({file}) failed after {:.1} s: {}{compiler}",
            b.secs,
            b.error.as_deref().unwrap_or("no error line found")
        ),
        None => format!("{kind} ({file}){compiler}"),
    }
}

/// Any distribution of the installed tree at different versions (or missing) between bases.
pub fn version_differs(installed: &[&BaseResult]) -> Vec<Draft> {
    let mut versions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in installed {
        for d in &r.job.distributions {
            versions.entry(d.name.clone()).or_default().insert(r.job.base.clone(), d.version.clone());
        }
    }
    let mut out = vec![];
    for (dist, per_base) in &versions {
        let distinct: BTreeSet<&String> = per_base.values().collect();
        let missing: Vec<&str> =
            installed.iter().map(|r| r.job.base.as_str()).filter(|b| !per_base.contains_key(*b)).collect();
        if distinct.len() > 1 || !missing.is_empty() {
            let mut evidence: BTreeMap<String, String> = per_base.clone();
            for m in &missing {
                evidence.insert(m.to_string(), "not installed".into());
            }
            let all: Vec<String> = evidence.keys().cloned().collect();
            let summary = format!(
                "{dist} resolves differently: {}",
                evidence.iter().map(|(b, v)| format!("{b} {v}")).collect::<Vec<_>>().join(", ")
            );
            out.push(Draft::new(FindingKind::VersionDiffers, dist.clone(), summary, evidence, all));
        }
    }
    out
}
