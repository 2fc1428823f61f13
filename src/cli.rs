//! Command-line arguments, exactly as typed. Nothing outside this file uses clap; `settings`
//! turns these into validated settings once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Finds what breaks, or behaves differently, when Python dependencies run on a musl base (Alpine) instead of a glibc one (Debian).";

const LONG_ABOUT: &str = "\
Finds what breaks, or behaves differently, when Python dependencies run on a musl base (Alpine)
instead of a glibc one (Debian).

muslcheck drives a Docker engine, found as the docker CLI finds it (DOCKER_HOST with
DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, else the current Docker context, else
/var/run/docker.sock). For every dependency in a matrix it installs the dependency on every base,
observes what pip installed (wheel or source build, which versions), imports every module in a
subprocess, runs a smoke script, and reports
the differences between the bases. It also profiles each base's libc (thread stacks, crash depth,
locale, loader) and its DNS resolver.";

const EXIT_CODES: &str = "\
Exit codes:
  0  no blocking difference or failure
  1  blocking differences or failures found (repro: the bases differ or a base could not install;
     dns: the bases differ or a base observed nothing)
  2  usage or configuration error (nothing was run)
  3  engine or infrastructure error (engine unreachable or lost, disk full, index TLS not trusted)";

#[derive(Debug, Parser)]
#[command(name = "muslcheck", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars (they are also off when stderr is not a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole matrix: every dependency on every base, plus the base profiles.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Gate new dependencies: build just these on every base; exit 1 on any blocking finding.
    #[command(after_help = EXIT_CODES)]
    Gate(GateArgs),
    /// Check the engine, the bases (present, pullable, digest, observed libc) and the package index.
    #[command(after_help = EXIT_CODES)]
    Doctor(DoctorArgs),
    /// Remove containers and networks left by runs that were killed (and, with --images, the cache).
    #[command(after_help = EXIT_CODES)]
    Clean(CleanArgs),
    /// Run a crash reproducer N times on every base and compare outcomes (exit 1 when they differ).
    #[command(after_help = EXIT_CODES)]
    Repro(ReproArgs),
    /// Replay a resolv.conf against a scripted DNS zone on every base: each libc's queries side by side.
    #[command(after_help = EXIT_CODES)]
    Dns(DnsArgs),
    /// Observe images as they are (the one that crashed): their libc, interpreters and every
    /// installed distribution; with --against, compared as bases are, by distribution.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// Work on saved reports: compare two (nightly against last night), merge shards.
    #[command(after_help = EXIT_CODES)]
    Report(ReportArgs),
    /// Pin each base's tag to its current registry digest in the matrix, or check the pins.
    #[command(after_help = EXIT_CODES)]
    Bases(BasesArgs),
    /// Write a commented muslcheck.toml with the built-in defaults into the current directory.
    #[command(after_help = EXIT_CODES)]
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing muslcheck.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct MatrixArgs {
    /// The matrix file (TOML): bases, dependencies, policy [default: MUSLCHECK_MATRIX, else the
    /// nearest muslcheck.toml or pyproject.toml [tool.muslcheck] here or above, else the built-in
    /// default].
    #[arg(long, short = 'm', value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Only these bases (by name).
    #[arg(long = "base", value_name = "NAME")]
    pub bases: Vec<String>,
    /// Extra CA certificates (PEM) trusted by pip in builds and probes; overrides the matrix.
    #[arg(long, value_name = "FILE", env = "MUSLCHECK_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// The package index pip uses in builds (a PEP 503 simple index URL); overrides the matrix.
    #[arg(long, value_name = "URL", env = "MUSLCHECK_INDEX_URL")]
    pub index_url: Option<String>,
    /// Add NAME:ADDRESS to /etc/hosts in build containers (an index on a private name); adds to the matrix's.
    #[arg(long = "add-host", value_name = "NAME:ADDRESS")]
    pub add_hosts: Vec<String>,
    /// The installer of every base's builds (pip or uv); overrides the matrix's policy and bases.
    #[arg(long, value_enum, value_name = "INSTALLER")]
    pub installer: Option<InstallerArg>,
}

/// `--installer`: what installs the requirements in every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InstallerArg {
    Pip,
    Uv,
}

