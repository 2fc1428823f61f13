//! Building a dependency on a base.
//!
//! Two layers, both content-addressed:
//! 1. a *prep* image per base, from a rendered Dockerfile: the base (by image id), its system
//!    packages, and a virtualenv at /opt/muslcheck/venv. Shared by every dependency on the base.
//! 2. a *job* image per (requirement, prep image): pip runs in a labelled container with the
//!    base's pip-cache directory and the CA bundle mounted (never baked into an image), and the
//!    container is committed. pip's report, its log and a build record go into the image at
//!    /opt/muslcheck/, so a cached image carries its own result.
//!
//! pip runs without a shell: the requirement reaches it as a line of a requirements file, and
//! it was parsed as PEP 508 before.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineError, Mount, RunSpec, Sandbox};
use crate::matrix::{Base, Family, Requirement};
use crate::plan::{key, RECIPE_VERSION};
use crate::report::model::{BuildOutcome, Distribution, Source};

pub const VENV: &str = "/opt/muslcheck/venv";
pub const VENV_PYTHON: &str = "/opt/muslcheck/venv/bin/python";
const STATE_DIR: &str = "/opt/muslcheck";
const CA_PATH: &str = "/run/muslcheck/ca.pem";
const PIP_CACHE: &str = "/var/cache/muslcheck/pip";
/// Where pip writes its timestamped log (a host directory of the build's own).
const LOG_DIR: &str = "/var/log/muslcheck-pip";
const LOG_TAIL: usize = 6000;

/// Renders the prep Dockerfile. Every value in it was validated by the matrix loader.
pub fn prep_dockerfile(base: &Base, base_image_id: &str) -> String {
    let mut d = format!("FROM {base_image_id}\n");
    match base.family {
        Family::Apk if !base.packages.is_empty() => {
            let pkgs: Vec<String> = base.packages.iter().map(|p| format!("\"{p}\"")).collect();
            d.push_str(&format!("RUN [\"apk\", \"add\", \"--no-cache\", {}]\n", pkgs.join(", ")));
        }
        Family::Apt if !base.packages.is_empty() => {
            d.push_str(&format!(
                "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*\n",
                base.packages.join(" ")
            ));
        }
        _ => {}
    }
    d.push_str(&format!("RUN [\"{}\", \"-m\", \"venv\", \"{VENV}\"]\n", base.python));
    d
}

/// A tar with fixed mtimes, owners and modes, so the same inputs give the same bytes.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("writing a tar to memory");
    }
    b.into_inner().expect("finishing a tar in memory")
}

/// The prep image's tag: a function of what goes into it (the recipe version and the rendered
/// Dockerfile, which names the base by image id), never of the built image's own id, so an
/// identical rebuild (`--no-cache`) invalidates no job built on it.
pub fn prep_tag(base: &Base, base_image_id: &str) -> String {
    format!("muslcheck/prep:{}", key(&[RECIPE_VERSION, &prep_dockerfile(base, base_image_id)]))
}

/// Makes sure the prep image of `base` exists; returns its tag.
pub async fn ensure_prep(
    engine: &Engine,
    base: &Base,
    base_image_id: &str,
    timeout: Duration,
    no_cache: bool,
) -> Result<String, String> {
    let tag = prep_tag(base, base_image_id);
    if !no_cache {
        if let Ok(Some(_)) = engine.image(&tag).await {
            return Ok(tag);
        }
    }
    // Prepared in a container and committed, not by the image builder: the builder's
    // intermediate images are untagged and unprotected, so a concurrent removal elsewhere
    // (pruning the parents of an image) could take one from under a build in progress.
    let mut spec = RunSpec::new(base_image_id, prep_command(base), "prep");
    spec.sandbox = Sandbox::build();
    spec.user = Some("0".into());
    spec.timeout = timeout;
    spec.max_output = 16 << 20;
    spec.keep = true;
    let out = engine.run(&spec).await.map_err(|e| e.to_string())?;
    let container = out.container.clone().expect("kept container");
    let result = async {
        if out.timed_out {
            return Err(format!("preparing base {} timed out after {} s", base.name, timeout.as_secs()));
        }
        if out.exit_code != Some(0) {
            let log = format!("{}{}", out.stdout, out.stderr);
            return Err(format!(
                "failed to prepare base {}: {}\n{}",
                base.name,
                last_error_line(&log),
                tail(&log, 2000)
            ));
        }
        // Committed under a tag of this run's, then moved: a concurrent run never sees half a prep.
        let staging = engine.staging_tag(&tag);
        engine.commit(&container, &staging, "prep", HashMap::new()).await.map_err(|e| e.to_string())?;
        engine.promote(&staging, &tag).await.map_err(|e| e.to_string())?;
        Ok(tag.clone())
    }
    .await;
    engine.remove_container(&container).await;
    result
}

