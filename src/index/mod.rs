//! Asking the package index, from the host and without a container, whether a project's files
//! changed: the PEP 691 JSON simple API (`Accept: application/vnd.pypi.simple.v1+json`), with
//! the index, the CA bundle and the extra hosts that builds use, so the answer is about the
//! index pip saw. A project's *state* is its `_last-serial` when the index gives one, else a
//! digest of its file list (names and hashes): it changes exactly when a file appears, goes or
//! is replaced.

mod page;
mod redirect;

pub use page::{downloadable_of, files_of, state_of, IndexFile};
use redirect::host_of;
pub use redirect::{redirect_target, MAX_REDIRECTS};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// pip's own default.
pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";
const JSON: &str = "application/vnd.pypi.simple.v1+json";

/// Resolves the builds' extra hosts (`name:address`) first, then as usual.
#[derive(Debug)]
struct Hosts {
    map: HashMap<String, IpAddr>,
    default: DefaultResolver,
}

impl Resolver for Hosts {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(ip) = uri.host().and_then(|h| self.map.get(h)) {
            let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
            let mut out = self.empty();
            out.push(SocketAddr::new(*ip, port));
            return Ok(out);
        }
        self.default.resolve(uri, config, timeout)
    }
}

/// A client of one package index.
pub struct IndexClient {
    agent: ureq::Agent,
    base: String,
    /// Answers already had in this run: jobs share distributions.
    memo: std::sync::Mutex<HashMap<String, Result<String, String>>>,
}

impl IndexClient {
    /// `ca_bundle`: the only CAs trusted (as pip with `PIP_CERT`); without one, the host's
    /// bundle (`SSL_CERT_FILE`, else /etc/ssl/certs/ca-certificates.crt), else Mozilla's roots.
    pub fn new(
        index_url: Option<&str>,
        ca_bundle: Option<&Path>,
        extra_hosts: &[String],
    ) -> Result<IndexClient, String> {
        let host_bundle = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
        let bundle = ca_bundle.map(Path::to_path_buf).or_else(|| host_bundle.is_file().then_some(host_bundle));
        let roots = match &bundle {
            Some(p) => {
                let pem = std::fs::read(p).map_err(|e| format!("failed to read the CA bundle {}: {e}", p.display()))?;
                let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                    .filter_map(|i| match i {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return Err(format!("the CA bundle {} holds no certificate", p.display()));
                }
                ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs))
            }
            None => ureq::tls::RootCerts::WebPki,
        };
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            // Redirects are followed here, by `get`, under the rules of `redirect_target`.
            .max_redirects(0)
            .build();
        let map = extra_hosts
            .iter()
            .filter_map(|h| h.split_once(':'))
            .filter_map(|(n, a)| a.parse().ok().map(|ip| (n.to_string(), ip)))
            .collect();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            Hosts { map, default: DefaultResolver::default() },
        );
        let mut base = index_url.unwrap_or(DEFAULT_INDEX).to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(IndexClient { agent, base, memo: Default::default() })
    }

    /// The project's state on the index, or why it could not be had (asked once per run).
    pub fn project_state(&self, project: &str) -> Result<String, String> {
        let name = crate::dist::normalise_name(project);
        if let Some(r) = self.memo.lock().expect("index memo").get(&name) {
            return r.clone();
        }
        let r = self.fetch_state(&name);
        self.memo.lock().expect("index memo").insert(name, r.clone());
        r
    }

    /// The names of the project's files on the index that are not yanked (PEP 691 `files`);
    /// an empty list when the index does not know the project.
    pub fn files(&self, project: &str) -> Result<Vec<String>, String> {
        let url = format!("{}{}/", self.base, crate::dist::normalise_name(project));
        let Some(body) = self.page(&url)? else { return Ok(vec![]) };
        files_of(&body).map_err(|e| format!("GET {url}: {e}"))
    }

    /// The project's files on the index that are not yanked, with where to download each and
    /// its sha256 when the index gives one; an empty list when the index does not know it.
    pub fn downloadable(&self, project: &str) -> Result<Vec<IndexFile>, String> {
        let url = format!("{}{}/", self.base, crate::dist::normalise_name(project));
        let Some(body) = self.page(&url)? else { return Ok(vec![]) };
        downloadable_of(&url, &body).map_err(|e| format!("GET {url}: {e}"))
    }

    /// Downloads one file of the index into a temporary file, at most [`MAX_WHEEL`] bytes,
    /// checking it against the sha256 the index gave; a file the index gave no sha256 for is
    /// refused (what is read from it would be a fact of nothing known). The file and its sha256.
    pub fn download(&self, file: &IndexFile) -> Result<(tempfile::NamedTempFile, String), String> {
        use sha2::Digest;
        use std::io::{Read, Write};
        let url = &file.url;
        let Some(want) = &file.sha256 else {
            return Err(format!("{url}: the index gives no sha256 for it; refusing to use an unverified file"));
        };
        // a wheel is tens of megabytes, not one page
        let mut resp = self.get(url, None, Duration::from_secs(600)).map_err(|e| format!("failed to download {e}"))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(format!("failed to download {url}: HTTP {status}"));
        }
        let failed = |e: &dyn std::fmt::Display| format!("failed to download {url}: {e}");
        let mut out = tempfile::NamedTempFile::new().map_err(|e| failed(&e))?;
        let mut reader = resp.body_mut().as_reader().take(MAX_WHEEL + 1);
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| failed(&e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > MAX_WHEEL {
                return Err(format!("failed to download {url}: larger than the limit of {} MiB", MAX_WHEEL >> 20));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| failed(&e))?;
        }
        out.flush().map_err(|e| failed(&e))?;
        let got = hex::encode(hasher.finalize());
        if !want.eq_ignore_ascii_case(&got) {
            return Err(format!("{url} does not match the index's sha256: {want} expected, {got} downloaded"));
        }
        Ok((out, got))
    }

    /// GET `url`, following at most [`MAX_REDIRECTS`] redirects, each checked by
    /// [`redirect_target`]; an error names the address and, for a redirect, where it led.
    fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        timeout: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.agent.get(&current).config().timeout_global(Some(timeout)).build();
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            let resp = req.call().map_err(|e| format!("{current}: {e}"))?;
            if !resp.status().is_redirection() {
                return Ok(resp);
            }
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| format!("{current}: HTTP {} without a Location", resp.status().as_u16()))?;
            let next = redirect_target(&current, location).map_err(|e| format!("{current}: {e}"))?;
            if host_of(&next) != host_of(&current) {
                tracing::info!("the package index redirected {current} to another host: {next}");
            }
            current = next;
        }
        Err(format!("{url}: more than {MAX_REDIRECTS} redirects"))
    }

    /// A project page's body, `None` for a project the index does not know.
    fn page(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        let mut resp = self.get(url, Some(JSON), Duration::from_secs(30)).map_err(|e| format!("GET {e}"))?;
        match resp.status().as_u16() {
            404 => Ok(None),
            200 => resp
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_vec()
                .map(Some)
                .map_err(|e| format!("GET {url}: {e}")),
            status => Err(format!("GET {url}: HTTP {status}")),
        }
    }

    fn fetch_state(&self, project: &str) -> Result<String, String> {
        let url = format!("{}{}/", self.base, crate::dist::normalise_name(project));
        match self.page(&url)? {
            None => Ok("absent".into()),
            Some(body) => state_of(&body).map_err(|e| format!("GET {url}: {e}")),
        }
    }
}

