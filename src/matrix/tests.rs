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
            let _ = requirement::parse_requirements_file(&s);
        }
    }
}
