//! A job image: the requirements installed by the base's installer (pip, or uv through its
//! driver) on a prep image, or a cached one reused while the index still serves what it
//! resolved.

use std::collections::HashMap;
use std::time::Instant;

use super::pip::{
    deterministic_failure, disk_full, files_from_log, last_error_line, parse_pip_report, resolution_conflict,
    unreachable_index,
};
use super::{BuildInputs, BuildRecord, Freshness, JobBuild, VENV_PYTHON};
use crate::engine::{tar_of, Engine, EngineError, Mount, RunSpec, Sandbox};
use crate::matrix::{Installer, Requirement};
use crate::model::{BuildOutcome, Distribution};
use crate::text::tail;

const STATE_DIR: &str = "/opt/muslcheck";
/// The build container's own volume: the CA bundle and pip's log.
const SCRATCH: &str = "/run/muslcheck";
const CA_FILE: &str = "ca.pem";
const CA_PATH: &str = "/run/muslcheck/ca.pem";
const PIP_CACHE: &str = "/var/cache/muslcheck/pip";
/// Where pip writes its timestamped log.
const LOG_PATH: &str = "/run/muslcheck/pip.log";
/// pip's log is read back up to this size (a source build's compiler lines can be many).
const MAX_LOG: usize = 64 << 20;
const LOG_TAIL: usize = 6000;

/// The requirements file pip reads: one validated requirement a line, with its hashes.
fn requirements_file(reqs: &[Requirement]) -> String {
    reqs.iter()
        .map(|r| format!("{}{}\n", r.text, r.hashes.iter().map(|h| format!(" --hash={h}")).collect::<String>()))
        .collect()
}

/// The job image's tag: a hash of what went into it: the prep image's own content key (its
/// tag), the requirements and the index they were resolved from. Not the prep image's id, which
/// changes on every rebuild (its labels name the run that built it).
pub fn job_tag(prep_tag: &str, reqs: &[Requirement], constraints: &[Requirement], index_url: Option<&str>) -> String {
    format!(
        "muslcheck/job:{}",
        crate::key::key(&[
            &crate::identity::recipe(),
            prep_tag,
            &requirements_file(reqs),
            index_url.unwrap_or(""),
            &requirements_file(constraints)
        ])
    )
}

