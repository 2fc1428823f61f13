//! `dns`: replays a production resolv.conf against a scripted DNS zone on every base and shows,
//! side by side, the queries each libc's resolver sent (in order, with timings) and what
//! getaddrinfo returned. Exit 1 when the bases' results or query sequences differ.

use std::path::Path;
use std::time::Duration;

use super::bases;
use super::emit;
use crate::cli::{DnsArgs, Format, QueryType};
use crate::error::{Error, Result, EXIT_FINDINGS, EXIT_OK};
use crate::kinds::RESOLVER;
use crate::matrix::Diagnostic;
use crate::scenario;

/// Reads a zone or scenario file (capped, UTF-8), parses it and checks it with `check`: every
/// problem comes back as `file:line:column: message`.
fn read_checked(
    path: &Path,
    what: &str,
    check: impl FnOnce(&mut scenario::Problems, &serde_json::Value),
) -> Result<serde_json::Value> {
    let text = crate::input::read_text(path, crate::input::MAX_DATA).map_err(|e| {
        let (line, column) = e.position();
        Error::Config(vec![Diagnostic {
            file: path.to_path_buf(),
            line,
            column,
            message: format!("cannot read the {what}: {e}"),
        }])
    })?;
    let value = scenario::parse(path, &text).map_err(|d| Error::Config(vec![d]))?;
    let mut problems = scenario::Problems::default();
    check(&mut problems, &value);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(Error::Config(problems.located(path, &text)))
    }
}

/// `key=value,key=value` -> a fault object; numbers become numbers, `a|b` becomes a list.
pub fn parse_fault(s: &str) -> std::result::Result<serde_json::Value, String> {
    let mut m = serde_json::Map::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("--fault `{s}`: `{part}` is not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if !["server", "name", "type", "transport", "nth", "action", "ms", "then", "keep", "rcode", "window_ms"]
            .contains(&k)
        {
            return Err(format!("--fault `{s}`: unknown key `{k}` (server, name, type, transport, nth, action, ms, then, keep, rcode, window_ms)"));
        }
        let value = if let Ok(n) = v.parse::<i64>() {
            // Negative numbers stay numbers here, and the checks below refuse them by name.
            serde_json::json!(n)
        } else if v.contains('|') {
            serde_json::json!(v.split('|').collect::<Vec<_>>())
        } else {
            serde_json::json!(v)
        };
        if m.insert(k.to_string(), value).is_some() {
            return Err(format!("--fault `{s}`: `{k}` is given twice"));
        }
    }
    if !m.contains_key("action") {
        return Err(format!("--fault `{s}`: needs an action (answer, delay, drop, servfail, nxdomain, nodata, refuse, truncate, first_per_port)"));
    }
    let fault = serde_json::Value::Object(m);
    let mut problems = scenario::Problems::default();
    scenario::check_fault(&mut problems, "", &fault);
    if !problems.is_empty() {
        return Err(problems.messages().iter().map(|m| format!("--fault `{s}`: {m}")).collect::<Vec<_>>().join("\n"));
    }
    Ok(fault)
}

/// The name given to getaddrinfo: one line, not absurdly long.
fn check_name_arg(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 1024 || name.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "--name `{}` must be one line of 1 to 1024 characters",
            crate::input::shown(name)
        )));
    }
    Ok(())
}

/// Builds the scenario the DNS probe runs from the arguments.
fn scenario(a: &DnsArgs) -> Result<serde_json::Value> {
    if let Some(n) = &a.name {
        check_name_arg(n)?;
    }
    let mut sc = match &a.scenario {
        Some(p) => read_checked(p, "scenario", |problems, v| scenario::check_scenario(problems, v, a.name.is_some()))?,
        None => {
            let resolv = a.resolv_conf.as_ref().ok_or_else(|| {
                Error::Usage("dns needs --scenario FILE, or --resolv-conf FILE with --zone FILE and --name NAME".into())
            })?;
            let zone_path = a.zone.as_ref().ok_or_else(|| {
                Error::Usage("dns needs --zone FILE (records and faults, JSON; see docs/dns-lab.md)".into())
            })?;
            let resolv_conf = crate::input::read_text(resolv, crate::input::MAX_TEXT).map_err(|e| {
                let (line, column) = e.position();
                Error::Usage(format!("{}:{line}:{column}: cannot read the resolv.conf: {e}", resolv.display()))
            })?;
            let mut zone = read_checked(zone_path, "zone", |problems, v| scenario::check_zone(problems, "", v, true))?;
            let faults = zone.as_object_mut().and_then(|z| z.remove("faults")).unwrap_or(serde_json::json!([]));
            serde_json::json!({"id": "replay", "title": format!("{} against {}", resolv.display(), zone_path.display()), "resolv_conf": resolv_conf, "zone": zone, "faults": faults})
        }
    };
    let obj = sc.as_object_mut().ok_or_else(|| Error::Usage("the scenario must be a JSON object".into()))?;
    if let Some(name) = &a.name {
        obj.insert("name".into(), serde_json::json!(name));
    }
    if !obj.get("name").is_some_and(|n| n.is_string()) {
        return Err(Error::Usage("dns needs the name to resolve: --name NAME (or \"name\" in the scenario)".into()));
    }
    if a.scenario.is_none() || a.qtype != QueryType::Any {
        let t = match a.qtype {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Any => "ANY",
        };
        obj.insert("type".into(), serde_json::json!(t));
    }
    let faults = obj.entry("faults").or_insert(serde_json::json!([]));
    if faults.is_null() {
        *faults = serde_json::json!([]);
    }
    let list = faults.as_array_mut().ok_or_else(|| Error::Usage("\"faults\" must be a list".into()))?;
    for f in &a.fault {
        list.push(parse_fault(f).map_err(Error::Usage)?);
    }
    if !obj.get("zone").is_some_and(|z| z.is_object()) {
        return Err(Error::Usage("the scenario needs a \"zone\" object with \"records\"".into()));
    }
    Ok(sc)
}

