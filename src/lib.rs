//! muslcheck: what breaks, or behaves differently, when Python dependencies run on a musl base
//! instead of a glibc one. See README.md and docs/ for the user's view, and each module's own
//! documentation for the pieces.

pub(crate) mod cache;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod compare;
pub(crate) mod dist;
pub(crate) mod engine;
pub mod error;
pub(crate) mod hints;
pub(crate) mod identity;
pub(crate) mod index;
pub(crate) mod input;
pub(crate) mod inspect;
pub(crate) mod install;
pub(crate) mod key;
pub mod kinds;
pub(crate) mod lease;
pub(crate) mod lock;
pub(crate) mod lockfile;
pub mod matrix;
pub mod model;
pub(crate) mod plan;
pub(crate) mod probe;
pub(crate) mod progress;
pub mod report;
pub(crate) mod results;
pub(crate) mod scenario;
pub(crate) mod sections;
pub(crate) mod settings;
pub mod shards;
pub(crate) mod signals;
pub(crate) mod srcbuild;
pub(crate) mod text;

pub use commands::execute;
