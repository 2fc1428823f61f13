//! The command line as a process: help, and bad input refused with exit 2 before the engine is
//! contacted (DOCKER_HOST points at nothing, so reaching it would give 3), and an unreachable
//! engine giving 3 quickly with one clear message.

use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::*;

const NOWHERE: &str = "unix:///nonexistent/muslcheck-test.sock";

fn offline() -> assert_cmd::Command {
    let mut c = bin();
    c.env("DOCKER_HOST", NOWHERE).current_dir(root());
    c
}

#[test]
fn help_explains_commands_and_exit_codes() {
    let out = bin().arg("--help").assert().success().get_output().stdout.clone();
    insta::assert_snapshot!("help", String::from_utf8_lossy(&out));
    let out = bin().args(["gate", "--help"]).assert().success().get_output().stdout.clone();
    insta::assert_snapshot!("gate_help", String::from_utf8_lossy(&out));
}

#[test]
fn an_unreachable_engine_exits_3_fast_with_one_clear_message() {
    for args in [
        vec!["run", "--matrix", "tests/fixtures/small.toml"],
        vec!["gate", "six", "--matrix", "tests/fixtures/small.toml"],
        vec!["doctor", "--matrix", "tests/fixtures/small.toml"],
        vec!["clean"],
    ] {
        let start = Instant::now();
        offline()
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("cannot reach the Docker engine"))
            .stderr(predicate::str::contains(format!("DOCKER_HOST={NOWHERE}")))
            .stderr(predicate::str::contains("panicked").not());
        assert!(start.elapsed() < Duration::from_secs(2), "{args:?} took {:?}", start.elapsed());
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_matrices_are_refused_with_file_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("truncated.toml", "[[base]]\nname = \"a\nimage = \"x\"\n", ":2:"),
        ("unknown-key.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\nimgae = \"y\"\n", ":4:1: unknown field `imgae`"),
        ("wrong-type.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\nrequired = \"yes\"\n", ":4:"),
        ("duplicate.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n[[base]]\nname = \"a\"\nimage = \"y\"\n[[dependency]]\nrequirement = \"six\"\n", ":5:8: duplicate base name `a`"),
        ("empty.toml", "", ":1:1: the matrix names no base"),
        ("smuggled.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n[[dependency]]\nrequirement = \"six\\nRUN curl x | sh\"\n", ":5:15: `requirement`: requirement contains a control character"),
        ("no-deps.toml", "[[base]]\nname = \"a\"\nimage = \"x\"\n", "names no dependency"),
    ];
    for (name, text, expected) in cases {
        let path = write(d.path(), name, text);
        offline()
            .args(["run", "--matrix", &path])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains("panicked").not());
    }
    // Several problems in one file are all reported.
    let path = write(d.path(), "many.toml", "[policy]\nsource_builds = \"maybe\"\n[[base]]\nname = \"a b\"\nimage = \"x\"\n[[dependency]]\nrequirement = \"$(id)\"\n");
    let out = offline().args(["run", "--matrix", &path]).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert_eq!(err.matches(&path).count(), 3, "{err}");
}

