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

    /// Whether the engine sees this machine's files (a unix socket).
    pub(crate) fn is_local(&self) -> bool {
        matches!(self.address, Address::Unix(_))
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
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const PEM_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n";
    const PEM_KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n";

    #[derive(Default)]
    struct Fake(BTreeMap<PathBuf, Vec<u8>>);

    impl Fake {
        fn with(mut self, path: &str, data: &[u8]) -> Fake {
            self.0.insert(PathBuf::from(path), data.to_vec());
            self
        }
        fn with_context(self, dir: &str, name: &str, meta: serde_json::Value) -> Fake {
            self.with(&format!("{dir}/contexts/meta/{}/meta.json", context_id(name)), meta.to_string().as_bytes())
        }
        fn with_context_tls(self, dir: &str, name: &str) -> Fake {
            let d = format!("{dir}/contexts/tls/{}/docker", context_id(name));
            self.with(&format!("{d}/ca.pem"), PEM_CERT)
                .with(&format!("{d}/cert.pem"), PEM_CERT)
                .with(&format!("{d}/key.pem"), PEM_KEY)
        }
    }

    impl Files for Fake {
        fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
            self.0.get(path).cloned().ok_or_else(|| std::io::ErrorKind::NotFound.into())
        }
        fn exists(&self, path: &Path) -> bool {
            self.0.keys().any(|k| k.starts_with(path))
        }
        fn entries(&self, dir: &Path) -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = self
                .0
                .keys()
                .filter_map(|k| k.strip_prefix(dir).ok().and_then(|r| r.components().next()).map(|c| dir.join(c)))
                .collect();
            v.dedup();
            v
        }
    }

    fn env() -> Env {
        Env { home: Some("/home/u".into()), ..Env::default() }
    }

    fn meta(name: &str, host: &str) -> serde_json::Value {
        serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}})
    }

    fn tcp(host: &str, port: u16) -> Address {
        Address::Tcp { host: host.into(), port }
    }

    #[test]
    fn nothing_set_is_the_default_socket() {
        let e = resolve(&env(), &Fake::default()).unwrap();
        assert_eq!(e.address, Address::Unix(DEFAULT_SOCKET.into()));
        assert_eq!(e.chosen, Choice::DefaultSocket);
        assert_eq!(e.url(), "unix:///var/run/docker.sock");
        assert!(e.is_local());
    }

    #[test]
    fn an_empty_docker_host_is_unset() {
        let e = resolve(&Env { docker_host: Some(String::new()), ..env() }, &Fake::default()).unwrap();
        assert_eq!(e.chosen, Choice::DefaultSocket);
    }

    #[test]
    fn docker_host_unix_and_tcp_with_default_ports() {
        let f = Fake::default();
        let at = |h: &str| resolve(&Env { docker_host: Some(h.into()), ..env() }, &f).unwrap();
        assert_eq!(at("unix:///run/x.sock").address, Address::Unix("/run/x.sock".into()));
        assert_eq!(at("unix://").address, Address::Unix(DEFAULT_SOCKET.into()));
        assert_eq!(at("tcp://10.0.0.1").address, tcp("10.0.0.1", 2375));
        assert_eq!(at("tcp://10.0.0.1:1234").address, tcp("10.0.0.1", 1234));
        assert_eq!(at("tcp://10.0.0.1:2376/").address, tcp("10.0.0.1", 2376));
        assert_eq!(at("tcp://:2375").address, tcp("localhost", 2375));
        assert_eq!(at("tcp://[::1]").address, tcp("::1", 2375));
        assert_eq!(at("tcp://[::1]").url(), "tcp://[::1]:2375");
        assert_eq!(at("example.org:2375").address, tcp("example.org", 2375));
        let e = at("tcp://10.0.0.1");
        assert_eq!(e.chosen.to_string(), "DOCKER_HOST=tcp://10.0.0.1");
        assert!(!e.is_local());
        assert_eq!(e.tls, None);
    }

    #[test]
    fn bad_hosts_are_refused_with_a_fix() {
        let f = Fake::default();
        let at = |h: &str| resolve(&Env { docker_host: Some(h.into()), ..env() }, &f).unwrap_err();
        assert!(at("tcp://h:99999").reason.contains("port"));
        assert!(at("tcp://h:2375/prefix").reason.contains("path"));
        let e = at("npipe:////./pipe/docker_engine");
        assert!(e.reason.contains("npipe://"), "{e:?}");
        assert_eq!(e.tried, "DOCKER_HOST=npipe:////./pipe/docker_engine");
    }

    #[test]
    fn ssh_follows_what_the_build_supports() {
        let r = resolve(&Env { docker_host: Some("ssh://me@build-host".into()), ..env() }, &Fake::default());
        if SSH_SUPPORTED {
            let e = r.unwrap();
            assert_eq!(e.address, Address::Ssh("ssh://me@build-host".into()));
            assert!(!e.is_local());
            let r = resolve(&Env { docker_host: Some("ssh://me@build-host:2222".into()), ..env() }, &Fake::default());
            assert!(r.unwrap_err().fix.contains("~/.ssh/config"));
        } else {
            let e = r.unwrap_err();
            assert!(e.reason.contains("ssh://") && e.fix.contains("tcp://") && e.fix.contains("ssh -NL"), "{e:?}");
        }
    }

    #[test]
    fn tls_verify_takes_certificates_from_the_cert_path_and_defaults_to_port_2376() {
        let f = Fake::default()
            .with("/certs/ca.pem", PEM_CERT)
            .with("/certs/cert.pem", PEM_CERT)
            .with("/certs/key.pem", PEM_KEY);
        let e = resolve(
            &Env {
                docker_host: Some("tcp://engine".into()),
                docker_tls_verify: Some("1".into()),
                docker_cert_path: Some("/certs".into()),
                ..env()
            },
            &f,
        )
        .unwrap();
        assert_eq!(e.address, tcp("engine", 2376));
        assert_eq!(
            e.tls,
            Some(Tls { ca: "/certs/ca.pem".into(), client: Some(("/certs/cert.pem".into(), "/certs/key.pem".into())) })
        );
        assert!(e.tls_summary().contains("client certificate /certs/cert.pem"));
        assert_eq!(e.tried(), "DOCKER_HOST=tcp://engine with TLS and a client certificate");
    }

    #[test]
    fn tls_cert_path_defaults_to_the_config_dir() {
        let f = Fake::default().with("/home/u/.docker/ca.pem", PEM_CERT);
        let e =
            resolve(&Env { docker_host: Some("tcp://e:1".into()), docker_tls_verify: Some("0".into()), ..env() }, &f)
                .unwrap();
        // Any non-empty DOCKER_TLS_VERIFY turns TLS on, as in the CLI; no client files, no client cert.
        assert_eq!(e.tls, Some(Tls { ca: "/home/u/.docker/ca.pem".into(), client: None }));
        let f = Fake::default().with("/cfg/ca.pem", PEM_CERT);
        let e = resolve(
            &Env {
                docker_host: Some("tcp://e:1".into()),
                docker_tls_verify: Some("1".into()),
                docker_config: Some("/cfg".into()),
                ..env()
            },
            &f,
        )
        .unwrap();
        assert_eq!(e.tls.unwrap().ca, PathBuf::from("/cfg/ca.pem"));
    }

    #[test]
    fn missing_or_broken_cert_files_are_named() {
        let tls_env = Env {
            docker_host: Some("tcp://e".into()),
            docker_tls_verify: Some("1".into()),
            docker_cert_path: Some("/certs".into()),
            ..env()
        };
        let e = resolve(&tls_env, &Fake::default()).unwrap_err();
        assert!(e.reason.contains("/certs/ca.pem") && e.fix.contains("DOCKER_CERT_PATH"), "{e:?}");
        let f = Fake::default().with("/certs/ca.pem", PEM_CERT).with("/certs/cert.pem", PEM_CERT);
        let e = resolve(&tls_env, &f).unwrap_err();
        assert!(e.reason.contains("/certs/key.pem"), "{e:?}");
        let f = Fake::default().with("/certs/ca.pem", b"not a pem").with("/certs/cert.pem", PEM_CERT);
        let e = resolve(&tls_env, &f).unwrap_err();
        assert!(e.reason.contains("/certs/ca.pem has no PEM block"), "{e:?}");
    }

    #[test]
    fn tls_settings_are_ignored_for_a_socket_and_docker_tls_alone_is_refused() {
        let e = resolve(
            &Env {
                docker_host: Some("unix:///s".into()),
                docker_tls_verify: Some("1".into()),
                docker_cert_path: Some("/c".into()),
                ..env()
            },
            &Fake::default().with("/c/ca.pem", PEM_CERT),
        )
        .unwrap();
        assert_eq!(e.tls, None);
        let e = resolve(
            &Env { docker_host: Some("tcp://e".into()), docker_tls: Some("1".into()), ..env() },
            &Fake::default(),
        )
        .unwrap_err();
        assert!(e.fix.contains("DOCKER_TLS_VERIFY=1"), "{e:?}");
    }

    #[test]
    fn docker_context_is_read_from_the_store() {
        let f = Fake::default().with_context("/home/u/.docker", "ci", meta("ci", "tcp://10.1.1.1:2375"));
        let e = resolve(&Env { docker_context: Some("ci".into()), ..env() }, &f).unwrap();
        assert_eq!(e.address, tcp("10.1.1.1", 2375));
        assert_eq!(e.tls, None);
        assert_eq!(e.chosen.to_string(), "context ci (from DOCKER_CONTEXT)");
        assert_eq!(e.tried(), "context ci (from DOCKER_CONTEXT): tcp://10.1.1.1:2375");
    }

    #[test]
    fn a_context_with_tls_material_uses_it_and_port_2376() {
        let f =
            Fake::default().with_context("/cfg", "prod", meta("prod", "tcp://prod")).with_context_tls("/cfg", "prod");
        let e = resolve(&Env { docker_context: Some("prod".into()), docker_config: Some("/cfg".into()), ..env() }, &f)
            .unwrap();
        let id = context_id("prod");
        assert_eq!(e.address, tcp("prod", 2376));
        assert_eq!(
            e.tls,
            Some(Tls {
                ca: format!("/cfg/contexts/tls/{id}/docker/ca.pem").into(),
                client: Some((
                    format!("/cfg/contexts/tls/{id}/docker/cert.pem").into(),
                    format!("/cfg/contexts/tls/{id}/docker/key.pem").into()
                )),
            })
        );
    }

    #[test]
    fn the_context_store_is_keyed_by_the_sha256_of_the_name() {
        // The CLI's own directory name for the context "default" would be this digest.
        assert_eq!(context_id("default"), "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f");
    }

    #[test]
    fn current_context_comes_from_config_json() {
        let f = Fake::default()
            .with("/home/u/.docker/config.json", br#"{"auths": {}, "currentContext": "ci"}"#)
            .with_context("/home/u/.docker", "ci", meta("ci", "unix:///run/ci.sock"));
        let e = resolve(&env(), &f).unwrap();
        assert_eq!(e.address, Address::Unix("/run/ci.sock".into()));
        assert_eq!(e.chosen.to_string(), "context ci (from currentContext in /home/u/.docker/config.json)");
    }

    #[test]
    fn precedence_is_docker_host_then_docker_context_then_config() {
        let f = Fake::default()
            .with("/home/u/.docker/config.json", br#"{"currentContext": "a"}"#)
            .with_context("/home/u/.docker", "a", meta("a", "tcp://a:1"))
            .with_context("/home/u/.docker", "b", meta("b", "tcp://b:1"));
        assert_eq!(resolve(&env(), &f).unwrap().address, tcp("a", 1));
        let with_ctx = Env { docker_context: Some("b".into()), ..env() };
        assert_eq!(resolve(&with_ctx, &f).unwrap().address, tcp("b", 1));
        let with_host = Env { docker_host: Some("tcp://h:1".into()), ..with_ctx.clone() };
        assert_eq!(resolve(&with_host, &f).unwrap().address, tcp("h", 1));
        // An empty DOCKER_CONTEXT is unset: the config's context applies.
        assert_eq!(resolve(&Env { docker_context: Some(String::new()), ..env() }, &f).unwrap().address, tcp("a", 1));
    }

    #[test]
    fn the_context_named_default_is_the_default_socket() {
        let f = Fake::default().with("/home/u/.docker/config.json", br#"{"currentContext": "default"}"#);
        let e = resolve(&env(), &f).unwrap();
        assert_eq!(e.address, Address::Unix(DEFAULT_SOCKET.into()));
        assert_eq!(
            e.tried(),
            "context default (from currentContext in /home/u/.docker/config.json): unix:///var/run/docker.sock"
        );
    }

    #[test]
    fn a_missing_context_is_named_with_the_ones_that_exist() {
        let f = Fake::default().with_context("/home/u/.docker", "ci", meta("ci", "tcp://a:1")).with_context(
            "/home/u/.docker",
            "alpha",
            meta("alpha", "tcp://b:1"),
        );
        let e = resolve(&Env { docker_context: Some("nope".into()), ..env() }, &f).unwrap_err();
        assert_eq!(e.tried, "context nope (from DOCKER_CONTEXT)");
        assert!(e.reason.contains("no context named nope") && e.reason.contains("default, alpha, ci"), "{e:?}");
    }

    #[test]
    fn skip_tls_verify_and_broken_files_are_refused() {
        let f = Fake::default().with_context(
            "/home/u/.docker",
            "lax",
            serde_json::json!({"Name": "lax", "Endpoints": {"docker": {"Host": "tcp://x:2376", "SkipTLSVerify": true}}}),
        );
        let e = resolve(&Env { docker_context: Some("lax".into()), ..env() }, &f).unwrap_err();
        assert!(e.reason.contains("SkipTLSVerify"), "{e:?}");
        let f = Fake::default().with("/home/u/.docker/config.json", b"{not json");
        let e = resolve(&env(), &f).unwrap_err();
        assert!(e.reason.contains("not valid JSON") && e.fix.contains("config.json"), "{e:?}");
        let f =
            Fake::default().with_context("/home/u/.docker", "k8s", serde_json::json!({"Name": "k8s", "Endpoints": {}}));
        let e = resolve(&Env { docker_context: Some("k8s".into()), ..env() }, &f).unwrap_err();
        assert!(e.reason.contains("no docker endpoint"), "{e:?}");
    }
}
