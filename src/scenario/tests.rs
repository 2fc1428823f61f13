use std::path::Path;

use super::*;

/// Checks a zone file's text; returns the problems as `line:column: message`.
fn zone(text: &str) -> Vec<String> {
    let v = parse(Path::new("z.json"), text).map_err(|d| vec![d.to_string()]).unwrap();
    let mut p = Problems::default();
    check_zone(&mut p, "", &v, true);
    p.located(Path::new("z.json"), text)
        .iter()
        .map(|d| d.to_string().trim_start_matches("z.json:").to_string())
        .collect()
}

#[test]
fn the_shipped_scenarios_are_valid() {
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/probes/dns-scenarios")).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut p = Problems::default();
        check_scenario(&mut p, &parse(&path, &text).unwrap(), false);
        assert!(p.is_empty(), "{}: {:?}", path.display(), p.located(&path, &text));
    }
}

#[test]
fn a_good_zone_passes() {
    let text = r#"{"records": [
        {"name": "api.example.com.", "type": "A", "value": "203.0.113.10", "ttl": 30},
        {"name": "api.example.com.", "type": "aaaa", "value": "2001:db8::10"},
        {"name": "*.svc.cluster.local.", "type": "CNAME", "value": "api.example.com."},
        {"name": "x.example.", "type": "MX", "value": "10 mail.example."},
        {"name": "x.example.", "type": "SRV", "value": "0 5 443 api.example.com."},
        {"name": "x.example.", "type": "TXT", "value": ["a", "b"]},
        {"name": "x.example.", "type": "SOA", "value": "ns. host. 1 2 3 4 5"},
        {"name": "only-on-ns2.example.", "type": "A", "value": "192.0.2.1", "servers": ["127.0.0.2"]}],
      "udp_max": 512, "servers": ["127.0.0.1"],
      "faults": [{"server": "10.96.0.10", "type": "AAAA", "action": "drop"},
                 {"server": "*", "action": "delay", "ms": 500, "then": "servfail", "nth": [1, 2]},
                 {"name": "*.example.", "type": ["A", "AAAA"], "transport": "udp", "action": "truncate", "keep": 1},
                 {"action": "answer", "records": [{"type": "A", "value": "192.0.2.9"}], "rcode": 0},
                 {"action": "first_per_port", "window_ms": 5}]}"#;
    assert_eq!(zone(text), Vec::<String>::new());
}

#[test]
fn every_problem_is_located() {
    let text = "{\n  \"records\": [\n    {\"name\": \"a.\", \"type\": \"BOGUS\", \"value\": \"1.2.3.4\"},\n    {\"name\": \"b.\", \"type\": \"A\", \"value\": \"999.1.1.1\", \"colour\": 1},\n    {\"name\": \"c.\", \"type\": \"MX\", \"value\": \"mail.example.\"}\n  ],\n  \"udpmax\": 512,\n  \"faults\": [{\"action\": \"explode\"}, {\"action\": \"delay\", \"ms\": -5}, {\"transport\": \"sctp\", \"nth\": 0, \"rcode\": 99}]\n}\n";
    let got = zone(text);
    let expect = [
        ("3:28", "unknown record type \"BOGUS\""),
        ("4:42", "`999.1.1.1` is not an IPv4 address"),
        ("4:55", "unknown key `colour` in a record"),
        ("5:43", "an MX value is"),
        ("7:3", "unknown key `udpmax` in the zone"),
        ("8:25", "unknown `action` \"explode\""),
        ("8:63", "`ms` must be a number of milliseconds"),
        ("8:82", "`transport` must be"),
        ("8:97", "`nth` must be a count"),
        ("8:109", "`rcode` must be a DNS response code"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for (g, (pos, msg)) in got.iter().zip(expect) {
        assert!(g.starts_with(&format!("{pos}: ")) && g.contains(msg), "expected {pos}: {msg}, got {g}");
    }
}

#[test]
fn syntax_errors_have_their_position() {
    let d = parse(Path::new("z.json"), "{\"records\": [\n  {\"name\": }\n]}").unwrap_err();
    assert_eq!((d.line, d.column), (2, 12), "{d}");
}

#[test]
fn scenarios_are_checked_too() {
    let text = r#"{"resolv_conf": "nameserver 10.0.0.2\n", "zone": {"records": [], "faults": []}, "flags": ["AI_NOPE"], "timeout_s": 0, "colour": "red"}"#;
    let v = parse(Path::new("s.json"), text).unwrap();
    let mut p = Problems::default();
    check_scenario(&mut p, &v, false);
    let msgs = p.messages().join("\n");
    for m in [
        "needs `name`",
        "faults go at the top level",
        "unknown getaddrinfo flag `AI_NOPE`",
        "`timeout_s` must be",
        "unknown key `colour`",
    ] {
        assert!(msgs.contains(m), "{m}: {msgs}");
    }
    let mut p = Problems::default();
    check_scenario(&mut p, &serde_json::json!({"resolv_conf": "", "zone": {}}), true);
    assert!(p.is_empty(), "{:?}", p.messages());
}
