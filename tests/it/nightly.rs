//! The nightly matrix: shards merged give the unsharded run's findings, and a new release on
//! the local index shows up against last night's report as exactly that change.

use std::path::Path;

use crate::common::*;

fn run(dir: &Path, matrix: &str, extra: &[&str], code: i32) -> serde_json::Value {
    let ca = ca_bundle();
    let mut args = vec!["run", "--matrix", matrix, "--no-profile", "--no-resolver", "--ca-bundle", ca.as_str()];
    args.extend_from_slice(extra);
    in_results(dir, &args).code(code);
    report(dir)
}

#[test]
fn shards_merged_give_the_findings_of_the_whole_run() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let m = "tests/fixtures/small.toml";
    let whole = run(&d.path().join("whole"), m, &[], 1);
    let one = run(&d.path().join("one"), m, &["--shard", "1/2"], 1);
    let two = run(&d.path().join("two"), m, &["--shard", "2/2"], 0);
    // Every dependency in exactly one shard.
    let deps = |r: &serde_json::Value| {
        r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["dependency"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(deps(&one).is_disjoint(&deps(&two)));
    assert_eq!(
        deps(&one).union(&deps(&two)).cloned().collect::<Vec<_>>(),
        deps(&whole).into_iter().collect::<Vec<_>>()
    );
    let merged_dir = d.path().join("merged");
    let (a, b) = (d.path().join("one/report.json"), d.path().join("two/report.json"));
    bin()
        .args(["report", "merge"])
        .arg(&b)
        .arg(&a)
        .arg("--results-dir")
        .arg(&merged_dir)
        .current_dir(root())
        .assert()
        .code(1);
    let merged = report(&merged_dir);
    assert_eq!(merged["findings"], whole["findings"], "same findings, same ids");
    assert_eq!(merged["verdicts"], whole["verdicts"]);
    assert_eq!(merged["outcome"]["exit_code"], whole["outcome"]["exit_code"]);
    // A shard missing, or given twice, is refused.
    bin()
        .args(["report", "merge"])
        .arg(&a)
        .arg("--results-dir")
        .arg(d.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("2/2 missing"));
    bin()
        .args(["report", "merge"])
        .arg(&a)
        .arg(&a)
        .arg("--results-dir")
        .arg(d.path().join("y"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("given twice"));
    assert_no_leftovers(&merged);
}

#[test]
fn a_release_that_breaks_musl_is_the_one_new_finding_against_last_night() {
    require_engine();
    let n = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let name = format!("mcnightly{n}");
    let init = format!("{name}/__init__.py");
    publish_wheel(&name, "1.0", &[(init.as_str(), "VALUE = 1\n")], &[&name]);
    let d = tempfile::tempdir().unwrap();
    let matrix = d.path().join("nightly.toml");
    std::fs::write(&matrix, format!("[[base]]\nname = \"glibc\"\nimage = \"{GLIBC}\"\n\n[[base]]\nname = \"musl\"\nimage = \"{MUSL}\"\n\n[[dependency]]\nrequirement = \"{name}\"\n\n[[dependency]]\nrequirement = \"six==1.17.0\"\n")).unwrap();
    let m = matrix.to_str().unwrap();
    let ca = local_index_ca();
    let idx = local_index_args();
    let mut with_index: Vec<&str> = idx.iter().map(String::as_str).collect();
    with_index.extend_from_slice(&["--ca-bundle", ca.as_str()]);
    let night = |dir: &str, extra: &[&str], code: i32| {
        let mut args: Vec<&str> = vec!["run", "--matrix", m, "--no-profile", "--no-resolver"];
        args.extend_from_slice(&with_index);
        args.extend_from_slice(extra);
        in_results(&d.path().join(dir), &args).code(code);
        report(&d.path().join(dir))
    };
    let first = night("first", &[], 0);
    assert!(first["findings"].as_array().unwrap().is_empty(), "{first:#}");
    // The release: an import that fails where the libc is not glibc, as the package decides.
    publish_wheel(&name, "1.1", &[(init.as_str(), "import platform\nif platform.libc_ver()[0] != 'glibc':\n    raise ImportError('this release needs glibc')\n")], &[&name]);
    let first_report = d.path().join("first/report.json");
    let second = night("second", &["--baseline", first_report.to_str().unwrap()], 1);
    let diff = &second["baseline"];
    let new: Vec<&str> = diff["new"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(new, [format!("{name}/import-differs/{name}")], "{diff:#}");
    assert!(
        diff["resolved"].as_array().unwrap().is_empty() && diff["changed"].as_array().unwrap().is_empty(),
        "{diff:#}"
    );
    // The same through `report diff`, in Markdown.
    let second_report = d.path().join("second/report.json");
    let out = bin()
        .args(["report", "diff"])
        .arg(&first_report)
        .arg(&second_report)
        .args(["--format", "markdown"])
        .assert()
        .code(1);
    assert!(stdout_of(&out).contains(&format!("| new | `{name}/import-differs/{name}`")), "{}", stdout_of(&out));
    // Tomorrow, against tonight: the finding is still there, but it is not new.
    let third = night("third", &["--baseline", second_report.to_str().unwrap()], 0);
    assert_eq!(third["baseline"]["unchanged"].as_array().unwrap().len(), 1, "{:#}", third["baseline"]);
    assert_no_leftovers(&third);
    unpublish(&n);
}
