//! `Handle`: a clonable reference to a runtime, usable from any thread.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::context;
use crate::scheduler;
use crate::task::JoinHandle;

/// A reference to a runtime: spawn onto it, block on it or enter it from any
/// thread. It is `Clone + Send + Sync`; it does not keep the runtime running
/// (dropping the `Runtime` shuts it down).
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

/// The error of [`Handle::try_current`] outside a runtime.
pub use corium_reactor::TryCurrentError;

/// The flavor of a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// One thread runs every task and the reactor.
    CurrentThread,
    /// Worker threads with work stealing (see `Builder::reactor_topology`
    /// for how they wait for I/O).
    MultiThread,
}

impl std::fmt::Display for RuntimeFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuntimeFlavor::CurrentThread => "current_thread",
            RuntimeFlavor::MultiThread => "multi_thread",
        })
    }
}

/// A few figures about a running runtime (see [`Handle::metrics`]).
#[derive(Clone)]
pub struct RuntimeMetrics {
    inner: scheduler::Handle,
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .finish()
    }
}

impl RuntimeMetrics {
    /// Threads that run tasks: 1 on the current-thread flavor.
    pub fn num_workers(&self) -> usize {
        self.inner.num_workers()
    }

    /// Tasks spawned and not yet complete (blocking-pool jobs aside).
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }
}

impl Handle {
    /// The runtime entered on this thread.
    ///
    /// # Panics
    /// Outside a runtime, with a message saying how to enter one.
    #[track_caller]
    pub fn current() -> Handle {
        match context::current() {
            Some(inner) => Handle { inner },
            None => panic!("{}", no_runtime("Handle::current")),
        }
    }

    /// The runtime entered on this thread, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current()
            .map(|inner| Handle { inner })
            .ok_or_else(TryCurrentError::outside_runtime)
    }

    /// Enters the runtime on this thread until the guard drops, so that
    /// `spawn`, `sleep` and socket constructors work from plain code.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _inner: self.enter_owned(),
            _handle: PhantomData,
        }
    }

    pub(crate) fn enter_owned(&self) -> OwnedEnterGuard {
        let reactor = self.inner.reactor().enter();
        let previous = context::replace(Some(self.inner.clone()));
        OwnedEnterGuard {
            previous,
            _reactor: reactor,
        }
    }

    /// Spawns a task on this runtime, from any thread.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking().spawn(f)
    }

    /// Runs `future` to completion on the calling thread, inside this
    /// runtime. On the current-thread flavor the calling thread also runs
    /// the runtime's tasks and reactor while no other thread does.
    ///
    /// # Panics
    /// Inside a runtime (it would block the thread that runs its tasks), and
    /// if the runtime is shut down while the future waits on it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter_owned();
        self.inner.block_on(future)
    }

    /// The flavor of this runtime.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.inner {
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }

    /// How this runtime's workers wait for I/O; `None` on the
    /// current-thread flavor, whose one thread turns its one reactor.
    pub fn reactor_topology(&self) -> Option<super::ReactorTopology> {
        match &self.inner {
            scheduler::Handle::CurrentThread(_) => None,
            scheduler::Handle::MultiThread(shared) => Some(shared.reactor_topology()),
        }
    }

    /// Figures about this runtime.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            inner: self.inner.clone(),
        }
    }

    /// The reactor behind this runtime (for the net crate and tests).
    pub fn reactor(&self) -> &corium_reactor::Handle {
        self.inner.reactor()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.runtime_flavor())
            .finish_non_exhaustive()
    }
}

/// Keeps a runtime entered on this thread; see [`Handle::enter`].
#[must_use = "the runtime is entered only while the guard lives"]
pub struct EnterGuard<'a> {
    _inner: OwnedEnterGuard,
    _handle: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

pub(crate) struct OwnedEnterGuard {
    previous: Option<scheduler::Handle>,
    _reactor: corium_reactor::EnterGuard,
}

impl Drop for OwnedEnterGuard {
    fn drop(&mut self) {
        context::try_replace(self.previous.take());
    }
}

pub(crate) fn no_runtime(what: &str) -> String {
    format!(
        "{what}: there is no Corium runtime on this thread: call it inside `Runtime::block_on`, \
         a task spawned on a runtime, or `#[corium::main]`; from a plain thread, use \
         `Handle::spawn` or enter a runtime first with `Handle::enter`"
    )
}
