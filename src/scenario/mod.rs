//! DNS lab inputs (zones, scenarios, `--fault` values), checked before anything runs.
//!
//! Two phases, like the matrix: serde_json reads the text (a syntax error has its line and
//! column), then every rule is checked and *all* problems are collected, each located through
//! [`spans::Spans`]. The keys, actions, record types and value kinds are those of the
//! in-container lab, from the one schema both read ([`schema`], probes/dnslab/schema.json), so
//! nothing it would refuse, or silently ignore, reaches a container.

mod schema;
mod spans;

use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;

use crate::input::line_col;
use crate::matrix::Diagnostic;
use schema::SCHEMA;
use spans::{child, Spans};

/// The longest a getaddrinfo child may be given, in seconds.
pub(crate) const MAX_TIMEOUT_S: f64 = 600.0;

/// Problems found, each with the JSON pointer it is about (and whether it is about the key).
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<(String, bool, String)>);

impl Problems {
    fn at(&mut self, ptr: &str, msg: impl Into<String>) {
        self.0.push((ptr.to_string(), false, msg.into()));
    }
    fn at_key(&mut self, ptr: &str, msg: impl Into<String>) {
        self.0.push((ptr.to_string(), true, msg.into()));
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Located in `text` (read from `file`), sorted by position.
    pub(crate) fn located(self, file: &Path, text: &str) -> Vec<Diagnostic> {
        let spans = Spans::of(text);
        let mut out: Vec<Diagnostic> = self
            .0
            .into_iter()
            .map(|(ptr, key, message)| {
                let (line, column) = line_col(text, if key { spans.key(&ptr) } else { spans.value(&ptr) });
                Diagnostic { file: file.to_path_buf(), line, column, message }
            })
            .collect();
        out.sort_by_key(|d| (d.line, d.column));
        out
    }
    /// Plain messages (for values from the command line, which have no file).
    pub(crate) fn messages(self) -> Vec<String> {
        self.0.into_iter().map(|(_, _, m)| m).collect()
    }
}

/// Parses JSON text; a syntax error is located.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|e| Diagnostic {
        file: file.to_path_buf(),
        line: e.line().max(1),
        column: e.column().max(1),
        message: format!("not valid JSON: {e}").replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })
}

fn unknown_keys(p: &mut Problems, ptr: &str, v: &Value, allowed: &[&str], what: &str) {
    if let Some(o) = v.as_object() {
        for k in o.keys().filter(|k| !allowed.contains(&k.as_str())) {
            p.at_key(
                &child(ptr, k),
                format!("unknown key `{}` in {what} (expected one of: {})", crate::input::shown(k), allowed.join(", ")),
            );
        }
    }
}

fn list_or_one(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Array(a) => a.iter().enumerate().map(|(i, x)| (format!("/{i}"), x)).collect(),
        other => vec![(String::new(), other)],
    }
}

fn is_ip(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.trim().parse::<IpAddr>().is_ok())
}

/// A domain name the lab can encode: labels of 1 to 63 bytes (Latin-1), at most 253 in all.
fn check_name(s: &str) -> Result<(), String> {
    let n = s.trim();
    let n = n.strip_suffix('.').unwrap_or(n);
    if n.len() > 253 {
        return Err(format!("`{}` is longer than 253 characters", crate::input::shown(s)));
    }
    if n.is_empty() {
        return Ok(());
    }
    for label in n.split('.') {
        if label.is_empty()
            || label.chars().count() > 63
            || label.chars().any(|c| c as u32 > 0xFF || c.is_control() || c.is_whitespace())
        {
            return Err(format!(
                "`{}` is not a domain name (labels of 1 to 63 characters, no spaces)",
                crate::input::shown(s)
            ));
        }
    }
    Ok(())
}

/// The number of a type name (`A`, `aaaa`, `TYPE28`) or number.
fn type_number(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let t = v.as_str()?.trim().to_ascii_uppercase();
    SCHEMA.qtypes.get(t.as_str()).copied().or_else(|| t.strip_prefix("TYPE").and_then(|d| d.parse().ok()))
}

fn uint(v: &Value, max: u64) -> bool {
    v.as_u64().is_some_and(|n| n <= max)
}

