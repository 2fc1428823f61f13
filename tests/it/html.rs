//! The HTML report, opened in a real headless browser (Debian's chromium): it loads from a file
//! with no network, its DOM has the decision at the top, and a screenshot of it is taken.

use std::process::Command;

use crate::common::*;

pub(crate) fn chromium(args: &[&str], profile: &std::path::Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium on the host (scripts/test.sh installs Debian's chromium)")
}

/// The DOM of a page after the browser ran its scripts (`extra` before the address, such as a
/// virtual-time budget), with a fresh browser profile in `profile`.
pub(crate) fn dom_of(url: &str, extra: &[&str], profile: &std::path::Path) -> String {
    let mut args = extra.to_vec();
    args.extend(["--dump-dom", url]);
    let out = chromium(&args, profile);
    assert!(out.status.success(), "chromium --dump-dom {url}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A screenshot of a page at `size` ("W,H") into `png`, checked to be a picture of some content,
/// and kept at the path in `keep_var`, when that variable is set, for a person to look at.
pub(crate) fn screenshot(url: &str, size: &str, png: &std::path::Path, profile: &std::path::Path, keep_var: &str) {
    let shot = chromium(&[&format!("--screenshot={}", png.display()), &format!("--window-size={size}"), url], profile);
    assert!(shot.status.success(), "chromium --screenshot {url}: {}", String::from_utf8_lossy(&shot.stderr));
    let bytes = std::fs::read(png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{} bytes", bytes.len());
    if let Ok(keep) = std::env::var(keep_var) {
        std::fs::copy(png, keep).unwrap();
    }
}

#[test]
fn the_html_report_opens_in_a_headless_browser_findings_first_and_filters_offline() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let html = d.path().join("report.html");
    in_results(
        &d.path().join("r"),
        &[
            "gate",
            "lz4==4.4.5",
            "--matrix",
            "tests/fixtures/small.toml",
            "--ca-bundle",
            &ca_bundle(),
            "--format",
            "html",
            "--output",
            html.to_str().unwrap(),
        ],
    )
    .code(1);
    let url = format!("file://{}", html.display());
    let dom = dom_of(&url, &[], &d.path().join("profile1"));
    let summary = dom.split("id=\"summary\">").nth(1).and_then(|s| s.split('<').next()).unwrap_or_default();
    assert_eq!(summary, "1 blocking finding(s)", "{dom}");
    assert!(dom.find("id=\"summary\"").unwrap() < dom.find("Differences").unwrap(), "the decision comes first");
    assert!(dom.find("Differences").unwrap() < dom.find("Verdicts").unwrap(), "then the findings, then the grid");
    assert!(dom.contains("lz4/install-differs/") && dom.contains(">FAIL<"), "{dom}");
    // The raw evidence is behind a disclosure.
    assert!(dom.contains("<details><summary>evidence</summary>"), "{dom}");
    // The filter runs in the page, with no network: by kind from the address's fragment.
    let filtered =
        dom_of(&format!("{url}#kind=install-differs"), &["--virtual-time-budget=2000"], &d.path().join("profile3"));
    let rows: Vec<&str> = filtered.split("<tr class=\"finding\"").skip(1).collect();
    assert!(rows.len() >= 2, "more than one finding to filter: {filtered}");
    for row in &rows {
        let head = &row[..row.find('>').unwrap()];
        let hidden = head.contains("hidden");
        assert_eq!(hidden, !head.contains("data-kind=\"install-differs\""), "only install-differs shown: {head}");
    }
    assert!(filtered.contains(&format!("1 of {} shown", rows.len())), "{filtered}");
    // Kept for a person to look at, when asked.
    screenshot(
        &url,
        "1280,900",
        &d.path().join("report.png"),
        &d.path().join("profile2"),
        "MUSLCHECK_TEST_KEEP_SCREENSHOT",
    );
}