#[test]
fn bad_requirements_and_arguments_are_refused_before_the_engine() {
    for req in [
        "numpy && rm -rf /",
        "numpy; echo $(id)",
        "six`id`",
        "--index-url=http://evil/simple",
        "pkg @ https://example.com/p.whl",
        "num py",
        "six\nRUN id",
    ] {
        offline()
            .args(["gate", "--matrix", "tests/fixtures/small.toml", "--", req])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid requirement"));
    }
    let d = tempfile::tempdir().unwrap();
    let reqs =
        write(d.path(), "requirements.txt", "six\n--extra-index-url http://evil/simple\nfoo @ https://x/y.whl\n");
    offline()
        .args(["gate", "-r", &reqs, "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("requirements.txt:2: `--extra-index-url` would switch the package index"))
        .stderr(predicate::str::contains("configure it instead with --index-url"))
        .stderr(predicate::str::contains("requirements.txt:3: direct URL requirements are not supported"));
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--only", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown dependency `nope`"));
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--base", "alpine"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown base `alpine`"));
    offline()
        .args(["run", "--matrix", "no/such/file.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("failed to read the matrix"))
        .stderr(predicate::str::contains(format!(
            "(named by --matrix; looked for at {})",
            root().join("no/such/file.toml").display()
        )));
    offline()
        .args(["run"])
        .env("MUSLCHECK_MATRIX", "no/such/env.toml")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(named by MUSLCHECK_MATRIX; looked for at"));
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--ca-bundle", "/no/such/ca.pem"])
        .assert()
        .code(2);
    offline()
        .args(["gate", "--matrix", "tests/fixtures/small.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least one requirement"));
    offline().args(["frobnicate"]).assert().code(2);
}

/// README.md and every docs/*.md, README first, each with its path relative to the root.
fn documents() -> Vec<(String, String)> {
    let mut paths = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("a docs directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).unwrap();
            (p, text)
        })
        .collect()
}

/// A `muslcheck` command found in a document: where, its arguments, and whether it is a
/// workflow's `run:` line.
#[derive(Debug)]
struct DocCommand {
    at: String,
    args: Vec<String>,
    run_line: bool,
}

/// Fences whose lines are commands (shell, or a workflow whose `run:` lines are).
const COMMAND_FENCES: [&str; 7] = ["", "sh", "bash", "shell", "console", "yaml", "yml"];

/// Every `muslcheck ...` (or `cargo run ... -- ...`) command in the fenced command blocks of a
/// document, with `\` continuations joined.
fn commands_in(path: &str, text: &str) -> Vec<DocCommand> {
    let mut found = Vec::new();
    let mut fence: Option<bool> = None; // Some(whether its lines are commands)
    let mut pending = String::new();
    let mut pending_at = 0;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            fence = match fence {
                None => Some(COMMAND_FENCES.contains(&lang.trim())),
                Some(_) => None,
            };
            continue;
        }
        if fence != Some(true) {
            continue;
        }
        if pending.is_empty() {
            pending_at = n + 1;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let whole = std::mem::take(&mut pending);
        // A workflow step: the shell is what follows `run:`.
        // A workflow step: the shell is what follows `run:`; a GitLab `script:` item is a
        // list entry (`- …`).
        let item = whole.trim_start_matches("- ");
        let (shell, run_line) = match item.strip_prefix("run:") {
            Some(rest) => (rest.trim().to_string(), true),
            None => (item.to_string(), false),
        };
        for args in simple_commands(&shell) {
            let args = match args.first().map(String::as_str) {
                // The binary by name, or by a path ending in it (installed with `--root`).
                Some(w) if w == "muslcheck" || w.ends_with("/muslcheck") => args[1..].to_vec(),
                Some("cargo") if args.get(1).map(String::as_str) == Some("run") => {
                    match args.iter().position(|a| a == "--") {
                        Some(i) => args[i + 1..].to_vec(),
                        None => continue,
                    }
                }
                _ => continue,
            };
            found.push(DocCommand { at: format!("{path}:{pending_at}: {whole}"), args, run_line });
        }
    }
    found
}

