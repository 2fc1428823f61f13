//! `repro`: runs a crash reproducer N times on every base (after installing its requirements,
//! reusing the pipeline's cached images) and reports per base the exit status or signal, the
//! crash rate, digests of the output with an excerpt, and the duration. Exit 1 when the bases'
//! outcomes differ.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

use super::{bases, emit};
use crate::cli::ReproArgs;
use crate::engine::{RunSpec, Sandbox};
use crate::error::{Error, Result, EXIT_FINDINGS, EXIT_INFRA, EXIT_OK};
use crate::install::{self, BuildInputs, VENV_PYTHON};
use crate::matrix::Requirement;
use crate::model::{BuildOutcome, ReproRecord, ReproRun};

pub async fn run(a: &ReproArgs) -> Result<i32> {
    let script = crate::input::read_text(&a.script, crate::input::MAX_SCRIPT)
        .map_err(|e| Error::Usage(format!("cannot read the reproducer {}: {e}", a.script.display())))?;
    if a.runs == 0 || a.runs > 1000 {
        return Err(Error::Usage(format!("--runs must be between 1 and 1000, not {}", a.runs)));
    }
    let timeout = crate::matrix::parse_duration(&a.timeout).map_err(|e| Error::Usage(format!("--timeout: {e}")))?;
    let reqs = a
        .requirements
        .iter()
        .map(|r| {
            Requirement::parse(r)
                .map_err(|e| Error::Usage(format!("invalid requirement `{}`: {e}", crate::input::shown(r))))
        })
        .collect::<Result<Vec<_>>>()?;
    crate::settings::check_images("--image", &a.images)?;
    if let Some(p) = &a.python {
        crate::settings::check_python(p)?;
    }
    let (matrix, out, engine, mut report) = super::begin("repro", &a.matrix, &a.output).await?;
    if !a.images.is_empty() {
        let work = async {
            for reference in &a.images {
                let (rec, python) =
                    super::images::with_main(&engine, reference, a.python.as_deref(), &report.bases).await?;
                let record = runs_in(&engine, &rec.image_id, &python.path, &script, a.runs, timeout, &rec.name).await?;
                report.repro.push(record);
                report.bases.push(rec);
            }
            Ok::<_, Error>(())
        };
        super::guarded(&engine, work).await?;
        return finish(report, &out);
    }
    let pip_cache = crate::cache::pip_cache_volume().map_err(Error::Usage)?;
    let policy = &matrix.policy;
    let index =
        crate::index::IndexClient::new(policy.index_url.as_deref(), policy.ca_bundle.as_deref(), &policy.extra_hosts)
            .ok()
            .map(std::sync::Arc::new);
    let work = async {
        for base in &matrix.bases {
            let bases::Prepared { record: mut rec, prep } = bases::prepare(
                &engine,
                base,
                matrix.policy.build_timeout,
                false,
                crate::install::PrepIndex {
                    index_url: matrix.policy.index_url.as_deref(),
                    ca_bundle: matrix.policy.ca_bundle.as_deref(),
                    extra_hosts: &matrix.policy.extra_hosts,
                },
            )
            .await
            .map_err(|e| bases::hinted(&matrix, base, e))?;
            // A base that cannot be prepared, or requirements that do not install there, are
            // outcomes of that base (exit 1 with the reason), not failures of the harness.
            let prep = match prep {
                Ok(p) => p,
                Err(e) => {
                    report.repro.push(not_installed(&base.name, format!("the base could not be prepared: {e}")));
                    report.bases.push(rec);
                    continue;
                }
            };
            rec.compilers = bases::compilers(&engine, &prep, crate::cache::dir().as_deref(), false).await?;
            let image = if reqs.is_empty() {
                prep
            } else {
                let inputs = BuildInputs {
                    base,
                    prep_tag: &prep,
                    requirements: &reqs,
                    constraints: &[],
                    ca_bundle: matrix.policy.ca_bundle.as_deref(),
                    index_url: matrix.policy.index_url.as_deref(),
                    extra_hosts: &matrix.policy.extra_hosts,
                    timeout: matrix.policy.build_timeout,
                    no_cache: false,
                    pip_cache: pip_cache.as_deref(),
                    freshness: install::Freshness::Check,
                    index: index.as_ref(),
                };
                let built = install::build_job(&engine, &inputs).await?;
                match (built.record.outcome, built.image) {
                    (BuildOutcome::Installed, Some(img)) => img,
                    (BuildOutcome::InfraError, _) => {
                        report.errors.push(format!("{}: {}", base.name, built.record.error.unwrap_or_default()));
                        report.bases.push(rec);
                        continue;
                    }
                    (o, _) => {
                        let why = format!(
                            "the requirements did not install ({}): {}",
                            serde_json::to_value(o).unwrap().as_str().unwrap_or(""),
                            built.record.error.unwrap_or_default()
                        );
                        report.repro.push(not_installed(&base.name, why));
                        report.bases.push(rec);
                        continue;
                    }
                }
            };
            let image = engine.hold(&image).await?;
            let record = runs_in(&engine, &image, VENV_PYTHON, &script, a.runs, timeout, &base.name).await?;
            report.repro.push(record);
            report.bases.push(rec);
        }
        Ok::<_, Error>(())
    };
    super::guarded(&engine, work).await?;
    finish(report, &out)
}

