//! The engine reached as the docker CLI would reach it: over TCP, over TLS with client
//! certificates, through a Docker context, each through a `socat` proxy in front of the real
//! engine's socket, on 127.0.0.1 only. Certificates are made per test with the `openssl` CLI.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, require_engine, root};

const SOCKET: &str = "/var/run/docker.sock";

/// A socat proxy, killed (by its own pid) when dropped so no listener outlives the test.
pub(crate) struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `socat LISTEN UNIX-CONNECT:socket` and waits until the port accepts connections.
fn socat(listen: String, openssl_conf: Option<&Path>) -> (Socat, u16) {
    let port: u16 = listen.split(':').nth(1).and_then(|p| p.split(',').next()).unwrap().parse().unwrap();
    let mut cmd = Command::new("socat");
    if let Some(conf) = openssl_conf {
        cmd.env("OPENSSL_CONF", conf);
    }
    let child = cmd
        .arg(listen)
        .arg(format!("UNIX-CONNECT:{SOCKET}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (apt-get install socat; scripts/test.sh installs it)");
    let guard = Socat(child);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "socat did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (guard, port)
}

fn plain_proxy() -> (Socat, u16) {
    socat(format!("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", free_port()), None)
}

/// A TLS endpoint that checks client certificates, as dind's. bollard opens a connection per
/// request and rustls resumes the previous session; socat sets no session id context, so
/// OpenSSL refuses a resumption when it checks client certificates ("session id context
/// uninitialized"). Without stateless tickets each forked socat has no session to resume and
/// does a full handshake, as a real engine would accept.
pub(crate) fn tls_proxy(server: &Path) -> (Socat, u16) {
    let f = |n: &str| server.join(n).display().to_string();
    let conf = server.join("openssl.cnf");
    std::fs::write(
        &conf,
        "openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nOptions = -SessionTicket\n",
    )
    .unwrap();
    socat(
        format!(
            "OPENSSL-LISTEN:{},bind=127.0.0.1,reuseaddr,cert={},key={},cafile={},verify=1,fork",
            free_port(),
            f("server.pem"),
            f("server.key"),
            f("ca.pem")
        ),
        Some(&conf),
    )
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A CA in `dir` (ca.pem, ca.key) and, signed by it, `name`.pem/`name`.key for `usage`.
fn ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=muslcheck test CA",
        ],
    );
}

