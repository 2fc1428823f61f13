//! The readers on lock texts written here: what each selects, with which marker and hashes,
//! what it leaves out and what it refuses, each at its line.

use super::*;

fn h(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn pins(dir: &Path, name: &str, text: &str, sel: &Selection) -> Result<Locked, Vec<String>> {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    read(&p, Format::of(&p).expect("a lock's name"), sel)
}

fn lines(l: &Locked) -> Vec<String> {
    l.set.requirements.iter().map(|r| r.requirement.text.clone()).collect()
}

fn uv_lock() -> String {
    format!(
        r#"version = 1
revision = 2
requires-python = ">=3.12"

[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "lib" }},
    {{ name = "six" }},
]

[package.optional-dependencies]
fast = [{{ name = "msgpack", marker = "platform_machine == 'x86_64'" }}]

[package.dev-dependencies]
dev = [{{ name = "iniconfig" }}]

[[package]]
name = "lib"
version = "0.2.0"
source = {{ editable = "packages/lib" }}
dependencies = [{{ name = "colorama", marker = "sys_platform == 'win32'" }}]

[[package]]
name = "colorama"
version = "0.4.6"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://x/colorama-0.4.6-py2.py3-none-any.whl", hash = "{a}" }}]

[[package]]
name = "six"
version = "1.17.0"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://x/six-1.17.0.tar.gz", hash = "{b}" }}
wheels = [{{ url = "https://x/six-1.17.0-py2.py3-none-any.whl", hash = "{c}" }}]

[[package]]
name = "msgpack"
version = "1.1.2"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://x/m.whl", hash = "{d}" }}]

[[package]]
name = "iniconfig"
version = "2.1.0"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://x/i.whl", hash = "{e}" }}]
"#,
        a = h('a'),
        b = h('b'),
        c = h('c'),
        d = h('d'),
        e = h('e')
    )
}

#[test]
fn a_uv_lock_is_walked_from_the_project_with_each_paths_marker() {
    let d = tempfile::tempdir().unwrap();
    let l = pins(d.path(), "uv.lock", &uv_lock(), &Selection::default()).unwrap();
    // `dev` is installed by default, as `uv sync` does; the win32-only dependency keeps its
    // marker for the base to decide; the members are left out and said to be.
    assert_eq!(lines(&l), ["colorama==0.4.6 ; sys_platform == 'win32'", "six==1.17.0", "iniconfig==2.1.0"]);
    let six = &l.set.requirements[1];
    assert_eq!(six.requirement.hashes, [h('b'), h('c')]);
    assert!(six.at.ends_with("uv.lock:35"), "{}", six.at);
    assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
    assert!(l.notes[0].contains("uv.lock:8: app (editable .) is the project's own code"), "{:?}", l.notes);
    let sel = Selection { extras: vec!["fast".into()], no_default_groups: true, ..Default::default() };
    let l = pins(d.path(), "uv.lock", &uv_lock(), &sel).unwrap();
    assert_eq!(lines(&l)[2], "msgpack==1.1.2 ; platform_machine == 'x86_64'");
    assert_eq!(lines(&l).len(), 3, "no dev group");
    // A member alone.
    let sel = Selection { package: Some("lib".into()), no_default_groups: true, ..Default::default() };
    let l = pins(d.path(), "uv.lock", &uv_lock(), &sel).unwrap();
    assert_eq!(lines(&l), ["colorama==0.4.6 ; sys_platform == 'win32'"]);
    let e = pins(d.path(), "uv.lock", &uv_lock(), &Selection { package: Some("nope".into()), ..Default::default() })
        .unwrap_err();
    assert!(e[0].contains("no such workspace member") && e[0].contains("app, lib"), "{e:?}");
    let e = pins(d.path(), "uv.lock", &uv_lock(), &Selection { extras: vec!["x".into()], ..Default::default() })
        .unwrap_err();
    assert!(e[0].contains("uv.lock:8: --extra x: app has no such extra"), "{e:?}");
}

#[test]
fn a_uv_lock_entry_from_git_is_refused_at_its_line_and_markers_join_along_paths() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"version = 1
[[package]]
name = "app"
version = "1"
source = { virtual = "." }
dependencies = [{ name = "a", marker = "sys_platform == 'linux'" }, { name = "tool", marker = "python_version < '3.12'" }]

[[package]]
name = "a"
version = "1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "b", marker = "platform_machine == 'x86_64'" }]

