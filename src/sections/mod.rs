//! The per-base sections as data: each is a kind (`kinds::SectionKind`: its id, subject and
//! titles), the probe program that observes it, how that program is run in a base, and what of
//! its observations is compared. The run schedules, caches, compares and renders every section
//! of [`ALL`] the same way, so a new section is its probe program, its file here and its kind.

mod profile;
mod resolver;

use futures_util::future::BoxFuture;

use crate::engine::{Engine, EngineError};
use crate::kinds::SectionKind;
use crate::model::ProbeSection;

/// Runs a section's probe: `(engine, base name, image, python)` to the section observed.
pub type Observe =
    for<'a> fn(&'a Engine, &'a str, &'a str, &'a str) -> BoxFuture<'a, Result<ProbeSection, EngineError>>;

/// How a section is observed and compared.
pub struct Section {
    pub kind: &'static SectionKind,
    /// The probe program (its text is part of the observation's cache key).
    pub program: &'static str,
    /// Whether it takes one of the run's probe slots. A section that mostly waits (on real DNS
    /// time-outs) takes none, so it never holds back a probe.
    pub takes_slot: bool,
    /// Runs the probe in an image of a base.
    pub observe: Observe,
    /// What of a check's value is compared between bases (`Null`: nothing): drops what varies
    /// from run to run on one base (timings, ports, query ids).
    pub normalise: fn(&str, &serde_json::Value) -> serde_json::Value,
}

impl std::fmt::Debug for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Section({})", self.kind.id)
    }
}

/// Every section, in the order of `kinds::SECTIONS`.
pub const ALL: &[&Section] = &[&profile::SECTION, &resolver::SECTION];

/// The section of a kind.
pub fn of(kind: &SectionKind) -> &'static Section {
    ALL.iter().find(|s| s.kind == kind).expect("every section kind has a section")
}

/// A value without the given keys, at any depth.
fn strip_keys(v: &serde_json::Value, keys: &[&str]) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), strip_keys(v, keys)))
                .collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(|x| strip_keys(x, keys)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_section_in_the_same_order() {
        let kinds: Vec<&str> = ALL.iter().map(|s| s.kind.id).collect();
        let declared: Vec<&str> = crate::kinds::SECTIONS.iter().map(|k| k.id).collect();
        assert_eq!(kinds, declared);
    }

    #[test]
    fn keys_are_stripped_at_any_depth() {
        let v = serde_json::json!({"a": 1, "duration_ms": 3, "b": [{"duration_ms": 4, "c": 5}]});
        assert_eq!(strip_keys(&v, &["duration_ms"]), serde_json::json!({"a": 1, "b": [{"c": 5}]}));
    }
}
