//! A module of a distribution the gated requirement pulls in, which raises when imported
//! directly on every base alike: information that says so, not a blocking failure of the
//! requirement. Both wheels are generated and published to the local index.

use crate::common::*;

#[test]
fn a_module_of_a_pulled_in_distribution_failing_the_same_everywhere_is_information() {
    require_engine();
    let n = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let (gated, helper) = (format!("mcgated{n}"), format!("mchelper{n}"));
    let internal = format!("{helper}_internal");
    publish(serde_json::json!({
        "name": helper, "version": "1.0",
        "files": {
            format!("{helper}/__init__.py"): "VALUE = 1\n",
            format!("{internal}.py"): "raise ImportError('only imported by the package itself')\n",
        },
        "top_level": [helper, internal],
    }));
    publish(serde_json::json!({
        "name": gated, "version": "1.0",
        "files": {format!("{gated}/__init__.py"): format!("import {helper}\n")},
        "top_level": [gated], "requires": [helper],
    }));
    let d = tempfile::tempdir().unwrap();
    let mut args: Vec<String> =
        vec!["gate".into(), gated.clone(), "--matrix".into(), "tests/fixtures/small.toml".into()];
    args.extend(local_index_with_ca());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(d.path(), &a).code(0);
    let r = report(d.path());
    let t = findings_of(&r, "transitive-fails");
    assert_eq!(t.len(), 1, "{:#}", r["findings"]);
    assert_eq!(t[0]["severity"], "info");
    assert_eq!(t[0]["failing"], serde_json::json!(["glibc", "musl"]));
    assert!(t[0]["summary"].as_str().unwrap().contains("not asked for by name"), "{}", t[0]);
    assert!(findings_of(&r, "fails").is_empty(), "{:#}", r["findings"]);
    unpublish(&n);
    assert_no_leftovers(&r);
}
