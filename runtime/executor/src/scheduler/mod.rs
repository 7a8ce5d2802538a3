//! Schedulers: the loops that run tasks and turn the reactor.
//!
//! `Handle` is an enum over the two flavors, so callers never care which
//! one runs: `current_thread` (one thread runs every task and the reactor)
//! and `multi_thread` (workers with work-stealing queues, sharing one I/O
//! reactor or with one each).

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::AcqRel, Ordering::Release};
use std::sync::Arc;
use std::task::Wake;
use std::thread::Thread;
use std::time::Instant;

use crate::blocking;
use crate::runtime::UnhandledPanic;
use crate::task::JoinHandle;

/// A hook the builder installs (`on_thread_start` and friends).
pub(crate) type Callback = Arc<dyn Fn() + Send + Sync>;

/// What the builder tells a scheduler.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) worker_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<Callback>,
    pub(crate) on_thread_stop: Option<Callback>,
    pub(crate) on_thread_park: Option<Callback>,
    pub(crate) on_thread_unpark: Option<Callback>,
    pub(crate) unhandled_panic: UnhandledPanic,
}

/// A scheduler of any flavor.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn(future, None),
            Handle::MultiThread(shared) => shared.spawn(future),
        }
    }

    #[track_caller]
    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn_local(future),
            Handle::MultiThread(_) => panic!(
                "spawn_local: the multi-thread runtime moves tasks between threads, so it \
                 cannot run a !Send future; use a current-thread runtime \
                 (`Builder::new_current_thread`) for it"
            ),
        }
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::CurrentThread(shared) => shared.block_on(future),
            Handle::MultiThread(shared) => shared.block_on(future),
        }
    }

    pub(crate) fn reactor(&self) -> &corium_reactor::Handle {
        match self {
            Handle::CurrentThread(shared) => &shared.reactor,
            Handle::MultiThread(shared) => &shared.reactor,
        }
    }

    pub(crate) fn blocking(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(shared) => &shared.blocking,
            Handle::MultiThread(shared) => &shared.blocking,
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Handle::CurrentThread(_) => 1,
            Handle::MultiThread(shared) => shared.num_workers(),
        }
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        match self {
            Handle::CurrentThread(shared) => shared.num_alive_tasks(),
            Handle::MultiThread(shared) => shared.num_alive_tasks(),
        }
    }

    /// Stops the scheduler, waiting for its threads up to `deadline`.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        match self {
            Handle::CurrentThread(shared) => shared.shutdown(),
            Handle::MultiThread(shared) => shared.shutdown(deadline),
        }
    }
}

thread_local! {
    /// Set while this thread is inside any runtime's `block_on`.
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as inside `block_on`, refusing a nested one.
pub(crate) struct BlockOnGuard;

impl BlockOnGuard {
    #[track_caller]
    pub(crate) fn enter() -> BlockOnGuard {
        let nested = IN_BLOCK_ON.with(|flag| flag.replace(true));
        if nested {
            panic!(
                "block_on called inside a Corium runtime: it would block the thread that \
                 drives the runtime's tasks. Use `.await` instead, or run the blocking \
                 work with `task::spawn_blocking`"
            );
        }
        BlockOnGuard
    }
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(false));
    }
}

/// Lets this thread call `block_on` again until dropped: a multi-thread
/// worker that handed its queue away in `block_in_place` may block on a
/// future there, as in tokio.
pub(crate) struct AllowBlockOn(bool);

impl AllowBlockOn {
    pub(crate) fn new() -> AllowBlockOn {
        AllowBlockOn(IN_BLOCK_ON.with(|flag| flag.replace(false)))
    }
}

impl Drop for AllowBlockOn {
    fn drop(&mut self) {
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(self.0));
    }
}

/// The waker of a future that a plain thread blocks on (the multi-thread
/// flavor's `block_on`): wakes by unparking that thread.
pub(crate) struct ThreadSignal {
    woken: AtomicBool,
    thread: Thread,
}

impl ThreadSignal {
    /// Starts woken, so the future is polled once before any wait.
    pub(crate) fn new(thread: Thread) -> ThreadSignal {
        ThreadSignal {
            woken: AtomicBool::new(true),
            thread,
        }
    }

    /// Whether the waker fired since the last call.
    pub(crate) fn take(&self) -> bool {
        self.woken.swap(false, AcqRel)
    }

    /// Parks until woken (or spuriously; callers loop).
    pub(crate) fn wait(&self) {
        if !self.woken.load(std::sync::atomic::Ordering::Acquire) {
            std::thread::park();
        }
    }
}

impl Wake for ThreadSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Release);
        self.thread.unpark();
    }
}
