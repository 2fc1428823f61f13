//! Which Docker engine to talk to, decided as the docker CLI decides it.
//!
//! `DOCKER_HOST` wins; else the current context (`DOCKER_CONTEXT`, else `currentContext` in
//! `$DOCKER_CONFIG/config.json`) read from the CLI's context store; else the default socket.
//! TLS comes from `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` for `DOCKER_HOST`, and from the
//! context's own TLS material for a context. An empty variable counts as unset, as in the CLI.
//!
//! [`resolve`] is a pure function of the environment ([`Env`]) and of the files it reads through
//! [`Files`], so every rule is unit-tested without this machine's Docker configuration. It only
//! decides; connecting (and explaining a failed connection) is `Engine::connect`'s job.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The socket the CLI uses when nothing names another engine.
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The engine's conventional ports, which the CLI fills in when `tcp://` names none.
const PLAIN_PORT: u16 = 2375;
const TLS_PORT: u16 = 2376;

/// Whether `ssh://` endpoints can be used: bollard's `ssh` feature is enabled in Cargo.toml
/// (it runs the system's `ssh` client and `docker system dial-stdio` on the remote host).
pub(crate) const SSH_SUPPORTED: bool = true;

/// The environment variables the decision reads (as set; empty values are treated as unset by
/// [`resolve`], not here, so tests can say `Some("")`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_tls_verify: Option<String>,
    pub docker_tls: Option<String>,
    pub docker_cert_path: Option<String>,
    pub docker_config: Option<String>,
    pub home: Option<String>,
}

impl Env {
    pub(crate) fn from_process() -> Env {
        let v = |k: &str| std::env::var(k).ok();
        Env {
            docker_host: v("DOCKER_HOST"),
            docker_context: v("DOCKER_CONTEXT"),
            docker_tls_verify: v("DOCKER_TLS_VERIFY"),
            docker_tls: v("DOCKER_TLS"),
            docker_cert_path: v("DOCKER_CERT_PATH"),
            docker_config: v("DOCKER_CONFIG"),
            home: v("HOME"),
        }
    }
}

/// The files the decision reads: the CLI's config directory and certificate files.
pub(crate) trait Files {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    fn exists(&self, path: &Path) -> bool;
    /// The entries of a directory (none when it does not exist).
    fn entries(&self, dir: &Path) -> Vec<PathBuf>;
}

/// This machine's files.
pub(crate) struct HostFiles;

impl Files for HostFiles {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn entries(&self, dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    }
}

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
    },
    /// The whole `ssh://[user@]host[:port]` URL.
    Ssh(String),
}

/// TLS towards a TCP endpoint: the engine's certificate is always checked against `ca`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    pub ca: PathBuf,
    /// `(cert.pem, key.pem)`, when there is a client certificate to present.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// How the endpoint was chosen, in the words the error messages and `doctor` use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    DockerHost(String),
    Context { name: String, from: ContextFrom },
    DefaultSocket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContextFrom {
    DockerContext,
    Config(PathBuf),
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::DockerHost(h) => write!(f, "DOCKER_HOST={h}"),
            Choice::Context { name, from: ContextFrom::DockerContext } => {
                write!(f, "context {name} (from DOCKER_CONTEXT)")
            }
            Choice::Context { name, from: ContextFrom::Config(p) } => {
                write!(f, "context {name} (from currentContext in {})", p.display())
            }
            Choice::DefaultSocket => write!(f, "the default socket (no DOCKER_HOST, no current context)"),
        }
    }
}

/// The decided endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub address: Address,
    pub tls: Option<Tls>,
    pub chosen: Choice,
}

impl Endpoint {
    /// The endpoint as a URL (`unix:///…`, `tcp://host:port`, `ssh://…`).
    pub(crate) fn url(&self) -> String {
        match &self.address {
            Address::Unix(p) => format!("unix://{}", p.display()),
            Address::Tcp { host, port } if host.contains(':') => format!("tcp://[{host}]:{port}"),
            Address::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Address::Ssh(u) => u.clone(),
        }
    }

    /// One phrase for the TLS state, for `doctor`.
    pub(crate) fn tls_summary(&self) -> String {
        match &self.tls {
            None if matches!(self.address, Address::Tcp { .. }) => "off (plain HTTP)".into(),
            None => "not used (a local socket or ssh)".into(),
            Some(Tls { ca, client: Some((cert, _)) }) => format!(
                "on, with the client certificate {}; the engine's certificate is checked against {}",
                cert.display(),
                ca.display()
            ),
            Some(Tls { ca, client: None }) => format!(
                "on, without a client certificate; the engine's certificate is checked against {}",
                ca.display()
            ),
        }
    }

