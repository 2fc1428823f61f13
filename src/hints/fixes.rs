//! What the "what would load" suggestions are made from, gathered after the jobs ran and only
//! where a distribution fails on a base by a cause in its native files: for older versions of
//! it, newest first, the wheel pip would install on that base (by the base's own compatible
//! tags, observed with `pip debug`) is downloaded from the index on the host (the builds' index,
//! CA bundle and extra hosts, checked against the index's sha256), and its native files are read
//! by the probe's own ELF reader in a container of the base (probes/wheel_elf.py). The facts
//! read are kept in the observation cache by the wheel's sha256 and the reader's program, so a
//! wheel is read once. Which versions to read and what their facts mean is decided in
//! `compare::fixes`.

use std::sync::Arc;
use std::time::Duration;

use crate::compare::{Checked, FixSearch, FixWanted, Fixes};
use crate::engine::{Engine, Sandbox};
use crate::index::{IndexClient, IndexFile};
use crate::model::{Extension, RunReport};
use crate::probe::records::Status;
use crate::probe::{programs, ProbeSpec};
use crate::settings::RunSettings;

/// Where the wheel is put in the reading container (a path of the image's own root: a tmpfs
/// mounted at start would hide what was copied in before).
const WHEEL_DIR: &str = "/run/muslcheck/wheel";

/// One native file of a wheel as the wheel-ELF probe reports it: facts of the file alone, the
/// same for every base.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
struct WheelFile {
    path: String,
    kind: String,
    #[serde(default)]
    needed: Vec<Option<String>>,
    #[serde(default)]
    relr: bool,
    #[serde(default)]
    glibc_symbol_versions: Vec<String>,
    #[serde(default)]
    glibc_linked: bool,
    #[serde(default)]
    musl_linked: bool,
}

impl WheelFile {
    /// As the rule reads an installed file on a base of `family` (nothing of the tree is
    /// observed: no library is missing).
    fn extension(&self, dist: &str, family: &str) -> Extension {
        Extension {
            distribution: dist.to_string(),
            kind: self.kind.clone(),
            path: self.path.clone(),
            needed: self.needed.iter().flatten().cloned().collect(),
            glibc_linked: self.glibc_linked,
            foreign_libc: match family {
                "musl" => self.glibc_linked,
                "glibc" => self.musl_linked,
                _ => false,
            },
            relr: self.relr,
            glibc_symbol_versions: self.glibc_symbol_versions.clone(),
            missing_needed: vec![],
        }
    }
}

/// The searches for every distribution that fails on a base by a cause in its native files.
pub async fn gather(engine: &Engine, s: &RunSettings, report: &RunReport) -> Fixes {
    let mut wanted: Vec<FixWanted> = vec![];
    for dep in &s.matrix.dependencies {
        let results = crate::compare::base_results(&report.jobs, &report.bases, &s.matrix.bases, &dep.name);
        for w in crate::compare::fixes_wanted(&results) {
            if !wanted.iter().any(|x| (&x.base, &x.dist, &x.version) == (&w.base, &w.dist, &w.version)) {
                wanted.push(w);
            }
        }
    }
    let mut out = Fixes::new();
    if wanted.is_empty() {
        return out;
    }
    let policy = &s.matrix.policy;
    let index = if s.freshness == crate::install::Freshness::Offline {
        // --offline promises not to ask the index; the suggestion then says it was not asked.
        Err("--offline: the index was not asked".to_string())
    } else {
        IndexClient::new(policy.index_url.as_deref(), policy.ca_bundle.as_deref(), &policy.extra_hosts).map(Arc::new)
    };
    for w in wanted {
        let key = (w.base.clone(), w.dist.clone(), w.version.clone());
        let r = match &index {
            Err(e) => Err(e.clone()),
            Ok(index) => search(engine, s, report, index, &w).await,
        };
        if let Err(e) = &r {
            tracing::warn!("no older version of {} read for {}: {e}", w.dist, w.base);
        }
        out.insert(key, r);
    }
    out
}

/// Reads older versions of one distribution for its causes on one base, newest first, until one
/// is free of them or the bound is reached.
async fn search(
    engine: &Engine,
    s: &RunSettings,
    report: &RunReport,
    index: &Arc<IndexClient>,
    w: &FixWanted,
) -> Result<FixSearch, String> {
    let (Some(b), Some(rec)) = (s.matrix.base(&w.base), report.bases.iter().find(|r| r.name == w.base)) else {
        return Err(format!("base {} is not in the report", w.base));
    };
    let prep = crate::install::prep_tag(b, &rec.image_id);
    let tags = super::tags::tags_of(engine, s, b, &prep).await?;
    let files = {
        let (index, dist) = (index.clone(), w.dist.clone());
        tokio::task::spawn_blocking(move || index.downloadable(&dist))
            .await
            .map_err(|e| format!("asking the index for the files of {}: {e}", w.dist))??
    };
    let names: Vec<String> = files.iter().map(|f| f.filename.clone()).collect();
    let (older, candidates) =
        crate::compare::candidates(&w.dist, &w.version, &names, &tags, crate::compare::MAX_CHECKED);
    let mut checked: Vec<Checked> = vec![];
    for c in candidates {
        if !crate::compare::keep_looking(&checked) {
            break;
        }
        let file = files.iter().find(|f| f.filename == c.file).expect("a candidate is a file of the index").clone();
        let family = w.libc.as_ref().map(|l| l.family.as_str()).unwrap_or("unknown");
        let (sha256, native_files, causes) = match read_wheel(engine, s, &prep, index, &file).await {
            Ok((sha, read)) => {
                let read: Result<Vec<Extension>, String> =
                    read.into_iter().map(|f| f.map(|f| f.extension(&w.dist, family))).collect();
                let n = read.as_ref().map(Vec::len).unwrap_or(0);
                (sha, n, read.map(|files| crate::compare::causes_in(w, &files)))
            }
            Err(e) => (file.sha256.clone().unwrap_or_default(), 0, Err(e)),
        };
        tracing::debug!("{} {} on {}: causes {:?}", w.dist, c.version, w.base, causes.as_ref().map(Vec::len));
        checked.push(Checked { version: c.version, file: c.file, sha256, native_files, causes });
    }
    Ok(FixSearch { older, checked })
}

