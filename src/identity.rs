//! The harness's build identities: digests of the code whose change makes an old cached result
//! wrong, derived from the code itself, so nobody has to remember to bump a constant.
//!
//! - [`recipe`]: what a prep or job image is made by and what its build record means: the build
//!   modules (the commands run, pip's options, how its output is read) and the record format
//!   (the model). Part of every prep and job image tag.
//! - [`observations`]: what an observation is made by and what it means: every probe program
//!   and the model. Part of every observation-cache key.
//!
//! Any byte changed in one of those files gives a new identity (a comment too: the price of
//! never serving a stale record is an occasional needless rebuild).

use std::sync::LazyLock;

use crate::probe::programs;

/// The record format: the model the records are read into.
const MODEL: &[&str] = &[
    include_str!("model/mod.rs"),
    include_str!("model/observations.rs"),
    include_str!("model/decision.rs"),
    include_str!("model/report.rs"),
];

/// The build recipe: what runs in a prep or job container and how its output is read.
const RECIPE: &[&str] = &[
    include_str!("install/mod.rs"),
    include_str!("install/prep.rs"),
    include_str!("install/job.rs"),
    include_str!("install/pip.rs"),
    include_str!("install/uv.rs"),
    include_str!("install/uv_install.py"),
    include_str!("srcbuild.rs"),
];

/// How observations are configured and read back: the probe layer's Rust side.
const RUNNERS: &[&str] = &[
    include_str!("probe/checks.rs"),
    include_str!("probe/records.rs"),
    include_str!("probe/runner.rs"),
    include_str!("probe/sections.rs"),
    include_str!("probe/wheels.rs"),
];

static RECIPE_ID: LazyLock<String> = LazyLock::new(|| identity("recipe", &[RECIPE, MODEL]));
static OBSERVATIONS_ID: LazyLock<String> = LazyLock::new(|| identity("observations", &[programs::ALL, RUNNERS, MODEL]));

fn identity(name: &str, groups: &[&[&str]]) -> String {
    let mut parts = vec![name];
    for g in groups {
        parts.extend_from_slice(g);
    }
    format!("{name}-{}", crate::key::key(&parts))
}

/// The identity of the build recipe and record format (see the module's doc).
pub fn recipe() -> String {
    RECIPE_ID.clone()
}

/// The identity of the probe programs and record format (see the module's doc).
pub fn observations() -> &'static str {
    &OBSERVATIONS_ID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_stable_and_distinct() {
        assert_eq!(recipe(), recipe());
        assert!(recipe().starts_with("recipe-"));
        assert!(observations().starts_with("observations-"));
    }

    #[test]
    fn one_byte_of_a_probe_program_changes_the_observation_identity() {
        let base = identity("observations", &[programs::ALL, RUNNERS, MODEL]);
        for i in 0..programs::ALL.len() {
            let mut changed: Vec<String> = programs::ALL.iter().map(|p| p.to_string()).collect();
            changed[i].push(' ');
            let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
            assert_ne!(identity("observations", &[&changed, RUNNERS, MODEL]), base, "program {i}");
        }
    }

    #[test]
    fn the_build_recipe_and_the_model_are_in_the_recipe_identity() {
        // Each file is in the digest: the recipe's own text is what the image is made by.
        assert!(RECIPE.iter().any(|f| f.contains("fn build_job")));
        assert!(RECIPE.iter().any(|f| f.contains("fn prep_command")));
        assert!(MODEL.iter().any(|f| f.contains("pub struct JobRecord")));
        let mut changed: Vec<String> = MODEL.iter().map(|p| p.to_string()).collect();
        changed[1].push(' ');
        let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
        assert_ne!(identity("recipe", &[RECIPE, &changed]), identity("recipe", &[RECIPE, MODEL]));
    }
}