/// One record (of a zone, or given by a fault): name, type and a value of that type.
fn check_record(p: &mut Problems, ptr: &str, v: &Value, in_fault: bool) {
    if !v.is_object() {
        p.at(ptr, "a record must be an object with name, type and value");
        return;
    }
    unknown_keys(p, ptr, v, if in_fault { &SCHEMA.fault_record_keys } else { &SCHEMA.record_keys }, "a record");
    let required: &[&str] = if in_fault { &["type", "value"] } else { &["name", "type", "value"] };
    for k in required {
        if v.get(k).is_none() {
            p.at(ptr, format!("the record has no `{k}`"));
        }
    }
    if let Some(name) = v.get("name") {
        match name.as_str() {
            Some(s) => {
                if let Err(e) = check_name(s) {
                    p.at(&child(ptr, "name"), format!("record name {e}"));
                }
            }
            None => p.at(&child(ptr, "name"), "record name must be a string"),
        }
    }
    if let Some(ttl) = v.get("ttl") {
        if !uint(ttl, u32::MAX as u64) {
            p.at(&child(ptr, "ttl"), "`ttl` must be a whole number of seconds from 0 to 4294967295");
        }
    }
    if let Some(servers) = v.get("servers") {
        for (i, s) in list_or_one(servers) {
            if !is_ip(s) {
                p.at(&format!("{}{i}", child(ptr, "servers")), "`servers` must be IP addresses");
            }
        }
    }
    let (Some(t), Some(value)) = (v.get("type"), v.get("value")) else { return };
    let tptr = child(ptr, "type");
    let Some(kind) = type_number(t).and_then(|n| SCHEMA.record_kind(n)) else {
        p.at(&tptr, format!("unknown record type {t} ({})", SCHEMA.record_type_list()));
        return;
    };
    let vptr = child(ptr, "value");
    if kind == "txt" {
        let ok = value.is_string() || value.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            p.at(&vptr, "a TXT value must be a string or a list of strings");
        }
        return;
    }
    let Some(s) = value.as_str() else {
        p.at(&vptr, "the record value must be a string");
        return;
    };
    let fields: Vec<&str> = s.split_whitespace().collect();
    let num = |f: &str, max: u64| f.parse::<u64>().is_ok_and(|n| n <= max);
    let err = match kind {
        "ipv4" => s
            .parse::<std::net::Ipv4Addr>()
            .err()
            .map(|_| format!("`{}` is not an IPv4 address", crate::input::shown(s))),
        "ipv6" => s
            .parse::<std::net::Ipv6Addr>()
            .err()
            .map(|_| format!("`{}` is not an IPv6 address", crate::input::shown(s))),
        "name" => check_name(s).err(),
        "mx" => match fields.as_slice() {
            [pref, exchange] if num(pref, 65535) => check_name(exchange).err(),
            _ => Some(format!(
                "an MX value is \"PREFERENCE EXCHANGE\" (e.g. \"10 mail.example.\"), not `{}`",
                crate::input::shown(s)
            )),
        },
        "srv" => match fields.as_slice() {
            [a, b, c, target] if [a, b, c].iter().all(|f| num(f, 65535)) => check_name(target).err(),
            _ => Some(format!("an SRV value is \"PRIORITY WEIGHT PORT TARGET\", not `{}`", crate::input::shown(s))),
        },
        "soa" => match fields.as_slice() {
            [m, r, nums @ ..] if nums.len() >= 5 && nums[..5].iter().all(|f| num(f, u32::MAX as u64)) => {
                check_name(m).and(check_name(r)).err()
            }
            _ => Some(format!(
                "an SOA value is \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\", not `{}`",
                crate::input::shown(s)
            )),
        },
        _ => None,
    };
    if let Some(e) = err {
        p.at(&vptr, e);
    }
}

/// A zone: records, optional servers and udp_max (and, in a `--zone` file, faults).
pub(crate) fn check_zone(p: &mut Problems, ptr: &str, v: &Value, with_faults: bool) {
    let Some(o) = v.as_object() else {
        p.at(ptr, "the zone must be an object with \"records\"");
        return;
    };
    if with_faults {
        let mut keys = SCHEMA.zone_keys.clone();
        keys.push("faults");
        unknown_keys(p, ptr, v, &keys, "the zone");
    } else {
        for k in o.keys().filter(|k| !SCHEMA.zone_keys.contains(&k.as_str())) {
            let hint = if k == "faults" { "; faults go at the top level of the scenario" } else { "" };
            p.at_key(
                &child(ptr, k),
                format!(
                    "unknown key `{}` in the zone (expected one of: {}){hint}",
                    crate::input::shown(k),
                    SCHEMA.zone_keys.join(", ")
                ),
            );
        }
    }
    match o.get("records") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rs)) => {
            for (i, r) in rs.iter().enumerate() {
                check_record(p, &child(&child(ptr, "records"), &i.to_string()), r, false);
            }
        }
        Some(_) => p.at(&child(ptr, "records"), "`records` must be a list of records"),
    }
    if let Some(s) = o.get("servers") {
        if !s.as_array().is_some_and(|a| a.iter().all(is_ip)) {
            p.at(&child(ptr, "servers"), "`servers` must be a list of IP addresses");
        }
    }
    if let Some(u) = o.get("udp_max") {
        if !u.as_u64().is_some_and(|n| (12..=65535).contains(&n)) {
            p.at(&child(ptr, "udp_max"), "`udp_max` must be a whole number of bytes from 12 to 65535");
        }
    }
    if with_faults {
        if let Some(f) = o.get("faults") {
            check_faults(p, &child(ptr, "faults"), f);
        }
    }
}

