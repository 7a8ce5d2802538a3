//! The blocking pool: threads for work that would block a runtime thread.
//!
//! A job beyond the idle threads starts a new thread, up to
//! `max_blocking_threads`; beyond that, jobs queue. An idle thread exits
//! after `thread_keep_alive`. A job is a task (`BlockingTask`) so that it
//! gets a `JoinHandle`, panic capture and the shared task protocol; the pool
//! polls it exactly once.
//!
//! At shutdown, queued jobs are cancelled (their handles report
//! `is_cancelled`), idle threads exit, and threads still inside a closure are
//! waited for up to the given timeout and then detached: a closure cannot be
//! cancelled, and one stuck closure must not hang the program's exit.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corium_reactor::coop;
use parking_lot::{Condvar, Mutex};

use crate::runtime::Handle;
use crate::task::raw::{Header, RawTask};
use crate::task::{Id, JoinHandle, Notified, Schedule};

/// Runs `f` on the current runtime's blocking pool and returns a handle to
/// its result. A panic in `f` is reported as `JoinError::is_panic`.
///
/// # Panics
/// Outside a runtime, with a message saying how to enter one.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking(f)
}

/// The pool's shared half, held by runtime handles.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    /// Signalled when a thread exits.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    stack_size: Option<usize>,
    /// Jobs queued or running (the paused clock does not auto-advance while
    /// one is in flight: its result may be what the runtime waits for).
    in_flight: AtomicUsize,
    /// The runtime handle threads enter, set once the runtime exists.
    handle: Mutex<Option<Handle>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Notified>,
    threads: usize,
    idle: usize,
    /// Idle threads told to take a job and not yet awake.
    notified: usize,
    shutdown: bool,
}

pub(crate) struct Config {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
}

impl Spawner {
    pub(crate) fn new(config: Config) -> Spawner {
        Spawner {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads: config.max_threads.max(1),
                keep_alive: config.keep_alive,
                thread_name: config.thread_name,
                stack_size: config.stack_size,
                in_flight: AtomicUsize::new(0),
                handle: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn set_handle(&self, handle: Handle) {
        *self.inner.handle.lock() = Some(handle);
    }

    /// Forgets the runtime handle (it holds the runtime's shared state).
    fn clear_handle(&self) {
        self.inner.handle.lock().take();
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Acquire)
    }

    pub(crate) fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // Two references: the queue's and the handle's (no owned list).
        let raw = RawTask::new(BlockingTask(Some(f)), self.clone(), Id::next(), 2);
        self.submit(Notified(raw));
        JoinHandle::new(raw)
    }

    /// Runs a fire-and-forget job (the reactor's hook for name resolution).
    pub(crate) fn spawn_job(&self, job: corium_reactor::BlockingJob) {
        drop(self.spawn(job));
    }

    fn submit(&self, task: Notified) {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            drop(state);
            cancel(task);
            return;
        }
        self.inner.in_flight.fetch_add(1, AcqRel);
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            self.inner.work.notify_one();
        } else if state.threads < self.inner.max_threads {
            state.threads += 1;
            drop(state);
            if let Err(e) = self.start_thread() {
                // The job stays queued for the threads that exist; with none,
                // the runtime cannot make progress on it, so say so loudly.
                let mut state = self.inner.state.lock();
                state.threads -= 1;
                if state.threads == 0 {
                    panic!("failed to start a blocking-pool thread and none is running: {e}");
                }
            }
        }
    }

    fn start_thread(&self) -> std::io::Result<()> {
        let mut builder = std::thread::Builder::new().name((self.inner.thread_name)());
        if let Some(size) = self.inner.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = self.inner.clone();
        builder.spawn(move || Inner::run(inner)).map(drop)
    }

    /// Cancels queued jobs, stops idle threads, and waits up to `timeout`
    /// for running closures; threads still running then are detached.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let deadline = Instant::now().checked_add(timeout);
        let queued = {
            let mut state = self.inner.state.lock();
            state.shutdown = true;
            self.inner.work.notify_all();
            std::mem::take(&mut state.queue)
        };
        for task in queued {
            self.inner.in_flight.fetch_sub(1, AcqRel);
            cancel(task);
        }
        self.clear_handle();
        let mut state = self.inner.state.lock();
        while state.threads > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .inner
                        .exited
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        break;
                    }
                }
                None => self.inner.exited.wait(&mut state),
            }
        }
    }
}

impl Inner {
    fn run(self: Arc<Inner>) {
        let _enter = self.handle.lock().clone().map(|h| h.enter_owned());
        let mut state = self.state.lock();
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                self.in_flight.fetch_sub(1, AcqRel);
                state = self.state.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let timed_out = self.work.wait_for(&mut state, self.keep_alive).timed_out();
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        self.exited.notify_all();
    }
}

/// Cancels a job that never ran: the future (the closure) is dropped and the
/// handle reports `is_cancelled`.
fn cancel(task: Notified) {
    // The queue's reference doubles as the claim: the task is idle and
    // notified, so a shutdown claims it; `shutdown` consumes a reference.
    let raw = task.0;
    std::mem::forget(task);
    raw.shutdown();
}

impl Schedule for Spawner {
    fn schedule(&self, task: Notified) {
        // Only an abort of a queued job schedules it again; it is already
        // queued (NOTIFIED), so this does not happen. Run it to completion
        // (it sees CANCELLED) rather than lose the reference.
        self.submit(task);
    }

    fn release(&self, _task: &Header) -> bool {
        false
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}

/// A closure as a future that completes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("a blocking task runs once");
        // Blocking code is not budgeted: it runs to completion anyway.
        Poll::Ready(coop::unconstrained(f))
    }
}
