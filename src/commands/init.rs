//! `init`: writes a commented `muslcheck.toml` with the built-in defaults into the current
//! directory, where every command run there (or below) finds it. An existing one is kept unless
//! `--force` says to replace it.

use crate::cli::InitArgs;
use crate::error::{Error, Result, EXIT_OK};
use crate::matrix::discover::FILE_NAME;

pub fn run(a: &InitArgs) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("init: cannot read the current directory", e))?;
    let path = cwd.join(FILE_NAME);
    // A dangling symlink exists too: `exists()` would follow it and say no.
    if std::fs::symlink_metadata(&path).is_ok() && !a.force {
        return Err(Error::Usage(format!(
            "init: {} already exists: edit it, or replace it with the defaults with `muslcheck init --force`",
            path.display()
        )));
    }
    crate::results::write_atomic(&path, crate::matrix::embedded::INIT_TOML.as_bytes())
        .map_err(|e| Error::io(format!("init: failed to write {}", path.display()), e))?;
    println!(
        "wrote {}: the built-in default bases, policy and seed dependencies, commented; \
         muslcheck commands run in {} or below it now use it",
        path.display(),
        cwd.display()
    );
    Ok(EXIT_OK)
}
