//! The result model, in three parts that change for different reasons: what was observed
//! (`observations`), what was decided from it (`decision`), and the report that holds both
//! (`report`, versioned JSON). Imported by every layer above the engine; imports only leaves.

mod decision;
mod observations;
mod report;

pub use decision::*;
pub use observations::*;
pub use report::*;
