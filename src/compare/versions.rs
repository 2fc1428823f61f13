//! The version that would work: where a distribution is built from source on a base (or pip
//! finds nothing to install there) while another base takes a wheel, the newest version on the
//! index with a wheel for the failing base's compatible tags, or that no version has one. The
//! tags are the base interpreter's own (pip's "Compatible tags", observed in its prep image),
//! the file list is the index's (PEP 691): nothing about a libc or a package is assumed here.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use super::BaseResult;
use crate::kinds::FindingKind;
use crate::matrix::Dependency;
use crate::model::{BuildOutcome, Finding, Source};

/// What the suggestions are made from: per base its compatible tags in pip's order of
/// preference, per distribution the names of its files on the index (not yanked); or why they
/// could not be had.
#[derive(Debug, Clone, Default)]
pub struct Available {
    pub tags: BTreeMap<String, Result<Vec<String>, String>>,
    pub files: BTreeMap<String, Result<Vec<String>, String>>,
    /// Per (base, distribution) failing there by a cause in its native files, the older
    /// versions whose wheels were read for that cause.
    pub fixes: super::Fixes,
}

/// The distributions a job could not take a wheel for: those it built (or tried to build)
/// from an sdist, or, when pip found nothing to install at all, the one pip names ("No matching
/// distribution found for …").
pub fn without_wheel(job: &crate::model::JobRecord) -> Vec<String> {
    let sdists: Vec<String> =
        job.distributions.iter().filter(|d| d.source == Source::Sdist).map(|d| d.name.clone()).collect();
    if !sdists.is_empty() || job.outcome != BuildOutcome::InstallFailed {
        return sdists;
    }
    let said = [job.error.as_deref().unwrap_or(""), job.log_tail.as_str()].join("\n");
    let mut names: Vec<String> = said.lines().flat_map(named_without_files).collect();
    names.sort();
    names.dedup();
    names
}

/// The requirements a line of the installer says nothing on the index can satisfy: pip's
/// "No matching distribution found for X", uv's "X has no wheels with a matching platform
/// tag", "there is no version of X", "X was not found in the package registry".
fn named_without_files(line: &str) -> Vec<String> {
    let parse = |token: &str| {
        let token = token.trim().trim_matches(|c: char| c == '`' || c == ',' || c == '.' || c == '\'' || c == '"');
        crate::matrix::Requirement::parse(token).ok().map(|r| r.name)
    };
    if let Some((_, rest)) = line.split_once("No matching distribution found for ") {
        return parse(rest).into_iter().collect();
    }
    let mut names = vec![];
    for (i, _) in line.match_indices("there is no version of ") {
        let rest = &line[i + "there is no version of ".len()..];
        names.extend(parse(rest.split_whitespace().next().unwrap_or("")));
    }
    for said in [" has no wheels with a matching", " was not found in the package registry"] {
        for (i, _) in line.match_indices(said) {
            names.extend(parse(line[..i].rsplit(' ').next().unwrap_or("")));
        }
    }
    names
}

/// A wheel file name's version and the tags it is compatible with (compressed tag sets
/// expanded), if it names `dist`.
fn wheel(dist: &str, file: &str) -> Option<(String, BTreeSet<String>)> {
    let stem = file.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if !(5..=6).contains(&parts.len()) || crate::dist::normalise_name(parts[0]) != dist {
        return None;
    }
    let n = parts.len();
    let (py, abi, plat) = (parts[n - 3], parts[n - 2], parts[n - 1]);
    let mut tags = BTreeSet::new();
    for p in py.split('.') {
        for a in abi.split('.') {
            for t in plat.split('.') {
                tags.insert(format!("{p}-{a}-{t}"));
            }
        }
    }
    Some((parts[1].to_string(), tags))
}