pub(crate) fn check_faults(p: &mut Problems, ptr: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(fs) => {
            for (i, f) in fs.iter().enumerate() {
                check_fault(p, &child(ptr, &i.to_string()), f);
            }
        }
        _ => p.at(ptr, "`faults` must be a list of faults"),
    }
}

/// One fault: its filters, its action and the action's parameters.
pub(crate) fn check_fault(p: &mut Problems, ptr: &str, v: &Value) {
    let Some(o) = v.as_object() else {
        p.at(ptr, "a fault must be an object");
        return;
    };
    unknown_keys(p, ptr, v, &SCHEMA.fault_keys, "a fault");
    let action = |k: &str, allowed: &[&str], p: &mut Problems| {
        if let Some(a) = o.get(k) {
            let ok = a.as_str().is_some_and(|s| allowed.contains(&s.to_ascii_lowercase().as_str()));
            if !ok {
                p.at(&child(ptr, k), format!("unknown `{k}` {a} (one of: {})", allowed.join(", ")));
            }
        }
    };
    action("action", &SCHEMA.action_names, p);
    action("then", &SCHEMA.then_names, p);
    for k in ["server", "servers"] {
        // "*" (alone, or as the only item of a list) is every server.
        if let Some(s) = o.get(k).filter(|s| *s != "*" && *s != &serde_json::json!(["*"])) {
            for (i, x) in list_or_one(s) {
                if !is_ip(x) {
                    p.at(
                        &format!("{}{i}", child(ptr, k)),
                        format!("`{k}` must be an IP address, a list of them, or \"*\""),
                    );
                }
            }
        }
    }
    for k in ["name", "names"] {
        if let Some(s) = o.get(k) {
            for (i, x) in list_or_one(s) {
                if !x.is_string() {
                    p.at(
                        &format!("{}{i}", child(ptr, k)),
                        format!("`{k}` must be a name pattern (a string) or a list of them"),
                    );
                }
            }
        }
    }
    for k in ["type", "types"] {
        if let Some(t) = o.get(k).filter(|t| *t != "*" && *t != &serde_json::json!(["*"])) {
            for (i, x) in list_or_one(t) {
                if type_number(x).is_none() {
                    p.at(
                        &format!("{}{i}", child(ptr, k)),
                        format!("unknown query type {x} (A, AAAA, CNAME, ..., TYPEnn or \"*\")"),
                    );
                }
            }
        }
    }
    if let Some(t) = o.get("transport") {
        for (i, x) in list_or_one(t) {
            if !x.as_str().is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "udp" | "tcp" | "*")) {
                p.at(
                    &format!("{}{i}", child(ptr, "transport")),
                    format!("`transport` must be \"udp\", \"tcp\" or \"*\", not {x}"),
                );
            }
        }
    }
    if let Some(n) = o.get("nth") {
        for (i, x) in list_or_one(n) {
            if !x.as_u64().is_some_and(|n| n >= 1) {
                p.at(&format!("{}{i}", child(ptr, "nth")), "`nth` must be a count from 1 (or a list of them)");
            }
        }
    }
    for k in ["ms", "window_ms"] {
        if let Some(x) = o.get(k).filter(|x| !x.is_null()) {
            if !x.as_f64().is_some_and(|n| (0.0..=3_600_000.0).contains(&n)) {
                p.at(&child(ptr, k), format!("`{k}` must be a number of milliseconds from 0 to 3600000, not {x}"));
            }
        }
    }
    if let Some(k) = o.get("keep") {
        if !(k == "fit" || k.as_u64().is_some()) {
            p.at(&child(ptr, "keep"), format!("`keep` must be a number of records or \"fit\", not {k}"));
        }
    }
    if let Some(r) = o.get("rcode") {
        if !uint(r, 15) {
            p.at(&child(ptr, "rcode"), format!("`rcode` must be a DNS response code from 0 to 15, not {r}"));
        }
    }
    match o.get("records") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rs)) => {
            for (i, r) in rs.iter().enumerate() {
                check_record(p, &child(&child(ptr, "records"), &i.to_string()), r, true);
            }
        }
        Some(_) => p.at(&child(ptr, "records"), "`records` must be a list of records"),
    }
}