/// What the wheel-ELF probe read per native file, in one record each (an unreadable file is the
/// reason it could not be read), from the cache or from a download read in a container.
type Read = Vec<Result<WheelFile, String>>;

/// The wheel's sha256 and its native files' facts.
async fn read_wheel(
    engine: &Engine,
    s: &RunSettings,
    prep: &str,
    index: &Arc<IndexClient>,
    file: &IndexFile,
) -> Result<(String, Read), String> {
    let program = crate::cache::digest(&programs::program(programs::WHEEL_ELF));
    let cache = s.observations.as_deref();
    let cached = |sha: &str| -> Option<Vec<WheelFile>> {
        (!s.no_cache).then(|| crate::cache::get(cache, "wheel-elf", &crate::cache::key(&[sha, &program]))).flatten()
    };
    if let Some(hit) = file.sha256.as_deref().and_then(|sha| cached(sha).map(|v| (sha.to_string(), v))) {
        return Ok((hit.0, hit.1.into_iter().map(Ok).collect()));
    }
    let (bytes, sha) = {
        let (index, owned) = (index.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            let (tmp, sha) = index.download(&owned)?;
            // Verified and within the cap: now the bytes that go into the container.
            let bytes =
                std::fs::read(tmp.path()).map_err(|e| format!("reading the downloaded {}: {e}", owned.filename))?;
            Ok::<_, String>((bytes, sha))
        })
        .await
        .map_err(|e| format!("downloading {}: {e}", file.filename))??
    };
    if let Some(hit) = cached(&sha) {
        return Ok((sha, hit.into_iter().map(Ok).collect()));
    }
    let read = read_in_container(engine, prep, &file.filename, bytes).await?;
    if let Ok(all) = read.iter().cloned().collect::<Result<Vec<WheelFile>, String>>() {
        // Only a complete reading is a fact of the wheel: one with an unreadable file is read again.
        crate::cache::put(cache, "wheel-elf", &crate::cache::key(&[&sha, &program]), &all);
    }
    Ok((sha, read))
}

/// Runs the wheel-ELF probe on the wheel's bytes in a container of the base's prep image.
async fn read_in_container(engine: &Engine, prep: &str, filename: &str, bytes: Vec<u8>) -> Result<Read, String> {
    if filename.contains('/') || filename.starts_with('.') {
        return Err(format!("the index named a wheel {filename:?}, which is not a file name"));
    }
    let inside = format!("{WHEEL_DIR}/{filename}");
    let tar = crate::engine::tar_of(&[(inside.trim_start_matches('/'), bytes.as_slice())]);
    let spec = ProbeSpec {
        image: prep,
        python: crate::install::VENV_PYTHON,
        probe: programs::WHEEL_ELF,
        config: serde_json::json!({ "wheel": inside }),
        // The strict sandbox with a writable root, which the copy into the container needs.
        sandbox: Sandbox::strict_writable(),
        user: Some("1000:1000"),
        timeout: Duration::from_secs(300),
        kind: "probe-wheel-elf",
        keep: false,
    };
    let run = crate::probe::runner::run_with_files(engine, &spec, vec![("/".to_string(), tar)])
        .await
        .map_err(|e| format!("reading {filename} in a container: {e}"))?;
    if let Some(why) = run.unfinished() {
        return Err(format!("reading {filename} did not finish: {why}"));
    }
    let mut out = vec![];
    for r in &run.records {
        if r.check == "wheel" && r.status != Status::Ok {
            return Err(format!("reading {filename}: {}", r.message.as_deref().unwrap_or("failed")));
        }
        let Some(path) = r.check.strip_prefix("elf:") else { continue };
        out.push(match r.status {
            Status::Ok => serde_json::from_value::<WheelFile>(r.value.clone())
                .map_err(|e| format!("reading {path} in {filename}: unexpected probe record: {e}")),
            _ => Err(format!(
                "{path} in {filename} could not be read: {}",
                r.message.as_deref().unwrap_or(r.status.as_str())
            )),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wheel_file_reads_as_an_installed_file_would_on_each_family() {
        let f: WheelFile = serde_json::from_value(serde_json::json!({
            "path": "pkg.libs/libx.so", "kind": "vendored", "needed": ["libc.so.6", null], "relr": true,
            "glibc_symbol_versions": ["GLIBC_2.17"], "glibc_linked": true, "musl_linked": false, "tls": true
        }))
        .unwrap();
        let e = f.extension("pkg", "musl");
        assert_eq!((e.distribution.as_str(), e.relr, e.foreign_libc), ("pkg", true, true));
        assert_eq!(e.needed, ["libc.so.6"]);
        assert!(!f.extension("pkg", "glibc").foreign_libc);
    }
}
