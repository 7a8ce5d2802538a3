//! Corium executor.
