//! The rule for a matrix that lists one base image twice, with two installers (pip and uv): a
//! dependency whose outcome or resolved set (names, versions, and wheel or sdist) differs
//! between the two is an `installer-differs` finding, information unless the policy blocks it.
//! Each pair of bases with the same image and different installers is compared on its own.

use std::collections::BTreeMap;

use super::{finalize, first_line, Draft};
use crate::kinds::FindingKind;
use crate::matrix::{Base, Policy};
use crate::model::{Finding, JobRecord};

/// What a job resolved to, for comparison: its outcome, and each distribution with its source.
fn resolved(j: &JobRecord) -> (String, BTreeMap<String, String>) {
    let outcome = serde_json::to_value(j.outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let dists = j
        .distributions
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                format!(
                    "{} ({})",
                    d.version,
                    serde_json::to_value(d.source)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    (outcome, dists)
}

fn describe(j: &JobRecord) -> String {
    let (outcome, dists) = resolved(j);
    let installer = j.installer.clone().unwrap_or_default();
    if dists.is_empty() {
        let why = first_line(j.error.as_deref().unwrap_or(""));
        return format!("{installer}: {outcome}{}", if why.is_empty() { String::new() } else { format!(": {why}") });
    }
    format!("{installer}: {outcome}: {}", dists.iter().map(|(n, v)| format!("{n} {v}")).collect::<Vec<_>>().join(", "))
}

/// The `installer-differs` findings of one dependency.
pub fn installer_findings(
    dependency: &str,
    jobs: &[JobRecord],
    bases: &[Base],
    policy: &Policy,
    required: &BTreeMap<String, bool>,
) -> Vec<Finding> {
    let mut out = vec![];
    for (i, a) in bases.iter().enumerate() {
        for b in &bases[i + 1..] {
            if a.image != b.image || a.installer == b.installer {
                continue;
            }
            let job = |base: &Base| jobs.iter().find(|j| j.dependency == dependency && j.base == base.name);
            let (Some(ja), Some(jb)) = (job(a), job(b)) else { continue };
            if resolved(ja) == resolved(jb) {
                continue;
            }
            let (ra, rb) = (resolved(ja), resolved(jb));
            let mut moved: Vec<String> = vec![];
            if ra.0 != rb.0 {
                moved.push(format!("{} under {}, {} under {}", ra.0, a.installer.name(), rb.0, b.installer.name()));
            }
            for name in ra.1.keys().chain(rb.1.keys()).collect::<std::collections::BTreeSet<_>>() {
                let (x, y) = (ra.1.get(name), rb.1.get(name));
                if x != y {
                    let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "not installed".into());
                    moved.push(format!("{name} {} / {}", show(x), show(y)));
                }
            }
            let evidence = BTreeMap::from([(a.name.clone(), describe(ja)), (b.name.clone(), describe(jb))]);
            let summary = format!(
                "{dependency} resolves or installs differently with {} on {} and {} on {} (the same image): {}",
                a.installer.name(),
                a.name,
                b.installer.name(),
                b.name,
                moved.join("; ")
            );
            let item = format!("{}+{}", a.name, b.name);
            let d = Draft::new(
                FindingKind::InstallerDiffers,
                item,
                summary,
                evidence,
                vec![a.name.clone(), b.name.clone()],
            );
            out.push(finalize(dependency, d, policy, required, None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Family, Installer};
    use crate::model::{BuildOutcome, Distribution, Severity, Source};

    fn base(name: &str, image: &str, installer: Installer) -> Base {
        Base {
            name: name.into(),
            image: image.into(),
            family: Family::None,
            python: "python3".into(),
            packages: vec![],
            required: true,
            installer,
        }
    }

    fn job(base: &str, outcome: BuildOutcome, dists: &[(&str, &str, Source)]) -> JobRecord {
        let mut j = JobRecord::new("app", base, "app", outcome);
        j.distributions = dists
            .iter()
            .map(|(n, v, s)| Distribution {
                name: n.to_string(),
                version: v.to_string(),
                source: *s,
                file: String::new(),
                requested: false,
            })
            .collect();
        j
    }

    #[test]
    fn the_same_image_under_two_installers_is_compared_and_a_difference_is_information() {
        let bases = [
            base("musl", "m:1", Installer::Pip),
            base("musl-uv", "m:1", Installer::Uv),
            base("glibc", "g:1", Installer::Pip),
        ];
        let required: BTreeMap<String, bool> = bases.iter().map(|b| (b.name.clone(), true)).collect();
        let policy = Policy::default();
        let same = [
            job("musl", BuildOutcome::Installed, &[("six", "1.17.0", Source::Pure)]),
            job("musl-uv", BuildOutcome::Installed, &[("six", "1.17.0", Source::Pure)]),
            job("glibc", BuildOutcome::Installed, &[("six", "1.16.0", Source::Pure)]),
        ];
        assert!(installer_findings("app", &same, &bases, &policy, &required).is_empty(), "glibc is another image");
        let differ = [
            job("musl", BuildOutcome::Installed, &[("lz4", "4.4.5", Source::Sdist)]),
            job("musl-uv", BuildOutcome::InstallFailed, &[]),
        ];
        let f = installer_findings("app", &differ, &bases, &policy, &required);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "app/installer-differs/musl+musl-uv");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].summary.contains("installed under pip, install-failed under uv"), "{}", f[0].summary);
        assert!(f[0].summary.contains("lz4 4.4.5 (sdist) / not installed"), "{}", f[0].summary);
    }
}
