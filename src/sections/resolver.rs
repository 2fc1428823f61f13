//! The resolver profile of a base: what its libc's `getaddrinfo` sends to a scripted DNS server
//! and what it returns, over the built-in scenarios (probes/dnslab), with no network at all.

use std::time::Duration;

use super::Section;
use crate::kinds::RESOLVER;
use crate::probe::{checks, programs, sections};

/// The lab waits out real resolver time-outs, scenario after scenario.
const TIMEOUT: Duration = Duration::from_secs(600);

pub const SECTION: Section = Section {
    kind: &RESOLVER,
    program: programs::DNS,
    // Mostly waiting out real DNS time-outs: it takes no probe slot.
    takes_slot: false,
    observe: |engine, base, image, python| {
        Box::pin(sections::resolver(engine, base, image, python, serde_json::json!({}), TIMEOUT))
    },
    normalise,
};

/// Resolver observations: what getaddrinfo returned and the sequence of queries (server,
/// transport, type, name, what the server did); not times, source ports or query ids, which
/// vary from run to run.
pub(crate) fn normalise(check: &str, v: &serde_json::Value) -> serde_json::Value {
    if !check.starts_with(checks::DNS) || check == checks::DNS_SANDBOX {
        return serde_json::Value::Null;
    }
    let r = &v["result"];
    let queries: Vec<serde_json::Value> = v["queries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|q| serde_json::json!([q["server"], q["transport"], q["type"], q["name"], q["action"]]))
        .collect();
    serde_json::json!({
        "ok": r["ok"],
        "addresses": r["addresses"],
        "canonnames": r["canonnames"],
        "error": r["error"]["name"],
        "queries": queries,
    })
}
