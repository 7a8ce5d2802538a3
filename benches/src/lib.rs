//! What the benchmark programs of `corium-benches` share: how they answer
//! their command line ([`command_line`]), the machine a run happened on
//! ([`machine`]), how figures are printed ([`figure`]), the
//! machine-readable result rows every part of the suite writes ([`tsv`]),
//! and the suite's report built from them ([`suite`], run by the
//! `suite-report` binary).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

pub mod command_line;
pub mod figure;
pub mod machine;
pub mod suite;
pub mod tsv;
