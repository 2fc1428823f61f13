//! What pip printed, read: the distributions of its `--report` (or, when it failed, the files
//! its log says it fetched), and what a failure was: a conflict, a full disk, a TLS failure,
//! or a cause that is a fact of the inputs (never decided by package name).

use serde::Deserialize;

use crate::dist::{classify, normalise_name, sdist_name};
use crate::model::{Distribution, Source};

#[derive(Deserialize)]
struct PipReport {
    #[serde(default)]
    install: Vec<PipInstall>,
}

#[derive(Deserialize)]
struct PipInstall {
    metadata: PipMetadata,
    download_info: Option<PipDownload>,
    #[serde(default)]
    requested: bool,
}

#[derive(Deserialize)]
struct PipMetadata {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct PipDownload {
    url: String,
}

/// Distributions pip installed, with where each came from (`pip install --report`).
pub fn parse_pip_report(bytes: &[u8]) -> Result<Vec<Distribution>, String> {
    let report: PipReport = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut out: Vec<Distribution> = report
        .install
        .into_iter()
        .map(|i| {
            let file = i
                .download_info
                .map(|d| d.url.rsplit('/').next().unwrap_or("").split('#').next().unwrap_or("").to_string())
                .unwrap_or_default();
            Distribution {
                name: normalise_name(&i.metadata.name),
                version: i.metadata.version,
                source: classify(&file),
                file,
                requested: i.requested,
            }
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Distributions named by pip's "Downloading X" / "Using cached X" lines (version from the file
/// name), for a run that produced no report.
pub fn files_from_log(log: &str) -> Vec<Distribution> {
    let mut out: Vec<Distribution> = log
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("Downloading ").or_else(|| l.strip_prefix("Using cached "))?;
            let url_or_file = rest.split_whitespace().next()?;
            let file = url_or_file.rsplit('/').next()?.to_string();
            let source = classify(&file);
            if source == Source::Unknown {
                return None;
            }
            let (name, version) = if source == Source::Sdist {
                sdist_name(&file)
            } else {
                let mut parts = file.trim_end_matches(".whl").splitn(3, '-');
                (parts.next()?, parts.next().unwrap_or(""))
            };
            Some(Distribution {
                name: normalise_name(name),
                version: version.to_string(),
                source,
                file,
                requested: false,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Why a failed pip run would fail the same way again with the same inputs, by what pip's
/// output says (never by package name): no compiler for a source build, or nothing on the
/// index for the requirement. `None` for anything that may pass next time (network, TLS,
/// time-outs, the disk, the engine).
pub fn deterministic_failure(log: &str) -> Option<&'static str> {
    let transient = [
        "Retrying",
        "ConnectionError",
        "SSLError",
        "Read timed out",
        "Temporary failure in name resolution",
        "NewConnectionError",
        "No space left",
    ];
    if transient.iter().any(|t| log.contains(t)) {
        return None;
    }
    let no_compiler = [
        "Unknown compiler(s)",
        "command 'cc' failed",
        "command 'gcc' failed",
        "command 'c++' failed",
        "cc: not found",
        "gcc: not found",
        "No such file or directory: 'cc'",
        "C compiler cannot create executables",
        "can't find Rust compiler",
    ];
    // The compiler the interpreter was built with, named by path and absent: "[Errno 2] No
    // such file or directory: '/opt/musl/bin/cc-musl'".
    let missing_compiler = log.split("No such file or directory: '").skip(1).any(|rest| {
        let path = rest.split('\'').next().unwrap_or("");
        let name = path.rsplit('/').next().unwrap_or(path);
        ["cc", "gcc", "g++", "c++", "clang", "clang++"].contains(&name)
            || name.ends_with("-gcc")
            || name.starts_with("cc-")
    });
    if missing_compiler || no_compiler.iter().any(|m| log.contains(m)) {
        return Some("no compiler in the base for a source build");
    }
    if log.contains("No matching distribution found") {
        return Some("no matching distribution on the index");
    }
    None
}

/// The line saying the disk is full (ENOSPC), if pip's output has one.
pub fn disk_full(log: &str) -> Option<String> {
    log.lines()
        .find(|l| l.contains("No space left on device") || l.contains("[Errno 28]"))
        .map(|l| l.trim().to_string())
}

/// The most telling line of a failed pip run. A TLS failure is named as such: pip itself ends
/// with "No matching distribution found", which hides it.
pub fn last_error_line(log: &str) -> String {
    if let Some(i) = log.find("THESE PACKAGES DO NOT MATCH THE HASHES") {
        // pip names each package, then "Expected sha256 …" and "Got …" lines.
        let detail: Vec<&str> = log[i..].lines().skip(1).map(str::trim).filter(|l| !l.is_empty()).take(3).collect();
        return format!("a hash in the requirements does not match the file the index served: {}", detail.join("; "));
    }
    if log.contains("CERTIFICATE_VERIFY_FAILED") {
        return "pip could not verify the package index's TLS certificate (CERTIFICATE_VERIFY_FAILED): \
                give the CA that signs it with --ca-bundle (or MUSLCHECK_CA_BUNDLE, or policy.ca_bundle)"
            .to_string();
    }
    log.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("ERROR") || l.contains("error:"))
        .or_else(|| log.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("pip failed with no output")
        .trim()
        .to_string()
}

/// Why pip could not reach the package index (or the host serving its files), when that is
/// why it failed: the connection was refused, timed out, the name did not resolve or the
/// network is unreachable, pip retried, then gave up ("No matching distribution found", or an
/// OSError of a download). That is the network's failure, not the dependency's: the job is an
/// infrastructure error naming the host. `index_url` is the index pip was given, for when its
/// output names no host (urllib3 before 2.3 prints only the connection object).
pub fn unreachable_index(log: &str, index_url: Option<&str>) -> Option<String> {
    const CONNECT: [&str; 6] = [
        "NewConnectionError",
        "Failed to establish a new connection",
        "ConnectTimeoutError",
        "Temporary failure in name resolution",
        "Name or service not known",
        "ProxyError",
    ];
    let failures: Vec<&str> = log.lines().filter(|l| CONNECT.iter().any(|c| l.contains(c))).collect();
    let last = failures.last()?;
    let gave_up = log.contains("No matching distribution found")
        || log.contains("Could not find a version that satisfies")
        || log.lines().any(|l| {
            l.contains("ERROR: Could not install packages due to an OSError") && l.contains("Max retries exceeded")
        });
    if !gave_up {
        // An earlier retry that then worked, and a failure of another kind: not this.
        return None;
    }
    let host = quoted_after(last, "host='")
        .map(|h| match number_after(last, "port=") {
            Some(p) => format!("{h}:{p}"),
            None => h,
        })
        .or_else(|| {
            log.lines()
                .find_map(|l| l.trim().strip_prefix("Looking in indexes: "))
                .and_then(|u| url_host(u.split([',', ' ']).next()?))
        })
        .or_else(|| index_url.and_then(url_host))
        .unwrap_or_else(|| "pypi.org (pip's default index)".to_string());
    let reason = [
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "No route to host",
        "timed out",
        "ProxyError",
    ]
    .into_iter()
    .find(|r| last.contains(r))
    .unwrap_or("could not connect");
    let attempts = log.lines().filter(|l| l.contains("Retrying (Retry(")).count() + 1;
    Some(format!(
        "pip could not reach {host} ({reason}; {attempts} attempt{}): the package index is down or not reachable from the build container, not a fact of the dependency",
        if attempts == 1 { "" } else { "s" }
    ))
}

/// The text between `key` and the next quote: `host='127.0.0.1'` gives `127.0.0.1`.
fn quoted_after(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest.find(['\'', '"'])?;
    Some(rest[..end].to_string()).filter(|h| !h.is_empty() && h.len() <= 255)
}

fn number_after(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

/// The host (and port) of a URL, without credentials: `https://u:p@idx:8443/simple` gives
/// `idx:8443`.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then(|| host.to_string())
}

/// pip's explanation when the requirements do not resolve together (ResolutionImpossible):
/// a first line saying so, then pip's own lines (what cannot be installed together, and the
/// "conflict is caused by" list), one a line.
pub fn resolution_conflict(log: &str) -> Option<String> {
    if !log.contains("ResolutionImpossible") && !log.contains("conflicting dependencies") {
        return None;
    }
    let mut lines = vec!["the requirements do not resolve together (pip: ResolutionImpossible)".to_string()];
    // pip prints what cannot be installed on stderr and the causes on stdout, which come first
    // in the log: the summary line goes first here.
    lines.extend(
        log.lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("ERROR: ").filter(|l| l.starts_with("Cannot install")))
            .map(str::to_string),
    );
    let mut in_cause = false;
    for l in log.lines().map(str::trim) {
        if l.starts_with("The conflict is caused by") {
            in_cause = true;
            lines.push(l.to_string());
        } else if in_cause && l.is_empty() {
            in_cause = false;
        } else if in_cause || l.starts_with("Additionally, some packages") {
            lines.push(l.to_string());
        }
    }
    lines.dedup();
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_pip_report() {
        let json = br#"{"version":"1","install":[
          {"metadata":{"name":"MarkupSafe","version":"3.0.2"},"download_info":{"url":"https://files/x/markupsafe-3.0.2-cp313-cp313-musllinux_1_2_x86_64.whl#sha256=00"},"requested":false},
          {"metadata":{"name":"Jinja2","version":"3.1.6"},"download_info":{"url":"https://files/x/jinja2-3.1.6-py3-none-any.whl"},"requested":true}]}"#;
        let d = parse_pip_report(json).unwrap();
        assert_eq!(d[0].name, "jinja2");
        assert_eq!(d[0].source, Source::Pure);
        assert!(d[0].requested);
        assert_eq!(d[1].name, "markupsafe");
        assert_eq!(d[1].source, Source::Musllinux);
        assert!(parse_pip_report(b"not json").is_err());
    }

    #[test]
    fn files_pip_chose_are_read_from_its_log() {
        let log = "Collecting lz4==4.4.5\n  Downloading lz4-4.4.5.tar.gz (172 kB)\n  Installing build dependencies: started\n  Using cached setuptools-80.9.0-py3-none-any.whl (1.2 MB)\nERROR: Failed\n";
        let d = files_from_log(log);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].name.as_str(), d[0].version.as_str(), d[0].source), ("lz4", "4.4.5", Source::Sdist));
        assert_eq!((d[1].name.as_str(), d[1].source), ("setuptools", Source::Pure));
    }

