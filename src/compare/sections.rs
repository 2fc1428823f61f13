//! Rules about the per-base sections (libc profile, resolver profile) and the crash depth of
//! each dependency measured against its own base's.

use std::collections::{BTreeMap, BTreeSet};

use super::words::{self, Side};
use super::{finalize, Draft};
use crate::kinds::{FindingKind, SectionKind};
use crate::matrix::Policy;
use crate::model::{Completion, Finding, JobRecord, Observation, ProbeSection};
use crate::probe::checks;
use crate::probe::sections::json_thread_depth;

/// A dependency's crash depth differs "materially" from its base's own when it moves by more
/// than this fraction: the depth is found by bisection and wobbles a little run to run.
const MATERIAL_DEPTH_CHANGE: f64 = 0.25;

/// One finding per check whose normalised observation differs between bases. `normalise`
/// drops what varies run to run (timings, ports). Checks a base did not report because its
/// probe was cut short are not compared (the section's own `incomplete` finding says so).
pub fn section_findings(
    section: &SectionKind,
    sections: &[ProbeSection],
    policy: &Policy,
    required: &BTreeMap<String, bool>,
    normalise: impl Fn(&str, &serde_json::Value) -> serde_json::Value,
) -> Vec<Finding> {
    let complete: Vec<&ProbeSection> = sections.iter().filter(|s| s.completion.is_complete()).collect();
    let mut ids: BTreeSet<&String> = BTreeSet::new();
    for s in &complete {
        ids.extend(s.checks.keys());
    }
    let mut out = vec![];
    for c in ids {
        if c == checks::LIBC || c == checks::END {
            continue;
        }
        let per: Vec<(&str, Option<&Observation>, serde_json::Value)> = complete
            .iter()
            .map(|s| match s.checks.get(c) {
                Some(o) => {
                    let v = serde_json::json!({"status": o.status, "value": normalise(c, &o.value)});
                    (s.base.as_str(), Some(o), v)
                }
                None => (s.base.as_str(), None, serde_json::Value::Null),
            })
            .collect();
        let distinct: BTreeSet<String> = per.iter().map(|(_, _, v)| v.to_string()).collect();
        if distinct.len() > 1 {
            let sides: Vec<Side> = per.iter().map(|(b, o, v)| Side { base: b, observed: *o, compared: v }).collect();
            let summary = words::difference(c, &sides);
            let all: Vec<String> = per.iter().map(|(b, _, _)| b.to_string()).collect();
            // The evidence is the raw observation: the summary has the words.
            let evidence = per
                .iter()
                .map(|(b, o, _)| (b.to_string(), o.map(|o| o.summary()).unwrap_or_else(|| "not observed".into())))
                .collect();
            let d = Draft::new(section.finding, c.clone(), summary, evidence, all);
            out.push(finalize(section.subject, d, policy, required, None));
        }
    }
    out
}

/// A section whose probe did not finish fails its base.
pub fn incomplete_section_findings(
    subject: &str,
    sections: &[ProbeSection],
    policy: &Policy,
    required: &BTreeMap<String, bool>,
) -> Vec<Finding> {
    sections
        .iter()
        .filter(|s| !s.completion.is_complete())
        .map(|s| {
            let kind = if matches!(s.completion, Completion::TimedOut { .. }) {
                FindingKind::Timeout
            } else {
                FindingKind::Incomplete
            };
            let evidence = BTreeMap::from([(s.base.clone(), s.completion.describe())]);
            let summary = format!(
                "the {} probe did not finish on {}: {}",
                subject.trim_matches(['<', '>']),
                s.base,
                s.completion.describe()
            );
            finalize(
                subject,
                Draft::new(kind, s.base.clone(), summary, evidence, vec![s.base.clone()]),
                policy,
                required,
                None,
            )
        })
        .collect()
}

/// Per dependency: the thread crash depth with it imported, where it differs materially from
/// the same base's own depth (the base profile already says how the bases differ; this says
/// what the dependency changes). Informational.
pub fn dependency_depth_findings(
    jobs: &[JobRecord],
    profile: &[ProbeSection],
    policy: &Policy,
    required: &BTreeMap<String, bool>,
) -> Vec<Finding> {
    let own: BTreeMap<&str, i64> =
        profile.iter().filter_map(|s| json_thread_depth(s).map(|d| (s.base.as_str(), d))).collect();
    let mut by_dep: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    let mut failing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for j in jobs {
        let (Some(obs), Some(&base_depth)) = (j.crash_depth.as_ref(), own.get(j.base.as_str())) else { continue };
        let Some(depth) = obs.value["max_ok_depth"].as_i64() else { continue };
        if base_depth <= 0 {
            continue;
        }
        let change = (depth - base_depth) as f64 / base_depth as f64;
        if change.abs() > MATERIAL_DEPTH_CHANGE {
            by_dep.entry(j.dependency.as_str()).or_default().insert(
                j.base.clone(),
                format!(
                    "json.dumps in a thread survives depth {depth} with it imported, {base_depth} without ({:+.0}%)",
                    change * 100.0
                ),
            );
            failing.entry(j.dependency.as_str()).or_default().push(j.base.clone());
        }
    }
    by_dep
        .into_iter()
        .map(|(dep, evidence)| {
            let bases = failing.remove(dep).unwrap_or_default();
            let summary = format!("importing it changes the thread crash depth on {}", bases.join(", "));
            finalize(
                dep,
                Draft::new(FindingKind::Behaviour, "crash-depth", summary, evidence, bases),
                policy,
                required,
                None,
            )
        })
        .collect()
}
