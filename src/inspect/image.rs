//! An image named by the user, resolved on the engine as it is: the local image if the engine
//! has it, else pulled; named in reports by its registry digest, or by its image id when it has
//! none (an image built here and never pushed).

use crate::engine::{Engine, EngineError, ImageInfo};
use crate::model::BaseRecord;

/// An image resolved: its record in the report (the libc is filled in once observed) and what
/// its configuration says (environment, working directory).
pub struct Resolved {
    pub record: BaseRecord,
    pub info: ImageInfo,
}

/// Hex digits of a digest shown in the image's name (as `docker image ls` shows ids).
const SHORT: usize = 12;

/// The name an image has in a report: `repo@sha256:<12 hex>` of its registry digest, or
/// `sha256:<12 hex>` of its image id when it has no registry digest. The full digest and id are
/// in the record.
pub fn name_of(info: &ImageInfo, reference: &str) -> String {
    let short = |d: &str| {
        let hex = d.strip_prefix("sha256:").unwrap_or(d);
        format!("sha256:{}", &hex[..hex.len().min(SHORT)])
    };
    let repo = crate::engine::repository_of(reference);
    let digest = info
        .repo_digests
        .iter()
        .find(|d| d.split('@').next() == Some(repo))
        .or_else(|| info.repo_digests.first())
        .and_then(|d| d.split_once('@'));
    match digest {
        Some((repo, d)) => format!("{repo}@{}", short(d)),
        None => short(&info.id),
    }
}

/// Resolves an image reference: the engine's own image of that name, else pulled. Never built,
/// changed or tagged.
pub async fn resolve(engine: &Engine, reference: &str) -> Result<Resolved, EngineError> {
    let info = match engine.image(reference).await? {
        Some(i) => i,
        None => {
            let pulled = engine.pull(reference).await;
            match engine.image(reference).await? {
                Some(i) => i,
                None => {
                    return Err(EngineError::other(
                        format!("failed to resolve image {reference}"),
                        match pulled {
                            Err(e) => format!("the engine has no such image and pulling it failed: {e}"),
                            Ok(()) => "the engine has no such image, and pulling it gave none".to_string(),
                        },
                    ))
                }
            }
        }
    };
    let record = BaseRecord {
        name: name_of(&info, reference),
        image: reference.to_string(),
        digest: info.digest_for(reference),
        image_id: info.id.clone(),
        size: info.size,
        required: true,
        libc: None,
        compilers: Default::default(),
    };
    Ok(Resolved { record, info })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, digests: &[&str]) -> ImageInfo {
        ImageInfo {
            id: id.into(),
            repo_digests: digests.iter().map(|d| d.to_string()).collect(),
            size: 0,
            labels: Default::default(),
            env: vec![],
            working_dir: None,
        }
    }

    #[test]
    fn an_image_is_named_by_its_registry_digest_else_by_its_id() {
        let id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let d = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        assert_eq!(name_of(&info(id, &[]), "svc:alpine"), "sha256:0123456789ab");
        let pushed = info(id, &[&format!("other/x@{id}"), &format!("127.0.0.1:5000/svc@{d}")]);
        assert_eq!(name_of(&pushed, "127.0.0.1:5000/svc:alpine"), "127.0.0.1:5000/svc@sha256:fedcba987654");
        // A reference of another repository still names the image by a digest it has.
        assert_eq!(name_of(&pushed, "local:tag"), "other/x@sha256:0123456789ab");
    }
}