    /// How it was chosen and what it is, for "tried:" lines.
    pub(crate) fn tried(&self) -> String {
        let tls = match &self.tls {
            Some(Tls { client: Some(_), .. }) => " with TLS and a client certificate",
            Some(Tls { client: None, .. }) => " with TLS",
            None => "",
        };
        match &self.chosen {
            Choice::DockerHost(_) => format!("{}{tls}", self.chosen),
            _ => format!("{}: {}{tls}", self.chosen, self.url()),
        }
    }
}

/// Why no endpoint could be decided: what was being tried, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointError {
    pub tried: String,
    pub reason: String,
    pub fix: String,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Decides the endpoint from the environment and the CLI's files.
pub(crate) fn resolve(env: &Env, files: &dyn Files) -> Result<Endpoint, EndpointError> {
    // The CLI's config directory; without HOME and DOCKER_CONFIG there is none to read.
    let config_dir =
        set(&env.docker_config).map(PathBuf::from).or_else(|| set(&env.home).map(|h| Path::new(h).join(".docker")));

    if let Some(host) = set(&env.docker_host) {
        let chosen = Choice::DockerHost(host.to_string());
        let err = |reason: String, fix: String| EndpointError { tried: chosen.to_string(), reason, fix };
        let tls = env_tls(env, config_dir.as_deref(), files).map_err(|(r, f)| err(r, f))?;
        let address = parse_host(host, tls.is_some()).map_err(|(r, f)| err(r, f))?;
        // As in the CLI, TLS settings mean nothing to a socket.
        let tls = if matches!(address, Address::Tcp { .. }) { tls } else { None };
        return Ok(Endpoint { address, tls, chosen });
    }

    let named = match set(&env.docker_context) {
        Some(c) => Some((c.to_string(), ContextFrom::DockerContext)),
        None => match &config_dir {
            Some(dir) => current_context(&dir.join("config.json"), files)?
                .map(|c| (c, ContextFrom::Config(dir.join("config.json")))),
            None => None,
        },
    };
    let default = Endpoint { address: Address::Unix(DEFAULT_SOCKET.into()), tls: None, chosen: Choice::DefaultSocket };
    match named {
        None => Ok(default),
        // "default" is the CLI's name for "no context": the environment's endpoint, which here
        // (no DOCKER_HOST) is the default socket.
        Some((name, from)) if name == "default" => Ok(Endpoint { chosen: Choice::Context { name, from }, ..default }),
        Some((name, from)) => {
            let chosen = Choice::Context { name: name.clone(), from };
            match config_dir {
                Some(dir) => context(&dir, &name, chosen, files),
                None => Err(EndpointError {
                    tried: chosen.to_string(),
                    reason: "neither DOCKER_CONFIG nor HOME is set, so there is no context store to read".into(),
                    fix: "set DOCKER_CONFIG to the docker CLI's config directory, or set DOCKER_HOST".into(),
                }),
            }
        }
    }
}

/// `currentContext` of the CLI's config file, if the file exists and names one.
fn current_context(path: &Path, files: &dyn Files) -> Result<Option<String>, EndpointError> {
    if !files.exists(path) {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let bad = |reason: String| EndpointError {
        tried: format!("the docker CLI's config file {}", path.display()),
        reason,
        fix: format!("fix or remove {}, or set DOCKER_HOST or DOCKER_CONTEXT", path.display()),
    };
    let bytes = files.read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let c: Config = serde_json::from_slice(&bytes).map_err(|e| bad(format!("it is not valid JSON: {e}")))?;
    Ok(c.current_context.filter(|c| !c.is_empty()))
}

/// The context store's directory name for a context: the hex SHA-256 of its name.
pub(crate) fn context_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))
}

#[derive(serde::Deserialize)]
struct Meta {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Endpoints", default)]
    endpoints: std::collections::BTreeMap<String, MetaEndpoint>,
}

#[derive(serde::Deserialize)]
struct MetaEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

