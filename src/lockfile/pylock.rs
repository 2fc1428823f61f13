//! `pylock.toml` (PEP 751): a flat list of packages, each with the marker under which it is
//! installed, which may ask for the lock's extras (`'x' in extras`) and dependency groups
//! (`'x' in dependency_groups`). Those are decided by the selection (`--extra`, `--group`,
//! plus the lock's `default-groups` unless `--no-default-groups`); the rest is left for each
//! base. Read with `toml` and `serde`, spans kept.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::marker::{self, Var};
use super::{at, hash, normalise, Pin, Selection};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lock-version")]
    lock_version: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default, rename = "dependency-groups")]
    groups: Vec<String>,
    #[serde(default, rename = "default-groups")]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    vcs: Option<toml::Value>,
    directory: Option<Directory>,
    archive: Option<toml::Value>,
    sdist: Option<File>,
    #[serde(default)]
    wheels: Vec<File>,
}

#[derive(Deserialize)]
struct Directory {
    path: Option<String>,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
}

pub(super) fn read(path: &Path, text: &str, sel: &Selection) -> Result<(Vec<Pin>, Vec<String>), Vec<String>> {
    let lock: Lock = toml::from_str(text).map_err(|e| vec![super::toml_error(path, text, &e)])?;
    let mut errors = vec![];
    match lock.lock_version.as_deref() {
        Some(v) if v.split('.').next() == Some("1") => {}
        other => errors.push(format!(
            "{}:1: lock-version {} is not one this version reads (1.x)",
            path.display(),
            other.unwrap_or("(none)")
        )),
    }
    let extras: Vec<String> = sel.extras.iter().map(|e| normalise(e)).collect();
    let mut groups: Vec<String> = sel.groups.iter().map(|g| normalise(g)).collect();
    if !sel.no_default_groups {
        groups.extend(lock.default_groups.iter().map(|g| normalise(g)));
    }
    let known_extras: Vec<String> = lock.extras.iter().map(|e| normalise(e)).collect();
    let known_groups: Vec<String> = lock.groups.iter().map(|g| normalise(g)).collect();
    for e in &extras {
        if !known_extras.contains(e) {
            errors.push(format!(
                "{}: --extra {e}: the lock has no such extra ({})",
                path.display(),
                known_extras.join(", ")
            ));
        }
    }
    for g in sel.groups.iter().map(|g| normalise(g)) {
        if !known_groups.contains(&g) {
            errors.push(format!(
                "{}: --group {g}: the lock has no such group ({})",
                path.display(),
                known_groups.join(", ")
            ));
        }
    }
    let selected = |v: Var, n: &str| match v {
        Var::Extras => extras.iter().any(|e| e == n),
        Var::Groups => groups.iter().any(|g| g == n),
        Var::Extra => false,
    };
    let mut pins = vec![];
    let mut notes = vec![];
    for p in &lock.packages {
        let where_ = at(path, text, p.span().start);
        let p = p.get_ref();
        let m = match marker::parse(p.marker.as_deref().unwrap_or(""), &selected) {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("{where_}: {e}"));
                continue;
            }
        };
        if m.is_false() {
            continue;
        }
        if let Some(d) = &p.directory {
            let own = d.editable || matches!(d.path.as_deref(), Some(".") | Some("./") | Some(""));
            if own {
                notes.push(format!(
                    "{where_}: {} (directory {}) is the project's own code, not a locked dependency: left out",
                    p.name,
                    crate::input::shown(d.path.as_deref().unwrap_or(""))
                ));
                continue;
            }
        }
        let direct = [("vcs", p.vcs.is_some()), ("directory", p.directory.is_some()), ("archive", p.archive.is_some())];
        if let Some((how, _)) = direct.iter().find(|(_, has)| *has).filter(|_| p.sdist.is_none() && p.wheels.is_empty())
        {
            errors.push(format!(
                "{where_}: {} comes from a {how}, not from the package index: a lock entry whose only source is a URL, a path or a VCS reference cannot be gated",
                p.name
            ));
            continue;
        }
        let Some(version) = p.version.clone() else {
            errors.push(format!("{where_}: {} has no version", p.name));
            continue;
        };
        let mut hashes = vec![];
        for f in p.sdist.iter().chain(&p.wheels) {
            for (algo, hex) in &f.hashes {
                match hash(&format!("{algo}:{hex}")) {
                    Ok(h) => hashes.push(h),
                    Err(e) => errors.push(format!("{where_}: {e}")),
                }
            }
        }
        pins.push(Pin { name: normalise(&p.name), version, marker: m, hashes, at: where_ });
    }
    if errors.is_empty() {
        Ok((pins, notes))
    } else {
        Err(errors)
    }
}
