//! Gating against a lock (`gate NEW... --lock FILE`): the new requirements are installed
//! together with the lock in one pip run per base, and the lock is installed alone on every
//! base too (a job like any other, cached by what went into it, not probed), so the comparison
//! can say what the new requirements change in the lock's resolution on each base.
//!
//! The lock is a requirements file as [`reqfile::read`](crate::matrix::reqfile::read) reads it,
//! or a lock file as [`lockfile::read`](crate::lockfile::read) reads it (its pins, with their
//! markers and hashes, for the selection asked for): its `==` pins are requirements, not preferences, exactly as `pip install -r lock.txt` in the
//! image build treats them. A new requirement that needs another version of a pinned
//! distribution is therefore a conflict, which is what that build would meet.
//!
//! Hashes: pip's hash-checking mode is all or nothing (one `--hash` puts the whole run under
//! `--require-hashes`), and new requirements have no hashes yet: they get them when the lock is
//! regenerated. So the lock-alone job keeps the lock's hashes and checks them (a file that does
//! not match is reported there), and the combined job installs the same pins without them. The
//! question the combined job answers is whether the set resolves and what moves, which needs no
//! hash; refusing to run it, or hashing files on the user's behalf, would answer nothing.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::matrix::reqfile::RequirementSet;
use crate::matrix::{Dependency, Matrix, Requirement};
use crate::plan::Job;

/// How a gate against a lock is run and compared.
#[derive(Debug, Clone)]
pub struct LockPlan {
    pub file: PathBuf,
    /// The lock alone: built on every base for comparison, never probed.
    pub baseline: Dependency,
    /// The name of the dependency that installs the lock and the new requirements together.
    pub gated: String,
    /// The lock has hashes, which the combined install runs without (see the module's doc).
    pub hashes_dropped: bool,
}

fn without_hashes(reqs: impl IntoIterator<Item = Requirement>) -> Vec<Requirement> {
    reqs.into_iter().map(|r| Requirement { hashes: vec![], ..r }).collect()
}

/// A name for a dependency: letters, digits and `._-`, at most 64 characters.
fn name_of(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).take(64).collect()
}

/// Reads the lock and joins the new requirements (each gated alone without a lock) into one
/// dependency that installs them with it. Every problem in the lock is reported as `file:line`.
pub fn plan(file: &Path, set: RequirementSet, new: Vec<Dependency>) -> Result<(Dependency, LockPlan)> {
    if set.requirements.is_empty() {
        return Err(Error::Usage(format!("{}: the lock names no requirement", file.display())));
    }
    let Some(first) = new.first() else {
        return Err(Error::Usage("--lock needs the new requirements to gate against it, as arguments".into()));
    };
    let hashes_dropped = set.requirements.iter().chain(&set.constraints).any(|l| !l.requirement.hashes.is_empty());
    let lock_reqs: Vec<Requirement> = set.requirements.into_iter().map(|l| l.requirement).collect();
    let lock_constraints: Vec<Requirement> = set.constraints.into_iter().map(|l| l.requirement).collect();
    let single = new.len() == 1;
    let gated_name = if single { first.name.clone() } else { "new-requirements".to_string() };
    let mut gated = Dependency {
        name: gated_name.clone(),
        requirement: first.requirement.clone(),
        also: new[1..].iter().map(|d| d.requirement.clone()).collect(),
        constraints: without_hashes(lock_constraints.clone()),
        smoke: if single { first.smoke.clone() } else { None },
        known_difference: if single { first.known_difference.clone() } else { None },
    };
    gated.also.extend(without_hashes(lock_reqs.clone()));
    let stem = name_of(&file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default());
    let mut baseline_name = if stem.is_empty() { "lock".to_string() } else { stem };
    if baseline_name == gated_name {
        baseline_name = name_of(&format!("{baseline_name}-lock"));
    }
    let mut reqs = lock_reqs.into_iter();
    let baseline = Dependency {
        name: baseline_name,
        requirement: reqs.next().expect("a lock names a requirement"),
        also: reqs.collect(),
        constraints: lock_constraints,
        smoke: None,
        known_difference: None,
    };
    Ok((gated, LockPlan { file: file.to_path_buf(), baseline, gated: gated_name, hashes_dropped }))
}

/// The lock-alone jobs, one per base.
pub fn baseline_jobs(lock: Option<&LockPlan>, m: &Matrix) -> Vec<Job> {
    lock.into_iter()
        .flat_map(|l| m.bases.iter().map(|b| Job { dependency: l.baseline.clone(), base: b.clone() }))
        .collect()
}

/// Whether a job installs the lock alone (it is built for comparison only, not probed).
pub fn is_baseline(lock: Option<&LockPlan>, job: &Job) -> bool {
    lock.is_some_and(|l| l.baseline.name == job.dependency.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> RequirementSet {
        crate::matrix::reqfile::read(p).unwrap()
    }

    fn dep(req: &str) -> Dependency {
        let requirement = Requirement::parse(req).unwrap();
        Dependency {
            name: requirement.name.clone(),
            requirement,
            also: vec![],
            constraints: vec![],
            smoke: None,
            known_difference: None,
        }
    }

    #[test]
    fn the_combined_set_installs_the_lock_without_its_hashes_and_the_lock_alone_keeps_them() {
        let d = tempfile::tempdir().unwrap();
        let lock = d.path().join("requirements.txt");
        let h = format!("sha256:{}", "a".repeat(64));
        std::fs::write(&lock, format!("six==1.17.0 --hash={h}\nmsgpack==1.1.2\n")).unwrap();
        let (gated, p) = plan(&lock, read(&lock), vec![dep("attrs>=25")]).unwrap();
        assert_eq!(gated.name, "attrs");
        let set = gated.install_set();
        assert_eq!(set.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["attrs", "six", "msgpack"]);
        assert!(set.iter().all(|r| r.hashes.is_empty()), "{set:?}");
        assert!(p.hashes_dropped);
        assert_eq!(p.baseline.name, "requirements");
        assert_eq!(p.baseline.install_set()[0].hashes, [h]);
        // Several new requirements are one set; a lock named like it is told apart.
        let attrs_lock = d.path().join("attrs.txt");
        std::fs::write(&attrs_lock, "six==1.17.0\n").unwrap();
        let (_, p) = plan(&attrs_lock, read(&attrs_lock), vec![dep("attrs")]).unwrap();
        assert_eq!(p.baseline.name, "attrs-lock");
        assert!(!p.hashes_dropped);
        let (g, _) = plan(&attrs_lock, read(&attrs_lock), vec![dep("attrs"), dep("idna")]).unwrap();
        assert_eq!((g.name.as_str(), g.install_set().len()), ("new-requirements", 3));
    }

    #[test]
    fn a_lock_that_names_nothing_or_nothing_to_gate_is_a_usage_error() {
        let d = tempfile::tempdir().unwrap();
        let empty = d.path().join("lock.txt");
        std::fs::write(&empty, "# nothing\n").unwrap();
        let e = plan(&empty, read(&empty), vec![dep("six")]).unwrap_err();
        assert!(matches!(e, Error::Usage(_)) && e.to_string().contains("names no requirement"), "{e}");
        std::fs::write(&empty, "six==1.17.0\n").unwrap();
        let e = plan(&empty, read(&empty), vec![]).unwrap_err();
        assert!(e.to_string().contains("--lock needs the new requirements"), "{e}");
    }
}
