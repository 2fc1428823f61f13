//! Jobs (dependency x base), their stable ids, and content-addressed cache keys.

use crate::matrix::{Base, Dependency, Matrix};

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
