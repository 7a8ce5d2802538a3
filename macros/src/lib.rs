//! Corium's procedural macros.
//!
//! This crate is a skeleton: `#[corium::main]`, `#[corium::test]` and
//! `select!` are built by the macros issue. Nothing here is public API yet.
#![warn(missing_docs, rust_2018_idioms)]
