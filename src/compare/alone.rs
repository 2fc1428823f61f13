//! Rules about one image by itself (`inspect` without `--against`): what needs no second base
//! to be seen. Per distribution, one finding when it does not work there: a native file linked
//! against another libc than the image's, a loader feature the image's loader lacks, a symbol
//! version newer than its glibc, a NEEDED library its loader does not find, a module that does
//! not import or a file that does not load (a crash or a hang of any module; an error of a
//! top-level module or of a file loaded by path). Every symptom of one distribution is one
//! cause, one finding, with what explains it. A compiled submodule that raises is counted only
//! beside another symptom: alone it is the package's own affair, as it is across bases.

use std::collections::BTreeMap;

use super::{explain, outcome_text, BaseResult, Draft};
use crate::kinds::FindingKind;
use crate::model::{CheckOutcome, WheelProbe};

/// What one distribution showed in the image.
#[derive(Default)]
struct Symptoms {
    foreign: Vec<String>,
    causes: Vec<String>,
    missing: Vec<String>,
    hard: Vec<String>,
    failed: Vec<String>,
    submodules: Vec<String>,
    optional: Vec<String>,
}

fn symptoms(p: &WheelProbe, dist: &str) -> Symptoms {
    let mut s = Symptoms::default();
    for e in p.extensions.iter().filter(|e| e.distribution == dist) {
        if e.foreign_libc {
            s.foreign.push(e.path.clone());
        }
        if !e.missing_needed.is_empty() {
            s.missing.push(format!("{} needs {}", e.path, e.missing_needed.join(", ")));
        }
    }
    // Glibc linkage on musl is said by `foreign` already; the other causes are the loader's.
    s.causes = explain::file_causes(p.libc.as_ref(), &p.extensions, dist)
        .into_iter()
        .filter(|c| !matches!(c, explain::FileCause::GlibcLinked { .. }))
        .map(|c| format!("{} in {}", c.feature(), c.path()))
        .collect();
    let outcomes = p
        .imports
        .iter()
        .map(|(m, o)| (format!("import {m}"), o, p.top_level.contains(m)))
        .chain(p.loads.iter().map(|(f, o)| (format!("load {f}"), o, true)));
    for (what, o, direct) in outcomes {
        let line = format!("{what}: {}", outcome_text(o));
        match o {
            o if o.is_ok() => {}
            CheckOutcome::Crash { .. } | CheckOutcome::Timeout => s.hard.push(line),
            CheckOutcome::MissingOptional { .. } => s.optional.push(line),
            _ if direct => s.failed.push(line),
            _ => s.submodules.push(line),
        }
    }
    s
}

/// Up to four items, then how many more.
fn some(items: &[String]) -> String {
    if items.len() <= 4 {
        items.join("; ")
    } else {
        format!("{}; … {} more", items[..3].join("; "), items.len() - 3)
    }
}

