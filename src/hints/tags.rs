//! A base's compatible wheel tags, as its own interpreter computes them (`pip debug --verbose`
//! in the base's prep image: pip's vendored `packaging.tags`, so exactly the tags pip installs
//! by; the bases carry no `packaging` module of their own). A uv base's virtualenv may have no
//! pip (the prep installs uv with the base interpreter's own): the same interpreter's pip
//! outside it then answers, with the same tags.

use std::time::Duration;

use crate::engine::{Engine, EngineError, RunSpec, Sandbox};
use crate::install::VENV_PYTHON;
use crate::matrix::{Base, Installer};
use crate::settings::RunSettings;

/// The compatible tags in pip's `debug --verbose` output, in its order of preference.
pub fn parse_pip_debug(out: &str) -> Result<Vec<String>, String> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with("Compatible tags:"));
    if lines.next().is_none() {
        return Err("pip debug printed no \"Compatible tags\" section".into());
    }
    let tags: Vec<String> = lines
        .take_while(|l| l.starts_with(' '))
        .map(str::trim)
        .filter(|t| t.split('-').count() == 3)
        .map(str::to_string)
        .collect();
    if tags.is_empty() {
        return Err("pip debug listed no compatible tag".into());
    }
    Ok(tags)
}

/// A base's compatible tags, observed in its prep image (kept in the observation cache by the
/// prep image's content-addressed tag: the same interpreter and pip give the same tags).
pub(crate) async fn tags_of(engine: &Engine, s: &RunSettings, base: &Base, prep: &str) -> Result<Vec<String>, String> {
    let key = crate::cache::key(&[prep, "pip debug --verbose"]);
    if !s.no_cache {
        if let Some(tags) = crate::cache::get::<Vec<String>>(s.observations.as_deref(), "tags", &key) {
            return Ok(tags);
        }
    }
    let cmd: Vec<String> = match base.installer {
        Installer::Pip => [VENV_PYTHON, "-m", "pip", "debug", "--verbose"].iter().map(|a| a.to_string()).collect(),
        Installer::Uv => vec![
            "/bin/sh".into(),
            "-c".into(),
            format!(
                "if {VENV_PYTHON} -c 'import pip' 2>/dev/null; then exec {VENV_PYTHON} -m pip debug --verbose; fi; \
                 exec \"$0\" -m pip debug --verbose"
            ),
            base.python.clone(),
        ],
    };
    let mut spec = RunSpec::new(prep, cmd, "tags");
    spec.sandbox = Sandbox::strict();
    spec.user = Some("1000:1000".into());
    spec.timeout = Duration::from_secs(120);
    spec.env = vec!["HOME=/tmp".into(), "PIP_DISABLE_PIP_VERSION_CHECK=1".into(), "PIP_NO_CACHE_DIR=1".into()];
    let out = engine.run(&spec).await.map_err(|e: EngineError| format!("running pip debug: {e}"))?;
    if out.exit_code != Some(0) {
        return Err(format!(
            "pip debug exited with {:?}: {}",
            out.exit_code,
            crate::compare::first_line(&crate::text::tail(&out.stderr, 400))
        ));
    }
    let tags = parse_pip_debug(&out.stdout)?;
    crate::cache::put(s.observations.as_deref(), "tags", &key, &tags);
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_debugs_compatible_tags_are_read_in_order() {
        let out = "pip version: pip 25.2 from /opt/muslcheck/venv/lib/python3.13/site-packages/pip (python 3.13)\n\
                   sys.version: 3.13.5\nsys.platform: linux\nCompatible tags: 3\n  cp313-cp313-musllinux_1_2_x86_64\n  \
                   cp313-abi3-musllinux_1_2_x86_64\n  py3-none-any\n";
        assert_eq!(
            parse_pip_debug(out).unwrap(),
            ["cp313-cp313-musllinux_1_2_x86_64", "cp313-abi3-musllinux_1_2_x86_64", "py3-none-any"]
        );
        assert!(parse_pip_debug("pip version: 25\n").unwrap_err().contains("no \"Compatible tags\""));
        assert!(parse_pip_debug("Compatible tags: 0\n").is_err());
    }
}
