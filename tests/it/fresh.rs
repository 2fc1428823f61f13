//! Freshness: a cached job is reused only while its resolution holds on the index. A new
//! release published on the local index between two runs rebuilds exactly the jobs whose
//! resolution moved, and the rest are reused, each saying why.

use crate::common::*;

fn gate(dir: &std::path::Path, reqs: &[&str], extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = vec!["gate".into()];
    args.extend(reqs.iter().map(|s| s.to_string()));
    args.extend(["--matrix".into(), "tests/fixtures/small.toml".into()]);
    args.extend(local_index_with_ca());
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    in_results(dir, &refs).code(0);
    report(dir)
}

fn reuse_of(r: &serde_json::Value) -> Vec<(String, String, bool)> {
    r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["id"].as_str().unwrap().to_string(),
                j["reuse"].as_str().unwrap().to_string(),
                j["cached"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_new_release_on_the_index_rebuilds_exactly_the_jobs_whose_resolution_moved() {
    require_engine();
    // Names of this test run's own, so an earlier run's releases do not count.
    let n = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let (moving, stable) = (format!("mcmoving{n}"), format!("mcstable{n}"));
    for name in [&moving, &stable] {
        let init = format!("{name}/__init__.py");
        publish_wheel(name, "1.0", &[(init.as_str(), "VERSION = '1.0'\n")], &[name]);
    }
    let d1 = tempfile::tempdir().unwrap();
    let r1 = gate(d1.path(), &[&moving, &stable], &[]);
    assert!(
        reuse_of(&r1).iter().all(|(_, why, cached)| !cached && why == "built: not in the cache"),
        "{:?}",
        reuse_of(&r1)
    );

    // Nothing changed upstream: everything reused, after asking the index.
    let d2 = tempfile::tempdir().unwrap();
    let r2 = gate(d2.path(), &[&moving, &stable], &[]);
    assert!(
        reuse_of(&r2).iter().all(|(_, why, cached)| *cached && why == "reused: index unchanged"),
        "{:?}",
        reuse_of(&r2)
    );

    // A new release of one of them.
    let init = format!("{moving}/__init__.py");
    publish_wheel(&moving, "1.1", &[(init.as_str(), "VERSION = '1.1'\n")], &[&moving]);
    let d3 = tempfile::tempdir().unwrap();
    let r3 = gate(d3.path(), &[&moving, &stable], &[]);
    for (id, why, cached) in reuse_of(&r3) {
        if id.starts_with(&moving) {
            assert!(!cached && why == format!("rebuilt: changed on the index: {moving}"), "{id}: {why}");
            assert_eq!(job(&r3, &id)["distributions"][0]["version"], "1.1", "{id} sees the new release");
        } else {
            assert!(cached && why == "reused: index unchanged", "{id}: {why}");
        }
    }
    // --offline reuses without asking, and says so.
    let d4 = tempfile::tempdir().unwrap();
    let r4 = gate(d4.path(), &[&moving, &stable], &["--offline"]);
    assert!(reuse_of(&r4).iter().all(|(_, why, cached)| *cached && why.contains("--offline")), "{:?}", reuse_of(&r4));
    assert_no_leftovers(&r4);

    unpublish(&n);
}
