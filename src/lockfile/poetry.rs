//! `poetry.lock` with the `pyproject.toml` beside it: the lock holds every package and its
//! dependencies, the pyproject says which are the project's (`[project]` or
//! `[tool.poetry.dependencies]`), which groups there are and which are optional, and which
//! extras name what. `poetry install` installs the main dependencies and every non-optional
//! group; `--group` adds one, `--extra` adds an extra, `--no-default-groups` keeps only main.
//! The project itself is not in the lock. Read with `toml` and `serde`, spans kept.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::str::FromStr;

use pep508_rs::MarkerTree;
use serde::Deserialize;
use toml::Spanned;

use super::marker::{self, Var};
use super::{at, hash, normalise, Pin, Selection};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    files: Vec<File>,
    #[serde(default)]
    dependencies: BTreeMap<String, Spec>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    source: Option<Source>,
    /// Poetry 2: the marker under which the lock installs this entry, when one name is locked
    /// more than once (a string, or one per group).
    markers: Option<toml::Value>,
}

#[derive(Deserialize)]
struct File {
    hash: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
}

/// A dependency as poetry writes it: a version, a table, or several tables with markers.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Spec {
    /// `"^1.0"`: only the version, which the lock has already decided.
    Version(#[allow(dead_code)] String),
    Table(Table),
    Many(Vec<Table>),
}

#[derive(Deserialize, Clone, Default)]
struct Table {
    markers: Option<String>,
    python: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    extras: Vec<String>,
}

impl Spec {
    fn tables(&self) -> Vec<Table> {
        match self {
            Spec::Version(_) => vec![Table::default()],
            Spec::Table(t) => vec![t.clone()],
            Spec::Many(ts) => ts.clone(),
        }
    }
}

/// An edge: the dependency's name, the marker under which it is needed, the extras it asks.
struct Edge {
    name: String,
    marker: MarkerTree,
    extras: Vec<String>,
}

fn table_marker(t: &Table, extra: Option<&str>) -> Result<MarkerTree, String> {
    let mut m = marker::parse(t.markers.as_deref().unwrap_or(""), &|v, n| v == Var::Extra && Some(n) == extra)?;
    if let Some(py) = &t.python {
        m.and(marker::poetry_python(py)?);
    }
    Ok(m)
}

fn edges_of(name: &str, spec: &Spec, optional_too: bool, extra: Option<&str>) -> Result<Vec<Edge>, String> {
    let mut out = vec![];
    for t in spec.tables() {
        if t.optional && !optional_too {
            continue;
        }
        out.push(Edge { name: normalise(name), marker: table_marker(&t, extra)?, extras: t.extras.clone() });
    }
    Ok(out)
}

