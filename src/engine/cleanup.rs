//! Finding and removing what the harness created, by label: the Ctrl-C path, the end of every
//! run, and `muslcheck clean` after a run that was killed.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListContainersOptions, ListImagesOptions, ListNetworksOptions, ListVolumesOptions, RemoveImageOptions,
    RemoveVolumeOptions,
};

use super::{Engine, EngineError, LABEL, RUN_LABEL};

/// Labelled objects found on the engine.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LabelledObjects {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    pub images: Vec<String>,
    /// Labelled images that lost their tag (replaced by a rebuild while in use, or a run killed
    /// between commit and tag): never cache, always garbage.
    pub dangling: Vec<String>,
    /// The run that made each container and network (its `io.muslcheck.run` label).
    #[serde(skip)]
    pub run_of: HashMap<String, String>,
}

impl LabelledObjects {
    /// Drops the containers and networks of the runs for which `keep` holds.
    pub fn leave_runs(&mut self, keep: impl Fn(&str) -> bool) {
        let run_of = &self.run_of;
        let kept = |id: &String| run_of.get(id).is_some_and(|r| keep(r));
        self.containers.retain(|c| !kept(c));
        self.networks.retain(|n| !kept(n));
    }

    /// The runs that made the containers and networks listed.
    pub fn runs(&self) -> std::collections::BTreeSet<String> {
        self.containers.iter().chain(&self.networks).filter_map(|id| self.run_of.get(id).cloned()).collect()
    }
}

/// What a cleanup removed and what it could not.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CleanupReport {
    pub removed: LabelledObjects,
    pub failed: Vec<String>,
}

fn filter(run: Option<&str>) -> HashMap<String, Vec<String>> {
    let label = match run {
        Some(r) => format!("{RUN_LABEL}={r}"),
        None => LABEL.to_string(),
    };
    HashMap::from([("label".to_string(), vec![label])])
}

