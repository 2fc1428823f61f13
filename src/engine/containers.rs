//! Containers: create with labels, limits and sandboxing, run with a time limit, read bounded
//! output, then commit, copy files in and out, and remove.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, MountType};
use bollard::query_parameters::{
    CommitContainerOptions, DownloadFromContainerOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
    UploadToContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;

use super::{Engine, EngineError};

/// How a probe container is confined. [`Sandbox::strict`] is the default for probes.
#[derive(Debug, Clone, PartialEq)]
pub struct Sandbox {
    pub network: bool,
    pub read_only: bool,
    pub drop_all_caps: bool,
    pub cap_add: Vec<String>,
    pub memory_bytes: Option<i64>,
    pub pids_limit: Option<i64>,
    pub cpuset: Option<String>,
    /// Paths mounted as tmpfs (`/tmp` for a read-only root).
    pub tmpfs: Vec<String>,
}

impl Sandbox {
    /// No network, read-only root with a tmpfs /tmp, no capabilities, no new privileges,
    /// memory and pids limits.
    pub fn strict() -> Sandbox {
        Sandbox {
            network: false,
            read_only: true,
            drop_all_caps: true,
            cap_add: vec![],
            memory_bytes: Some(1 << 30),
            pids_limit: Some(512),
            cpuset: None,
            tmpfs: vec!["/tmp".into()],
        }
    }
    /// [`Sandbox::strict`] with a writable root: for files copied in before the start, or a
    /// program that writes beside itself (a compiler's cache), still without network.
    pub fn strict_writable() -> Sandbox {
        Sandbox { read_only: false, tmpfs: vec![], ..Sandbox::strict() }
    }
    /// What an install step needs: the network (to reach the package index), a writable root.
    pub fn build() -> Sandbox {
        Sandbox {
            network: true,
            read_only: false,
            drop_all_caps: false,
            cap_add: vec![],
            memory_bytes: Some(8 << 30),
            pids_limit: Some(4096),
            cpuset: None,
            tmpfs: vec![],
        }
    }
}

/// What a container mounts: only engine-side volumes. The harness binds no path of its own
/// machine into a container: the engine may be remote, or see another filesystem (a socket
/// mounted into a CI job's container); files go in and out through the engine's archive API.
#[derive(Debug, Clone)]
pub enum Mount {
    /// An engine-side volume, labelled as the harness's. A named one is made on first use and
    /// kept (a cache, removed by `clean --images`); an unnamed one lives and dies with its
    /// container, and is never part of an image committed from it.
    Volume { name: Option<String>, target: String },
}

/// One container run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub image: String,
    pub cmd: Vec<String>,
    /// Replaces the image's entrypoint (`None`: the image's own). A container of an image the
    /// harness did not make (`inspect`) must run the probe, not the image's entrypoint with the
    /// probe as its arguments.
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub sandbox: Sandbox,
    pub mounts: Vec<Mount>,
    /// Tar archives extracted into the container before it starts: (directory, tar bytes).
    pub uploads: Vec<(String, Vec<u8>)>,
    pub timeout: Duration,
    /// Output past this many bytes (stdout and stderr together) is not kept, and the container
    /// is stopped: a probe that prints gigabytes must not exhaust the harness.
    pub max_output: usize,
    /// What the container is for (a label value).
    pub kind: String,
    /// Keep the stopped container (for a commit or a download); the caller removes it.
    pub keep: bool,
    /// Size of each tmpfs (default 256m).
    pub tmpfs_size: Option<String>,
    /// `name:address` entries added to the container's /etc/hosts (an index on a private name).
    pub extra_hosts: Vec<String>,
}

impl RunSpec {
    pub fn new(image: impl Into<String>, cmd: Vec<String>, kind: &str) -> RunSpec {
        RunSpec {
            image: image.into(),
            cmd,
            entrypoint: None,
            env: vec![],
            user: None,
            workdir: None,
            sandbox: Sandbox::strict(),
            mounts: vec![],
            uploads: vec![],
            timeout: Duration::from_secs(300),
            max_output: 8 << 20,
            kind: kind.to_string(),
            keep: false,
            tmpfs_size: None,
            extra_hosts: vec![],
        }
    }
}

/// What happened. Every container outcome is a value here.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// The exit code; with a signal, 128 + signal (what the engine reports).
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub timed_out: bool,
    pub output_truncated: bool,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// The stopped container, when [`RunSpec::keep`] was set.
    pub container: Option<String>,
}

impl Engine {
    /// Creates, starts and waits for a container; reads its output up to the limit; removes it
    /// unless `keep`. The container is removed on every path out of this function, including a
    /// failure half-way, so nothing leaks.
    pub async fn run(&self, spec: &RunSpec) -> Result<RunOutput, EngineError> {
        let id = self.create(spec).await?;
        let result = self.run_created(&id, spec).await;
        if !spec.keep || result.is_err() {
            self.remove_container(&id).await;
        }
        result.map(|mut out| {
            if spec.keep {
                out.container = Some(id);
            }
            out
        })
    }