    #[test]
    fn only_failures_that_are_facts_of_their_inputs_are_deterministic() {
        let compiler = "Building wheel for lz4 (pyproject.toml)\nerror: command 'cc' failed: No such file or directory\nERROR: Failed to build lz4";
        assert_eq!(deterministic_failure(compiler), Some("no compiler in the base for a source build"));
        let meson = "../meson.build:1:0: ERROR: Unknown compiler(s): [['cc'], ['gcc']]\nmetadata-generation-failed";
        assert!(deterministic_failure(meson).is_some());
        let sysconfig_cc =
            "      error: [Errno 2] No such file or directory: '/opt/musl/bin/cc-musl'\n      [end of output]";
        assert!(deterministic_failure(sysconfig_cc).is_some());
        assert_eq!(deterministic_failure("error: [Errno 2] No such file or directory: 'setup.cfg'"), None);
        assert!(deterministic_failure("ERROR: No matching distribution found for nosuchpkg").is_some());
        let flaky = "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError'\nERROR: No matching distribution found for six";
        assert_eq!(deterministic_failure(flaky), None);
        assert_eq!(
            deterministic_failure(
                "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"
            ),
            None
        );
    }

    #[test]
    fn a_resolution_conflict_keeps_pips_explanation() {
        // Standard output (the causes), then standard error (what cannot be installed).
        let log = "Collecting mcb\n\nThe conflict is caused by:\n    The user requested mca==1.0\n    mcb 1.0 depends on mca>=2\n\nTo fix this you could try to:\n1. loosen the range\n\nERROR: Cannot install mca==1.0 and mcb==1.0 because these package versions have conflicting dependencies.\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n";
        let why = resolution_conflict(log).unwrap();
        let lines: Vec<&str> = why.lines().collect();
        assert!(lines[0].contains("do not resolve together"), "{why}");
        assert!(lines[1].starts_with("Cannot install mca==1.0 and mcb==1.0"), "{why}");
        assert_eq!(
            &lines[2..],
            ["The conflict is caused by:", "The user requested mca==1.0", "mcb 1.0 depends on mca>=2"]
        );
        assert!(resolution_conflict("ERROR: No matching distribution found for x\n").is_none());
    }

