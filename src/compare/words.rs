//! A per-base section's difference in words: what the check looks at, then what each base gave,
//! bases with the same phrase together ("stack of a thread started by Python: 128 KiB on musl,
//! 8 MiB on glibc"). The phrases are the probe's own (`says`, built from the value it observed);
//! where a base has none, or every base says the same while the compared values still differ,
//! the values that differ are named by their path instead ("digests.log is 3a… on musl and
//! 9f… on glibc"). Raw values stay in the report's JSON and behind the HTML's disclosure.

use crate::model::Observation;

/// At most this many differing values are named; the rest are counted.
const MAX_PATHS: usize = 2;

/// One base's side of a comparison: its name, what it observed (None: not reported), and the
/// normalised value that was compared.
pub struct Side<'a> {
    pub base: &'a str,
    pub observed: Option<&'a Observation>,
    pub compared: &'a serde_json::Value,
}

/// The one-line summary of a check that differs between bases.
pub fn difference(check: &str, sides: &[Side]) -> String {
    let about =
        sides.iter().find_map(|s| s.observed.and_then(|o| o.about.clone())).unwrap_or_else(|| check.to_string());
    let phrases: Vec<Option<String>> = sides.iter().map(phrase).collect();
    if phrases.iter().all(Option::is_some) {
        let phrases: Vec<String> = phrases.into_iter().flatten().collect();
        if phrases.iter().any(|p| p != &phrases[0]) {
            let names: Vec<&str> = sides.iter().map(|s| s.base).collect();
            let said = format!("{about}: {}", grouped(&names, &phrases));
            // Phrases that differ only in their numbers may differ only in what is not compared
            // (a resolver's times): what was compared and differs is named too, unless it is
            // numbers, which the phrases show.
            if phrases.iter().all(|p| digits_masked(p) == digits_masked(&phrases[0])) {
                let beyond = by_path(sides, |v| !matches!(v, Some(serde_json::Value::Number(_))));
                if let Some(beyond) = beyond {
                    return format!("{said}; what differs: {beyond}");
                }
            }
            return said;
        }
    }
    format!("{about}: {}", by_path(sides, |_| true).unwrap_or_else(|| "differs".into()))
}

/// A phrase with every run of digits replaced by one `#`.
fn digits_masked(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

/// A base's phrase: the probe's words when the check ran to a value, its status otherwise.
fn phrase(side: &Side) -> Option<String> {
    let Some(o) = side.observed else { return Some("not observed".into()) };
    if o.status != "ok" {
        return Some(match o.message.as_deref() {
            Some(m) => format!("{} ({})", o.status, crate::text::first_line(m)),
            None => o.status.clone(),
        });
    }
    o.says.clone()
}

/// "X on a, b; Y on c": bases that gave the same phrase together, in the order first seen.
fn grouped(names: &[&str], phrases: &[String]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = vec![];
    for (name, p) in names.iter().zip(phrases) {
        match groups.iter_mut().find(|(q, _)| q == p) {
            Some((_, bases)) => bases.push(name),
            None => groups.push((p, vec![name])),
        }
    }
    let parts: Vec<String> = groups.iter().map(|(p, bases)| format!("{p} on {}", bases.join(", "))).collect();
    parts.join("; ")
}

/// The compared values that differ, by path: "a.b is 1 on musl and 2 on glibc"; only those
/// whose value on the first base `keep` accepts. None when no such value differs.
fn by_path(sides: &[Side], keep: impl Fn(Option<&serde_json::Value>) -> bool) -> Option<String> {
    let mut paths: Vec<String> = vec![];
    for s in sides {
        leaves(s.compared, String::new(), &mut |p, _| {
            if !paths.contains(&p) {
                paths.push(p)
            }
        });
    }
    let differing: Vec<&String> = paths
        .iter()
        .filter(|p| {
            let first = at(sides[0].compared, p);
            keep(first) && sides.iter().any(|s| at(s.compared, p) != first)
        })
        .collect();
    if differing.is_empty() {
        return None;
    }
    let names: Vec<&str> = sides.iter().map(|s| s.base).collect();
    let mut parts: Vec<String> = differing
        .iter()
        .take(MAX_PATHS)
        .map(|p| {
            let values: Vec<String> = sides.iter().map(|s| show(at(s.compared, p))).collect();
            let label = p.strip_prefix("value.").unwrap_or(p);
            let label = if label == "value" || label.is_empty() { "it".to_string() } else { label.to_string() };
            format!("{label} is {}", grouped(&names, &values).replace("; ", " and "))
        })
        .collect();
    if differing.len() > MAX_PATHS {
        parts.push(format!("{} more values differ", differing.len() - MAX_PATHS));
    }
    Some(parts.join("; "))
}

/// Calls `f` with the path and value of every scalar leaf (arrays are leaves: their order and
/// contents are one value).
fn leaves(v: &serde_json::Value, path: String, f: &mut impl FnMut(String, &serde_json::Value)) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaves(x, p, f);
            }
        }
        other => f(path, other),
    }
}

