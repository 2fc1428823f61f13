//! What the wheel probe saw through an image's interpreters, as one job per distribution (the
//! unit the comparison matches images by), plus one job for the smoke script (`<smoke>`). A
//! distribution seen by several interpreters of one image (a virtual environment with the
//! system's site-packages) is judged once, through the first interpreter that sees it. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::Interpreter;
use crate::model::{BuildOutcome, Distribution, JobRecord, WheelProbe};

pub use crate::compare::SMOKE;

/// One interpreter's observations.
pub struct Seen<'a> {
    pub interpreter: &'a Interpreter,
    pub probe: &'a WheelProbe,
    /// Each distribution's version, as the probe read it.
    pub versions: &'a BTreeMap<String, String>,
}

/// The distributions a probe reported: read, or whose metadata could not be read.
pub fn distributions(p: &WheelProbe) -> BTreeSet<String> {
    p.wheel_tags.keys().chain(p.dist_errors.keys()).chain(p.module_dist.values()).cloned().collect()
}

/// The probe's observations of one distribution: its modules, its native files and what loading
/// them did, its tags; the probe's libc and completion. No smoke script.
pub fn of_distribution(p: &WheelProbe, dist: &str) -> WheelProbe {
    let modules: BTreeSet<&String> = p.module_dist.iter().filter(|(_, d)| *d == dist).map(|(m, _)| m).collect();
    let extensions: Vec<_> = p.extensions.iter().filter(|e| e.distribution == dist).cloned().collect();
    let paths: BTreeSet<&str> = extensions.iter().map(|e| e.path.as_str()).collect();
    WheelProbe {
        libc: p.libc.clone(),
        imports: p.imports.iter().filter(|(m, _)| modules.contains(m)).map(|(m, o)| (m.clone(), o.clone())).collect(),
        top_level: p.top_level.iter().filter(|m| modules.contains(m)).cloned().collect(),
        module_dist: p
            .module_dist
            .iter()
            .filter(|(m, _)| modules.contains(m))
            .map(|(m, d)| (m.clone(), d.clone()))
            .collect(),
        loads: p
            .loads
            .iter()
            .filter(|(f, _)| paths.contains(f.as_str()))
            .map(|(f, o)| (f.clone(), o.clone()))
            .collect(),
        dist_errors: p.dist_errors.iter().filter(|(d, _)| *d == dist).map(|(d, e)| (d.clone(), e.clone())).collect(),
        // The image's whole set: whether this distribution was asked for is judged against it.
        requested: p.requested.clone(),
        wheel_tags: p.wheel_tags.iter().filter(|(d, _)| *d == dist).map(|(d, t)| (d.clone(), t.clone())).collect(),
        extensions,
        protocol_errors: p.protocol_errors.clone(),
        container: p.container.clone(),
        completion: p.completion.clone(),
        ..Default::default()
    }
}

/// The smoke script's observations alone (no distribution's modules or files).
pub fn of_smoke(p: &WheelProbe) -> WheelProbe {
    WheelProbe {
        libc: p.libc.clone(),
        smoke: p.smoke.clone(),
        smoke_output: p.smoke_output.clone(),
        smoke_thread: p.smoke_thread.clone(),
        smoke_thread_output: p.smoke_thread_output.clone(),
        thread_stack_bytes: p.thread_stack_bytes,
        smoke_runtime: p.smoke_runtime.clone(),
        protocol_errors: p.protocol_errors.clone(),
        container: p.container.clone(),
        completion: p.completion.clone(),
        ..Default::default()
    }
}

/// Where a distribution's files came from, by its wheel's tags (a wheel file name made of
/// them): none recorded is unknown (installed by something other than a wheel installer).
fn source(dist: &str, version: &str, tags: &[String]) -> (crate::model::Source, String) {
    match tags.first() {
        Some(tag) => {
            let file = format!("{}-{version}-{tag}.whl", dist.replace('-', "_"));
            (crate::dist::classify(&file), file)
        }
        None => (crate::model::Source::Unknown, String::new()),
    }
}

/// The subject of an interpreter's wheel probe that did not finish.
pub fn probe_subject(python: &str) -> String {
    format!("<probe:{python}>")
}

/// Which interpreter (its index in `seen`) each distribution is judged through: the first that
/// sees it.
pub fn judged_by(seen: &[Seen]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (i, s) in seen.iter().enumerate() {
        for dist in distributions(s.probe) {
            out.entry(dist).or_insert(i);
        }
    }
    out
}

/// One job per distribution an image's interpreters see (through the first that sees it), and
/// the smoke script's job when one was given (`smoke`), run by the main interpreter. `image` is
/// the image's name in the report, `reference` what the user named.
pub fn jobs(image: &str, reference: &str, seen: &[Seen], main: usize, smoke: bool) -> Vec<JobRecord> {
    let mut out: Vec<JobRecord> = vec![];
    for (dist, i) in judged_by(seen) {
        let s = &seen[i];
        let version = s.versions.get(&dist).cloned().unwrap_or_default();
        let tags = s.probe.wheel_tags.get(&dist).cloned().unwrap_or_default();
        let (source, file) = source(&dist, &version, &tags);
        let mut j = JobRecord::new(&dist, image, &format!("{dist} {version}"), BuildOutcome::Installed);
        j.image = Some(reference.to_string());
        // Asked for by name (its REQUESTED file), or not known either way (no distribution has one).
        let requested = s.probe.requested.is_empty() || s.probe.requested.contains(&dist);
        j.distributions = vec![Distribution { name: dist.clone(), version, source, file, requested }];
        j.reuse = format!("seen by {} ({})", s.interpreter.path, s.interpreter.how);
        j.probe = Some(of_distribution(s.probe, &dist));
        out.push(j);
    }
    // A probe that did not finish may have reported some distributions, or none: the
    // interpreter's own job says so, so that missing evidence is never silence.
    for s in seen.iter().filter(|s| !s.probe.completion.is_complete()) {
        let mut j =
            JobRecord::new(&probe_subject(&s.interpreter.path), image, "the wheel probe", BuildOutcome::Installed);
        j.image = Some(reference.to_string());
        j.reuse = format!("run by {} ({})", s.interpreter.path, s.interpreter.how);
        j.probe = Some(WheelProbe {
            libc: s.probe.libc.clone(),
            protocol_errors: s.probe.protocol_errors.clone(),
            container: s.probe.container.clone(),
            completion: s.probe.completion.clone(),
            ..Default::default()
        });
        out.push(j);
    }
    if let Some(s) = seen.get(main).filter(|_| smoke) {
        let mut j = JobRecord::new(SMOKE, image, "the smoke script", BuildOutcome::Installed);
        j.image = Some(reference.to_string());
        j.reuse = format!("run by {} ({})", s.interpreter.path, s.interpreter.how);
        j.probe = Some(of_smoke(s.probe));
        out.push(j);
    }
    out
}

