//! Which matrix a command uses, as ruff and pytest find their configuration: `--matrix`, then
//! `MUSLCHECK_MATRIX`, then the nearest `muslcheck.toml` or `pyproject.toml` with a
//! `[tool.muslcheck]` table in the current directory or above it (in each directory the
//! `muslcheck.toml` first; the search stops at the filesystem root, or after the directory that
//! holds `.git`), then the matrix built into the binary.

use std::path::{Path, PathBuf};

use super::validate::Files;
use super::{Diagnostic, Matrix};

/// The file name looked for in each directory.
pub const FILE_NAME: &str = "muslcheck.toml";

/// Where the matrix of a run came from: the report's `matrix_source`, and `doctor`'s.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub enum Source {
    /// Read from a path given to [`Matrix::load`] directly.
    #[default]
    Path,
    /// `--matrix`.
    Flag,
    /// `MUSLCHECK_MATRIX`.
    Env,
    /// A `muslcheck.toml` found in this directory.
    Found(PathBuf),
    /// The `[tool.muslcheck]` table of the `pyproject.toml` in this directory.
    Pyproject(PathBuf),
    /// Nothing named or found: the built-in default. The directories searched, nearest first.
    Embedded(Vec<PathBuf>),
}

impl Source {
    /// One line for the report and `doctor`, the path of the file aside.
    pub fn describe(&self, path: &Path) -> String {
        match self {
            Source::Path => path.display().to_string(),
            Source::Flag => format!("{} (--matrix)", path.display()),
            Source::Env => format!("{} (MUSLCHECK_MATRIX)", path.display()),
            Source::Found(dir) => format!("{FILE_NAME} (found in {})", dir.display()),
            Source::Pyproject(dir) => format!("[tool.muslcheck] of pyproject.toml (found in {})", dir.display()),
            Source::Embedded(_) => "embedded default".into(),
        }
    }

    /// Where the search looked, for `doctor` (empty unless the built-in default was used).
    pub fn searched(&self) -> String {
        match self {
            Source::Embedded(dirs) if !dirs.is_empty() => format!(
                "no {FILE_NAME} and no pyproject.toml with [tool.muslcheck] in {}{}",
                dirs[0].display(),
                match dirs.last() {
                    Some(last) if dirs.len() > 1 => format!(" or above it, up to {}", last.display()),
                    _ => String::new(),
                }
            ),
            _ => String::new(),
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, Source::Embedded(_))
    }
}

