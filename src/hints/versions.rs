//! What the version suggestions are made from, gathered after the jobs ran and only where a
//! job could not take a wheel: each such base's compatible wheel tags (`tags`), and each such
//! distribution's files on the index (PEP 691, from the host, with the builds' index, CA bundle
//! and extra hosts). The rule that picks a version is `compare::suggest_versions`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::compare::Available;
use crate::engine::Engine;
use crate::model::{BuildOutcome, RunReport};
use crate::settings::RunSettings;

pub(super) async fn without_wheels(engine: &Engine, s: &RunSettings, report: &RunReport) -> Available {
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
        let prep = crate::install::prep_tag(b, &rec.image_id);
        avail.tags.insert(base.clone(), super::tags::tags_of(engine, s, b, &prep).await);
    }
    let policy = &s.matrix.policy;
    let dists: Vec<String> = wanted.into_values().flatten().collect::<BTreeSet<_>>().into_iter().collect();
    // --offline promises not to ask the index; the suggestion then says it was not asked.
    if s.freshness == crate::install::Freshness::Offline {
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