/// The prep step as one command: the base's packages (exec form where no shell is needed;
/// names were validated by the matrix loader and reach the shell as arguments, never as text),
/// then the virtualenv.
pub fn prep_command(base: &Base) -> Vec<String> {
    let venv = vec![base.python.clone(), "-m".into(), "venv".into(), VENV.into()];
    let script = match base.family {
        Family::Apk if !base.packages.is_empty() => "apk add --no-cache \"$@\" && exec \"$0\" -m venv /opt/muslcheck/venv",
        Family::Apt if !base.packages.is_empty() => {
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \"$@\" && rm -rf /var/lib/apt/lists/* && exec \"$0\" -m venv /opt/muslcheck/venv"
        }
        _ => return venv,
    };
    let mut cmd = vec!["/bin/sh".to_string(), "-c".into(), script.into(), base.python.clone()];
    cmd.extend(base.packages.iter().cloned());
    cmd
}

/// How a cached job is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Ask the index whether every distribution of the cached resolution is unchanged.
    Check,
    /// Reuse without asking (`--offline`).
    Offline,
    /// Rebuild every job (`--refresh`).
    Refresh,
}

impl Freshness {
    pub fn from_flags(offline: bool, refresh: bool) -> Freshness {
        match (offline, refresh) {
            (_, true) => Freshness::Refresh,
            (true, false) => Freshness::Offline,
            _ => Freshness::Check,
        }
    }
}

/// What a build produced; stored in the job image as build.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    pub outcome: BuildOutcome,
    pub exit_code: Option<i64>,
    pub secs: f64,
    pub distributions: Vec<Distribution>,
    pub log_tail: String,
    pub error: Option<String>,
    /// Per distribution of the resolution, its state on the index right after the build (see
    /// `index`); empty when the index could not be asked.
    #[serde(default)]
    pub index_state: std::collections::BTreeMap<String, String>,
    /// Why a failed install is kept like a success (see [`deterministic_failure`]).
    #[serde(default)]
    pub failure_cause: Option<String>,
    /// The distributions built from an sdist, with their build time and any error (see
    /// [`crate::srcbuild`]).
    #[serde(default)]
    pub source_builds: Vec<crate::srcbuild::SourceBuild>,
}

/// A build's result as the pipeline uses it.
#[derive(Debug, Clone)]
pub struct JobBuild {
    pub record: BuildRecord,
    pub image: Option<String>,
    pub cached: bool,
    /// pip's whole output (empty when cached: it is in the image).
    pub log: String,
    /// Why the job was reused or built.
    pub reuse: String,
}