/// Per version of `dist` with a wheel for one of `tags`, newest first, the wheel pip would
/// install: the one whose most preferred tag comes first in `tags` (pip's order of
/// preference), the name breaking a tie so the choice is stable.
pub fn wheels_by_version(
    dist: &str,
    files: &[String],
    tags: &[String],
) -> Vec<(pep508_rs::pep440_rs::Version, String, String)> {
    use pep508_rs::pep440_rs::Version;
    let rank: BTreeMap<&str, usize> = tags.iter().enumerate().map(|(i, t)| (t.as_str(), i)).rev().collect();
    let mut best: BTreeMap<Version, (usize, String, String)> = BTreeMap::new();
    for f in files {
        let Some((v, t)) = wheel(dist, f) else { continue };
        let Some(r) = t.iter().filter_map(|x| rank.get(x.as_str()).copied()).min() else { continue };
        let Ok(parsed) = Version::from_str(&v) else { continue };
        let e = best.entry(parsed).or_insert_with(|| (r, v.clone(), f.clone()));
        if (r, f) < (e.0, &e.2) {
            *e = (r, v, f.clone());
        }
    }
    best.into_iter().rev().map(|(parsed, (_, v, f))| (parsed, v, f)).collect()
}

/// The newest version of `dist` with a wheel for one of `tags`, with the wheel pip would
/// install of it.
pub fn newest_with_wheel(dist: &str, files: &[String], tags: &[String]) -> Option<(String, String)> {
    wheels_by_version(dist, files, tags).into_iter().next().map(|(_, v, f)| (v, f))
}

fn shown_tags(tags: &[String]) -> String {
    match tags.len() {
        0 => "none".into(),
        1..=3 => tags.join(", "),
        n => format!("{}, … {n} in all", tags[..3].join(", ")),
    }
}

/// The sentence for one distribution on one base.
fn hint(dist: &str, base: &str, avail: &Available) -> String {
    let tags = match avail.tags.get(base) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return format!("no version of {dist} suggested: this base's compatible tags could not be observed ({e})")
        }
        None => return format!("no version of {dist} suggested: this base's compatible tags were not observed"),
    };
    let files = match avail.files.get(dist) {
        Some(Ok(f)) => f,
        Some(Err(e)) => {
            return format!("no version of {dist} suggested: the index could not be asked for its files ({e})")
        }
        None => return format!("no version of {dist} suggested: the index was not asked for its files"),
    };
    match newest_with_wheel(dist, files, tags) {
        Some((v, file)) => format!(
            "the newest version of {dist} with a wheel for this base is {v} ({file}); this base's compatible tags \
             (pip debug): {}",
            shown_tags(tags)
        ),
        None => format!(
            "no version of {dist} on the index has a wheel for this base ({} files looked at); this base's compatible \
             tags (pip debug): {}",
            files.len(),
            shown_tags(tags)
        ),
    }
}

