//! The probe layer, in one place: the programs that run inside containers (`programs`), running
//! them in a sandbox (`runner`), their JSON Lines records parsed once into typed values
//! (`records`, `wheels`), the check ids they use (`checks`), and the per-base sections: the libc
//! observed, the libc behaviour profile and the resolver profile (`sections`).
//!
//! A probe that crashes, hangs, runs out of memory, prints garbage or stops before its closing
//! record is an outcome recorded here (a [`Completion`](crate::model::Completion) other
//! than complete), never a harness error and never a silent pass.

pub(crate) mod checks;
pub(crate) mod programs;
pub(crate) mod records;
pub(crate) mod runner;
pub(crate) mod sections;
pub(crate) mod wheels;

pub(crate) use runner::{run, ProbeRun, ProbeSpec};
