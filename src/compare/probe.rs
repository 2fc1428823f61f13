//! Rules about what the probes observed in installed jobs: probes that did not finish, imports
//! (differences, failures, optional integrations, pure-Python fallbacks), the smoke script in
//! the main thread and in a worker thread, crashes, and foreign-libc linkage.

use std::collections::{BTreeMap, BTreeSet};

use super::{outcome_text, BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::model::{CheckOutcome, Completion, WheelProbe};

fn probe_of<'a>(r: &'a BaseResult) -> &'a WheelProbe {
    r.job.probe.as_ref().expect("a probed job")
}

/// A probe that did not say everything it planned fails its base: `timeout` when it was
/// stopped at its time limit, `incomplete` otherwise. One finding per kind, naming every base
/// it happened on (its id is the same on one base or on all).
pub fn incomplete(probed: &[&BaseResult]) -> Vec<Draft> {
    let mut by_kind: BTreeMap<FindingKind, BTreeMap<String, String>> = BTreeMap::new();
    for r in probed {
        let c = &probe_of(r).completion;
        if c.is_complete() {
            continue;
        }
        let kind =
            if matches!(c, Completion::TimedOut { .. }) { FindingKind::Timeout } else { FindingKind::Incomplete };
        by_kind.entry(kind).or_default().insert(r.job.base.clone(), c.describe());
    }
    by_kind
        .into_iter()
        .map(|(kind, evidence)| {
            let failing: Vec<String> = evidence.keys().cloned().collect();
            let what = evidence.iter().map(|(b, e)| format!("{b}: {e}")).collect::<Vec<_>>().join("; ");
            Draft::new(
                kind,
                "probe",
                format!("the probe did not finish on {}: {what}", failing.join(", ")),
                evidence,
                failing,
            )
        })
        .collect()
}

/// How one module fared on one base whose probe finished.
#[derive(Clone, PartialEq)]
enum Seen {
    Ok,
    /// Not reported: the module is not in that base's installed tree.
    Absent,
    Optional,
    Failed,
    /// A crash or a hang.
    Hard,
}

fn seen(o: Option<&CheckOutcome>) -> Seen {
    match o {
        None => Seen::Absent,
        Some(o) if o.is_ok() => Seen::Ok,
        Some(CheckOutcome::MissingOptional { .. }) => Seen::Optional,
        Some(CheckOutcome::Crash { .. } | CheckOutcome::Timeout) => Seen::Hard,
        Some(_) => Seen::Failed,
    }
}

/// Whether the distribution's top-level modules all import on this base (and it has some).
fn package_imports(p: &WheelProbe, dist: &str) -> bool {
    let tops: Vec<&String> =
        p.top_level.iter().filter(|m| p.module_dist.get(*m).map(String::as_str) == Some(dist)).collect();
    !tops.is_empty() && tops.iter().all(|m| p.imports.get(*m).is_some_and(|o| o.is_ok()))
}

fn describe(r: &BaseResult, m: &str) -> String {
    match probe_of(r).imports.get(m) {
        Some(o) => outcome_text(o),
        None => "not present".into(),
    }
}

/// What one module's outcomes across the bases amount to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Fallback,
    Differs,
    Crash,
    Optional,
    Fails,
    /// Fails the same way on every base, in a distribution that is not the requirement's own.
    Transitive,
}