/// Adds, to each `source-build` and `install-differs` finding, the version that would work on
/// each failing base (in its explanation, next to what explains the failure).
pub fn suggest_versions(findings: &mut [Finding], dep: &Dependency, results: &[BaseResult], avail: &Available) {
    for f in findings.iter_mut().filter(|f| f.subject == dep.name) {
        let per_base: Vec<(String, Vec<String>)> = match f.kind {
            FindingKind::SourceBuild => f.failing.iter().map(|b| (b.clone(), vec![f.item.clone()])).collect(),
            FindingKind::InstallDiffers => f
                .failing
                .iter()
                .filter_map(|b| results.iter().find(|r| &r.job.base == b).map(|r| (b.clone(), without_wheel(r.job))))
                .collect(),
            _ => continue,
        };
        for (base, dists) in per_base {
            for dist in dists {
                f.explanation.entry(base.clone()).or_default().push(hint(&dist, &base, avail));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const MUSL_TAGS: [&str; 4] = [
        "cp313-cp313-musllinux_1_2_x86_64",
        "cp313-cp313-musllinux_1_1_x86_64",
        "cp313-abi3-musllinux_1_2_x86_64",
        "py3-none-any",
    ];

    #[test]
    fn the_newest_version_with_a_compatible_wheel_is_found_by_the_bases_tags() {
        let files = s(&[
            "pkg-1.0-cp313-cp313-musllinux_1_2_x86_64.whl",
            "pkg-1.10.tar.gz",
            "pkg-1.10-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "pkg-1.9-cp312-abi3-musllinux_1_1_x86_64.musllinux_1_2_x86_64.whl",
            "other-3.0-py3-none-any.whl",
        ]);
        let tags = s(&MUSL_TAGS);
        // 1.10 has no wheel for this base; 1.9's compressed tag set does not match (cp312-abi3).
        assert_eq!(newest_with_wheel("pkg", &files, &tags), Some(("1.0".into(), files[0].clone())));
        let glibc = s(&["cp313-cp313-manylinux_2_17_x86_64", "py3-none-any"]);
        assert_eq!(newest_with_wheel("pkg", &files, &glibc).unwrap().0, "1.10");
        assert_eq!(newest_with_wheel("pkg", &s(&["pkg-2.0.tar.gz"]), &tags), None);
        // The name is compared normalised; another project's wheel never counts.
        assert_eq!(newest_with_wheel("other", &files, &tags).unwrap().0, "3.0");
        assert_eq!(newest_with_wheel("pkg-x", &s(&["pkg_x-1.0-py3-none-any.whl"]), &tags).unwrap().0, "1.0");
        // Of one version's wheels, the one pip prefers: its best tag comes first in the base's list.
        let both = s(&[
            "pkg-2.0-py3-none-any.whl",
            "pkg-2.0-cp313-cp313-musllinux_1_1_x86_64.whl",
            "pkg-2.0-cp313-cp313-musllinux_1_2_x86_64.whl",
        ]);
        assert_eq!(newest_with_wheel("pkg", &both, &tags).unwrap().1, both[2]);
        let by = wheels_by_version("pkg", &files, &glibc);
        assert_eq!(by.iter().map(|(_, v, _)| v.as_str()).collect::<Vec<_>>(), ["1.10"]);
    }

    #[test]
    fn what_had_no_wheel_is_the_sdist_pip_took_or_the_distribution_it_found_nothing_for() {
        use crate::model::{Distribution, JobRecord};
        let mut j: JobRecord = serde_json::from_value(serde_json::json!({
            "id": "x[musl]", "dependency": "x", "base": "musl", "requirement": "x", "outcome": "install-failed",
            "cached": false, "build_secs": 1.0, "image": null, "image_size": null, "size_over_base": null,
            "distributions": [], "log_tail": "ERROR: Could not find a version that satisfies the requirement Foo_Bar==2 (from versions: none)\nERROR: No matching distribution found for Foo_Bar==2\n",
            "error": "ERROR: No matching distribution found for Foo_Bar==2", "probe": null
        }))
        .unwrap();
        assert_eq!(without_wheel(&j), ["foo-bar"]);
        // uv's words for the same (its resolver's explanation, as uv prints it).
        for (said, name) in [
            ("No solution found when resolving dependencies: Because polars==1.32.3 has no wheels with a matching platform tag (e.g., `linux_x86_64`) and you require polars==1.32.3, we can conclude that", "polars"),
            ("  ╰─▶ Because there is no version of Foo_Bar==2 and you require Foo_Bar==2, we can conclude that", "foo-bar"),
            ("  ╰─▶ Because nosuch was not found in the package registry and you require nosuch, we can", "nosuch"),
        ] {
            let u = JobRecord { error: Some(said.into()), log_tail: String::new(), ..j.clone() };
            assert_eq!(without_wheel(&u), [name], "{said}");
        }
        j.distributions.push(Distribution {
            name: "lz".into(),
            version: "4".into(),
            source: Source::Sdist,
            file: "lz-4.tar.gz".into(),
            requested: true,
        });
        assert_eq!(without_wheel(&j), ["lz"]);
        j.distributions[0].source = Source::Pure;
        j.outcome = BuildOutcome::Installed;
        assert!(without_wheel(&j).is_empty());
    }

    #[test]
    fn the_sentence_says_which_version_or_that_none_has_a_wheel_or_why_it_cannot_tell() {
        let mut a = Available::default();
        a.tags.insert("musl".into(), Ok(s(&MUSL_TAGS)));
        a.files.insert("pkg".into(), Ok(s(&["pkg-1.0-py3-none-any.whl", "pkg-2.0.tar.gz"])));
        a.files.insert("src".into(), Ok(s(&["src-2.0.tar.gz"])));
        a.files.insert("gone".into(), Err("GET …: HTTP 500".into()));
        assert!(hint("pkg", "musl", &a).starts_with("the newest version of pkg with a wheel for this base is 1.0"));
        assert!(hint("pkg", "musl", &a).contains("… 4 in all"));
        assert!(
            hint("src", "musl", &a).starts_with("no version of src on the index has a wheel for this base (1 files")
        );
        assert!(hint("gone", "musl", &a).contains("HTTP 500"));
        assert!(hint("pkg", "glibc", &a).contains("tags were not observed"));
    }
}
