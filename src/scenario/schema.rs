//! The DNS lab's input schema, probes/dnslab/schema.json: the keys of a scenario, a zone, a
//! record, a fault and a fault's record, the fault actions, the query and record types and how
//! each record type's value is written. The lab gets the same text (src/probe/programs.rs puts it
//! before the lab's code), so the validator and the lab cannot disagree on them; the tests below
//! run the assembled lab with python3 and compare what it enforces with this file.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The text of the schema, as the lab gets it too.
pub(crate) const TEXT: &str = include_str!("../../probes/dnslab/schema.json");

/// The schema, read once. Lists keep the file's order (messages list them as written).
pub(crate) static SCHEMA: LazyLock<Schema<'static>> = LazyLock::new(|| {
    let mut s: Schema<'static> = serde_json::from_str(TEXT).expect("probes/dnslab/schema.json is a valid schema");
    s.action_names = s.actions.iter().map(|a| a.name).collect();
    s.then_names = s.actions.iter().filter(|a| a.then).map(|a| a.name).collect();
    s
});

#[derive(Debug, Deserialize)]
pub(crate) struct Schema<'a> {
    pub(crate) scenario_keys: Vec<&'a str>,
    pub(crate) zone_keys: Vec<&'a str>,
    pub(crate) record_keys: Vec<&'a str>,
    pub(crate) fault_record_keys: Vec<&'a str>,
    pub(crate) fault_keys: Vec<&'a str>,
    #[serde(borrow)]
    actions: Vec<Action<'a>>,
    /// Query types the lab knows by name, and their numbers.
    pub(crate) qtypes: BTreeMap<&'a str, u64>,
    /// Record types the lab can put in a reply, in the order messages list them.
    #[serde(borrow)]
    pub(crate) record_types: Vec<RecordType<'a>>,
    /// The values a scenario's `type` may take (the lookup's address family).
    pub(crate) lookup_types: BTreeMap<&'a str, &'a str>,
    pub(crate) ai_flags: Vec<&'a str>,
    /// Every fault action, in order.
    #[serde(skip)]
    pub(crate) action_names: Vec<&'a str>,
    /// The actions that may be a fault's `then`.
    #[serde(skip)]
    pub(crate) then_names: Vec<&'a str>,
}

#[derive(Debug, Deserialize)]
struct Action<'a> {
    name: &'a str,
    /// false: the action cannot be another's `then` (it has a `then` of its own).
    #[serde(default = "yes")]
    then: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub(crate) struct RecordType<'a> {
    #[serde(rename = "type")]
    pub(crate) name: &'a str,
    /// The value kind: how the value is written (schema `value_kinds`).
    pub(crate) value: &'a str,
}

impl<'a> Schema<'a> {
    /// The value kind of a record type number, or None when the lab cannot encode that type.
    pub(crate) fn record_kind(&self, number: u64) -> Option<&'a str> {
        self.record_types.iter().find(|r| self.qtypes.get(r.name) == Some(&number)).map(|r| r.value)
    }

    /// The record types as a message lists them: "A, AAAA, ... or SOA".
    pub(crate) fn record_type_list(&self) -> String {
        let names: Vec<&str> = self.record_types.iter().map(|r| r.name).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }
}

#[cfg(test)]
mod tests;
