//! Images: inspect, pull (recording the digest), tag (stage, promote, hold), remove.

use bollard::query_parameters::{CreateImageOptions, RemoveImageOptions, TagImageOptions};
use futures_util::StreamExt;

use super::{Engine, EngineError};

/// What the harness needs to know about an image.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// The content-addressed id (`sha256:…`).
    pub id: String,
    /// `repo@sha256:…` entries: present when the image came from (or went to) a registry.
    pub repo_digests: Vec<String>,
    pub size: i64,
    /// The image's labels (a test-bed base records the source versions it was built from).
    pub labels: std::collections::BTreeMap<String, String>,
    /// The environment its containers start with (`KEY=value`, as the image's config has it).
    pub env: Vec<String>,
    /// The working directory its containers start in, when the image sets one.
    pub working_dir: Option<String>,
}

impl ImageInfo {
    /// The registry digest for `reference`'s repository, if the engine knows one.
    pub fn digest_for(&self, reference: &str) -> Option<String> {
        let repo = repository_of(reference);
        self.repo_digests
            .iter()
            .find(|d| d.split('@').next() == Some(repo))
            .or_else(|| self.repo_digests.first())
            .and_then(|d| d.split('@').nth(1))
            .map(str::to_string)
    }
}

/// `host:5000/a/b:tag` -> `host:5000/a/b`; `a/b@sha256:…` -> `a/b`.
pub(crate) fn repository_of(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    match no_digest.rfind(':') {
        // A colon after the last slash separates the tag; one before it is a registry port.
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

impl Engine {
    /// Inspects a local image; `Ok(None)` when the engine has no such image.
    pub async fn image(&self, reference: &str) -> Result<Option<ImageInfo>, EngineError> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => {
                let config = i.config.unwrap_or_default();
                Ok(Some(ImageInfo {
                    id: i.id.unwrap_or_default(),
                    repo_digests: i.repo_digests.unwrap_or_default(),
                    size: i.size.unwrap_or_default(),
                    labels: config.labels.map(|l| l.into_iter().collect()).unwrap_or_default(),
                    env: config.env.unwrap_or_default(),
                    working_dir: config.working_dir.filter(|w| !w.is_empty()),
                }))
            }
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(EngineError::api(format!("failed to inspect image {reference}"), e)),
        }
    }

    /// Pulls `reference` from its registry. The engine's error (unknown host, no such tag,
    /// TLS) is returned as [`EngineError::Other`] with the engine's message.
    pub async fn pull(&self, reference: &str) -> Result<(), EngineError> {
        let (from_image, tag) = match reference.split_once('@') {
            Some(_) => (reference.to_string(), None),
            None => {
                let repo = repository_of(reference);
                let tag = reference.get(repo.len() + 1..).filter(|t| !t.is_empty()).unwrap_or("latest");
                (repo.to_string(), Some(tag.to_string()))
            }
        };
        let opts = CreateImageOptions { from_image: Some(from_image), tag, ..Default::default() };
        let mut stream = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(_) => {}
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(EngineError::other(format!("failed to pull {reference}"), error))
                }
                Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                    return Err(EngineError::other(format!("failed to pull {reference}"), message))
                }
                Err(e) => return Err(EngineError::api(format!("failed to pull {reference}"), e)),
            }
        }
        Ok(())
    }

    /// A tag private to this run for building or committing an image before it takes its
    /// content-addressed `tag`: two runs that build the same thing never write one tag halfway.
    pub fn staging_tag(&self, tag: &str) -> String {
        let suffix = hold_suffix(&self.run_id);
        format!("{tag}-staging-{suffix}")
    }

    /// Moves `tag` to the image `staging` names, in one engine call, then drops the staging tag.
    /// Returns the image id.
    pub async fn promote(&self, staging: &str, tag: &str) -> Result<String, EngineError> {
        let new = self
            .image(staging)
            .await?
            .ok_or_else(|| {
                EngineError::other(format!("failed to tag {tag}"), format!("the built image {staging} is gone"))
            })?
            .id;
        let (repo, t) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
        self.docker
            .tag_image(&new, Some(TagImageOptions { repo: Some(repo.to_string()), tag: Some(t.to_string()) }))
            .await
            .map_err(|e| EngineError::api(format!("failed to tag {tag}"), e))?;
        self.untag_or_remove(staging).await;
        // The image the tag held before is not removed here: another run may have resolved the
        // tag to it a moment ago and be creating a container from it, which the engine does not
        // protect (the container would then lose its image before its commit). It is left
        // untagged, and the end of every run removes untagged labelled images nothing uses.
        Ok(new)
    }

    /// A tag of this run's own on the image `reference` names now, to create containers from.
    /// Another run may move `reference` and leave the old image untagged, and a run that ends
    /// removes untagged images nothing uses; the engine does not count a container still being
    /// created as a user, so a container must be made from an image that stays tagged until
    /// it is registered. The hold is that tag: released at the end of the run.
    pub async fn hold(&self, reference: &str) -> Result<String, EngineError> {
        let suffix = hold_suffix(&self.run_id);
        let (repo, tag) = match reference.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, t),
            _ => (reference, "latest"),
        };
        // Tags are at most 128 characters: keep the end of a long one (the content key).
        let start = tag.len().saturating_sub(100);
        let hold = format!("{}-hold-{suffix}", &tag[start..]);
        self.docker
            .tag_image(reference, Some(TagImageOptions { repo: Some(repo.to_string()), tag: Some(hold.clone()) }))
            .await
            .map_err(|e| EngineError::api(format!("failed to hold {reference}"), e))?;
        let full = format!("{repo}:{hold}");
        self.holds.lock().expect("holds").insert(full.clone());
        Ok(full)
    }

    /// Removes the hold tags of runs that are over (killed runs leave theirs), as `scope`
    /// says which runs those are; never this run's. What was removed, for the caller to say.
    pub async fn release_stale_holds(&self, scope: HoldScope<'_>) -> Result<Vec<String>, EngineError> {
        let tags: Vec<String> = self
            .docker
            .list_images(Some(bollard::query_parameters::ListImagesOptions { all: false, ..Default::default() }))
            .await
            .map_err(|e| EngineError::api("failed to list images", e))?
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .collect();
        let ended = crate::lease::ended_runs();
        let runs = HoldRuns {
            own: hold_suffix(&self.run_id),
            live: crate::lease::live_runs().iter().map(|r| hold_suffix(r)).collect(),
            ended: ended.iter().map(|r| hold_suffix(r)).collect(),
            now: crate::model::now(),
        };
        let stale = stale_holds(&tags, |suffix| runs.is_over(suffix, scope));
        for t in &stale {
            self.untag_or_remove(t).await;
        }
        // Those runs' holds are gone: the lease files that told they ended have served (only
        // the ones read above; one that ended since is the next sweep's to read).
        if !matches!(scope, HoldScope::Run(_)) {
            crate::lease::forget(&ended);
        }
        Ok(stale)
    }

    /// Drops this run's holds (an image whose last tag it was, and that nothing uses, goes).
    pub async fn release_holds(&self) {
        let holds: Vec<String> = self.holds.lock().expect("holds").drain().collect();
        for h in holds {
            self.untag_or_remove(&h).await;
        }
    }

    /// Removes a tag (the image stays while another tag names it), or an untagged image that
    /// nothing uses. Refusals (in use, has children) are expected and only logged.
    pub async fn untag_or_remove(&self, reference: &str) {
        let opts = RemoveImageOptions { force: false, ..Default::default() };
        if let Err(e) = self.docker.remove_image(reference, Some(opts), None).await {
            tracing::debug!("kept image {reference}: {e}");
        }
    }

    /// Removes an image; a missing image is not an error.
    pub async fn remove_image(&self, reference: &str) -> Result<(), EngineError> {
        let opts = RemoveImageOptions { force: true, ..Default::default() };
        match self.docker.remove_image(reference, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(e) => Err(EngineError::api(format!("failed to remove image {reference}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_of_handles_ports_tags_and_digests() {
        assert_eq!(repository_of("127.0.0.1:5000/a/b:3.13-musl"), "127.0.0.1:5000/a/b");
        assert_eq!(repository_of("127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b");
        assert_eq!(repository_of("python:3.13-slim"), "python");
        assert_eq!(repository_of("a/b@sha256:00"), "a/b");
    }
}

/// The part of a hold tag that names its run: the run id's letters and digits, at most 16.
pub(crate) fn hold_suffix(run_id: &str) -> String {
    run_id.chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect()
}

/// Which runs' hold tags [`Engine::release_stale_holds`] removes.
#[derive(Debug, Clone, Copy)]
pub enum HoldScope<'a> {
    /// What a run does on its own at its start: only the holds of runs known to be over. A run
    /// that ended here without removing its lease is; a run this machine knows nothing of may
    /// be going on elsewhere on the same engine (another CI host, the harness in a job
    /// container) and is taken as over only once it started more than [`FOREIGN_HOLD_AGE`]
    /// seconds ago. Removing a live run's hold fails its next container with "No such image".
    Over,
    /// What `muslcheck clean` does when asked: every run not live on this machine.
    NotLiveHere,
    /// Just this run's (`clean --run`).
    Run(&'a str),
}

/// How long a hold of a run unknown here is presumed to belong to a run still going: longer
/// than any run (a nightly's source builds take an hour, not a day).
pub const FOREIGN_HOLD_AGE: u64 = 24 * 3600;

/// What a sweep knows of the runs whose holds it sees, by hold suffix.
struct HoldRuns {
    own: String,
    live: std::collections::HashSet<String>,
    ended: std::collections::HashSet<String>,
    now: u64,
}

impl HoldRuns {
    fn is_over(&self, suffix: &str, scope: HoldScope<'_>) -> bool {
        if suffix == self.own || self.live.contains(suffix) {
            return false;
        }
        match scope {
            HoldScope::Run(run) => suffix == hold_suffix(run),
            HoldScope::NotLiveHere => true,
            HoldScope::Over => {
                self.ended.contains(suffix)
                    || started_at(suffix).is_some_and(|t| self.now.saturating_sub(t) > FOREIGN_HOLD_AGE)
            }
        }
    }
}

/// When the run of a hold suffix started: run ids begin with their start in seconds since the
/// epoch, ten digits until the year 2286. None for a suffix that does not.
fn started_at(suffix: &str) -> Option<u64> {
    let secs = suffix.get(..10)?;
    secs.bytes().all(|b| b.is_ascii_digit()).then(|| secs.parse().ok()).flatten()
}

/// The tags among `tags` that are holds (`repo:<tag>-hold-<suffix>`) whose run `is_over` says
/// is over, given the suffix.
pub(crate) fn stale_holds(tags: &[String], is_over: impl Fn(&str) -> bool) -> Vec<String> {
    tags.iter()
        .filter(|t| {
            let tag = t.rsplit_once(':').map_or("", |(_, tag)| tag);
            tag.rsplit_once("-hold-").is_some_and(|(_, suffix)| {
                !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_alphanumeric()) && is_over(suffix)
            })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod hold_tests {
    use super::*;

    #[test]
    fn holds_of_runs_whose_lease_is_gone_are_stale_and_live_ones_are_kept() {
        let (live_run, dead_run) = ("1764576000-1a2b3c4d", "1764570000-deadbeef");
        assert_eq!(hold_suffix(live_run), "17645760001a2b3c");
        let live = std::collections::HashSet::from([hold_suffix(live_run)]);
        let tags: Vec<String> = [
            format!("127.0.0.1:5000/muslcheck-testbed/python:3.13-musl-hold-{}", hold_suffix(dead_run)),
            format!("muslcheck/job:0123abcd-hold-{}", hold_suffix(dead_run)),
            format!("muslcheck/job:0123abcd-hold-{}", hold_suffix(live_run)),
            "muslcheck/job:0123abcd".to_string(),
            "python:3.13-threshold-x".to_string(),
            "reg:5000/x-hold-y/z:1.0".to_string(),
        ]
        .to_vec();
        assert_eq!(stale_holds(&tags, |s| !live.contains(s)), tags[..2].to_vec());
    }

    #[test]
    fn on_its_own_a_run_removes_only_holds_of_runs_known_to_be_over() {
        let now = 1_764_576_000;
        let run = |secs: u64, hex: &str| hold_suffix(&format!("{secs}-{hex}"));
        let (own, live, ended) = (run(now, "00000000"), run(now - 60, "11111111"), run(now - 60, "22222222"));
        let (elsewhere, long_ago) = (run(now - 600, "33333333"), run(now - FOREIGN_HOLD_AGE - 1, "44444444"));
        let runs = HoldRuns { own: own.clone(), live: [live.clone()].into(), ended: [ended.clone()].into(), now };
        let over = |s: &str, scope| runs.is_over(s, scope);
        // At a run's start: the run that ended here, and one unknown here from over a day ago.
        assert!(over(&ended, HoldScope::Over) && over(&long_ago, HoldScope::Over));
        // A run unknown here that started ten minutes ago may be running on another host.
        assert!(!over(&elsewhere, HoldScope::Over));
        assert!(!over(&live, HoldScope::Over) && !over(&own, HoldScope::Over));
        assert!(!over("notarunid", HoldScope::Over));
        // Asked to clean: everything not live here, never this run's own.
        assert!(over(&elsewhere, HoldScope::NotLiveHere) && !over(&live, HoldScope::NotLiveHere));
        assert!(!over(&own, HoldScope::NotLiveHere));
        let id = format!("{}-33333333", now - 600);
        assert!(over(&elsewhere, HoldScope::Run(&id)) && !over(&ended, HoldScope::Run(&id)));
    }
}
