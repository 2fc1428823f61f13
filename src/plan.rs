//! Jobs (dependency x base), their stable ids, and content-addressed cache keys.

use sha2::{Digest, Sha256};

use crate::matrix::{Base, Dependency, Matrix};

/// Bumped whenever the build recipe changes in a way that invalidates cached images.
pub const RECIPE_VERSION: &str = "muslcheck-build-1";

#[derive(Debug, Clone)]
pub struct Job {
    pub dependency: Dependency,
    pub base: Base,
}

impl Job {
    /// `<dependency>[<base>]`: stable across runs, and the JUnit test-case name.
    pub fn id(&self) -> String {
        job_id(&self.dependency.name, &self.base.name)
    }
}

pub fn job_id(dep: &str, base: &str) -> String {
    format!("{dep}[{base}]")
}

/// Every (dependency, base) pair, sorted by dependency then base as the matrix lists them.
pub fn jobs(m: &Matrix) -> Vec<Job> {
    m.dependencies
        .iter()
        .flat_map(|d| m.bases.iter().map(move |b| Job { dependency: d.clone(), base: b.clone() }))
        .collect()
}

/// A short hex digest of the parts, in order, unambiguously separated.
pub fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..10])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_unambiguous() {
        assert_eq!(key(&["a", "bc"]), key(&["a", "bc"]));
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_eq!(key(&["x"]).len(), 20);
    }
}