fn context(dir: &Path, name: &str, chosen: Choice, files: &dyn Files) -> Result<Endpoint, EndpointError> {
    let err = |reason: String, fix: String| EndpointError { tried: chosen.to_string(), reason, fix };
    let id = context_id(name);
    let meta_path = dir.join("contexts/meta").join(&id).join("meta.json");
    if !files.exists(&meta_path) {
        let mut names = vec!["default".to_string()];
        names.extend(context_names(dir, files));
        return Err(err(
            format!("there is no context named {name} in {} (contexts there: {})", dir.join("contexts").display(), names.join(", ")),
            format!(
                "choose one of those (DOCKER_CONTEXT, or `docker context use NAME`), create it with `docker context create {name} --docker host=…`, or set DOCKER_HOST"
            ),
        ));
    }
    let bytes = files
        .read(&meta_path)
        .map_err(|e| err(format!("cannot read {}: {e}", meta_path.display()), "check the file's permissions".into()))?;
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| {
        err(
            format!("{} is not a context's metadata: {e}", meta_path.display()),
            format!("recreate the context (`docker context rm {name}`, then `docker context create {name} --docker host=…`)"),
        )
    })?;
    let Some((host, skip)) = meta.endpoints.get("docker").and_then(|e| Some((e.host.clone()?, e.skip_tls_verify)))
    else {
        return Err(err(
            format!("the context has no docker endpoint host in {}", meta_path.display()),
            format!("give it one: `docker context update {name} --docker host=tcp://HOST:2376`"),
        ));
    };
    let tls_dir = dir.join("contexts/tls").join(&id).join("docker");
    let [ca, cert, key] = ["ca.pem", "cert.pem", "key.pem"].map(|f| tls_dir.join(f));
    let has_tls = [&ca, &cert, &key].iter().any(|p| files.exists(p));
    if skip {
        // bollard's TLS always checks the engine's certificate, and quietly not checking it
        // would hand the engine (root on its host) to whoever sits on the path.
        return Err(err(
            "the context sets SkipTLSVerify, and muslcheck always checks the engine's certificate".into(),
            format!("give the context the engine's CA: `docker context update {name} --docker host={host},ca=CA.pem,cert=cert.pem,key=key.pem,skip-tls-verify=false`"),
        ));
    }
    let tls = if has_tls { Some(tls_files(&ca, &cert, &key, files).map_err(|(r, f)| err(r, f))?) } else { None };
    let address =
        parse_host(&host, tls.is_some()).map_err(|(r, f)| err(format!("the context's host {host}: {r}"), f))?;
    let tls = if matches!(address, Address::Tcp { .. }) { tls } else { None };
    Ok(Endpoint { address, tls, chosen })
}

/// The names of the contexts in the store, sorted.
fn context_names(dir: &Path, files: &dyn Files) -> Vec<String> {
    let mut names: Vec<String> = files
        .entries(&dir.join("contexts/meta"))
        .iter()
        .filter_map(|d| files.read(&d.join("meta.json")).ok())
        .filter_map(|b| serde_json::from_slice::<Meta>(&b).ok())
        .map(|m| m.name)
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names
}

/// TLS asked for by the environment: `DOCKER_TLS_VERIFY` (any non-empty value, as in the CLI,
/// even "0") with the files in `DOCKER_CERT_PATH`, else the CLI's config directory.
fn env_tls(env: &Env, config_dir: Option<&Path>, files: &dyn Files) -> Result<Option<Tls>, (String, String)> {
    if set(&env.docker_tls_verify).is_none() {
        if set(&env.docker_tls).is_some() {
            return Err((
                "DOCKER_TLS asks for TLS without checking the engine's certificate, and muslcheck always checks it"
                    .into(),
                "set DOCKER_TLS_VERIFY=1 instead, with the engine's CA as ca.pem in DOCKER_CERT_PATH".into(),
            ));
        }
        return Ok(None);
    }
    let dir = match set(&env.docker_cert_path) {
        Some(d) => PathBuf::from(d),
        None => config_dir.map(Path::to_path_buf).ok_or_else(|| {
            (
                "DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME names a certificate directory".into(),
                "set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem".into(),
            )
        })?,
    };
    let [ca, cert, key] = ["ca.pem", "cert.pem", "key.pem"].map(|f| dir.join(f));
    tls_files(&ca, &cert, &key, files).map(Some)
}

