//! The runtime: a scheduler, its reactor and its blocking pool, and the
//! functions that reach the current one (`spawn`, `spawn_local`).

mod builder;
mod context;
mod handle;
#[allow(clippy::module_inception)]
mod runtime;

pub use builder::{
    Builder, ReactorTopology, UnhandledPanic, FLAVOR_ENV, TOPOLOGY_ENV, WORKER_THREADS_ENV,
};
pub use handle::{EnterGuard, Handle, RuntimeFlavor, RuntimeMetrics, TryCurrentError};
pub use runtime::Runtime;

pub(crate) use handle::no_runtime;

use std::future::Future;

use crate::task::JoinHandle;

/// Spawns a task on the current runtime. It starts running in the
/// background at once; the returned handle awaits its output.
///
/// ```
/// # let rt = corium_executor::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let handle = corium_executor::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
///
/// # Panics
/// Outside a runtime, with a message saying how to enter one.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut future = Some(future);
    match context::with_current(|handle| handle.spawn(future.take().expect("spawned once"))) {
        Some(join) => join,
        None => panic!("{}", no_runtime("spawn")),
    }
}

/// Spawns a `!Send` future on the current-thread runtime driven by this
/// thread; it only ever runs (and is dropped) on this thread.
///
/// # Panics
/// Outside the `block_on` of a current-thread runtime on this thread.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut future = Some(future);
    match context::with_current(|handle| handle.spawn_local(future.take().expect("spawned once"))) {
        Some(join) => join,
        None => panic!("{}", no_runtime("spawn_local")),
    }
}
