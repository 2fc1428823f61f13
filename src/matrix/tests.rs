use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Matrix, Vec<Diagnostic>> {
    Matrix::parse(Path::new("m.toml"), text)
}

const GOOD: &str = r#"
[policy]
source_builds = "fail"
build_timeout = "20m"

[[base]]
name = "glibc"
image = "127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc"

[[base]]
name = "musl"
image = "python:3.13-alpine"
family = "apk"
packages = ["build-base"]
required = false

[[dependency]]
requirement = "Argon2_CFFI>=23"

[[dependency]]
name = "np"
requirement = "numpy"
known_difference = { kinds = ["source-build"], reason = "no musllinux wheel yet" }
"#;

#[test]
fn a_good_matrix_loads_with_defaults() {
    let m = parse(GOOD).unwrap();
    assert_eq!(m.bases.len(), 2);
    assert_eq!(m.bases[0].family, Family::None);
    assert_eq!(m.bases[0].python, "python3");
    assert!(m.bases[0].required && !m.bases[1].required);
    assert_eq!(m.dependencies[0].name, "argon2-cffi");
    assert_eq!(m.dependencies[1].name, "np");
    assert!(m.policy.source_builds_fail);
    assert!(m.policy.blocking.contains(&FindingKind::SourceBuild));
    assert_eq!(m.policy.build_timeout.as_secs(), 1200);
}

#[test]
fn unknown_keys_are_located() {
    let err = parse("[[base]]\nname = \"a\"\nimage = \"x\"\nimgae = \"y\"\n").unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!((err[0].line, err[0].column), (4, 1), "{}", err[0]);
    assert!(err[0].message.contains("imgae"), "{}", err[0]);
}

#[test]
fn truncated_toml_is_located() {
    let err = parse("[[base]]\nname = \"a\nimage = \"x\"\n").unwrap_err();
    assert_eq!(err[0].line, 2, "{}", err[0]);
}

#[test]
fn wrong_types_are_located() {
    let err = parse("[[base]]\nname = \"a\"\nimage = \"x\"\nrequired = \"yes\"\n").unwrap_err();
    assert_eq!(err[0].line, 4, "{}", err[0]);
}

#[test]
fn every_problem_is_collected_with_its_line() {
    let text = r#"
[policy]
source_builds = "sometimes"
blocking = ["crash", "bogus"]

[[base]]
name = "a"
image = "x"

[[base]]
name = "a"
image = "bad image"
family = "yum"

[[dependency]]
requirement = "numpy && rm -rf /"

[[dependency]]
requirement = "msgpack"

[[dependency]]
requirement = "msgpack>=1"
smoke = "does/not/exist.py"
"#;
    let err = parse(text).unwrap_err();
    let lines: Vec<usize> = err.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![3, 4, 11, 12, 13, 16, 22, 23], "{err:#?}");
    assert!(err.iter().all(|d| d.file == Path::new("m.toml")));
}

#[test]
fn an_empty_matrix_is_refused() {
    let err = parse("").unwrap_err();
    assert!(err[0].message.contains("no base"), "{}", err[0]);
}

#[test]
fn durations_parse() {
    assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
    assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
    assert_eq!(parse_duration("45").unwrap().as_secs(), 45);
    assert!(parse_duration("soon").is_err());
    assert!(parse_duration("0s").is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any text at all: loading never panics, and a refusal is always located.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            if let Err(diags) = parse(&text) {
                prop_assert!(!diags.is_empty());
                for d in diags {
                    prop_assert!(d.line >= 1 && d.column >= 1, "{d}");
                }
            }
        }

        /// TOML-shaped input with random values in every slot.
        #[test]
        fn random_values_in_a_valid_shape_never_panic(
            name in "\\PC{0,20}", image in "\\PC{0,40}", family in "\\PC{0,8}", req in "\\PC{0,60}",
            timeout in "\\PC{0,10}", kind in "\\PC{0,16}",
        ) {
            let q = |s: &str| toml::Value::String(s.to_string()).to_string();
            let text = format!(
                "[policy]\nbuild_timeout = {}\nblocking = [{}]\n[[base]]\nname = {}\nimage = {}\nfamily = {}\n[[dependency]]\nrequirement = {}\n",
                q(&timeout), q(&kind), q(&name), q(&image), q(&family), q(&req)
            );
            let _ = parse(&text);
        }

        /// Whatever is accepted as a requirement is one line without shell metacharacters.
        #[test]
        fn accepted_requirements_are_single_safe_lines(s in "\\PC{0,80}") {
            if let Ok(r) = Requirement::parse(&s) {
                prop_assert!(!r.text.contains('\n') && !r.text.contains('\r'));
                for bad in ["`", "$(", "&&", "|", "\\"] {
                    prop_assert!(!r.text.contains(bad), "{:?} -> {:?}", s, r.text);
                }
                prop_assert!(!r.text.trim_start().starts_with('-'));
            }
        }

        #[test]
        fn requirements_files_never_panic(s in "(\\PC{0,40}\n){0,8}") {
            let d = tempfile::tempdir().unwrap();
            let f = d.path().join("requirements.txt");
            std::fs::write(&f, &s).unwrap();
            let _ = super::reqfile::read(&f);
        }
    }
}

