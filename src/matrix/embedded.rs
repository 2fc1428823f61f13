//! The matrices built into the binary: the public default (`matrix/default.toml` with the smoke
//! scripts it names), used when nothing names another matrix, and the commented starting point
//! `muslcheck init` writes.

use std::path::Path;

use super::{Diagnostic, Matrix};

/// The default matrix, as shipped in `matrix/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../matrix/default.toml");

/// Where the built-in matrix's diagnostics and smoke scripts say they are.
pub const DEFAULT_PATH: &str = "<embedded>/default.toml";

/// The smoke scripts the default matrix names, as it names them.
pub const SMOKE: &[(&str, &str)] = &[
    ("smoke/asyncpg.py", include_str!("../../matrix/smoke/asyncpg.py")),
    ("smoke/cryptography.py", include_str!("../../matrix/smoke/cryptography.py")),
    ("smoke/argon2-cffi.py", include_str!("../../matrix/smoke/argon2-cffi.py")),
    ("smoke/hiredis.py", include_str!("../../matrix/smoke/hiredis.py")),
    ("smoke/grpcio.py", include_str!("../../matrix/smoke/grpcio.py")),
    ("smoke/numpy.py", include_str!("../../matrix/smoke/numpy.py")),
    ("smoke/pandas.py", include_str!("../../matrix/smoke/pandas.py")),
    ("smoke/scikit-learn.py", include_str!("../../matrix/smoke/scikit-learn.py")),
];

/// What `muslcheck init` writes: the default's bases and policy, every setting commented.
pub const INIT_TOML: &str = include_str!("../../matrix/init.toml");

/// The built-in default matrix, validated like any other.
pub fn default_matrix() -> Result<Matrix, Vec<Diagnostic>> {
    let path = Path::new(DEFAULT_PATH);
    let raw = super::raw::parse(path, DEFAULT_TOML)?;
    super::validate::validate(path, DEFAULT_TOML, raw, super::validate::Files::Embedded(SMOKE), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_default_validates_with_its_smoke_scripts_and_the_policy_defaults() {
        let m = default_matrix().unwrap_or_else(|d| panic!("{d:?}"));
        let images: Vec<&str> = m.bases.iter().map(|b| b.image.as_str()).collect();
        assert_eq!(images, ["python:3.13-slim", "python:3.13-alpine"]);
        assert_eq!(m.policy, super::super::Policy::default());
        assert_eq!(m.dependencies.len(), 8);
        for d in &m.dependencies {
            let (path, text) = d.smoke.as_ref().unwrap_or_else(|| panic!("{} has no smoke script", d.name));
            let on_disk =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix").join(path.strip_prefix("<embedded>").unwrap());
            assert_eq!(&std::fs::read_to_string(&on_disk).unwrap(), text, "{}", on_disk.display());
        }
        // The built-in matrix reads nothing from the disk: a ca_bundle or an unknown smoke
        // script is refused with its position.
        let text = format!("{DEFAULT_TOML}\n[[dependency]]\nrequirement = \"six\"\nsmoke = \"smoke/six.py\"\n");
        let raw = super::super::raw::parse(Path::new(DEFAULT_PATH), &text).unwrap();
        let errs = super::super::validate::validate(
            Path::new(DEFAULT_PATH),
            &text,
            raw,
            super::super::validate::Files::Embedded(SMOKE),
            0,
        )
        .unwrap_err();
        assert!(
            errs[0].to_string().starts_with("<embedded>/default.toml:")
                && errs[0].message.contains("smoke/six.py is not built into muslcheck"),
            "{errs:?}"
        );
    }

    #[test]
    fn what_init_writes_loads_with_the_defaults_bases_and_policy() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("muslcheck.toml");
        std::fs::write(&p, INIT_TOML).unwrap();
        let written = Matrix::load(&p).unwrap_or_else(|e| panic!("{e:?}"));
        let default = default_matrix().unwrap();
        assert_eq!(written.bases, default.bases);
        assert_eq!(written.policy, default.policy);
        let names = |m: &Matrix| m.dependencies.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&written), names(&default));
    }
}