fn at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn show(v: Option<&serde_json::Value>) -> String {
    let text = match v {
        None | Some(serde_json::Value::Null) => "nothing".to_string(),
        Some(serde_json::Value::String(s)) => format!("'{s}'"),
        Some(other) => in_words(other),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// A value as a reader says it, not as JSON: a list's items joined by commas, a run of equal
/// items counted ("3 × empty"), an object's fields as `key value`.
fn in_words(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "nothing".into(),
        serde_json::Value::String(s) if s.is_empty() => "empty".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "none".into(),
        serde_json::Value::Array(items) => {
            let mut runs: Vec<(&serde_json::Value, usize)> = vec![];
            for x in items {
                match runs.last_mut() {
                    Some((y, n)) if *y == x => *n += 1,
                    _ => runs.push((x, 1)),
                }
            }
            let parts: Vec<String> = runs
                .iter()
                .map(|(x, n)| if *n == 1 { in_words(x) } else { format!("{n} × {}", in_words(x)) })
                .collect();
            parts.join(", ")
        }
        serde_json::Value::Object(m) if m.is_empty() => "none".into(),
        serde_json::Value::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, x)| format!("{k} {}", in_words(x))).collect();
            format!("({})", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(value: serde_json::Value, says: Option<&str>) -> Observation {
        Observation {
            status: "ok".into(),
            value,
            about: Some("stack of a thread started by Python".into()),
            says: says.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn the_probes_phrases_side_by_side() {
        let (a, b) = (obs(json!({"bytes": 131072}), Some("128 KiB")), obs(json!({"bytes": 8388608}), Some("8 MiB")));
        let (va, vb) = (json!({"status": "ok", "value": a.value}), json!({"status": "ok", "value": b.value}));
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: Some(&b), compared: &vb },
        ];
        assert_eq!(
            difference("thread_stack.python", &sides),
            "stack of a thread started by Python: 128 KiB on musl; 8 MiB on glibc"
        );
    }

    /// As the resolver's numeric-host scenario: the phrases differ only in times, which are
    /// not compared; what differs is the names and the entries getaddrinfo returned.
    #[test]
    fn phrases_that_differ_only_in_numbers_not_compared_are_followed_by_what_differs() {
        let a = obs(json!({}), Some("answered 127.0.0.1 after 38 ms, 0 queries"));
        let b = obs(json!({}), Some("answered 127.0.0.1 after 1 ms, 0 queries"));
        let va = json!({"value": {"ok": true, "canonnames": ["127.0.0.1"], "tuples": 2}});
        let vb = json!({"value": {"ok": true, "canonnames": [""], "tuples": 3}});
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: Some(&b), compared: &vb },
        ];
        assert_eq!(
            difference("dns.D13", &sides),
            "stack of a thread started by Python: answered 127.0.0.1 after 38 ms, 0 queries on musl; \
             answered 127.0.0.1 after 1 ms, 0 queries on glibc; what differs: canonnames is 127.0.0.1 on musl \
             and empty on glibc"
        );
        // Numbers that differ are in the phrases already: nothing is added.
        let (a, b) = (obs(json!({}), Some("2 CPUs")), obs(json!({}), Some("1 CPUs")));
        let (va, vb) = (json!({"value": {"n": 2}}), json!({"value": {"n": 1}}));
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: Some(&b), compared: &vb },
        ];
        assert_eq!(difference("c", &sides), "stack of a thread started by Python: 2 CPUs on musl; 1 CPUs on glibc");
    }

    /// As the resolver's scenarios: lists of addresses and names are said as lists, with runs
    /// of the same item counted, never as JSON.
    #[test]
    fn lists_are_said_in_words_with_runs_counted() {
        let a = obs(json!({}), Some("answered 10.0.0.5, fd00::5 after 9 ms"));
        let b = obs(json!({}), Some("answered 10.0.0.5, fd00::5 after 41 ms"));
        let va = json!({"value": {"addresses": ["fd00::5", "10.0.0.5"], "canonnames": ["", "", ""], "p": []}});
        let vb = json!({"value": {"addresses": ["10.0.0.5", "fd00::5"], "canonnames": ["a.test", "a.test"], "p": [{"x": 1}]}});
        let sides = [
            Side { base: "glibc", observed: Some(&a), compared: &va },
            Side { base: "musl", observed: Some(&b), compared: &vb },
        ];
        let said = difference("dns.D0", &sides);
        assert!(
            said.ends_with(
                "what differs: addresses is fd00::5, 10.0.0.5 on glibc and 10.0.0.5, fd00::5 on musl; \
                 canonnames is 3 × empty on glibc and 2 × a.test on musl; 1 more values differ"
            ),
            "{said}"
        );
        assert_eq!(in_words(&json!([{"x": 1}, []])), "(x 1), none");
        assert!(!said.contains('[') && !said.contains('"'), "{said}");
    }

    #[test]
    fn without_phrases_the_differing_values_are_named_by_path() {
        let a = Observation {
            status: "ok".into(),
            value: json!({"x": 1, "digests": {"log": "aa", "exp": "cc"}}),
            ..Default::default()
        };
        let b = Observation {
            status: "ok".into(),
            value: json!({"x": 1, "digests": {"log": "bb", "exp": "cc"}}),
            ..Default::default()
        };
        let (va, vb) = (json!({"status": "ok", "value": a.value}), json!({"status": "ok", "value": b.value}));
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: Some(&b), compared: &vb },
        ];
        assert_eq!(difference("math.fma", &sides), "math.fma: digests.log is 'aa' on musl and 'bb' on glibc");
    }

    #[test]
    fn equal_phrases_fall_back_to_the_values_and_a_missing_check_is_said() {
        let a = obs(json!({"n": 1}), Some("same"));
        let b = obs(json!({"n": 2}), Some("same"));
        let (va, vb) = (json!({"value": {"n": 1}}), json!({"value": {"n": 2}}));
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: Some(&b), compared: &vb },
        ];
        assert_eq!(difference("c", &sides), "stack of a thread started by Python: n is 1 on musl and 2 on glibc");
        let null = serde_json::Value::Null;
        let sides = [
            Side { base: "musl", observed: Some(&a), compared: &va },
            Side { base: "glibc", observed: None, compared: &null },
        ];
        assert_eq!(difference("c", &sides), "stack of a thread started by Python: same on musl; not observed on glibc");
    }

    #[test]
    fn a_failed_check_says_its_status_and_more_than_two_values_are_counted() {
        let crash = Observation { status: "crash".into(), message: Some("SIGSEGV\nmore".into()), ..Default::default() };
        let ok = obs(json!({}), Some("fine"));
        let (va, vb) = (json!({}), json!({}));
        let sides = [
            Side { base: "musl", observed: Some(&crash), compared: &va },
            Side { base: "glibc", observed: Some(&ok), compared: &vb },
        ];
        assert_eq!(
            difference("c", &sides),
            "stack of a thread started by Python: crash (SIGSEGV) on musl; fine on glibc"
        );
        let (va, vb) = (json!({"a": 1, "b": 1, "c": 1}), json!({"a": 2, "b": 2, "c": 2}));
        let plain = Observation::default();
        let sides = [
            Side { base: "musl", observed: Some(&plain), compared: &va },
            Side { base: "glibc", observed: Some(&plain), compared: &vb },
        ];
        assert_eq!(
            difference("c", &sides),
            "c: a is 1 on musl and 2 on glibc; b is 1 on musl and 2 on glibc; 1 more values differ"
        );
    }
}