/// The largest file a fix search downloads (the largest wheels on PyPI are under 1 GiB).
pub const MAX_WHEEL: u64 = 1 << 30;

#[cfg(test)]
mod tests {
    use super::page::resolve;
    use super::*;

    #[test]
    fn state_changes_exactly_when_the_files_do() {
        let a = br#"{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"x-1.0.tar.gz","hashes":{"sha256":"aa"}}]}"#;
        let same = br#"{"meta":{"api-version":"1.1"},"name":"x","versions":["1.0"],"files":[{"filename":"x-1.0.tar.gz","hashes":{"sha256":"aa"}}]}"#;
        let new = br#"{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"x-1.0.tar.gz","hashes":{"sha256":"aa"}},{"filename":"x-1.1.tar.gz","hashes":{"sha256":"bb"}}]}"#;
        assert_eq!(state_of(a).unwrap(), state_of(same).unwrap());
        assert_ne!(state_of(a).unwrap(), state_of(new).unwrap());
        let serial = br#"{"meta":{"_last-serial":42},"files":[]}"#;
        assert!(state_of(serial).unwrap().starts_with("serial 42"));
        assert!(state_of(b"<html>").is_err());
    }

    #[test]
    fn the_file_list_leaves_out_yanked_files() {
        let page = br#"{"meta":{"api-version":"1.0"},"files":[{"filename":"x-1.0.tar.gz","hashes":{}},{"filename":"x-2.0-py3-none-any.whl","hashes":{},"yanked":"broken"},{"filename":"x-1.1-py3-none-any.whl","hashes":{},"yanked":false}]}"#;
        assert_eq!(files_of(page).unwrap(), ["x-1.0.tar.gz", "x-1.1-py3-none-any.whl"]);
        assert!(files_of(b"{").is_err());
    }