/// Installs the requirement on the prep image, or reuses the cached job image.
pub async fn build_job(engine: &Engine, inp: &BuildInputs<'_>) -> Result<JobBuild, EngineError> {
    let tag = job_tag(inp.prep_tag, inp.requirements, inp.constraints, inp.index_url);
    let mut why_built = match reuse(engine, inp, &tag).await? {
        Ok(reused) => return Ok(reused),
        Err(why_built) => why_built,
    };
    // Containers are made from a hold of this run's: see `Engine::hold`.
    let prep = engine.hold(inp.prep_tag).await?;
    let uv = inp.base.installer == Installer::Uv;
    let mut spec = RunSpec::new(
        &prep,
        if uv {
            uv_command(inp)
        } else {
            vec![
                VENV_PYTHON.into(),
                "-m".into(),
                "pip".into(),
                "install".into(),
                "--no-input".into(),
                "--progress-bar".into(),
                "off".into(),
                "--report".into(),
                format!("{STATE_DIR}/pip-report.json"),
                "-r".into(),
                format!("{STATE_DIR}/requirements.txt"),
            ]
        },
        "build",
    );
    // A locked requirement (with hashes) puts pip in hash-checking mode for the whole run, as
    // pip itself would for a file with hashes; constraints go in a file of their own.
    if !uv && inp.requirements.iter().any(|r| !r.hashes.is_empty()) {
        spec.cmd.push("--require-hashes".into());
    }
    if !uv && !inp.constraints.is_empty() {
        spec.cmd.push("-c".into());
        spec.cmd.push(format!("{STATE_DIR}/constraints.txt"));
    }
    spec.sandbox = Sandbox::build();
    spec.user = Some("0".into());
    spec.timeout = inp.timeout;
    spec.max_output = 64 << 20;
    spec.keep = true;
    spec.env = vec![
        "PIP_DISABLE_PIP_VERSION_CHECK=1".into(),
        "PIP_ROOT_USER_ACTION=ignore".into(),
        format!("PIP_CACHE_DIR={PIP_CACHE}"),
        "PYTHONDONTWRITEBYTECODE=1".into(),
    ];
    if let Some(url) = inp.index_url {
        spec.env.push(format!("PIP_INDEX_URL={url}"));
        if uv {
            spec.env.push(format!("UV_INDEX_URL={url}"));
        }
    }
    if uv {
        // uv's cache beside pip's in the base's cache volume; no configuration file of the
        // image, no Python downloads: the base's interpreter is the one gated.
        spec.env.extend([
            format!("UV_CACHE_DIR={PIP_CACHE}/uv"),
            "UV_NO_CONFIG=1".to_string(),
            "UV_PYTHON_DOWNLOADS=never".to_string(),
            "UV_LINK_MODE=copy".to_string(),
            "NO_COLOR=1".to_string(),
        ]);
    }
    spec.extra_hosts = inp.extra_hosts.to_vec();
    // pip's cache is an engine-side volume per base: it outlives the run, and works wherever
    // the engine is (nothing of this machine's filesystem is mounted into a build).
    if let Some(name) = inp.pip_cache {
        spec.mounts.push(Mount::Volume { name: Some(format!("{name}-{}", inp.base.name)), target: PIP_CACHE.into() });
    }
    // What the build needs and must not leave in the committed image (the CA bundle, pip's
    // timestamped log, which with every compiler line can be far larger than the output kept)
    // is in a volume of the container's own: never part of a commit, removed with it.
    spec.mounts.push(Mount::Volume { name: None, target: SCRATCH.into() });
    // pip's own log file, every line timestamped: what each source build took; read back
    // through the engine after the run, so it is timed on any engine. (uv's driver writes one.)
    if !uv {
        spec.cmd.extend(["--log".to_string(), LOG_PATH.to_string()]);
    }
    let mut scratch: Vec<(&str, &[u8])> = vec![];
    if uv {
        scratch.push((DRIVER_FILE, super::uv::DRIVER.as_bytes()));
    }
    let ca;
    if let Some(path) = inp.ca_bundle {
        // Read here and handed over through the engine: the engine may not see this path.
        ca = read_ca_bundle(path)?;
        scratch.push((CA_FILE, ca.as_slice()));
        spec.env.push(format!("PIP_CERT={CA_PATH}"));
        spec.env.push(format!("SSL_CERT_FILE={CA_PATH}"));
    }
    if !scratch.is_empty() {
        spec.uploads.push((SCRATCH.into(), tar_of(&scratch)));
    }
    let reqs = requirements_file(inp.requirements);
    let constraints = requirements_file(inp.constraints);
    spec.uploads.push((
        STATE_DIR.into(),
        tar_of(&[("requirements.txt", reqs.as_bytes()), ("constraints.txt", constraints.as_bytes())]),
    ));
    let started = Instant::now();
    let out = engine.run(&spec).await?;
    let container = out.container.clone().expect("kept container");
    let result = async {
        // pip's own log file has what its console output leaves out when a build step fails
        // ("See above for output" with nothing above: the backend's own lines, such as a
        // missing compiler): the failure is classified, and the install log kept, from both.
        let timed_log = match engine.read_file(&container, LOG_PATH, MAX_LOG).await {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(None) => String::new(),
            Err(e) => {
                tracing::warn!("no source-build timings: cannot read pip's log: {e}");
                String::new()
            }
        };
        let mut source_builds =
            if uv { crate::srcbuild::parse_uv(&timed_log) } else { crate::srcbuild::parse(&timed_log) };
        let console = format!("{}{}", out.stdout, out.stderr);
        let log = if out.exit_code == Some(0) || timed_log.is_empty() {
            console.clone()
        } else {
            format!(
                "{console}\n---- pip's log file (--log), without its timestamps ----\n{}",
                crate::srcbuild::untimed(&timed_log)
            )
        };
        let (outcome, error) = classify(inp.base.installer, &out, &log, &console, inp.timeout, inp.index_url);
        let mut installer = None;
        let distributions = if outcome == BuildOutcome::Installed {
            match engine.read_file(&container, &format!("{STATE_DIR}/pip-report.json"), 16 << 20).await? {
                Some(bytes) => {
                    installer = installer_of(&bytes);
                    source_builds.extend(built_before(&bytes));
                    parse_pip_report(&bytes).map_err(|e| EngineError::other("failed to read pip's report", e))?
                }
                None => vec![],
            }
        } else {
            // No report when pip fails: what it downloaded still says whether it went for an
            // sdist (a source build) or a wheel.
            files_from_log(&console)
        };
        let (outcome, error) = match (outcome, not_applicable(inp.requirements, &distributions, &console)) {
            (BuildOutcome::Installed, Some(why)) => (BuildOutcome::NotApplicable, Some(why)),
            other => (other.0, error),
        };
        // A failure whose cause is a fact of the inputs (no compiler in the base, nothing on the
        // index for it) is kept like a success; any other may be passing, and is observed again.
        let failure_cause = match outcome {
            BuildOutcome::InstallFailed if uv && super::uv::not_found(&console) => {
                Some("no matching distribution on the index")
            }
            BuildOutcome::InstallFailed => deterministic_failure(&log),
            _ => None,
        };
        // Said by the installer itself: pip's report, uv's driver's first line.
        let installer = installer
            .or_else(|| console.lines().find_map(|l| l.strip_prefix("installer: ")).map(|v| v.trim().to_string()));
        let keep = outcome == BuildOutcome::Installed || failure_cause.is_some();
        let (index_state, unchecked) = match keep {
            false => (Default::default(), None),
            true => match states(inp, &distributions).await {
                Ok(s) => (s, None),
                Err(e) => (Default::default(), Some(e)),
            },
        };
        if let Some(e) = &unchecked {
            why_built = format!(
                "{why_built}; unchecked: the index could not be asked after the build ({e}), asked again next run"
            );
        }
        let record = BuildRecord {
            source_builds,
            outcome,
            exit_code: out.exit_code,
            secs: started.elapsed().as_secs_f64(),
            distributions,
            log_tail: tail(&console, LOG_TAIL),
            error,
            index_state,
            unchecked,
            failure_cause: failure_cause.map(str::to_string),
            installer,
        };
        let image = if !keep {
            None
        } else {
            let json = serde_json::to_vec_pretty(&record).expect("serialising a build record");
            engine
                .upload(&container, STATE_DIR, tar_of(&[("build.json", &json), ("install.log", log.as_bytes())]))
                .await?;
            let labels =
                HashMap::from([("io.muslcheck.requirements".to_string(), reqs.trim_end().replace('\n', "; "))]);
            let staging = engine.staging_tag(&tag);
            engine.commit(&container, &staging, "job", labels).await?;
            engine.promote(&staging, &tag).await?;
            // A kept failure has no image to probe.
            (outcome == BuildOutcome::Installed).then(|| tag.clone())
        };
        Ok(JobBuild { record, image, cached: false, log, reuse: why_built })
    }
    .await;
    engine.remove_container(&container).await;
    result
}

