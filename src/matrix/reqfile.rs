//! Requirement files as pip reads them, and `pyproject.toml` dependency lists, into one
//! validated set. Two phases, like the matrix: the text is read into logical lines with their
//! positions (continuations joined, comments dropped, `-r`/`-c` includes followed relative to
//! the including file), then every line is checked and every problem reported as
//! `file:line: …`, with the chain of includes that led there.
//!
//! Accepted: PEP 508 requirements with extras and markers, `--hash=ALGO:HEX` after a
//! requirement (the install then runs with `--require-hashes`), `-r FILE`/`--requirement FILE`,
//! `-c FILE`/`--constraint FILE`. Refused: index options (the index is configuration: the
//! matrix's `policy.index_url` or `--index-url`, never a line of input), editable and URL
//! requirements, and any other pip option.

use std::path::{Path, PathBuf};

use super::requirement::Requirement;
use crate::input::shown;
use crate::text::sanitize;

/// A requirement with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub requirement: Requirement,
    pub at: String,
}

/// What a requirements file (with its includes) or a pyproject list asks pip to install.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequirementSet {
    pub requirements: Vec<Located>,
    /// From `-c` files: versions the install must respect, not things to install.
    pub constraints: Vec<Located>,
}

/// A logical line: its text and where it starts.
struct Line {
    text: String,
    file: PathBuf,
    line: usize,
}

const INDEX_OPTIONS: [&str; 6] = ["--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host"];
const HASH_ALGORITHMS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// Phase one: the logical lines of a file, continuations joined and comments dropped.
fn logical_lines(file: &Path, text: &str) -> Vec<Line> {
    let mut out = vec![];
    let mut pending: Option<Line> = None;
    for (i, raw) in text.lines().enumerate() {
        // A comment starts at a `#` at the line's start or after whitespace (as pip reads it).
        let cut = raw
            .char_indices()
            .find(|(j, c)| *c == '#' && (*j == 0 || raw[..*j].ends_with([' ', '\t'])))
            .map(|(j, _)| j);
        let body = &raw[..cut.unwrap_or(raw.len())];
        let (body, continues) = match body.trim_end().strip_suffix('\\') {
            Some(b) if cut.is_none() => (b.to_string(), true),
            _ => (body.to_string(), false),
        };
        let line = match pending.take() {
            Some(mut l) => {
                l.text.push(' ');
                l.text.push_str(&body);
                l
            }
            None => Line { text: body, file: file.to_path_buf(), line: i + 1 },
        };
        if continues {
            pending = Some(line);
        } else if !line.text.trim().is_empty() {
            out.push(line);
        }
    }
    out.extend(pending.filter(|l| !l.text.trim().is_empty()));
    out
}

/// Reads a requirements file and everything it includes. Every problem is returned.
pub fn read(path: &Path) -> Result<RequirementSet, Vec<String>> {
    let mut set = RequirementSet::default();
    let mut errors = vec![];
    let mut stack = vec![];
    // The top-level file is the user's own choice; what it includes must lie below its folder.
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let root = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    read_into(path, false, &root, &mut stack, &mut set, &mut errors);
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}

fn chain(stack: &[PathBuf]) -> String {
    if stack.len() <= 1 {
        String::new()
    } else {
        format!(
            " (included from {})",
            stack[..stack.len() - 1].iter().rev().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" <- ")
        )
    }
}

