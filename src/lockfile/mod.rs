//! Lock files as inputs (`-r` and `--lock`): `uv.lock`, `poetry.lock` (with its
//! `pyproject.toml`), `pylock.toml` (PEP 751) and `Pipfile.lock`, each read into the exact set
//! of pins it holds for the selection asked for (`--extra`, `--group`, `--package`), with the
//! hashes of every file it lists, as the same [`RequirementSet`] a requirements file gives.
//!
//! Markers are never evaluated here: the host is not a base. Each pin carries the marker under
//! which the lock installs it (for a graph lock, the disjunction over every path from the
//! project to it of the conjunction of the edges' markers, as `uv export` writes it), and pip
//! in each base's own interpreter decides which pins apply there. Only the selection (extras,
//! groups) is decided here, since it is the user's choice and no fact of a base.
//!
//! The project's own entries (virtual, editable, the workspace's members) are left out, and
//! the notes say so; a selected entry whose only source is a URL, a path or a VCS reference is
//! refused with its `file:line`, as an index option in a requirements file is.

mod marker;
mod pipfile;
mod poetry;
mod pylock;
mod uv;

use std::path::Path;

use crate::matrix::reqfile::{Located, RequirementSet};
use crate::matrix::Requirement;

/// Which part of a lock to install: what `uv sync`, `poetry install`, `pipenv install` or a
/// PEP 751 installer would be told with the same words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub extras: Vec<String>,
    pub groups: Vec<String>,
    /// A uv workspace member to install instead of the workspace root.
    pub package: Option<String>,
    /// Leave out the groups the tool installs by default (uv's `dev`, poetry's non-optional
    /// groups, a pylock's `default-groups`).
    pub no_default_groups: bool,
}

/// A lock read for a selection: its pins, and what was left out and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Locked {
    pub set: RequirementSet,
    pub notes: Vec<String>,
}

/// The lock formats, by the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Uv,
    Poetry,
    Pylock,
    Pipfile,
}

impl Format {
    /// The format of a file named like a lock (`uv.lock`, `poetry.lock`, `pylock.toml` or
    /// `pylock.NAME.toml`, `Pipfile.lock`), else none.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        match name {
            "uv.lock" => Some(Format::Uv),
            "poetry.lock" => Some(Format::Poetry),
            "Pipfile.lock" => Some(Format::Pipfile),
            _ if name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml")) => {
                Some(Format::Pylock)
            }
            _ => None,
        }
    }
}

/// One pin as a lock holds it, before it becomes a requirement.
#[derive(Debug, Clone)]
pub(crate) struct Pin {
    pub name: String,
    pub version: String,
    /// The marker under which the lock installs it (true: everywhere).
    pub marker: pep508_rs::MarkerTree,
    pub hashes: Vec<String>,
    /// `file:line` of the entry.
    pub at: String,
}

/// Reads a lock for a selection. Every problem is returned, each with its `file:line`.
pub fn read(path: &Path, format: Format, sel: &Selection) -> Result<Locked, Vec<String>> {
    let text = crate::input::read_text(path, crate::input::MAX_DATA).map_err(|e| {
        let (line, column) = e.position();
        vec![format!("{}:{line}:{column}: cannot read the lock: {e}", path.display())]
    })?;
    if sel.package.is_some() && format != Format::Uv {
        return Err(vec![format!(
            "{}: --package selects a member of a uv workspace, not of this lock",
            path.display()
        )]);
    }
    let (pins, notes) = match format {
        Format::Uv => uv::read(path, &text, sel)?,
        Format::Poetry => poetry::read(path, &text, sel)?,
        Format::Pylock => pylock::read(path, &text, sel)?,
        Format::Pipfile => pipfile::read(path, &text, sel)?,
    };
    let mut errors = vec![];
    let mut set = RequirementSet::default();
    // One name in two places (a Pipfile.lock's `default` and `develop`): one pin, installed
    // where either is; two versions of one name cannot be installed together.
    let mut merged: Vec<Pin> = vec![];
    for p in pins {
        match merged.iter_mut().find(|m| m.name == p.name) {
            Some(m) if m.version == p.version => {
                m.marker.or(p.marker);
                for h in p.hashes {
                    if !m.hashes.contains(&h) {
                        m.hashes.push(h);
                    }
                }
            }
            Some(m) => errors.push(format!(
                "{}: {} is pinned at {} here and at {} at {}: one environment cannot install both",
                p.at, p.name, p.version, m.version, m.at
            )),
            None => merged.push(p),
        }
    }
    for p in merged {
        if p.marker.is_false() {
            continue;
        }
        let text = match p.marker.try_to_string() {
            Some(m) => format!("{}=={} ; {m}", p.name, p.version),
            None => format!("{}=={}", p.name, p.version),
        };
        match Requirement::parse(&text) {
            Ok(mut r) => {
                r.hashes = p.hashes;
                set.requirements.push(Located { requirement: r, at: p.at });
            }
            Err(e) => errors.push(format!("{}: {e}", p.at)),
        }
    }
    if set.requirements.is_empty() && errors.is_empty() {
        errors.push(format!("{}: the lock pins nothing for this selection", path.display()));
    }
    if errors.is_empty() {
        Ok(Locked { set, notes })
    } else {
        Err(errors)
    }
}

/// `file:line` of a byte offset.
pub(crate) fn at(path: &Path, text: &str, offset: usize) -> String {
    format!("{}:{}", path.display(), crate::input::line_col(text, offset).0)
}

/// A lock's `ALGO:HEX` (or `ALGO=HEX`) hash, checked as a requirements file's `--hash` is.
pub(crate) fn hash(value: &str) -> Result<String, String> {
    crate::matrix::reqfile::check_hash(&value.replacen('=', ":", 1))
}

/// A distribution name as PEP 503 normalises it.
pub(crate) fn normalise(name: &str) -> String {
    crate::dist::normalise_name(name)
}

/// The line a TOML parse error points at, with its message.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let line = e.span().map(|s| crate::input::line_col(text, s.start).0).unwrap_or(1);
    format!("{}:{line}: not a lock this version reads: {}", path.display(), e.message())
}

#[cfg(test)]
mod tests;