/// Imports, between bases whose probe finished. Modules of one distribution that fail the same
/// way on the same bases are one finding (one cause), listing the modules, with what explains
/// the failure on each failing base.
pub fn imports(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut modules: BTreeSet<&String> = BTreeSet::new();
    for r in observed {
        modules.extend(probe_of(r).imports.keys());
    }
    // (class, distribution, failing bases, how each base fared) -> modules, evidence
    type Key = (Class, String, Vec<String>, Vec<String>);
    let mut groups: BTreeMap<Key, (Vec<String>, BTreeMap<String, String>)> = BTreeMap::new();
    let mut add = |class: Class, dist: &str, failing: Vec<String>, m: &str, evidence: &BTreeMap<String, String>| {
        let how: Vec<String> = evidence.values().map(|v| v.split(':').next().unwrap_or("").to_string()).collect();
        let e = groups.entry((class, dist.to_string(), failing, how)).or_insert_with(|| (vec![], evidence.clone()));
        e.0.push(m.to_string());
    };
    for m in modules {
        let per: Vec<(&BaseResult, Seen)> = observed.iter().map(|r| (*r, seen(probe_of(r).imports.get(m)))).collect();
        let evidence: BTreeMap<String, String> =
            per.iter().map(|(r, _)| (r.job.base.clone(), describe(r, m))).collect();
        let top_level = observed.iter().any(|r| probe_of(r).top_level.contains(m));
        let dist = observed.iter().find_map(|r| probe_of(r).module_dist.get(m).cloned()).unwrap_or_default();
        let ok: Vec<String> = per.iter().filter(|(_, s)| *s == Seen::Ok).map(|(r, _)| r.job.base.clone()).collect();
        let bad: Vec<&(&BaseResult, Seen)> = per.iter().filter(|(_, s)| *s != Seen::Ok).collect();
        if bad.is_empty() {
            continue;
        }
        if !ok.is_empty() {
            // A compiled submodule that works on one base and is absent or raises on another
            // while its package still imports there: the package silently takes its slow path.
            let fallback: Vec<String> = bad
                .iter()
                .filter(|(r, s)| {
                    !top_level
                        && matches!(s, Seen::Absent | Seen::Failed | Seen::Optional)
                        && package_imports(probe_of(r), &dist)
                })
                .map(|(r, _)| r.job.base.clone())
                .collect();
            if !fallback.is_empty() {
                add(Class::Fallback, &dist, fallback.clone(), m, &evidence);
            }
            // An extension simply not in the tree on a base where its package fails too is
            // covered by the package's own finding.
            let rest: Vec<&&(&BaseResult, Seen)> = bad
                .iter()
                .filter(|(r, s)| !fallback.contains(&r.job.base) && (top_level || *s != Seen::Absent))
                .collect();
            let crashed: Vec<String> =
                rest.iter().filter(|(_, s)| *s == Seen::Hard).map(|(r, _)| r.job.base.clone()).collect();
            let other: Vec<String> =
                rest.iter().filter(|(_, s)| *s != Seen::Hard).map(|(r, _)| r.job.base.clone()).collect();
            if !crashed.is_empty() {
                add(Class::Crash, &dist, crashed, m, &evidence);
            }
            if !other.is_empty() {
                add(Class::Differs, &dist, other, m, &evidence);
            }
            continue;
        }
        // Not working anywhere it is present.
        let present: Vec<&&(&BaseResult, Seen)> = bad.iter().filter(|(_, s)| *s != Seen::Absent).collect();
        let names: Vec<String> = present.iter().map(|(r, _)| r.job.base.clone()).collect();
        if present.is_empty() {
            continue;
        }
        if present.iter().all(|(_, s)| *s == Seen::Optional) {
            add(Class::Optional, &dist, names, m, &evidence);
        } else if top_level || present.iter().any(|(_, s)| *s == Seen::Hard) {
            // A directly imported extension submodule that raises everywhere (circular imports)
            // is the package's own affair; a top-level module, a crash or a hang is not. An
            // error identical on every base, in a distribution the requirement pulls in, is
            // neither a difference nor the requirement's failure: information, said as such.
            let identical = present.len() == observed.len()
                && present.iter().all(|(_, s)| *s == Seen::Failed)
                && evidence.values().collect::<BTreeSet<_>>().len() == 1;
            let class = if identical && !own(observed, &dist) { Class::Transitive } else { Class::Fails };
            add(class, &dist, names, m, &evidence);
        }
    }
    let mut used_items: BTreeSet<(FindingKind, String)> = BTreeSet::new();
    let mut out = vec![];
    for ((class, dist, failing, _), (mods, mut evidence)) in groups {
        let what = if mods.len() == 1 {
            format!("import {}", mods[0])
        } else {
            format!("import of {} modules of {dist} ({})", mods.len(), list(&mods))
        };
        if mods.len() > 1 {
            // One line per base: the first module's outcome stands for the group's.
            for v in evidence.values_mut() {
                *v = format!("{v} (and the same for the other {} modules)", mods.len() - 1);
            }
        }
        let ok: Vec<String> = evidence.keys().filter(|b| !failing.contains(b)).cloned().collect();
        let (kind, summary) = match class {
            Class::Fallback => (
                FindingKind::PurePythonFallback,
                format!("{what} works on {} but not on {}, where {dist} still imports: it runs without its compiled code there", ok.join(", "), failing.join(", ")),
            ),
            Class::Crash => (FindingKind::Crash, format!("{what} crashes on {} but works on {}", failing.join(", "), ok.join(", "))),
            Class::Differs => (FindingKind::ImportDiffers, format!("{what} works on {} but not on {}", ok.join(", "), failing.join(", "))),
            Class::Optional => {
                (FindingKind::OptionalDependency, format!("{what} needs a module that no installed distribution provides (an optional integration)"))
            }
            Class::Fails => (FindingKind::Fails, format!("{what} fails wherever it is installed ({})", failing.join(", "))),
            Class::Transitive => (
                FindingKind::TransitiveFails,
                format!("{what} fails the same way on every base ({}); {dist} was installed as a dependency, not asked for by name, and what was asked for is judged by its own modules", failing.join(", ")),
            ),
        };
        // The item: the distribution, and a module where one distribution has several causes.
        let mut item = if mods.len() == 1 && dist.is_empty() { mods[0].clone() } else { dist.clone() };
        if !used_items.insert((kind, item.clone())) {
            item = format!("{dist}:{}", mods[0]);
            used_items.insert((kind, item.clone()));
        }
        let mut d = Draft::new(kind, item, summary, evidence, failing.clone());
        if class != Class::Optional {
            for r in observed.iter().filter(|r| failing.contains(&r.job.base)) {
                let p = probe_of(r);
                d.explanation.insert(r.job.base.clone(), super::explain::explain(p.libc.as_ref(), p, &dist));
            }
        }
        out.push(d);
    }
    out
}

