//! Phase two: meaning. Every problem is collected, each located, before any is reported.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::raw::{RawBase, RawDependency, RawMatrix, RawPolicy};
use super::{
    parse_duration, Base, Dependency, Diagnostic, Family, Installer, KnownDifference, Matrix, Policy, Requirement,
};
use crate::input::line_col;
use crate::input::shown;
use crate::kinds::FindingKind;

struct Collector<'a> {
    path: &'a Path,
    text: &'a str,
    diags: Vec<Diagnostic>,
}

impl Collector<'_> {
    fn at<T>(&mut self, span: &Spanned<T>, message: impl Into<String>) {
        self.at_offset(span.span().start, message);
    }
    fn at_offset(&mut self, offset: usize, message: impl Into<String>) {
        let (line, column) = line_col(self.text, offset);
        self.diags.push(Diagnostic { file: self.path.to_path_buf(), line, column, message: message.into() });
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && s.len() <= 64
}

fn is_image_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
        && !s.starts_with(['-', '/', ':', '@'])
}

fn is_command(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && !s.starts_with('-')
}

fn is_system_package(s: &str) -> bool {
    matches!(s.chars().next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 128
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '-' | ':' | '=' | '~'))
}

/// Where the files a matrix names (`smoke`, `ca_bundle`) come from: below the matrix's own
/// directory on disk, or, for the matrix built into the binary, from the files built in with it.
#[derive(Clone, Copy)]
pub(crate) enum Files<'a> {
    Disk,
    Embedded(&'a [(&'a str, &'a str)]),
}

/// Checks a parsed matrix. `anchor` is where a problem of the whole matrix (no base) is
/// reported: the start of a matrix file, the `[tool.muslcheck]` table of a pyproject.toml.
pub(crate) fn validate(
    path: &Path,
    text: &str,
    raw: RawMatrix,
    files: Files,
    anchor: usize,
) -> Result<Matrix, Vec<Diagnostic>> {
    let mut c = Collector { path, text, diags: Vec::new() };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let policy = match &raw.policy {
        Some(p) => policy(&mut c, &dir, p.get_ref(), files),
        None => Policy::default(),
    };
    if raw.bases.is_empty() {
        c.at_offset(anchor, "the matrix names no base: add at least one [[base]] table with `name` and `image`");
    }
    let mut names = HashSet::new();
    let bases: Vec<Base> = raw.bases.iter().filter_map(|b| base(&mut c, b, &mut names, policy.installer)).collect();
    if !raw.bases.is_empty() && !raw.bases.iter().any(|b| b.get_ref().required.unwrap_or(true)) {
        c.at(
            &raw.bases[0],
            "no base is required: at least one base must have `required = true` for a verdict to mean anything",
        );
    }
    let mut dep_names = HashSet::new();
    let dependencies =
        raw.dependencies.iter().filter_map(|d| dependency(&mut c, &dir, d, &mut dep_names, files)).collect();
    if c.diags.is_empty() {
        Ok(Matrix { path: path.to_path_buf(), bases, dependencies, policy, source: Default::default() })
    } else {
        c.diags.sort_by_key(|d| (d.line, d.column));
        Err(c.diags)
    }
}

