//! `Runtime`: owns a scheduler, its reactor and its blocking pool.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use super::{Builder, EnterGuard, Handle};
use crate::task::JoinHandle;

/// A Corium runtime. Dropping it shuts it down: every task's future is
/// dropped (including tasks waiting on sockets and timers), queued blocking
/// jobs are cancelled, and blocking closures already running are detached
/// (a closure cannot be cancelled; [`shutdown_timeout`](Self::shutdown_timeout)
/// waits for them a bounded time).
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    /// A runtime with default settings (current-thread for now).
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
    }

    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime { handle }
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks and reactor meanwhile.
    ///
    /// ```
    /// let rt = corium_executor::runtime::Runtime::new().unwrap();
    /// let answer = rt.block_on(async {
    ///     let task = corium_executor::spawn(async { 41 });
    ///     task.await.unwrap() + 1
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    ///
    /// # Panics
    /// When called inside a runtime: use `.await` there, or
    /// `task::spawn_blocking` for blocking work.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Enters the runtime on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts down, waiting up to `timeout` for blocking closures that are
    /// still running; those still running then are detached.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(timeout);
    }

    /// Shuts down without waiting for blocking closures.
    pub fn shutdown_background(mut self) {
        self.shutdown(Duration::ZERO);
    }

    fn shutdown(&mut self, blocking_timeout: Duration) {
        self.handle.inner.shutdown();
        self.handle.inner.blocking().shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(Duration::ZERO);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.runtime_flavor())
            .finish_non_exhaustive()
    }
}