fn load(dir: &Path, name: &str, bytes: &[u8]) -> Result<Matrix, Vec<Diagnostic>> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    Matrix::load(&p)
}

const MINI: &str = "[[base]]\nname = \"a\"\nimage = \"x\"\n";

#[test]
fn a_binary_matrix_is_located_at_its_first_bad_byte_and_a_bom_is_accepted() {
    let d = tempfile::tempdir().unwrap();
    let err = load(d.path(), "bin.toml", b"[[base]]\nname = \"a\"\nimage = \"x\xff\"\n").unwrap_err();
    assert_eq!((err[0].line, err[0].column), (3, 11), "{}", err[0]);
    assert!(err[0].message.contains("not UTF-8"), "{}", err[0]);
    let m = load(d.path(), "bom.toml", format!("\u{feff}{MINI}[[dependency]]\nrequirement = \"six\"\n").as_bytes())
        .unwrap();
    assert_eq!(m.dependencies[0].name, "six");
}

#[test]
fn a_matrix_over_the_cap_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut text = MINI.to_string();
    text.push_str(&"# padding\n".repeat(110_000));
    let err = load(d.path(), "big.toml", text.as_bytes()).unwrap_err();
    assert!(err[0].message.contains("larger than the limit of 1 MiB"), "{}", err[0]);
}

#[test]
fn the_recursion_limit_is_reported_on_its_line_and_duplicate_keys_are_named() {
    let deep = format!("{MINI}{}[{}]\n", "# c\n".repeat(11), vec!["a"; 300].join("."));
    let err = parse(&deep).unwrap_err();
    assert_eq!(err[0].line, 15, "{}", err[0]);
    let err = parse("[[base]]\nname = \"a\"\nimage = \"x\"\nname = \"b\"\n").unwrap_err();
    assert_eq!(err[0].to_string(), "m.toml:4:1: duplicate key `name`");
    let err = parse("[policy]\nsource_builds = \"fail\"\n[policy]\n").unwrap_err();
    assert!(err[0].message.contains("`policy`"), "{}", err[0]);
}

#[test]
fn durations_refuse_repeated_or_disordered_units_and_signs() {
    assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
    assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
    for bad in ["1m1m", "30s1h", "1s1s", "-5", "-5s", "5x", "99999999999999999999h"] {
        assert!(parse_duration(bad).is_err(), "accepted {bad}");
    }
}

#[test]
fn smoke_scripts_and_ca_bundles_must_lie_inside_the_matrix_directory() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("repo");
    std::fs::create_dir_all(root.join("smoke")).unwrap();
    std::fs::write(root.join("smoke/ok.py"), "print('ok')\n").unwrap();
    std::fs::write(d.path().join("secret.txt"), "hunter2\n").unwrap();
    std::os::unix::fs::symlink(d.path().join("secret.txt"), root.join("smoke/link.py")).unwrap();
    let m = |smoke: &str| {
        format!("[policy]\nca_bundle = \"{smoke}\"\n{MINI}[[dependency]]\nrequirement = \"six\"\nsmoke = \"{smoke}\"\n")
    };
    for bad in ["/etc/passwd", "../secret.txt", "../../../../../../etc/passwd", "smoke/link.py"] {
        let err = load(&root, "m.toml", m(bad).as_bytes()).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert_eq!((err[0].line, err[0].column), (2, 13), "{}", err[0]);
        assert_eq!(err[1].line, 8, "{}", err[1]);
        assert!(err.iter().all(|e| e.message.contains("outside the matrix's directory")), "{err:?}");
        assert!(!format!("{err:?}").contains("hunter2") && !format!("{err:?}").contains("root:x:"));
    }
    let ok = format!("{MINI}[[dependency]]\nrequirement = \"six\"\nsmoke = \"smoke/ok.py\"\n");
    let m = load(&root, "m.toml", ok.as_bytes()).unwrap();
    assert_eq!(m.dependencies[0].smoke.as_ref().unwrap().1, "print('ok')\n");
    std::fs::write(root.join("smoke/big.py"), vec![b'#'; (64 << 10) + 1]).unwrap();
    let big = format!("{MINI}[[dependency]]\nrequirement = \"six\"\nsmoke = \"smoke/big.py\"\n");
    let err = load(&root, "m.toml", big.as_bytes()).unwrap_err();
    assert!(err[0].message.contains("larger than the limit of 64 KiB"), "{}", err[0]);
}

#[test]
fn long_names_and_requirements_are_refused_at_validation() {
    let long = "a".repeat(150_000);
    let err = parse(&format!("{MINI}[[dependency]]\nrequirement = \"{long}\"\n")).unwrap_err();
    assert!(err[0].message.contains("150000 bytes long") && err[0].message.len() < 200, "{}", err[0]);
    let err = parse(&format!("{MINI}[[dependency]]\nname = \"{long}\"\nrequirement = \"six\"\n")).unwrap_err();
    assert!(err[0].message.contains("at most 64; this one has 150000") && err[0].message.len() < 300, "{}", err[0]);
}

