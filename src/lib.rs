//! Corium.