/// The project's own dependencies by selection, from the pyproject.
fn roots(pyproject: &Path, sel: &Selection) -> Result<(Vec<Edge>, Vec<String>), Vec<String>> {
    let text = crate::input::read_text(pyproject, crate::input::MAX_TEXT)
        .map_err(|e| vec![format!("{}: cannot read the pyproject.toml beside the lock: {e}", pyproject.display())])?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| vec![super::toml_error(pyproject, &text, &e)])?;
    let mut errors = vec![];
    let mut edges = vec![];
    let mut notes = vec![];
    let p = pyproject.display();
    let project = doc.get("project");
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let name = project.or(poetry).and_then(|t| t.get("name")).and_then(|n| n.as_str()).unwrap_or("the project");
    notes.push(format!("{p}: {name} is the project itself, not a locked dependency: left out"));
    let pep508 = |list: Option<&toml::Value>, what: &str, edges: &mut Vec<Edge>, errors: &mut Vec<String>| {
        for (i, item) in list.and_then(|l| l.as_array()).into_iter().flatten().enumerate() {
            let parsed = item.as_str().map(pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str);
            match parsed {
                Some(Ok(r)) => edges.push(Edge {
                    name: normalise(r.name.as_ref()),
                    marker: r.marker.clone(),
                    extras: r.extras.iter().map(|e| e.to_string()).collect(),
                }),
                _ => errors.push(format!("{p} {what}[{i}]: not a PEP 508 requirement")),
            }
        }
    };
    pep508(project.and_then(|t| t.get("dependencies")), "[project] dependencies", &mut edges, &mut errors);
    let deps_table = |v: Option<&toml::Value>| -> BTreeMap<String, Spec> {
        v.cloned().and_then(|v| v.try_into().ok()).unwrap_or_default()
    };
    let main = deps_table(poetry.and_then(|t| t.get("dependencies")));
    let poetry_extras: BTreeMap<String, Vec<String>> =
        poetry.and_then(|t| t.get("extras")).cloned().and_then(|v| v.try_into().ok()).unwrap_or_default();
    let add = |deps: &BTreeMap<String, Spec>,
               optional_ok: &dyn Fn(&str) -> bool,
               edges: &mut Vec<Edge>,
               errors: &mut Vec<String>| {
        for (n, spec) in deps {
            if n == "python" {
                continue;
            }
            match edges_of(n, spec, optional_ok(&normalise(n)), None) {
                Ok(e) => edges.extend(e),
                Err(e) => errors.push(format!("{p} [tool.poetry] {n}: {e}")),
            }
        }
    };
    let asked_optional: Vec<String> = sel
        .extras
        .iter()
        .flat_map(|e| poetry_extras.get(e).cloned().unwrap_or_default())
        .map(|n| normalise(&n))
        .collect();
    add(&main, &|n| asked_optional.contains(&n.to_string()), &mut edges, &mut errors);
    for e in &sel.extras {
        let pep621 = project.and_then(|t| t.get("optional-dependencies")).and_then(|o| o.get(e));
        if pep621.is_none() && !poetry_extras.contains_key(e) {
            errors.push(format!("{p}: --extra {e}: no such extra"));
        }
        pep508(pep621, &format!("[project.optional-dependencies] {e}"), &mut edges, &mut errors);
    }
    let groups = poetry.and_then(|t| t.get("group")).and_then(|g| g.as_table());
    let mut selected = vec![];
    for (g, table) in groups.into_iter().flatten() {
        let optional = table.get("optional").and_then(|o| o.as_bool()).unwrap_or(false);
        if sel.groups.contains(g) || (!optional && !sel.no_default_groups) {
            selected.push(g.clone());
            add(&deps_table(table.get("dependencies")), &|_| false, &mut edges, &mut errors);
        }
    }
    if !sel.no_default_groups || sel.groups.iter().any(|g| g == "dev") {
        if let Some(dev) = poetry.and_then(|t| t.get("dev-dependencies")) {
            selected.push("dev".into());
            add(&deps_table(Some(dev)), &|_| false, &mut edges, &mut errors);
        }
    }
    for g in &sel.groups {
        if !selected.contains(g) {
            errors.push(format!("{p}: --group {g}: no such group in [tool.poetry.group]"));
        }
    }
    if errors.is_empty() {
        Ok((edges, notes))
    } else {
        Err(errors)
    }
}

type Key = (usize, Option<String>);