    #[test]
    fn a_full_disk_is_recognised() {
        let log = "Collecting numpy\nERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n";
        assert!(disk_full(log).unwrap().contains("No space left"));
        assert!(disk_full("ERROR: No matching distribution found for x\n").is_none());
    }

    #[test]
    fn an_unreachable_index_is_named_by_its_host() {
        // pip 24 with urllib3 1.26 (the connection object, no host), its index given.
        let refused = "Looking in indexes: https://user:secret@127.0.0.1:9/simple\nCollecting six\n\
WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f3b2c1d0e50>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/six/\n\
WARNING: Retrying (Retry(total=3, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f3b2c1d1090>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/six/\n\
ERROR: Could not find a version that satisfies the requirement six (from versions: none)\n\
ERROR: No matching distribution found for six\n";
        let why = unreachable_index(refused, None).unwrap();
        assert_eq!(why, "pip could not reach 127.0.0.1:9 (Connection refused; 3 attempts): the package index is down or not reachable from the build container, not a fact of the dependency");
        assert!(!why.contains("secret"));
        // pip 25 with urllib3 2.5: the host is in the line.
        let v2 = "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(\"HTTPSConnection(host='idx.internal', port=8443): Failed to establish a new connection: [Errno -2] Name or service not known\")': /simple/six/\nERROR: No matching distribution found for six\n";
        assert!(unreachable_index(v2, Some("https://other/simple"))
            .unwrap()
            .starts_with("pip could not reach idx.internal:8443 (Name or service not known; 2 attempts)"));
        // A file download from another host.
        let download = "Collecting six\n  Downloading six-1.17.0-py2.py3-none-any.whl\nERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='files.example', port=443): Max retries exceeded with url: /six.whl (Caused by ConnectTimeoutError(<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to files.example timed out. (connect timeout=15)'))\n";
        assert!(unreachable_index(download, None)
            .unwrap()
            .starts_with("pip could not reach files.example:443 (timed out; 1 attempt)"));
        // No host in the output: the index pip was given, then pip's default.
        let bare = "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError('<x>: Failed to establish a new connection: [Errno 101] Network is unreachable')': /simple/six/\nERROR: No matching distribution found for six\n";
        assert!(unreachable_index(bare, Some("http://u:p@10.0.0.5:3141/root/pypi/+simple/"))
            .unwrap()
            .starts_with("pip could not reach 10.0.0.5:3141 (Network is unreachable;"));
        assert!(unreachable_index(bare, None).unwrap().contains("pypi.org (pip's default index)"));
        // A retry that then worked, and a build that failed for its own reasons: not the network.
        let recovered = "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError('<x>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/lz4/\nerror: command 'cc' failed: No such file or directory\nERROR: Failed to build lz4\n";
        assert_eq!(unreachable_index(recovered, None), None);
        assert_eq!(unreachable_index("ERROR: No matching distribution found for nosuchpkg\n", None), None);
    }

    #[test]
    fn tls_failures_are_named() {
        let log = "WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] x'))\nERROR: No matching distribution found for six\n";
        assert!(last_error_line(log).contains("--ca-bundle"));
        assert_eq!(last_error_line("a\nERROR: boom\nnote\n"), "ERROR: boom");
    }
}
