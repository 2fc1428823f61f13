//! What the version suggestions are made from, gathered after the jobs ran and only where a
//! job could not take a wheel: each such base's compatible wheel tags, as its own interpreter
//! computes them (`pip debug --verbose` in the base's prep image: pip's vendored
//! `packaging.tags`, so exactly the tags pip installs by; the bases carry no `packaging`
//! module of their own), and each such distribution's files on the index (PEP 691, from the
//! host, with the builds' index, CA bundle and extra hosts). The rule that picks a version is
//! `compare::suggest_versions`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::compare::Available;
use crate::engine::{Engine, EngineError, RunSpec, Sandbox};
use crate::report::model::{BuildOutcome, RunReport};
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
pub(crate) async fn tags_of(engine: &Engine, s: &RunSettings, prep: &str) -> Result<Vec<String>, String> {
    let key = crate::cache::key(&[prep, "pip debug --verbose"]);
    if !s.no_cache {
        if let Some(tags) = crate::cache::get::<Vec<String>>(s.observations.as_deref(), "tags", &key) {
            return Ok(tags);
        }
    }
    let cmd = ["-m", "pip", "debug", "--verbose"].iter().map(|a| a.to_string());
    let mut spec =
        RunSpec::new(prep, std::iter::once(crate::build::VENV_PYTHON.to_string()).chain(cmd).collect(), "tags");
    spec.sandbox = Sandbox::strict();
    spec.user = Some("1000:1000".into());
    spec.timeout = Duration::from_secs(120);
    spec.env = vec!["HOME=/tmp".into(), "PIP_DISABLE_PIP_VERSION_CHECK=1".into(), "PIP_NO_CACHE_DIR=1".into()];
    let out = engine.run(&spec).await.map_err(|e: EngineError| format!("running pip debug: {e}"))?;
    if out.exit_code != Some(0) {
        return Err(format!(
            "pip debug exited with {:?}: {}",
            out.exit_code,
            crate::compare::first_line(&crate::build::tail(&out.stderr, 400))
        ));
    }
    let tags = parse_pip_debug(&out.stdout)?;
    crate::cache::put(s.observations.as_deref(), "tags", &key, &tags);
    Ok(tags)
}

/// Tags of the bases and files of the distributions that some job could not take a wheel for,
/// and the older versions read where a distribution fails by a cause in its native files
/// (`fixhints`).
pub async fn gather(engine: &Engine, s: &RunSettings, report: &RunReport) -> Available {
    let fixes = crate::fixhints::gather(engine, s, report).await;
    Available { fixes, ..without_wheels(engine, s, report).await }
}

async fn without_wheels(engine: &Engine, s: &RunSettings, report: &RunReport) -> Available {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dep in &s.matrix.dependencies {
        for j in report.jobs.iter().filter(|j| j.dependency == dep.name) {
            if matches!(j.outcome, BuildOutcome::Installed | BuildOutcome::InstallFailed) {
                let dists = crate::compare::without_wheel(j);
                if !dists.is_empty() {
                    wanted.entry(j.base.clone()).or_default().extend(dists);
                }
            }
        }
    }
    let mut avail = Available::default();
    if wanted.is_empty() {
        return avail;
    }
    for base in wanted.keys() {
        let (Some(b), Some(rec)) = (s.matrix.base(base), report.bases.iter().find(|r| &r.name == base)) else {
            continue;
        };
        let prep = crate::build::prep_tag(b, &rec.image_id);
        avail.tags.insert(base.clone(), tags_of(engine, s, &prep).await);
    }
    let policy = &s.matrix.policy;
    let dists: Vec<String> = wanted.into_values().flatten().collect::<BTreeSet<_>>().into_iter().collect();
    // --offline promises not to ask the index; the suggestion then says it was not asked.
    if s.freshness == crate::build::Freshness::Offline {
        avail.files = dists.into_iter().map(|d| (d, Err("--offline: the index was not asked".into()))).collect();
        return avail;
    }
    let files = match crate::index::IndexClient::new(
        policy.index_url.as_deref(),
        policy.ca_bundle.as_deref(),
        &policy.extra_hosts,
    ) {
        Err(e) => dists.into_iter().map(|d| (d, Err(e.clone()))).collect(),
        Ok(index) => {
            let index = Arc::new(index);
            tokio::task::spawn_blocking(move || dists.into_iter().map(|d| (d.clone(), index.files(&d))).collect())
                .await
                .unwrap_or_default()
        }
    };
    avail.files = files;
    avail
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
