//! Raw arguments + matrix + environment -> one validated settings value per command, once.
//! Nothing downstream reads clap or re-validates input.

use crate::kinds::{SectionKind, PROFILE, RESOLVER};
use std::path::PathBuf;

use crate::cli::{ExecArgs, Format, GateArgs, MatrixArgs, OutputArgs, RunArgs};
use crate::error::{Error, Result};
use crate::matrix::{Dependency, Matrix, Requirement};

/// Where and how a report is written.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub results_dir: PathBuf,
    /// `--details`: the table format's full tables instead of the summary.
    pub details: bool,
}

/// Everything `run` and `gate` need.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub command: &'static str,
    pub matrix: Matrix,
    /// Jobs at once; `None`: as many as the engine has CPUs (at least 2: a job waits on the
    /// network as much as it computes).
    pub jobs: Option<usize>,
    pub no_cache: bool,
    pub freshness: crate::install::Freshness,
    pub keep: bool,
    /// The per-base sections this run observes (`--no-profile`, `--no-resolver` leave theirs
    /// out; only the first shard observes any).
    pub sections: Vec<&'static crate::sections::Section>,
    pub out: Output,
    /// The name of the engine-side volumes that keep pip's cache between runs, if any.
    pub pip_cache: Option<String>,
    /// The host directory of the observation cache, when there is one.
    pub observations: Option<PathBuf>,
    /// The slice of the dependencies this run takes (`run --shard`).
    pub shard: Option<crate::model::Shard>,
    /// `Matrix::digest` of the matrix before sharding.
    pub matrix_digest: String,
    /// The report to compare with (`run --baseline`), read and checked before anything runs.
    pub baseline: Option<crate::report::diff::Baseline>,
    /// The whole matrix's plan (before sharding), by dependency: the report records it.
    pub planned: std::collections::BTreeMap<String, Vec<String>>,
    /// `gate --lock`: the lock the gated requirements are installed with and compared against.
    pub lock: Option<crate::lock::LockPlan>,
    /// What reading `-r` or `--lock` left out, and why (recorded in the report).
    pub input_notes: Vec<String>,
}

impl RunSettings {
    /// Whether the run observes a section of this kind.
    pub fn observes(&self, kind: &SectionKind) -> bool {
        self.sections.iter().any(|x| x.kind == kind)
    }
}

impl Output {
    pub fn from_args(a: &OutputArgs) -> Output {
        Output { format: a.format, output: a.output.clone(), results_dir: a.results_dir.clone(), details: a.details }
    }

    /// Refuses, before anything runs, a results directory that is a file and an `--output`
    /// that names a directory: both are usage errors, not failures found after the run.
    pub fn check(&self) -> Result<()> {
        if let Some(kind) = not_a_dir(&self.results_dir) {
            return Err(Error::Usage(format!(
                "--results-dir {} is {kind}, not a directory",
                self.results_dir.display()
            )));
        }
        if let Some(o) = &self.output {
            if o.is_dir() {
                return Err(Error::Usage(format!("--output {} is a directory: name a file", o.display())));
            }
        }
        Ok(())
    }
}

/// What `dir` (or the first existing ancestor in its way) is when it is not a directory.
fn not_a_dir(dir: &std::path::Path) -> Option<&'static str> {
    for p in dir.ancestors().filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => return None,
            Ok(_) => return Some(if p == dir { "a file" } else { "inside a file" }),
            Err(_) => continue,
        }
    }
    None
}

