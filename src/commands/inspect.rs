//! `inspect`: images as they are, never rebuilt (nothing installed, nothing committed; every
//! probe runs in a container of the image itself, in the probe sandbox). For each image: its
//! interpreters, the wheel probe through each (imports, ELF linkage, loader features, foreign
//! libc, vendored libraries; the smoke script with the main interpreter), the libc profile, the
//! resolver profile on request, the reproducer's runs. Then one image is judged alone, or the
//! images are compared distribution by distribution as `run` compares bases.

use std::time::Instant;

use super::{emit, exit_code_of, images, new_run_id};
use crate::engine::{Engine, EngineError, Sandbox};
use crate::error::{Error, Result};
use crate::inspect::{split, Interpreter};
use crate::kinds::{PROFILE, RESOLVER};
use crate::model::{InterpreterRecord, RunReport};
use crate::probe::{programs, wheels, ProbeSpec};
use crate::settings::InspectSettings;

pub async fn run(s: InspectSettings) -> Result<i32> {
    let started = Instant::now();
    let run_id = new_run_id();
    let engine = Engine::connect(&run_id).await?;
    crate::results::prepare(&s.out.results_dir).map_err(Error::Usage)?;
    let mut report = RunReport::new("inspect", &run_id, &s.matrix.path.display().to_string());
    report.matrix_source = s.matrix.source_line();
    let work = async {
        for reference in &s.images {
            observe_image(&engine, &s, reference, &mut report).await?;
        }
        Ok::<_, Error>(())
    };
    let outcome = super::guarded(&engine, work).await;
    if let Err(e) = outcome {
        report.errors.push(e.to_string());
        let _ = super::save(&report, &s.out);
        return Err(e);
    }
    if report.bases.len() > 1 {
        add_absent(&mut report);
    }
    report.timings.total = started.elapsed().as_secs_f64();
    let matrix = &s.matrix;
    let known = |name: &str| matrix.dependency(name).and_then(|d| d.known_difference.clone());
    crate::compare::close_images(&mut report, &matrix.policy, &known);
    super::save(&report, &s.out)?;
    emit(&report, &s.out)?;
    Ok(exit_code_of(&report))
}

/// A distribution the images are compared by that an image has not: recorded as not installed
/// there.
fn add_absent(r: &mut RunReport) {
    let names: std::collections::BTreeSet<String> =
        crate::compare::compared(r).into_iter().filter(|d| d != split::SMOKE).collect();
    for name in names {
        for b in &r.bases {
            if !r.jobs.iter().any(|j| j.dependency == name && j.base == b.name) {
                let job = split::absent(&name, &b.name, &b.image);
                r.jobs.push(job);
            }
        }
    }
}

/// The wheel probe's configuration: the smoke script (main interpreter only) and its timing.
fn wheel_config(smoke: Option<&str>, policy: &crate::matrix::Policy) -> serde_json::Value {
    serde_json::json!({
        "smoke": smoke,
        "runtime_runs": policy.runtime_runs,
        "runtime_budget_s": policy.runtime_budget().as_secs_f64(),
    })
}

/// Everything observed of one image, added to the report.
async fn observe_image(engine: &Engine, s: &InspectSettings, reference: &str, report: &mut RunReport) -> Result<()> {
    let image = images::resolve(engine, reference, &report.bases).await?;
    let found = crate::inspect::discover(
        engine,
        &image.info.id,
        &image.info.env,
        image.info.working_dir.as_deref(),
        &s.pythons,
    )
    .await?
    .map_err(|why| images::no_interpreter(reference, why))?;
    let main = crate::inspect::interpreters::main_index(&found);
    // The main interpreter first: the distributions it sees are judged through it.
    let mut order: Vec<&Interpreter> = vec![&found[main]];
    order.extend(found.iter().enumerate().filter(|(i, _)| *i != main).map(|(_, f)| f));
    let mut record = image.record;
    let name = record.name.clone();
    let image_id = record.image_id.clone();
    let policy = &s.matrix.policy;
    let mut probes = vec![];
    for (i, interpreter) in order.iter().enumerate() {
        eprintln!("{name}: probing {} ({})", interpreter.path, interpreter.how);
        let config = wheel_config(if i == 0 { s.smoke.as_deref() } else { None }, policy);
        let run = crate::probe::run(
            engine,
            &ProbeSpec {
                image: &image_id,
                python: &interpreter.path,
                probe: programs::WHEELS,
                config,
                sandbox: Sandbox::strict(),
                user: Some("1000:1000"),
                timeout: policy.probe_timeout,
                kind: "probe-wheels",
                keep: false,
            },
        )
        .await?;
        probes.push((wheels::wheel_probe(&run), wheels::versions_of(&run.records)));
    }
    record.libc = probes[0].0.libc.clone();
    let seen: Vec<split::Seen> = order
        .iter()
        .zip(&probes)
        .map(|(interpreter, (probe, versions))| split::Seen { interpreter, probe, versions })
        .collect();
    let jobs = split::jobs(&name, reference, &seen, 0, s.smoke.is_some());
    let judged_by = split::judged_by(&seen);
    for (i, sn) in seen.iter().enumerate() {
        let dists = split::distributions(sn.probe);
        let version = |d: &String| sn.versions.get(d).map(String::as_str).unwrap_or("?").to_string();
        report.interpreters.push(InterpreterRecord {
            base: name.clone(),
            path: sn.interpreter.path.clone(),
            how: sn.interpreter.how.clone(),
            main: i == 0,
            libc: sn.probe.libc.clone(),
            distributions: dists.iter().map(|d| format!("{d} {}", version(d))).collect(),
            judged_elsewhere: dists.iter().filter(|d| judged_by.get(*d) != Some(&i)).cloned().collect(),
            completion: sn.probe.completion.clone(),
        });
    }
    report.jobs.extend(jobs);
    let python = order[0].path.clone();
    let sections = [(s.profile, &PROFILE), (s.resolver, &RESOLVER)];
    for (wanted, kind) in sections {
        if !wanted {
            continue;
        }
        eprintln!("{name}: {} with {python}", kind.title.to_lowercase());
        let started = Instant::now();
        match (crate::sections::of(kind).observe)(engine, &name, &image_id, &python).await {
            Ok(section) => {
                *report.timings.sections.entry(kind.id.to_string()).or_default() += started.elapsed().as_secs_f64();
                report.add_section(kind, section);
            }
            Err(e) if e.is_connection_lost() => return Err(e.into()),
            Err(e) => report.errors.push(format!("{} {name}: {e}", kind.id)),
        }
    }
    if let Some((script, runs, timeout)) = &s.repro {
        let r = super::repro::runs_in(engine, &image_id, &python, script, *runs, *timeout, &name)
            .await
            .map_err(|e: EngineError| Error::from(e))?;
        report.repro.push(r);
    }
    report.bases.push(record);
    Ok(())
}