fn signed(dir: &Path, ca_dir: &Path, name: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    let ca_pem = ca_dir.join("ca.pem").display().to_string();
    let ca_key = ca_dir.join("ca.key").display().to_string();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// The engine's side (server.pem for 127.0.0.1, the CA it trusts) and a client directory as
/// DOCKER_CERT_PATH wants it (ca.pem, cert.pem, key.pem), signed by `client_ca` when given
/// (a CA the engine does not trust), else by the engine's CA.
pub(crate) struct Certs {
    _dir: tempfile::TempDir,
    pub server: std::path::PathBuf,
    pub client: std::path::PathBuf,
}

pub(crate) fn certs(foreign_client: bool) -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("server");
    let client = dir.path().join("client");
    let other = dir.path().join("other");
    for d in [&server, &client, &other] {
        std::fs::create_dir(d).unwrap();
    }
    ca(&server);
    signed(&server, &server, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    let client_ca = if foreign_client {
        ca(&other);
        &other
    } else {
        &server
    };
    signed(&client, client_ca, "client", "extendedKeyUsage=clientAuth\n");
    std::fs::copy(server.join("ca.pem"), client.join("ca.pem")).unwrap();
    std::fs::rename(client.join("client.pem"), client.join("cert.pem")).unwrap();
    std::fs::rename(client.join("client.key"), client.join("key.pem")).unwrap();
    Certs { _dir: dir, server, client }
}

/// `muslcheck doctor` with only the given Docker settings (and an empty CLI config directory
/// unless one is given), on one base without pulling: only the engine matters here.
fn doctor(env: &[(&str, &str)]) -> (i32, String, String) {
    let empty = tempfile::tempdir().unwrap();
    let mut c = bin();
    for k in ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"] {
        c.env_remove(k);
    }
    c.env("DOCKER_CONFIG", empty.path());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c
        .args(["doctor", "--matrix", "tests/fixtures/small.toml", "--base", "glibc", "--no-pull"])
        .current_dir(root())
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The engine answered: its line is printed, and any problem is about the base, not the engine.
fn assert_reached(out: &(i32, String, String)) {
    let (code, stdout, stderr) = out;
    assert!(stdout.contains("engine: Docker"), "the engine was not reached (exit {code}):\n{stdout}\n{stderr}");
    assert!(!stderr.contains("cannot reach"), "{stderr}");
    assert!(
        *code == 0 || stderr.lines().all(|l| !l.starts_with("problem:") || l.starts_with("problem: base")),
        "{stderr}"
    );
}

/// Unreachable: exit 3, and the message does not fall back to "start the engine".
fn assert_unreachable(out: &(i32, String, String)) -> String {
    let (code, stdout, stderr) = out;
    assert_eq!(*code, 3, "{stdout}\n{stderr}");
    assert!(stderr.contains("cannot reach the Docker engine"), "{stderr}");
    assert!(!stderr.trim_end().ends_with("start the Docker engine"), "{stderr}");
    assert!(!stderr.contains("dockerd &"), "the fix is not starting the engine here: {stderr}");
    stderr.clone()
}

#[test]
fn plain_tcp_through_docker_host() {
    require_engine();
    let (_proxy, port) = plain_proxy();
    let host = format!("tcp://127.0.0.1:{port}");
    let out = doctor(&[("DOCKER_HOST", &host)]);
    assert_reached(&out);
    assert!(out.1.contains(&format!("endpoint: {host}, chosen by DOCKER_HOST={host}")), "{}", out.1);
    assert!(out.1.contains("TLS: off"), "{}", out.1);
}

#[test]
fn tls_with_client_certificates() {
    require_engine();
    let c = certs(false);
    let (_proxy, port) = tls_proxy(&c.server);
    let host = format!("tcp://127.0.0.1:{port}");
    let out =
        doctor(&[("DOCKER_HOST", &host), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", c.client.to_str().unwrap())]);
    assert_reached(&out);
    assert!(out.1.contains("TLS: on, with the client certificate"), "{}", out.1);
    assert!(out.1.contains(&c.client.join("cert.pem").display().to_string()), "{}", out.1);
}

#[test]
fn tls_client_certificate_from_another_ca_is_named() {
    require_engine();
    let c = certs(true);
    let (_proxy, port) = tls_proxy(&c.server);
    let host = format!("tcp://127.0.0.1:{port}");
    let out =
        doctor(&[("DOCKER_HOST", &host), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", c.client.to_str().unwrap())]);
    let err = assert_unreachable(&out);
    assert!(err.contains("rejected") && err.contains("client certificate"), "{err}");
    assert!(err.contains(&format!("DOCKER_HOST={host} with TLS")), "{err}");
}

#[test]
fn plain_http_to_a_tls_port_says_tls_is_expected() {
    require_engine();
    let c = certs(false);
    let (_proxy, port) = tls_proxy(&c.server);
    let out = doctor(&[("DOCKER_HOST", &format!("tcp://127.0.0.1:{port}"))]);
    let err = assert_unreachable(&out);
    assert!(err.contains("expects TLS") && err.contains("DOCKER_TLS_VERIFY=1"), "{err}");
}

#[test]
fn tls_to_a_plain_port_says_it_is_plain() {
    require_engine();
    let c = certs(false);
    let (_proxy, port) = plain_proxy();
    let out = doctor(&[
        ("DOCKER_HOST", &format!("tcp://127.0.0.1:{port}")),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", c.client.to_str().unwrap()),
    ]);
    let err = assert_unreachable(&out);
    assert!(err.contains("plain HTTP"), "{err}");
}

#[test]
fn missing_cert_files_and_refused_connections_are_named() {
    let empty = tempfile::tempdir().unwrap();
    let out = doctor(&[
        ("DOCKER_HOST", "tcp://127.0.0.1:9"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", empty.path().to_str().unwrap()),
    ]);
    let err = assert_unreachable(&out);
    assert!(
        err.contains(&empty.path().join("ca.pem").display().to_string()) && err.contains("does not exist"),
        "{err}"
    );
    let port = free_port();
    let out = doctor(&[("DOCKER_HOST", &format!("tcp://127.0.0.1:{port}"))]);
    let err = assert_unreachable(&out);
    assert!(err.contains("connection refused") && err.contains("DOCKER_HOST"), "{err}");
}

/// A context as `docker context create NAME --docker host=HOST` stores it.
fn context_store(name: &str, host: &str) -> tempfile::TempDir {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("contexts/meta").join(hex::encode(Sha256::digest(name.as_bytes())));
    std::fs::create_dir_all(&meta).unwrap();
    let m = serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
    std::fs::write(meta.join("meta.json"), m.to_string()).unwrap();
    dir
}

#[test]
fn a_context_selected_by_docker_context() {
    require_engine();
    let (_proxy, port) = plain_proxy();
    let host = format!("tcp://127.0.0.1:{port}");
    let store = context_store("ci", &host);
    let out = doctor(&[("DOCKER_CONFIG", store.path().to_str().unwrap()), ("DOCKER_CONTEXT", "ci")]);
    assert_reached(&out);
    assert!(out.1.contains(&format!("endpoint: {host}, chosen by context ci (from DOCKER_CONTEXT)")), "{}", out.1);
}

#[test]
fn a_context_selected_by_config_json() {
    require_engine();
    let (_proxy, port) = plain_proxy();
    let host = format!("tcp://127.0.0.1:{port}");
    let store = context_store("ci", &host);
    std::fs::write(store.path().join("config.json"), r#"{"auths": {}, "currentContext": "ci"}"#).unwrap();
    let out = doctor(&[("DOCKER_CONFIG", store.path().to_str().unwrap())]);
    assert_reached(&out);
    assert!(out.1.contains(&format!("endpoint: {host}, chosen by context ci (from currentContext in")), "{}", out.1);
}

#[test]
fn a_missing_context_is_named_with_the_ones_there() {
    let store = context_store("ci", "tcp://127.0.0.1:9");
    let out = doctor(&[("DOCKER_CONFIG", store.path().to_str().unwrap()), ("DOCKER_CONTEXT", "nope")]);
    let err = assert_unreachable(&out);
    assert!(err.contains("no context named nope") && err.contains("default, ci"), "{err}");
    assert!(err.contains("context nope (from DOCKER_CONTEXT)"), "{err}");
}

#[test]
fn a_context_with_tls_material() {
    use sha2::{Digest, Sha256};
    require_engine();
    let c = certs(false);
    let (_proxy, port) = tls_proxy(&c.server);
    let host = format!("tcp://127.0.0.1:{port}");
    let store = context_store("secure", &host);
    let tls = store.path().join("contexts/tls").join(hex::encode(Sha256::digest(b"secure"))).join("docker");
    std::fs::create_dir_all(&tls).unwrap();
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(c.client.join(f), tls.join(f)).unwrap();
    }
    let out = doctor(&[("DOCKER_CONFIG", store.path().to_str().unwrap()), ("DOCKER_CONTEXT", "secure")]);
    assert_reached(&out);
    assert!(out.1.contains(&format!("endpoint: {host}, chosen by context secure (from DOCKER_CONTEXT)")), "{}", out.1);
    assert!(
        out.1.contains(&format!("TLS: on, with the client certificate {}", tls.join("cert.pem").display())),
        "{}",
        out.1
    );
}