/// The simple commands of a shell line, as words: quotes removed; split at `||`, `&&`, `|`, `;`,
/// `&`, `$(`, `)` and backticks; redirections (`>> FILE`, `2>&1`, …) and comments dropped;
/// leading `NAME=value` assignments dropped; workflow expressions (`${{ … }}`) become the
/// placeholder `EXPR`.
fn simple_commands(line: &str) -> Vec<Vec<String>> {
    let mut line = line.to_string();
    while let Some(start) = line.find("${{") {
        let end = line[start..].find("}}").map_or(line.len(), |e| start + e + 2);
        line.replace_range(start..end, "EXPR");
    }
    let mut commands = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut redirect = false; // the next word is a redirection's target
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut Option<String>, redirect: &mut bool, commands: &mut Vec<Vec<String>>| {
        if let Some(w) = word.take() {
            if *redirect {
                *redirect = false;
            } else {
                commands.last_mut().unwrap().push(w);
            }
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            '#' if word.is_none() => break,
            ' ' | '\t' => end_word(&mut word, &mut redirect, &mut commands),
            '>' | '<' => {
                // `2>`: the descriptor is part of the redirection, not a word.
                if word.as_deref().is_some_and(|w| w.chars().all(|d| d.is_ascii_digit())) {
                    word = None;
                }
                end_word(&mut word, &mut redirect, &mut commands);
                while chars.next_if(|&n| n == '>' || n == '&').is_some() {}
                // `>&1` names its target in the same word.
                if chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    while chars.next_if(|d| d.is_ascii_digit()).is_some() {}
                } else {
                    redirect = true;
                }
            }
            '|' | '&' | ';' | '(' | ')' | '`' => {
                end_word(&mut word, &mut redirect, &mut commands);
                while chars.next_if(|&n| n == c).is_some() {}
                commands.push(Vec::new());
            }
            '$' if chars.peek() == Some(&'(') => {
                end_word(&mut word, &mut redirect, &mut commands);
                chars.next();
                commands.push(Vec::new());
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    end_word(&mut word, &mut redirect, &mut commands);
    let assignment = |w: &String| {
        w.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        })
    };
    commands
        .into_iter()
        .map(|words| words.into_iter().skip_while(assignment).collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect()
}

/// A word standing for a value rather than being one: `FILE`, `N`, `K/N`, `EXPR` (a workflow
/// expression), `<report>`, or anything with an ellipsis.
fn is_placeholder(word: &str) -> bool {
    let caps = word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_-/.".contains(c));
    caps || (word.starts_with('<') && word.ends_with('>')) || word.contains('…') || word.contains("...")
}

/// Whether the binary accepts `args` (with `--help`, so nothing runs): `Err` with clap's message
/// otherwise. A value clap refuses that is a placeholder is replaced, by the first of the
/// possible values clap names, else by `1`, and the command tried again.
fn parses(mut args: Vec<String>) -> Result<(), String> {
    loop {
        let mut with_help = args.clone();
        let at = with_help.iter().position(|a| a == "--").unwrap_or(with_help.len());
        with_help.insert(at, "--help".into());
        let out = bin().args(&with_help).env("DOCKER_HOST", NOWHERE).current_dir(root()).output().unwrap();
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let refused = err.split("invalid value '").nth(1).and_then(|s| s.split('\'').next());
        let Some(i) = refused.filter(|v| is_placeholder(v)).and_then(|v| args.iter().position(|a| a == v)) else {
            return Err(err);
        };
        let possible = err.split("[possible values: ").nth(1).and_then(|s| s.split([',', ']']).next());
        args[i] = possible.map_or("1", str::trim).to_string();
    }
}

/// Every `muslcheck` command in README.md and docs/*.md (fenced shell blocks, and the `run:`
/// lines of the CI recipes) parses: its subcommands and flags exist and its values are accepted.
#[test]
fn the_documented_commands_use_commands_and_flags_that_exist() {
    let mut commands = Vec::new();
    for (path, text) in documents() {
        commands.extend(commands_in(&path, &text));
    }
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|c| parses(c.args.clone()).err().map(|e| format!("{}\n  args {:?}\n  {}", c.at, c.args, e.trim())))
        .collect();
    assert!(failures.is_empty(), "documented commands that do not parse:\n{}", failures.join("\n"));
    let in_readme = commands.iter().filter(|c| c.at.starts_with("README.md:")).count();
    let run_lines = commands.iter().filter(|c| c.run_line).count();
    assert!(commands.len() >= 15, "only {} documented commands found: {commands:#?}", commands.len());
    // The three uses (gate, nightly, incident), a command each.
    assert!(in_readme >= 3, "only {in_readme} commands found in README.md");
    assert!(run_lines >= 5, "only {run_lines} commands found in the CI recipes' run: lines");
}

/// The command extraction itself: shell around a command is stripped, placeholders recognised.
#[test]
fn documented_commands_are_extracted_without_the_shell_around_them() {
    let words = |line: &str| simple_commands(line);
    assert_eq!(
        words(r#"muslcheck report diff a.json b.json --format markdown >> "$GITHUB_STEP_SUMMARY""#),
        [["muslcheck", "report", "diff", "a.json", "b.json", "--format", "markdown"]]
    );
    assert_eq!(
        words("muslcheck run --shard ${{ matrix.shard }}/4 --no-progress || test $? -eq 1"),
        [vec!["muslcheck", "run", "--shard", "EXPR/4", "--no-progress"], vec!["test", "$?", "-eq", "1"]]
    );
    assert_eq!(
        words("out=$(RUST_LOG=debug muslcheck gate 'orjson==3.10.*' 2>&1) && echo done # why"),
        [vec!["muslcheck", "gate", "orjson==3.10.*"], vec!["echo", "done"]]
    );
    assert_eq!(words("muslcheck doctor | tee log"), [vec!["muslcheck", "doctor"], vec!["tee", "log"]]);
    let doc = "text\n```sh\n# a comment: muslcheck nothing\nmuslcheck run \\\n  --matrix m.toml\n```\n```toml\nmuslcheck = 1\n```\n```yaml\n      - run: cargo run --release -- gate six\n```\n";
    let found: Vec<Vec<String>> = commands_in("x.md", doc).into_iter().map(|c| c.args).collect();
    assert_eq!(found, [vec!["run", "--matrix", "m.toml"], vec!["gate", "six"]]);
    assert!(is_placeholder("FILE") && is_placeholder("K/N") && is_placeholder("EXPR/4") && is_placeholder("<report>"));
    assert!(!is_placeholder("markdown") && !is_placeholder("matrix/local.toml") && !is_placeholder("2/4"));
}

/// The README leads: it is short, and the reference is in docs/.
#[test]
fn the_readme_is_under_150_lines() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines < 150, "README.md has {lines} lines");
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The headings of a Markdown text (outside fenced code), without their `#`s.
fn headings(text: &str) -> Vec<&str> {
    let mut in_fence = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            found.push(line.trim_start_matches('#').trim());
        }
    }
    found
}