#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// How to print the report.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report there instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where report.json (written as jobs complete) and the logs go.
    #[arg(long, value_name = "DIR", default_value = "muslcheck-results")]
    pub results_dir: PathBuf,
    /// With the table format: every job, finding and profile in full tables, not the summary.
    #[arg(long)]
    pub details: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    /// Builds at once, and probes at once: each has this many slots, so builds waiting on the
    /// network and probes using the CPU overlap [default: the engine's CPU count, at least 2].
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Rebuild every image instead of reusing cached ones.
    #[arg(long)]
    pub no_cache: bool,
    /// Reuse cached jobs without asking the package index whether their resolution still holds.
    #[arg(long, conflicts_with = "refresh")]
    pub offline: bool,
    /// Resolve every job again (rebuild), even where the index says nothing changed.
    #[arg(long)]
    pub refresh: bool,
    /// Keep the probe containers after the run, for debugging (prints how to enter them).
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub matrix: MatrixArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Only these dependencies (by name).
    #[arg(long, value_name = "DEP")]
    pub only: Vec<String>,
    /// Skip the libc behaviour profile of each base.
    #[arg(long)]
    pub no_profile: bool,
    /// Skip the resolver profile of each base.
    #[arg(long)]
    pub no_resolver: bool,
    /// Run one slice of the dependencies, K of N (1-based), the same on every runner; merge the
    /// reports with `muslcheck report merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// With --shard: balance the shards by the job times measured in an earlier report
    /// (last night's merged report.json): longest first onto the least-loaded shard, the first
    /// shard counting the base profiles' time. Dependencies the report does not know are spread
    /// by count. Every shard must be given the same report.
    #[arg(long, value_name = "REPORT", requires = "shard")]
    pub durations: Option<PathBuf>,
    /// Compare with an earlier report.json: the report gains a `baseline` section, and the exit
    /// code is 1 only when a blocking finding is new or worse (it blocks now, or fails another
    /// base).
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub allow: AllowArgs,
}

/// What a comparison of reports may be made with anyway; the comparison records it.
#[derive(Debug, Args, Clone)]
pub struct AllowArgs {
    /// Compare with a report that did not finish (killed, interrupted, jobs not run).
    #[arg(long)]
    pub allow_unfinished: bool,
    /// Compare reports of different matrices (their `matrix_digest` differs).
    #[arg(long)]
    pub allow_other_matrix: bool,
}

#[derive(Debug, Args)]
pub struct BasesArgs {
    #[command(subcommand)]
    pub command: BasesCommand,
}

