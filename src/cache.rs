//! The observation cache: what a probe observed in an image, kept on the host by a key made of
//! everything the observation depends on (the image's content-addressed id, the probe program,
//! its configuration and sandbox), so an unchanged image is not observed again. Only
//! observations that are facts of their inputs are kept: a probe that did not finish may have
//! met a passing problem, and is observed again next time.
//!
//! Entries are JSON files named by their key under `MUSLCHECK_OBSERVATIONS` (or `off`), by
//! default `~/.cache/muslcheck/observations`; written atomically, read leniently (an unreadable
//! entry is a miss, never an error).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bumped when the shape or meaning of a cached observation changes.
pub const OBSERVATION_VERSION: &str = "muslcheck-observation-1";

/// The cache directory, when there is one.
pub fn dir() -> Option<PathBuf> {
    crate::settings::cache_dir("MUSLCHECK_OBSERVATIONS", "observations")
}

/// A key for an observation: a digest of its inputs, in order.
pub fn key(parts: &[&str]) -> String {
    // The harness's own version too: what it keeps is parsed, so a new parser re-observes.
    let mut all = vec![OBSERVATION_VERSION, env!("CARGO_PKG_VERSION")];
    all.extend_from_slice(parts);
    crate::plan::key(&all)
}

/// A digest of a text (a probe program, a smoke script), for use in a key.
pub fn digest(text: &str) -> String {
    crate::plan::key(&[text])
}

fn path(dir: &Path, kind: &str, key: &str) -> PathBuf {
    dir.join(format!("{kind}-{key}.json"))
}

/// The cached observation, if there is a readable one.
pub fn get<T: DeserializeOwned>(dir: Option<&Path>, kind: &str, key: &str) -> Option<T> {
    let text = std::fs::read(path(dir?, kind, key)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Keeps an observation. A cache that cannot be written costs time, not correctness: logged.
pub fn put<T: Serialize>(dir: Option<&Path>, kind: &str, key: &str, value: &T) {
    let Some(dir) = dir else { return };
    let json = serde_json::to_vec(value).expect("serialising an observation");
    if let Err(e) = crate::report::write_atomic(&path(dir, kind, key), &json) {
        tracing::warn!("could not keep an observation in {}: {e}", dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_unreadable_ones_are_misses() {
        let d = tempfile::tempdir().unwrap();
        let k = key(&["sha256:abc", "probe"]);
        assert_eq!(get::<Vec<u32>>(Some(d.path()), "t", &k), None);
        put(Some(d.path()), "t", &k, &vec![1u32, 2]);
        assert_eq!(get::<Vec<u32>>(Some(d.path()), "t", &k), Some(vec![1, 2]));
        std::fs::write(d.path().join(format!("t-{k}.json")), "{not json").unwrap();
        assert_eq!(get::<Vec<u32>>(Some(d.path()), "t", &k), None);
        assert_eq!(get::<Vec<u32>>(None, "t", &k), None);
        assert_ne!(key(&["a"]), key(&["b"]));
    }
}
