//! The prep image of a base: its system packages and a virtualenv, made in a container that is
//! committed, and tagged by a key of what runs to make it.

use std::collections::HashMap;
use std::time::Duration;

use super::pip::last_error_line;
use super::VENV;
use crate::engine::{Engine, RunSpec, Sandbox};
use crate::matrix::{Base, Family};
use crate::text::tail;

/// The prep image's tag: a function of what runs to make it (the base by image id, the prep
/// command with its package names, the user it runs as, and the recipe's identity), never of
/// the built image's own id, so an identical rebuild (`--no-cache`) invalidates no job built on
/// it.
pub fn prep_tag(base: &Base, base_image_id: &str) -> String {
    let mut parts = vec![crate::identity::recipe(), base_image_id.to_string(), PREP_USER.to_string()];
    parts.extend(prep_command(base));
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    format!("muslcheck/prep:{}", crate::key::key(&parts))
}

/// The prep step runs as root: it installs system packages.
const PREP_USER: &str = "0";

/// Makes sure the prep image of `base` exists; returns its tag.
pub async fn ensure_prep(
    engine: &Engine,
    base: &Base,
    base_image_id: &str,
    timeout: Duration,
    no_cache: bool,
) -> Result<String, String> {
    let tag = prep_tag(base, base_image_id);
    if !no_cache {
        if let Ok(Some(_)) = engine.image(&tag).await {
            return Ok(tag);
        }
    }
    // Prepared in a container and committed, not by the image builder: the builder's
    // intermediate images are untagged and unprotected, so a concurrent removal elsewhere
    // (pruning the parents of an image) could take one from under a build in progress.
    let mut spec = RunSpec::new(base_image_id, prep_command(base), "prep");
    spec.sandbox = Sandbox::build();
    spec.user = Some(PREP_USER.into());
    spec.timeout = timeout;
    spec.max_output = 16 << 20;
    spec.keep = true;
    let out = engine.run(&spec).await.map_err(|e| e.to_string())?;
    let container = out.container.clone().expect("kept container");
    let result = async {
        if out.timed_out {
            return Err(format!("preparing base {} timed out after {} s", base.name, timeout.as_secs()));
        }
        if out.exit_code != Some(0) {
            let log = format!("{}{}", out.stdout, out.stderr);
            return Err(format!(
                "failed to prepare base {}: {}\n{}",
                base.name,
                last_error_line(&log),
                tail(&log, 2000)
            ));
        }
        // Committed under a tag of this run's, then moved: a concurrent run never sees half a prep.
        let staging = engine.staging_tag(&tag);
        engine.commit(&container, &staging, "prep", HashMap::new()).await.map_err(|e| e.to_string())?;
        engine.promote(&staging, &tag).await.map_err(|e| e.to_string())?;
        Ok(tag.clone())
    }
    .await;
    engine.remove_container(&container).await;
    result
}

/// The prep step as one command: the base's packages (exec form where no shell is needed;
/// names were validated by the matrix loader and reach the shell as arguments, never as text),
/// then the virtualenv.
pub fn prep_command(base: &Base) -> Vec<String> {
    let venv = vec![base.python.clone(), "-m".into(), "venv".into(), VENV.into()];
    let script = match base.family {
        Family::Apk if !base.packages.is_empty() => "apk add --no-cache \"$@\" && exec \"$0\" -m venv /opt/muslcheck/venv",
        Family::Apt if !base.packages.is_empty() => {
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \"$@\" && rm -rf /var/lib/apt/lists/* && exec \"$0\" -m venv /opt/muslcheck/venv"
        }
        _ => return venv,
    };
    let mut cmd = vec!["/bin/sh".to_string(), "-c".into(), script.into(), base.python.clone()];
    cmd.extend(base.packages.iter().cloned());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alpine(packages: &[&str]) -> Base {
        Base {
            name: "alpine".into(),
            image: "python:3.13-alpine".into(),
            family: Family::Apk,
            python: "python3".into(),
            packages: packages.iter().map(|p| p.to_string()).collect(),
            required: true,
            installer: Default::default(),
        }
    }

    #[test]
    fn the_prep_command_passes_package_names_as_arguments() {
        let cmd = prep_command(&alpine(&["build-base", "libffi-dev"]));
        assert_eq!(&cmd[..2], ["/bin/sh", "-c"]);
        assert!(!cmd[2].contains("build-base"), "names are arguments, never script text: {cmd:?}");
        assert_eq!(&cmd[3..], ["python3", "build-base", "libffi-dev"]);
        assert_eq!(prep_command(&alpine(&[])), ["python3", "-m", "venv", VENV]);
    }

    #[test]
    fn the_prep_tag_follows_what_runs() {
        let a = prep_tag(&alpine(&["build-base"]), "sha256:abc");
        assert_eq!(a, prep_tag(&alpine(&["build-base"]), "sha256:abc"));
        assert_ne!(a, prep_tag(&alpine(&["build-base", "gfortran"]), "sha256:abc"));
        assert_ne!(a, prep_tag(&alpine(&["build-base"]), "sha256:abd"));
    }
}