/// Finds and loads the matrix: `flag` (`--matrix`), else `env` (`MUSLCHECK_MATRIX`, ignored
/// when empty), else the search from `cwd` (an absolute directory), else the built-in default.
pub fn discover(flag: Option<&Path>, env: Option<&Path>, cwd: &Path) -> Result<Matrix, Vec<Diagnostic>> {
    let named = match (flag, env.filter(|e| !e.as_os_str().is_empty())) {
        (Some(f), _) => Some((f, Source::Flag, "--matrix")),
        (None, Some(e)) => Some((e, Source::Env, "MUSLCHECK_MATRIX")),
        (None, None) => None,
    };
    if let Some((path, source, by)) = named {
        let mut m = Matrix::load(path).map_err(|mut d| {
            // A matrix that is not there: say who named it and where it was looked for.
            if !path.exists() {
                for x in &mut d {
                    x.message.push_str(&format!(" (named by {by}; looked for at {})", cwd.join(path).display()));
                }
            }
            d
        })?;
        m.source = source;
        return Ok(m);
    }
    let mut searched = Vec::new();
    for dir in cwd.ancestors() {
        searched.push(dir.to_path_buf());
        let file = dir.join(FILE_NAME);
        if file.exists() {
            let mut m = Matrix::load(&file)?;
            m.source = Source::Found(dir.to_path_buf());
            return Ok(m);
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file() {
            if let Some(mut m) = from_pyproject(&pyproject)? {
                m.source = Source::Pyproject(dir.to_path_buf());
                return Ok(m);
            }
        }
        // The top of a repository (`.git` is a directory, or a file in a worktree) ends it.
        if dir.join(".git").exists() {
            break;
        }
    }
    let mut m = super::embedded::default_matrix()?;
    m.source = Source::Embedded(searched);
    Ok(m)
}

/// The matrix in a pyproject.toml's `[tool.muslcheck]` table, if it has one: the schema of a
/// matrix file, its paths relative to the pyproject's directory, its diagnostics located in it.
pub fn from_pyproject(path: &Path) -> Result<Option<Matrix>, Vec<Diagnostic>> {
    let text = super::read_located(path, "the pyproject.toml for [tool.muslcheck]")?;
    let Some(raw) = super::raw::parse_pyproject(path, &text)? else {
        return Ok(None);
    };
    let anchor = ["[tool.muslcheck]", "tool.muslcheck", "muslcheck"].iter().find_map(|k| text.find(k)).unwrap_or(0);
    super::validate::validate(path, &text, raw, Files::Disk, anchor).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATRIX: &str = "[[base]]\nname = \"a\"\nimage = \"x\"\n";

    /// A directory tree bounded by a `.git` at its top, so the search never leaves it.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().canonicalize().unwrap().join("repo");
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("app/src")).unwrap();
        (d, top)
    }

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn base(m: &Matrix) -> &str {
        &m.bases[0].name
    }

    #[test]
    fn the_flag_then_the_environment_then_the_nearest_file_then_the_built_in_default() {
        let (_d, top) = tree();
        let cwd = top.join("app/src");
        let m = discover(None, None, &cwd).unwrap();
        assert_eq!(m.source, Source::Embedded(vec![cwd.clone(), top.join("app"), top.clone()]));
        assert_eq!(m.source.describe(&m.path), "embedded default");
        assert!(m.source.searched().contains(&format!("in {} or above it, up to {}", cwd.display(), top.display())));
        write(&top.join(FILE_NAME), &MATRIX.replace("\"a\"", "\"top\""));
        let m = discover(None, None, &cwd).unwrap();
        assert_eq!((base(&m), &m.source), ("top", &Source::Found(top.clone())));
        assert_eq!(m.source.describe(&m.path), format!("muslcheck.toml (found in {})", top.display()));
        // A pyproject.toml without [tool.muslcheck] is passed over; one with it, nearer, wins.
        write(&top.join("app/pyproject.toml"), "[project]\nname = \"app\"\n");
        assert_eq!(base(&discover(None, None, &cwd).unwrap()), "top");
        write(
            &top.join("app/pyproject.toml"),
            "[project]\nname = \"app\"\n[tool.muslcheck]\n[[tool.muslcheck.base]]\nname = \"py\"\nimage = \"x\"\n",
        );
        let m = discover(None, None, &cwd).unwrap();
        assert_eq!((base(&m), &m.source), ("py", &Source::Pyproject(top.join("app"))));
        // In one directory, muslcheck.toml comes first.
        write(&top.join("app").join(FILE_NAME), &MATRIX.replace("\"a\"", "\"app\""));
        assert_eq!(base(&discover(None, None, &cwd).unwrap()), "app");
        // The environment, then the flag, override the search; an empty variable is unset.
        let other = top.join("other.toml");
        write(&other, &MATRIX.replace("\"a\"", "\"env\""));
        let flag = top.join("flag.toml");
        write(&flag, &MATRIX.replace("\"a\"", "\"flag\""));
        let m = discover(None, Some(&other), &cwd).unwrap();
        assert_eq!((base(&m), m.source.describe(&m.path)), ("env", format!("{} (MUSLCHECK_MATRIX)", other.display())));
        assert_eq!(base(&discover(None, Some(Path::new("")), &cwd).unwrap()), "app");
        let m = discover(Some(&flag), Some(&other), &cwd).unwrap();
        assert_eq!((base(&m), m.source.describe(&m.path)), ("flag", format!("{} (--matrix)", flag.display())));
    }

    #[test]
    fn the_search_stops_at_the_top_of_the_repository() {
        let (_d, top) = tree();
        // Above the directory holding .git: not this project's.
        write(&top.parent().unwrap().join(FILE_NAME), MATRIX);
        let m = discover(None, None, &top.join("app")).unwrap();
        assert!(m.source.is_embedded(), "{:?}", m.source);
        // A worktree's .git is a file: the same boundary.
        std::fs::remove_dir(top.join(".git")).unwrap();
        write(&top.join(".git"), "gitdir: /elsewhere\n");
        assert!(discover(None, None, &top.join("app")).unwrap().source.is_embedded());
    }

    #[test]
    fn a_pyproject_matrix_is_located_in_the_pyproject_and_its_paths_are_relative_to_it() {
        let (_d, top) = tree();
        std::fs::create_dir_all(top.join("checks")).unwrap();
        write(&top.join("checks/six.py"), "import six\n");
        let py = top.join("pyproject.toml");
        let text = "[project]\nname = \"app\"\n\n[tool.muslcheck.policy]\nbuild_timeout = \"soon\"\n\n[[tool.muslcheck.base]]\nname = \"a\"\nimage = \"x\"\n\n[[tool.muslcheck.dependency]]\nrequirement = \"six\"\nsmoke = \"checks/six.py\"\n[[tool.muslcheck.dependency]]\nrequirement = \"lz4\"\nsmoke = \"checks/nope.py\"\n";
        write(&py, text);
        let errs = discover(None, None, &top.join("app")).unwrap_err();
        let shown: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        let at = |l: usize, c: usize| format!("{}:{l}:{c}: ", py.display());
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with(&at(5, 17)) && shown[0].contains("`build_timeout`"), "{shown:?}");
        assert!(shown[1].starts_with(&at(16, 9)) && shown[1].contains("checks/nope.py"), "{shown:?}");
        // Fixed, the smoke path is the pyproject directory's.
        write(&py, &text.replace("build_timeout = \"soon\"", "build_timeout = \"20m\"").replace("nope.py", "six.py"));
        let m = discover(None, None, &top.join("app")).unwrap();
        assert_eq!(m.dependencies[0].smoke.as_ref().unwrap(), &(top.join("checks/six.py"), "import six\n".to_string()));
        // Unknown keys and a table without a base point into the pyproject too.
        write(&py, "[project]\nname = \"app\"\n[tool.muslcheck]\nbases = 1\n");
        let e = discover(None, None, &top).unwrap_err()[0].to_string();
        assert!(e.starts_with(&at(4, 1)) && e.contains("unknown field `bases`"), "{e}");
        write(&py, "[project]\nname = \"app\"\n[tool.muslcheck]\n");
        let e = discover(None, None, &top).unwrap_err()[0].to_string();
        assert!(e.starts_with(&at(3, 1)) && e.contains("names no base"), "{e}");
    }

    #[test]
    fn a_named_matrix_that_is_not_there_says_who_named_it_and_where_it_was_looked_for() {
        let (_d, top) = tree();
        let e = discover(Some(&top.join("nope.toml")), None, &top).unwrap_err()[0].to_string();
        assert!(
            e.contains("failed to read the matrix")
                && e.contains(&format!("(named by --matrix; looked for at {})", top.join("nope.toml").display())),
            "{e}"
        );
        let e = discover(None, Some(&top.join("env.toml")), &top).unwrap_err()[0].to_string();
        assert!(e.contains("(named by MUSLCHECK_MATRIX; looked for at"), "{e}");
    }
}