/// Saves and prints the report; the exit code: 3 on a harness error, 1 when the bases'
/// outcomes differ or a base could not install, else 0.
fn finish(mut report: crate::model::RunReport, out: &crate::settings::Output) -> Result<i32> {
    report.partial = false;
    report.finished_at = Some(crate::model::now());
    super::save(&report, out)?;
    emit(&report, out)?;
    if !report.errors.is_empty() {
        return Ok(EXIT_INFRA);
    }
    for r in report.repro.iter().filter(|r| r.install_error.is_some()) {
        eprintln!("{}: {}", r.base, r.install_error.as_deref().unwrap_or(""));
    }
    let outcome_sets: BTreeSet<Vec<&String>> = report.repro.iter().map(|r| r.outcomes.keys().collect()).collect();
    let not_installed = report.repro.iter().any(|r| r.install_error.is_some());
    Ok(if outcome_sets.len() > 1 || not_installed { EXIT_FINDINGS } else { EXIT_OK })
}

/// Runs a reproducer `runs` times in containers of `image` with `python`, in the probe
/// sandbox, each run in a fresh container: the base's record of them.
pub(super) async fn runs_in(
    engine: &crate::engine::Engine,
    image: &str,
    python: &str,
    script: &str,
    runs: u32,
    timeout: std::time::Duration,
    base: &str,
) -> std::result::Result<ReproRecord, crate::engine::EngineError> {
    let mut out = vec![];
    for i in 0..runs {
        eprintln!("{base}: run {}/{runs}", i + 1);
        let mut spec = RunSpec::new(image, vec!["-c".into(), script.to_string()], "repro");
        // The interpreter is the entrypoint, so an image's own entrypoint does not run instead.
        spec.entrypoint = Some(vec![python.to_string()]);
        spec.sandbox = Sandbox::strict();
        spec.user = Some("1000:1000".into());
        spec.timeout = timeout;
        spec.env = vec!["PYTHONDONTWRITEBYTECODE=1".into(), "HOME=/tmp".into(), "PYTHONFAULTHANDLER=1".into()];
        let o = engine.run(&spec).await?;
        out.push(repro_run(&o));
    }
    Ok(summarise(base, out))
}

fn not_installed(base: &str, why: String) -> ReproRecord {
    ReproRecord {
        base: base.to_string(),
        runs: vec![],
        crash_rate: 0.0,
        outcomes: BTreeMap::from([("not installed".to_string(), 1)]),
        install_error: Some(why),
    }
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))[..16].to_string()
}

/// The engine reports a process killed by signal N as exit code 128+N.
fn repro_run(o: &crate::engine::RunOutput) -> ReproRun {
    let (outcome, signal) = if o.timed_out {
        ("timeout".to_string(), None)
    } else if o.oom_killed {
        ("oom".to_string(), None)
    } else {
        match o.exit_code {
            Some(c) if c > 128 && c < 160 => (signal_name(c - 128), Some(c - 128)),
            Some(c) => (format!("exit {c}"), None),
            None => ("unknown".to_string(), None),
        }
    };
    let excerpt = {
        let text = if o.stderr.trim().is_empty() { &o.stdout } else { &o.stderr };
        crate::text::tail(text.trim(), 400)
    };
    ReproRun {
        outcome,
        exit_code: o.exit_code,
        signal,
        secs: o.duration.as_secs_f64(),
        stdout_sha256: sha(&o.stdout),
        stderr_sha256: sha(&o.stderr),
        excerpt,
    }
}

fn signal_name(sig: i64) -> String {
    match sig {
        4 => "SIGILL".into(),
        6 => "SIGABRT".into(),
        7 => "SIGBUS".into(),
        8 => "SIGFPE".into(),
        9 => "SIGKILL".into(),
        11 => "SIGSEGV".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

fn summarise(base: &str, runs: Vec<ReproRun>) -> ReproRecord {
    let mut outcomes = BTreeMap::new();
    for r in &runs {
        *outcomes.entry(r.outcome.clone()).or_insert(0u32) += 1;
    }
    let crashes = runs.iter().filter(|r| r.signal.is_some()).count();
    ReproRecord {
        base: base.to_string(),
        crash_rate: crashes as f64 / runs.len().max(1) as f64,
        outcomes,
        runs,
        install_error: None,
    }
}
