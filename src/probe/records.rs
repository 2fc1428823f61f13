//! Probe output, parsed once: each stdout line a typed [`Record`], with a [`Status`] from a
//! closed set (an unknown status is a protocol error, not an `error` outcome). A check id
//! reported twice is a protocol error (the first record is kept, never "the last one wins": a
//! child that reached the probe's output could otherwise overwrite an answer). The closing
//! record says how many records the probe planned and emitted; [`completion`] decides from it
//! and from the container whether the probe said everything.

use serde::Deserialize;

use super::checks;
use crate::model::{CheckOutcome, Completion, ContainerOutcome, Libc, Observation};

/// The protocol schema this harness understands.
const SCHEMA: u64 = 1;
const MAX_ERRORS: usize = 20;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
    Crash,
    Timeout,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Crash => "crash",
            Status::Timeout => "timeout",
            Status::Skipped => "skipped",
        }
    }
}

/// One record of probe output.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Record {
    pub schema: u64,
    pub check: String,
    pub status: Status,
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// What the check looks at, in one line.
    #[serde(default)]
    pub about: Option<String>,
    /// What this base gave, in a short phrase built from `value`.
    #[serde(default)]
    pub says: Option<String>,
}

/// The closing record's value.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct End {
    pub planned: u64,
    pub emitted: u64,
    #[serde(default)]
    pub protected: bool,
}

/// Everything a probe printed, sorted into records, the closing record and protocol errors.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    pub end: Option<End>,
    /// Why the end record says the output was not protected, when it says so.
    pub unprotected: Option<String>,
    /// Valid records received before the closing one (duplicates included).
    pub received: u64,
    pub protocol_errors: Vec<String>,
}

impl Parsed {
    fn error(&mut self, e: String) {
        if self.protocol_errors.len() < MAX_ERRORS {
            self.protocol_errors.push(e);
        }
    }
}

/// Parses probe stdout. Lines that are not schema-1 records are protocol errors (shortened),
/// never panicked on.
pub fn parse_output(stdout: &str) -> Parsed {
    let mut p = Parsed::default();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in stdout.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let r = match serde_json::from_str::<Record>(line) {
            Ok(r) if r.schema == SCHEMA => r,
            Ok(r) => {
                p.error(format!("line {n}: unsupported probe schema {}", r.schema));
                continue;
            }
            Err(e) => {
                p.error(format!("line {n}: not a probe record ({e}): {}", excerpt(line, 120)));
                continue;
            }
        };
        if p.end.is_some() {
            p.error(format!("line {n}: a record after the closing record ({})", excerpt(&r.check, 80)));
            continue;
        }
        if r.check == checks::END {
            match serde_json::from_value::<End>(r.value.clone()) {
                Ok(end) => {
                    if !end.protected {
                        p.unprotected = Some(r.message.clone().unwrap_or_else(|| "no reason given".into()));
                    }
                    p.end = Some(end);
                }
                Err(e) => p.error(format!("line {n}: a malformed closing record: {e}")),
            }
            continue;
        }
        p.received += 1;
        if !seen.insert(r.check.clone()) {
            p.error(format!("line {n}: check {} reported twice; the first record is kept", excerpt(&r.check, 80)));
            continue;
        }
        p.records.push(r);
    }
    p
}

