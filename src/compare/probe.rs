//! Rules about what the probes observed in installed jobs: probes that did not finish, imports
//! (differences, failures, optional integrations, pure-Python fallbacks), the smoke script in
//! the main thread and in a worker thread, crashes, and foreign-libc linkage.

use std::collections::{BTreeMap, BTreeSet};

use super::{outcome_text, BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::report::model::{CheckOutcome, Completion, WheelProbe};

fn probe_of<'a>(r: &'a BaseResult) -> &'a WheelProbe {
    r.job.probe.as_ref().expect("a probed job")
}

/// A probe that did not say everything it planned fails its base: `timeout` when it was
/// stopped at its time limit, `incomplete` otherwise.
pub fn incomplete(probed: &[&BaseResult]) -> Vec<Draft> {
    let mut out = vec![];
    for r in probed {
        let c = &probe_of(r).completion;
        if c.is_complete() {
            continue;
        }
        let base = r.job.base.clone();
        let kind = if matches!(c, Completion::TimedOut { .. }) { FindingKind::Timeout } else { FindingKind::Incomplete };
        let evidence = BTreeMap::from([(base.clone(), c.describe())]);
        out.push(Draft::new(kind, "probe", format!("the probe did not finish on {base}: {}", c.describe()), evidence, vec![base]));
    }
    out
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
    let tops: Vec<&String> = p.top_level.iter().filter(|m| p.module_dist.get(*m).map(String::as_str) == Some(dist)).collect();
    !tops.is_empty() && tops.iter().all(|m| p.imports.get(*m).is_some_and(|o| o.is_ok()))
}

fn describe(r: &BaseResult, m: &str) -> String {
    match probe_of(r).imports.get(m) {
        Some(o) => outcome_text(o),
        None => "not present".into(),
    }
}

/// Imports, module by module, between bases whose probe finished.
pub fn imports(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut modules: BTreeSet<&String> = BTreeSet::new();
    for r in observed {
        modules.extend(probe_of(r).imports.keys());
    }
    let mut out = vec![];
    for m in modules {
        let per: Vec<(&BaseResult, Seen)> = observed.iter().map(|r| (*r, seen(probe_of(r).imports.get(m)))).collect();
        let evidence: BTreeMap<String, String> = per.iter().map(|(r, _)| (r.job.base.clone(), describe(r, m))).collect();
        let top_level = observed.iter().any(|r| probe_of(r).top_level.contains(m));
        let dist = observed.iter().find_map(|r| probe_of(r).module_dist.get(m).cloned()).unwrap_or_default();
        let ok: Vec<String> = per.iter().filter(|(_, s)| *s == Seen::Ok).map(|(r, _)| r.job.base.clone()).collect();
        let bad: Vec<&(&BaseResult, Seen)> = per.iter().filter(|(_, s)| *s != Seen::Ok).collect();
        if bad.is_empty() {
            continue;
        }
        let bad_names: Vec<String> = bad.iter().map(|(r, _)| r.job.base.clone()).collect();
        if !ok.is_empty() {
            // A compiled submodule that works on one base and is absent or raises on another
            // while its package still imports there: the package silently takes its slow path.
            let fallback: Vec<String> = bad
                .iter()
                .filter(|(r, s)| !top_level && matches!(s, Seen::Absent | Seen::Failed | Seen::Optional) && package_imports(probe_of(r), &dist))
                .map(|(r, _)| r.job.base.clone())
                .collect();
            let differs: Vec<String> = bad_names.iter().filter(|b| !fallback.contains(b)).cloned().collect();
            if !fallback.is_empty() {
                let summary = format!("{m} works on {} but not on {}, where {dist} still imports: it runs without its compiled code there", ok.join(", "), fallback.join(", "));
                out.push(Draft::new(FindingKind::PurePythonFallback, m.clone(), summary, evidence.clone(), fallback));
            }
            // An extension that is simply not part of the tree on a base where its package
            // fails too is covered by the package's own finding.
            let differs: Vec<String> = differs
                .into_iter()
                .filter(|b| top_level || per.iter().any(|(r, s)| &r.job.base == b && *s != Seen::Absent))
                .collect();
            if !differs.is_empty() {
                let summary = format!("import {m} works on {} but not on {}", ok.join(", "), differs.join(", "));
                out.push(Draft::new(FindingKind::ImportDiffers, m.clone(), summary, evidence, differs));
            }
            continue;
        }
        // Not working anywhere it is present.
        let present: Vec<&&(&BaseResult, Seen)> = bad.iter().filter(|(_, s)| *s != Seen::Absent).collect();
        let bad_names: Vec<String> = present.iter().map(|(r, _)| r.job.base.clone()).collect();
        if present.is_empty() {
            continue;
        }
        if present.iter().all(|(_, s)| *s == Seen::Optional) {
            let summary = format!("import {m} needs a module that no installed distribution provides (an optional integration)");
            out.push(Draft::new(FindingKind::OptionalDependency, m.clone(), summary, evidence, bad_names));
        } else if top_level || present.iter().any(|(_, s)| *s == Seen::Hard) {
            // A directly imported extension submodule that raises everywhere (circular imports)
            // is the package's own affair; a top-level module, a crash or a hang is not.
            let summary = format!("import {m} fails wherever it is installed ({})", bad_names.join(", "));
            out.push(Draft::new(FindingKind::Fails, m.clone(), summary, evidence, bad_names));
        }
    }
    out
}