/// The cached job image, when there is one and it still holds (`Ok`), or why the job is built
/// (`Err`).
async fn reuse(engine: &Engine, inp: &BuildInputs<'_>, tag: &str) -> Result<Result<JobBuild, String>, EngineError> {
    let mut why_built = if inp.no_cache {
        "built: --no-cache".to_string()
    } else if inp.freshness == Freshness::Refresh {
        "built: --refresh".to_string()
    } else {
        "built: not in the cache".to_string()
    };
    if !inp.no_cache && inp.freshness != Freshness::Refresh && engine.image(tag).await?.is_some() {
        if let Some(mut record) = read_record(engine, tag).await? {
            // An image cached by a version that did not know about markers says "installed"
            // with nothing installed: its log says what happened.
            if record.outcome == BuildOutcome::Installed {
                if let Some(why) = not_applicable(inp.requirements, &record.distributions, &record.log_tail) {
                    record.outcome = BuildOutcome::NotApplicable;
                    record.error = Some(why);
                    return Ok(Ok(JobBuild {
                        record,
                        image: None,
                        cached: true,
                        log: String::new(),
                        reuse: "reused: not applicable".into(),
                    }));
                }
            }
            match still_holds(&record, inp).await {
                Ok(reuse) => {
                    let image = (record.outcome == BuildOutcome::Installed).then(|| tag.to_string());
                    let reuse = match &record.failure_cause {
                        Some(c) => format!("{reuse}; the failure is a fact of its inputs ({c})"),
                        None => reuse,
                    };
                    return Ok(Ok(JobBuild { record, image, cached: true, log: String::new(), reuse }));
                }
                Err(moved) => why_built = format!("rebuilt: {moved}"),
            }
        }
    }
    Ok(Err(why_built))
}

