//! Explanations of a failure on a base, as facts derived from the evidence: what the native
//! files of the failing distribution need (read from the files by the probe), what the base's
//! libc and loader are (observed), and the rule that links them. Where no rule matches, it says
//! "no explanation found": it never guesses.
//!
//! The rules that depend on a libc version (which version's loader first supports a feature)
//! are data, in [`LOADER_SUPPORT`], each with its source.

use crate::model::{Extension, Libc, WheelProbe};

/// The first version of a libc whose dynamic loader supports a feature of an ELF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    pub feature: &'static str,
    pub libc: &'static str,
    pub since: &'static str,
    pub source: &'static str,
}

/// Loader features by libc version, with where that is stated.
pub const LOADER_SUPPORT: &[Support] = &[
    Support {
        feature: "DT_RELR",
        libc: "musl",
        since: "1.2.4",
        source: "musl 1.2.4 release notes (WHATSNEW, May 2023): the dynamic linker gained support for DT_RELR relative relocations",
    },
    Support {
        feature: "DT_RELR",
        libc: "glibc",
        since: "2.36",
        source: "glibc 2.36 NEWS (August 2022): support for the DT_RELR relative relocation format was added",
    },
];

/// "1.2.3" -> [1, 2, 3]; None for anything else.
fn version(v: &str) -> Option<Vec<u32>> {
    v.split(['.', '_']).map(|p| p.parse().ok()).collect()
}

fn older(observed: &str, than: &str) -> bool {
    matches!((version(observed), version(than)), (Some(a), Some(b)) if a < b)
}

/// The libc a wheel platform tag promises: `musllinux_1_2_x86_64` -> ("musl", "1.2");
/// `manylinux_2_28_x86_64` -> ("glibc", "2.28"); the legacy aliases by PEP 600's table.
pub fn tag_promise(tag: &str) -> Option<(&'static str, String)> {
    let platform = tag.rsplit('-').next().unwrap_or(tag);
    let legacy = [("manylinux1", "2.5"), ("manylinux2010", "2.12"), ("manylinux2014", "2.17")];
    if let Some((_, v)) = legacy.iter().find(|(p, _)| platform.starts_with(&format!("{p}_"))) {
        return Some(("glibc", v.to_string()));
    }
    let (family, rest) = if let Some(r) = platform.strip_prefix("musllinux_") {
        ("musl", r)
    } else if let Some(r) = platform.strip_prefix("manylinux_") {
        ("glibc", r)
    } else {
        return None;
    };
    let mut parts = rest.splitn(3, '_');
    let (major, minor) = (parts.next()?, parts.next()?);
    (major.parse::<u32>().is_ok() && minor.parse::<u32>().is_ok()).then(|| (family, format!("{major}.{minor}")))
}

/// A cause of a failure found in a native file itself (its ELF headers), as opposed to one of
/// the installed tree (a library the loader does not find) or of the wheel's name (its tag):
/// another version's wheel can be read for the same causes before it is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCause {
    /// The file has DT_RELR relocations and this base's loader is older than the rule's version.
    Relr { path: String, family: String, observed: String, rule: Support },
    /// The file needs a `GLIBC_x` symbol version newer than this base's glibc.
    GlibcSymbol { path: String, needed: String, observed: String },
    /// The file was linked against glibc and this base runs musl.
    GlibcLinked { path: String, needs: String, observed: Option<String> },
}

impl FileCause {
    /// The file the cause was found in.
    pub fn path(&self) -> &str {
        match self {
            FileCause::Relr { path, .. }
            | FileCause::GlibcSymbol { path, .. }
            | FileCause::GlibcLinked { path, .. } => path,
        }
    }

    /// What the cause is, without the file: `DT_RELR`, `GLIBC_2.38`, `glibc linkage`. Two files
    /// (or two versions' files) with the same feature share it.
    pub fn feature(&self) -> String {
        match self {
            FileCause::Relr { .. } => "DT_RELR".into(),
            FileCause::GlibcSymbol { needed, .. } => needed.clone(),
            FileCause::GlibcLinked { .. } => "glibc linkage".into(),
        }
    }

