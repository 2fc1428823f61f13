//! What to do about a failure explained by a cause in the wheel's own files (a vendored library
//! with DT_RELR on a loader older than the rule's version, a `GLIBC_x` symbol version newer than
//! the base's glibc, glibc linkage on musl): the libc version that would load the file, by the
//! rule table, and the newest older version of the distribution whose wheel for this base was
//! read and carries none of these causes, or that none of the versions read does.
//!
//! The versions are judged by what was observed in their wheels (read by the probe's ELF
//! reader, [`crate::probe::programs::WHEEL_ELF`]) under the same rule that explained the failure
//! ([`super::explain::file_causes`]); nothing about a version is assumed. This module decides;
//! the downloading and reading are elsewhere.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::explain::{file_causes, FileCause};
use super::BaseResult;
use crate::kinds::FindingKind;
use crate::matrix::Dependency;
use crate::model::{BuildOutcome, Extension, Finding, Libc};

/// At most this many versions are read per distribution and base: each is a download and a
/// container.
pub const MAX_CHECKED: usize = 6;

/// A distribution that fails on a base with causes found in its native files.
#[derive(Debug, Clone, PartialEq)]
pub struct FixWanted {
    pub base: String,
    pub dist: String,
    /// The version installed there.
    pub version: String,
    pub libc: Option<Libc>,
    pub causes: Vec<FileCause>,
}

/// A version to read, with the wheel pip would install of it on the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: String,
    pub file: String,
}

/// One version read.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub version: String,
    pub file: String,
    pub sha256: String,
    /// How many native files the wheel holds.
    pub native_files: usize,
    /// The causes found in them under this base's libc, or why the wheel could not be read.
    pub causes: Result<Vec<FileCause>, String>,
}

impl Checked {
    /// Read, and none of its files carries a cause for this base.
    pub fn is_free(&self) -> bool {
        matches!(&self.causes, Ok(c) if c.is_empty())
    }
}

/// The versions read for one distribution on one base, newest first, and how many older
/// versions with a wheel for the base there were to choose from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FixSearch {
    pub older: usize,
    pub checked: Vec<Checked>,
}

/// Per (base, distribution, failing version), the search made for it or why none could be made.
pub type Fixes = BTreeMap<(String, String, String), Result<FixSearch, String>>;

/// The distributions that fail on a base whose probe finished, where the failure has causes in
/// their native files: some module of theirs does not import there.
pub fn fixes_wanted(results: &[BaseResult]) -> Vec<FixWanted> {
    let mut out = vec![];
    for r in results.iter().filter(|r| r.job.outcome == BuildOutcome::Installed) {
        let Some(p) = r.job.probe.as_ref().filter(|p| p.completion.is_complete()) else { continue };
        for d in &r.job.distributions {
            let fails = p.imports.iter().any(|(m, o)| p.module_dist.get(m) == Some(&d.name) && !o.is_ok());
            let causes = file_causes(p.libc.as_ref(), &p.extensions, &d.name);
            if fails && !causes.is_empty() {
                out.push(FixWanted {
                    base: r.job.base.clone(),
                    dist: d.name.clone(),
                    version: d.version.clone(),
                    libc: p.libc.clone(),
                    causes,
                });
            }
        }
    }
    out
}

/// The versions to read, newest first: older than the failing one, no pre-releases (yanked
/// files are not in `files`), with a wheel for `tags` (the one pip would install); the newest
/// release of each release series (`2.4.6` for 2.4), so that a few reads reach back across
/// series where a toolchain changed; at most `limit`.
pub fn candidates(
    dist: &str,
    failing: &str,
    files: &[String],
    tags: &[String],
    limit: usize,
) -> (usize, Vec<Candidate>) {
    use pep508_rs::pep440_rs::Version;
    let Ok(failing) = Version::from_str(failing) else { return (0, vec![]) };
    let older: Vec<(Version, String, String)> = super::versions::wheels_by_version(dist, files, tags)
        .into_iter()
        .filter(|(v, _, _)| *v < failing && !v.any_prerelease())
        .collect();
    let mut seen_series: Vec<Vec<u64>> = vec![];
    let mut out = vec![];
    for (v, version, file) in &older {
        let series: Vec<u64> = v.release().iter().take(2).copied().collect();
        if seen_series.contains(&series) {
            continue;
        }
        seen_series.push(series);
        if out.len() < limit {
            out.push(Candidate { version: version.clone(), file: file.clone() });
        }
    }
    (older.len(), out)
}

/// The causes the rule finds in a version's native files (as the wheel-ELF probe read them) on
/// the base of `want`: the same rule that explained the failure.
pub fn causes_in(want: &FixWanted, files: &[Extension]) -> Vec<FileCause> {
    let files: Vec<Extension> =
        files.iter().cloned().map(|f| Extension { distribution: want.dist.clone(), ..f }).collect();
    file_causes(want.libc.as_ref(), &files, &want.dist)
}

