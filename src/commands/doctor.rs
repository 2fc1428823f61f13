//! `doctor`: is everything muslcheck needs here? The engine, each base (present, pullable,
//! its digest, the libc observed inside it) and the package index from inside a container
//! with the configured CA bundle.

use std::time::Duration;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::{bases, new_run_id};
use crate::cli::DoctorArgs;
use crate::engine::{Engine, RunSpec, Sandbox};
use crate::error::{Result, EXIT_INFRA, EXIT_OK};

const CA_PATH: &str = "/run/muslcheck/ca.pem";

pub async fn run(a: &DoctorArgs) -> Result<i32> {
    let matrix = crate::settings::load_matrix(&a.matrix)?;
    // Which matrix, before anything else: what every other line is about.
    match matrix.source.searched() {
        s if s.is_empty() => println!("matrix: {}", matrix.source_line()),
        s => println!("matrix: {} ({s})", matrix.source_line()),
    }
    let engine = Engine::connect(&new_run_id()).await?;
    let info = engine.info().await?;
    let endpoint = engine.endpoint();
    println!("endpoint: {}, chosen by {}", endpoint.url(), endpoint.chosen);
    println!("TLS: {}", endpoint.tls_summary());
    println!(
        "engine: Docker {} (API {}), storage driver {}, {} on {}, {} CPUs, {:.1} GiB, at {}",
        info.version,
        info.api_version,
        info.storage_driver,
        info.operating_system,
        info.kernel,
        info.cpus,
        info.memory_bytes as f64 / (1u64 << 30) as f64,
        info.host
    );
    match &matrix.policy.ca_bundle {
        Some(ca) => println!("CA bundle: {}", ca.display()),
        None => println!("CA bundle: none (pip in containers trusts only the base's own CAs)"),
    }
    match &matrix.policy.index_url {
        Some(url) => println!("package index: {url}"),
        None => println!("package index: pip's default (PyPI)"),
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["base", "image", "pull", "digest", "libc (observed)", "package index"]);
    let mut problems = Vec::new();
    let mut sources_lines = Vec::new();
    for base in &matrix.bases {
        let resolved = match bases::resolve(&engine, base, !a.no_pull).await {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("base {}: {e}", base.name));
                problems.extend(bases::default_matrix_hint(&matrix, base));
                t.add_row(vec![
                    base.name.clone(),
                    base.image.clone(),
                    "FAILED".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
                continue;
            }
        };
        let pull = match (&resolved.pull_warning, a.no_pull) {
            (_, true) => "skipped".to_string(),
            (None, false) => "ok".to_string(),
            (Some(w), false) => {
                problems.push(format!("base {}: cannot be pulled: {w}", base.name));
                "FAILED (local image used)".to_string()
            }
        };
        let libc = match crate::probe::sections::observe_libc(&engine, &resolved.record.image_id, &base.python).await {
            Ok((Some(l), _)) => l.to_string(),
            Ok((None, errs)) => {
                problems.push(format!("base {}: libc not observed: {}", base.name, errs.join("; ")));
                "?".into()
            }
            Err(e) => {
                problems.push(format!("base {}: {e}", base.name));
                "?".into()
            }
        };
        let index = match index_reachable(
            &engine,
            &resolved.record.image_id,
            &base.python,
            matrix.policy.ca_bundle.as_deref(),
            matrix.policy.index_url.as_deref(),
            &matrix.policy.extra_hosts,
        )
        .await
        {
            Ok(()) => "reachable".to_string(),
            Err(IndexCheck::NoContainer(e)) => {
                // Not the index's fault: the engine could not run the container that asks it.
                problems.push(format!(
                    "base {}: a container could not start, so the package index was not asked: {e} \
                     (with podman, check its ulimits and registries: see docs/requirements.md)",
                    base.name
                ));
                "NOT ASKED".into()
            }
            Err(IndexCheck::Unreachable(e)) => {
                problems.push(format!("base {}: the package index is not reachable from a container: {e}", base.name));
                "UNREACHABLE".into()
            }
        };
        if let Ok(Some(info)) = engine.image(&resolved.record.image_id).await {
            if let Some(sources) = info.labels.get("io.muslcheck.testbed.sources").filter(|s| !s.is_empty()) {
                sources_lines.push(format!("base {}: built from Debian source packages {sources}", base.name));
            }
        }
        t.add_row(vec![
            base.name.clone(),
            base.image.clone(),
            pull,
            resolved
                .record
                .digest
                .clone()
                .unwrap_or_else(|| format!("(no registry digest) {}", resolved.record.image_id)),
            libc,
            index,
        ]);
    }
    println!("{t}");
    for l in &sources_lines {
        println!("{l}");
    }
    engine.cleanup_run().await;
    if problems.is_empty() {
        println!("all good");
        Ok(EXIT_OK)
    } else {
        for p in &problems {
            eprintln!("problem: {p}");
        }
        Ok(EXIT_INFRA)
    }
}

/// Asks the base's pip for the versions of pip on its configured index: TLS, proxy and CA
/// problems show up exactly as they would in a build.
/// Why the index check failed: the container that asks could not run, or it ran and pip could
/// not reach the index. Told apart, so an engine that cannot start containers is not blamed on
/// the index.
enum IndexCheck {
    NoContainer(String),
    Unreachable(String),
}

async fn index_reachable(
    engine: &Engine,
    image: &str,
    python: &str,
    ca: Option<&std::path::Path>,
    index_url: Option<&str>,
    extra_hosts: &[String],
) -> std::result::Result<(), IndexCheck> {
    let mut spec = RunSpec::new(
        image,
        vec![
            python.into(),
            "-m".into(),
            "pip".into(),
            "index".into(),
            "versions".into(),
            "pip".into(),
            "--disable-pip-version-check".into(),
        ],
        "doctor",
    );
    spec.sandbox = Sandbox::build();
    spec.timeout = Duration::from_secs(90);
    spec.env = vec!["PIP_NO_INPUT=1".into(), "PIP_TIMEOUT=20".into(), "PIP_RETRIES=1".into()];
    if let Some(url) = index_url {
        spec.env.push(format!("PIP_INDEX_URL={url}"));
    }
    spec.extra_hosts = extra_hosts.to_vec();
    if let Some(ca) = ca {
        // Handed over through the engine, which may not see this machine's files.
        let bytes = crate::input::read_text(ca, crate::input::MAX_DATA)
            .map_err(|e| IndexCheck::NoContainer(format!("failed to read the CA bundle {}: {e}", ca.display())))?;
        let (dir, name) = CA_PATH.rsplit_once('/').expect("an absolute path");
        spec.uploads.push(("/".into(), crate::engine::tar_of(&[(&format!("{}/{name}", &dir[1..]), bytes.as_bytes())])));
        spec.env.push(format!("PIP_CERT={CA_PATH}"));
    }
    let out = engine.run(&spec).await.map_err(|e| IndexCheck::NoContainer(e.to_string()))?;
    if out.exit_code == Some(0) {
        Ok(())
    } else if out.timed_out {
        Err(IndexCheck::Unreachable("no answer within 90 s".into()))
    } else {
        Err(IndexCheck::Unreachable(crate::install::last_error_line(&format!("{}{}", out.stdout, out.stderr))))
    }
}