[[package]]
name = "b"
version = "1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "1"
source = { git = "https://example.com/tool.git?rev=abc#abc" }
"#;
    let e = pins(d.path(), "uv.lock", text, &Selection::default()).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with(&format!("{}:19: tool comes from git = ", d.path().join("uv.lock").display())), "{e:?}");
    let ok = text.replace(", { name = \"tool\", marker = \"python_version < '3.12'\" }", "");
    let l = pins(d.path(), "uv.lock", &ok, &Selection::default()).unwrap();
    assert_eq!(
        lines(&l),
        ["a==1 ; sys_platform == 'linux'", "b==1 ; platform_machine == 'x86_64' and sys_platform == 'linux'"]
    );
    assert!(l.set.requirements.iter().all(|r| r.requirement.hashes.is_empty()));
}

#[test]
fn a_pylock_decides_its_groups_and_extras_and_leaves_the_rest_to_the_base() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        r#"lock-version = "1.0"
extras = ["fast"]
dependency-groups = ["default", "dev"]
default-groups = ["default"]
created-by = "test"

[[packages]]
name = "six"
version = "1.17.0"
marker = "\"default\" in dependency_groups"
wheels = [{{ name = "six-1.17.0-py2.py3-none-any.whl", url = "https://x/six.whl", hashes = {{ sha256 = "{}" }} }}]

[[packages]]
name = "pytest"
version = "8.4.2"
marker = "\"dev\" in dependency_groups and sys_platform == 'linux'"
wheels = [{{ name = "p.whl", hashes = {{ sha256 = "{}" }} }}]

[[packages]]
name = "msgpack"
version = "1.1.2"
marker = "'fast' in extras"
wheels = [{{ name = "m.whl", hashes = {{ sha256 = "{}" }} }}]

[[packages]]
name = "app"
directory = {{ path = ".", editable = true }}

[[packages]]
name = "tool"
version = "1"
vcs = {{ type = "git", url = "https://example.com/t.git", commit-id = "abc" }}
marker = "'dev' in dependency_groups"
"#,
        "1".repeat(64),
        "2".repeat(64),
        "3".repeat(64)
    );
    let l = pins(d.path(), "pylock.toml", &text, &Selection::default()).unwrap();
    assert_eq!(lines(&l), ["six==1.17.0"]);
    assert_eq!(l.set.requirements[0].requirement.hashes, [format!("sha256:{}", "1".repeat(64))]);
    assert!(l.notes[0].contains("pylock.toml:25: app (directory .) is the project's own code"), "{:?}", l.notes);
    let sel = Selection { extras: vec!["fast".into()], ..Default::default() };
    assert_eq!(lines(&pins(d.path(), "pylock.toml", &text, &sel).unwrap()), ["six==1.17.0", "msgpack==1.1.2"]);
    // The dev group pulls in the VCS entry: refused at its line.
    let sel = Selection { groups: vec!["dev".into()], ..Default::default() };
    let e = pins(d.path(), "pylock.toml", &text, &sel).unwrap_err();
    assert!(e[0].contains("pylock.toml:29: tool comes from a vcs"), "{e:?}");
    let without_vcs = &text[..text.find("[[packages]]\nname = \"tool\"").unwrap()];
    let sel = Selection { groups: vec!["dev".into()], no_default_groups: true, ..Default::default() };
    assert_eq!(
        lines(&pins(d.path(), "pylock.toml", without_vcs, &sel).unwrap()),
        ["pytest==8.4.2 ; sys_platform == 'linux'"]
    );
    let e =
        pins(d.path(), "pylock.toml", without_vcs, &Selection { groups: vec!["docs".into()], ..Default::default() })
            .unwrap_err();
    assert!(e[0].contains("--group docs: the lock has no such group (default, dev)"), "{e:?}");
}

