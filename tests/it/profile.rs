//! `run` profiles each base: libc behaviour and resolver, observed in containers of the base.
//! The assertions are what these two test-bed bases were measured to do.

use serde_json::Value;

use crate::common::*;

fn check<'a>(section: &'a Value, id: &str) -> &'a Value {
    let c = &section["checks"][id];
    assert!(c.is_object(), "no check {id} in {}", section["base"]);
    c
}

#[test]
fn run_reports_the_base_profile_and_the_resolver_profile_side_by_side() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let text = stdout_of(
        &in_results(
            dir.path(),
            &[
                "run",
                "--matrix",
                "tests/fixtures/small.toml",
                "--only",
                "six",
                "--ca-bundle",
                &ca_bundle(),
                "--jobs",
                "4",
                // The full tables: the profiles side by side are in them.
                "--details",
            ],
        )
        .code(0),
    );
    assert!(text.contains("Base profile (observed in each base)"), "{text}");
    assert!(text.contains("Resolver profile"), "{text}");
    let r = report(dir.path());
    assert_no_leftovers(&r);
    let section = |key: &str, base: &str| {
        r[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["base"] == base)
            .unwrap_or_else(|| panic!("no {key} for {base}"))
            .clone()
    };

    // Libc behaviour.
    let (g, m) = (section("profile", "glibc"), section("profile", "musl"));
    assert_eq!(g["libc"]["family"], "glibc");
    assert_eq!(m["libc"]["family"], "musl");
    let stack = |s: &Value, id: &str| check(s, id)["value"]["bytes"].as_i64().unwrap();
    assert!(
        stack(&m, "thread_stack.python") < stack(&g, "thread_stack.python"),
        "musl's Python threads have smaller stacks"
    );
    assert!(stack(&m, "thread_stack.c") < stack(&m, "thread_stack.python"), "C-created threads on musl get less still");
    let depth = |s: &Value| check(s, "crash_depth.json_thread")["value"].clone();
    let (gd, md) = (depth(&g), depth(&m));
    assert!(md["max_ok_depth"].as_i64().unwrap() < gd["max_ok_depth"].as_i64().unwrap(), "{gd} {md}");
    assert_eq!(md["failure"]["signal_name"], "SIGSEGV", "musl dies past its depth: {md}");
    assert_ne!(gd["failure"]["signal_name"], "SIGSEGV", "glibc stops with RecursionError: {gd}");
    assert_eq!(check(&g, "loading.find_library")["value"]["c"], "libc.so.6");
    assert!(check(&m, "loading.find_library")["value"]["c"].is_null());
    // The same measurement with the dependency imported first, in its own image.
    let with = |id: &str| job(&r, id)["crash_depth"]["value"].clone();
    assert_eq!(with("six[musl]")["failure"]["signal_name"], "SIGSEGV", "{}", with("six[musl]"));
    assert_eq!(with("six[musl]")["preimport"], serde_json::json!(["six"]));
    assert!(with("six[glibc]")["max_ok_depth"].as_i64().unwrap() > with("six[musl]")["max_ok_depth"].as_i64().unwrap());
    // Every difference of the two sections is a sentence: what the check looks at, then what
    // each base gave, in words with the numbers (the raw values stay in the JSON).
    let said: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"] == "<profile>" || f["subject"] == "<resolver>")
        .map(|f| (f["item"].as_str().unwrap(), f["summary"].as_str().unwrap()))
        .collect();
    assert!(said.len() >= 4, "{said:?}");
    for (item, summary) in &said {
        assert!(!summary.ends_with(" differs") && !summary.contains('{'), "{item}: not in words: {summary}");
        assert!(summary.contains(" on glibc") && summary.contains(" on musl"), "{item}: names no base: {summary}");
    }
    let summary = |item: &str| {
        said.iter().find(|(i, _)| *i == item).map(|(_, s)| *s).unwrap_or_else(|| panic!("no {item}: {said:?}"))
    };
    let depth_said = summary("crash_depth.json_thread");
    assert!(depth_said.starts_with("deepest nested list json.dumps serialises in a thread: "), "{depth_said}");
    for (base, d) in [("musl", &md), ("glibc", &gd)] {
        let n = d["max_ok_depth"].as_i64().unwrap();
        let words =
            if d["failure_at"].is_null() { format!("every depth up to {n}") } else { format!("completes depth {n}, ") };
        assert!(depth_said.contains(&words), "{base}'s depth {n} in words: {depth_said}");
    }
    assert!(depth_said.contains("SIGSEGV"), "{depth_said}");
    let stack_said = summary("thread_stack.python");
    assert!(stack_said.contains("KiB of stack on musl") || stack_said.contains("MiB of stack on musl"), "{stack_said}");
    // The table shows what each check looks at beside its id (the cell wraps: its first words).
    assert_eq!(check(&m, "thread_stack.python")["about"], "stack of a thread started by Python's threading module");
    assert!(text.contains("stack of a thread started by"), "{text}");

    // Resolver, on the traces.
    let (g, m) = (section("resolver", "glibc"), section("resolver", "musl"));
    let queries = |s: &Value, id: &str| check(s, id)["value"]["queries"].as_array().unwrap().clone();
    // single-request-reopen: glibc sends AAAA after the A reply from a new port; musl both at once from one port.
    let gq = queries(&g, "dns.D2b");
    let (ga, gaaaa) = (gq.iter().find(|q| q["type"] == "A").unwrap(), gq.iter().find(|q| q["type"] == "AAAA").unwrap());
    // The scenario delays every reply by 100 ms: a query sent after the A reply comes that late.
    let gap = gaaaa["t_ms"].as_f64().unwrap() - ga["t_ms"].as_f64().unwrap();
    assert!(gap >= 90.0, "glibc waits for the A reply before asking AAAA: {gq:?}");
    assert_ne!(ga["sport"], gaaaa["sport"], "{gq:?}");
    let mq = queries(&m, "dns.D2b");
    assert!(mq.iter().all(|q| q["sport"] == mq[0]["sport"]), "{mq:?}");
    // Both sent before the first reply came back (every reply is 100 ms late): an order, which
    // a loaded machine cannot turn around, not a time apart.
    let first_reply = mq.iter().filter_map(|q| q["reply_t_ms"].as_f64()).fold(f64::INFINITY, f64::min);
    assert!(first_reply.is_finite(), "no reply to musl's queries was recorded: {mq:?}");
    assert!(
        mq.iter().all(|q| q["t_ms"].as_f64().unwrap() < first_reply),
        "musl sends A and AAAA before either reply: {mq:?}"
    );
    // hosts: dns in nsswitch.conf, the name only in /etc/hosts: glibc fails, musl answers with no query.
    assert_eq!(check(&g, "dns.D8")["value"]["result"]["ok"], false);
    assert_eq!(check(&m, "dns.D8")["value"]["result"]["ok"], true);
    assert!(queries(&m, "dns.D8").is_empty());
    // A truncated UDP answer: both retry over TCP, glibc both types, musl only A.
    let tcp = |s: &Value| -> std::collections::BTreeSet<String> {
        queries(s, "dns.D7")
            .iter()
            .filter(|q| q["transport"] == "tcp")
            .map(|q| q["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(tcp(&g), ["A", "AAAA"].iter().map(|s| s.to_string()).collect());
    assert_eq!(tcp(&m), ["A"].iter().map(|s| s.to_string()).collect());
    let d1 = summary("dns.D1");
    assert!(d1.starts_with("ns1 answers correctly after 500 ms, ns2 answers NXDOMAIN at once: "), "{d1}");
    assert!(d1.contains(" ms, ") && d1.contains("quer"), "the times and the queries in words: {d1}");

    // The HTML report of the same run (from the caches), opened in a headless browser: the
    // sections in words with what each check looks at, the raw values behind a disclosure.
    let html = dir.path().join("report.html");
    in_results(
        &dir.path().join("again"),
        &[
            "run",
            "--matrix",
            "tests/fixtures/small.toml",
            "--only",
            "six",
            "--ca-bundle",
            &ca_bundle(),
            "--format",
            "html",
            "--output",
            html.to_str().unwrap(),
        ],
    )
    .code(0);
    let url = format!("file://{}", html.display());
    let dom = crate::html::dom_of(&url, &[], &dir.path().join("browser"));
    assert!(dom.contains("<small>stack of a thread started by Python's threading module</small>"), "{dom}");
    assert!(dom.contains("<details><summary>value</summary>"), "{dom}");
    let finding_row = dom
        .split("<tr class=\"finding\"")
        .find(|r| r.contains("&lt;profile&gt;") && r.contains("crash_depth.json_thread"));
    let finding_row = finding_row.unwrap_or_else(|| panic!("no profile finding row: {dom}"));
    assert!(finding_row.contains("deepest nested list json.dumps serialises in a thread: "), "{finding_row}");
    crate::html::screenshot(
        &url,
        "1280,2400",
        &dir.path().join("report.png"),
        &dir.path().join("browser2"),
        "MUSLCHECK_TEST_KEEP_PROFILE_SCREENSHOT",
    );
}