/// Whether a distribution is one that was asked for (its own), on any base. A job that
/// records what it asked for (the gated requirement's) says so itself; only a job that records
/// nothing (an image inspected as it is) is judged by what its image says, a distribution's
/// `REQUESTED` file (uv writes one for every distribution, so there everything is its own). The
/// image is not asked when the job knows: under uv it would make every distribution the
/// requirement's. Where neither says anything, it is taken to be its own, so that it keeps
/// blocking.
fn own(observed: &[&BaseResult], dist: &str) -> bool {
    let dist = crate::dist::normalise_name(dist);
    let named = |d: &str| crate::dist::normalise_name(d) == dist;
    if dist.is_empty() {
        return true;
    }
    if observed.iter().any(|r| r.job.distributions.iter().any(|d| d.requested)) {
        return observed.iter().any(|r| r.job.distributions.iter().any(|d| d.requested && named(&d.name)));
    }
    let in_image: Vec<&BTreeSet<String>> =
        observed.iter().filter_map(|r| r.job.probe.as_ref().map(|p| &p.requested)).filter(|s| !s.is_empty()).collect();
    in_image.is_empty() || in_image.iter().any(|s| s.iter().any(|d| named(d)))
}

fn list(mods: &[String]) -> String {
    if mods.len() <= 4 {
        mods.join(", ")
    } else {
        format!("{}, … {} more", mods[..3].join(", "), mods.len() - 3)
    }
}

