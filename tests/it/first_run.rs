//! A first run as a person sees it: the built-in default matrix where no other is found, and
//! what it says when its public bases cannot be pulled; progress on a real terminal (tmux) by
//! base and stage, then the summary view, and nothing but the report on standard output.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::*;

/// The binary with no engine to reach: whatever contacts it fails with exit 3.
fn offline() -> assert_cmd::Command {
    let mut c = bin();
    c.env("DOCKER_HOST", "unix:///nonexistent/muslcheck-test.sock");
    c
}

/// A directory that is the top of a repository of its own: the matrix search stops there.
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    d
}

/// This network has no public registry (the suite runs on the test bed's local one), so the
/// default matrix's python:3.13-slim and python:3.13-alpine cannot be pulled: the error says
/// which image, and how to give another matrix.
#[test]
fn the_embedded_default_names_the_image_it_cannot_pull_and_how_to_give_another_matrix() {
    require_engine();
    let d = project();
    let results = d.path().join("results");
    let a = bin()
        .args(["gate", "six==1.17.0", "--results-dir"])
        .arg(&results)
        .current_dir(d.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the embedded default matrix names python:3.13-"))
        .stderr(predicate::str::contains("--matrix FILE"))
        .stderr(predicate::str::contains("a muslcheck.toml in this directory or above"))
        .stderr(predicate::str::contains("`muslcheck init`"))
        .stderr(predicate::str::contains("panicked").not());
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("image python:3.13-slim") || err.contains("image python:3.13-alpine"), "{err}");
    let r = report(&results);
    assert_eq!(
        (r["matrix"].as_str(), r["matrix_source"].as_str()),
        (Some("<embedded>/default.toml"), Some("embedded default"))
    );
    assert_no_leftovers(&r);
}

