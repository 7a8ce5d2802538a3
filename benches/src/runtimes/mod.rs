//! The runtimes the suite measures, one file per runtime, and the list of
//! columns in the order they run within each round.

pub mod corium;
mod smol;
pub mod tokio;

use crate::harness::{column, Runtime};

/// Every runtime the suite measures, in table and interleaving order: the
/// current-thread flavor (Corium, then its peers), then the multi-thread
/// one (2 workers each). Adding a runtime is one `impl Rt` and one line
/// here.
pub fn all() -> Vec<Box<dyn Runtime>> {
    vec![
        column::<corium::CoriumCt>(),
        column::<tokio::TokioCt>(),
        column::<smol::Smol>(),
        column::<corium::CoriumMt>(),
        column::<tokio::TokioMt>(),
        column::<smol::SmolMt>(),
    ]
}