/// Whether to read another version after `checked`: not once one is free, not past the bound.
pub fn keep_looking(checked: &[Checked]) -> bool {
    checked.len() < MAX_CHECKED && !checked.iter().any(Checked::is_free)
}

fn features(causes: &[FileCause]) -> Vec<String> {
    let mut f: Vec<String> = causes.iter().map(FileCause::feature).collect();
    f.sort();
    f.dedup();
    f
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// One version read, as the evidence shows it.
fn checked_text(c: &Checked, wanted: &[String]) -> String {
    let head =
        format!("{} ({}, sha256 {}…, {} native files read)", c.version, c.file, short(&c.sha256), c.native_files);
    match &c.causes {
        Err(e) => format!("{} ({}) could not be read: {e}", c.version, c.file),
        Ok(causes) if causes.is_empty() => {
            format!("{head}: no {} nor any other cause this base's loader lacks", wanted.join(", "))
        }
        Ok(causes) => {
            let mut by: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for k in causes {
                by.entry(k.feature()).or_default().push(k.path());
            }
            let what: Vec<String> = by
                .iter()
                .map(|(f, paths)| match paths.len() {
                    1 => format!("{f} in {}", paths[0]),
                    n => format!("{f} in {} and {} more", paths[0], n - 1),
                })
                .collect();
            format!("{head}: {}", what.join("; "))
        }
    }
}

/// The lines added to the explanation on the base of `want`.
pub fn fix_lines(want: &FixWanted, search: Option<&Result<FixSearch, String>>) -> Vec<String> {
    let mut out: Vec<String> =
        want.causes.iter().filter_map(FileCause::loaded_by).map(|l| format!("by the rule table, {l}")).collect();
    out.sort();
    out.dedup();
    let dist = &want.dist;
    let wanted = features(&want.causes);
    let line = match search {
        None => format!("no older version of {dist} was read for a wheel without {}: not looked for", wanted.join(", ")),
        Some(Err(e)) => format!("no older version of {dist} was read for a wheel without {}: {e}", wanted.join(", ")),
        Some(Ok(s)) if s.checked.is_empty() => format!(
            "no version of {dist} older than {} has a wheel for this base (no pre-releases, no yanked files): none to read",
            want.version
        ),
        Some(Ok(s)) => {
            let list: Vec<String> = s.checked.iter().map(|c| checked_text(c, &wanted)).collect();
            let how = format!(
                "read newest first, the newest release of each series older than {} ({} of {} older versions with a wheel for this base)",
                want.version,
                s.checked.len(),
                s.older
            );
            match s.checked.iter().position(Checked::is_free) {
                Some(i) => {
                    let free = &s.checked[i];
                    let gap = match i {
                        0 => String::new(),
                        _ => format!(
                            "; the versions between {} and {} were not read",
                            free.version,
                            s.checked[i - 1].version
                        ),
                    };
                    format!(
                        "an older version without the cause: {dist} {} is the newest version read whose wheel for this base has no {}; {how}: {}{gap}",
                        free.version,
                        wanted.join(", "),
                        list.join("; ")
                    )
                }
                None => format!(
                    "none of the {} versions of {dist} read has a wheel for this base without {}; {how}: {}",
                    s.checked.len(),
                    wanted.join(", "),
                    list.join("; ")
                ),
            }
        }
    };
    out.push(line);
    out
}

/// Adds, to each finding that a cause in the native files of a distribution explains on a
/// failing base, what to do there: the libc version the rule table says loads the file, and the
/// newest older version read whose wheel does not carry the cause.
pub fn suggest_fixes(findings: &mut [Finding], dep: &Dependency, results: &[BaseResult], fixes: &Fixes) {
    let wanted = fixes_wanted(results);
    for f in findings.iter_mut().filter(|f| f.subject == dep.name) {
        if !matches!(
            f.kind,
            FindingKind::Crash | FindingKind::Fails | FindingKind::ImportDiffers | FindingKind::PurePythonFallback
        ) {
            continue;
        }
        for w in &wanted {
            let about = f.item == w.dist || f.item.starts_with(&format!("{}:", w.dist));
            let explained =
                f.explanation.get(&w.base).is_some_and(|why| w.causes.iter().any(|c| why.contains(&c.describe())));
            if about && explained && f.failing.contains(&w.base) {
                let lines = fix_lines(w, fixes.get(&(w.base.clone(), w.dist.clone(), w.version.clone())));
                f.explanation.entry(w.base.clone()).or_default().extend(lines);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WheelProbe;

    fn probe_with(files: Vec<Extension>) -> WheelProbe {
        WheelProbe { extensions: files, ..Default::default() }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn file(path: &str, relr: bool) -> Extension {
        Extension {
            distribution: "whatever".into(),
            kind: "vendored".into(),
            path: path.into(),
            needed: vec![],
            glibc_linked: false,
            foreign_libc: false,
            relr,
            glibc_symbol_versions: vec![],
            missing_needed: vec![],
        }
    }

    fn want() -> FixWanted {
        let libc = Libc { family: "musl".into(), version: Some("1.2.3".into()) };
        let mut p = probe_with(vec![file("pkg.libs/libx.so", true)]);
        p.extensions[0].distribution = "pkg".into();
        let causes = file_causes(Some(&libc), &p.extensions, "pkg");
        FixWanted { base: "musl123".into(), dist: "pkg".into(), version: "2.5.5".into(), libc: Some(libc), causes }
    }

    const TAGS: [&str; 3] = ["cp313-cp313-musllinux_1_2_x86_64", "cp313-cp313-musllinux_1_1_x86_64", "py3-none-any"];

    #[test]
    fn candidates_are_older_releases_newest_of_each_series_first_and_bounded() {
        let files = s(&[
            "pkg-2.5.5-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.6.0-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.5.4-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.5.3-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.5.0rc1-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.4.6-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-2.4.6-cp313-cp313-musllinux_1_1_x86_64.whl",
            "pkg-2.3.0-cp312-cp312-musllinux_1_2_x86_64.whl",
            "pkg-2.2.1.tar.gz",
            "pkg-2.1.3-cp313-cp313-musllinux_1_1_x86_64.whl",
            "pkg-1.9.0-cp313-cp313-musllinux_1_1_x86_64.whl",
        ]);
        let (older, c) = candidates("pkg", "2.5.5", &files, &s(&TAGS), 6);
        // Not 2.6.0 (newer), 2.5.0rc1 (pre-release), 2.3.0 (no wheel for these tags), 2.2.1 (sdist).
        assert_eq!(older, 5);
        assert_eq!(c.iter().map(|c| c.version.as_str()).collect::<Vec<_>>(), ["2.5.4", "2.4.6", "2.1.3", "1.9.0"]);
        // The wheel pip would take of 2.4.6: musllinux_1_2 comes first in the base's tags.
        assert_eq!(c[1].file, "pkg-2.4.6-cp313-cp313-musllinux_1_2_x86_64.whl");
        assert_eq!(candidates("pkg", "2.5.5", &files, &s(&TAGS), 2).1.len(), 2);
        assert_eq!(candidates("pkg", "1.9.0", &files, &s(&TAGS), 6), (0, vec![]));
        assert_eq!(candidates("pkg", "not a version", &files, &s(&TAGS), 6).1, vec![]);
    }

    #[test]
    fn a_version_carries_the_cause_by_the_same_rule_and_the_search_stops_at_the_first_free_one() {
        let w = want();
        let carried = causes_in(&w, &[file("pkg.libs/liby-abc.so", true), file("pkg/_core.so", false)]);
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0].feature(), "DT_RELR");
        assert!(causes_in(&w, &[file("pkg.libs/liby-abc.so", false)]).is_empty());
        // On a loader that supports DT_RELR the same files carry nothing.
        let newer =
            FixWanted { libc: Some(Libc { family: "musl".into(), version: Some("1.2.5".into()) }), ..w.clone() };
        assert!(causes_in(&newer, &[file("pkg.libs/liby-abc.so", true)]).is_empty());
        let c = |v: &str, causes: Result<Vec<FileCause>, String>| Checked {
            version: v.into(),
            file: format!("pkg-{v}.whl"),
            sha256: "ab".repeat(32),
            native_files: 2,
            causes,
        };
        let mut checked = vec![c("2.5.4", Ok(carried.clone())), c("2.4.6", Err("HTTP 500".into()))];
        assert!(keep_looking(&checked), "an unreadable version is not a free one");
        checked.push(c("2.1.3", Ok(vec![])));
        assert!(!keep_looking(&checked));
        let full: Vec<Checked> = (0..MAX_CHECKED).map(|i| c(&format!("1.{i}"), Ok(carried.clone()))).collect();
        assert!(!keep_looking(&full));
    }

    #[test]
    fn the_lines_name_the_libc_the_version_read_free_or_that_none_was() {
        let w = want();
        let c = |v: &str, causes: Vec<FileCause>| Checked {
            version: v.into(),
            file: format!("pkg-{v}-cp313-cp313-musllinux_1_2_x86_64.whl"),
            sha256: "cd".repeat(32),
            native_files: 3,
            causes: Ok(causes),
        };
        let found = FixSearch { older: 9, checked: vec![c("2.5.4", w.causes.clone()), c("2.1.3", vec![])] };
        let l = fix_lines(&w, Some(&Ok(found)));
        assert!(l[0].starts_with("by the rule table, musl 1.2.4 or newer loads DT_RELR ("), "{l:?}");
        assert!(l[1].starts_with("an older version without the cause: pkg 2.1.3 is the newest version read whose wheel for this base has no DT_RELR;"), "{l:?}");
        assert!(l[1].contains("2.5.4 (pkg-2.5.4-cp313-cp313-musllinux_1_2_x86_64.whl, sha256 cdcdcdcdcdcd…, 3 native files read): DT_RELR in pkg.libs/libx.so"), "{l:?}");
        assert!(l[1].contains("2.1.3 (pkg-2.1.3-cp313-cp313-musllinux_1_2_x86_64.whl, sha256 cdcdcdcdcdcd…, 3 native files read): no DT_RELR"), "{l:?}");
        assert!(
            l[1].contains("2 of 9 older versions") && l[1].ends_with("between 2.1.3 and 2.5.4 were not read"),
            "{l:?}"
        );
        let none = FixSearch { older: 1, checked: vec![c("2.5.4", w.causes.clone())] };
        assert!(fix_lines(&w, Some(&Ok(none)))[1]
            .starts_with("none of the 1 versions of pkg read has a wheel for this base without DT_RELR"));
        assert!(fix_lines(&w, Some(&Ok(FixSearch::default())))[1].contains("none to read"));
        assert!(fix_lines(&w, Some(&Err("--offline: the index was not asked".into())))[1].contains("--offline"));
        let mut unreadable = c("2.5.4", vec![]);
        unreadable.causes = Err("sha256 mismatch".into());
        let t = checked_text(&unreadable, &["DT_RELR".into()]);
        assert_eq!(t, "2.5.4 (pkg-2.5.4-cp313-cp313-musllinux_1_2_x86_64.whl) could not be read: sha256 mismatch");
    }

    #[test]
    fn the_suggestion_goes_to_the_finding_the_cause_explains_on_its_failing_base() {
        use crate::matrix::Requirement;
        use crate::model::{CheckOutcome, Completion, Distribution, JobRecord, Severity, Source};
        let libc = Libc { family: "musl".into(), version: Some("1.2.3".into()) };
        let mut p = probe_with(vec![file("pkg.libs/libx.so", true)]);
        p.extensions[0].distribution = "pkg".into();
        p.libc = Some(libc.clone());
        p.completion = Completion::Complete;
        p.imports.insert("pkg".into(), CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() });
        p.module_dist.insert("pkg".into(), "pkg".into());
        let mut job = JobRecord::new("pkg", "musl123", "pkg==2.5.5", BuildOutcome::Installed);
        job.probe = Some(p.clone());
        job.distributions.push(Distribution {
            name: "pkg".into(),
            version: "2.5.5".into(),
            source: Source::Musllinux,
            file: "pkg-2.5.5-cp313-cp313-musllinux_1_2_x86_64.whl".into(),
            requested: true,
        });
        let results = [BaseResult { job: &job, required: true, compiler: None }];
        let wanted = fixes_wanted(&results);
        assert_eq!(wanted.len(), 1);
        assert_eq!((wanted[0].base.as_str(), wanted[0].version.as_str()), ("musl123", "2.5.5"));
        let dep = Dependency {
            name: "pkg".into(),
            requirement: Requirement::parse("pkg==2.5.5").unwrap(),
            also: vec![],
            constraints: vec![],
            smoke: None,
            known_difference: None,
        };
        let finding = |kind, item: &str| Finding {
            id: format!("pkg/{kind}/{item}"),
            subject: "pkg".into(),
            kind,
            item: item.into(),
            failing: vec!["musl123".into()],
            severity: Severity::Blocking,
            summary: String::new(),
            evidence: BTreeMap::new(),
            known: None,
            explanation: BTreeMap::from([(
                "musl123".to_string(),
                super::super::explain::explain(Some(&libc), &p, "pkg"),
            )]),
        };
        let mut findings = vec![finding(FindingKind::Crash, "pkg"), finding(FindingKind::SmokeDiffers, "")];
        let fixes = Fixes::from([(("musl123".into(), "pkg".into(), "2.5.5".into()), Err("not asked".to_string()))]);
        suggest_fixes(&mut findings, &dep, &results, &fixes);
        let why = &findings[0].explanation["musl123"];
        assert!(why.iter().any(|l| l.starts_with("by the rule table, musl 1.2.4")), "{why:?}");
        assert!(why.last().unwrap().ends_with("not asked"), "{why:?}");
        assert_eq!(findings[1].explanation["musl123"].len(), 1, "a finding the cause does not explain is left alone");
        // A base whose imports all work wants nothing.
        job.probe.as_mut().unwrap().imports.insert("pkg".into(), CheckOutcome::Ok);
        assert!(fixes_wanted(&[BaseResult { job: &job, required: true, compiler: None }]).is_empty());
    }
}