/// A tmux server of this test's own, killed (with its session) however the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn start(&self, shell: &str) {
        let ok = self
            .cmd()
            .args(["new-session", "-d", "-s", "first", "-x", "200", "-y", "80", shell])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux (scripts/test.sh installs it)");
        assert!(ok.success(), "tmux new-session");
    }

    fn pane(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", "first", "-S", "-200"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Captures the pane until `done` appears in it: every capture, the last one last.
    fn follow(&self, done: &str, limit: Duration) -> Vec<String> {
        let start = Instant::now();
        let mut seen = vec![];
        loop {
            let pane = self.pane();
            let finished = pane.contains(done);
            seen.push(pane);
            if finished {
                return seen;
            }
            assert!(start.elapsed() < limit, "no {done:?} after {limit:?}:\n{}", seen.last().unwrap());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The server ends with its last session; kill-server is for a session that would not.
        let quiet = || std::process::Stdio::null();
        let _ = self.cmd().args(["kill-session", "-t", "first"]).stderr(quiet()).status();
        let _ = self.cmd().arg("kill-server").stderr(quiet()).status();
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What a person must never see: escape sequences shown as text instead of interpreted.
fn assert_no_escape_garbage(pane: &str) {
    for garbage in ["\u{1b}", "^[", "[0m", "[2K", "[1A", "\u{fffd}"] {
        assert!(!pane.contains(garbage), "{garbage:?} on the screen:\n{pane}");
    }
}

#[test]
fn progress_on_a_terminal_is_a_line_per_base_and_stage_then_the_summary() {
    require_engine();
    let results = tempfile::tempdir().unwrap();
    let observations = tempfile::tempdir().unwrap();
    let tmux = Tmux { socket: format!("muslcheck-it-{}", std::process::id()) };
    let bin = assert_cmd::cargo::cargo_bin("muslcheck");
    let mut args: Vec<String> = ["gate", "six==1.17.0", "msgpack==1.1.2", "--matrix", "tests/fixtures/small.toml"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(local_index_args());
    args.extend(["--ca-bundle".to_string(), local_index_ca()]);
    let args = args.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" ");
    let run = |results: &Path| {
        format!(
            "env -u MUSLCHECK_MATRIX -u MUSLCHECK_CA_BUNDLE -u MUSLCHECK_INDEX_URL -u NO_COLOR MUSLCHECK_OBSERVATIONS={} {} {args} --results-dir {}",
            quoted(&observations.path().display().to_string()),
            quoted(&bin.display().to_string()),
            quoted(&results.display().to_string())
        )
    };
    // First with the report on the terminal, then with it redirected to a file.
    let stdout = results.path().join("stdout.txt");
    let shell = format!(
        "cd {root} && {first}; echo FIRST-EXIT=$?; {second} > {out}; echo SECOND-EXIT=$?; sleep 600",
        root = quoted(&root().display().to_string()),
        first = run(&results.path().join("a")),
        second = run(&results.path().join("b")),
        out = quoted(&stdout.display().to_string()),
    );
    tmux.start(&shell);
    let seen = tmux.follow("SECOND-EXIT=", Duration::from_secs(600));
    let last = seen.last().unwrap();
    for pane in &seen {
        assert_no_escape_garbage(pane);
    }
    // While it ran: a stage at work, naming its job, with its count and its time.
    let working = regex_like_line(&seen, &["build", "/2", "s  ", "[musl]"])
        .or_else(|| regex_like_line(&seen, &["probe", "/2", "s  ", "]:"]));
    assert!(working.is_some(), "no progress line naming a job while it ran; captures:\n{}", seen.join("\n-----\n"));
    // At the end: every base's stages done, then the summary of the first run.
    for base in ["glibc", "musl"] {
        for stage in ["prepare", "build", "probe"] {
            let want = if stage == "prepare" { "1/1" } else { "2/2" };
            assert!(
                last.lines().any(|l| l.starts_with(&format!("  {base:<12} {stage:<9}"))
                    && l.contains(want)
                    && l.contains("done")),
                "no finished {base} {stage} line:\n{last}"
            );
        }
    }
    assert!(last.contains("FIRST-EXIT=0") && last.contains("SECOND-EXIT=0"), "{last}");
    let summary = &last[last.find("Verdicts").expect("the summary on the terminal")..];
    assert!(
        summary.contains("dependency")
            && summary.contains("msgpack")
            && summary.contains(" finding(s), 0 blocking (exit 0)"),
        "{last}"
    );
    // Standard output carries the report and nothing else, plain.
    let out = std::fs::read_to_string(&stdout).unwrap();
    assert!(out.starts_with("Verdicts\n"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains("prepare") && !out.contains("installing"), "{out}");
    for r in ["a", "b"] {
        assert_no_leftovers(&report(&results.path().join(r)));
    }
}

/// The first line of any capture that contains every fragment.
fn regex_like_line(captures: &[String], fragments: &[&str]) -> Option<String> {
    captures.iter().flat_map(|c| c.lines()).find(|l| fragments.iter().all(|f| l.contains(f))).map(str::to_string)
}

/// `init` writes a muslcheck.toml that the commands run there then find (and validate: `doctor`
/// reads the matrix before it contacts the engine, so a bad one would be exit 2, not 3); it
/// keeps an existing one unless --force; with no file anywhere, the built-in default is used.
#[test]
fn init_writes_a_matrix_that_the_search_finds_and_keeps_an_existing_one() {
    let d = tempfile::tempdir().unwrap();
    let top = d.path().canonicalize().unwrap();
    std::fs::create_dir(top.join(".git")).unwrap();
    std::fs::create_dir(top.join("sub")).unwrap();
    let doctor = |dir: &std::path::Path| {
        let out = offline().arg("doctor").current_dir(dir).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        doctor(&top.join("sub")).contains(&format!(
            "matrix: embedded default (no muslcheck.toml and no pyproject.toml with [tool.muslcheck] in {} or above it, up to {})",
            top.join("sub").display(),
            top.display()
        )),
        "{}",
        doctor(&top.join("sub"))
    );
    offline().arg("init").current_dir(&top).assert().success().stdout(predicate::str::contains("wrote"));
    let written = std::fs::read_to_string(top.join("muslcheck.toml")).unwrap();
    assert!(written.starts_with("# muslcheck's matrix") && written.contains("python:3.13-alpine"), "{written}");
    assert!(doctor(&top.join("sub")).contains(&format!("matrix: muslcheck.toml (found in {})", top.display())));
    std::fs::write(top.join("muslcheck.toml"), "# mine\n").unwrap();
    offline()
        .arg("init")
        .current_dir(&top)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("muslcheck.toml already exists"))
        .stderr(predicate::str::contains("muslcheck init --force"));
    assert_eq!(std::fs::read_to_string(top.join("muslcheck.toml")).unwrap(), "# mine\n");
    offline().args(["init", "--force"]).current_dir(&top).assert().success();
    assert_eq!(std::fs::read_to_string(top.join("muslcheck.toml")).unwrap(), written);
}