/// The findings of one distribution's job on the image alone.
pub fn distribution(r: &BaseResult) -> Vec<Draft> {
    let Some(p) = r.job.probe.as_ref().filter(|p| p.completion.is_complete()) else { return vec![] };
    let dist = r.job.dependency.as_str();
    let image = r.job.base.clone();
    let s = symptoms(p, dist);
    let mut out = vec![];
    let primary = !(s.foreign.is_empty()
        && s.causes.is_empty()
        && s.missing.is_empty()
        && s.hard.is_empty()
        && s.failed.is_empty());
    if primary {
        let mut what = vec![];
        if !s.foreign.is_empty() {
            what.push(format!("linked against another libc than the image's: {}", some(&s.foreign)));
        }
        if !s.causes.is_empty() {
            what.push(format!("needs what the image's loader lacks: {}", some(&s.causes)));
        }
        if !s.missing.is_empty() {
            what.push(format!("NEEDED libraries the image's loader does not find: {}", some(&s.missing)));
        }
        let mut failures = s.hard.clone();
        failures.extend(s.failed.iter().cloned());
        failures.extend(s.submodules.iter().cloned());
        if !failures.is_empty() {
            what.push(some(&failures));
        }
        let kind = if !s.foreign.is_empty() {
            FindingKind::ForeignLibc
        } else if !s.hard.is_empty() {
            FindingKind::Crash
        } else {
            FindingKind::Fails
        };
        let evidence = BTreeMap::from([(image.clone(), what.join("; "))]);
        let summary = format!("{dist} does not work in {image}: {}", what[0]);
        let mut d = Draft::new(kind, "", summary, evidence, vec![image.clone()]);
        d.explanation.insert(image.clone(), explain::explain(p.libc.as_ref(), p, dist));
        out.push(d);
    } else if !s.optional.is_empty() {
        let evidence = BTreeMap::from([(image.clone(), some(&s.optional))]);
        let summary = format!(
            "import of {dist} needs a module that no installed distribution provides (an optional integration)"
        );
        out.push(Draft::new(FindingKind::OptionalDependency, "", summary, evidence, vec![image]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuildOutcome, Completion, Extension, JobRecord, Libc};

    fn job(foreign: bool, import: CheckOutcome, top: bool) -> JobRecord {
        let mut p = WheelProbe {
            completion: Completion::Complete,
            libc: Some(Libc { family: "musl".into(), version: Some("1.2.5".into()) }),
            ..Default::default()
        };
        let m = if top { "pkg" } else { "pkg._native" };
        p.imports.insert(m.into(), import);
        p.module_dist.insert(m.into(), "pkg".into());
        if top {
            p.top_level.insert(m.into());
        }
        p.extensions.push(Extension {
            distribution: "pkg".into(),
            kind: "extension".into(),
            path: "pkg/_native.so".into(),
            needed: vec!["libc.so.6".into()],
            glibc_linked: foreign,
            foreign_libc: foreign,
            relr: false,
            glibc_symbol_versions: if foreign { vec!["GLIBC_2.34".into()] } else { vec![] },
            missing_needed: vec![],
        });
        JobRecord { probe: Some(p), ..JobRecord::new("pkg", "img", "pkg 1", BuildOutcome::Installed) }
    }

    fn drafts(j: &JobRecord) -> Vec<Draft> {
        distribution(&BaseResult { job: j, required: true, compiler: None })
    }

    #[test]
    fn a_glibc_linked_extension_in_a_musl_image_is_one_finding_with_its_explanation() {
        let error = CheckOutcome::Error {
            message: "ImportError: Error relocating pkg/_native.so: gnu_get_libc_version: symbol not found".into(),
        };
        let d = drafts(&job(true, error, false));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, FindingKind::ForeignLibc);
        assert!(d[0].evidence["img"].contains("pkg/_native.so") && d[0].evidence["img"].contains("import pkg._native"));
        let why = &d[0].explanation["img"];
        assert!(why.iter().any(|l| l.contains("was linked against glibc") && l.contains("musl 1.2.5")), "{why:?}");
    }

    #[test]
    fn a_loader_feature_the_image_lacks_fails_even_where_the_import_was_not_tried() {
        let mut j = job(false, CheckOutcome::Ok, true);
        let p = j.probe.as_mut().unwrap();
        p.libc = Some(Libc { family: "musl".into(), version: Some("1.2.3".into()) });
        p.extensions[0].relr = true;
        p.extensions[0].missing_needed = vec!["libgomp.so.1".into()];
        let d = drafts(&j);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, FindingKind::Fails);
        let e = &d[0].evidence["img"];
        assert!(e.contains("DT_RELR in pkg/_native.so") && e.contains("needs libgomp.so.1"), "{e}");
        let why = &d[0].explanation["img"];
        assert!(why.iter().any(|l| l.contains("musl loads DT_RELR from 1.2.4")), "{why:?}");
        // The same file on a loader that has the feature is no finding.
        let p = j.probe.as_mut().unwrap();
        p.libc = Some(Libc { family: "musl".into(), version: Some("1.2.5".into()) });
        p.extensions[0].missing_needed.clear();
        assert!(drafts(&j).is_empty());
    }

    #[test]
    fn a_healthy_distribution_and_a_raising_submodule_alone_are_no_finding() {
        assert!(drafts(&job(false, CheckOutcome::Ok, true)).is_empty());
        let error = CheckOutcome::Error { message: "ImportError: partially initialised".into() };
        assert!(drafts(&job(false, error.clone(), false)).is_empty());
        // A top-level module that does not import is a failure; a crash is a crash.
        assert_eq!(drafts(&job(false, error, true))[0].kind, FindingKind::Fails);
        let segv = CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() };
        assert_eq!(drafts(&job(false, segv, false))[0].kind, FindingKind::Crash);
        let optional =
            CheckOutcome::MissingOptional { module: "pytest".into(), message: "No module named pytest".into() };
        assert_eq!(drafts(&job(false, optional, true))[0].kind, FindingKind::OptionalDependency);
    }
}