/// The relative link targets of a Markdown text, outside code: `[text](target)` and
/// `[label]: target`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Code spans hold no links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut targets: Vec<&str> = prose.split("](").skip(1).filter_map(|s| s.split(')').next()).collect();
        if let Some(target) =
            prose.trim_start().strip_prefix('[').and_then(|s| s.split_once("]: ")).map(|(_, t)| t.trim())
        {
            targets.push(target);
        }
        for target in targets {
            let target = target.split_whitespace().next().unwrap_or("");
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                links.push(target.to_string());
            }
        }
    }
    links
}

/// Every relative link in README.md and docs/*.md points at a file that exists (and at a heading
/// it has, when it names one), and every docs file is linked from README.md.
#[test]
fn the_documentation_links_point_at_files_that_exist() {
    let mut broken = Vec::new();
    let mut checked = 0;
    let docs = documents();
    for (path, text) in &docs {
        let dir = root().join(path).parent().unwrap().to_path_buf();
        for link in relative_links(text) {
            checked += 1;
            let (file, fragment) = link.split_once('#').map_or((link.as_str(), None), |(f, a)| (f, Some(a)));
            let target = if file.is_empty() { root().join(path) } else { dir.join(file) };
            if !target.exists() {
                broken.push(format!("{path}: {link}: no such file"));
                continue;
            }
            if let Some(fragment) = fragment.filter(|_| target.extension().is_some_and(|e| e == "md")) {
                let text = std::fs::read_to_string(&target).unwrap();
                if !headings(&text).iter().any(|h| anchor(h) == fragment) {
                    broken.push(format!("{path}: {link}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 20, "only {checked} relative links found");
    let readme_links: Vec<String> = relative_links(&docs[0].1);
    for (path, _) in &docs[1..] {
        assert!(
            readme_links.iter().any(|l| l.split('#').next() == Some(path.as_str())),
            "README.md does not link {path}"
        );
    }
}

/// The shipped matrices validate (their smoke scripts exist, inside the matrix directory).
#[test]
fn the_shipped_matrices_are_valid() {
    for m in ["matrix/default.toml", "matrix/local.toml", "matrix/ml.toml"] {
        // `doctor` validates before it contacts the engine: a bad matrix is exit 2 either way.
        let out = bin()
            .args(["doctor", "--matrix", m])
            .env("DOCKER_HOST", "unix:///nonexistent/muslcheck-test.sock")
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{m}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_selection_that_can_block_nothing_or_compare_nothing_is_refused_before_the_engine() {
    offline()
        .args(["run", "--matrix", "tests/fixtures/small.toml", "--base", "musl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--base selects one base (musl)"));
    let d = tempfile::tempdir().unwrap();
    let m = write(
        d.path(),
        "m.toml",
        "[[base]]\nname = \"glibc\"\nimage = \"g\"\n\n[[base]]\nname = \"musl\"\nimage = \"m\"\nrequired = false\n\n[[base]]\nname = \"musl2\"\nimage = \"m2\"\nrequired = false\n\n[[dependency]]\nrequirement = \"six\"\n",
    );
    for cmd in [&["run"][..], &["gate", "six"][..]] {
        offline()
            .args(cmd)
            .args(["--matrix", &m, "--base", "musl", "--base", "musl2"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--base selects no required base (musl, musl2)"));
    }
    // An empty smoke script runs nothing and would pass everywhere: refused where it is named.
    write(d.path(), "empty.py", " \n\n");
    let m = write(
        d.path(),
        "smoke.toml",
        "[[base]]\nname = \"glibc\"\nimage = \"g\"\n\n[[base]]\nname = \"musl\"\nimage = \"m\"\n\n[[dependency]]\nrequirement = \"six\"\nsmoke = \"empty.py\"\n",
    );
    offline()
        .args(["run", "--matrix", &m])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("smoke.toml:11:9: `smoke`:").and(predicate::str::contains("is empty")));
    let empty = d.path().join("empty.py");
    offline()
        .args(["gate", "six", "--matrix", "tests/fixtures/small.toml", "--smoke"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is empty"));
}
