//! Opening a bollard client on a decided [`Endpoint`] and, when the first exchange fails,
//! saying why in terms of the user's setup: the fix for a rejected client certificate is not
//! the fix for a stopped engine.

use std::time::Duration;

use bollard::{Docker, API_DEFAULT_VERSION};

use super::endpoint::{Address, Choice, Endpoint};
use super::EngineError;

/// The client's timeout for each request's headers (long builds and waits are bounded elsewhere).
const REQUEST_TIMEOUT_S: u64 = 120;

/// A client on `ep`, with the API version agreed with the engine.
pub(super) async fn open(ep: &Endpoint, timeout: Duration) -> Result<Docker, EngineError> {
    let fail =
        |reason: String, fix: String| EngineError::Unreachable { host: ep.url(), tried: ep.tried(), reason, fix };
    let url = ep.url();
    let docker = match (&ep.address, &ep.tls) {
        (Address::Unix(_), _) => Docker::connect_with_unix(&url, REQUEST_TIMEOUT_S, API_DEFAULT_VERSION),
        (Address::Tcp { .. }, None) => Docker::connect_with_http(&url, REQUEST_TIMEOUT_S, API_DEFAULT_VERSION),
        (Address::Tcp { .. }, Some(tls)) => {
            // Without a client certificate bollard is given paths that do not exist: its
            // certificate resolver then presents none, which is what the CLI does.
            let (cert, key) =
                tls.client.clone().unwrap_or_else(|| (tls.ca.with_file_name("-"), tls.ca.with_file_name("-")));
            Docker::connect_with_ssl(&url, &key, &cert, &tls.ca, REQUEST_TIMEOUT_S, API_DEFAULT_VERSION)
        }
        (Address::Ssh(u), _) => Docker::connect_with_ssh(u, REQUEST_TIMEOUT_S, API_DEFAULT_VERSION, None),
    };
    let docker = docker.map_err(|e| {
        let (reason, fix) = diagnose(ep, &e);
        fail(reason, fix)
    })?;
    // The client speaks a newer API than Debian's engine (1.41): agree on the engine's.
    match tokio::time::timeout(timeout, docker.negotiate_version()).await {
        Err(_) => Err(fail(format!("no answer within {} s", timeout.as_secs()), no_answer_fix(ep))),
        Ok(Err(e)) => {
            let (reason, fix) = diagnose(ep, &e);
            Err(fail(reason, fix))
        }
        Ok(Ok(d)) => Ok(d),
    }
}

/// The fix for an engine that is not there at all: on the default socket that is starting it.
fn start_engine_fix(ep: &Endpoint) -> String {
    match ep.chosen {
        Choice::DefaultSocket => "start the Docker engine (for example `dockerd &` as root, or `systemctl start docker`), or point DOCKER_HOST or a Docker context at an engine that runs".into(),
        _ => format!("start the engine that listens at {}, or fix {} (or unset it to use the default socket)", ep.url(), what_chose(ep)),
    }
}

fn no_answer_fix(ep: &Endpoint) -> String {
    match ep.address {
        Address::Unix(_) => start_engine_fix(ep),
        _ => {
            format!("check that {} is the engine's address and that nothing on the way drops the connection", ep.url())
        }
    }
}

/// The setting the user would change.
fn what_chose(ep: &Endpoint) -> String {
    match &ep.chosen {
        Choice::DockerHost(_) => "DOCKER_HOST".into(),
        Choice::Context { name, .. } => format!("the context {name}"),
        Choice::DefaultSocket => "DOCKER_HOST".into(),
    }
}

/// Every message in the error's source chain, outermost first, without repeats.
fn chain(e: &bollard::errors::Error) -> (Vec<String>, Vec<std::io::ErrorKind>) {
    let mut texts: Vec<String> = vec![];
    let mut kinds = vec![];
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        let t = x.to_string();
        if !texts.iter().any(|s| s.contains(&t)) {
            texts.push(t);
        }
        if let Some(io) = x.downcast_ref::<std::io::Error>() {
            kinds.push(io.kind());
        }
        cur = x.source();
    }
    (texts, kinds)
}