fn read_into(
    path: &Path,
    constraints: bool,
    root: &Path,
    stack: &mut Vec<PathBuf>,
    set: &mut RequirementSet,
    errors: &mut Vec<String>,
) {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&canonical) {
        let mut cycle: Vec<String> = stack.iter().map(|p| p.display().to_string()).collect();
        cycle.push(canonical.display().to_string());
        errors.push(format!("{}: includes itself: {}", path.display(), cycle.join(" -> ")));
        return;
    }
    // The top-level file may be a pipe (`-r <(pip-compile …)`), the user's choice; an include
    // must be a regular file: a FIFO there would block the read for ever.
    let read = if stack.is_empty() { crate::input::read_text } else { crate::input::read_regular_text };
    let text = match read(path, crate::input::MAX_TEXT) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = e.position();
            errors.push(format!(
                "{}:{line}:{column}: cannot read the requirements file: {e}{}",
                path.display(),
                chain(stack)
            ));
            return;
        }
    };
    stack.push(canonical);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for l in logical_lines(path, &text) {
        let at = format!("{}:{}", l.file.display(), l.line);
        let words: Vec<&str> = l.text.split_whitespace().collect();
        let err = |e: String| format!("{at}: {e}{}", chain(stack));
        // Includes.
        let include = match words.as_slice() {
            [opt, file] if ["-r", "--requirement", "-c", "--constraint"].contains(opt) => {
                Some((*opt, file.to_string()))
            }
            [opt] if opt.starts_with("--requirement=") || opt.starts_with("--constraint=") => {
                let (o, f) = opt.split_once('=').unwrap();
                Some((o, f.to_string()))
            }
            [opt] if (opt.starts_with("-r") || opt.starts_with("-c")) && opt.len() > 2 => {
                Some((&opt[..2], opt[2..].to_string()))
            }
            _ => None,
        };
        if let Some((opt, file)) = include {
            let is_constraint = opt == "-c" || opt == "--constraint";
            let target = dir.join(&file);
            if let Err(e) = confined(root, &target) {
                errors.push(err(format!("`{opt} {}`: {e}", shown(&file))));
                continue;
            }
            read_into(&target, constraints || is_constraint, root, stack, set, errors);
            continue;
        }
        if let Some(o) =
            words.iter().find(|w| INDEX_OPTIONS.iter().any(|i| **w == *i || w.starts_with(&format!("{i}="))))
        {
            errors.push(err(format!(
                "`{}` would switch the package index from inside the input; configure it instead with --index-url (or MUSLCHECK_INDEX_URL, or policy.index_url in the matrix)",
                o.split('=').next().unwrap_or(o)
            )));
            continue;
        }
        // A requirement, then its options: only --hash.
        let first_option =
            words.iter().position(|w| w.starts_with("--hash") || (w.starts_with('-') && !w.starts_with("-=")));
        let (req_words, options) = words.split_at(first_option.unwrap_or(words.len()));
        if req_words.is_empty() {
            errors.push(err(format!(
                "`{}` is not supported here: only requirements, --hash, -r and -c",
                shown(option_name(words[0]))
            )));
            continue;
        }
        let mut hashes = vec![];
        let mut bad = None;
        let mut it = options.iter();
        while let Some(o) = it.next() {
            let value = match o.strip_prefix("--hash=") {
                Some(v) => Some(v.to_string()),
                None if *o == "--hash" => it.next().map(|v| v.to_string()),
                None => None,
            };
            match value {
                Some(v) => match check_hash(&v) {
                    Ok(h) => hashes.push(h),
                    Err(e) => {
                        bad.get_or_insert(e);
                    }
                },
                None => {
                    bad.get_or_insert(format!(
                        "`{}` is not supported after a requirement: only --hash=ALGO:HEX",
                        shown(option_name(o))
                    ));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            errors.push(err(e));
            continue;
        }
        match Requirement::parse(&req_words.join(" ")) {
            Ok(mut r) => {
                r.hashes = hashes;
                let located = Located { requirement: r, at };
                if constraints {
                    set.constraints.push(located);
                } else {
                    set.requirements.push(located);
                }
            }
            Err(e) => errors.push(err(e)),
        }
    }
    stack.pop();
}

/// An option as shown back in an error: its name, never its value (a line of a `.env` file
/// named as a requirements file must not come back in the message).
fn option_name(word: &str) -> &str {
    word.split_once('=').map_or(word, |(name, _)| name)
}

/// An include must resolve, after every symlink, inside the top-level requirements file's
/// directory tree, as a matrix's smoke paths must lie inside the matrix's: a requirements file
/// arriving in a pull request must not read `../../.env` or a link to `/etc/shadow` into an
/// error message or an install. A file that does not exist is left to the read to report.
fn confined(root: &Path, target: &Path) -> Result<(), String> {
    let Ok(real) = std::fs::canonicalize(target) else { return Ok(()) };
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(format!(
            "{} resolves to {}, outside the requirements file's directory {}; an include may only name files below it (pass other files on the command line)",
            sanitize(&target.display().to_string(), false),
            sanitize(&real.display().to_string(), false),
            sanitize(&root.display().to_string(), false)
        ))
    }
}

