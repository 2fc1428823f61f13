//! The libc behaviour profile of a base: thread stacks, crash depth, loader, locale, maths,
//! allocation (probes/libc_profile/), in the strict sandbox pinned to one CPU.

use super::{strip_keys, Section};
use crate::kinds::PROFILE;
use crate::probe::{programs, sections};

pub const SECTION: Section = Section {
    kind: &PROFILE,
    program: programs::PROFILE,
    takes_slot: true,
    observe: |engine, base, image, python| {
        Box::pin(sections::libc_profile(engine, base, image, python, serde_json::json!({}), true))
    },
    normalise,
};

/// Profile values that vary from run to run on one base (timings, throughput) are not
/// differences between bases.
fn normalise(check: &str, v: &serde_json::Value) -> serde_json::Value {
    if check.starts_with("malloc") {
        return serde_json::Value::Null;
    }
    strip_keys(v, &["duration_ms", "attempts", "ops_per_sec", "seconds", "elapsed_ms"])
}
