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

/// The cache directory, when there is one.
pub fn dir() -> Option<PathBuf> {
    cache_dir("MUSLCHECK_OBSERVATIONS", "observations")
}

/// The default name of pip's cache volumes (one per base: `<name>-<base>`).
pub const PIP_CACHE_VOLUME: &str = "muslcheck-pip";

/// The engine-side volumes that keep pip's download and wheel cache between runs, one per base:
/// `MUSLCHECK_PIP_CACHE` names them (`<name>-<base>`), `off` turns the cache off; by default
/// `muslcheck-pip-<base>`. Volumes, not a directory of this machine: the engine may see another
/// filesystem (a remote engine, a socket mounted into a CI job's container), and a volume works
/// on any engine. `Err` for a name the engine would refuse.
pub fn pip_cache_volume() -> Result<Option<String>, String> {
    match std::env::var("MUSLCHECK_PIP_CACHE") {
        Ok(v) if v == "off" => Ok(None),
        Ok(v) if !v.is_empty() => {
            let ok = v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if ok {
                Ok(Some(v))
            } else {
                Err(format!(
                    "MUSLCHECK_PIP_CACHE `{}` is not a volume name (letters, digits, `.`, `_`, `-`, at most 64) or `off`",
                    crate::input::shown(&v)
                ))
            }
        }
        _ => Ok(Some(PIP_CACHE_VOLUME.to_string())),
    }
}

/// A cache directory of the harness's: `$VAR` (a directory, or `off`), else
/// `$XDG_CACHE_HOME/muslcheck/<name>` or `~/.cache/muslcheck/<name>`.
pub fn cache_dir(var: &str, name: &str) -> Option<PathBuf> {
    match std::env::var(var) {
        Ok(v) if v == "off" => None,
        Ok(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("muslcheck").join(name))
        }
    }
}

/// A key for an observation: a digest of its inputs, in order.
pub fn key(parts: &[&str]) -> String {
    // The harness's own identity too (the probe programs, how their records are read, the
    // record format): a change to any of them re-observes.
    let mut all = vec![crate::identity::observations()];
    all.extend_from_slice(parts);
    crate::key::key(&all)
}

/// A digest of a text (a probe program, a smoke script), for use in a key.
pub fn digest(text: &str) -> String {
    crate::key::key(&[text])
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
    if let Err(e) = crate::results::write_atomic(&path(dir, kind, key), &json) {
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