#[test]
fn a_pipfile_lock_installs_its_categories_and_refuses_a_git_entry_at_its_line() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{{
    "_meta": {{"pipfile-spec": 6, "requires": {{}}, "sources": []}},
    "default": {{
        "six": {{"hashes": ["{}"], "index": "pypi", "version": "==1.17.0"}},
        "colorama": {{"hashes": [], "markers": "sys_platform == 'win32'", "version": "==0.4.6"}},
        "app": {{"editable": true, "path": "."}}
    }},
    "develop": {{
        "tool": {{"git": "https://example.com/tool.git", "ref": "abc"}}
    }}
}}
"#,
        h('a')
    );
    let l = pins(d.path(), "Pipfile.lock", &text, &Selection::default()).unwrap();
    assert_eq!(lines(&l), ["colorama==0.4.6 ; sys_platform == 'win32'", "six==1.17.0"]);
    assert!(l.set.requirements[1].at.ends_with("Pipfile.lock:4"), "{:?}", l.set.requirements[1].at);
    assert!(l.notes[0].contains("Pipfile.lock:6: app is the project's own code"), "{:?}", l.notes);
    let e = pins(d.path(), "Pipfile.lock", &text, &Selection { groups: vec!["dev".into()], ..Default::default() })
        .unwrap_err();
    assert!(e[0].contains("Pipfile.lock:9: tool comes from git https://example.com/tool.git"), "{e:?}");
}

#[test]
fn a_poetry_lock_follows_the_pyproject_groups_extras_and_python_constraints() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pyproject.toml"),
        r#"[tool.poetry]
name = "svc"
version = "1"

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"
msgpack = { version = "^1.1", optional = true }

[tool.poetry.extras]
fast = ["msgpack"]

[tool.poetry.group.test.dependencies]
iniconfig = "*"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
colorama = "*"
"#,
    )
    .unwrap();
    let lock = format!(
        r#"# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "requests"
version = "2.32.3"
optional = false
python-versions = ">=3.8"
files = [
    {{file = "requests-2.32.3-py3-none-any.whl", hash = "{a}"}},
]

[package.dependencies]
idna = ">=2.5,<4"
tomli = {{version = "*", python = "<3.11"}}
pysocks = {{version = ">=1.5.6", optional = true, markers = "extra == \"socks\""}}

[package.extras]
socks = ["PySocks (>=1.5.6,!=1.5.7)"]

[[package]]
name = "idna"
version = "3.10"
optional = false
python-versions = ">=3.6"
files = [{{file = "idna-3.10-py3-none-any.whl", hash = "{b}"}}]

[[package]]
name = "tomli"
version = "2.2.1"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "pysocks"
version = "1.7.1"
optional = true
python-versions = "*"
files = []

[[package]]
name = "msgpack"
version = "1.1.2"
optional = true
python-versions = ">=3.9"
files = []

[[package]]
name = "iniconfig"
version = "2.1.0"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "colorama"
version = "0.4.6"
optional = false
python-versions = "*"
files = []

[[package]]
name = "gitdep"
version = "1.0"
optional = false
python-versions = "*"
files = []

[package.source]
type = "git"
url = "https://example.com/gitdep.git"
reference = "main"
resolved_reference = "abc"
"#,
        a = h('a'),
        b = h('b')
    );
    let l = pins(d.path(), "poetry.lock", &lock, &Selection::default()).unwrap();
    assert_eq!(
        lines(&l),
        ["requests==2.32.3", "idna==3.10", "tomli==2.2.1 ; python_full_version < '3.11'", "iniconfig==2.1.0"]
    );
    assert_eq!(l.set.requirements[0].requirement.hashes, [h('a')]);
    assert!(l.set.requirements[0].at.ends_with("poetry.lock:3"));
    assert!(l.notes[0].contains("svc is the project itself"), "{:?}", l.notes);
    let sel = Selection {
        extras: vec!["fast".into()],
        groups: vec!["docs".into()],
        no_default_groups: true,
        ..Default::default()
    };
    let names: Vec<String> = lines(&pins(d.path(), "poetry.lock", &lock, &sel).unwrap());
    assert_eq!(
        names,
        [
            "requests==2.32.3",
            "idna==3.10",
            "tomli==2.2.1 ; python_full_version < '3.11'",
            "msgpack==1.1.2",
            "colorama==0.4.6"
        ]
    );
    // A dependency on the git entry is refused at the entry's line.
    std::fs::write(
        d.path().join("pyproject.toml"),
        "[tool.poetry]\nname = \"svc\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\ngitdep = { git = \"https://example.com/gitdep.git\" }\n",
    )
    .unwrap();
    let e = pins(d.path(), "poetry.lock", &lock, &Selection::default()).unwrap_err();
    assert!(e[0].contains("poetry.lock:62: gitdep comes from git https://example.com/gitdep.git"), "{e:?}");
}