pub(super) fn read(path: &Path, text: &str, sel: &Selection) -> Result<(Vec<Pin>, Vec<String>), Vec<String>> {
    let lock: Lock = toml::from_str(text).map_err(|e| vec![super::toml_error(path, text, &e)])?;
    let pyproject = path.with_file_name("pyproject.toml");
    let (root_edges, mut notes) = roots(&pyproject, sel)?;
    let pkgs: Vec<(&Package, usize)> = lock.package.iter().map(|p| (p.get_ref(), p.span().start)).collect();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (p, _)) in pkgs.iter().enumerate() {
        by_name.entry(normalise(&p.name)).or_default().push(i);
    }
    let mut errors = vec![];
    let mut markers: HashMap<Key, MarkerTree> = HashMap::new();
    let mut todo: VecDeque<Key> = VecDeque::new();
    // An edge reaches every entry of its name, each under the entry's own marker when one name
    // is locked more than once (poetry 2 writes it; an older lock that does not is refused).
    let follow = |e: &Edge,
                  from: &str,
                  markers: &mut HashMap<Key, MarkerTree>,
                  todo: &mut VecDeque<Key>,
                  errors: &mut Vec<String>| {
        let targets = by_name.get(&e.name).cloned().unwrap_or_default();
        if targets.is_empty() {
            errors.push(format!("{from}: `{}` is a dependency but is not locked", e.name));
            return;
        }
        for &t in &targets {
            let mut m = e.marker.clone();
            if targets.len() > 1 {
                match pkgs[t].0.markers.as_ref().and_then(|v| v.as_str()) {
                    Some(own) => match marker::parse(own, &|_, _| false) {
                        Ok(own) => m.and(own),
                        Err(err) => errors.push(format!("{}: {err}", at(path, text, pkgs[t].1))),
                    },
                    None => {
                        errors.push(format!(
                            "{}: `{}` is locked more than once without a marker that tells the entries apart",
                            at(path, text, pkgs[t].1),
                            e.name
                        ));
                        continue;
                    }
                }
            }
            let keys = std::iter::once(None).chain(e.extras.iter().map(|x| Some(normalise(x))));
            for k in keys {
                let entry = markers.entry((t, k.clone())).or_insert(MarkerTree::FALSE);
                let mut joined = entry.clone();
                joined.or(m.clone());
                if joined != *entry {
                    *entry = joined;
                    todo.push_back((t, k));
                }
            }
        }
    };
    let from = pyproject.display().to_string();
    for e in &root_edges {
        follow(e, &from, &mut markers, &mut todo, &mut errors);
    }
    while let Some(key) = todo.pop_front() {
        let (p, offset) = pkgs[key.0];
        let where_ = at(path, text, offset);
        let m = markers[&key].clone();
        let mut edges = vec![];
        match &key.1 {
            None => {
                for (n, spec) in &p.dependencies {
                    match edges_of(n, spec, false, None) {
                        Ok(e) => edges.extend(e),
                        Err(err) => errors.push(format!("{where_}: {n}: {err}")),
                    }
                }
            }
            Some(extra) => {
                let listed = p.extras.iter().find(|(k, _)| normalise(k) == *extra).map(|(_, v)| v.clone());
                for item in listed.unwrap_or_default() {
                    // `Name (>=1.0)` or `name[extra] (spec)`: the name is what matters.
                    let n = normalise(item.split([' ', '(', '[', ';']).next().unwrap_or(""));
                    let spec = p.dependencies.iter().find(|(k, _)| normalise(k) == n).map(|(_, s)| s);
                    match spec.map(|s| edges_of(&n, s, true, Some(extra))) {
                        Some(Ok(e)) => edges.extend(e),
                        Some(Err(err)) => errors.push(format!("{where_}: {n}: {err}")),
                        None => {
                            errors.push(format!("{where_}: the extra {extra} names {n}, which is not a dependency"))
                        }
                    }
                }
            }
        }
        for mut e in edges {
            e.marker = marker::and(&m, &e.marker);
            follow(&e, &where_, &mut markers, &mut todo, &mut errors);
        }
    }
    let mut pins = vec![];
    for (i, (p, offset)) in pkgs.iter().enumerate() {
        let Some(m) = markers.get(&(i, None)).filter(|m| !m.is_false()) else { continue };
        let where_ = at(path, text, *offset);
        if let Some(s) = p.source.as_ref().filter(|s| s.kind != "legacy") {
            let how = format!("{} {}", s.kind, crate::input::shown(s.url.as_deref().unwrap_or("")));
            if s.kind == "directory" && s.url.as_deref().is_some_and(|u| u == "." || u.is_empty()) {
                notes.push(format!("{where_}: {} ({how}) is the project's own code: left out", p.name));
            } else {
                errors.push(format!(
                    "{where_}: {} comes from {how}, not from the package index: a lock entry whose only source is a URL, a path or a VCS reference cannot be gated",
                    p.name
                ));
            }
            continue;
        }
        let mut hashes = vec![];
        for f in &p.files {
            match f.hash.as_deref().map(hash) {
                Some(Ok(h)) => hashes.push(h),
                Some(Err(e)) => errors.push(format!("{where_}: {e}")),
                None => {}
            }
        }
        pins.push(Pin { name: normalise(&p.name), version: p.version.clone(), marker: m.clone(), hashes, at: where_ });
    }
    if errors.is_empty() {
        Ok((pins, notes))
    } else {
        errors.sort();
        errors.dedup();
        Err(errors)
    }
}
