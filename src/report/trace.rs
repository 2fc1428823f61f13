//! Side-by-side DNS traces for `muslcheck dns`: per base, the queries its resolver sent in order
//! (time, server, source port, transport, type, name, what the server did), then the answer.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use crate::model::ProbeSection;

fn trace_of(check: &serde_json::Value) -> String {
    let v = &check["value"];
    let mut out = String::new();
    for q in v["queries"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:>7.0} ms  {} :{:<5} {} {:<4} {}  -> {}\n",
            q["t_ms"].as_f64().unwrap_or(0.0),
            q["server"].as_str().unwrap_or("?"),
            q["sport"].as_u64().unwrap_or(0),
            q["transport"].as_str().unwrap_or("?"),
            q["type"].as_str().unwrap_or("?"),
            q["name"].as_str().unwrap_or("?"),
            q["action"].as_str().unwrap_or("?"),
        ));
    }
    if out.is_empty() {
        out.push_str("(no query reached the servers)\n");
    }
    let r = &v["result"];
    let answer = if r["ok"].as_bool() == Some(true) {
        let addrs: Vec<&str> = r["addresses"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).collect();
        format!("answer: {}", addrs.join(", "))
    } else if r["error"].is_object() {
        format!(
            "error: {} \"{}\"",
            r["error"]["name"].as_str().unwrap_or("?"),
            r["error"]["message"].as_str().unwrap_or("")
        )
    } else {
        format!("no result ({})", check["status"].as_str().unwrap_or("?"))
    };
    out.push_str(&format!("=> {answer} after {:.0} ms", v["duration_ms"].as_f64().unwrap_or(0.0)));
    out
}

/// One row per scenario, one column per base.
pub fn render(sections: &[ProbeSection]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_width(180);
    let mut header = vec!["scenario".to_string()];
    header.extend(
        sections
            .iter()
            .map(|s| format!("{} ({})", s.base, s.libc.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "?".into()))),
    );
    t.set_header(header);
    let mut ids: Vec<&String> = sections
        .iter()
        .flat_map(|s| s.checks.keys())
        .filter(|k| k.starts_with("dns.") && *k != "dns.sandbox" && *k != "dns.list")
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let mut row = vec![id.trim_start_matches("dns.").to_string()];
        for s in sections {
            row.push(match s.checks.get(id) {
                Some(o) => trace_of(&serde_json::to_value(o).unwrap_or_default()),
                None => "-".into(),
            });
        }
        t.add_row(row);
    }
    let mut out = format!("{t}\n");
    for s in sections {
        for e in &s.protocol_errors {
            out.push_str(&format!("{}: probe: {e}\n", s.base));
        }
    }
    out
}
