//! uv as the installer: the pinned uv the prep image gets from the builds' own index, the
//! driver that runs `uv pip install` in a build container (`uv_install.py`: pip's console
//! lines, a timestamped log, a report in pip's shape), and what uv's output says when it fails.
//! Read by what uv prints, never by package name.

/// The uv every uv-installing prep image gets, by version and by the SHA-256 of its Linux
/// x86_64 wheels (glibc and musl): installed with `--require-hashes`, so an index serving any
/// other file fails the prep instead of running it.
pub const UV_VERSION: &str = "0.9.9";
const UV_HASHES: [&str; 2] = [
    "afdd00ddc25e12ed756e069090011ca55f127753e1192e51f45fa288a024f3df",
    "1263f03571f3fda44061862c14b92c992102d03f5e1015f3886d9252f9436d60",
];

/// Where the prep puts uv (`pip install --target`): outside the virtualenv, so the installed
/// tree the probes observe is the requirements' alone, as with pip.
pub const UV_HOME: &str = "/opt/muslcheck/uv";

/// The uv binary.
pub fn binary() -> String {
    format!("{UV_HOME}/bin/uv")
}

/// The requirements line that installs the pinned uv.
pub fn pin() -> String {
    format!("uv=={UV_VERSION}{}\n", UV_HASHES.iter().map(|h| format!(" --hash=sha256:{h}")).collect::<String>())
}

/// The driver run by the virtualenv's interpreter in a build container.
pub const DRIVER: &str = include_str!("uv_install.py");

/// uv's message lines without the tree drawing it puts before them (`×`, `├─▶`, `╰─▶`).
fn clean(l: &str) -> &str {
    l.trim().trim_start_matches(['×', '├', '╰', '─', '▶', '│']).trim()
}

/// uv's messages, unwrapped: uv wraps a message at the terminal width, continuing it on
/// indented lines.
fn messages(log: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for raw in log.lines() {
        let starts = raw.trim_start().starts_with(['×', '├', '╰']) || !raw.starts_with(' ');
        let text = clean(raw);
        if text.is_empty() {
            out.push(String::new());
        } else if !starts && out.last().is_some_and(|l| !l.is_empty()) {
            let last = out.last_mut().expect("a line");
            last.push(' ');
            last.push_str(text);
        } else {
            out.push(text.to_string());
        }
    }
    out
}

