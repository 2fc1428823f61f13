//! The vocabulary of differences between bases. Policies name these kinds; the comparison
//! emits them; reports show them.

use std::fmt;
use std::str::FromStr;

/// A kind of difference (or failure) the comparison can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Installs on some bases and not on others.
    InstallDiffers,
    /// Fails to install, import or pass its smoke test on a required base (even if it fails
    /// everywhere: then it is a failure, not a difference).
    Fails,
    /// Built from an sdist on one base, installed from a wheel on another.
    SourceBuild,
    /// A distribution of the installed tree resolved to different versions.
    VersionDiffers,
    /// A module imports on one base and not on another.
    ImportDiffers,
    /// The smoke script's outcome differs.
    SmokeDiffers,
    /// Something crashed (signal) on one base and not on another.
    Crash,
    /// An extension module is linked against a libc other than the base's.
    ForeignLibc,
    /// A build or probe timed out on one base only.
    Timeout,
    /// Build time differs by a large ratio.
    BuildTime,
    /// Installed size differs by a large ratio.
    Size,
    /// A libc behaviour (profile check) differs between bases.
    Behaviour,
    /// A resolver scenario gave different results.
    Resolver,
    /// The smoke script passes in the main thread but crashes or fails in a worker thread.
    ThreadCrash,
    /// A probe did not finish (died, was stopped, broke its protocol): observations are missing.
    Incomplete,
    /// A base could not be prepared (its package step failed): none of its jobs ran.
    PrepFailed,
    /// An import fails only because a module outside the installed tree is missing.
    OptionalDependency,
    /// A compiled module works on one base and is absent or fails on another while the package
    /// still imports there: it silently runs its pure-Python path.
    PurePythonFallback,
    /// The requirements do not resolve together on a base (pip's ResolutionImpossible).
    Conflict,
    /// Gating against a lock: what the new requirements change in the lock's resolution.
    LockChange,
    /// The smoke script (main thread) is markedly slower on one base than on another, beyond
    /// the spread of its repeated runs.
    RuntimeDiffers,
    /// A module of another distribution of the installed tree (not the requirement's own)
    /// fails to import the same way on every base: not a difference between the bases, and not
    /// the requirement's failure.
    TransitiveFails,
    /// The same base image with two installers (pip and uv): the dependency resolves or
    /// installs differently under them.
    InstallerDiffers,
}

pub const ALL_KINDS: [FindingKind; 23] = [
    FindingKind::InstallDiffers,
    FindingKind::Fails,
    FindingKind::SourceBuild,
    FindingKind::VersionDiffers,
    FindingKind::ImportDiffers,
    FindingKind::SmokeDiffers,
    FindingKind::Crash,
    FindingKind::ForeignLibc,
    FindingKind::Timeout,
    FindingKind::BuildTime,
    FindingKind::Size,
    FindingKind::Behaviour,
    FindingKind::Resolver,
    FindingKind::ThreadCrash,
    FindingKind::Incomplete,
    FindingKind::PrepFailed,
    FindingKind::OptionalDependency,
    FindingKind::PurePythonFallback,
    FindingKind::Conflict,
    FindingKind::LockChange,
    FindingKind::RuntimeDiffers,
    FindingKind::TransitiveFails,
    FindingKind::InstallerDiffers,
];

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::InstallDiffers => "install-differs",
            FindingKind::Fails => "fails",
            FindingKind::SourceBuild => "source-build",
            FindingKind::VersionDiffers => "version-differs",
            FindingKind::ImportDiffers => "import-differs",
            FindingKind::SmokeDiffers => "smoke-differs",
            FindingKind::Crash => "crash",
            FindingKind::ForeignLibc => "foreign-libc",
            FindingKind::Timeout => "timeout",
            FindingKind::BuildTime => "build-time",
            FindingKind::Size => "size",
            FindingKind::Behaviour => "behaviour",
            FindingKind::Resolver => "resolver",
            FindingKind::ThreadCrash => "thread-crash",
            FindingKind::Incomplete => "incomplete",
            FindingKind::PrepFailed => "prep-failed",
            FindingKind::OptionalDependency => "optional-dependency",
            FindingKind::PurePythonFallback => "pure-python-fallback",
            FindingKind::Conflict => "conflict",
            FindingKind::LockChange => "lock-change",
            FindingKind::RuntimeDiffers => "runtime-differs",
            FindingKind::TransitiveFails => "transitive-fails",
            FindingKind::InstallerDiffers => "installer-differs",
        }
    }

    /// The kinds that block by default: a dependency that does not work the same way.
    pub fn default_blocking() -> Vec<FindingKind> {
        vec![
            FindingKind::InstallDiffers,
            FindingKind::Fails,
            FindingKind::ImportDiffers,
            FindingKind::SmokeDiffers,
            FindingKind::Crash,
            FindingKind::ForeignLibc,
            FindingKind::ThreadCrash,
            FindingKind::Conflict,
        ]
    }

    /// Whether this kind says evidence is missing (a probe that did not finish, a base that
    /// could not be prepared, a build or probe stopped at its limit): such a finding always
    /// fails its base, whatever the policy lists, since nothing was observed to pass.
    pub fn is_missing_evidence(self) -> bool {
        MISSING_EVIDENCE.contains(&self)
    }
}

/// The kinds that say evidence is missing: never a policy choice (see
/// [`FindingKind::is_missing_evidence`]).
pub const MISSING_EVIDENCE: [FindingKind; 3] = [FindingKind::Incomplete, FindingKind::PrepFailed, FindingKind::Timeout];

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| {
            format!(
                "unknown finding kind `{s}` (expected one of: {})",
                ALL_KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}
/// A per-base section of the report: a probe run once in each base, its observations kept by
/// base, compared check by check. What renderers and the comparison need to know of it; how it
/// is observed is in `sections`.
#[derive(Debug, PartialEq, Eq)]
pub struct SectionKind {
    /// The report's key for the section, its cache kind and its progress label.
    pub id: &'static str,
    /// The subject of its findings.
    pub subject: &'static str,
    /// The kind of its "differs" findings.
    pub finding: FindingKind,
    /// How reports title it, and what it observes, in a few words.
    pub title: &'static str,
    pub about: &'static str,
}

pub const PROFILE: SectionKind = SectionKind {
    id: "profile",
    subject: "<profile>",
    finding: FindingKind::Behaviour,
    title: "Base profile",
    about: "observed in each base",
};

pub const RESOLVER: SectionKind = SectionKind {
    id: "resolver",
    subject: "<resolver>",
    finding: FindingKind::Resolver,
    title: "Resolver profile",
    about: "getaddrinfo against a scripted DNS server",
};

/// Every section, in the order reports show them.
pub const SECTIONS: &[&SectionKind] = &[&PROFILE, &RESOLVER];
