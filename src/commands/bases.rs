//! Resolving the matrix's bases to images: pull (to record the registry digest), fall back to
//! a local image, observe each base's libc in a container, and prepare its virtualenv layer.

use std::time::Duration;

use crate::engine::{Engine, EngineError};
use crate::matrix::Base;
use crate::model::BaseRecord;

/// A base resolved to an image.
pub struct Resolved {
    pub record: BaseRecord,
    /// What pulling said, when it failed but a local image was used.
    pub pull_warning: Option<String>,
}

/// A base ready for jobs: its record (digest, observed libc) and its prep image, or why there
/// is none (a failed prep is every job's install failure on that base, not a harness error).
pub struct Prepared {
    pub record: BaseRecord,
    pub prep: Result<String, String>,
}

/// Resolves, observes and prepares a base. Its compilers are not observed here: only the
/// explanation of a source build needs them, so a run observes them ([`compilers`]) beside its
/// jobs rather than before them.
pub async fn prepare(
    engine: &Engine,
    base: &Base,
    timeout: Duration,
    no_cache: bool,
    index: crate::install::PrepIndex<'_>,
) -> Result<Prepared, EngineError> {
    let resolved = resolve(engine, base, true).await?;
    if let Some(w) = &resolved.pull_warning {
        tracing::warn!("base {}: using the local image ({w})", base.name);
    }
    let mut record = resolved.record;
    // The libc is observed while the prep is made: neither needs the other, and on a fresh
    // runner (a PR's gate) they are two of the three containers a base costs before its jobs.
    let (observed, prep) = tokio::join!(
        crate::probe::sections::observe_libc(engine, &record.image_id, &base.python),
        crate::install::ensure_prep(engine, base, &record.image_id, timeout, no_cache, index)
    );
    let (libc, errors) = observed?;
    if libc.is_none() {
        tracing::warn!("base {}: could not observe its libc: {}", base.name, errors.join("; "));
    }
    record.libc = libc;
    Ok(Prepared { record, prep })
}

/// The compilers a source build would use in a prep image, observed there (kept in the
/// observation cache by the prep image's content tag and the probe's text: the same image has
/// the same compilers). A probe that did not finish is logged and leaves them unobserved.
pub async fn compilers(
    engine: &Engine,
    prep: &str,
    observations: Option<&std::path::Path>,
    no_cache: bool,
) -> Result<std::collections::BTreeMap<String, String>, EngineError> {
    let program = crate::probe::programs::program(crate::probe::programs::COMPILER);
    let key = crate::cache::key(&[prep, &crate::cache::digest(&program)]);
    if !no_cache {
        if let Some(c) = crate::cache::get(observations, "compilers", &key) {
            return Ok(c);
        }
    }
    let image = engine.hold(prep).await?;
    match crate::probe::sections::observe_compilers(engine, &image, crate::install::VENV_PYTHON).await? {
        Ok(c) => {
            crate::cache::put(observations, "compilers", &key, &c);
            Ok(c)
        }
        Err(e) => {
            tracing::warn!("{prep}: {e}");
            Ok(Default::default())
        }
    }
}

/// What to do when a base of the built-in default matrix cannot be had (no public registry on
/// this network, most often): another matrix. Empty for any other matrix.
pub fn default_matrix_hint(matrix: &crate::matrix::Matrix, base: &Base) -> Option<String> {
    matrix.source.is_embedded().then(|| {
        format!(
            "the embedded default matrix names {}, which this engine has not got and could not pull; give a matrix \
             of bases it can reach: --matrix FILE (or MUSLCHECK_MATRIX), or a muslcheck.toml in this directory or \
             above (`muslcheck init` writes one to edit)",
            base.image
        )
    })
}

/// [`default_matrix_hint`] added to a base's engine error.
pub fn hinted(matrix: &crate::matrix::Matrix, base: &Base, e: EngineError) -> crate::error::Error {
    match default_matrix_hint(matrix, base) {
        Some(hint) if !e.is_connection_lost() => crate::error::Error::EngineHint { source: e, hint },
        _ => e.into(),
    }
}

/// Pulls the base (so its digest is the registry's) or uses a local image of that name.
pub async fn resolve(engine: &Engine, base: &Base, pull: bool) -> Result<Resolved, EngineError> {
    let mut warning = None;
    if pull {
        if let Err(e) = engine.pull(&base.image).await {
            if e.is_connection_lost() {
                return Err(e);
            }
            warning = Some(e.to_string());
        }
    }
    let info = engine.image(&base.image).await?.ok_or_else(|| {
        EngineError::other(
            format!("failed to resolve base {}", base.name),
            format!(
                "image {} is not on the engine and could not be pulled{}",
                base.image,
                warning.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
            ),
        )
    })?;
    Ok(Resolved {
        record: BaseRecord {
            name: base.name.clone(),
            image: base.image.clone(),
            digest: info.digest_for(&base.image),
            image_id: info.id.clone(),
            size: info.size,
            required: base.required,
            libc: None,
            compilers: Default::default(),
        },
        pull_warning: warning,
    })
}