/// The smoke script in the main thread.
pub fn smoke(observed: &[&BaseResult]) -> Vec<Draft> {
    let runs: Vec<(String, &CheckOutcome)> =
        observed.iter().filter_map(|r| probe_of(r).smoke.as_ref().map(|s| (r.job.base.clone(), s))).collect();
    let ok: Vec<String> = runs.iter().filter(|(_, o)| o.is_ok()).map(|(b, _)| b.clone()).collect();
    let bad: Vec<String> = runs.iter().filter(|(_, o)| !o.is_ok()).map(|(b, _)| b.clone()).collect();
    let evidence: BTreeMap<String, String> = runs.iter().map(|(b, o)| (b.clone(), outcome_text(o))).collect();
    if bad.is_empty() {
        vec![]
    } else if ok.is_empty() {
        vec![Draft::new(
            FindingKind::Fails,
            "smoke",
            format!("the smoke test fails wherever it is installed ({})", bad.join(", ")),
            evidence,
            bad,
        )]
    } else {
        vec![Draft::new(
            FindingKind::SmokeDiffers,
            "",
            format!("the smoke test passes on {} but not on {}", ok.join(", "), bad.join(", ")),
            evidence,
            bad,
        )]
    }
}

fn stack(p: &WheelProbe) -> String {
    p.thread_stack_bytes.map(|b| format!("{} KiB stack", b / 1024)).unwrap_or_else(|| "stack size not observed".into())
}

/// The smoke script passes in the main thread and crashes or fails in a worker thread with the
/// base's default stack: what a service calling the dependency from a thread pool meets.
pub fn thread_crash(observed: &[&BaseResult]) -> Vec<Draft> {
    let failing: Vec<&BaseResult> = observed
        .iter()
        .copied()
        .filter(|r| {
            let p = probe_of(r);
            p.smoke.as_ref().is_some_and(|s| s.is_ok()) && p.smoke_thread.as_ref().is_some_and(|t| !t.is_ok())
        })
        .collect();
    if failing.is_empty() {
        return vec![];
    }
    let evidence = observed
        .iter()
        .filter_map(|r| {
            let p = probe_of(r);
            let (main, thread) = (p.smoke.as_ref()?, p.smoke_thread.as_ref()?);
            Some((
                r.job.base.clone(),
                format!("main thread: {}; worker thread ({}): {}", outcome_text(main), stack(p), outcome_text(thread)),
            ))
        })
        .collect();
    let names: Vec<String> = failing.iter().map(|r| r.job.base.clone()).collect();
    let summary =
        format!("the smoke test passes in the main thread but not in a worker thread on {}", names.join(", "));
    vec![Draft::new(FindingKind::ThreadCrash, "smoke", summary, evidence, names)]
}

/// Extension files loaded by path, compared exactly as imports are (`load:<path>` standing for
/// the module): an error on some bases only is `import-differs`, everywhere `fails`, a signal
/// `crash`, one finding per cause.
pub fn loads(observed: &[&BaseResult]) -> Vec<crate::model::JobRecord> {
    observed
        .iter()
        .map(|r| {
            let mut job = r.job.clone();
            let p = job.probe.as_mut().expect("a probed job");
            p.imports = p.loads.iter().map(|(f, o)| (format!("load:{f}"), o.clone())).collect();
            // Every path load is a file loaded directly, of no package that could fall back.
            p.top_level = p.imports.keys().cloned().collect();
            // Each its own cause: the file is what the finding is about.
            p.module_dist = p.imports.keys().map(|k| (k.clone(), k.clone())).collect();
            job
        })
        .collect()
}

/// Distributions whose metadata could not be read on a base: their modules were not imported
/// there, so that base's evidence about them is missing (`incomplete`, which always fails it).
pub fn dist_errors(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut by_dist: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for r in observed {
        for (dist, why) in &probe_of(r).dist_errors {
            by_dist.entry(dist).or_default().insert(r.job.base.clone(), format!("metadata unreadable: {why}"));
        }
    }
    by_dist
        .into_iter()
        .map(|(dist, evidence)| {
            let failing: Vec<String> = evidence.keys().cloned().collect();
            let summary = format!(
                "the metadata of {dist} could not be read on {}: its modules were not imported there",
                failing.join(", ")
            );
            Draft::new(FindingKind::Incomplete, format!("metadata:{dist}"), summary, evidence, failing)
        })
        .collect()
}