pub(crate) fn check_hash(v: &str) -> Result<String, String> {
    let (algo, hex) =
        v.split_once(':').ok_or_else(|| format!("`--hash={}` is not ALGO:HEX (e.g. sha256:…)", shown(v)))?;
    let Some((_, len)) = HASH_ALGORITHMS.iter().find(|(a, _)| *a == algo) else {
        return Err(format!("`--hash` algorithm `{}` is not one pip checks (sha256, sha384, sha512)", shown(algo)));
    };
    if hex.len() != *len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`--hash={algo}:…` needs {len} hexadecimal digits"));
    }
    Ok(format!("{algo}:{}", hex.to_ascii_lowercase()))
}

/// The dependencies a `pyproject.toml` declares: `[project] dependencies`, plus the named
/// `[project.optional-dependencies]` extras and PEP 735 `[dependency-groups]` (with their
/// `{include-group = …}` entries).
pub fn read_pyproject(path: &Path, extras: &[String], groups: &[String]) -> Result<RequirementSet, Vec<String>> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT)
        .map_err(|e| vec![format!("{}: cannot read: {e}", path.display())])?;
    let doc: toml::Value =
        toml::from_str(&text).map_err(|e| vec![format!("{}: not TOML: {}", path.display(), e.message())])?;
    let at = |what: &str| format!("{} {what}", path.display());
    let mut set = RequirementSet::default();
    let mut errors = vec![];
    let add = |list: Option<&toml::Value>, what: String, set: &mut RequirementSet, errors: &mut Vec<String>| match list
        .and_then(|l| l.as_array())
    {
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(Requirement::parse) {
                    Some(Ok(r)) => set.requirements.push(Located { requirement: r, at: at(&format!("{what}[{i}]")) }),
                    Some(Err(e)) => errors.push(format!("{}: {e}", at(&format!("{what}[{i}]")))),
                    None if item.get("include-group").is_some() => {}
                    None => errors.push(format!("{}: not a requirement string", at(&format!("{what}[{i}]")))),
                }
            }
        }
        None => errors.push(format!("{}: no such list", at(&what))),
    };
    let project = doc.get("project");
    if let Some(deps) = project.and_then(|p| p.get("dependencies")) {
        add(Some(deps), "[project] dependencies".into(), &mut set, &mut errors);
    }
    for e in extras {
        add(
            project.and_then(|p| p.get("optional-dependencies")).and_then(|o| o.get(e)),
            format!("[project.optional-dependencies] {e}"),
            &mut set,
            &mut errors,
        );
    }
    let all_groups = doc.get("dependency-groups");
    // Depth first, with the path of includes that led to each group: PEP 735 makes a cycle an
    // error, and the error names the whole chain.
    let mut seen = std::collections::HashSet::new();
    let mut visit = |start: &String, set: &mut RequirementSet, errors: &mut Vec<String>| {
        let mut path: Vec<String> = vec![];
        let mut todo: Vec<(String, bool)> = vec![(start.clone(), true)];
        while let Some((g, entering)) = todo.pop() {
            if !entering {
                path.pop();
                continue;
            }
            if let Some(i) = path.iter().position(|p| *p == g) {
                let mut chain = path[i..].to_vec();
                chain.push(g.clone());
                errors.push(format!(
                    "{}: include-group cycle: {}",
                    at(&format!("[dependency-groups] {}", path[i])),
                    chain.join(" -> ")
                ));
                continue;
            }
            if !seen.insert(g.clone()) {
                continue;
            }
            let list = all_groups.and_then(|d| d.get(&g));
            path.push(g.clone());
            todo.push((g.clone(), false));
            let includes: Vec<String> = list
                .and_then(|l| l.as_array())
                .into_iter()
                .flatten()
                .filter_map(|item| item.get("include-group").and_then(|v| v.as_str()).map(str::to_string))
                .collect();
            for inc in includes.into_iter().rev() {
                todo.push((inc, true));
            }
            add(list, format!("[dependency-groups] {g}"), set, errors);
        }
    };
    for g in groups {
        visit(g, &mut set, &mut errors);
    }
    if set.requirements.is_empty() && errors.is_empty() {
        errors.push(format!("{}: declares no dependencies (give --extra NAME or --group NAME?)", path.display()));
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