/// The smoke script in the main thread.
pub fn smoke(observed: &[&BaseResult]) -> Vec<Draft> {
    let runs: Vec<(String, &CheckOutcome)> = observed.iter().filter_map(|r| probe_of(r).smoke.as_ref().map(|s| (r.job.base.clone(), s))).collect();
    let ok: Vec<String> = runs.iter().filter(|(_, o)| o.is_ok()).map(|(b, _)| b.clone()).collect();
    let bad: Vec<String> = runs.iter().filter(|(_, o)| !o.is_ok()).map(|(b, _)| b.clone()).collect();
    let evidence: BTreeMap<String, String> = runs.iter().map(|(b, o)| (b.clone(), outcome_text(o))).collect();
    if bad.is_empty() {
        vec![]
    } else if ok.is_empty() {
        vec![Draft::new(FindingKind::Fails, "smoke", format!("the smoke test fails wherever it is installed ({})", bad.join(", ")), evidence, bad)]
    } else {
        vec![Draft::new(FindingKind::SmokeDiffers, "", format!("the smoke test passes on {} but not on {}", ok.join(", "), bad.join(", ")), evidence, bad)]
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
            Some((r.job.base.clone(), format!("main thread: {}; worker thread ({}): {}", outcome_text(main), stack(p), outcome_text(thread))))
        })
        .collect();
    let names: Vec<String> = failing.iter().map(|r| r.job.base.clone()).collect();
    let summary = format!("the smoke test passes in the main thread but not in a worker thread on {}", names.join(", "));
    vec![Draft::new(FindingKind::ThreadCrash, "smoke", summary, evidence, names)]
}

/// A signal in an import, a path load or the main-thread smoke run on some bases only (a
/// worker-thread crash is `thread-crash`).
pub fn crash(observed: &[&BaseResult]) -> Vec<Draft> {
    let mut evidence: BTreeMap<String, String> = BTreeMap::new();
    for r in observed {
        let p = probe_of(r);
        let crashes = p
            .imports
            .iter()
            .map(|(m, o)| (format!("import {m}"), o))
            .chain(p.loads.iter().map(|(f, o)| (format!("load {f}"), o)))
            .chain(p.smoke.iter().map(|o| ("smoke".to_string(), o)));
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
        let foreign: Vec<&str> = probe_of(r).extensions.iter().filter(|e| e.foreign_libc).map(|e| e.path.as_str()).collect();
        if !foreign.is_empty() {
            let base = r.job.base.clone();
            let evidence = BTreeMap::from([(base.clone(), format!("linked against another libc: {}", foreign.join(", ")))]);
            let summary = format!("{} native file(s) on {base} are linked against another libc", foreign.len());
            out.push(Draft::new(FindingKind::ForeignLibc, base.clone(), summary, evidence, vec![base]));
        }
    }
    out
}
