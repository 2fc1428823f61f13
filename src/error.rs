//! The harness's own failures and the exit-code contract.
//!
//! Probe and build outcomes are never errors (see `report::model`); these are what stops the
//! harness: bad input, an engine that is gone, a disk that is full.

use crate::engine::EngineError;
use crate::matrix::Diagnostic;

/// No blocking difference or failure.
pub const EXIT_OK: i32 = 0;
/// Blocking differences or failures were found (or, for `repro`, the bases differ).
pub const EXIT_FINDINGS: i32 = 1;
/// Usage or configuration error: nothing was run, nothing was created.
pub const EXIT_USAGE: i32 = 2;
/// Engine or infrastructure error (engine unreachable or lost, disk full).
pub const EXIT_INFRA: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<Diagnostic>),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// An engine error with what the user can do about it (a base of the built-in default
    /// matrix that cannot be pulled: how to give another matrix).
    #[error("{source}\n{hint}")]
    EngineHint {
        #[source]
        source: EngineError,
        hint: String,
    },
    #[error("{op}: {source}")]
    Io {
        op: String,
        #[source]
        source: std::io::Error,
    },
    /// The run was interrupted (SIGINT/SIGTERM) after cleaning up.
    #[error("interrupted by {0}; removed this run's containers")]
    Interrupted(&'static str),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config(_) => EXIT_USAGE,
            Error::Engine(_) | Error::EngineHint { .. } | Error::Io { .. } => EXIT_INFRA,
            Error::Interrupted(_) => 130,
        }
    }
    pub fn io(op: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { op: op.into(), source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
