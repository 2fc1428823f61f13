//! What `inspect`, `repro --image` and `dns --image` share: an image the user named, resolved
//! as it is, with the interpreter its probes run with and the libc that interpreter runs on.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::inspect::{self, Interpreter};
use crate::model::BaseRecord;

/// Resolves an image, refusing one whose name another image of this run already has (the
/// same image named twice).
pub(super) async fn resolve(engine: &Engine, reference: &str, taken: &[BaseRecord]) -> Result<inspect::Resolved> {
    let resolved = inspect::resolve(engine, reference).await?;
    if let Some(other) = taken.iter().find(|b| b.image_id == resolved.record.image_id) {
        return Err(Error::Usage(format!(
            "`{reference}` and `{}` are the same image ({}): an image compared with itself shows nothing",
            other.image, resolved.record.image_id
        )));
    }
    Ok(resolved)
}

/// Why an image cannot be probed (no interpreter found, or a `--python` not in it): a usage
/// error naming the image.
pub(super) fn no_interpreter(reference: &str, why: String) -> Error {
    Error::Usage(format!("image {reference}: {why}"))
}

/// An image and its main interpreter (see `inspect::interpreters::main_index`), with the libc
/// observed through it, for a command that runs one program in each image.
pub(super) async fn with_main(
    engine: &Engine,
    reference: &str,
    chosen: Option<&str>,
    taken: &[BaseRecord],
) -> Result<(BaseRecord, Interpreter)> {
    let image = resolve(engine, reference, taken).await?;
    let python =
        inspect::interpreters::main(engine, &image, chosen).await?.map_err(|why| no_interpreter(reference, why))?;
    let mut record = image.record;
    let (libc, errors) = crate::probe::sections::observe_libc(engine, &record.image_id, &python.path).await?;
    if libc.is_none() {
        tracing::warn!("image {reference}: could not observe its libc: {}", errors.join("; "));
    }
    record.libc = libc;
    eprintln!(
        "{}: {} ({}, {})",
        record.name,
        python.path,
        python.how,
        record.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "libc not observed".into())
    );
    Ok((record, python))
}