fn policy(c: &mut Collector, dir: &Path, p: &RawPolicy, files: Files) -> Policy {
    let mut out = Policy::default();
    if let Some(s) = &p.source_builds {
        match s.get_ref().as_str() {
            "fail" => out.source_builds_fail = true,
            "allow" => out.source_builds_fail = false,
            other => c.at(s, format!("`source_builds` must be \"fail\" or \"allow\", not \"{other}\"")),
        }
    }
    for (field, value, slot) in [
        ("build_timeout", &p.build_timeout, &mut out.build_timeout),
        ("probe_timeout", &p.probe_timeout, &mut out.probe_timeout),
    ] {
        if let Some(v) = value {
            match parse_duration(v.get_ref()) {
                Ok(d) => *slot = d,
                Err(e) => c.at(v, format!("`{field}`: {e}")),
            }
        }
    }
    if let Some(list) = &p.blocking {
        out.blocking.clear();
        for k in list {
            match k.get_ref().parse::<FindingKind>() {
                Ok(kind) if kind.is_missing_evidence() => c.at(k, missing_evidence("blocking", kind)),
                Ok(kind) => out.blocking.push(kind),
                Err(e) => c.at(k, e),
            }
        }
    }
    if out.source_builds_fail && !out.blocking.contains(&FindingKind::SourceBuild) {
        out.blocking.push(FindingKind::SourceBuild);
    }
    out.installer = installer(c, &p.installer, Installer::Pip);
    if let Some(url) = &p.index_url {
        match super::check_index_url(url.get_ref()) {
            Ok(()) => out.index_url = Some(url.get_ref().clone()),
            Err(e) => c.at(url, format!("`index_url` {e}")),
        }
    }
    for h in p.extra_hosts.iter().flatten() {
        match super::check_extra_host(h.get_ref()) {
            Ok(()) => out.extra_hosts.push(h.get_ref().clone()),
            Err(e) => c.at(h, format!("`extra_hosts`: {e}")),
        }
    }
    if let Some(n) = &p.runtime_runs {
        let (lo, hi) = (super::MIN_RUNTIME_RUNS as i64, super::MAX_RUNTIME_RUNS as i64);
        match *n.get_ref() {
            0 => out.runtime_runs = 0,
            v if (lo..=hi).contains(&v) => out.runtime_runs = v as u32,
            v => c.at(
                n,
                format!("`runtime_runs` must be 0 (no timing) or from {lo} to {hi}, not {v}: fewer than {lo} runs are never compared"),
            ),
        }
    }
    if let Some(r) = &p.runtime_ratio {
        let v = *r.get_ref();
        if v.is_finite() && v > 1.0 && v <= super::MAX_RUNTIME_RATIO {
            out.runtime_ratio = v;
        } else {
            c.at(r, format!("`runtime_ratio` must be more than 1 and at most {}, not {v}", super::MAX_RUNTIME_RATIO));
        }
    }
    if let Some(ca) = &p.ca_bundle {
        let path = dir.join(ca.get_ref());
        match files.check(dir, &path) {
            Err(e) => c.at(ca, format!("`ca_bundle`: {e}")),
            Ok(_) if !path.is_file() => c.at(ca, format!("`ca_bundle`: no file at {}", path.display())),
            Ok(_) => out.ca_bundle = Some(path),
        }
    }
    out
}

impl Files<'_> {
    /// [`inside`] for a matrix on disk; the built-in matrix names no file that is not built in.
    fn check(&self, dir: &Path, path: &Path) -> Result<PathBuf, String> {
        match self {
            Files::Disk => inside(dir, path),
            Files::Embedded(_) => Err(format!("{} is not built into muslcheck", path.display())),
        }
    }

    /// The text of a smoke script the matrix names (`name` as written, `path` joined to the
    /// matrix's directory).
    fn smoke(&self, dir: &Path, name: &str, path: &Path) -> Result<String, String> {
        match self {
            Files::Disk => inside(dir, path).and_then(|real| {
                crate::input::read_text(&real, crate::input::MAX_SCRIPT)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            }),
            Files::Embedded(files) => files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| format!("{name} is not built into muslcheck")),
        }
    }
}

/// Why a kind that says evidence is missing cannot be listed (nor left out) by a matrix.
fn missing_evidence(field: &str, kind: FindingKind) -> String {
    let all: Vec<&str> = crate::kinds::MISSING_EVIDENCE.iter().map(|k| k.as_str()).collect();
    format!(
        "`{kind}` cannot be listed in `{field}`: {} say that evidence is missing, and missing evidence always fails its base, whatever the policy",
        all.join(", ")
    )
}

