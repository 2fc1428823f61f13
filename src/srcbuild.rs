//! What each source build of a pip run took, and why one failed, read from pip's own log file
//! (`pip install --log`): every line there carries a timestamp, and pip marks each step of
//! building an sdist ("Installing build dependencies", "Getting requirements to build wheel",
//! "Preparing metadata", "Building wheel for X") with `started` and `finished with status …`.
//! A build's time is the sum of its steps' spans; a failed one is named with the first line of
//! its output that a compiler, a linker or a build backend wrote to say why.

use crate::model::SourceBuild;

/// A log line: its time (seconds since the day began: pip runs do not span days usefully, and
/// a span over midnight is corrected below) and its text with the indentation kept.
fn split(line: &str) -> Option<(f64, &str)> {
    // 2026-12-01T10:29:06,644 text
    let (stamp, text) = line.split_once(' ')?;
    let time = stamp.split_once('T')?.1;
    let (hms, millis) = time.split_once(',').unwrap_or((time, "0"));
    let mut parts = hms.split(':').map(|p| p.parse::<f64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let ms: f64 = millis.parse().ok()?;
    Some((h * 3600.0 + m * 60.0 + s + ms / 1000.0, text))
}

/// pip's log file as its console would show it: each line without its timestamp.
pub fn untimed(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        out.push_str(split(line).map(|(_, t)| t).unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The steps pip runs for an sdist, as the log names them (two spaces in, under "Collecting").
const STEPS: &[&str] = &[
    "Installing build dependencies: ",
    "Getting requirements to build wheel: ",
    "Getting requirements to build editable: ",
    "Preparing metadata (pyproject.toml): ",
    "Preparing metadata (setup.py): ",
    "Installing backend dependencies: ",
];

/// The source builds of a pip run, in the order pip started them.
pub fn parse(log: &str) -> Vec<SourceBuild> {
    let mut builds: Vec<SourceBuild> = vec![];
    let mut first_line: Vec<usize> = vec![]; // per build: where its output starts
    let mut current: Option<usize> = None; // the sdist whose steps follow
    let mut started: Option<(usize, f64)> = None;
    let lines: Vec<(f64, &str)> = log.lines().filter_map(split).collect();
    for (i, (t, text)) in lines.iter().enumerate() {
        let trimmed = text.trim_start();
        let indent = text.len() - trimmed.len();
        if indent == 0 && trimmed.starts_with("Collecting ") {
            current = None;
        }
        // The sdist being collected: "  Downloading x-1.0.tar.gz (172 kB)", "  Using cached …",
        // or a local file ("Processing ./x-1.0.tar.gz").
        if indent <= 2 {
            let rest = trimmed
                .strip_prefix("Downloading ")
                .or_else(|| trimmed.strip_prefix("Using cached "))
                .or_else(|| trimmed.strip_prefix("Processing "));
            if let Some(rest) = rest {
                let file = rest.split_whitespace().next().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
                // A wheel tagged plain `linux_<arch>` is one pip built here before and cached.
                let built_before = trimmed.starts_with("Using cached ")
                    && file.ends_with(".whl")
                    && file.rsplit('-').next().is_some_and(|p| p.starts_with("linux_"));
                if built_before {
                    builds.push(SourceBuild {
                        distribution: crate::dist::normalise_name(file.split('-').next().unwrap_or("")),
                        file,
                        ok: true,
                        secs: 0.0,
                        error: None,
                        from_cache: true,
                    });
                    first_line.push(i);
                    current = None;
                } else if crate::dist::classify(&file) == crate::dist::Source::Sdist {
                    builds.push(SourceBuild {
                        distribution: crate::dist::normalise_name(crate::dist::sdist_name(&file).0),
                        file,
                        ok: true,
                        secs: 0.0,
                        error: None,
                        from_cache: false,
                    });
                    first_line.push(i);
                    current = Some(builds.len() - 1);
                } else if indent == 2 {
                    current = None;
                }
            }
        }
        // Which build a step belongs to: the sdist being collected, or the one it names.
        let (step, owner) = if let Some(rest) = trimmed.strip_prefix("Building wheel for ") {
            let name = crate::dist::normalise_name(rest.split_whitespace().next().unwrap_or(""));
            (Some(rest), builds.iter().rposition(|b| b.distribution == name))
        } else {
            (STEPS.iter().find_map(|s| trimmed.strip_prefix(s)), current)
        };
        let (Some(step), Some(b)) = (step, owner) else { continue };
        if step.ends_with("started") {
            started = Some((b, *t));
        } else if let Some(status) = step.split("finished with status '").nth(1) {
            if let Some((sb, t0)) = started.take().filter(|(sb, _)| *sb == b) {
                let mut d = t - t0;
                if d < 0.0 {
                    d += 86_400.0;
                }
                builds[sb].secs += d;
            }
            if !status.starts_with("done") {
                builds[b].ok = false;
                let from = first_line[b];
                builds[b].error = Some(
                    first_error(lines[from..=i].iter().map(|(_, l)| *l)).unwrap_or_else(|| format!("pip: {}", trimmed)),
                );
            }
        }
    }
    builds
}

/// The source builds of a uv run, from the driver's timestamped log of uv's output: uv says
/// `Building X==V` when it starts a build, `Built X==V` when it is done, and
/// `× Failed to build `X==V`` (then the backend's output) when it is not. A wheel uv built
/// before and took from its cache is in the driver's report (`built_before`), not here.
pub fn parse_uv(log: &str) -> Vec<SourceBuild> {
    let lines: Vec<(f64, &str)> = log.lines().filter_map(split).collect();
    let mut builds: Vec<SourceBuild> = vec![];
    let mut started: Vec<f64> = vec![];
    let pin = |rest: &str| -> Option<(String, String)> {
        let (n, v) = rest.trim().trim_matches('`').split_once("==")?;
        Some((
            crate::dist::normalise_name(n),
            v.split_whitespace().next().unwrap_or("").trim_end_matches('`').to_string(),
        ))
    };
    for (i, (t, text)) in lines.iter().enumerate() {
        let trimmed = text.trim();
        if let Some((name, version)) = trimmed.strip_prefix("Building ").and_then(pin) {
            builds.push(SourceBuild {
                file: format!("{}-{version}.tar.gz", name.replace('-', "_")),
                distribution: name,
                ok: true,
                secs: 0.0,
                error: None,
                from_cache: false,
            });
            started.push(*t);
        } else if let Some((name, _)) = trimmed.strip_prefix("Built ").and_then(pin) {
            if let Some(b) = builds.iter().rposition(|b| b.distribution == name) {
                let mut d = t - started[b];
                if d < 0.0 {
                    d += 86_400.0;
                }
                builds[b].secs = d;
            }
        } else if let Some((name, _)) = trimmed.strip_prefix("× Failed to build ").and_then(pin) {
            if let Some(b) = builds.iter().rposition(|b| b.distribution == name) {
                let mut d = t - started[b];
                if d < 0.0 {
                    d += 86_400.0;
                }
                builds[b].secs = d;
                builds[b].ok = false;
                builds[b].error = Some(
                    first_error(lines[i..].iter().map(|(_, l)| *l))
                        .unwrap_or_else(|| format!("uv: {}", trimmed.trim_start_matches("× "))),
                );
            }
        }
    }
    builds
}

/// What a compiler, a linker or a build backend writes to say why it stopped, most telling
/// first: the first pattern found anywhere in the build's output decides the line shown (a
/// backend probing for tools prints "No such file or directory" for each one it lacks before
/// saying which it could not do without).
const TOOL_ERRORS: &[&str] = &[
    "fatal error:",
    ": error:",
    ": ERROR:",
    "Unknown compiler(s)",
    "Unknown linker(s)",
    "cannot find -l",
    "unable to find library",
    "undefined reference to",
    "Dependency \"",
    // ninja's line for the step that failed, when the tool said nothing in a known form.
    "FAILED: ",
    "can't find Rust compiler",
    "command not found",
    "No such file or directory: '",
];

/// pip's own lines about a failed step, which say that it failed and not why.
fn pips_own(l: &str) -> bool {
    l.contains("subprocess-exited-with-error")
        || l.starts_with("ERROR: Failed")
        || l.starts_with("error: metadata-generation-failed")
        || l.starts_with("ERROR: Could not build wheels")
        || l.contains("exit code:")
}

/// The first line that says why a build failed: a compiler or linker message, else the first
/// `error:` line of the backend's output that is not pip's own.
pub fn first_error<'a>(lines: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let clean = |l: &str| l.trim().trim_start_matches("│").trim().to_string();
    let tool = TOOL_ERRORS.iter().find_map(|p| lines.clone().map(clean).find(|l| !pips_own(l) && l.contains(p)));
    tool.or_else(|| {
        lines
            .map(clean)
            .find(|l| !pips_own(l) && (l.starts_with("error:") || l.starts_with("ERROR:") || l.starts_with("Error:")))
    })
    .map(|l| l.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uv_build_is_timed_and_a_failed_one_named_by_its_backends_error() {
        let log = "\
2026-12-03T10:00:00,000 installer: uv 0.9.9
2026-12-03T10:00:01,000    Building lzx==1.0
2026-12-03T10:00:01,500    Building okx==2.0
2026-12-03T10:00:03,500       Built okx==2.0
2026-12-03T10:00:04,250   × Failed to build `lzx==1.0`
2026-12-03T10:00:04,250   ├─▶ The build backend returned an error
2026-12-03T10:00:04,250   ╰─▶ Call to `backend.build_wheel` failed (exit status: 1)
2026-12-03T10:00:04,250       [stderr]
2026-12-03T10:00:04,250       error: command 'cc' failed: No such file or directory
";
        let b = parse_uv(log);
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!((b[0].distribution.as_str(), b[0].file.as_str(), b[0].ok), ("lzx", "lzx-1.0.tar.gz", false));
        assert!((b[0].secs - 3.25).abs() < 1e-6, "{b:?}");
        assert_eq!(b[0].error.as_deref(), Some("error: command 'cc' failed: No such file or directory"));
        assert!(b[1].ok && (b[1].secs - 2.0).abs() < 1e-6, "{b:?}");
    }

    const FAILED: &str = "\
2026-12-01T10:29:06,644 Collecting lz4==4.4.5
2026-12-01T10:29:06,666   Downloading lz4-4.4.5.tar.gz (172 kB)
2026-12-01T10:29:06,698   Installing build dependencies: started
2026-12-01T10:29:07,934     Downloading setuptools-84.2.1-py3-none-any.whl (876 kB)
2026-12-01T10:29:08,474   Installing build dependencies: finished with status 'done'
2026-12-01T10:29:08,475   Getting requirements to build wheel: started
2026-12-01T10:29:09,317   Getting requirements to build wheel: finished with status 'done'
2026-12-01T10:29:09,319   Preparing metadata (pyproject.toml): started
2026-12-01T10:29:10,176   Preparing metadata (pyproject.toml): finished with status 'done'
2026-12-01T10:29:10,180 Collecting six (from lz4)
2026-12-01T10:29:10,181   Using cached six-1.17.0-py2.py3-none-any.whl (11 kB)
2026-12-01T10:29:10,182 Building wheels for collected packages: lz4
2026-12-01T10:29:10,182   Building wheel for lz4 (pyproject.toml): started
2026-12-01T10:29:10,600   error: subprocess-exited-with-error
2026-12-01T10:29:10,843   error: [Errno 2] No such file or directory: '/opt/musl/bin/cc-musl'
2026-12-01T10:29:10,879   Building wheel for lz4 (pyproject.toml): finished with status 'error'
2026-12-01T10:29:10,936 ERROR: Failed to build installable wheels for some pyproject.toml based projects (lz4)
";

    #[test]
    fn a_failed_build_is_timed_and_named_by_its_compiler_error() {
        let b = parse(FAILED);
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(b[0].distribution, "lz4");
        assert_eq!(b[0].file, "lz4-4.4.5.tar.gz");
        assert!(!b[0].ok);
        // 1.776 + 0.842 + 0.857 + 0.697
        assert!((b[0].secs - 4.172).abs() < 0.01, "{}", b[0].secs);
        assert_eq!(b[0].error.as_deref(), Some("error: [Errno 2] No such file or directory: '/opt/musl/bin/cc-musl'"));
    }

    #[test]
    fn a_successful_build_and_a_wheel_next_to_it() {
        let log = FAILED
            .replace("finished with status 'error'", "finished with status 'done'")
            .replace("2026-12-01T10:29:10,879", "2026-12-01T10:29:40,182");
        let b = parse(&log);
        assert_eq!(b.len(), 1);
        assert!(b[0].ok && b[0].error.is_none());
        assert!((b[0].secs - 33.475).abs() < 0.01, "{}", b[0].secs);
    }

    #[test]
    fn missing_headers_and_libraries_are_the_line_shown() {
        let log = "\
2026-12-01T10:00:00,000 Collecting mcx
2026-12-01T10:00:00,100   Downloading mcx-1.0.tar.gz (1 kB)
2026-12-01T10:00:01,000 Building wheel for mcx (setup.py): started
2026-12-01T10:00:01,500   error: subprocess-exited-with-error
2026-12-01T10:00:01,600   mcx.c:2:10: fatal error: 'zstd.h' file not found
2026-12-01T10:00:01,700   error: command '/usr/local/bin/cc' failed with exit code 1
2026-12-01T10:00:02,000 Building wheel for mcx (setup.py): finished with status 'error'
";
        let b = parse(log);
        assert_eq!(b[0].error.as_deref(), Some("mcx.c:2:10: fatal error: 'zstd.h' file not found"));
        let ld = log.replace(
            "mcx.c:2:10: fatal error: 'zstd.h' file not found",
            "ld.lld: error: unable to find library -lzstd",
        );
        assert_eq!(parse(&ld)[0].error.as_deref(), Some("ld.lld: error: unable to find library -lzstd"));
    }

    #[test]
    fn a_wheel_pip_built_before_is_a_build_not_paid() {
        let log = "2026-12-01T10:00:00,000 Collecting lz4==4.4.5 (from -r r.txt (line 1))\n2026-12-01T10:00:00,100   Using cached lz4-4.4.5-cp313-cp313-linux_x86_64.whl\n";
        let b = parse(log);
        assert_eq!(b.len(), 1);
        assert!(b[0].from_cache && b[0].ok && b[0].secs == 0.0);
        assert_eq!((b[0].distribution.as_str(), b[0].file.as_str()), ("lz4", "lz4-4.4.5-cp313-cp313-linux_x86_64.whl"));
        // A wheel from the index is not a build at all.
        assert!(parse(&log.replace("linux_x86_64", "manylinux_2_28_x86_64")).is_empty());
    }

    #[test]
    fn a_backend_probing_for_tools_is_named_by_what_it_could_not_do_without() {
        let log = "\
2026-12-01T10:00:00,000 Collecting mcz
2026-12-01T10:00:00,100   Downloading mcz-1.0.tar.gz (1 kB)
2026-12-01T10:00:00,200   Preparing metadata (pyproject.toml): started
2026-12-01T10:00:00,300   Running `llvm-ar-22 --version` gave \"[Errno 2] No such file or directory: 'llvm-ar-22'\"
2026-12-01T10:00:00,400   ../meson.build:1:0: ERROR: Unknown linker(s): [['llvm-ar-22'], ['llvm-ar'], ['ar'], ['gar']]
2026-12-01T10:00:00,500   Preparing metadata (pyproject.toml): finished with status 'error'
";
        assert_eq!(
            parse(log)[0].error.as_deref(),
            Some("../meson.build:1:0: ERROR: Unknown linker(s): [['llvm-ar-22'], ['llvm-ar'], ['ar'], ['gar']]")
        );
    }

    #[test]
    fn a_log_without_source_builds_has_none() {
        let log = "2026-12-01T10:00:00,000 Collecting six\n2026-12-01T10:00:00,100   Downloading six-1.17.0-py2.py3-none-any.whl (11 kB)\n";
        assert!(parse(log).is_empty());
        assert!(parse("not a log at all\n\n").is_empty());
    }

    #[test]
    fn a_failure_that_says_nothing_specific_keeps_pips_line() {
        let log = "\
2026-12-01T10:00:00,000 Collecting mcy
2026-12-01T10:00:00,100   Downloading mcy-1.0.tar.gz (1 kB)
2026-12-01T10:00:00,200   Preparing metadata (pyproject.toml): started
2026-12-01T10:00:00,300   Preparing metadata (pyproject.toml): finished with status 'error'
";
        let b = parse(log);
        assert!(!b[0].ok);
        assert_eq!(
            b[0].error.as_deref(),
            Some("pip: Preparing metadata (pyproject.toml): finished with status 'error'")
        );
    }
}
