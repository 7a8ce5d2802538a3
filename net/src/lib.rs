//! Corium's async sockets: TCP, UDP and Unix sockets on the reactor.
//!
//! Each socket type is a thin layer over `corium_reactor::Registration`:
//! the socket is non-blocking and registered once (edge-triggered where
//! the platform allows); an operation that would block waits for the
//! reactor's readiness event and tries again. The types need the current
//! runtime's reactor when they are created (`bind`, `connect`, `from_std`)
//! and work unchanged on every Corium runtime flavor.
//!
//! [`async_fd::AsyncFd`] gives any other non-blocking fd (a pipe, a tty,
//! an eventfd) the same readiness, as `tokio::io::unix::AsyncFd`.
//!
//! Names and signatures follow `tokio::net`. Reads and writes are inherent
//! `async fn`s, and the stream types implement `futures-io`'s `AsyncRead`
//! and `AsyncWrite`, so `futures-util`'s adapters work on them.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]

mod addr;
pub mod async_fd;
mod datagram_api;
mod socket_io;
mod stream_api;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use corium_reactor::{Interest, Ready};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
