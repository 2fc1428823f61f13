//! `uv.lock`: a graph. The project (or the workspace member `--package` names) is the root;
//! its dependencies, the extras and groups asked for (and `dev`, which `uv sync` installs by
//! default), are followed edge by edge, each edge's marker joined to the path's, as `uv export`
//! does. Read with `toml` and `serde`, spans kept for every package.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

use pep508_rs::MarkerTree;
use serde::Deserialize;
use toml::Spanned;

use super::marker::{self, Var};
use super::{at, hash, normalise, Pin, Selection};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
    #[serde(default)]
    manifest: Option<Manifest>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<Dep>,
    #[serde(default, rename = "optional-dependencies")]
    optional: BTreeMap<String, Vec<Dep>>,
    #[serde(default, rename = "dev-dependencies")]
    groups: BTreeMap<String, Vec<Dep>>,
    sdist: Option<File>,
    #[serde(default)]
    wheels: Vec<File>,
}

#[derive(Deserialize, Clone)]
struct Dep {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    hash: Option<String>,
}

/// How uv itself installs a package of this source: from the index, as the project's own code
/// (left out), or from a URL, a path or a VCS reference (refused).
enum Kind {
    Registry,
    Own(String),
    Direct(String),
}

fn kind(p: &Package, members: &[String]) -> Kind {
    let first = p.source.iter().next().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("").to_string()));
    match first {
        Some(("registry", _)) => Kind::Registry,
        Some((k @ ("virtual" | "editable"), path)) => Kind::Own(format!("{k} {path}")),
        Some(("directory", path)) if members.contains(&normalise(&p.name)) => Kind::Own(format!("directory {path}")),
        Some((k, v)) => Kind::Direct(format!("{k} = {}", crate::input::shown(&v))),
        None => Kind::Direct("no source".into()),
    }
}

type Key = (usize, Option<String>);