#[test]
fn lock_files_are_known_by_name_and_a_broken_one_says_where() {
    assert_eq!(Format::of(Path::new("a/uv.lock")), Some(Format::Uv));
    assert_eq!(Format::of(Path::new("pylock.prod.toml")), Some(Format::Pylock));
    assert_eq!(Format::of(Path::new("Pipfile.lock")), Some(Format::Pipfile));
    assert_eq!(Format::of(Path::new("poetry.lock")), Some(Format::Poetry));
    assert_eq!(Format::of(Path::new("pyproject.toml")), None);
    assert_eq!(Format::of(Path::new("requirements.lock")), None);
    let d = tempfile::tempdir().unwrap();
    let e = pins(d.path(), "uv.lock", "version = 1\n[[package]]\nname = 3\n", &Selection::default()).unwrap_err();
    assert!(e[0].contains("uv.lock:3: not a lock this version reads"), "{e:?}");
    let e = pins(d.path(), "Pipfile.lock", "{\n\"default\": [\n", &Selection::default()).unwrap_err();
    assert!(e[0].contains("Pipfile.lock:3: not a Pipfile.lock"), "{e:?}");
    let e = pins(d.path(), "Pipfile.lock", "{}", &Selection { package: Some("x".into()), ..Default::default() })
        .unwrap_err();
    assert!(e[0].contains("--package selects a member of a uv workspace"), "{e:?}");
}

/// The real locks under tests/fixtures/locks/ (their sources are in the README there).
fn real(file: &str, sel: Selection) -> Result<Locked, Vec<String>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/locks").join(file);
    read(&p, Format::of(&p).unwrap(), &sel)
}

#[test]
fn real_locks_read_into_the_pins_their_tools_install() {
    // uv (NW-PaGe/test_pkg): polars, and the dev group uv syncs by default; pytest's colorama
    // only under its marker; the virtual project left out.
    let l = real("uv/uv.lock", Selection::default()).unwrap();
    assert_eq!(lines(&l).len(), 7, "{:?}", lines(&l));
    assert!(lines(&l).contains(&"colorama==0.4.6 ; sys_platform == 'win32'".to_string()));
    let polars = l.set.requirements.iter().find(|r| r.requirement.name == "polars").unwrap();
    assert_eq!(polars.requirement.hashes.len(), 7, "the sdist and six wheels");
    assert!(l.notes[0].contains("test-pkg (virtual .) is the project's own code"), "{:?}", l.notes);
    let l = real("uv/uv.lock", Selection { no_default_groups: true, ..Default::default() }).unwrap();
    assert_eq!(lines(&l), ["polars==1.32.3"]);
    // pylock (Fuyukai/h11, written by PDM): its default group has one pin, for Pythons before
    // 3.12; the dev group pulls in the tools, with the markers the base decides.
    let l = real("pylock/pylock.toml", Selection::default()).unwrap();
    assert_eq!(lines(&l), ["typing-extensions==4.15.0 ; python_full_version < '3.12'"]);
    let l = real("pylock/pylock.toml", Selection { groups: vec!["dev".into()], ..Default::default() }).unwrap();
    assert!(lines(&l).contains(&"tomli==2.3.0 ; python_full_version < '3.11'".to_string()), "{:?}", lines(&l));
    assert!(l.set.requirements.iter().all(|r| !r.requirement.hashes.is_empty()));
    // poetry (01Joseph-Hwang10/git-remote-get): main alone, or with its two groups.
    let main = real("poetry/poetry.lock", Selection { no_default_groups: true, ..Default::default() }).unwrap();
    assert!(lines(&main).contains(&"colorama==0.4.6 ; platform_system == 'Windows'".to_string()), "{:?}", lines(&main));
    assert!(lines(&main).contains(&"pygithub==2.2.0".to_string()));
    assert!(!lines(&main).iter().any(|l| l.starts_with("pytest==")));
    let all = real("poetry/poetry.lock", Selection::default()).unwrap();
    assert!(all.set.requirements.len() > main.set.requirements.len());
    assert!(lines(&all).contains(&"pytest==7.4.4".to_string()));
    assert!(all.notes[0].contains("git-remote-get is the project itself"));
    // Pipfile (chuck1/modconf): default and develop share pins; the project is `-e .`.
    let l = real("pipfile/Pipfile.lock", Selection { groups: vec!["develop".into()], ..Default::default() }).unwrap();
    assert_eq!(lines(&l).iter().filter(|l| l.starts_with("pytest==")).count(), 1, "{:?}", lines(&l));
    assert!(lines(&l).contains(&"coverage==4.4.1".to_string()));
    assert!(l.notes[0].contains("-e . is the project's own code"), "{:?}", l.notes);
}
