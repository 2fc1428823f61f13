//! The Python interpreters of an image, found by looking at its files, never by running it: the
//! one its PATH finds (`python3`, else `python`), and the virtual environments in the usual
//! places ($VIRTUAL_ENV of the image's configuration, /opt/venv, /app/.venv, /venv, and .venv
//! or venv in its working directory), each a directory with a `pyvenv.cfg` and a `bin/python`.
//! `--python PATH` names them instead. The files are looked for in a container of the image
//! that is created and never started.

use crate::engine::{Engine, EngineError};

/// The PATH a container gets when the image sets none (the engine's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where virtual environments usually are, after $VIRTUAL_ENV.
const USUAL_VENVS: &[&str] = &["/opt/venv", "/app/.venv", "/venv"];

/// One interpreter of an image, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// Its path in the image (`/opt/venv/bin/python`).
    pub path: String,
    /// How it was found: `on PATH`, `virtual environment`, `VIRTUAL_ENV`, `--python`; a
    /// virtual environment whose bin directory is first on PATH is both (`on PATH, …`).
    pub how: String,
}

/// What to look for in an image: the PATH candidates in order, and the virtual environments.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Candidates {
    pub path: Vec<String>,
    /// (directory, how it was found).
    pub venvs: Vec<(String, &'static str)>,
}

fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter().rev().find_map(|e| e.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn clean(dir: &str) -> String {
    let t = dir.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// The candidates an image's configuration (its environment and working directory) points at.
pub(crate) fn candidates(env: &[String], working_dir: Option<&str>) -> Candidates {
    let path_var = env_value(env, "PATH").unwrap_or(DEFAULT_PATH);
    let mut path = vec![];
    for dir in path_var.split(':').filter(|d| d.starts_with('/')) {
        for name in ["python3", "python"] {
            let p = format!("{}/{name}", clean(dir).trim_end_matches('/'));
            if !path.contains(&p) {
                path.push(p);
            }
        }
    }
    let mut venvs: Vec<(String, &'static str)> = vec![];
    let mut add = |dir: String, how: &'static str| {
        if !venvs.iter().any(|(d, _)| *d == dir) {
            venvs.push((dir, how));
        }
    };
    if let Some(v) = env_value(env, "VIRTUAL_ENV").filter(|v| v.starts_with('/')) {
        add(clean(v), "VIRTUAL_ENV");
    }
    for v in USUAL_VENVS {
        add(v.to_string(), "virtual environment");
    }
    if let Some(w) = working_dir.filter(|w| w.starts_with('/')) {
        for name in [".venv", "venv"] {
            add(format!("{}/{name}", clean(w).trim_end_matches('/')), "virtual environment");
        }
    }
    Candidates { path, venvs }
}

/// The interpreters found, in the order they are probed: the PATH one first (what the image's
/// own commands run), then the virtual environments. `exists` says whether a path is in the
/// image.
pub(crate) fn choose(c: &Candidates, exists: &dyn Fn(&str) -> bool) -> Vec<Interpreter> {
    let venvs: Vec<(String, &str)> = c
        .venvs
        .iter()
        .filter(|(d, _)| exists(&format!("{d}/pyvenv.cfg")) && exists(&format!("{d}/bin/python")))
        .map(|(d, h)| (d.clone(), *h))
        .collect();
    let mut out: Vec<Interpreter> = vec![];
    if let Some(p) = c.path.iter().find(|p| exists(p)) {
        let dir = p.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        match venvs.iter().find(|(v, _)| format!("{v}/bin") == dir) {
            // The PATH finds a virtual environment's interpreter: one interpreter, said twice.
            Some((v, how)) => out.push(Interpreter { path: format!("{v}/bin/python"), how: format!("on PATH, {how}") }),
            None => out.push(Interpreter { path: p.clone(), how: "on PATH".into() }),
        }
    }
    for (v, how) in &venvs {
        let path = format!("{v}/bin/python");
        if !out.iter().any(|i| i.path == path) {
            out.push(Interpreter { path, how: how.to_string() });
        }
    }
    out
}

/// Finds the interpreters of an image (by its id), or checks that each `chosen` one is there.
/// A chosen interpreter that is not in the image is an error naming it.
pub async fn discover(
    engine: &Engine,
    image_id: &str,
    env: &[String],
    working_dir: Option<&str>,
    chosen: &[String],
) -> Result<Result<Vec<Interpreter>, String>, EngineError> {
    let c = candidates(env, working_dir);
    let mut wanted: Vec<String> = chosen.to_vec();
    if chosen.is_empty() {
        wanted.extend(c.path.iter().cloned());
        for (d, _) in &c.venvs {
            wanted.push(format!("{d}/pyvenv.cfg"));
            wanted.push(format!("{d}/bin/python"));
        }
    }
    // Created, never started: nothing of the image runs to be looked at.
    let id = engine.create_idle(image_id, "inspect-files").await?;
    let mut present = std::collections::BTreeSet::new();
    let mut failed = None;
    for p in &wanted {
        match engine.exists(&id, p).await {
            Ok(true) => {
                present.insert(p.clone());
            }
            Ok(false) => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    engine.remove_container(&id).await;
    if let Some(e) = failed {
        return Err(e);
    }
    if !chosen.is_empty() {
        let missing: Vec<&String> = chosen.iter().filter(|p| !present.contains(*p)).collect();
        if !missing.is_empty() {
            return Ok(Err(format!(
                "--python {}: not in the image",
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        return Ok(Ok(chosen.iter().map(|p| Interpreter { path: p.clone(), how: "--python".into() }).collect()));
    }
    let found = choose(&c, &|p| present.contains(p));
    if found.is_empty() {
        return Ok(Err(format!(
            "no Python interpreter found: none of {} on its PATH, and no virtual environment in {}; name one with --python PATH",
            "python3, python",
            c.venvs.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Ok(found))
}

/// Which interpreter runs the smoke script, the reproducer and the profiles: the first named
/// with --python; else a virtual environment (the one on PATH, else $VIRTUAL_ENV, else the
/// first found), where the application's distributions are; else the PATH one.
pub fn main_index(found: &[Interpreter]) -> usize {
    let pick = |f: &dyn Fn(&Interpreter) -> bool| found.iter().position(f);
    pick(&|i| i.how == "--python")
        .or_else(|| pick(&|i| i.how.starts_with("on PATH, ")))
        .or_else(|| pick(&|i| i.how == "VIRTUAL_ENV"))
        .or_else(|| pick(&|i| i.how == "virtual environment"))
        .unwrap_or(0)
}

/// The main interpreter of a resolved image (see [`main_index`]), or the one `chosen`; why
/// there is none, when there is none.
pub async fn main(
    engine: &Engine,
    image: &super::Resolved,
    chosen: Option<&str>,
) -> Result<Result<Interpreter, String>, EngineError> {
    let chosen: Vec<String> = chosen.into_iter().map(str::to_string).collect();
    let found = discover(engine, &image.info.id, &image.info.env, image.info.working_dir.as_deref(), &chosen).await?;
    Ok(found.map(|f| f[main_index(&f)].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[&str]) -> Vec<String> {
        vars.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn candidates_follow_the_image_configuration() {
        let c =
            candidates(&env(&["PATH=/opt/venv/bin:/usr/local/bin:relative", "VIRTUAL_ENV=/srv/env/"]), Some("/app"));
        assert_eq!(
            c.path,
            ["/opt/venv/bin/python3", "/opt/venv/bin/python", "/usr/local/bin/python3", "/usr/local/bin/python"]
        );
        let dirs: Vec<&str> = c.venvs.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(dirs, ["/srv/env", "/opt/venv", "/app/.venv", "/venv", "/app/venv"]);
        assert_eq!(c.venvs[0].1, "VIRTUAL_ENV");
        // No PATH in the image: the engine's default.
        assert_eq!(candidates(&[], None).path[0], "/usr/local/sbin/python3");
    }

    #[test]
    fn the_path_interpreter_comes_first_and_a_venv_on_path_is_one_interpreter() {
        let c = candidates(&env(&["PATH=/opt/venv/bin:/usr/local/bin"]), Some("/app"));
        let files = ["/opt/venv/bin/python3", "/opt/venv/pyvenv.cfg", "/opt/venv/bin/python", "/usr/local/bin/python3"];
        let found = choose(&c, &|p| files.contains(&p));
        assert_eq!(
            found,
            [Interpreter { path: "/opt/venv/bin/python".into(), how: "on PATH, virtual environment".into() }]
        );
        // A venv not on PATH is probed after the PATH interpreter; a directory without
        // pyvenv.cfg is no venv.
        let c = candidates(&env(&["PATH=/usr/local/bin"]), Some("/app"));
        let files = ["/usr/local/bin/python3", "/app/.venv/pyvenv.cfg", "/app/.venv/bin/python", "/venv/bin/python"];
        let found: Vec<(String, String)> =
            choose(&c, &|p| files.contains(&p)).into_iter().map(|i| (i.path, i.how)).collect();
        assert_eq!(
            found,
            [
                ("/usr/local/bin/python3".to_string(), "on PATH".to_string()),
                ("/app/.venv/bin/python".to_string(), "virtual environment".to_string())
            ]
        );
        assert!(choose(&c, &|_| false).is_empty());
    }
}