    async fn create(&self, spec: &RunSpec) -> Result<String, EngineError> {
        let s = &spec.sandbox;
        let mounts = spec
            .mounts
            .iter()
            .map(|m| match m {
                Mount::Volume { name, target } => bollard::models::Mount {
                    typ: Some(MountType::VOLUME),
                    source: name.clone(),
                    target: Some(target.clone()),
                    read_only: Some(false),
                    // A named cache outlives the run that made it: it carries no run label, so
                    // only `clean --images` takes it.
                    volume_options: Some(bollard::models::MountVolumeOptions {
                        labels: Some(match name {
                            Some(_) => self.cache_labels("cache-volume"),
                            None => self.labels("volume"),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            })
            .collect();
        let size = spec.tmpfs_size.as_deref().unwrap_or("256m");
        let tmpfs: HashMap<String, String> =
            s.tmpfs.iter().map(|p| (p.clone(), format!("rw,exec,nosuid,size={size},mode=1777"))).collect();
        let host_config = HostConfig {
            network_mode: Some(if s.network { "bridge".into() } else { "none".into() }),
            readonly_rootfs: Some(s.read_only),
            cap_drop: s.drop_all_caps.then(|| vec!["ALL".to_string()]),
            cap_add: (!s.cap_add.is_empty()).then(|| s.cap_add.clone()),
            security_opt: Some(vec!["no-new-privileges".into()]),
            memory: s.memory_bytes,
            // Without a swap limit equal to memory, "over the limit" means "swapping".
            memory_swap: s.memory_bytes,
            pids_limit: s.pids_limit,
            cpuset_cpus: s.cpuset.clone(),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            mounts: Some(mounts),
            extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: Some(spec.cmd.clone()),
            entrypoint: spec.entrypoint.clone(),
            env: Some(spec.env.clone()),
            user: spec.user.clone(),
            working_dir: spec.workdir.clone(),
            labels: Some(self.labels(&spec.kind)),
            network_disabled: Some(!s.network),
            host_config: Some(host_config),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(None::<bollard::query_parameters::CreateContainerOptions>, body)
            .await
            .map_err(|e| EngineError::api(format!("failed to create a container of {}", spec.image), e))?;
        self.track(&created.id);
        for (dir, tar) in &spec.uploads {
            if let Err(e) = self.upload(&created.id, dir, tar.clone()).await {
                self.remove_container(&created.id).await;
                return Err(e);
            }
        }
        Ok(created.id)
    }

    async fn run_created(&self, id: &str, spec: &RunSpec) -> Result<RunOutput, EngineError> {
        let start = Instant::now();
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| EngineError::api(format!("failed to start a container of {}", spec.image), e))?;
        let mut out = RunOutput::default();
        let read = async {
            let opts =
                LogsOptions { follow: true, stdout: true, stderr: true, tail: "all".into(), ..Default::default() };
            let mut logs = self.docker.logs(id, Some(opts));
            let mut total = 0usize;
            while let Some(item) = logs.next().await {
                let item = item.map_err(|e| EngineError::api("failed to read container output", e))?;
                let (buf, bytes) = match item {
                    LogOutput::StdOut { message } => (&mut out.stdout, message),
                    LogOutput::StdErr { message } => (&mut out.stderr, message),
                    _ => continue,
                };
                if total + bytes.len() > spec.max_output {
                    out.output_truncated = true;
                    break;
                }
                total += bytes.len();
                buf.push_str(&String::from_utf8_lossy(&bytes));
            }
            Ok::<_, EngineError>(())
        };
        match tokio::time::timeout(spec.timeout, read).await {
            Ok(r) => r?,
            Err(_) => out.timed_out = true,
        }
        if out.timed_out || out.output_truncated {
            self.kill(id).await;
        }
        // Wait for the stop; a non-zero exit is reported by bollard as an error: it is a value.
        let mut wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
        let waited = tokio::time::timeout(Duration::from_secs(30), wait.next()).await;
        let vanished = || {
            EngineError::other(
                format!("failed to run a container of {}", spec.image),
                "the container was removed while it ran, by something outside this run (`docker rm -f`, `muslcheck clean --force`)",
            )
        };
        match waited {
            Ok(Some(Ok(r))) => out.exit_code = Some(r.status_code),
            Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => out.exit_code = Some(code),
            // Gone before the wait began: removed from outside, like a vanished state below.
            Ok(Some(Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }))) => {
                return Err(vanished())
            }
            Ok(Some(Err(e))) => return Err(EngineError::api("failed to wait for a container", e)),
            Ok(None) | Err(_) => {}
        }
        let state = self.container_state(id).await?.ok_or_else(vanished)?;
        out.oom_killed = state.oom_killed.unwrap_or(false);
        if out.exit_code.is_none() {
            out.exit_code = state.exit_code;
        }
        // SIGKILL that is neither ours nor the OOM killer's: `docker rm -f` kills first and
        // removes a moment later. What was removed is gone, not an outcome of the probe.
        if out.exit_code == Some(137) && !out.timed_out && !out.output_truncated && !out.oom_killed {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if self.container_state(id).await?.is_none() {
                return Err(vanished());
            }
        }
        out.duration = start.elapsed();
        Ok(out)
    }

    /// A container's state; `None` when it is gone or being removed.
    async fn container_state(&self, id: &str) -> Result<Option<bollard::models::ContainerState>, EngineError> {
        use bollard::models::ContainerStateStatusEnum as S;
        match self.docker.inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>).await {
            Ok(c) => Ok(c.state.filter(|s| !matches!(s.status, Some(S::REMOVING) | Some(S::DEAD)))),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(EngineError::api("failed to inspect a container", e)),
        }
    }

    async fn kill(&self, id: &str) {
        let _ = self.docker.kill_container(id, Some(KillContainerOptions { signal: "SIGKILL".into() })).await;
    }

    /// Removes a container (forced, with its anonymous volumes); errors are logged, not raised,
    /// because removal runs on cleanup paths.
    pub async fn remove_container(&self, id: &str) {
        let opts = RemoveContainerOptions { force: true, v: true, ..Default::default() };
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => tracing::warn!("failed to remove container {id}: {e}"),
        }
        self.untrack(id);
    }

    /// Creates (does not start) a container of `image`, for reading files out of the image.
    pub async fn create_idle(&self, image: &str, kind: &str) -> Result<String, EngineError> {
        let mut spec = RunSpec::new(image, vec!["true".into()], kind);
        spec.sandbox.read_only = false;
        spec.sandbox.tmpfs.clear();
        self.create(&spec).await
    }

    /// Whether `path` exists in a container (running or stopped), as an entry of any type (a
    /// symbolic link counts, whether or not its target exists). Reads no more than the first
    /// chunk of the archive the engine sends.
    pub async fn exists(&self, id: &str, path: &str) -> Result<bool, EngineError> {
        let opts = DownloadFromContainerOptions { path: path.to_string() };
        let mut stream = self.docker.download_from_container(id, Some(opts));
        match stream.next().await {
            Some(Ok(_)) => Ok(true),
            None => Ok(true),
            Some(Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })) => Ok(false),
            Some(Err(e)) => Err(EngineError::api(format!("failed to look for {path} in a container"), e)),
        }
    }

    pub async fn upload(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), EngineError> {
        let opts = UploadToContainerOptions { path: dir.to_string(), ..Default::default() };
        self.docker
            .upload_to_container(id, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| EngineError::api(format!("failed to copy files into a container at {dir}"), e))
    }

    /// Reads one regular file out of a container (running or stopped). `Ok(None)` when the path
    /// does not exist.
    pub async fn read_file(&self, id: &str, path: &str, limit: usize) -> Result<Option<Vec<u8>>, EngineError> {
        let opts = DownloadFromContainerOptions { path: path.to_string() };
        let mut stream = self.docker.download_from_container(id, Some(opts));
        let mut tar_bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    tar_bytes.extend_from_slice(&b);
                    if tar_bytes.len() > limit + 64 * 1024 {
                        return Err(EngineError::other(
                            format!("failed to read {path}"),
                            format!("larger than {limit} bytes"),
                        ));
                    }
                }
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
                Err(e) => return Err(EngineError::api(format!("failed to read {path} from a container"), e)),
            }
        }
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let entries =
            archive.entries().map_err(|e| EngineError::other(format!("failed to read {path}"), e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| EngineError::other(format!("failed to read {path}"), e.to_string()))?;
            if entry.header().entry_type().is_file() {
                let mut data = Vec::new();
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| EngineError::other(format!("failed to read {path}"), e.to_string()))?;
                return Ok(Some(data));
            }
        }
        Ok(None)
    }

    /// Commits a stopped container to `tag`, with the run's labels plus `labels`.
    pub async fn commit(
        &self,
        id: &str,
        tag: &str,
        kind: &str,
        labels: HashMap<String, String>,
    ) -> Result<String, EngineError> {
        let (repo, t) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
        let opts = CommitContainerOptions {
            container: Some(id.to_string()),
            repo: Some(repo.to_string()),
            tag: Some(t.to_string()),
            pause: false,
            ..Default::default()
        };
        let mut all = self.labels(kind);
        all.extend(labels);
        let config = bollard::models::ContainerConfig { labels: Some(all), ..Default::default() };
        let r = self
            .docker
            .commit_container(opts, config)
            .await
            .map_err(|e| EngineError::api(format!("failed to commit {tag}"), e))?;
        Ok(r.id)
    }
}