/// A signal in the main-thread smoke run on some bases only (an import or path-load crash is
/// part of its import finding, one per cause; a worker-thread crash is `thread-crash`).
pub fn crash(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut evidence: BTreeMap<String, String> = BTreeMap::new();
    for r in observed {
        let p = probe_of(r);
        let crashes = p.smoke.iter().map(|o| ("smoke".to_string(), o));
        for (what, o) in crashes {
            if let CheckOutcome::Crash { name, .. } = o {
                evidence.entry(r.job.base.clone()).or_insert_with(|| format!("{what}: {name}"));
            }
        }
    }
    if evidence.is_empty() || evidence.len() == observed.len() {
        return vec![];
    }
    let bad: Vec<String> = evidence.keys().cloned().collect();
    vec![Draft::new(FindingKind::Crash, "", format!("crashes on {} only", bad.join(", ")), evidence, bad)]
}

/// Extension modules or vendored libraries linked against a libc other than the base's own.
pub fn foreign_libc(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut out = vec![];
    for r in observed {
        let foreign: Vec<&str> =
            probe_of(r).extensions.iter().filter(|e| e.foreign_libc).map(|e| e.path.as_str()).collect();
        if !foreign.is_empty() {
            let base = r.job.base.clone();
            let evidence =
                BTreeMap::from([(base.clone(), format!("linked against another libc: {}", foreign.join(", ")))]);
            let summary = format!("{} native file(s) on {base} are linked against another libc", foreign.len());
            out.push(Draft::new(FindingKind::ForeignLibc, base.clone(), summary, evidence, vec![base]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Dependency, Policy, Requirement};
    use crate::model::{BuildOutcome, JobRecord, Severity};

    fn probed(base: &str, load: CheckOutcome, dist_error: Option<&str>) -> JobRecord {
        let mut p = WheelProbe { completion: Completion::Complete, ..Default::default() };
        p.imports.insert("pkg".into(), CheckOutcome::Ok);
        p.top_level.insert("pkg".into());
        p.module_dist.insert("pkg".into(), "pkg".into());
        p.loads.insert("pkg/_c.so".into(), load);
        if let Some(e) = dist_error {
            p.dist_errors.insert("broken".into(), e.into());
        }
        JobRecord { probe: Some(p), ..JobRecord::new("pkg", base, "pkg", BuildOutcome::Installed) }
    }

    fn findings(a: &JobRecord, b: &JobRecord) -> Vec<crate::model::Finding> {
        let dep = Dependency {
            name: "pkg".into(),
            requirement: Requirement::parse("pkg").unwrap(),
            also: vec![],
            constraints: vec![],
            smoke: None,
            known_difference: None,
        };
        let rs = [
            BaseResult { job: a, required: true, compiler: None },
            BaseResult { job: b, required: true, compiler: None },
        ];
        super::super::dependency_findings(&dep, &Policy::default(), &rs)
    }

    #[test]
    fn an_error_loading_an_extension_by_path_is_compared_like_an_import() {
        let error = CheckOutcome::Error { message: "ImportError: Error relocating pkg/_c.so: symbol not found".into() };
        let f = findings(&probed("glibc", CheckOutcome::Ok, None), &probed("musl", error.clone(), None));
        let ids: Vec<(&str, Severity, &[String])> =
            f.iter().map(|f| (f.id.as_str(), f.severity, f.failing.as_slice())).collect();
        assert_eq!(ids, [("pkg/import-differs/load:pkg/_c.so", Severity::Blocking, &["musl".to_string()][..])]);
        // Failing everywhere it is a failure; a signal is a crash, once.
        let f = findings(&probed("glibc", error.clone(), None), &probed("musl", error, None));
        assert_eq!(f.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["pkg/fails/load:pkg/_c.so"]);
        let segv = CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() };
        let f = findings(&probed("glibc", CheckOutcome::Ok, None), &probed("musl", segv, None));
        assert_eq!(f.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["pkg/crash/load:pkg/_c.so"]);
    }

    #[test]
    fn unreadable_metadata_is_missing_evidence_on_its_base() {
        let f = findings(
            &probed("glibc", CheckOutcome::Ok, None),
            &probed("musl", CheckOutcome::Ok, Some("KeyError: Name")),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].id.as_str(), f[0].severity), ("pkg/incomplete/metadata:broken", Severity::Blocking));
        assert_eq!(f[0].failing, ["musl"]);
        assert!(f[0].evidence["musl"].contains("KeyError: Name"));
    }

    #[test]
    fn a_module_of_another_distribution_failing_the_same_everywhere_is_information_that_says_so() {
        let with_dep = |base: &str, message: &str| {
            let mut j = probed(base, CheckOutcome::Ok, None);
            let p = j.probe.as_mut().unwrap();
            p.imports.insert("helper_internal".into(), CheckOutcome::Error { message: message.into() });
            p.top_level.insert("helper_internal".into());
            p.module_dist.insert("helper_internal".into(), "helper".into());
            p.loads.clear();
            j.distributions = ["pkg", "helper"]
                .iter()
                .map(|n| crate::model::Distribution {
                    name: n.to_string(),
                    version: "1".into(),
                    source: crate::model::Source::Pure,
                    file: String::new(),
                    requested: *n == "pkg",
                })
                .collect();
            j
        };
        let msg = "ImportError: helper_internal is not meant to be imported directly";
        let f = findings(&with_dep("glibc", msg), &with_dep("musl", msg));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::TransitiveFails, Severity::Info));
        assert!(
            f[0].summary.contains("helper was installed as a dependency, not asked for by name"),
            "{}",
            f[0].summary
        );
        // Failing differently on the bases, it is not "the same everywhere": it blocks as before.
        let f = findings(&with_dep("glibc", msg), &with_dep("musl", "ImportError: Error relocating x.so"));
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::Fails, Severity::Blocking));
        // The requirement's own module failing everywhere still blocks.
        let mut own = with_dep("glibc", msg);
        own.distributions.iter_mut().for_each(|d| d.requested = true);
        let mut own2 = with_dep("musl", msg);
        own2.distributions.iter_mut().for_each(|d| d.requested = true);
        let f = findings(&own, &own2);
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::Fails, Severity::Blocking));
        // An installer that writes REQUESTED for everything (uv) does not make the job's
        // dependency its own: the job knows what it asked for.
        let uv = |base: &str| {
            let mut j = with_dep(base, msg);
            j.probe.as_mut().unwrap().requested = ["pkg", "helper"].map(String::from).into();
            j
        };
        let f = findings(&uv("glibc"), &uv("musl"));
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::TransitiveFails, Severity::Info));
        // A job that records nothing (an image as it is) is judged by its image's REQUESTED files.
        let image = |base: &str, requested: &[&str]| {
            let mut j = with_dep(base, msg);
            j.distributions.iter_mut().for_each(|d| d.requested = false);
            j.probe.as_mut().unwrap().requested = requested.iter().map(|s| s.to_string()).collect();
            j
        };
        let f = findings(&image("glibc", &["pkg"]), &image("musl", &["pkg"]));
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::TransitiveFails, Severity::Info));
        let f = findings(&image("glibc", &["pkg", "helper"]), &image("musl", &["pkg", "helper"]));
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::Fails, Severity::Blocking));
        // Nothing known either way: its own, blocking.
        let f = findings(&image("glibc", &[]), &image("musl", &[]));
        assert_eq!((f[0].kind, f[0].severity), (FindingKind::Fails, Severity::Blocking));
    }
}
