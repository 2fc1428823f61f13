//! Names and file-name rules of Python distributions: PEP 503 name normalisation, and what a
//! distribution file's name says (a wheel of which platform family, or an sdist). A leaf:
//! imported by the build, the index client, the source-build reader and the comparison, it
//! imports nothing of the crate.

use serde::{Deserialize, Serialize};

/// Where a file pip chose came from, by its name.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Musllinux,
    Manylinux,
    /// A platform wheel that is neither (e.g. `linux_x86_64` from a local build).
    OtherWheel,
    Pure,
    Sdist,
    Unknown,
}

/// PEP 503 normalisation.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// An sdist file's distribution name (as written) and version: an sdist name may contain
/// dashes, so the version is after the last one.
pub fn sdist_name(file: &str) -> (&str, &str) {
    let stem = file.trim_end_matches(".tar.gz").trim_end_matches(".zip");
    stem.rsplit_once('-').unwrap_or((stem, ""))
}

/// Where a file pip chose came from, by its name (wheel platform tag or sdist).
pub fn classify(file: &str) -> Source {
    if let Some(stem) = file.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform; platform may be dotted (compressed tags).
        let platform = stem.rsplit('-').next().unwrap_or("");
        let tags: Vec<&str> = platform.split('.').collect();
        if tags.iter().any(|t| t.starts_with("musllinux")) {
            Source::Musllinux
        } else if tags.iter().any(|t| t.starts_with("manylinux")) {
            Source::Manylinux
        } else if tags.iter().all(|t| *t == "any") {
            Source::Pure
        } else {
            Source::OtherWheel
        }
    } else if file.ends_with(".tar.gz")
        || file.ends_with(".zip")
        || file.ends_with(".tar.bz2")
        || file.ends_with(".tgz")
    {
        Source::Sdist
    } else {
        Source::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_pep_503_says() {
        assert_eq!(normalise_name("Argon2_CFFI"), "argon2-cffi");
        assert_eq!(normalise_name("zope.interface"), "zope-interface");
        assert_eq!(normalise_name("a--b__c"), "a-b-c");
    }

    #[test]
    fn an_sdist_version_is_after_its_last_dash() {
        assert_eq!(sdist_name("backports.zoneinfo-0.2.1.tar.gz"), ("backports.zoneinfo", "0.2.1"));
        assert_eq!(sdist_name("my-pkg-1.0.zip"), ("my-pkg", "1.0"));
    }

    #[test]
    fn classifies_wheels_and_sdists() {
        assert_eq!(classify("numpy-2.3.5-cp313-cp313-musllinux_1_2_x86_64.whl"), Source::Musllinux);
        assert_eq!(
            classify("numpy-2.3.5-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"),
            Source::Manylinux
        );
        assert_eq!(classify("six-1.17.0-py2.py3-none-any.whl"), Source::Pure);
        assert_eq!(classify("foo-1.0-cp313-cp313-linux_x86_64.whl"), Source::OtherWheel);
        assert_eq!(classify("scikit_learn-1.7.2.tar.gz"), Source::Sdist);
        assert_eq!(classify(""), Source::Unknown);
    }
}