/// Nothing on the index for a requirement.
pub fn not_found(log: &str) -> bool {
    let m = messages(log).join("\n");
    [
        "was not found in the package registry",
        "was not found in the provided package locations",
        "has no wheels with a matching platform tag",
        "has no wheels with a matching Python",
        "there is no version of",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// uv's explanation when the requirements do not resolve together.
pub fn conflict(log: &str) -> Option<String> {
    if !log.contains("No solution found when resolving dependencies") || not_found(log) {
        return None;
    }
    let mut lines = vec!["the requirements do not resolve together (uv: no solution found)".to_string()];
    lines.extend(
        messages(log)
            .into_iter()
            .skip_while(|l| !l.starts_with("No solution found"))
            .skip(1)
            .take_while(|l| !l.is_empty() && !l.starts_with("hint:")),
    );
    Some(lines.join("\n"))
}

/// The most telling line of a failed uv run, said as the pip path says it where the cause is
/// the same (a hash mismatch, an untrusted certificate).
pub fn error_line(log: &str) -> String {
    let msgs = messages(log);
    if let Some(i) = msgs.iter().position(|l| l.starts_with("Hash mismatch for")) {
        let detail: Vec<&str> = msgs[i..].iter().map(String::as_str).filter(|l| !l.is_empty()).take(5).collect();
        return format!("a hash in the requirements does not match the file the index served: {}", detail.join("; "));
    }
    if tls(log) {
        return "uv could not verify the package index's TLS certificate (invalid peer certificate): \
                give the CA that signs it with --ca-bundle (or MUSLCHECK_CA_BUNDLE, or policy.ca_bundle)"
            .to_string();
    }
    // The first `×` line and the cause it points to.
    let first = log.lines().position(|l| l.trim_start().starts_with('×'));
    match first {
        Some(i) => {
            let chain: Vec<&str> =
                log.lines().skip(i).take(3).map(|l| clean(l).trim_end_matches(':')).filter(|l| !l.is_empty()).collect();
            chain.join(": ")
        }
        None => msgs.iter().rev().find(|l| !l.is_empty()).cloned().unwrap_or_else(|| "uv failed with no output".into()),
    }
}

/// uv did not trust the index's certificate.
pub fn tls(log: &str) -> bool {
    log.contains("invalid peer certificate") || log.contains("UnknownIssuer")
}

/// Why uv could not reach the index, when that is why it failed.
pub fn unreachable(log: &str, index_url: Option<&str>) -> Option<String> {
    const CONNECT: [&str; 5] = [
        "Connection refused",
        "dns error",
        "failed to lookup address",
        "Network is unreachable",
        "operation timed out",
    ];
    let line = log.lines().find(|l| CONNECT.iter().any(|c| l.contains(c)))?;
    let host = index_url
        .and_then(|u| u.split_once("://").map(|x| x.1))
        .and_then(|r| r.split(['/', '?']).next())
        .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h).to_string())
        .unwrap_or_else(|| "pypi.org (uv's default index)".to_string());
    Some(format!(
        "uv could not reach {host} ({}): the package index is down or not reachable from the build container, not a fact of the dependency",
        clean(line)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFLICT: &str = "Using Python 3.13.5 environment at: /opt/muslcheck/venv\n  × No solution found when resolving dependencies:\n  ╰─▶ Because aaa==1.0 depends on bbb<2 and you require aaa==1.0, we can\n      conclude that you require bbb<2.\n      And because you require bbb==2.0, we can conclude that your requirements\n      are unsatisfiable.\n";

    #[test]
    fn a_conflict_keeps_uvs_explanation_unwrapped() {
        let why = conflict(CONFLICT).unwrap();
        let lines: Vec<&str> = why.lines().collect();
        assert_eq!(lines[0], "the requirements do not resolve together (uv: no solution found)");
        assert!(
            lines[1].starts_with("Because aaa==1.0 depends on bbb<2 and you require aaa==1.0, we can conclude"),
            "{why}"
        );
        assert!(lines[1].ends_with("your requirements are unsatisfiable."), "{why}");
        let missing = "  × No solution found when resolving dependencies:\n  ╰─▶ Because nosuch was not found in the package registry and\n      you require nosuch==1.0, we can conclude that your requirements are\n      unsatisfiable.\n";
        assert!(conflict(missing).is_none() && not_found(missing));
        let no_wheel = "  × No solution found when resolving dependencies:\n  ╰─▶ Because polars==1.32.3 has no wheels with a matching platform tag\n      (e.g., `linux_x86_64`) and you require polars==1.32.3, we can conclude\n      that your requirements are unsatisfiable.\n";
        assert!(conflict(no_wheel).is_none() && not_found(no_wheel));
    }

    #[test]
    fn failures_are_named_as_the_pip_path_names_them() {
        let hash = "Resolved 1 package in 1ms\n  × Failed to download `bbb==2.0`\n  ╰─▶ Hash mismatch for `bbb==2.0`\n\n      Expected:\n        sha256:00\n\n      Computed:\n        sha256:b4\n";
        let l = error_line(hash);
        assert!(
            l.starts_with(
                "a hash in the requirements does not match the file the index served: Hash mismatch for `bbb==2.0`"
            ),
            "{l}"
        );
        assert!(l.contains("sha256:b4"), "{l}");
        let build = "   Building lzx==1.0\n  × Failed to build `lzx==1.0`\n  ├─▶ The build backend returned an error\n  ╰─▶ Call to `backend.build_wheel` failed (exit status: 1)\n";
        assert_eq!(error_line(build), "Failed to build `lzx==1.0`: The build backend returned an error: Call to `backend.build_wheel` failed (exit status: 1)");
        assert!(error_line("error: invalid peer certificate: UnknownIssuer\n").contains("--ca-bundle"));
        let down = "  × Failed to fetch: `https://idx:8443/simple/six/`\n  ╰─▶ tcp connect error: Connection refused (os error 111)\n";
        assert!(unreachable(down, Some("https://u:p@idx:8443/simple/"))
            .unwrap()
            .starts_with("uv could not reach idx:8443"));
        assert!(unreachable(build, None).is_none());
        assert!(pin().starts_with("uv==0.9.9 --hash=sha256:afdd"));
    }
}
