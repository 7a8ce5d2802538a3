//! Corium: an async runtime for network services.
//!
//! A reactor in the classic sense whose event handlers are wakers: you
//! write `async fn`s, the reactor turns socket readiness and timer deadlines
//! into wakeups, and the executor polls the woken tasks.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = corium::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let worker = corium::spawn(async {
//!         corium::time::sleep(Duration::from_millis(10)).await;
//!         "done"
//!     });
//!     let answer = corium::time::timeout(Duration::from_secs(1), worker).await;
//!     assert_eq!(answer.unwrap().unwrap(), "done");
//! });
//! ```
//!
//! The API follows tokio's names, so that moving a service over is mostly a
//! matter of renaming the crate: `corium::spawn`, `task::JoinHandle`,
//! `time::{sleep, timeout, interval}`, `runtime::Builder`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]

pub use corium_executor::{block_on, spawn, task_local};
pub use corium_macros::{main, test};

#[doc(hidden)]
pub mod macros;

#[doc(hidden)]
#[path = "entry.rs"]
pub mod __entry;

/// The README's Rust examples, compiled and run as doctests so that its
/// first example stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Tasks: spawning, joining, aborting, yielding, task-locals and the
/// blocking pool.
pub mod task {
    pub use corium_executor::task::*;
}

/// Synchronisation for tasks: channels, `Notify`, `Semaphore`, `Mutex`,
/// `RwLock`, `Barrier`, `OnceCell`, `CancellationToken`.
///
/// Runtime-agnostic, as `tokio::sync` is: see [`corium_sync`].
pub mod sync {
    pub use corium_sync::*;
}

/// Async I/O: the `futures-io` traits the socket types implement, and
/// readiness for any Unix fd, as `tokio::io`.
pub mod io {
    pub use corium_net::{Interest, Ready};
    pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

    /// Unix-specific I/O: [`AsyncFd`](unix::AsyncFd) registers any
    /// non-blocking fd with the reactor, as `tokio::io::unix::AsyncFd`.
    pub mod unix {
        pub use corium_net::async_fd::{
            AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError,
        };
    }
}

/// Async sockets: TCP, UDP and Unix, as `tokio::net`.
pub mod net {
    pub use corium_net::*;
}

/// The runtime, its builder and its handle.
pub mod runtime {
    pub use corium_executor::runtime::*;
    pub use corium_reactor::Backend;
}

/// Signals as async streams, as `tokio::signal`: [`ctrl_c`](signal::ctrl_c)
/// and, for any signal, [`unix::signal`](signal::unix::signal).
///
/// A handler writes to a pipe the reactor watches (the self-pipe trick), so
/// a signal wakes every listener in every runtime of the process and none is
/// lost while a task is busy. Once a signal is listened for, its default
/// action no longer happens: a server that listens for `SIGTERM` decides
/// itself when to exit.
///
/// ```no_run
/// #[corium::main]
/// async fn main() -> std::io::Result<()> {
///     use corium::signal::unix::{signal, SignalKind};
///     let mut terminate = signal(SignalKind::terminate())?;
///     terminate.recv().await;
///     println!("SIGTERM: shutting down");
///     Ok(())
/// }
/// ```
pub mod signal {
    pub use corium_reactor::signal::ctrl_c;

    /// Any Unix signal: [`signal`](unix::signal) returns a [`Signal`](unix::Signal)
    /// whose `recv` completes once per delivery.
    pub mod unix {
        pub use corium_reactor::signal::{signal, Signal, SignalKind};
    }
}

/// Time: `sleep`, `timeout`, `interval`, `Instant` and the test clock.
pub mod time {
    pub use corium_reactor::time::*;
}