fn excerpt(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

/// Whether the probe said everything it planned to, from the container's fate first (a probe
/// that was stopped cannot be complete), then from its closing record.
pub fn completion(container: &ContainerOutcome, stderr: &str, timeout_secs: u64, p: &Parsed) -> Completion {
    if container.timed_out {
        return Completion::TimedOut { secs: timeout_secs };
    }
    if container.oom_killed {
        return Completion::OomKilled;
    }
    if container.output_truncated {
        return Completion::OutputCut;
    }
    if container.exit_code != Some(0) {
        return Completion::Died { exit_code: container.exit_code, stderr: crate::text::tail(stderr.trim(), 300) };
    }
    let Some(end) = p.end else {
        return Completion::NoClosingRecord;
    };
    if !p.protocol_errors.is_empty() {
        return Completion::Protocol { errors: p.protocol_errors.clone() };
    }
    if end.planned > end.emitted || end.emitted != p.received {
        return Completion::Short { planned: end.planned, emitted: end.emitted, received: p.received };
    }
    if let Some(why) = &p.unprotected {
        return Completion::Protocol {
            errors: vec![format!("the probe could not protect its output from the code under test: {why}")],
        };
    }
    Completion::Complete
}

impl Record {
    /// The check's outcome, for checks run in a subprocess (imports, loads, smoke).
    pub fn outcome(&self) -> CheckOutcome {
        match self.status {
            Status::Ok => CheckOutcome::Ok,
            Status::Crash => CheckOutcome::Crash {
                signal: self.value.get("signal").and_then(|v| v.as_i64()).unwrap_or(0),
                name: self.value.get("signal_name").and_then(|v| v.as_str()).unwrap_or("signal").to_string(),
            },
            Status::Timeout => CheckOutcome::Timeout,
            Status::Skipped => CheckOutcome::Skipped { message: self.message.clone().unwrap_or_default() },
            Status::Error => {
                let message = self.message.clone().unwrap_or_else(|| "error".into());
                let outside = self.value.get("missing_outside_tree").and_then(|v| v.as_bool()) == Some(true);
                match self.value.get("missing_module").and_then(|v| v.as_str()) {
                    Some(module) if outside => CheckOutcome::MissingOptional { module: module.to_string(), message },
                    _ => CheckOutcome::Error { message },
                }
            }
        }
    }

    pub fn observation(&self) -> Observation {
        Observation {
            status: self.status.as_str().to_string(),
            value: self.value.clone(),
            message: self.message.clone(),
            duration_ms: self.duration_ms,
            about: self.about.clone(),
            says: self.says.clone(),
        }
    }
}

/// The libc a probe reported in its `libc` check.
pub fn libc_of(records: &[Record]) -> Option<Libc> {
    let r = records.iter().find(|r| r.check == checks::LIBC)?;
    Some(Libc {
        family: r.value.get("family")?.as_str()?.to_string(),
        version: r.value.get("version").and_then(|v| v.as_str()).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> ContainerOutcome {
        ContainerOutcome { exit_code: Some(0), ..Default::default() }
    }

    const END_2: &str = "{\"schema\":1,\"check\":\"probe.end\",\"status\":\"ok\",\"value\":{\"planned\":2,\"emitted\":2,\"protected\":true}}\n";

    #[test]
    fn garbage_truncation_and_binary_are_protocol_errors_not_panics() {
        let out = "{\"schema\":1,\"check\":\"libc\",\"status\":\"ok\",\"value\":{\"family\":\"musl\",\"version\":\"1.2.5\"}}\n\
                   hello world\n{\"schema\":1,\"check\":\"x\",\"sta\n\u{0}\u{1}\u{fffd}\u{fffd}\n{\"schema\":2,\"check\":\"y\",\"status\":\"ok\"}\n";
        let p = parse_output(out);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.protocol_errors.len(), 4, "{:?}", p.protocol_errors);
        assert_eq!(libc_of(&p.records).unwrap().to_string(), "musl 1.2.5");
        assert_eq!(completion(&done(), "", 60, &p), Completion::NoClosingRecord);
    }

    #[test]
    fn an_unknown_status_is_a_protocol_error_not_an_error_outcome() {
        let p = parse_output("{\"schema\":1,\"check\":\"import:a\",\"status\":\"fine\"}\n");
        assert!(p.records.is_empty());
        assert!(p.protocol_errors[0].contains("unknown variant"), "{:?}", p.protocol_errors);
    }

    #[test]
    fn outcomes_map_statuses_and_optional_modules() {
        let p = parse_output(
            "{\"schema\":1,\"check\":\"import:a\",\"status\":\"crash\",\"value\":{\"signal\":11,\"signal_name\":\"SIGSEGV\"}}\n\
             {\"schema\":1,\"check\":\"import:b\",\"status\":\"error\",\"message\":\"ImportError: x\"}\n\
             {\"schema\":1,\"check\":\"import:c\",\"status\":\"error\",\"message\":\"No module named 'z'\",\"value\":{\"missing_module\":\"z\",\"missing_outside_tree\":true}}\n\
             {\"schema\":1,\"check\":\"import:d\",\"status\":\"error\",\"message\":\"No module named 'y'\",\"value\":{\"missing_module\":\"y\",\"missing_outside_tree\":false}}\n",
        );
        assert_eq!(p.records[0].outcome(), CheckOutcome::Crash { signal: 11, name: "SIGSEGV".into() });
        assert_eq!(p.records[1].outcome(), CheckOutcome::Error { message: "ImportError: x".into() });
        assert_eq!(
            p.records[2].outcome(),
            CheckOutcome::MissingOptional { module: "z".into(), message: "No module named 'z'".into() }
        );
        assert!(matches!(p.records[3].outcome(), CheckOutcome::Error { .. }));
    }

    #[test]
    fn a_check_reported_twice_keeps_the_first_and_breaks_the_protocol() {
        let out = format!(
            "{}{}{END_2}",
            "{\"schema\":1,\"check\":\"import:m\",\"status\":\"ok\"}\n",
            "{\"schema\":1,\"check\":\"import:m\",\"status\":\"crash\",\"value\":{\"signal\":11}}\n"
        );
        let p = parse_output(&out);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].outcome(), CheckOutcome::Ok);
        assert!(matches!(completion(&done(), "", 60, &p), Completion::Protocol { .. }));
    }

    #[test]
    fn completion_needs_the_closing_record_and_every_record_it_counts() {
        let two =
            "{\"schema\":1,\"check\":\"a\",\"status\":\"ok\"}\n{\"schema\":1,\"check\":\"b\",\"status\":\"ok\"}\n";
        assert_eq!(completion(&done(), "", 60, &parse_output(&format!("{two}{END_2}"))), Completion::Complete);
        // One record lost on the way: the probe counted two.
        let one = "{\"schema\":1,\"check\":\"a\",\"status\":\"ok\"}\n";
        assert!(matches!(
            completion(&done(), "", 60, &parse_output(&format!("{one}{END_2}"))),
            Completion::Short { received: 1, .. }
        ));
        // The probe itself fell short of its plan.
        let short = two.to_string() + "{\"schema\":1,\"check\":\"probe.end\",\"status\":\"ok\",\"value\":{\"planned\":5,\"emitted\":2,\"protected\":true}}\n";
        assert!(matches!(completion(&done(), "", 60, &parse_output(&short)), Completion::Short { planned: 5, .. }));
        // A record after the end.
        let after = format!("{two}{END_2}{one}");
        assert!(matches!(completion(&done(), "", 60, &parse_output(&after)), Completion::Protocol { .. }));
        // Unprotected output cannot be trusted.
        let unprot = two.to_string() + "{\"schema\":1,\"check\":\"probe.end\",\"status\":\"ok\",\"value\":{\"planned\":2,\"emitted\":2,\"protected\":false},\"message\":\"no ctypes\"}\n";
        assert!(matches!(completion(&done(), "", 60, &parse_output(&unprot)), Completion::Protocol { .. }));
    }

    #[test]
    fn the_container_decides_first() {
        let p = parse_output(END_2);
        let c = |f: fn(&mut ContainerOutcome)| {
            let mut o = done();
            f(&mut o);
            completion(&o, "Segmentation fault", 30, &p)
        };
        assert_eq!(c(|o| o.timed_out = true), Completion::TimedOut { secs: 30 });
        assert_eq!(c(|o| o.oom_killed = true), Completion::OomKilled);
        assert_eq!(c(|o| o.output_truncated = true), Completion::OutputCut);
        assert!(matches!(c(|o| o.exit_code = Some(139)), Completion::Died { exit_code: Some(139), .. }));
    }
}
