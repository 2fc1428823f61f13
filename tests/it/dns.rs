//! The DNS lab on the test-bed bases: each libc's resolver traced against a scripted server.
//! Assertions are on the observed traces, not only the final answers.

use serde_json::Value;

use crate::common::*;

/// Runs `muslcheck dns` with the arguments; returns base name -> the scenario's observation.
fn dns(args: &[&str], expect_code: i32) -> std::collections::BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<&str> = ["dns"]
        .iter()
        .chain(args)
        .chain(&["--matrix", "tests/fixtures/small.toml", "--format", "json"])
        .copied()
        .collect();
    in_results(dir.path(), &all).code(expect_code);
    let r = report(dir.path());
    assert_no_leftovers(&r);
    let mut out = std::collections::BTreeMap::new();
    for s in r["resolver"].as_array().unwrap() {
        let checks = s["checks"].as_object().unwrap();
        let (_, obs) =
            checks.iter().find(|(k, _)| k.starts_with("dns.") && *k != "dns.sandbox").expect("a scenario check");
        assert_eq!(obs["status"], "ok", "{obs}");
        out.insert(s["base"].as_str().unwrap().to_string(), obs["value"].clone());
    }
    assert_eq!(out.len(), 2);
    out
}

fn queries(v: &Value) -> Vec<(f64, String, String, u64, String)> {
    v["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["t_ms"].as_f64().unwrap(),
                q["server"].as_str().unwrap().to_string(),
                q["type"].as_str().unwrap().to_string(),
                q["sport"].as_u64().unwrap(),
                q["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn error_name(v: &Value) -> Option<&str> {
    v["result"]["error"]["name"].as_str()
}

#[test]
fn dropped_aaaa_glibc_retries_both_and_returns_a_musl_resends_aaaa_and_fails() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let resolv = d.path().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 10.96.0.10\noptions timeout:2 attempts:2\n").unwrap();
    let zone = d.path().join("zone.json");
    std::fs::write(&zone, r#"{"records": [{"name": "api.example.com.", "type": "A", "value": "203.0.113.10"}, {"name": "api.example.com.", "type": "AAAA", "value": "2001:db8::10"}]}"#).unwrap();
    let r = dns(
        &[
            "--resolv-conf",
            resolv.to_str().unwrap(),
            "--zone",
            zone.to_str().unwrap(),
            "--name",
            "api.example.com",
            "--fault",
            "type=AAAA,action=drop",
        ],
        1,
    );

    let g = &r["glibc"];
    assert_eq!(g["result"]["addresses"], serde_json::json!(["203.0.113.10"]), "{g}");
    let gq = queries(g);
    assert!(gq.iter().filter(|q| q.2 == "A").count() >= 2, "glibc re-sends A with AAAA: {gq:?}");
    let gd = g["duration_ms"].as_f64().unwrap();
    assert!((5500.0..7500.0).contains(&gd), "glibc: 2 attempts of 2 s after the first round, about 6 s: {gd}");

    let m = &r["musl"];
    assert_eq!(error_name(m), Some("EAI_AGAIN"), "{m}");
    assert_eq!(m["result"]["error"]["message"], "Try again");
    let mq = queries(m);
    assert_eq!(mq.iter().filter(|q| q.2 == "A").count(), 1, "musl sends A once: {mq:?}");
    assert!(mq.iter().filter(|q| q.0 > 500.0).all(|q| q.2 == "AAAA"), "musl re-sends only AAAA: {mq:?}");
    assert!(mq.iter().all(|q| q.3 == mq[0].3), "musl uses one source port: {mq:?}");
    let md = m["duration_ms"].as_f64().unwrap();
    assert!((1500.0..3000.0).contains(&md), "musl gives up at its 2 s timeout: {md}");
}

#[test]
fn servfail_during_the_search_walk_glibc_moves_on_musl_fails() {
    require_engine();
    let r = dns(&["--scenario", "probes/dns-scenarios/servfail-search.json"], 1);
    let g = &r["glibc"];
    assert_eq!(g["result"]["ok"], true, "{g}");
    let gnames: Vec<String> = queries(g).into_iter().map(|q| q.4).collect();
    assert!(
        gnames.iter().any(|n| n.starts_with("api.example.com.svc.cluster.local")),
        "glibc goes on to the next search domain: {gnames:?}"
    );

    let m = &r["musl"];
    assert_eq!(error_name(m), Some("EAI_AGAIN"), "{m}");
    let mnames: Vec<String> = queries(m).into_iter().map(|q| q.4).collect();
    assert!(
        mnames.iter().all(|n| n.starts_with("api.example.com.default.svc.cluster.local")),
        "musl never leaves the first search domain: {mnames:?}"
    );
    assert!(mnames.len() > 2, "musl retries the SERVFAIL: {mnames:?}");
}

#[test]
fn parallel_nameservers_the_fast_wrong_answer_wins_on_musl_only() {
    require_engine();
    let r = dns(&["--scenario", "probes/dns-scenarios/parallel-nameservers.json"], 1);
    let g = &r["glibc"];
    assert_eq!(g["result"]["ok"], true, "{g}");
    let gservers: std::collections::BTreeSet<String> = queries(g).into_iter().map(|q| q.1).collect();
    assert_eq!(gservers.len(), 1, "glibc asks the first nameserver only: {gservers:?}");
    assert!(g["duration_ms"].as_f64().unwrap() >= 450.0);

    let m = &r["musl"];
    assert_eq!(error_name(m), Some("EAI_NONAME"), "{m}");
    let mservers: std::collections::BTreeSet<String> = queries(m).into_iter().map(|q| q.1).collect();
    assert_eq!(mservers.len(), 2, "musl asks both at once: {mservers:?}");
    assert!(m["duration_ms"].as_f64().unwrap() < 400.0, "{m}");
}

#[test]
fn a_scenario_that_behaves_the_same_exits_0() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    // IPv4 only and AI_CANONNAME asked for: then both libcs send one A query and fill the
    // canonical name (without the flag musl fills it and glibc does not: a real difference).
    let sc = d.path().join("same.json");
    std::fs::write(
        &sc,
        r#"{"id": "same", "resolv_conf": "nameserver 10.0.0.2\n", "flags": ["AI_CANONNAME"],
        "zone": {"records": [{"name": "db.example.", "type": "A", "value": "192.0.2.7"}]}}"#,
    )
    .unwrap();
    let r = dns(&["--scenario", sc.to_str().unwrap(), "--name", "db.example", "--type", "a"], 0);
    for v in r.values() {
        assert_eq!(v["result"]["addresses"], serde_json::json!(["192.0.2.7"]), "{v}");
        assert_eq!(queries(v).len(), 1, "{v}");
    }
}

#[test]
fn bad_dns_input_is_refused_before_the_engine() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, "{\"records\": [").unwrap();
    let resolv = d.path().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 10.0.0.2\n").unwrap();
    for args in [
        vec!["dns", "--name", "x"],
        vec!["dns", "--resolv-conf", resolv.to_str().unwrap(), "--zone", bad.to_str().unwrap(), "--name", "x"],
        vec!["dns", "--scenario", "probes/dns-scenarios/dropped-aaaa.json", "--fault", "type=AAAA"],
    ] {
        bin()
            .args(&args)
            .args(["--matrix", "tests/fixtures/small.toml"])
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .current_dir(root())
            .assert()
            .code(2);
    }
}
