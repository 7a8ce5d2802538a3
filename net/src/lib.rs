//! Corium's async sockets.
//!
//! This crate is a skeleton: `TcpListener`, `TcpStream`, `UdpSocket` and the
//! Unix sockets are built on `corium_reactor::Registration` by the net issue.
//! Nothing here is public API yet.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
