//! The prep image of a base: its system packages and a virtualenv (with the pinned uv in it,
//! for a base that installs with uv), made in a container that is committed, and tagged by a
//! key of what runs to make it.

use std::collections::HashMap;
use std::time::Duration;

use super::pip::last_error_line;
use super::VENV;
use crate::engine::{tar_of, Mount};
use crate::engine::{Engine, RunSpec, Sandbox};
use crate::matrix::{Base, Family, Installer};
use crate::text::tail;

/// The prep image's tag: a function of what runs to make it (the base by image id, the prep
/// command with its package names, the user it runs as, and the recipe's identity), never of
/// the built image's own id, so an identical rebuild (`--no-cache`) invalidates no job built on
/// it.
pub fn prep_tag(base: &Base, base_image_id: &str) -> String {
    let mut parts = vec![crate::identity::recipe(), base_image_id.to_string(), PREP_USER.to_string()];
    parts.extend(prep_command(base));
    // The installer changes what is in the image: uv's pin (version and hashes) is part of it.
    if base.installer == Installer::Uv {
        parts.push(super::uv::pin());
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    format!("muslcheck/prep:{}", crate::key::key(&parts))
}

/// The prep step runs as root: it installs system packages.
const PREP_USER: &str = "0";

/// How a prep reaches the builds' index (to install uv from it): the index, its CA, its hosts.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrepIndex<'a> {
    pub index_url: Option<&'a str>,
    pub ca_bundle: Option<&'a std::path::Path>,
    pub extra_hosts: &'a [String],
}

/// Where the prep's own files (uv's pin, the CA bundle) are: a volume of the container's own,
/// never part of the committed image.
const PREP_SCRATCH: &str = "/run/muslcheck-prep";

/// Makes sure the prep image of `base` exists; returns its tag.
pub async fn ensure_prep(
    engine: &Engine,
    base: &Base,
    base_image_id: &str,
    timeout: Duration,
    no_cache: bool,
    index: PrepIndex<'_>,
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
    if base.installer == Installer::Uv {
        // uv comes from the builds' own index, as every dependency does, pinned by hash.
        spec.mounts.push(Mount::Volume { name: None, target: PREP_SCRATCH.into() });
        let pin = super::uv::pin();
        let mut files: Vec<(&str, &[u8])> = vec![("uv.txt", pin.as_bytes())];
        let ca;
        if let Some(path) = index.ca_bundle {
            ca = crate::input::read_text(path, crate::input::MAX_DATA)
                .map_err(|e| format!("failed to read the CA bundle {}: {e}", path.display()))?;
            files.push(("ca.pem", ca.as_bytes()));
            spec.env.push(format!("PIP_CERT={PREP_SCRATCH}/ca.pem"));
        }
        spec.uploads.push((PREP_SCRATCH.into(), tar_of(&files)));
        spec.env.extend(["PIP_DISABLE_PIP_VERSION_CHECK=1".to_string(), "PIP_ROOT_USER_ACTION=ignore".to_string()]);
        if let Some(url) = index.index_url {
            spec.env.push(format!("PIP_INDEX_URL={url}"));
        }
        spec.extra_hosts = index.extra_hosts.to_vec();
    }
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
    let cmd = pip_prep_command(base);
    if base.installer == Installer::Pip {
        return cmd;
    }
    // Then uv, from the pinned requirement with its hashes, into a directory of its own: not
    // into the virtualenv, whose installed tree is what the probes observe. uv needs no pip in
    // the virtualenv, and seeding one (ensurepip) is most of a prep's time (2 s on Debian's
    // Python, 4 s on the musl test bed's): the base interpreter's own pip installs uv where it
    // has one (`--target` is allowed under PEP 668), the virtualenv's otherwise.
    let uv = |python: &str| {
        format!(
            "{python} -m pip install --no-input --no-deps --require-hashes --progress-bar off --target {} -r {PREP_SCRATCH}/uv.txt",
            super::uv::UV_HOME
        )
    };
    let script = format!(
        "if \"$0\" -m pip --version >/dev/null 2>&1; then \"$0\" -m venv --without-pip {VENV} && {}; \
         else \"$0\" -m venv {VENV} && {}; fi",
        uv("\"$0\""),
        uv(&format!("{VENV}/bin/python"))
    );
    match cmd.first().map(String::as_str) {
        Some("/bin/sh") => {
            let mut cmd = cmd;
            cmd[2] = cmd[2].replacen("exec \"$0\" -m venv /opt/muslcheck/venv", &format!("{{ {script}; }}"), 1);
            cmd
        }
        _ => vec!["/bin/sh".into(), "-c".into(), script, base.python.clone()],
    }
}

fn pip_prep_command(base: &Base) -> Vec<String> {
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
        // With uv: the same, then uv from its pin; the names are still arguments.
        let uv = Base { installer: Installer::Uv, ..alpine(&["build-base"]) };
        let cmd = prep_command(&uv);
        assert!(
            cmd[2].contains("\"$0\" -m venv --without-pip /opt/muslcheck/venv && \"$0\" -m pip install"),
            "the base's own pip installs uv, with no pip seeded into the virtualenv: {cmd:?}"
        );
        assert!(
            cmd[2].contains("else \"$0\" -m venv /opt/muslcheck/venv && /opt/muslcheck/venv/bin/python -m pip install"),
            "a base without pip seeds one: {cmd:?}"
        );
        assert!(cmd[2].contains("--require-hashes") && !cmd[2].contains("build-base"), "{cmd:?}");
        assert_eq!(&cmd[3..], ["python3", "build-base"]);
        let bare = prep_command(&Base { installer: Installer::Uv, ..alpine(&[]) });
        assert_eq!(bare[..2], ["/bin/sh", "-c"]);
        assert_eq!(bare[3], "python3");
    }

    #[test]
    fn the_prep_tag_follows_what_runs() {
        let a = prep_tag(&alpine(&["build-base"]), "sha256:abc");
        assert_eq!(a, prep_tag(&alpine(&["build-base"]), "sha256:abc"));
        assert_ne!(a, prep_tag(&alpine(&["build-base", "gfortran"]), "sha256:abc"));
        assert_ne!(a, prep_tag(&alpine(&["build-base"]), "sha256:abd"));
        // The prep tag changes with the installer.
        assert_ne!(a, prep_tag(&Base { installer: Installer::Uv, ..alpine(&["build-base"]) }, "sha256:abc"));
    }
}