    #[test]
    fn downloads_are_resolved_against_the_page_and_carry_the_index_hash() {
        let page = br#"{"meta":{"api-version":"1.0"},"files":[
            {"filename":"x-1.0-py3-none-any.whl","url":"../../packages/ab/x-1.0-py3-none-any.whl#sha256=aa","hashes":{"sha256":"aa"}},
            {"filename":"x-1.1-py3-none-any.whl","url":"/files/x-1.1-py3-none-any.whl","hashes":{}},
            {"filename":"x-1.2-py3-none-any.whl","url":"https://files.example/x-1.2-py3-none-any.whl","hashes":{}},
            {"filename":"x-2.0-py3-none-any.whl","url":"/files/x-2.0.whl","hashes":{},"yanked":true}]}"#;
        let f = downloadable_of("https://idx.example:5443/simple/x/", page).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].url, "https://idx.example:5443/packages/ab/x-1.0-py3-none-any.whl");
        assert_eq!(f[0].sha256.as_deref(), Some("aa"));
        assert_eq!(f[1].url, "https://idx.example:5443/files/x-1.1-py3-none-any.whl");
        assert_eq!(f[1].sha256, None);
        assert_eq!(f[2].url, "https://files.example/x-1.2-py3-none-any.whl");
        assert_eq!(resolve("https://h/simple/x/", "//cdn/y.whl"), "https://cdn/y.whl");
    }

    #[test]
    fn redirects_never_leave_https_nor_reach_files_and_other_hosts_need_https() {
        let from = "https://idx.example/simple/x/";
        for (location, why) in [
            ("http://idx.example/simple/x/", "from HTTPS to HTTP"),
            ("HTTP://evil.example/x", "from HTTPS to HTTP"),
            ("//evil.example/x", ""),
            ("file:///etc/passwd", "only http and https"),
            ("FILE:/etc/shadow", "only http and https"),
            ("gopher://idx.example/", "only http and https"),
        ] {
            match redirect_target(from, location) {
                Err(e) => assert!(e.starts_with("redirected to ") && e.contains(why), "{location}: {e}"),
                // A scheme-relative address keeps HTTPS: another host over HTTPS is allowed.
                Ok(next) => assert_eq!((location, next.as_str()), ("//evil.example/x", "https://evil.example/x")),
            }
        }
        assert_eq!(redirect_target(from, "/simple/y/").unwrap(), "https://idx.example/simple/y/");
        assert_eq!(redirect_target(from, "https://cdn.example/x.whl").unwrap(), "https://cdn.example/x.whl");
        // A plain-HTTP index (a local one) may move on its own host, never to another over HTTP.
        let local = "http://127.0.0.1:3141/simple/x/";
        assert_eq!(redirect_target(local, "/root/x/").unwrap(), "http://127.0.0.1:3141/root/x/");
        assert!(redirect_target(local, "http://10.0.0.9/x/")
            .unwrap_err()
            .contains("another host is followed only over HTTPS"));
        assert!(redirect_target(local, "http://127.0.0.1:8080/x/").unwrap_err().contains("another host"));
        assert_eq!(redirect_target(local, "https://mirror.example/x/").unwrap(), "https://mirror.example/x/");
    }

    /// A local index answering on 127.0.0.1 with a redirect per path, for as long as the test
    /// holds it; dropping it stops the thread.
    struct Server {
        addr: String,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Server {
        fn start(routes: Vec<(&'static str, String)>) -> Server {
            use std::io::{Read, Write};
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let addr = format!("http://{}", listener.local_addr().unwrap());
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = stop.clone();
            let thread = std::thread::spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok((mut conn, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    conn.set_nonblocking(false).unwrap();
                    let mut head = vec![];
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let answer = match routes.iter().find(|(p, _)| *p == path) {
                        Some((_, location)) if location.starts_with("200 ") => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                            location.len() - 4,
                            &location[4..]
                        ),
                        Some((_, location)) => format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                    };
                    let _ = conn.write_all(answer.as_bytes());
                }
            });
            Server { addr, stop, thread: Some(thread) }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    #[test]
    fn the_index_client_follows_only_safe_redirects_and_names_the_ones_it_refuses() {
        let page =
            r#"200 {"meta":{"api-version":"1.0"},"files":[{"filename":"x-1.0.tar.gz","hashes":{"sha256":"aa"}}]}"#;
        let server = Server::start(vec![
            ("/simple/moved/", "/simple/x/".to_string()),
            ("/simple/x/", page.to_string()),
            ("/simple/secrets/", "file:///etc/passwd".to_string()),
            ("/simple/away/", "http://127.0.0.2:9/simple/x/".to_string()),
            ("/simple/loop/", "/simple/loop/".to_string()),
        ]);
        let client = IndexClient::new(Some(&format!("{}/simple/", server.addr)), None, &[]).unwrap();
        assert_eq!(client.files("moved").unwrap(), ["x-1.0.tar.gz"], "a redirect on the same host is followed");
        let e = client.files("secrets").unwrap_err();
        assert!(e.contains("/simple/secrets/: redirected to file:///etc/passwd: refused, only http and https"), "{e}");
        let e = client.files("away").unwrap_err();
        assert!(e.contains("redirected to http://127.0.0.2:9/simple/x/: refused, a redirect to another host is followed only over HTTPS"), "{e}");
        assert!(client.files("loop").unwrap_err().contains("more than 5 redirects"));
        // A download the index gives no sha256 for is refused before it is asked for.
        let f = IndexFile { filename: "x.whl".into(), url: format!("{}/x.whl", server.addr), sha256: None };
        assert!(client.download(&f).unwrap_err().contains("gives no sha256 for it; refusing"));
        let f = IndexFile { sha256: Some("00".repeat(32)), ..f };
        assert!(client.download(&f).unwrap_err().contains("HTTP 404"));
        let f = IndexFile { url: format!("{}/simple/x/", server.addr), ..f };
        assert!(client.download(&f).unwrap_err().contains("does not match the index's sha256"));
    }
}