    /// The sentence the explanation gives for it.
    pub fn describe(&self) -> String {
        match self {
            FileCause::Relr { path, family, observed, rule } => format!(
                "{path} has DT_RELR relocations; this base's loader is {family} {observed}; {family} loads DT_RELR from {} ({})",
                rule.since, rule.source
            ),
            FileCause::GlibcSymbol { path, needed, observed } => {
                format!("{path} needs {needed}; this base has glibc {observed}, whose symbols go up to its own version")
            }
            FileCause::GlibcLinked { path, needs, observed } => format!(
                "{path} was linked against glibc (it needs {needs}); this base runs musl{}, which does not provide glibc's versioned symbols",
                observed.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
            ),
        }
    }

    /// The libc that would load the file, by the rule that links the cause to a libc version;
    /// `None` where no version of this base's libc would.
    pub fn loaded_by(&self) -> Option<String> {
        match self {
            FileCause::Relr { rule, .. } => {
                Some(format!("{} {} or newer loads DT_RELR ({})", rule.libc, rule.since, rule.source))
            }
            FileCause::GlibcSymbol { needed, .. } => {
                Some(format!("glibc {} or newer provides {needed}", needed.trim_start_matches("GLIBC_")))
            }
            FileCause::GlibcLinked { .. } => None,
        }
    }
}

/// The causes of a failure of `dist` on a base whose libc was observed as `libc` that are in
/// the native files themselves (see [`FileCause`]), in the order of the files.
pub fn file_causes(libc: Option<&Libc>, files: &[Extension], dist: &str) -> Vec<FileCause> {
    let (family, observed) = match libc {
        Some(l) => (l.family.as_str(), l.version.as_deref()),
        None => ("unknown", None),
    };
    let mut out = vec![];
    for f in files.iter().filter(|e| e.distribution == dist) {
        if f.relr {
            for s in LOADER_SUPPORT.iter().filter(|s| s.feature == "DT_RELR" && s.libc == family) {
                if let Some(v) = observed.filter(|v| older(v, s.since)) {
                    out.push(FileCause::Relr {
                        path: f.path.clone(),
                        family: family.to_string(),
                        observed: v.to_string(),
                        rule: *s,
                    });
                }
            }
        }
        if family == "glibc" {
            if let (Some(newest), Some(v)) = (f.glibc_symbol_versions.last(), observed) {
                if older(v, newest.trim_start_matches("GLIBC_")) {
                    out.push(FileCause::GlibcSymbol {
                        path: f.path.clone(),
                        needed: newest.clone(),
                        observed: v.into(),
                    });
                }
            }
        }
        if family == "musl" && !f.glibc_symbol_versions.is_empty() {
            out.push(FileCause::GlibcLinked {
                path: f.path.clone(),
                needs: f.glibc_symbol_versions.last().cloned().unwrap_or_default(),
                observed: observed.map(str::to_string),
            });
        }
    }
    out
}

