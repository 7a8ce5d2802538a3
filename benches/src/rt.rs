//! The runtime abstraction every micro benchmark is written against.
//!
//! Each benchmark body is one generic `async fn` over [`Rt`], so every
//! runtime runs exactly the same code and the only thing that differs
//! between columns is the runtime's own spawn, yield, sleep and scheduler.
//! Adding a runtime is one `impl Rt` (in `runtimes/`) plus one line in
//! [`crate::runtimes::all`].

use std::future::Future;
use std::time::{Duration, Instant};

/// Whether a runtime runs tasks on the calling thread or on workers.
///
/// Ratio columns compare a subject (Corium) only with peers of its own
/// flavor: current-thread against current-thread, multi-thread against
/// multi-thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// One thread: the one that calls `block_on`.
    CurrentThread,
    /// A pool of worker threads.
    MultiThread,
}

/// One runtime, seen through the few operations the micro benchmarks use.
///
/// Spawning, yielding and sleeping are associated functions (no `self`)
/// because tasks deep inside a benchmark must reach the runtime that runs
/// them, as `tokio::spawn` does: each implementation finds its runtime from
/// the current thread.
pub trait Rt: Sized + 'static {
    /// Column name in the table, e.g. `tokio-ct`.
    const NAME: &'static str;
    /// Current-thread or multi-thread: picks the peers it is compared with.
    const FLAVOR: Flavor;
    /// Whether this is a Corium runtime, which gets ratio columns against
    /// its peers.
    const SUBJECT: bool;

    /// Builds a fresh runtime (outside any timed region).
    fn build() -> Self;

    /// Runs `fut` to completion on this runtime from the calling thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns `fut` as a task; the returned future resolves to its output
    /// (a task that panicked aborts the benchmark).
    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `fut` as a task nobody joins (it keeps running on its own).
    fn spawn_detached<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send + 'static;

    /// The runtime's own sleep for `duration`; the timer's deadline is set
    /// when this is called, not when the future is first polled.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static;

    /// The runtime's own sleep until `deadline` (a std instant, converted
    /// to the runtime's clock type).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static;
}
