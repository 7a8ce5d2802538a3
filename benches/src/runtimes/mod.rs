//! The runtimes the suite measures, one file per runtime, and the list of
//! columns in the order they run within each round.

pub mod corium;
mod smol;
pub mod tokio;

use crate::harness::{column, Runtime};

/// Every runtime the suite measures, in table and interleaving order:
/// Corium first, then the current-thread peers, then the multi-thread ones.
/// Adding a runtime (e.g. Corium's multi-thread flavor) is one `impl Rt`
/// and one line here.
pub fn all() -> Vec<Box<dyn Runtime>> {
    vec![
        column::<corium::CoriumCt>(),
        column::<tokio::TokioCt>(),
        column::<smol::Smol>(),
        column::<tokio::TokioMt>(),
    ]
}