/// What explains a failure of `dist` on a base whose libc was observed as `libc`, from the
/// probe's facts about its native files and its wheel.
pub fn explain(libc: Option<&Libc>, probe: &WheelProbe, dist: &str) -> Vec<String> {
    let mut out = vec![];
    let files: Vec<&Extension> = probe.extensions.iter().filter(|e| e.distribution == dist).collect();
    let (family, observed) = match libc {
        Some(l) => (l.family.as_str(), l.version.as_deref()),
        None => ("unknown", None),
    };
    for f in &files {
        for m in &f.missing_needed {
            out.push(format!(
                "{} needs {m}, which this base's loader does not find (asked with --list, by its own search path)",
                f.path
            ));
        }
    }
    out.extend(file_causes(libc, &probe.extensions, dist).iter().map(FileCause::describe));
    for tag in probe.wheel_tags.get(dist).into_iter().flatten() {
        if let (Some((promised, needed)), Some(v)) = (tag_promise(tag), observed) {
            if promised == family && older(v, &needed) {
                out.push(format!(
                    "the wheel's tag {tag} promises {family} {needed} or newer; this base has {family} {v}"
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push(format!(
            "no explanation found: the native files of {dist} ({}) show nothing this base's loader is known to lack",
            if files.is_empty() {
                "none recorded".to_string()
            } else {
                files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Extension {
        Extension {
            distribution: "numpy".into(),
            kind: "vendored".into(),
            path: path.into(),
            needed: vec![],
            glibc_linked: false,
            foreign_libc: false,
            relr: false,
            glibc_symbol_versions: vec![],
            missing_needed: vec![],
        }
    }

    fn libc(family: &str, v: &str) -> Libc {
        Libc { family: family.into(), version: Some(v.into()) }
    }

    fn probe(files: Vec<Extension>) -> WheelProbe {
        WheelProbe { extensions: files, ..Default::default() }
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        for s in LOADER_SUPPORT {
            assert!(version(s.since).is_some(), "{s:?}");
            assert!(["musl", "glibc"].contains(&s.libc), "{s:?}");
            assert!(s.source.len() > 20, "every rule names its source: {s:?}");
        }
    }

    #[test]
    fn dt_relr_is_explained_by_the_observed_loader_version() {
        let mut f = file("numpy.libs/libscipy_openblas64_-ff651d7f.so");
        f.relr = true;
        let p = probe(vec![f]);
        let e = explain(Some(&libc("musl", "1.2.3")), &p, "numpy");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("DT_RELR") && e[0].contains("musl 1.2.3") && e[0].contains("from 1.2.4"), "{e:?}");
        // The same file on a loader that supports it explains nothing.
        assert!(explain(Some(&libc("musl", "1.2.5")), &p, "numpy")[0].starts_with("no explanation found"));
        assert!(explain(Some(&libc("glibc", "2.35")), &p, "numpy")[0].contains("from 2.36"));
    }

    #[test]
    fn glibc_symbol_versions_missing_libraries_and_wheel_tags_are_explained() {
        let mut f = file("pkg/_c.so");
        f.glibc_symbol_versions = vec!["GLIBC_2.17".into(), "GLIBC_2.38".into()];
        f.missing_needed = vec!["libgomp.so.1".into()];
        let mut p = probe(vec![f]);
        p.extensions[0].distribution = "pkg".into();
        p.wheel_tags.insert("pkg".into(), vec!["cp313-cp313-manylinux_2_39_x86_64".into()]);
        let e = explain(Some(&libc("glibc", "2.36")), &p, "pkg");
        assert!(e.iter().any(|x| x.contains("needs GLIBC_2.38; this base has glibc 2.36")), "{e:?}");
        assert!(e.iter().any(|x| x.contains("needs libgomp.so.1")), "{e:?}");
        assert!(e.iter().any(|x| x.contains("manylinux_2_39") && x.contains("glibc 2.39 or newer")), "{e:?}");
        let e = explain(Some(&libc("musl", "1.2.5")), &p, "pkg");
        assert!(e.iter().any(|x| x.contains("linked against glibc")), "{e:?}");
    }

    #[test]
    fn tags_promise_what_pep_600_says() {
        assert_eq!(tag_promise("cp313-cp313-musllinux_1_2_x86_64"), Some(("musl", "1.2".into())));
        assert_eq!(tag_promise("cp313-cp313-manylinux_2_28_x86_64"), Some(("glibc", "2.28".into())));
        assert_eq!(tag_promise("cp313-cp313-manylinux2014_x86_64"), Some(("glibc", "2.17".into())));
        assert_eq!(tag_promise("py3-none-any"), None);
        assert!(older("1.2.3", "1.2.4") && !older("1.2.5", "1.2.4") && older("2.36", "2.39"));
    }
}
