//! Corium's executor: the task cell, the schedulers, the runtime and its
//! builder, and the blocking pool.
//!
//! It turns the reactor of `corium-reactor` and knows nothing about
//! sockets. The task cell (`task/raw.rs`, protocol in `task/mod.rs`) is one
//! allocation per task with a hand-written waker vtable; the current-thread
//! scheduler (`scheduler/current_thread.rs`) runs tasks and turns the
//! reactor on the thread that calls `block_on`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]

mod blocking;
mod loom;
pub mod runtime;
mod scheduler;
pub mod task;

pub use runtime::spawn;

use std::future::Future;

/// Runs `future` to completion on a fresh current-thread runtime, for a
/// quick one-off (a test, a small tool). The runtime is dropped on return.
///
/// ```
/// let n = corium_executor::block_on(async { 2 + 2 });
/// assert_eq!(n, 4);
/// ```
///
/// # Panics
/// Inside a runtime; see [`runtime::Runtime::block_on`].
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = runtime::Runtime::new()
        .unwrap_or_else(|e| panic!("block_on: failed to start a Corium runtime: {e}"));
    runtime.block_on(future)
}