/// Checks the TLS files: a CA is required; a client certificate needs both halves. The CLI
/// drops a client certificate whose files are both missing, and so does this.
fn tls_files(ca: &Path, cert: &Path, key: &Path, files: &dyn Files) -> Result<Tls, (String, String)> {
    let dir = ca.parent().unwrap_or(Path::new(".")).display().to_string();
    let missing = |what: &str, p: &Path| {
        (
            format!("TLS is on but {what} {} does not exist", p.display()),
            format!("put the engine's CA as ca.pem, and your client certificate and key as cert.pem and key.pem, in {dir} (or point DOCKER_CERT_PATH at the directory that has them)"),
        )
    };
    let pem = |what: &str, p: &Path, marker: &str| -> Result<(), (String, String)> {
        let text = files
            .read(p)
            .map_err(|e| (format!("cannot read {what} {}: {e}", p.display()), "check the file's permissions".into()))?;
        // bollard drops a client certificate it cannot parse without a word, and the engine
        // then says only "bad certificate": look at the files first.
        if String::from_utf8_lossy(&text).contains(marker) {
            Ok(())
        } else {
            Err((
                format!("{what} {} has no PEM block with {marker}", p.display()),
                format!("replace {} with a PEM file", p.display()),
            ))
        }
    };
    if !files.exists(ca) {
        return Err(missing("the CA certificate", ca));
    }
    pem("the CA certificate", ca, "CERTIFICATE")?;
    let client = match (files.exists(cert), files.exists(key)) {
        (false, false) => None,
        (true, false) => return Err(missing("the client key", key)),
        (false, true) => return Err(missing("the client certificate", cert)),
        (true, true) => {
            pem("the client certificate", cert, "CERTIFICATE")?;
            pem("the client key", key, "PRIVATE KEY")?;
            Some((cert.to_path_buf(), key.to_path_buf()))
        }
    };
    Ok(Tls { ca: ca.to_path_buf(), client })
}

/// Parses a host as the CLI does: `unix://[path]`, `tcp://[host][:port]` (a bare `host:port` is
/// TCP), `ssh://…`; the default port is 2375, or 2376 with TLS.
fn parse_host(host: &str, tls: bool) -> Result<Address, (String, String)> {
    let (scheme, rest) = host.split_once("://").unwrap_or(("tcp", host));
    match scheme {
        "unix" => Ok(Address::Unix(PathBuf::from(if rest.is_empty() { DEFAULT_SOCKET } else { rest }))),
        "tcp" => parse_tcp(rest, tls),
        // bollard hands `user@host:port` to ssh as one host name, so a port cannot work there.
        "ssh" if SSH_SUPPORTED && rest.rsplit_once('@').map_or(rest, |(_, h)| h).contains(':') => Err((
            "a port in an ssh:// endpoint is not supported".into(),
            "put the port in ~/.ssh/config (`Host NAME`, `Port N`) and use ssh://USER@NAME".into(),
        )),
        "ssh" if SSH_SUPPORTED => Ok(Address::Ssh(host.to_string())),
        "ssh" => Err((
            "ssh:// endpoints are not supported by this build".into(),
            "use a tcp:// endpoint with TLS (DOCKER_TLS_VERIFY=1), or forward the remote socket: `ssh -NL /tmp/docker.sock:/var/run/docker.sock HOST` and DOCKER_HOST=unix:///tmp/docker.sock".into(),
        )),
        other => Err((
            format!("the scheme {other}:// is not one muslcheck can use"),
            "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST".into(),
        )),
    }
}

fn parse_tcp(rest: &str, tls: bool) -> Result<Address, (String, String)> {
    let bad = |why: &str| {
        (format!("{why} in tcp://{rest}"), "write it as tcp://HOST:PORT (for example tcp://127.0.0.1:2376)".into())
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    // A path would be a URL prefix for every API call; the CLI allows one, bollard cannot use it.
    if !path.is_empty() {
        return Err(bad("a path after the address is not supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed [ IPv6 address"))?;
        (h, after.strip_prefix(':').unwrap_or(after))
    } else {
        authority.rsplit_once(':').unwrap_or((authority, ""))
    };
    let port = match port {
        "" if tls => TLS_PORT,
        "" => PLAIN_PORT,
        p => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("a port that is not a number from 1 to 65535"))?,
    };
    // The CLI's default host for `tcp://:PORT`.
    let host = if host.is_empty() { "localhost" } else { host };
    Ok(Address::Tcp { host: host.to_string(), port })
}

#[cfg(test)]
mod tests;