/// What went wrong, and what to do about it, from the error bollard gave.
pub(super) fn diagnose(ep: &Endpoint, e: &bollard::errors::Error) -> (String, String) {
    use std::io::ErrorKind as K;
    if let bollard::errors::Error::SocketNotFoundError(path) = e {
        return (format!("the socket {path} does not exist"), start_engine_fix(ep));
    }
    let (texts, kinds) = chain(e);
    let all = texts.join(": ");
    let has = |needle: &str| all.to_lowercase().contains(&needle.to_lowercase());
    let tls = ep.tls.as_ref();
    let cert_dir = tls.map(|t| t.ca.parent().unwrap_or(&t.ca).display().to_string()).unwrap_or_default();

    // The engine (or the proxy in front of it) ended the handshake with an alert about us.
    if tls.is_some() && has("received fatal alert") {
        let reason = format!("the engine rejected the TLS handshake ({all})");
        let fix = match tls.and_then(|t| t.client.as_ref()) {
            Some((cert, _)) if has("CertificateRequired") => format!("the engine asks for a client certificate and did not accept {}: use one signed by the CA the engine trusts", cert.display()),
            Some((cert, _)) => format!("the engine does not accept the client certificate {}: use a certificate and key (cert.pem, key.pem in {cert_dir}) signed by the CA the engine trusts", cert.display()),
            None => format!("the engine wants a client certificate: put cert.pem and key.pem, signed by the CA the engine trusts, in {cert_dir}"),
        };
        return (reason, fix);
    }
    if tls.is_some() && (has("invalid peer certificate") || has("UnknownIssuer") || has("NotValidForName")) {
        return (
            format!("the engine's certificate is not trusted ({all})"),
            format!("{cert_dir}/ca.pem must be the CA that signed the engine's certificate, and that certificate must name the host in {}", ep.url()),
        );
    }
    // A TLS client reading a plain HTTP answer sees a record that is not TLS.
    if tls.is_some() && (has("corrupt message") || has("InvalidContentType") || has("InvalidMessage")) {
        return (
            format!("the endpoint answered in plain HTTP, not TLS ({all})"),
            "this is the engine's plain port (usually 2375): unset DOCKER_TLS_VERIFY, or use its TLS port (usually 2376)".into(),
        );
    }
    if kinds.contains(&K::ConnectionRefused) || has("connection refused") {
        return match ep.address {
            Address::Unix(_) => ("nothing listens on the socket (connection refused)".into(), start_engine_fix(ep)),
            _ => (
                format!("nothing listens at {} (connection refused)", ep.url()),
                format!(
                    "check the address and port in {}, and that the engine (or the proxy in front of it) listens there",
                    what_chose(ep)
                ),
            ),
        };
    }
    if kinds.contains(&K::PermissionDenied) || has("permission denied") {
        return (
            format!("permission denied ({all})"),
            "run as root, or as a member of the group that owns the socket (usually docker)".into(),
        );
    }
    if has("failed to lookup address") || has("dns error") {
        return (
            format!("the host name does not resolve ({all})"),
            format!("check the host name in {}", what_chose(ep)),
        );
    }
    // A TLS server given plain HTTP fails its handshake and closes without an HTTP answer.
    if tls.is_none()
        && matches!(ep.address, Address::Tcp { .. })
        && (has("connection closed before message completed")
            || has("invalid HTTP")
            || has("connection reset")
            || kinds.contains(&K::ConnectionReset)
            || kinds.contains(&K::UnexpectedEof))
    {
        return (
            format!("the endpoint closed the connection without an HTTP answer: it probably expects TLS ({all})"),
            match &ep.chosen {
                Choice::Context { name, .. } => format!("give the context {name} the engine's TLS material: `docker context update {name} --docker host={},ca=ca.pem,cert=cert.pem,key=key.pem`", ep.url()),
                _ => "set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem (the engine's TLS port is usually 2376)".into(),
            },
        );
    }
    if tls.is_some() && has("certificate") {
        return (format!("TLS failed ({all})"), format!("check the certificate files in {cert_dir}"));
    }
    match ep.address {
        Address::Unix(_) => (all, start_engine_fix(ep)),
        Address::Ssh(_) => (all, "check that `ssh HOST docker version` works without a password prompt (an ssh agent or key), and that the remote user may use the engine".into()),
        Address::Tcp { .. } => (all, format!("check that a Docker engine listens at {}", ep.url())),
    }
}
