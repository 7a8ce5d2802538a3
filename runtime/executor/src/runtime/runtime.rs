//! `Runtime`: owns a scheduler, its reactor and its blocking pool.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{Builder, EnterGuard, Handle};
use crate::task::JoinHandle;

/// A Corium runtime. Dropping it shuts it down: every task's future is
/// dropped (including tasks waiting on sockets and timers), queued blocking
/// jobs are cancelled, and blocking closures already running are detached
/// (a closure cannot be cancelled; [`shutdown_timeout`](Self::shutdown_timeout)
/// waits for them a bounded time).
pub struct Runtime {
    handle: Handle,
    /// Set once shut down, so that drop after `shutdown_timeout` does not
    /// wait again for what that call detached.
    shut_down: bool,
}

impl Runtime {
    /// A runtime of the flavor the environment asks for
    /// ([`Builder::from_env`]): multi-thread with one worker per core
    /// unless `CORIUM_FLAVOR` / `CORIUM_WORKER_THREADS` say otherwise.
    ///
    /// # Errors
    /// When the OS refuses a poller or a thread.
    ///
    /// # Panics
    /// When `CORIUM_FLAVOR` or `CORIUM_WORKER_THREADS` holds an invalid
    /// value, with a message naming the variable and the values allowed.
    #[track_caller]
    pub fn new() -> io::Result<Runtime> {
        match Builder::from_env() {
            Ok(mut builder) => builder.build(),
            Err(e) => panic!("Runtime::new: {e}"),
        }
    }

    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime {
            handle,
            shut_down: false,
        }
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

    /// Shuts down, waiting up to `timeout` in all for the workers to
    /// finish the poll they are in and for blocking closures still
    /// running; what still runs then is detached (a closure cannot be
    /// cancelled), never waited for.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Instant::now().checked_add(timeout));
    }

    /// Shuts down without waiting: tasks are cancelled as their workers
    /// stop, and blocking closures are detached. Returns at once.
    pub fn shutdown_background(mut self) {
        self.shutdown(Some(Instant::now()));
    }

    fn shutdown(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        self.handle.inner.shutdown(deadline);
        let blocking_timeout = deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        });
        self.handle.inner.blocking().shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    /// Shuts down: the workers finish the poll they are in (a task that
    /// never returns from `poll` would hold this up, as in tokio), every
    /// task's future is dropped, and blocking closures are detached.
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.runtime_flavor())
            .finish_non_exhaustive()
    }
}
