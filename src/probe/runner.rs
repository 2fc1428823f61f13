//! Running a probe program in a sandboxed container and reading what it printed.

use std::time::Duration;

use super::records::{self, Record};
use crate::engine::{Engine, EngineError, RunSpec, Sandbox};
use crate::model::{Completion, ContainerOutcome};

/// What a probe run needs.
pub struct ProbeSpec<'a> {
    pub image: &'a str,
    pub python: &'a str,
    /// The probe's program text (one of [`super::programs`]).
    pub probe: &'a str,
    pub config: serde_json::Value,
    pub sandbox: Sandbox,
    pub user: Option<&'a str>,
    pub timeout: Duration,
    pub kind: &'a str,
    /// Keep the stopped container (`--keep`), for debugging.
    pub keep: bool,
}

/// A probe run: its records, whatever was wrong with its output, its container, and whether
/// it said everything it planned to.
#[derive(Debug, Clone, Default)]
pub struct ProbeRun {
    pub records: Vec<Record>,
    pub protocol_errors: Vec<String>,
    pub container: ContainerOutcome,
    pub completion: Completion,
}

impl ProbeRun {
    /// Why the probe's records are not the whole answer (it did not finish, or broke the
    /// protocol), or `None` when they are.
    pub fn unfinished(&self) -> Option<String> {
        if self.completion.is_complete() && self.protocol_errors.is_empty() {
            return None;
        }
        let mut why = vec![self.completion.describe()];
        why.extend(self.protocol_errors.iter().cloned());
        Some(why.join("; "))
    }
}

/// Runs a probe program in a container and parses what it printed.
pub async fn run(engine: &Engine, p: &ProbeSpec<'_>) -> Result<ProbeRun, EngineError> {
    run_with_files(engine, p, vec![]).await
}

/// [`run`], with files (directory, tar) put into the container before it starts: input too
/// large for a command-line argument (a DNS zone) goes this way. The root filesystem must be
/// writable for that (the strict sandbox's is not).
pub async fn run_with_files(
    engine: &Engine,
    p: &ProbeSpec<'_>,
    uploads: Vec<(String, Vec<u8>)>,
) -> Result<ProbeRun, EngineError> {
    let mut spec =
        RunSpec::new(p.image, vec!["-c".into(), super::programs::program(p.probe), p.config.to_string()], p.kind);
    // The interpreter is the entrypoint: an image with an entrypoint of its own (a service's
    // image under `inspect`) runs the probe, not its entrypoint with the probe as arguments.
    spec.entrypoint = Some(vec![p.python.to_string()]);
    spec.sandbox = p.sandbox.clone();
    spec.user = p.user.map(str::to_string);
    spec.timeout = p.timeout;
    spec.max_output = 16 << 20;
    spec.keep = p.keep;
    spec.uploads = uploads;
    spec.env = vec!["PYTHONDONTWRITEBYTECODE=1".into(), "PYTHONUNBUFFERED=1".into(), "HOME=/tmp".into()];
    let out = engine.run(&spec).await?;
    if let Some(id) = &out.container {
        eprintln!("kept probe container {} ({}): docker start -ai {id}   (or: docker commit {id} debug && docker run --rm -it --entrypoint sh debug)", &id[..12], p.kind);
    }
    let parsed = records::parse_output(&out.stdout);
    let container = ContainerOutcome {
        exit_code: out.exit_code,
        oom_killed: out.oom_killed,
        timed_out: out.timed_out,
        output_truncated: out.output_truncated,
        secs: out.duration.as_secs_f64(),
    };
    let completion = records::completion(&container, &out.stderr, p.timeout.as_secs(), &parsed);
    let mut protocol_errors = parsed.protocol_errors;
    if !completion.is_complete() && !matches!(completion, Completion::Protocol { .. }) {
        protocol_errors.push(completion.describe());
    }
    Ok(ProbeRun { records: parsed.records, protocol_errors, container, completion })
}
