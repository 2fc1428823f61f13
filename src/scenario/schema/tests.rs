use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::probe::programs;

fn raw() -> Value {
    serde_json::from_str(TEXT).unwrap()
}

fn set<'a>(v: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    v.into_iter().map(str::to_string).collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array().unwrap_or(&vec![]).iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_schema_is_whole() {
    let s = &*SCHEMA;
    assert!(!s.scenario_keys.is_empty() && !s.fault_keys.is_empty() && !s.action_names.is_empty());
    let kinds = raw()["value_kinds"].as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    for r in &s.record_types {
        assert!(s.qtypes.contains_key(r.name), "record type {} has no number in qtypes", r.name);
        assert!(kinds.contains(r.value), "record type {}: value kind {} is not in value_kinds", r.name, r.value);
    }
    assert_eq!(s.record_type_list(), "A, AAAA, CNAME, PTR, NS, MX, TXT, SRV or SOA");
    assert_eq!(set(s.action_names.iter().copied()).len(), s.action_names.len(), "an action twice");
    // The lab gets the text inside a Python raw string: r'''...'''.
    assert!(!TEXT.contains("'''") && !TEXT.trim_end().ends_with('\\'));
    assert!(programs::DNS.starts_with(&format!("DNSLAB_SCHEMA = r'''{TEXT}'''\n")));
}

#[test]
fn the_validator_checks_the_value_of_every_record_type() {
    // A value no kind accepts (a TXT value is any string, so a number there): a kind the
    // validator had no check for would let it through.
    for r in &SCHEMA.record_types {
        let value = if r.value == "txt" { json!(5) } else { json!("a b c d e f g h") };
        let mut p = super::super::Problems::default();
        super::super::check_zone(
            &mut p,
            "",
            &json!({"records": [{"name": "x.", "type": r.name, "value": value}]}),
            false,
        );
        assert!(!p.is_empty(), "record type {} ({}): the value is not checked", r.name, r.value);
    }
}

/// A scenario that uses every key the schema lists, in every kind of object.
fn every_key() -> Value {
    json!({
        "id": "every-key", "title": "t", "description": "d", "incident": "i",
        "resolv_conf": "search example.\nnameserver 10.96.0.10\n",
        "zone": {
            "records": [{"name": "api.example.", "type": "A", "value": "192.0.2.1", "ttl": 30,
                         "servers": ["10.96.0.10"]}],
            "servers": ["10.96.0.10"],
            "udp_max": 512
        },
        "faults": [{
            "server": "10.96.0.10", "servers": ["10.96.0.10"], "name": "api.example.", "names": ["*"],
            "type": "A", "types": ["A", "AAAA"], "transport": "udp", "nth": [1, 2], "action": "delay",
            "ms": 5, "then": "answer", "window_ms": 10, "keep": "fit", "rcode": 0,
            "records": [{"name": "api.example.", "type": "A", "value": "192.0.2.2", "ttl": 5}]
        }],
        "name": "api.example", "type": "A", "family": "AF_INET", "port": 443, "socktype": "SOCK_STREAM",
        "proto": 0, "flags": ["AI_CANONNAME"], "hosts": "127.0.0.1 localhost\n", "nsswitch": "hosts: dns\n",
        "env": {"RES_OPTIONS": "ndots:1"}, "timeout_s": 5
    })
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Runs the assembled lab on this machine in its "schema" mode: what it enforces, and the keys
/// it reads from each kind of object of `sc` (only prepared: nothing is written or started).
fn enforced(sc: &Value) -> Value {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(programs::program(programs::DNS))
        .arg(json!({"schema": sc}).to_string())
        .output()
        .expect("python3 on this machine");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let checks: Vec<&str> = records.iter().map(|r| r["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["libc", "dns.schema", "probe.end"], "{stdout}");
    assert_eq!(records[2]["value"]["planned"], 2);
    assert_eq!(records[1]["status"], "ok", "{stdout}");
    records[1]["value"].clone()
}

#[test]
fn the_lab_enforces_the_schema_and_reads_every_key_it_lists() {
    let sc = every_key();
    let mut p = super::super::Problems::default();
    super::super::check_scenario(&mut p, &sc, false);
    let text = sc.to_string();
    assert!(p.is_empty(), "{:?}", p.located(Path::new("every-key.json"), &text));
    let s = &*SCHEMA;
    let fault = &sc["faults"][0];
    for (kind, used, listed) in [
        ("scenario", keys(&sc), &s.scenario_keys),
        ("zone", keys(&sc["zone"]), &s.zone_keys),
        ("record", keys(&sc["zone"]["records"][0]), &s.record_keys),
        ("fault", keys(fault), &s.fault_keys),
        ("fault_record", keys(&fault["records"][0]), &s.fault_record_keys),
    ] {
        assert_eq!(used, set(listed.iter().copied()), "the test scenario must use every {kind} key");
    }

    let lab = enforced(&sc);
    let reads = &lab["reads"];
    for (kind, listed) in [
        ("scenario", &s.scenario_keys),
        ("zone", &s.zone_keys),
        ("record", &s.record_keys),
        ("fault", &s.fault_keys),
        ("fault_record", &s.fault_record_keys),
    ] {
        assert_eq!(strings(&reads[kind]), set(listed.iter().copied()), "the {kind} keys the lab reads");
    }
    assert_eq!(lab["qtypes"], raw()["qtypes"]);
    assert_eq!(strings(&lab["actions"]), set(s.action_names.iter().copied()), "the actions the lab takes");
    assert_eq!(strings(&lab["then"]), set(s.then_names.iter().copied()), "the actions the lab takes as `then`");
    let rcodes: serde_json::Map<String, Value> = raw()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a.get("rcode").is_some())
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["rcode"].clone()))
        .collect();
    assert_eq!(lab["action_rcodes"], Value::Object(rcodes));
    for a in &s.action_names {
        let done = lab["decided"][a].as_str().unwrap_or("nothing");
        assert!(!done.starts_with("error") && done != "nothing", "action {a}: {done}");
    }
    let encodable: BTreeSet<u64> = s.record_types.iter().map(|r| s.qtypes[r.name]).collect();
    let encodes: BTreeSet<u64> = lab["encodes"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
    assert_eq!(encodes, encodable, "the record types the lab's encoder writes");
    assert_eq!(strings(&lab["ai_flags"]), set(s.ai_flags.iter().copied()));
    let lookup: Vec<(String, String)> = s.lookup_types.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let lab_lookup: Vec<(String, String)> = lab["lookup_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(lab_lookup, lookup, "scenario `type` values and their families");
}