/// Where uv's driver is put in the build container (the scratch volume: not in the image).
const DRIVER_FILE: &str = "uv_install.py";

/// The uv install as the driver runs it: uv installs into the virtualenv, from the same
/// requirements and constraints files pip would read, with hashes checked when there are any.
fn uv_command(inp: &BuildInputs<'_>) -> Vec<String> {
    let mut cmd: Vec<String> = [
        VENV_PYTHON,
        &format!("{SCRATCH}/{DRIVER_FILE}"),
        LOG_PATH,
        &format!("{STATE_DIR}/pip-report.json"),
        &format!("{STATE_DIR}/requirements.txt"),
        "--",
        &super::uv::binary(),
        "pip",
        "install",
        "--python",
        VENV_PYTHON,
        "--no-progress",
        "-r",
        &format!("{STATE_DIR}/requirements.txt"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if inp.requirements.iter().any(|r| !r.hashes.is_empty()) {
        cmd.push("--require-hashes".into());
    }
    if !inp.constraints.is_empty() {
        cmd.extend(["-c".to_string(), format!("{STATE_DIR}/constraints.txt")]);
    }
    cmd
}

/// The installer and its version, from the report: pip's `pip_version`, the uv driver's
/// `installer`.
fn installer_of(report: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(report).ok()?;
    v["installer"].as_str().map(str::to_string).or_else(|| v["pip_version"].as_str().map(|p| format!("pip {p}")))
}

/// What the uv driver's report says uv took from its cache, built here before: a source build
/// not paid in this run (pip's log says the same for pip; see `srcbuild`).
fn built_before(report: &[u8]) -> Vec<crate::model::SourceBuild> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(report) else { return vec![] };
    v["install"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["built_before"].as_bool() == Some(true))
        .map(|e| crate::model::SourceBuild {
            distribution: crate::dist::normalise_name(e["metadata"]["name"].as_str().unwrap_or("")),
            file: e["download_info"]["url"].as_str().unwrap_or("").to_string(),
            ok: true,
            secs: 0.0,
            error: None,
            from_cache: true,
        })
        .collect()
}

/// What a finished install was: its outcome and, unless it installed, why. The harness's own
/// infrastructure failing (the disk, TLS to the index) is never the dependency's finding.
fn classify(
    installer: Installer,
    out: &crate::engine::RunOutput,
    log: &str,
    console: &str,
    timeout: std::time::Duration,
    index_url: Option<&str>,
) -> (BuildOutcome, Option<String>) {
    if out.timed_out {
        (BuildOutcome::Timeout, Some(format!("pip did not finish within {} s", timeout.as_secs())))
    } else if out.output_truncated {
        (BuildOutcome::InstallFailed, Some("pip printed more than 64 MiB; stopped".to_string()))
    } else if out.oom_killed {
        (BuildOutcome::InstallFailed, Some("pip was killed for exceeding the memory limit".to_string()))
    } else if out.exit_code == Some(0) {
        (BuildOutcome::Installed, None)
    } else if installer == Installer::Uv {
        classify_uv(log, console, index_url)
    } else if let Some(line) = disk_full(log) {
        // Not the dependency's fault: the harness's own infrastructure failed.
        (BuildOutcome::InfraError, Some(format!("disk full while installing: {line}")))
    } else if log.contains("CERTIFICATE_VERIFY_FAILED") {
        // Nor is an index whose certificate pip cannot verify: a configuration problem of
        // this machine or network, the same for every dependency.
        (BuildOutcome::InfraError, Some(last_error_line(console)))
    } else if let Some(why) = unreachable_index(console, index_url) {
        // Nor an index pip cannot connect to: "No matching distribution" after refused
        // connections says nothing about the dependency.
        (BuildOutcome::InfraError, Some(why))
    } else if let Some(why) = resolution_conflict(console) {
        // The requirements contradict each other: an answer about them, not a failure to
        // fetch or build something.
        (BuildOutcome::Conflict, Some(why))
    } else {
        (BuildOutcome::InstallFailed, Some(last_error_line(console)))
    }
}

/// A failed uv run, read as a failed pip run is: the harness's infrastructure first, then a
/// conflict, then the install's own failure.
fn classify_uv(log: &str, console: &str, index_url: Option<&str>) -> (BuildOutcome, Option<String>) {
    use super::uv;
    if let Some(line) = disk_full(log) {
        (BuildOutcome::InfraError, Some(format!("disk full while installing: {line}")))
    } else if uv::tls(console) {
        (BuildOutcome::InfraError, Some(uv::error_line(console)))
    } else if let Some(why) = uv::unreachable(console, index_url) {
        (BuildOutcome::InfraError, Some(why))
    } else if let Some(why) = uv::conflict(console) {
        (BuildOutcome::Conflict, Some(why))
    } else {
        (BuildOutcome::InstallFailed, Some(uv::error_line(console)))
    }
}

/// The CA bundle's bytes, for the build container (the path was checked when the settings
/// were made; read again, capped, here).
fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<u8>, EngineError> {
    crate::input::read_text(path, crate::input::MAX_DATA)
        .map(String::into_bytes)
        .map_err(|e| EngineError::other(format!("failed to read the CA bundle {}", path.display()), e.to_string()))
}

/// The index's state of every distribution of a resolution, or why it could not be had.
async fn states(
    inp: &BuildInputs<'_>,
    dists: &[Distribution],
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let Some(index) = inp.index.cloned() else { return Err("the index cannot be asked".into()) };
    let names: Vec<String> = dists.iter().map(|d| d.name.clone()).collect();
    tokio::task::spawn_blocking(move || names.into_iter().map(|n| index.project_state(&n).map(|s| (n, s))).collect())
        .await
        .map_err(|e| format!("asking the index: {e}"))?
}

/// Whether a cached job's resolution still holds: `Ok(why it is reused)`, or `Err(what moved)`.
/// Every distribution it installed must have the state it had on the index when it was built;
/// a job built without a recorded state, or an index that cannot be asked now, is reused and
/// says so (an unreachable index is no reason to throw away what was observed).
async fn still_holds(record: &BuildRecord, inp: &BuildInputs<'_>) -> Result<String, String> {
    if inp.freshness == Freshness::Offline {
        return Ok("reused: --offline, the index was not asked".into());
    }
    if record.index_state.is_empty() && record.unchecked.is_none() {
        return Ok("reused: no index state was recorded when it was built (not checked)".into());
    }
    judge(record, states(inp, &record.distributions).await)
}

/// The reuse decision from what the index says now: a job whose check failed after its build
/// (`unchecked`) is built again once the index answers, and stays unchecked while it does not.
fn judge(
    record: &BuildRecord,
    now: Result<std::collections::BTreeMap<String, String>, String>,
) -> Result<String, String> {
    let now = match (now, &record.unchecked) {
        (Err(e), Some(before)) => {
            return Ok(format!(
                "reused, unchecked: the index could not be asked after the build ({before}) nor now ({e})"
            ))
        }
        (Err(e), None) => return Ok(format!("reused, unchecked: the index could not be asked ({e})")),
        (Ok(_), Some(before)) => {
            return Err(format!("the index could not be asked after the build ({before}), so it was never checked"))
        }
        (Ok(s), None) => s,
    };
    let moved: Vec<String> =
        record.index_state.iter().filter(|(d, s)| now.get(*d) != Some(*s)).map(|(d, _)| d.clone()).collect();
    if moved.is_empty() {
        Ok("reused: index unchanged".into())
    } else {
        Err(format!("changed on the index: {}", moved.join(", ")))
    }
}

/// Why a successful pip run installed none of the requirements, when pip says their markers
/// exclude this environment ("Ignoring six: markers 'sys_platform == \"win32\"' don't match your
/// environment"): the job is not applicable on this base, which is not a pass with nothing
/// installed.
fn not_applicable(reqs: &[Requirement], installed: &[Distribution], log: &str) -> Option<String> {
    let mut lines = vec![];
    for r in reqs {
        if installed.iter().any(|d| d.name == r.name) {
            return None;
        }
        let prefix = format!("Ignoring {}: markers", r.name);
        lines.push(log.lines().map(str::trim).find(|l| l.starts_with(&prefix))?.to_string());
    }
    (!lines.is_empty()).then(|| format!("the marker excludes this base (pip: {})", lines.join("; ")))
}

/// Reads build.json out of a cached job image.
async fn read_record(engine: &Engine, tag: &str) -> Result<Option<BuildRecord>, EngineError> {
    let held = engine.hold(tag).await?;
    let id = engine.create_idle(&held, "read").await?;
    let bytes = engine.read_file(&id, &format!("{STATE_DIR}/build.json"), 4 << 20).await;
    engine.remove_container(&id).await;
    Ok(bytes?.and_then(|b| serde_json::from_slice(&b).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    #[test]
    fn a_marker_that_excludes_the_base_is_not_applicable() {
        let reqs = [Requirement::parse("six==1.17.0; sys_platform == 'win32'").unwrap()];
        let log = "Ignoring six: markers 'sys_platform == \"win32\"' don't match your environment\n";
        assert!(not_applicable(&reqs, &[], log).unwrap().contains("Ignoring six: markers"));
        // Installed, or nothing said about markers (pip had it already): applicable.
        let six = Distribution {
            name: "six".into(),
            version: "1.17.0".into(),
            source: Source::Pure,
            file: String::new(),
            requested: true,
        };
        assert!(not_applicable(&reqs, &[six], log).is_none());
        assert!(not_applicable(&reqs, &[], "Requirement already satisfied: six\n").is_none());
    }

    #[test]
    fn a_job_whose_index_check_failed_is_unchecked_and_checked_again() {
        let record = |state: &[(&str, &str)], unchecked: Option<&str>| BuildRecord {
            outcome: BuildOutcome::Installed,
            exit_code: Some(0),
            secs: 1.0,
            distributions: vec![],
            log_tail: String::new(),
            error: None,
            index_state: state.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            unchecked: unchecked.map(str::to_string),
            failure_cause: None,
            source_builds: vec![],
            installer: None,
        };
        let now = |state: &[(&str, &str)]| Ok(state.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
        let unchecked = record(&[], Some("connection refused"));
        // The index answers now: built again, never trusted unchecked.
        let e = judge(&unchecked, now(&[("six", "s1")])).unwrap_err();
        assert!(e.contains("could not be asked after the build (connection refused)"), "{e}");
        // It still does not: reused, and said to be unchecked.
        let ok = judge(&unchecked, Err("timed out".into())).unwrap();
        assert!(ok.starts_with("reused, unchecked") && ok.contains("timed out"), "{ok}");
        // A checked job: reused while it holds, rebuilt when it moved, unchecked when not asked.
        let checked = record(&[("six", "s1")], None);
        assert_eq!(judge(&checked, now(&[("six", "s1")])), Ok("reused: index unchanged".into()));
        assert_eq!(judge(&checked, now(&[("six", "s2")])), Err("changed on the index: six".into()));
        assert!(judge(&checked, Err("down".into())).unwrap().starts_with("reused, unchecked"));
        // The record says so in its JSON only when it is unchecked.
        assert!(serde_json::to_string(&unchecked).unwrap().contains("\"unchecked\":\"connection refused\""));
        assert!(!serde_json::to_string(&checked).unwrap().contains("unchecked"));
    }
}
