//! Everything that talks to the Docker engine lives here, and nowhere else uses bollard.
//!
//! The rest of the harness sees plain values: [`EngineInfo`], [`ImageInfo`], [`RunSpec`] and
//! [`RunOutput`]. Container outcomes (non-zero exit, OOM kill, time-out, oversized output) are
//! values in [`RunOutput`]; only the engine's own failures are [`EngineError`]s.

mod cleanup;
mod connect;
mod containers;
pub(crate) mod endpoint;
mod images;

pub(crate) use containers::{Mount, RunOutput, RunSpec, Sandbox};
pub(crate) use images::{repository_of, HoldScope, ImageInfo};

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;

/// Label carried by every object the harness creates.
pub const LABEL: &str = "io.muslcheck";
/// Label naming the run that created an object.
pub const RUN_LABEL: &str = "io.muslcheck.run";
/// Label telling what an object is for (job, prep, probe, build).
pub const KIND_LABEL: &str = "io.muslcheck.kind";

/// How long connecting and the first answer may take before the engine counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The engine's own failures: unreachable, an API error, an I/O problem. Never a probe outcome.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `host` is empty when no endpoint could be decided (a missing context, missing
    /// certificates); `fix` depends on what went wrong, see `connect::diagnose`.
    #[error("cannot reach the Docker engine{}: {reason}\n  tried: {tried}\n  fix: {fix}", if .host.is_empty() { String::new() } else { format!(" at {}", .host) })]
    Unreachable { host: String, tried: String, reason: String, fix: String },
    #[error("{op}: {source}")]
    Api {
        op: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("{op}: {message}")]
    Other { op: String, message: String },
}

impl EngineError {
    pub(crate) fn api(op: impl Into<String>, source: bollard::errors::Error) -> Self {
        EngineError::Api { op: op.into(), source }
    }
    pub(crate) fn other(op: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::Other { op: op.into(), message: message.into() }
    }
    /// Whether the failure means the engine itself went away (connection refused, socket gone),
    /// as opposed to the engine refusing one request.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            EngineError::Unreachable { .. } => true,
            EngineError::Api { source, .. } => is_transport_error(source),
            EngineError::Other { .. } => false,
        }
    }
}

fn is_transport_error(e: &bollard::errors::Error) -> bool {
    use bollard::errors::Error as E;
    matches!(
        e,
        E::HyperResponseError { .. }
            | E::IOError { .. }
            | E::RequestTimeoutError
            | E::HyperLegacyError { .. }
            | E::SocketNotFoundError(_)
    )
}

/// What `doctor` shows about the engine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EngineInfo {
    pub host: String,
    pub version: String,
    pub api_version: String,
    pub storage_driver: String,
    pub operating_system: String,
    pub kernel: String,
    pub cpus: i64,
    pub memory_bytes: i64,
}

/// A connected engine. Cheap to clone; clones share the set of live containers so that an
/// interrupted run can remove what it still has running.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
    endpoint: endpoint::Endpoint,
    run_id: String,
    live: Arc<Mutex<HashSet<String>>>,
    /// Tags of this run's own on the images it uses (see [`Engine::hold`]).
    holds: Arc<Mutex<HashSet<String>>>,
    /// Held for as long as the engine (and so the run) lives: `clean` leaves the containers
    /// of a run with a held lease alone (see `lease`).
    _lease: Arc<Option<crate::lease::Lease>>,
}

impl Engine {
    /// Connects the way the docker CLI does (see [`endpoint`]): `DOCKER_HOST`, else the current
    /// context, else the default socket. Fails fast (about two seconds) with
    /// [`EngineError::Unreachable`], whose fix depends on what went wrong.
    pub async fn connect(run_id: &str) -> Result<Engine, EngineError> {
        let endpoint = endpoint::resolve(&endpoint::Env::from_process(), &endpoint::HostFiles).map_err(|e| {
            EngineError::Unreachable { host: String::new(), tried: e.tried, reason: e.reason, fix: e.fix }
        })?;
        let docker = connect::open(&endpoint, CONNECT_TIMEOUT).await?;
        let lease = match crate::lease::Lease::acquire(run_id) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(
                    "no lease for run {run_id} in {}: `muslcheck clean` cannot tell it is running: {e}",
                    crate::lease::dir().display()
                );
                None
            }
        };
        Ok(Engine {
            docker,
            host: endpoint.url(),
            endpoint,
            run_id: run_id.to_string(),
            live: Arc::default(),
            holds: Arc::default(),
            _lease: Arc::new(lease),
        })
    }

    /// The endpoint this engine was reached at and how it was chosen.
    pub(crate) fn endpoint(&self) -> &endpoint::Endpoint {
        &self.endpoint
    }

    /// The labels every object of this run carries, plus `kind`.
    pub(crate) fn labels(&self, kind: &str) -> std::collections::HashMap<String, String> {
        [
            (LABEL.to_string(), "1".to_string()),
            (RUN_LABEL.to_string(), self.run_id.clone()),
            (KIND_LABEL.to_string(), kind.to_string()),
        ]
        .into_iter()
        .collect()
    }

    /// The labels of a cache the harness keeps between runs: its own, no run's.
    pub(crate) fn cache_labels(&self, kind: &str) -> std::collections::HashMap<String, String> {
        [(LABEL.to_string(), "1".to_string()), (KIND_LABEL.to_string(), kind.to_string())].into_iter().collect()
    }

    pub async fn info(&self) -> Result<EngineInfo, EngineError> {
        let v = self.docker.version().await.map_err(|e| EngineError::api("failed to read the engine version", e))?;
        let i = self.docker.info().await.map_err(|e| EngineError::api("failed to read the engine info", e))?;
        Ok(EngineInfo {
            host: self.host.clone(),
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            storage_driver: i.driver.unwrap_or_default(),
            operating_system: i.operating_system.unwrap_or_default(),
            kernel: i.kernel_version.unwrap_or_default(),
            cpus: i.ncpu.unwrap_or_default(),
            memory_bytes: i.mem_total.unwrap_or_default(),
        })
    }

    /// Answers whether the engine still responds (used to tell an engine that went away from a
    /// job that failed on its own).
    pub async fn ping(&self) -> bool {
        matches!(tokio::time::timeout(CONNECT_TIMEOUT, self.docker.ping()).await, Ok(Ok(_)))
    }

    fn track(&self, id: &str) {
        self.live.lock().expect("live container set").insert(id.to_string());
    }
    fn untrack(&self, id: &str) {
        self.live.lock().expect("live container set").remove(id);
    }
}

/// A tar with fixed mtimes, owners and modes, so the same inputs give the same bytes.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("writing a tar to memory");
    }
    b.into_inner().expect("finishing a tar in memory")
}

#[cfg(test)]
mod tests;
