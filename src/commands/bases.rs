//! Resolving the matrix's bases to images: pull (to record the registry digest), fall back to
//! a local image, and observe each base's libc in a container.

use crate::engine::{Engine, EngineError};
use crate::matrix::Base;
use crate::report::model::BaseRecord;

/// A base resolved to an image.
pub struct Resolved {
    pub record: BaseRecord,
    /// What pulling said, when it failed but a local image was used.
    pub pull_warning: Option<String>,
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
        },
        pull_warning: warning,
    })
}
