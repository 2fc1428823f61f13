//! Content keys: a short digest of an ordered list of strings, each length-prefixed so that
//! `["ab", "c"]` and `["a", "bc"]` differ. Every cache of the harness (prep and job image tags,
//! observations, the matrix digest, an index page's state) is named by one. A leaf.

use sha2::{Digest, Sha256};

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