pub struct BuildInputs<'a> {
    pub base: &'a Base,
    pub prep_tag: &'a str,
    /// Installed together, in one pip run.
    pub requirements: &'a [Requirement],
    /// Constraints of that run (`-c`).
    pub constraints: &'a [Requirement],
    pub ca_bundle: Option<&'a std::path::Path>,
    /// The package index pip uses (PIP_INDEX_URL), when not pip's default.
    pub index_url: Option<&'a str>,
    /// `name:address` entries for the build container's /etc/hosts.
    pub extra_hosts: &'a [String],
    pub timeout: Duration,
    pub no_cache: bool,
    /// A host directory for pip's cache (a subdirectory per base is used), or none.
    pub pip_cache: Option<&'a std::path::Path>,
    pub freshness: Freshness,
    /// The index to ask whether a cached resolution still holds; none: it cannot be asked.
    pub index: Option<&'a std::sync::Arc<crate::index::IndexClient>>,
}

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
        key(&[
            RECIPE_VERSION,
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
    let mut why_built = if inp.no_cache {
        "built: --no-cache".to_string()
    } else if inp.freshness == Freshness::Refresh {
        "built: --refresh".to_string()
    } else {
        "built: not in the cache".to_string()
    };
    if !inp.no_cache && inp.freshness != Freshness::Refresh && engine.image(&tag).await?.is_some() {
        if let Some(mut record) = read_record(engine, &tag).await? {
            // An image cached by a version that did not know about markers says "installed"
            // with nothing installed: its log says what happened.
            if record.outcome == BuildOutcome::Installed {
                if let Some(why) = not_applicable(inp.requirements, &record.distributions, &record.log_tail) {
                    record.outcome = BuildOutcome::NotApplicable;
                    record.error = Some(why);
                    return Ok(JobBuild {
                        record,
                        image: None,
                        cached: true,
                        log: String::new(),
                        reuse: "reused: not applicable".into(),
                    });
                }
            }
            match still_holds(&record, inp).await {
                Ok(reuse) => {
                    let image = (record.outcome == BuildOutcome::Installed).then_some(tag);
                    let reuse = match &record.failure_cause {
                        Some(c) => format!("{reuse}; the failure is a fact of its inputs ({c})"),
                        None => reuse,
                    };
                    return Ok(JobBuild { record, image, cached: true, log: String::new(), reuse });
                }
                Err(moved) => why_built = format!("rebuilt: {moved}"),
            }
        }
    }
    // Containers are made from a hold of this run's: see `Engine::hold`.
    let prep = engine.hold(inp.prep_tag).await?;
    let mut spec = RunSpec::new(
        &prep,
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
        ],
        "build",
    );
    // A locked requirement (with hashes) puts pip in hash-checking mode for the whole run, as
    // pip itself would for a file with hashes; constraints go in a file of their own.
    if inp.requirements.iter().any(|r| !r.hashes.is_empty()) {
        spec.cmd.push("--require-hashes".into());
    }
    if !inp.constraints.is_empty() {
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
    }
    spec.extra_hosts = inp.extra_hosts.to_vec();
    // pip's cache lives in a host directory, not in a Docker volume: it outlives the run
    // without leaving a Docker object behind.
    if let Some(dir) = inp.pip_cache.map(|d| d.join(&inp.base.name)) {
        match std::fs::create_dir_all(&dir) {
            Ok(()) => spec.mounts.push(Mount::Bind {
                source: dir.display().to_string(),
                target: PIP_CACHE.into(),
                read_only: false,
            }),
            Err(e) => tracing::warn!("no pip cache for this build: cannot create {}: {e}", dir.display()),
        }
    }
    // The timestamped log goes to a host directory, not into the image: with every compiler
    // line in it, it can be far larger than the output kept.
    // A remote engine cannot see it: there, source builds go untimed.
    let log_dir = if crate::settings::engine_is_local() {
        let d = tempfile::Builder::new()
            .prefix("muslcheck-piplog.")
            .tempdir()
            .map_err(|e| EngineError::other("failed to create a directory for pip's log", e.to_string()))?;
        // pip's own log file, every line timestamped: what each source build took.
        spec.cmd.extend(["--log".to_string(), format!("{LOG_DIR}/pip.log")]);
        spec.mounts.push(Mount::Bind {
            source: d.path().display().to_string(),
            target: LOG_DIR.into(),
            read_only: false,
        });
        Some(d)
    } else {
        None
    };
    if let Some(ca) = inp.ca_bundle {
        spec.mounts.push(Mount::Bind { source: ca.display().to_string(), target: CA_PATH.into(), read_only: true });
        spec.env.push(format!("PIP_CERT={CA_PATH}"));
        spec.env.push(format!("SSL_CERT_FILE={CA_PATH}"));
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
        let timed_log = match log_dir.as_ref().map(|d| std::fs::read(d.path().join("pip.log"))) {
            Some(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Some(Err(e)) => {
                tracing::warn!("no source-build timings: cannot read pip's log: {e}");
                String::new()
            }
            None => String::new(),
        };
        let source_builds = crate::srcbuild::parse(&timed_log);
        let console = format!("{}{}", out.stdout, out.stderr);
        let log = if out.exit_code == Some(0) || timed_log.is_empty() {
            console.clone()
        } else {
            format!(
                "{console}\n---- pip's log file (--log), without its timestamps ----\n{}",
                crate::srcbuild::untimed(&timed_log)
            )
        };
        let (outcome, error) = if out.timed_out {
            (BuildOutcome::Timeout, Some(format!("pip did not finish within {} s", inp.timeout.as_secs())))
        } else if out.output_truncated {
            (BuildOutcome::InstallFailed, Some("pip printed more than 64 MiB; stopped".to_string()))
        } else if out.oom_killed {
            (BuildOutcome::InstallFailed, Some("pip was killed for exceeding the memory limit".to_string()))
        } else if out.exit_code == Some(0) {
            (BuildOutcome::Installed, None)
        } else if let Some(line) = disk_full(&log) {
            // Not the dependency's fault: the harness's own infrastructure failed.
            (BuildOutcome::InfraError, Some(format!("disk full while installing: {line}")))
        } else if log.contains("CERTIFICATE_VERIFY_FAILED") {
            // Nor is an index whose certificate pip cannot verify: a configuration problem of
            // this machine or network, the same for every dependency.
            (BuildOutcome::InfraError, Some(last_error_line(&console)))
        } else if let Some(why) = resolution_conflict(&console) {
            // The requirements contradict each other: an answer about them, not a failure to
            // fetch or build something.
            (BuildOutcome::Conflict, Some(why))
        } else {
            (BuildOutcome::InstallFailed, Some(last_error_line(&console)))
        };
        let distributions = if outcome == BuildOutcome::Installed {
            match engine.read_file(&container, &format!("{STATE_DIR}/pip-report.json"), 16 << 20).await? {
                Some(bytes) => {
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
        let failure_cause = if outcome == BuildOutcome::InstallFailed { deterministic_failure(&log) } else { None };
        let keep = outcome == BuildOutcome::Installed || failure_cause.is_some();
        let index_state = if keep { states(inp, &distributions).await.unwrap_or_default() } else { Default::default() };
        let record = BuildRecord {
            source_builds,
            outcome,
            exit_code: out.exit_code,
            secs: started.elapsed().as_secs_f64(),
            distributions,
            log_tail: tail(&console, LOG_TAIL),
            error,
            index_state,
            failure_cause: failure_cause.map(str::to_string),
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
    if record.index_state.is_empty() {
        return Ok("reused: no index state was recorded when it was built (not checked)".into());
    }
    let now = match states(inp, &record.distributions).await {
        Ok(s) => s,
        Err(e) => return Ok(format!("reused: the index could not be asked ({e})")),
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

/// An sdist file's distribution name (as written) and version: an sdist name may contain
/// dashes, so the version is after the last one.
pub fn sdist_name(file: &str) -> (&str, &str) {
    let stem = file.trim_end_matches(".tar.gz").trim_end_matches(".zip");
    stem.rsplit_once('-').unwrap_or((stem, ""))
}

/// PEP 503 normalisation.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Where a file pip chose came from, by its name (wheel platform tag or sdist).
pub fn classify(file: &str) -> Source {
    if let Some(stem) = file.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform; platform may be dotted (compressed tags).
        let platform = stem.rsplit('-').next().unwrap_or("");
        let tags: Vec<&str> = platform.split('.').collect();
        if tags.iter().any(|t| t.starts_with("musllinux")) {
            Source::Musllinux
        } else if tags.iter().any(|t| t.starts_with("manylinux")) {
            Source::Manylinux
        } else if tags.iter().all(|t| *t == "any") {
            Source::Pure
        } else {
            Source::OtherWheel
        }
    } else if file.ends_with(".tar.gz")
        || file.ends_with(".zip")
        || file.ends_with(".tar.bz2")
        || file.ends_with(".tgz")
    {
        Source::Sdist
    } else {
        Source::Unknown
    }
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

/// The last `n` bytes of `s`, from a line start where possible.
pub fn tail(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut cut = s.len() - n;
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    let t = &s[cut..];
    match t.find('\n') {
        Some(i) if i + 1 < t.len() => t[i + 1..].to_string(),
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_wheels_and_sdists() {
        assert_eq!(classify("numpy-2.3.5-cp313-cp313-musllinux_1_2_x86_64.whl"), Source::Musllinux);
        assert_eq!(
            classify("numpy-2.3.5-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"),
            Source::Manylinux
        );
        assert_eq!(classify("six-1.17.0-py2.py3-none-any.whl"), Source::Pure);
        assert_eq!(classify("foo-1.0-cp313-cp313-linux_x86_64.whl"), Source::OtherWheel);
        assert_eq!(classify("scikit_learn-1.7.2.tar.gz"), Source::Sdist);
        assert_eq!(classify(""), Source::Unknown);
    }

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
    fn prep_dockerfile_uses_exec_form_and_the_image_id() {
        let base = Base {
            name: "alpine".into(),
            image: "python:3.13-alpine".into(),
            family: Family::Apk,
            python: "python3".into(),
            packages: vec!["build-base".into(), "libffi-dev".into()],
            required: true,
        };
        let d = prep_dockerfile(&base, "sha256:abc");
        assert!(d.starts_with("FROM sha256:abc\n"));
        assert!(d.contains("RUN [\"apk\", \"add\", \"--no-cache\", \"build-base\", \"libffi-dev\"]"));
        assert!(d.contains("RUN [\"python3\", \"-m\", \"venv\", \"/opt/muslcheck/venv\"]"));
    }

    #[test]
    fn tars_are_deterministic() {
        assert_eq!(tar_of(&[("a", b"x")]), tar_of(&[("a", b"x")]));
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
    fn tls_failures_are_named() {
        let log = "WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] x'))\nERROR: No matching distribution found for six\n";
        assert!(last_error_line(log).contains("--ca-bundle"));
        assert_eq!(last_error_line("a\nERROR: boom\nnote\n"), "ERROR: boom");
    }

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
    fn names_normalise() {
        assert_eq!(normalise_name("Argon2_CFFI-bindings"), "argon2-cffi-bindings");
        assert_eq!(normalise_name("zope.interface"), "zope-interface");
    }
}