pub async fn run(a: &DnsArgs) -> Result<i32> {
    let sc = scenario(a)?;
    // Checked above: a number of seconds in (0, 600].
    let timeout_s = sc.get("timeout_s").and_then(|t| t.as_f64()).map(|t| t.ceil() as u64).unwrap_or(25);
    let scenario_bytes = serde_json::to_vec(&sc).expect("serialising a scenario");
    crate::settings::check_images("--image", &a.images)?;
    if let Some(p) = &a.python {
        crate::settings::check_python(p)?;
    }
    let (matrix, out, engine, mut report) = super::begin("dns", &a.matrix, &a.output).await?;
    let work = async {
        // What to run the scenario in: (base name, image id, interpreter), the images named as
        // they are, or else the matrix's bases.
        let mut targets: Vec<(String, String, String)> = vec![];
        for reference in &a.images {
            let (rec, python) =
                super::images::with_main(&engine, reference, a.python.as_deref(), &report.bases).await?;
            targets.push((rec.name.clone(), rec.image_id.clone(), python.path));
            report.bases.push(rec);
        }
        for base in matrix.bases.iter().filter(|_| a.images.is_empty()) {
            let rec = bases::resolve(&engine, base, true).await.map_err(|e| bases::hinted(&matrix, base, e))?.record;
            targets.push((base.name.clone(), rec.image_id.clone(), base.python.clone()));
            report.bases.push(rec);
        }
        let runs = targets.iter().map(|(name, image, python)| {
            crate::probe::sections::resolver_scenario(
                &engine,
                name,
                image,
                python,
                &scenario_bytes,
                Duration::from_secs(timeout_s + 60),
            )
        });
        // Every base at once: a slow scenario takes its time once, not once per base.
        let sections = futures_util::future::join_all(runs).await;
        for s in sections {
            report.add_section(&RESOLVER, s?);
        }
        Ok::<_, Error>(())
    };
    super::guarded(&engine, work).await?;
    let observed = report.section(&RESOLVER).to_vec();
    for (b, s) in report.bases.iter_mut().zip(&observed) {
        b.libc = s.libc.clone();
    }
    let required = match a.images.is_empty() {
        true => matrix.required(),
        false => report.bases.iter().map(|b| (b.name.clone(), true)).collect(),
    };
    let policy = &matrix.policy;
    let section = crate::sections::of(&RESOLVER);
    report.findings = crate::compare::section_findings(&RESOLVER, &observed, policy, &required, section.normalise);
    report.findings.extend(crate::compare::incomplete_section_findings(RESOLVER.subject, &observed, policy, &required));
    // A base that produced no scenario record observed nothing: the bases cannot be compared,
    // and "no difference" would be a verdict better than the evidence.
    let silent: Vec<String> = observed
        .iter()
        .filter(|s| crate::probe::sections::scenarios_observed(s) == 0)
        .map(|s| s.base.clone())
        .collect();
    for b in &silent {
        report.errors.push(format!(
            "{b}: the DNS lab observed nothing (no scenario record): {}",
            observed.iter().find(|s| &s.base == b).map(|s| s.completion.describe()).unwrap_or_default()
        ));
    }
    report.normalise();
    let mut outcome = crate::compare::run_outcome(&report);
    if outcome.exit_code == EXIT_OK && !report.findings.is_empty() {
        // dns: any difference between the bases is the answer the user asked for.
        outcome.exit_code = EXIT_FINDINGS;
        outcome.summary = format!("{} difference(s) between the bases", report.findings.len());
    }
    if !silent.is_empty() {
        outcome.exit_code = EXIT_FINDINGS;
        outcome.summary = format!("no observation on {}", silent.join(", "));
    }
    report.outcome = Some(outcome.clone());
    report.partial = false;
    report.finished_at = Some(crate::model::now());
    super::save(&report, &out)?;
    if out.format == Format::Table {
        let text = crate::report::trace::render(&observed);
        match &out.output {
            Some(p) => super::write_output(p, text.as_bytes())?,
            None => print!("{text}"),
        }
    } else {
        emit(&report, &out)?;
    }
    for b in &silent {
        eprintln!("error: base {b} produced no observation; see report.json");
    }
    Ok(outcome.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_the_command_line() {
        assert_eq!(
            parse_fault("type=AAAA,action=drop").unwrap(),
            serde_json::json!({"type": "AAAA", "action": "drop"})
        );
        assert_eq!(
            parse_fault("server=127.0.0.1,action=delay,ms=500,then=answer").unwrap(),
            serde_json::json!({"server": "127.0.0.1", "action": "delay", "ms": 500, "then": "answer"})
        );
        assert_eq!(parse_fault("type=A|AAAA,action=servfail").unwrap()["type"], serde_json::json!(["A", "AAAA"]));
        assert!(parse_fault("type=AAAA").unwrap_err().contains("needs an action"));
        assert!(parse_fault("colour=red,action=drop").unwrap_err().contains("unknown key"));
        assert!(parse_fault("drop").is_err());
    }
}