#[derive(Debug, Subcommand)]
pub enum BasesCommand {
    /// Write `image = "repo:tag@sha256:…"` for every base, the digest its registry serves now.
    Pin(MatrixArgs),
    /// Report, per base, whether its pinned digest is still what the tag points to (exit 1 if not).
    Check(MatrixArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Findings new, worsened, resolved, changed and unchanged between two reports, matched by
    /// id; exit 1 when a blocking finding is new or worse. Both reports must be finished runs of
    /// one matrix (exit 2 otherwise, unless allowed).
    Diff(DiffArgs),
    /// Combine the reports of `run --shard K/N` into the report of the whole matrix. Every shard
    /// must have finished, and together they must hold exactly the matrix's plan (exit 2
    /// otherwise).
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (last night's report.json).
    pub old: PathBuf,
    /// The later report.
    pub new: PathBuf,
    /// table, markdown or json.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub allow: AllowArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports, every one of 1/N .. N/N.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// PEP 508 requirements, e.g. 'orjson==3.10.*'.
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// A requirements file as pip reads it (continuations, comments, markers, extras, --hash,
    /// -r/-c includes), a pyproject.toml, or a lock (uv.lock, poetry.lock, pylock.toml,
    /// Pipfile.lock): installed as one set, in one install run per base.
    #[arg(short = 'r', long = "requirements", value_name = "FILE")]
    pub requirements_file: Option<PathBuf>,
    /// With a pyproject.toml or a lock: an optional-dependencies group (extra) to install too.
    #[arg(long = "extra", value_name = "NAME")]
    pub extras: Vec<String>,
    /// With a pyproject.toml or a lock: a dependency group (a Pipfile.lock's category) to
    /// install too.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// With a uv.lock: the workspace member to install, as `uv sync --package`.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// With a lock: leave out the groups its tool installs by default (uv's `dev`, poetry's
    /// non-optional groups, a pylock's default-groups, a Pipfile.lock's `default`).
    #[arg(long)]
    pub no_default_groups: bool,
    /// A smoke script run after the install (for a single requirement).
    #[arg(long, value_name = "FILE")]
    pub smoke: Option<PathBuf>,
    /// A lock (a requirements file, uv.lock, poetry.lock, pylock.toml, Pipfile.lock): install
    /// the requirements together with it, and report what they change in its resolution on
    /// each base, compared with the lock alone.
    #[arg(long, value_name = "FILE", conflicts_with = "requirements_file")]
    pub lock: Option<PathBuf>,
    #[command(flatten)]
    pub matrix: MatrixArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub matrix: MatrixArgs,
    /// Do not try to pull the bases.
    #[arg(long)]
    pub no_pull: bool,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Only what this run id created (default: every run's leftovers).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Also remove cached images and pip's cache directory.
    #[arg(long)]
    pub images: bool,
    /// Show what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove the containers of runs that are still running (they then fail with exit 3).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image to inspect (a name the engine has, else pulled): never rebuilt, changed or tagged.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Images to compare it with (a Debian build of the same service), distribution by distribution.
    #[arg(long, value_name = "IMAGE")]
    pub against: Vec<String>,
    /// The interpreters to probe in every image, instead of the one on PATH and the virtual
    /// environments found (/opt/venv, /app/.venv, /venv, $VIRTUAL_ENV, .venv in the working directory).
    #[arg(long, value_name = "PATH")]
    pub python: Vec<String>,
    /// A smoke script run with each image's main interpreter, in the main thread and in a
    /// worker thread, as for gate.
    #[arg(long, value_name = "FILE")]
    pub smoke: Option<PathBuf>,
    /// A reproducer run N times (--runs) in each image, in the probe sandbox.
    #[arg(long, value_name = "FILE")]
    pub repro: Option<PathBuf>,
    /// Runs of the reproducer per image.
    #[arg(long, default_value_t = 5, requires = "repro")]
    pub runs: u32,
    /// Time limit per reproducer run.
    #[arg(long, default_value = "60s", requires = "repro")]
    pub timeout: String,
    /// Skip the libc behaviour profile of each image.
    #[arg(long)]
    pub no_profile: bool,
    /// Also run the resolver profile in each image.
    #[arg(long)]
    pub resolver: bool,
    /// The matrix whose policy (blocking kinds, time limits) and accepted differences apply
    /// [default: as for run].
    #[arg(long, short = 'm', value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReproArgs {
    /// The Python script that reproduces the crash.
    pub script: PathBuf,
    /// Requirements installed first (PEP 508), reusing the pipeline's cached images.
    #[arg(long = "requirement", short = 'r', value_name = "REQ")]
    pub requirements: Vec<String>,
    /// Runs per base.
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Time limit per run.
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Run in these images as they are (nothing installed), side by side, instead of the matrix's bases.
    #[arg(long = "image", value_name = "IMAGE", conflicts_with = "requirements")]
    pub images: Vec<String>,
    /// With --image: the interpreter to run the script with [default: the image's main one, as inspect finds it].
    #[arg(long, value_name = "PATH", requires = "images")]
    pub python: Option<String>,
    #[command(flatten)]
    pub matrix: MatrixArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The resolv.conf to replay (nameserver addresses are mapped to the scripted servers).
    #[arg(long, value_name = "FILE")]
    pub resolv_conf: Option<PathBuf>,
    /// The zone and fault script (JSON; see docs/dns-lab.md).
    #[arg(long, value_name = "FILE")]
    pub zone: Option<PathBuf>,
    /// The name to resolve.
    #[arg(long)]
    pub name: Option<String>,
    /// Extra faults, e.g. 'type=AAAA,action=drop' or 'server=127.0.0.2,action=nxdomain'.
    #[arg(long, value_name = "FAULT")]
    pub fault: Vec<String>,
    /// Query type asked of getaddrinfo.
    #[arg(long = "type", value_enum, default_value_t = QueryType::Any)]
    pub qtype: QueryType,
    /// A scenario file (resolv.conf, zone, faults and name in one JSON document).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["resolv_conf", "zone"])]
    pub scenario: Option<PathBuf>,
    /// Replay in these images as they are, side by side, instead of the matrix's bases.
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// With --image: the interpreter the lab runs with [default: the image's main one, as inspect finds it].
    #[arg(long, value_name = "PATH", requires = "images")]
    pub python: Option<String>,
    #[command(flatten)]
    pub matrix: MatrixArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Junit,
    /// One self-contained HTML file.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryType {
    A,
    Aaaa,
    Any,
}
