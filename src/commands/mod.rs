//! Commands: each turns settings into work and a report. `execute` is the one entry point from
//! `main`: it sets up logging and the runtime and maps every error to the exit-code contract.

mod bases;
mod clean;
mod dns;
mod doctor;
mod images;
mod init;
mod inspect;
mod pins;
mod pipeline;
mod reports;
mod repro;

use std::io::Write;

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result, EXIT_FINDINGS, EXIT_INFRA, EXIT_OK};
use crate::model::RunReport;
use crate::settings::Output;

/// Runs a parsed command line and returns the process exit code.
pub fn execute(cli: Cli) -> i32 {
    crate::signals::install();
    let default = match cli.verbose {
        0 => "warn",
        1 => "muslcheck=info",
        _ => "muslcheck=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return EXIT_INFRA;
        }
    };
    let progress = !cli.no_progress;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run(a) => pipeline::run(crate::settings::run(&a)?, progress).await,
            Command::Gate(a) => pipeline::run(crate::settings::gate(&a)?, progress).await,
            Command::Doctor(a) => doctor::run(&a).await,
            Command::Clean(a) => clean::run(&a).await,
            Command::Repro(a) => repro::run(&a).await,
            Command::Dns(a) => dns::run(&a).await,
            Command::Inspect(a) => inspect::run(crate::settings::inspect(&a)?).await,
            Command::Report(a) => reports::run(&a),
            Command::Bases(a) => pins::run(&a).await,
            Command::Init(a) => init::run(&a),
        }
    });
    // Do not wait for stray blocking tasks (a progress ticker) on the way out.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// A fresh run id: unique per invocation, so concurrent runs never share labels or names.
pub(crate) fn new_run_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", crate::model::now(), &u[..8])
}

/// Prints (or writes) the report in the chosen format. A closed pipe is not an error.
pub(crate) fn emit(report: &RunReport, out: &Output) -> Result<()> {
    use std::io::IsTerminal;
    // Colour only for a person at a terminal: never into a file or a pipe, nor with NO_COLOR.
    let colour = out.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty());
    let view = crate::report::View { details: out.details, colour };
    let text = crate::report::render_view(report, out.format, view);
    match &out.output {
        Some(path) => write_output(path, text.as_bytes()),
        None => print(&text),
    }
}

/// Writes text to standard output; a closed pipe is not an error.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::io("failed to write the report", e)),
    }
}

/// Writes a rendered report to `--output`: a target that cannot take it is a usage error.
pub(crate) fn write_output(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use crate::report::target::TargetError;
    crate::report::target::write_output(path, bytes).map_err(|e| match e {
        TargetError::Refused(m) => Error::Usage(m),
        TargetError::Io(e) => Error::io(format!("failed to write the report to {}", path.display()), e),
    })
}

/// What `repro` and `dns` start from: the validated matrix and output settings (checked before
/// the engine is contacted), a connected engine with a fresh run id, and an empty report.
pub(crate) async fn begin(
    command: &str,
    matrix: &crate::cli::MatrixArgs,
    output: &crate::cli::OutputArgs,
) -> Result<(crate::matrix::Matrix, Output, crate::engine::Engine, RunReport)> {
    let m = crate::settings::load_matrix(matrix)?;
    let out = Output::from_args(output);
    out.check()?;
    let run_id = new_run_id();
    let engine = crate::engine::Engine::connect(&run_id).await?;
    let mut report = RunReport::new(command, &run_id, &m.path.display().to_string());
    report.matrix_source = m.source_line();
    Ok((m, out, engine, report))
}

/// Runs a command's engine work racing SIGINT/SIGTERM, and removes the run's containers
/// whichever comes first.
pub(crate) async fn guarded<T>(
    engine: &crate::engine::Engine,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let outcome = tokio::select! {
        r = work => r,
        sig = crate::signals::interrupted() => Err(Error::Interrupted(sig)),
    };
    engine.cleanup_run().await;
    outcome
}

/// Writes `<results-dir>/report.json` atomically.
pub(crate) fn save(report: &RunReport, out: &Output) -> Result<()> {
    let path = out.results_dir.join("report.json");
    // A run writing there now must not have its report replaced under it.
    std::fs::create_dir_all(&out.results_dir)
        .map_err(|e| Error::io(format!("cannot create the results directory {}", out.results_dir.display()), e))?;
    let _lock = crate::results::lock(&out.results_dir, &report.run_id).map_err(Error::Usage)?;
    let json = serde_json::to_vec_pretty(report).expect("serialising a report");
    crate::results::write_atomic(&path, &json).map_err(|e| Error::io(format!("failed to write {}", path.display()), e))
}

/// The exit code a finished report earns.
pub(crate) fn exit_code_of(report: &RunReport) -> i32 {
    if let Some(o) = &report.outcome {
        return o.exit_code;
    }
    if !report.errors.is_empty() {
        EXIT_INFRA
    } else if report.has_blocking() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
