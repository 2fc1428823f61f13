//! `bases pin` and `bases check`: digest pins that are checked. `pin` resolves each base's tag
//! to the digest its registry serves now (pulled, as runs do, never invented) and writes
//! `image = "repo:tag@sha256:…"` into the matrix, keeping its comments and layout. `check` asks
//! the registry again what each pinned tag points to and reports a pin that went stale (exit 1),
//! with the old and the new digest.

use std::path::Path;

use crate::cli::{BasesArgs, BasesCommand};
use crate::engine::Engine;
use crate::error::{Error, Result, EXIT_FINDINGS, EXIT_INFRA, EXIT_OK};

/// `repo:tag@sha256:…` -> (`repo:tag`, Some(`sha256:…`)).
pub fn split_pin(image: &str) -> (&str, Option<&str>) {
    match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    }
}

/// The digest the registry serves for `name` (a tag) now: pulled, then read from the engine.
async fn current_digest(engine: &Engine, name: &str) -> std::result::Result<String, String> {
    engine.pull(name).await.map_err(|e| e.to_string())?;
    let info = engine
        .image(name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{name} is not on the engine after pulling it"))?;
    info.digest_for(name).ok_or_else(|| format!("the engine knows no registry digest for {name}"))
}

pub async fn run(a: &BasesArgs) -> Result<i32> {
    let (matrix_args, pin) = match &a.command {
        BasesCommand::Pin(m) => (m, true),
        BasesCommand::Check(m) => (m, false),
    };
    let matrix = crate::settings::load_matrix(matrix_args)?;
    if pin && matrix.source.is_embedded() {
        return Err(Error::Usage(format!(
            "bases pin: the matrix is the embedded default ({}), which has no file to pin in: `muslcheck init` writes it to muslcheck.toml",
            matrix.source.searched()
        )));
    }
    let engine = Engine::connect(&super::new_run_id()).await?;
    let mut pins = vec![];
    let mut problems = 0;
    let mut stale = 0;
    for base in &matrix.bases {
        let (name, pinned) = split_pin(&base.image);
        if name.contains("@") || !name.rsplit('/').next().unwrap_or(name).contains(':') {
            println!("{}: {} names no tag to pin or check against", base.name, base.image);
            if pinned.is_none() {
                continue;
            }
        }
        match (current_digest(&engine, name).await, pin, pinned) {
            (Err(e), _, _) => {
                problems += 1;
                eprintln!("{}: cannot resolve {name}: {e}", base.name);
            }
            (Ok(now), true, _) => {
                println!("{}: {name} is {now}", base.name);
                pins.push((base.name.clone(), format!("{name}@{now}")));
            }
            (Ok(now), false, Some(was)) if now == was => println!("{}: {name} still is {was}", base.name),
            (Ok(now), false, Some(was)) => {
                stale += 1;
                println!("{}: STALE: the pin says {was}, {name} now is {now}", base.name);
            }
            (Ok(now), false, None) => {
                println!("{}: not pinned ({name} now is {now}; `muslcheck bases pin` pins it)", base.name)
            }
        }
    }
    engine.cleanup_run().await;
    if problems > 0 {
        return Ok(EXIT_INFRA);
    }
    if pin {
        write_pins(&matrix.path, &pins)?;
        println!("pinned {} base(s) in {}", pins.len(), matrix.path.display());
        return Ok(EXIT_OK);
    }
    Ok(if stale > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// Rewrites the `image` of the named bases, leaving every other byte of the file as it was.
fn write_pins(path: &Path, pins: &[(String, String)]) -> Result<()> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let in_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let new = pin_text(&text, pins, in_pyproject).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    // Through a symlinked matrix to its target, with its mode: the link and the mode are the
    // user's layout, not something pinning may change.
    crate::results::replace_through(path, new.as_bytes()).map_err(|e| Error::Usage(format!("bases pin: {e}")))
}

/// The matrix text with the bases' images replaced (toml_edit keeps comments and layout).
/// In a pyproject.toml, the bases are `[[tool.muslcheck.base]]`.
pub fn pin_text(text: &str, pins: &[(String, String)], in_pyproject: bool) -> std::result::Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.to_string())?;
    let bases = if in_pyproject {
        doc.get_mut("tool").and_then(|t| t.get_mut("muslcheck")).and_then(|t| t.get_mut("base"))
    } else {
        doc.get_mut("base")
    };
    let bases = bases.and_then(|b| b.as_array_of_tables_mut()).ok_or(if in_pyproject {
        "no [[tool.muslcheck.base]] tables"
    } else {
        "no [[base]] tables"
    })?;
    for t in bases.iter_mut() {
        let Some(name) = t.get("name").and_then(|n| n.as_str()).map(str::to_string) else { continue };
        if let Some((_, image)) = pins.iter().find(|(n, _)| *n == name) {
            let decor = t.get("image").and_then(|i| i.as_value()).map(|v| v.decor().clone());
            let mut v = toml_edit::Value::from(image.as_str());
            if let Some(d) = decor {
                *v.decor_mut() = d;
            }
            t["image"] = toml_edit::Item::Value(v);
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_keep_comments_and_layout() {
        let text = "# bases\n[[base]]\nname = \"musl\"   # the small one\nimage = \"reg:5000/py:3.13-musl\"  # tag\n\n[[base]]\nname = \"glibc\"\nimage = \"reg:5000/py:3.13-glibc\"\n";
        let out = pin_text(text, &[("musl".into(), "reg:5000/py:3.13-musl@sha256:ab".into())], false).unwrap();
        assert_eq!(out, text.replace("\"reg:5000/py:3.13-musl\"", "\"reg:5000/py:3.13-musl@sha256:ab\""));
        // The same in a pyproject.toml's [tool.muslcheck], nothing else of the file touched.
        let py = format!("[project]\nname = \"app\"\n\n{}", text.replace("[[base]]", "[[tool.muslcheck.base]]"));
        let out = pin_text(&py, &[("musl".into(), "reg:5000/py:3.13-musl@sha256:ab".into())], true).unwrap();
        assert_eq!(out, py.replace("\"reg:5000/py:3.13-musl\"", "\"reg:5000/py:3.13-musl@sha256:ab\""));
        assert!(pin_text(&py, &[], false).is_err());
        assert_eq!(split_pin("reg:5000/py:3.13@sha256:ab"), ("reg:5000/py:3.13", Some("sha256:ab")));
        assert_eq!(split_pin("py:3.13"), ("py:3.13", None));
    }

    #[test]
    fn pinning_a_symlinked_matrix_rewrites_its_target_and_a_read_only_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("local.toml");
        std::fs::write(&real, "[[base]]\nname = \"musl\"\nimage = \"py:3.13\"\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = d.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let pins = [("musl".to_string(), "py:3.13@sha256:ab".to_string())];
        write_pins(&link, &pins).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(std::fs::read_to_string(&real).unwrap().contains("py:3.13@sha256:ab"));
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o644);
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_pins(&link, &pins).unwrap_err().to_string();
        assert!(e.contains("bases pin: ") && e.contains("is read-only (mode 0444)"), "{e}");
    }
}