/// Finds and loads the matrix (`--matrix`, `MUSLCHECK_MATRIX`, a `muslcheck.toml` or
/// `[tool.muslcheck]` here or above, the built-in default), applies --base and --ca-bundle.
pub fn load_matrix(a: &MatrixArgs) -> Result<Matrix> {
    let env = std::env::var_os("MUSLCHECK_MATRIX").map(PathBuf::from);
    let cwd = std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    let mut m = crate::matrix::discover::discover(a.matrix.as_deref(), env.as_deref(), &cwd).map_err(Error::Config)?;
    if !a.bases.is_empty() {
        for name in &a.bases {
            if m.base(name).is_none() {
                return Err(Error::Usage(format!(
                    "unknown base `{name}` in --base (the matrix {} has: {})",
                    m.source_line(),
                    m.bases.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        m.bases.retain(|b| a.bases.contains(&b.name));
    }
    if let Some(url) = &a.index_url {
        crate::matrix::check_index_url(url).map_err(|e| Error::Usage(format!("--index-url {e}")))?;
        m.policy.index_url = Some(url.clone());
    }
    for h in &a.add_hosts {
        crate::matrix::check_extra_host(h).map_err(|e| Error::Usage(format!("--add-host {e}")))?;
        m.policy.extra_hosts.push(h.clone());
    }
    if let Some(i) = a.installer {
        let installer = match i {
            crate::cli::InstallerArg::Pip => crate::matrix::Installer::Pip,
            crate::cli::InstallerArg::Uv => crate::matrix::Installer::Uv,
        };
        m.policy.installer = installer;
        for b in &mut m.bases {
            b.installer = installer;
        }
    }
    if let Some(ca) = &a.ca_bundle {
        if !ca.is_file() {
            return Err(Error::Usage(format!("--ca-bundle: no file at {}", ca.display())));
        }
        m.policy.ca_bundle = Some(ca.clone());
    }
    if let Some(ca) = &m.policy.ca_bundle {
        // A bundle that cannot be read is a configuration error (exit 2), like a missing one.
        let abs = std::fs::canonicalize(ca)
            .map_err(|e| Error::Usage(format!("cannot resolve the CA bundle {}: {e}", ca.display())))?;
        let text = crate::input::read_text(&abs, crate::input::MAX_DATA)
            .map_err(|e| Error::Usage(format!("cannot read the CA bundle {}: {e}", abs.display())))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(Error::Usage(format!("the CA bundle {} holds no PEM certificate", abs.display())));
        }
        m.policy.ca_bundle = Some(abs);
    }
    Ok(m)
}

/// What the comparison flags allow.
pub fn allow(a: &crate::cli::AllowArgs) -> crate::report::diff::Allow {
    crate::report::diff::Allow { unfinished: a.allow_unfinished, other_matrix: a.allow_other_matrix }
}

/// Every job of the matrix (and of the lock alone, when gating against one), by dependency.
fn plan_of(matrix: &Matrix, lock: Option<&crate::lock::LockPlan>) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for j in crate::plan::jobs(matrix).iter().chain(&crate::lock::baseline_jobs(lock, matrix)) {
        out.entry(j.dependency.name.clone()).or_default().push(j.id());
    }
    out
}

/// Refuses, before any container, a selection of bases that could decide nothing: with no
/// required base nothing can block, and one base has nothing to be compared with.
fn check_selection(m: &Matrix, a: &MatrixArgs) -> Result<()> {
    let names = |bases: &mut dyn Iterator<Item = &crate::matrix::Base>| {
        bases.map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
    };
    let selected = names(&mut m.bases.iter());
    let how = if a.bases.is_empty() { format!("the matrix {}", m.path.display()) } else { "--base".to_string() };
    if !m.bases.iter().any(|b| b.required) {
        return Err(Error::Usage(format!(
            "{how} selects no required base ({selected}): a run where nothing can block passes whatever it finds; select a base with `required = true`"
        )));
    }
    if m.bases.len() < 2 {
        return Err(Error::Usage(format!(
            "{how} selects one base ({selected}): a run compares at least two bases of two libc families; select another"
        )));
    }
    Ok(())
}

fn exec(a: &ExecArgs) -> Result<(Option<usize>, bool, bool)> {
    if let Some(n) = a.jobs.filter(|n| *n == 0 || *n > 64) {
        return Err(Error::Usage(format!("--jobs must be between 1 and 64, not {n}")));
    }
    Ok((a.jobs, a.no_cache, a.keep))
}

pub fn run(a: &RunArgs) -> Result<RunSettings> {
    let out = Output::from_args(&a.output);
    out.check()?;
    let mut matrix = load_matrix(&a.matrix)?;
    for name in &a.only {
        if matrix.dependency(name).is_none() {
            return Err(Error::Usage(format!(
                "unknown dependency `{name}` in --only (the matrix {} has: {})",
                matrix.source_line(),
                matrix.dependencies.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    if !a.only.is_empty() {
        matrix.dependencies.retain(|d| a.only.contains(&d.name));
    }
    if matrix.dependencies.is_empty() {
        return Err(Error::Usage(format!(
            "the matrix {} names no dependency: add [[dependency]] tables",
            matrix.source_line()
        )));
    }
    check_selection(&matrix, &a.matrix)?;
    let (jobs, no_cache, keep) = exec(&a.exec)?;
    // The digest is of the whole matrix as asked (after --only): every shard has the same.
    let matrix_digest = matrix.digest();
    let planned = plan_of(&matrix, None);
    let shard = a.shard.as_deref().map(crate::model::Shard::parse).transpose().map_err(Error::Usage)?;
    if let Some(sh) = shard {
        let names: Vec<String> = matrix.dependencies.iter().map(|d| d.name.clone()).collect();
        let assignment = match &a.durations {
            None => crate::shards::by_count(&names, sh.n),
            Some(p) => {
                let r = crate::report::read(p).map_err(|e| Error::Usage(format!("--durations: {e}")))?;
                let durations = crate::shards::durations_of(&r);
                tracing::info!(
                    "shards balanced by the times of run {} ({} of {} dependencies known)",
                    r.run_id,
                    names.iter().filter(|n| durations.contains_key(*n)).count(),
                    names.len()
                );
                crate::shards::by_time(&names, sh.n, &durations, crate::shards::sections_secs(&r))
            }
        };
        matrix.dependencies.retain(|d| assignment.get(&d.name) == Some(&sh.k));
    }
    let baseline = match &a.baseline {
        Some(p) => {
            let report = crate::report::read(p).map_err(|e| Error::Usage(format!("--baseline: {e}")))?;
            let caveats = crate::report::diff::caveats(&report, None, &matrix_digest, allow(&a.allow))
                .map_err(|e| Error::Usage(format!("--baseline {}: {e}", p.display())))?;
            Some(crate::report::diff::Baseline { report, caveats })
        }
        None => None,
    };
    // The per-base profiles are the first shard's.
    let first_shard = shard.map_or(true, |s| s.k == 1);
    Ok(RunSettings {
        command: "run",
        matrix,
        matrix_digest,
        jobs,
        no_cache,
        freshness: crate::install::Freshness::from_flags(a.exec.offline, a.exec.refresh),
        keep,
        sections: crate::sections::ALL
            .iter()
            .copied()
            .filter(|x| first_shard && !(a.no_profile && x.kind == &PROFILE) && !(a.no_resolver && x.kind == &RESOLVER))
            .collect(),
        out,
        pip_cache: crate::cache::pip_cache_volume().map_err(Error::Usage)?,
        observations: crate::cache::dir(),
        shard,
        baseline,
        planned,
        lock: None,
        input_notes: vec![],
    })
}

pub fn gate(a: &GateArgs) -> Result<RunSettings> {
    let out = Output::from_args(&a.output);
    out.check()?;
    // Each requirement on the command line is a dependency of its own.
    let mut reqs: Vec<(Requirement, Option<String>)> = Vec::new();
    for r in &a.requirements {
        reqs.push((
            Requirement::parse(r)
                .map_err(|e| Error::Usage(format!("invalid requirement `{}`: {e}", crate::input::shown(r))))?,
            None,
        ));
    }
    // A requirements file (with its includes), a pyproject.toml or a lock is one set, installed
    // together in one install run per base, as an image build would.
    let mut input_notes = vec![];
    let selecting = !a.extras.is_empty() || !a.groups.is_empty() || a.package.is_some() || a.no_default_groups;
    if selecting && a.requirements_file.is_none() && a.lock.is_none() {
        return Err(Error::Usage(
            "--extra, --group, --package and --no-default-groups go with -r FILE or --lock FILE (a pyproject.toml or a lock)"
                .into(),
        ));
    }
    let set = match &a.requirements_file {
        None => None,
        Some(f) => {
            let (set, notes) = read_input(f, a)?;
            input_notes.extend(notes);
            if set.requirements.is_empty() {
                return Err(Error::Usage(format!("{}: names no requirement", f.display())));
            }
            Some((f.clone(), set))
        }
    };
    if reqs.is_empty() && set.is_none() {
        return Err(Error::Usage("gate needs at least one requirement (arguments or -r FILE)".into()));
    }
    let mut seen = std::collections::HashMap::new();
    let all = reqs
        .iter()
        .map(|(r, o)| (r, o.clone()))
        .chain(set.iter().flat_map(|(_, s)| s.requirements.iter().map(|l| (&l.requirement, Some(l.at.clone())))));
    for (r, origin) in all {
        if let Some(first) = seen.insert(r.name.clone(), origin.clone()) {
            let at = |o: &Option<String>| o.clone().unwrap_or_else(|| "the command line".into());
            return Err(Error::Usage(format!(
                "{}`{}` is named twice (first at {})",
                origin.as_ref().map(|o| format!("{o}: ")).unwrap_or_default(),
                r.name,
                at(&first)
            )));
        }
    }
    let reqs: Vec<Requirement> = reqs.into_iter().map(|(r, _)| r).collect();
    let units = reqs.len() + usize::from(set.is_some());
    let smoke = match &a.smoke {
        None => None,
        // Given on the command line, so it may live anywhere; but it is capped like any input.
        Some(p) if units == 1 => Some((
            p.clone(),
            crate::input::read_text(p, crate::input::MAX_SCRIPT)
                .map_err(|e| Error::Usage(format!("cannot read smoke script {}: {e}", p.display())))
                .and_then(|src| match src.trim().is_empty() {
                    true => Err(Error::Usage(format!(
                        "--smoke {} is empty: a smoke test that runs nothing would pass on every base",
                        p.display()
                    ))),
                    false => Ok(src),
                })?,
        )),
        Some(_) => {
            return Err(Error::Usage("--smoke goes with exactly one requirement or one requirements file".into()))
        }
    };
    let mut matrix = load_matrix(&a.matrix)?;
    check_selection(&matrix, &a.matrix)?;
    // A gated requirement takes the matrix's smoke script and known differences for that name.
    let mut deps: Vec<Dependency> = reqs
        .into_iter()
        .map(|requirement| {
            let known = matrix.dependencies.iter().find(|d| d.requirement.name == requirement.name);
            Dependency {
                name: requirement.name.clone(),
                smoke: smoke.clone().or_else(|| known.and_then(|d| d.smoke.clone())),
                known_difference: known.and_then(|d| d.known_difference.clone()),
                requirement,
                also: vec![],
                constraints: vec![],
            }
        })
        .collect();
    if let Some((file, set)) = set {
        let mut reqs = set.requirements.into_iter().map(|l| l.requirement);
        let first = reqs.next().expect("a set names a requirement");
        // The set is named after its file (`requirements`, `prod`, `pyproject`).
        let stem = file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let name: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' })
            .take(64)
            .collect();
        let name =
            if name.is_empty() || deps.iter().any(|d| d.name == name) { "requirements".to_string() } else { name };
        deps.push(Dependency {
            name,
            requirement: first,
            also: reqs.collect(),
            constraints: set.constraints.into_iter().map(|l| l.requirement).collect(),
            smoke,
            known_difference: None,
        });
    }
    // Against a lock, the new requirements are one set installed with it.
    let lock = match &a.lock {
        None => None,
        Some(file) => {
            let (lock_set, notes) = read_input(file, a)?;
            input_notes.extend(notes);
            let (gated, plan) = crate::lock::plan(file, lock_set, std::mem::take(&mut deps))?;
            deps.push(gated);
            Some(plan)
        }
    };
    matrix.dependencies = deps;
    let (jobs, no_cache, keep) = exec(&a.exec)?;
    let matrix_digest = matrix.digest();
    let planned = plan_of(&matrix, lock.as_ref());
    Ok(RunSettings {
        command: "gate",
        matrix,
        matrix_digest,
        jobs,
        no_cache,
        freshness: crate::install::Freshness::from_flags(a.exec.offline, a.exec.refresh),
        keep,
        sections: vec![],
        out,
        pip_cache: crate::cache::pip_cache_volume().map_err(Error::Usage)?,
        observations: crate::cache::dir(),
        shard: None,
        baseline: None,
        planned,
        lock,
        input_notes,
    })
}

/// Everything `inspect` needs.
#[derive(Debug, Clone)]
pub struct InspectSettings {
    /// The image, then the images it is compared with (`--against`), as the user named them.
    pub images: Vec<String>,
    /// `--python`: the interpreters to probe in every image (empty: found in each).
    pub pythons: Vec<String>,
    /// The smoke script's source.
    pub smoke: Option<String>,
    /// The reproducer's source, its runs per image and the time limit of one run.
    pub repro: Option<(String, u32, std::time::Duration)>,
    pub profile: bool,
    pub resolver: bool,
    /// The matrix whose policy and accepted differences apply (its bases are not used).
    pub matrix: Matrix,
    pub out: Output,
}

/// An image reference as typed: one line of printable characters, not an option.
pub fn check_image(what: &str, r: &str) -> Result<()> {
    if r.is_empty() || r.len() > 512 || r.starts_with('-') || r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::Usage(format!(
            "{what} `{}` is not an image reference (a name[:tag][@digest] or an image id)",
            crate::input::shown(r)
        )));
    }
    Ok(())
}

/// An interpreter path in an image: absolute, one line.
pub fn check_python(p: &str) -> Result<()> {
    if !p.starts_with('/') || p.len() > 1024 || p.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "--python `{}` must be an absolute path in the image",
            crate::input::shown(p)
        )));
    }
    Ok(())
}

/// A script given on the command line (smoke, reproducer): read, capped, not empty.
fn script(what: &str, p: &std::path::Path) -> Result<String> {
    let src = crate::input::read_text(p, crate::input::MAX_SCRIPT)
        .map_err(|e| Error::Usage(format!("cannot read the {what} {}: {e}", p.display())))?;
    if src.trim().is_empty() {
        return Err(Error::Usage(format!(
            "{what} {} is empty: a script that runs nothing passes everywhere",
            p.display()
        )));
    }
    Ok(src)
}

/// Refuses an image named twice: the comparison would be of an image with itself.
pub fn check_images(what: &str, images: &[String]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for i in images {
        check_image(what, i)?;
        if !seen.insert(i) {
            return Err(Error::Usage(format!("{what} `{i}` is named twice")));
        }
    }
    Ok(())
}

pub fn inspect(a: &crate::cli::InspectArgs) -> Result<InspectSettings> {
    let out = Output::from_args(&a.output);
    out.check()?;
    let mut images = vec![a.image.clone()];
    images.extend(a.against.iter().cloned());
    check_images("the image", &images)?;
    for p in &a.python {
        check_python(p)?;
    }
    let smoke = a.smoke.as_deref().map(|p| script("smoke script", p)).transpose()?;
    let repro = match &a.repro {
        None => None,
        Some(p) => {
            if a.runs == 0 || a.runs > 1000 {
                return Err(Error::Usage(format!("--runs must be between 1 and 1000, not {}", a.runs)));
            }
            let timeout =
                crate::matrix::parse_duration(&a.timeout).map_err(|e| Error::Usage(format!("--timeout: {e}")))?;
            Some((script("reproducer", p)?, a.runs, timeout))
        }
    };
    let matrix = load_matrix(&MatrixArgs {
        matrix: a.matrix.clone(),
        bases: vec![],
        ca_bundle: None,
        index_url: None,
        add_hosts: vec![],
        installer: None,
    })?;
    Ok(InspectSettings {
        images,
        pythons: a.python.clone(),
        smoke,
        repro,
        profile: !a.no_profile,
        resolver: a.resolver,
        matrix,
        out,
    })
}

/// Reads `-r FILE` or `--lock FILE`: a lock by its name (uv.lock, poetry.lock, pylock.toml,
/// Pipfile.lock), a pyproject.toml, or a requirements file; with what was left out of it.
fn read_input(f: &std::path::Path, a: &GateArgs) -> Result<(crate::matrix::reqfile::RequirementSet, Vec<String>)> {
    use crate::matrix::reqfile;
    let usage = |errs: Vec<String>| Error::Usage(errs.join("\n"));
    if let Some(format) = crate::lockfile::Format::of(f) {
        let sel = crate::lockfile::Selection {
            extras: a.extras.clone(),
            groups: a.groups.clone(),
            package: a.package.clone(),
            no_default_groups: a.no_default_groups,
        };
        let locked = crate::lockfile::read(f, format, &sel).map_err(usage)?;
        return Ok((locked.set, locked.notes));
    }
    if a.package.is_some() || a.no_default_groups {
        return Err(Error::Usage(format!(
            "--package and --no-default-groups go with a lock (uv.lock, poetry.lock, pylock.toml, Pipfile.lock), not {}",
            f.display()
        )));
    }
    if f.extension().is_some_and(|e| e == "toml") {
        return Ok((reqfile::read_pyproject(f, &a.extras, &a.groups).map_err(usage)?, vec![]));
    }
    if !a.extras.is_empty() || !a.groups.is_empty() {
        return Err(Error::Usage(format!(
            "--extra and --group go with a pyproject.toml or a lock, not the requirements file {}",
            f.display()
        )));
    }
    Ok((reqfile::read(f).map_err(usage)?, vec![]))
}
