//! The facade's side of `select!`, `join!` and `try_join!`: the
//! `macro_rules!` wrappers users call, and the support code their
//! expansions name. Hidden: only the macros are public API.
