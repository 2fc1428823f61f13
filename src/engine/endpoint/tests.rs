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
    let e = resolve(&Env { docker_host: Some("tcp://e:1".into()), docker_tls_verify: Some("0".into()), ..env() }, &f)
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
    let e =
        resolve(&Env { docker_host: Some("tcp://e".into()), docker_tls: Some("1".into()), ..env() }, &Fake::default())
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
    let f = Fake::default().with_context("/cfg", "prod", meta("prod", "tcp://prod")).with_context_tls("/cfg", "prod");
    let e =
        resolve(&Env { docker_context: Some("prod".into()), docker_config: Some("/cfg".into()), ..env() }, &f).unwrap();
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
    let f = Fake::default().with_context("/home/u/.docker", "k8s", serde_json::json!({"Name": "k8s", "Endpoints": {}}));
    let e = resolve(&Env { docker_context: Some("k8s".into()), ..env() }, &f).unwrap_err();
    assert!(e.reason.contains("no docker endpoint"), "{e:?}");
}