impl Engine {
    /// Lists labelled objects: those of one run, or all of the harness's. Images are the build
    /// cache: listed only when asked (`with_cache`), with any labelled volumes.
    pub async fn labelled(&self, run: Option<&str>, with_cache: bool) -> Result<LabelledObjects, EngineError> {
        let f = filter(run);
        let mut run_of = HashMap::new();
        let mut note = |id: &str, labels: Option<&HashMap<String, String>>| {
            if let Some(r) = labels.and_then(|l| l.get(RUN_LABEL)) {
                run_of.insert(id.to_string(), r.clone());
            }
        };
        let mut containers = vec![];
        for c in self
            .docker
            .list_containers(Some(ListContainersOptions { all: true, filters: Some(f.clone()), ..Default::default() }))
            .await
            .map_err(|e| EngineError::api("failed to list containers", e))?
        {
            if let Some(id) = c.id {
                note(&id, c.labels.as_ref());
                containers.push(id);
            }
        }
        let mut networks = vec![];
        for n in self
            .docker
            .list_networks(Some(ListNetworksOptions { filters: Some(f.clone()) }))
            .await
            .map_err(|e| EngineError::api("failed to list networks", e))?
        {
            if let Some(id) = n.id {
                note(&id, n.labels.as_ref());
                networks.push(id);
            }
        }
        let mut dangling_filter = f.clone();
        dangling_filter.insert("dangling".to_string(), vec!["true".to_string()]);
        let mut dangling = vec![];
        for i in self
            .docker
            .list_images(Some(ListImagesOptions { all: false, filters: Some(dangling_filter), ..Default::default() }))
            .await
            .map_err(|e| EngineError::api("failed to list images", e))?
        {
            note(&i.id, Some(&i.labels));
            dangling.push(i.id);
        }
        let mut out = LabelledObjects { containers, networks, dangling, run_of, ..Default::default() };
        if with_cache {
            out.volumes = self
                .docker
                .list_volumes(Some(ListVolumesOptions { filters: Some(f.clone()) }))
                .await
                .map_err(|e| EngineError::api("failed to list volumes", e))?
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.name)
                .collect();
            out.images = self
                .docker
                .list_images(Some(ListImagesOptions { all: false, filters: Some(f), ..Default::default() }))
                .await
                .map_err(|e| EngineError::api("failed to list images", e))?
                .into_iter()
                .map(|i| i.id)
                .collect();
        }
        Ok(out)
    }

    /// Removes what [`Engine::labelled`] lists; each failure is recorded and the rest go on.
    pub async fn remove_labelled(&self, objects: &LabelledObjects) -> CleanupReport {
        let mut report = CleanupReport::default();
        for id in &objects.containers {
            self.remove_container(id).await;
            report.removed.containers.push(id.clone());
        }
        for id in &objects.networks {
            match self.docker.remove_network(id).await {
                Ok(()) => report.removed.networks.push(id.clone()),
                Err(e) => report.failed.push(format!("network {id}: {e}")),
            }
        }
        for name in &objects.volumes {
            match self.docker.remove_volume(name, Some(RemoveVolumeOptions { force: true })).await {
                Ok(()) => report.removed.volumes.push(name.clone()),
                Err(e) => report.failed.push(format!("volume {name}: {e}")),
            }
        }
        for id in &objects.dangling {
            if objects.images.contains(id) {
                continue;
            }
            // Not forced: an image a live container still uses is left to that run.
            let opts = RemoveImageOptions { force: false, ..Default::default() };
            match self.docker.remove_image(id, Some(opts), None).await {
                Ok(_) => report.removed.dangling.push(id.clone()),
                Err(e) => report.failed.push(format!("image {id}: {e}")),
            }
        }
        for id in &objects.images {
            match self.remove_image(id).await {
                Ok(()) => report.removed.images.push(id.clone()),
                Err(e) => report.failed.push(format!("image {id}: {e}")),
            }
        }
        report
    }

    /// Removes this run's containers, networks and volumes: the end of a run and the signal path.
    pub async fn cleanup_run(&self) -> CleanupReport {
        let live: Vec<String> = self.live.lock().expect("live container set").iter().cloned().collect();
        for id in &live {
            self.remove_container(id).await;
        }
        let mut report = match self.labelled(Some(&self.run_id.clone()), true).await {
            Ok(mut objs) => {
                // Images of this run are the cache: kept. Untagged ones are handled below.
                objs.images.clear();
                objs.dangling.clear();
                self.remove_labelled(&objs).await
            }
            Err(e) => CleanupReport { failed: vec![e.to_string()], ..Default::default() },
        };
        // This run's containers are gone: its holds go too (kept containers keep theirs).
        self.release_holds().await;
        // An image replaced while a container of some run still used it lost its tag but could
        // not be removed then. Whichever run ends last removes it: untagged labelled images are
        // garbage whoever made them, and one still in use is refused, not forced. But not one
        // of a run still going: a commit makes its image before it tags it, and an image of a
        // live run without a tag may be that moment (removed there, the commit fails with "No
        // such image"). A run is going if its lease is held here, or, for a run on another host
        // or in a job container (no lease here), if it has a container on the engine: the
        // container being committed is there until the commit is tagged. That run's own end,
        // or a later one's, removes the image.
        if let Ok(all) = self.labelled(None, false).await {
            let mut going: std::collections::BTreeSet<String> = crate::lease::live_runs().into_iter().collect();
            going.extend(all.containers.iter().filter_map(|c| all.run_of.get(c)).cloned());
            going.remove(&self.run_id);
            for id in all.dangling.iter().filter(|id| !all.run_of.get(*id).is_some_and(|r| going.contains(r))) {
                let opts = RemoveImageOptions { force: false, ..Default::default() };
                if self.docker.remove_image(id, Some(opts), None).await.is_ok() {
                    report.removed.dangling.push(id.clone());
                }
            }
        }
        report
    }
}