/// A whole scenario (`--scenario`, or the one assembled from `--resolv-conf` and `--zone`).
/// `name_given`: the name comes from `--name`, so the scenario need not have one.
pub(crate) fn check_scenario(p: &mut Problems, v: &Value, name_given: bool) {
    let Some(o) = v.as_object() else {
        p.at("", "the scenario must be a JSON object");
        return;
    };
    unknown_keys(p, "", v, &SCHEMA.scenario_keys, "the scenario");
    let string = |k: &str, required: bool, p: &mut Problems| match o.get(k) {
        None if required => p.at("", format!("the scenario needs `{k}` (a string)")),
        Some(x) if !x.is_string() => p.at(&child("", k), format!("`{k}` must be a string")),
        _ => {}
    };
    string("resolv_conf", true, p);
    string("name", !name_given, p);
    for k in ["id", "title", "hosts"] {
        string(k, false, p);
    }
    if let Some(n) = o.get("nsswitch").filter(|n| !n.is_null() && !n.is_string()) {
        p.at("/nsswitch", format!("`nsswitch` must be the text of nsswitch.conf, not {n}"));
    }
    if let Some(name) = o.get("name").and_then(Value::as_str) {
        if name.len() > 1024 || name.chars().any(char::is_control) {
            p.at("/name", "`name` must be one line of at most 1024 characters");
        }
    }
    match o.get("zone") {
        None => p.at("", "the scenario needs a \"zone\" object with \"records\""),
        Some(z) => check_zone(p, "/zone", z, false),
    }
    if let Some(f) = o.get("faults") {
        check_faults(p, "/faults", f);
    }
    if let Some(t) = o.get("type") {
        if !t.as_str().is_some_and(|s| SCHEMA.lookup_types.contains_key(s.to_ascii_uppercase().as_str())) {
            p.at("/type", format!("`type` must be \"A\", \"AAAA\" or \"ANY\", not {t}"));
        }
    }
    if let Some(f) = o.get("family") {
        let ok = f.is_u64()
            || f.as_str()
                .is_some_and(|s| matches!(s.to_ascii_uppercase().as_str(), "AF_INET" | "AF_INET6" | "AF_UNSPEC"));
        if !ok {
            p.at("/family", format!("`family` must be AF_INET, AF_INET6, AF_UNSPEC or a number, not {f}"));
        }
    }
    if let Some(port) = o.get("port") {
        if !(port.is_null() || port.is_string() || uint(port, 65535)) {
            p.at("/port", format!("`port` must be a port number, a service name or null, not {port}"));
        }
    }
    if let Some(s) = o.get("socktype") {
        let ok = s.is_u64()
            || s.as_str().is_some_and(|x| {
                let x = x.to_ascii_uppercase();
                matches!(x.strip_prefix("SOCK_").unwrap_or(&x), "STREAM" | "DGRAM" | "RAW" | "SEQPACKET")
            });
        if !ok {
            p.at("/socktype", format!("`socktype` must be SOCK_STREAM, SOCK_DGRAM, SOCK_RAW or a number, not {s}"));
        }
    }
    if let Some(x) = o.get("proto") {
        if !x.is_u64() {
            p.at("/proto", "`proto` must be a protocol number");
        }
    }
    if let Some(f) = o.get("flags") {
        let names: Option<Vec<String>> = match f {
            Value::Null => Some(vec![]),
            Value::Number(n) if n.is_u64() => Some(vec![]),
            Value::String(s) => Some(
                s.split(|c: char| c == '|' || c == ',' || c.is_whitespace())
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
            _ => None,
        };
        match names {
            None => p.at("/flags", "`flags` must be a list of AI_* names, a string of them, or a number"),
            Some(ns) => {
                for n in ns.iter().filter(|n| !SCHEMA.ai_flags.contains(&n.to_ascii_uppercase().as_str())) {
                    p.at(
                        "/flags",
                        format!(
                            "unknown getaddrinfo flag `{}` (one of: {})",
                            crate::input::shown(n),
                            SCHEMA.ai_flags.join(", ")
                        ),
                    );
                }
            }
        }
    }
    if let Some(env) = o.get("env") {
        match env.as_object() {
            Some(m) => {
                for (k, x) in m {
                    if x.is_object() || x.is_array() {
                        p.at(&child("/env", k), "environment values must be strings");
                    }
                }
            }
            None => p.at("/env", "`env` must be an object of variable names and values"),
        }
    }
    if let Some(t) = o.get("timeout_s") {
        if !t.as_f64().is_some_and(|s| s > 0.0 && s <= MAX_TIMEOUT_S) {
            p.at(
                "/timeout_s",
                format!("`timeout_s` must be a number of seconds above 0 and at most {MAX_TIMEOUT_S}, not {t}"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
