//! `Pipfile.lock`: JSON, one table per category (`default`, `develop`, and any other pipenv
//! writes), each entry already flattened with its own marker. `pipenv install --deploy`
//! installs `default`; `--group develop` (or `dev`) adds `develop`, `--group NAME` any other
//! category; `--no-default-groups` leaves `default` out. Read with `serde_json`, which keeps
//! no positions: an entry's line is found by its key in the text, after its category's.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::marker;
use super::{hash, normalise, Pin, Selection};

#[derive(Deserialize)]
struct Entry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    /// The oldest format: one hash.
    hash: Option<String>,
    markers: Option<String>,
    #[serde(default)]
    editable: bool,
    path: Option<String>,
    file: Option<String>,
    git: Option<String>,
    hg: Option<String>,
    svn: Option<String>,
    bzr: Option<String>,
}

/// The 1-based line of `"key"` after byte `from` (the category's key), else the category's.
fn line_of(text: &str, from: usize, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let offset = text[from..].find(&needle).map(|i| from + i).unwrap_or(from);
    (crate::input::line_col(text, offset).0, offset)
}

pub(super) fn read(path: &Path, text: &str, sel: &Selection) -> Result<(Vec<Pin>, Vec<String>), Vec<String>> {
    let doc: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| vec![format!("{}:{}: not a Pipfile.lock: {e}", path.display(), e.line())])?;
    let mut categories: Vec<String> = vec![];
    if !sel.no_default_groups {
        categories.push("default".into());
    }
    let mut errors = vec![];
    for g in &sel.groups {
        let c = if g == "dev" { "develop".to_string() } else { g.clone() };
        if !doc.contains_key(&c) || c == "_meta" {
            errors.push(format!("{}: --group {g}: the lock has no category {c}", path.display()));
        }
        categories.push(c);
    }
    if !sel.extras.is_empty() {
        errors.push(format!("{}: --extra: a Pipfile.lock has categories, not extras (use --group)", path.display()));
    }
    let mut pins = vec![];
    let mut notes = vec![];
    for c in &categories {
        let Some(section) = doc.get(c) else { continue };
        let (_, from) = line_of(text, 0, c);
        let Some(entries) = section.as_object() else {
            errors.push(format!(
                "{}:{}: category {c} is not a table of entries",
                path.display(),
                line_of(text, 0, c).0
            ));
            continue;
        };
        for (name, value) in entries {
            let name = name.clone();
            let where_ = format!("{}:{}", path.display(), line_of(text, from, &name).0);
            // pipenv's oldest locks name the project `"-e .": "*"`.
            let e: Option<Entry> = serde_json::from_value(value.clone()).ok();
            let own = name.starts_with("-e ")
                || e.as_ref().is_some_and(|e| e.editable && e.path.as_deref().is_some_and(|p| p == "." || p == "./"));
            if own {
                notes.push(format!(
                    "{where_}: {name} is the project's own code (editable), not a locked dependency: left out"
                ));
                continue;
            }
            let Some(e) = e else {
                errors.push(format!("{where_}: {name}: not a lock entry (a table with a version and hashes)"));
                continue;
            };
            let direct = [
                ("git", &e.git),
                ("hg", &e.hg),
                ("svn", &e.svn),
                ("bzr", &e.bzr),
                ("path", &e.path),
                ("file", &e.file),
            ];
            if let Some((how, Some(v))) = direct.iter().find(|(_, v)| v.is_some()) {
                errors.push(format!(
                    "{where_}: {name} comes from {how} {}, not from the package index: a lock entry whose only source is a URL, a path or a VCS reference cannot be gated",
                    crate::input::shown(v)
                ));
                continue;
            }
            let Some(version) = e.version.as_deref().and_then(|v| v.strip_prefix("==")).map(str::to_string) else {
                errors.push(format!("{where_}: {name} has no `==` version"));
                continue;
            };
            let m = match marker::parse(e.markers.as_deref().unwrap_or(""), &|_, _| false) {
                Ok(m) => m,
                Err(err) => {
                    errors.push(format!("{where_}: {err}"));
                    continue;
                }
            };
            let mut hashes = vec![];
            for h in e.hashes.iter().chain(&e.hash) {
                match hash(h) {
                    Ok(h) => hashes.push(h),
                    Err(err) => errors.push(format!("{where_}: {err}")),
                }
            }
            pins.push(Pin { name: normalise(&name), version, marker: m, hashes, at: where_ });
        }
    }
    if errors.is_empty() {
        Ok((pins, notes))
    } else {
        Err(errors)
    }
}