pub(super) fn read(path: &Path, text: &str, sel: &Selection) -> Result<(Vec<Pin>, Vec<String>), Vec<String>> {
    let lock: Lock = toml::from_str(text).map_err(|e| vec![super::toml_error(path, text, &e)])?;
    let members: Vec<String> =
        lock.manifest.map(|m| m.members.iter().map(|n| normalise(n)).collect()).unwrap_or_default();
    let pkgs: Vec<(&Package, usize)> = lock.package.iter().map(|p| (p.get_ref(), p.span().start)).collect();
    let own: Vec<usize> = (0..pkgs.len()).filter(|&i| matches!(kind(pkgs[i].0, &members), Kind::Own(_))).collect();
    // The roots: the member asked for; else the project at the workspace's root; else (a
    // virtual workspace root) every member, as `uv sync` installs them.
    let roots: Vec<usize> = match &sel.package {
        Some(name) => {
            let n = normalise(name);
            match own.iter().find(|&&i| normalise(&pkgs[i].0.name) == n) {
                Some(&i) => vec![i],
                None => {
                    return Err(vec![format!(
                        "{}: --package {name}: no such workspace member (the lock's own packages: {})",
                        path.display(),
                        own.iter().map(|&i| pkgs[i].0.name.as_str()).collect::<Vec<_>>().join(", ")
                    )])
                }
            }
        }
        None => {
            let at_root: Vec<usize> = own
                .iter()
                .copied()
                .filter(|&i| pkgs[i].0.source.values().next().and_then(|v| v.as_str()) == Some("."))
                .collect();
            if at_root.is_empty() {
                own.clone()
            } else {
                at_root
            }
        }
    };
    if roots.is_empty() {
        return Err(vec![format!(
            "{}: no project in the lock (no package with a virtual or editable source): nothing to start from",
            path.display()
        )]);
    }
    let mut errors = vec![];
    let by_name: HashMap<String, Vec<usize>> = pkgs.iter().enumerate().fold(HashMap::new(), |mut m, (i, (p, _))| {
        m.entry(normalise(&p.name)).or_default().push(i);
        m
    });
    let target = |d: &Dep| -> Result<usize, String> {
        let candidates = by_name.get(&normalise(&d.name)).cloned().unwrap_or_default();
        let matching: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| d.version.as_ref().map_or(true, |v| pkgs[i].0.version.as_ref() == Some(v)))
            .collect();
        match matching.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("`{}` is named as a dependency but not locked", d.name)),
            _ => Err(format!("`{}` is locked more than once and the dependency does not say which", d.name)),
        }
    };
    let edge_marker = |d: &Dep| marker::parse(d.marker.as_deref().unwrap_or(""), &|_: Var, _: &str| false);
    let mut markers: HashMap<Key, MarkerTree> = HashMap::new();
    let mut todo: VecDeque<Key> = VecDeque::new();
    let merge = |key: Key, m: MarkerTree, markers: &mut HashMap<Key, MarkerTree>, todo: &mut VecDeque<Key>| {
        let entry = markers.entry(key.clone()).or_insert(MarkerTree::FALSE);
        let mut joined = entry.clone();
        joined.or(m);
        if joined != *entry {
            *entry = joined;
            todo.push_back(key);
        }
    };
    let default_groups: Vec<String> = if sel.no_default_groups { vec![] } else { vec!["dev".into()] };
    for &r in &roots {
        let root = pkgs[r].0;
        merge((r, None), MarkerTree::TRUE, &mut markers, &mut todo);
        for e in &sel.extras {
            if !root.optional.contains_key(e.as_str()) {
                errors.push(format!("{}: --extra {e}: {} has no such extra", at(path, text, pkgs[r].1), root.name));
            }
            merge((r, Some(format!("extra:{e}"))), MarkerTree::TRUE, &mut markers, &mut todo);
        }
        for g in sel.groups.iter().chain(default_groups.iter().filter(|g| root.groups.contains_key(g.as_str()))) {
            if !root.groups.contains_key(g.as_str()) {
                errors.push(format!("{}: --group {g}: {} has no such group", at(path, text, pkgs[r].1), root.name));
            }
            merge((r, Some(format!("group:{g}"))), MarkerTree::TRUE, &mut markers, &mut todo);
        }
    }
    while let Some(key) = todo.pop_front() {
        let m = markers[&key].clone();
        let p = pkgs[key.0].0;
        let deps: &[Dep] = match key.1.as_deref() {
            None => &p.dependencies,
            Some(k) => match k.split_once(':') {
                Some(("extra", e)) => p.optional.get(e).map(Vec::as_slice).unwrap_or(&[]),
                Some((_, g)) => p.groups.get(g).map(Vec::as_slice).unwrap_or(&[]),
                None => &[],
            },
        };
        for d in deps {
            let (t, em) = match (target(d), edge_marker(d)) {
                (Ok(t), Ok(em)) => (t, em),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(format!("{}: {e}", at(path, text, pkgs[key.0].1)));
                    continue;
                }
            };
            let joined = marker::and(&m, &em);
            merge((t, None), joined.clone(), &mut markers, &mut todo);
            for e in &d.extra {
                merge((t, Some(format!("extra:{e}"))), joined.clone(), &mut markers, &mut todo);
            }
        }
    }
    let mut pins = vec![];
    let mut notes = vec![];
    for (i, (p, offset)) in pkgs.iter().enumerate() {
        let Some(m) = markers.get(&(i, None)).filter(|m| !m.is_false()) else { continue };
        let where_ = at(path, text, *offset);
        match kind(p, &members) {
            Kind::Own(how) => notes.push(format!(
                "{where_}: {} ({how}) is the project's own code, not a locked dependency: left out",
                p.name
            )),
            Kind::Direct(how) => errors.push(format!(
                "{where_}: {} comes from {how}, not from the package index: a lock entry whose only source is a URL, a path or a VCS reference is not installed from the index, so it cannot be gated",
                p.name
            )),
            Kind::Registry => {
                let Some(version) = p.version.clone() else {
                    errors.push(format!("{where_}: {} has no version", p.name));
                    continue;
                };
                let mut hashes = vec![];
                for f in p.sdist.iter().chain(&p.wheels) {
                    match f.hash.as_deref().map(hash) {
                        Some(Ok(h)) => hashes.push(h),
                        Some(Err(e)) => errors.push(format!("{where_}: {e}")),
                        None => {}
                    }
                }
                pins.push(Pin { name: normalise(&p.name), version, marker: m.clone(), hashes, at: where_ });
            }
        }
    }
    if errors.is_empty() {
        Ok((pins, notes))
    } else {
        errors.dedup();
        Err(errors)
    }
}