/// Resolves a path the matrix names to the real file, which must lie inside the matrix's own
/// directory tree once every symlink is followed: a matrix arriving in a pull request must not
/// be able to read `/etc/shadow` (or `../../secrets`) into a report. Paths given on the command
/// line (`--smoke`, `--ca-bundle`) are the user's own choice and are not checked here.
fn inside(dir: &Path, path: &Path) -> Result<PathBuf, String> {
    let root = std::fs::canonicalize(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
        .map_err(|e| format!("cannot resolve the matrix's directory {}: {e}", dir.display()))?;
    let real = std::fs::canonicalize(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(format!(
            "{} resolves to {}, outside the matrix's directory {}; a matrix may only name files below it (pass other files on the command line)",
            path.display(),
            real.display(),
            root.display()
        ))
    }
}

/// `installer = "pip"` or `"uv"`.
fn installer(c: &mut Collector, v: &Option<Spanned<String>>, default: Installer) -> Installer {
    match v.as_ref().map(|v| (v, v.get_ref().as_str())) {
        None => default,
        Some((_, "pip")) => Installer::Pip,
        Some((_, "uv")) => Installer::Uv,
        Some((v, other)) => {
            c.at(v, format!("`installer` must be \"pip\" or \"uv\", not \"{}\"", shown(other)));
            default
        }
    }
}

fn base(c: &mut Collector, b: &Spanned<RawBase>, names: &mut HashSet<String>, default: Installer) -> Option<Base> {
    let r = b.get_ref();
    let before = c.diags.len();
    let name = r.name.get_ref().clone();
    if !is_name(&name) {
        c.at(
            &r.name,
            format!(
                "base name `{}` must be letters, digits, `.`, `_` or `-` (at most 64; this one has {})",
                shown(&name),
                name.chars().count()
            ),
        );
    } else if !names.insert(name.clone()) {
        c.at(&r.name, format!("duplicate base name `{name}`"));
    }
    if !is_image_reference(r.image.get_ref()) {
        c.at(&r.image, format!("`{}` is not an image reference (e.g. python:3.13-alpine or registry:5000/repo@sha256:…; at most 255 characters)", shown(r.image.get_ref())));
    }
    let family = match r.family.as_ref().map(|f| f.get_ref().as_str()) {
        None | Some("none") => Family::None,
        Some("apk") => Family::Apk,
        Some("apt") => Family::Apt,
        Some(other) => {
            c.at(r.family.as_ref().unwrap(), format!("`family` must be \"apk\", \"apt\" or \"none\", not \"{other}\""));
            Family::None
        }
    };
    let python = r.python.as_ref().map(|p| p.get_ref().clone()).unwrap_or_else(|| "python3".into());
    if let Some(p) = &r.python {
        if !is_command(p.get_ref()) {
            c.at(p, format!("`python` must be a command name or path, not `{}`", shown(p.get_ref())));
        }
    }
    for p in &r.packages {
        if !is_system_package(p.get_ref()) {
            c.at(p, format!("`{}` is not a system package name", shown(p.get_ref())));
        }
    }
    let installer = installer(c, &r.installer, default);
    if family == Family::None && !r.packages.is_empty() {
        c.at(&r.packages[0], "`packages` needs a package manager: set `family = \"apk\"` or `\"apt\"`");
    }
    (c.diags.len() == before).then(|| Base {
        name,
        image: r.image.get_ref().clone(),
        family,
        python,
        packages: r.packages.iter().map(|p| p.get_ref().clone()).collect(),
        required: r.required.unwrap_or(true),
        installer,
    })
}

fn dependency(
    c: &mut Collector,
    dir: &Path,
    d: &Spanned<RawDependency>,
    names: &mut HashSet<String>,
    files: Files,
) -> Option<Dependency> {
    let r = d.get_ref();
    let before = c.diags.len();
    let requirement = match Requirement::parse(r.requirement.get_ref()) {
        Ok(req) => Some(req),
        Err(e) => {
            c.at(&r.requirement, format!("`requirement`: {e}"));
            None
        }
    };
    let name = match (&r.name, &requirement) {
        (Some(n), _) => {
            if !is_name(n.get_ref()) {
                c.at(
                    n,
                    format!(
                        "dependency name `{}` must be letters, digits, `.`, `_` or `-` (at most 64; this one has {})",
                        shown(n.get_ref()),
                        n.get_ref().chars().count()
                    ),
                );
            }
            Some((n.get_ref().clone(), n.span().start))
        }
        (None, Some(req)) => Some((req.name.clone(), r.requirement.span().start)),
        (None, None) => None,
    };
    if let Some((n, offset)) = &name {
        if !names.insert(n.clone()) {
            c.at_offset(*offset, format!("duplicate dependency `{n}` (give one of them a different `name`)"));
        }
    }
    let smoke = r.smoke.as_ref().and_then(|s| {
        let path: PathBuf = dir.join(s.get_ref());
        match files.smoke(dir, s.get_ref(), &path) {
            Ok(src) if src.trim().is_empty() => {
                c.at(
                    s,
                    format!(
                        "`smoke`: {} is empty: a smoke test that runs nothing would pass on every base",
                        path.display()
                    ),
                );
                None
            }
            Ok(src) => Some((path, src)),
            Err(e) => {
                c.at(s, format!("`smoke`: {e}"));
                None
            }
        }
    });
    let known_difference = r.known_difference.as_ref().map(|k| {
        let k = k.get_ref();
        let kinds = k
            .kinds
            .iter()
            .filter_map(|s| match s.get_ref().parse::<FindingKind>() {
                Ok(kind) if kind.is_missing_evidence() => {
                    c.at(s, missing_evidence("known_difference.kinds", kind));
                    None
                }
                Ok(kind) => Some(kind),
                Err(e) => {
                    c.at(s, e);
                    None
                }
            })
            .collect();
        if k.reason.get_ref().trim().is_empty() {
            c.at(&k.reason, "`known_difference.reason` must say why the difference is accepted");
        } else if k.reason.get_ref().chars().count() > 1000 {
            c.at(&k.reason, "`known_difference.reason` is longer than 1000 characters: say why in a sentence or two");
        }
        KnownDifference { kinds, reason: k.reason.get_ref().clone() }
    });
    if c.diags.len() != before {
        return None;
    }
    Some(Dependency {
        name: name?.0,
        requirement: requirement?,
        also: vec![],
        constraints: vec![],
        smoke,
        known_difference,
    })
}