#[test]
fn runtime_settings_have_defaults_and_are_validated_with_their_lines() {
    let m = parse(GOOD).unwrap();
    assert_eq!((m.policy.runtime_runs, m.policy.runtime_ratio), (5, 1.5));
    // A quarter of the probe timeout for the timed repetitions.
    assert_eq!(m.policy.runtime_budget(), Duration::from_secs(75));
    let with = |policy: &str| parse(&GOOD.replacen("[policy]\n", &format!("[policy]\n{policy}\n"), 1));
    let m = with("runtime_runs = 9\nruntime_ratio = 3\nprobe_timeout = \"2m\"").unwrap();
    assert_eq!((m.policy.runtime_runs, m.policy.runtime_ratio), (9, 3.0));
    assert_eq!(m.policy.runtime_budget(), Duration::from_secs(30));
    assert_eq!(with("runtime_runs = 0").unwrap().policy.runtime_runs, 0, "0 turns timing off");
    // Every bad value is reported, each on its line.
    let err = with("runtime_runs = 2\nruntime_ratio = 1.0").unwrap_err();
    assert_eq!(err.iter().map(|d| d.line).collect::<Vec<_>>(), [3, 4], "{err:#?}");
    assert!(err[0].message.contains("`runtime_runs` must be 0 (no timing) or from 3 to 50, not 2"), "{}", err[0]);
    assert!(err[1].message.contains("`runtime_ratio` must be more than 1"), "{}", err[1]);
    for bad in
        ["runtime_runs = 51", "runtime_runs = -1", "runtime_ratio = 0.5", "runtime_ratio = 101", "runtime_ratio = nan"]
    {
        let err = with(bad).unwrap_err();
        assert_eq!((err.len(), err[0].line), (1, 3), "{bad}: {err:#?}");
    }
    // A wrong type stops at phase one, located.
    let err = with("runtime_runs = \"five\"").unwrap_err();
    assert_eq!(err[0].line, 3, "{}", err[0]);
    // The kind is one a policy can block on or a dependency accept.
    let m = with("blocking = [\"runtime-differs\"]").unwrap();
    assert_eq!(m.policy.blocking, vec![FindingKind::RuntimeDiffers, FindingKind::SourceBuild]);
}

#[test]
fn missing_evidence_kinds_cannot_be_listed_or_unlisted_by_a_policy() {
    let with = |policy: &str| parse(&GOOD.replacen("[policy]\n", &format!("[policy]\n{policy}\n"), 1));
    for kind in ["incomplete", "prep-failed", "timeout"] {
        let err = with(&format!("blocking = [\"crash\", \"{kind}\"]")).unwrap_err();
        assert_eq!((err.len(), err[0].line, err[0].column), (1, 3, 22), "{err:#?}");
        assert!(err[0].message.contains(&format!("`{kind}` cannot be listed in `blocking`")), "{}", err[0]);
        assert!(err[0].message.contains("missing evidence always fails its base"), "{}", err[0]);
        // Nor accepted as a known difference.
        let err = parse(&GOOD.replace("kinds = [\"source-build\"]", &format!("kinds = [\"{kind}\"]"))).unwrap_err();
        assert!(err[0].message.contains("cannot be listed in `known_difference.kinds`"), "{}", err[0]);
    }
    // An empty list is fine, and those kinds still block.
    let m = with("blocking = []").unwrap();
    assert_eq!(m.policy.blocking, [FindingKind::SourceBuild], "source_builds = \"fail\" adds its own");
    for kind in crate::kinds::MISSING_EVIDENCE {
        assert!(m.policy.blocks(kind), "{kind}");
    }
    assert!(!m.policy.blocks(FindingKind::Crash));
}

#[test]
fn the_installer_is_the_policys_unless_a_base_names_its_own_and_pip_leaves_the_digest_alone() {
    let m = parse(GOOD).unwrap();
    assert!(m.bases.iter().all(|b| b.installer == Installer::Pip));
    let before = m.digest();
    let text = GOOD.replace("[policy]\n", "[policy]\ninstaller = \"uv\"\n");
    let uv = parse(&text).unwrap();
    assert!(uv.bases.iter().all(|b| b.installer == Installer::Uv));
    assert_ne!(uv.digest(), before);
    let one = GOOD.replace("required = false\n", "required = false\ninstaller = \"uv\"\n");
    let one = parse(&one).unwrap();
    assert_eq!(one.bases.iter().map(|b| b.installer).collect::<Vec<_>>(), [Installer::Pip, Installer::Uv]);
    // Writing the default changes nothing, not even the digest reports are compared by.
    let pip = parse(&GOOD.replace("[policy]\n", "[policy]\ninstaller = \"pip\"\n")).unwrap();
    assert_eq!(pip.digest(), before);
    let e = parse(&GOOD.replace("[policy]\n", "[policy]\ninstaller = \"conda\"\n")).unwrap_err();
    assert_eq!((e[0].line, e[0].message.as_str()), (3, "`installer` must be \"pip\" or \"uv\", not \"conda\""));
}