/// A distribution one image has and another has not: a job that did not install there, so the
/// comparison says where it is missing (`install-differs`), as for a build that failed.
pub fn absent(dist: &str, image: &str, reference: &str) -> JobRecord {
    let mut j = JobRecord::new(dist, image, dist, BuildOutcome::InstallFailed);
    j.image = Some(reference.to_string());
    j.error = Some("not installed in this image (none of its interpreters sees it)".into());
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckOutcome, Completion, Extension};

    fn ext(dist: &str, path: &str) -> Extension {
        Extension {
            distribution: dist.into(),
            kind: "extension".into(),
            path: path.into(),
            needed: vec![],
            glibc_linked: false,
            foreign_libc: false,
            relr: false,
            glibc_symbol_versions: vec![],
            missing_needed: vec![],
        }
    }

    fn probe() -> WheelProbe {
        let mut p = WheelProbe { completion: Completion::Complete, ..Default::default() };
        for (m, d) in [("a", "pkg-a"), ("a._c", "pkg-a"), ("b", "pkg-b")] {
            p.imports.insert(m.into(), CheckOutcome::Ok);
            p.module_dist.insert(m.into(), d.into());
        }
        p.top_level.extend(["a".to_string(), "b".to_string()]);
        p.extensions = vec![ext("pkg-a", "a/_c.so"), ext("pkg-b", "b/_d.cpython-313-x86_64-linux-gnu.so")];
        p.loads.insert("b/_d.cpython-313-x86_64-linux-gnu.so".into(), CheckOutcome::Ok);
        p.wheel_tags.insert("pkg-a".into(), vec!["cp313-cp313-musllinux_1_2_x86_64".into()]);
        p.wheel_tags.insert("pkg-b".into(), vec![]);
        p.smoke = Some(CheckOutcome::Ok);
        p
    }

    #[test]
    fn a_probe_is_cut_into_its_distributions_and_the_smoke_script() {
        let p = probe();
        let a = of_distribution(&p, "pkg-a");
        assert_eq!(a.imports.keys().collect::<Vec<_>>(), ["a", "a._c"]);
        assert_eq!(a.top_level.iter().collect::<Vec<_>>(), ["a"]);
        assert_eq!(a.extensions.len(), 1);
        assert!(a.loads.is_empty() && a.smoke.is_none());
        let b = of_distribution(&p, "pkg-b");
        assert_eq!(b.loads.len(), 1);
        let s = of_smoke(&p);
        assert!(s.imports.is_empty() && s.extensions.is_empty());
        assert_eq!(s.smoke, Some(CheckOutcome::Ok));
    }

    #[test]
    fn a_distribution_seen_by_two_interpreters_is_judged_by_the_first() {
        let p = probe();
        let versions = BTreeMap::from([("pkg-a".to_string(), "1.0".to_string()), ("pkg-b".to_string(), "2".into())]);
        let venv = Interpreter { path: "/opt/venv/bin/python".into(), how: "virtual environment".into() };
        let system = Interpreter { path: "/usr/bin/python3".into(), how: "on PATH".into() };
        let seen = [
            Seen { interpreter: &system, probe: &p, versions: &versions },
            Seen { interpreter: &venv, probe: &p, versions: &versions },
        ];
        let main = super::super::interpreters::main_index(&[system.clone(), venv.clone()]);
        assert_eq!(jobs("img", "svc:1", &seen, main, false).len(), 2, "no smoke script, no smoke job");
        let jobs = jobs("img", "svc:1", &seen, main, true);
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["pkg-a[img]", "pkg-b[img]", "<smoke>[img]"]);
        assert!(jobs[0].reuse.contains("/usr/bin/python3"));
        assert!(jobs[2].reuse.contains("/opt/venv/bin/python"), "the smoke script is the main interpreter's");
        let d = &jobs[0].distributions[0];
        assert_eq!((d.version.as_str(), d.source), ("1.0", crate::model::Source::Musllinux));
        assert_eq!(jobs[1].distributions[0].source, crate::model::Source::Unknown);
        // A probe that stopped early is a job of its own, whatever it reported before.
        let mut cut = p.clone();
        cut.completion = Completion::NoClosingRecord;
        let seen = [Seen { interpreter: &venv, probe: &cut, versions: &versions }];
        let ids: Vec<String> = super::jobs("img", "svc:1", &seen, 0, false).into_iter().map(|j| j.id).collect();
        assert_eq!(ids, ["pkg-a[img]", "pkg-b[img]", "<probe:/opt/venv/bin/python>[img]"]);
    }
}
