//! The blocking pool: threads for work that would block a runtime thread.
//!
//! A job beyond the idle threads starts a new thread, up to
//! `max_blocking_threads`; beyond that, jobs queue, and submitting never
//! waits for a thread to free up. An idle thread exits after
//! `thread_keep_alive`. A job is a task (`BlockingTask`) so that it gets a
//! `JoinHandle`, panic capture and the shared task protocol; the pool polls
//! it exactly once.
//!
//! At shutdown, queued jobs are cancelled (their handles report
//! `is_cancelled`), idle threads exit, and threads still inside a closure are
//! waited for up to the given timeout and then detached: a closure cannot be
//! cancelled, and one stuck closure must not hang the program's exit.
//!
//! # Protocol
//!
//! Jobs wait in a sharded [`Queue`] whose length `queued` is an atomic.
//! Three more atomics say what the threads do: `sleeping` (idle threads
//! that no submitter has claimed), `threads` (live threads, counting one
//! being started) and `shutdown`. The `sleep` lock guards
//! `woken` (claims on sleepers not yet taken up) and is the only lock
//! besides a shard's; a submit takes it only when a thread sleeps or must
//! start, never when the pool is saturated. All counter operations named
//! below are `SeqCst`, so the steps of the rules below fall in one total
//! order.
//!
//! 1. **Submit** counts the job in `in_flight`, pushes it (`queued` + 1),
//!    then reads `shutdown`, `sleeping` and `threads`, in that order. If
//!    the pool is shut down, it cancels whatever is queued (rule 5). If no
//!    thread sleeps and `threads` is at the cap, it is done: a running
//!    thread takes the job (rule 4). Otherwise it takes `sleep` and, seeing
//!    exact counts there, claims a sleeper (`sleeping` − 1, `woken` + 1,
//!    notify), else starts a thread (`threads` + 1) if under the cap, else
//!    does nothing.
//! 2. **Park**: a thread that found the queue empty takes `sleep`, adds
//!    itself to `sleeping`, then reads `queued` and `shutdown`; if either is
//!    set it removes itself and looks again. Otherwise it waits, releasing
//!    `sleep` only as it starts waiting, so a claim made under `sleep` is
//!    never notified before its sleeper waits.
//! 3. **Wake** (under `sleep`): a thread takes a claim if `woken` > 0 (its
//!    claimer already removed one from `sleeping`), else removes itself from
//!    `sleeping`; either way it looks at the queue again. Only a thread that
//!    timed out and found no claim exits: `threads` − 1, then it reads
//!    `queued`, and if a job is queued it counts itself back and stays.
//!    Claims are anonymous: whichever sleeper wakes first takes one, and a
//!    sleeper woken by a notify whose claim another took just looks and
//!    sleeps again. `woken` ≤ sleepers holds, so no claim is left over.
//! 4. **No job is stranded while threads sleep.** Take a job whose push
//!    added to `queued` at point P. A thread that parks or exits later reads
//!    `queued` after its own write to `sleeping` or `threads`; so either
//!    that read comes after P and sees the job (if it is still queued; a
//!    shard's length changes under its lock with the push or pop), and the
//!    thread stays to take it; or its write comes before P, and the
//!    submitter, reading after P, sees a sleeper or a free slot and takes
//!    the slow path, where the counts are exact: a claimed sleeper, a new
//!    thread, or, with none sleeping and the cap reached, every thread awake
//!    and bound to look at the queue before it parks (rule 2) or exits
//!    (rule 3). Threads look at the queue after every job they run.
//! 5. **Shutdown** sets `shutdown`, then drains the queue, cancelling each
//!    job, wakes every sleeper and waits for `threads` to reach zero (up to
//!    the timeout). A submitter reads `shutdown` after its push: if it reads
//!    false, its push precedes the drain of that shard, which cancels the
//!    job; if true, it drains the queue itself. Threads read `shutdown`
//!    before each pop and before they wait, and exit when it is set. A job
//!    popped just before `shutdown` was set runs, like one that was running.
//!
//! `in_flight` goes up before a job is pushed and down after it ran or was
//! cancelled, so it never undercounts a job someone could still wait for.

mod queue;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{
    AtomicBool, AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::SeqCst,
};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corium_reactor::coop;
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::runtime::Handle;
use crate::scheduler::Callback;
use crate::task::raw::{Header, RawTask};
use crate::task::{Id, JoinHandle, Notified, Schedule};
use queue::Queue;

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
    queue: Queue,
    /// Idle threads no submitter has claimed (rules 2 and 3). Changed only
    /// under `sleep`; read without it on the submit path.
    sleeping: AtomicUsize,
    /// Live threads, counting one being started. Changed only under
    /// `sleep`; read without it on the submit path.
    threads: AtomicUsize,
    shutdown: AtomicBool,
    sleep: Mutex<Sleep>,
    /// Signalled when a sleeper is claimed or the pool shuts down.
    work: Condvar,
    /// Signalled when a thread exits.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    stack_size: Option<usize>,
    on_thread_start: Option<Callback>,
    on_thread_stop: Option<Callback>,
    /// Jobs queued or running (the paused clock does not auto-advance while
    /// one is in flight: its result may be what the runtime waits for).
    in_flight: AtomicUsize,
    /// The runtime handle threads enter, set once the runtime exists.
    handle: Mutex<Option<Handle>>,
}

/// What the `sleep` lock guards besides the order of parks and claims.
#[derive(Default)]
struct Sleep {
    /// Sleepers claimed by a submitter and not yet awake (rule 3).
    woken: usize,
}

/// What a thread does after `park`.
enum Park {
    /// Look at the queue (and `shutdown`) again.
    Look,
    /// Exit: the thread has already left `threads`.
    Exit,
}

pub(crate) struct Config {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<Callback>,
    pub(crate) on_thread_stop: Option<Callback>,
}

impl Spawner {
    pub(crate) fn new(config: Config) -> Spawner {
        Spawner {
            inner: Arc::new(Inner {
                queue: Queue::new(),
                sleeping: AtomicUsize::new(0),
                threads: AtomicUsize::new(0),
                shutdown: AtomicBool::new(false),
                sleep: Mutex::new(Sleep::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads: config.max_threads.max(1),
                keep_alive: config.keep_alive,
                thread_name: config.thread_name,
                stack_size: config.stack_size,
                on_thread_start: config.on_thread_start,
                on_thread_stop: config.on_thread_stop,
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

    /// Rule 1.
    fn submit(&self, task: Notified) {
        let inner = &*self.inner;
        if inner.shutdown.load(SeqCst) {
            cancel(task);
            return;
        }
        inner.in_flight.fetch_add(1, AcqRel);
        inner.queue.push(task);
        if inner.shutdown.load(SeqCst) {
            inner.cancel_queued();
        } else if !inner.is_saturated() {
            self.wake_or_start();
        }
    }

    /// The slow path of rule 1: claims a sleeper, or starts a thread if
    /// under the cap.
    fn wake_or_start(&self) {
        let inner = &*self.inner;
        let mut sleep = inner.sleep.lock();
        if inner.sleeping.load(SeqCst) > 0 {
            inner.sleeping.fetch_sub(1, SeqCst);
            sleep.woken += 1;
            inner.work.notify_one();
            return;
        }
        if inner.threads.load(SeqCst) >= inner.max_threads {
            return;
        }
        inner.threads.fetch_add(1, SeqCst);
        drop(sleep);
        if let Err(e) = self.start_thread() {
            // The job stays queued for the threads that exist; with none,
            // the runtime cannot make progress on it, so say so loudly.
            let mut sleep = inner.sleep.lock();
            if inner.leave(&mut sleep) == 0 {
                panic!("failed to start a blocking-pool thread and none is running: {e}");
            }
        }
    }

    fn start_thread(&self) -> std::io::Result<()> {
        let mut builder = std::thread::Builder::new().name((self.inner.thread_name)());
        if let Some(size) = self.inner.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = self.inner.clone();
        builder
            .spawn(move || {
                let stop = inner.on_thread_stop.clone();
                if let Some(hook) = &inner.on_thread_start {
                    hook();
                }
                Inner::run(inner);
                if let Some(hook) = stop {
                    hook();
                }
            })
            .map(drop)
    }

    /// Cancels queued jobs, stops idle threads, and waits up to `timeout`
    /// for running closures; threads still running then are detached.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let inner = &*self.inner;
        let deadline = Instant::now().checked_add(timeout);
        inner.shutdown.store(true, SeqCst);
        inner.cancel_queued();
        self.clear_handle();
        let mut sleep = inner.sleep.lock();
        inner.work.notify_all();
        while inner.threads.load(SeqCst) > 0 {
            match deadline {
                Some(deadline) => {
                    if inner.exited.wait_until(&mut sleep, deadline).timed_out() {
                        break;
                    }
                }
                None => inner.exited.wait(&mut sleep),
            }
        }
    }
}

impl Inner {
    /// A pool thread's life: take jobs until shutdown or keep-alive expiry.
    fn run(self: Arc<Inner>) {
        let _enter = self.handle.lock().clone().map(|h| h.enter_owned());
        let mut cursor = self.queue.home();
        loop {
            if self.shutdown.load(SeqCst) {
                self.leave(&mut self.sleep.lock());
                return;
            }
            if let Some(task) = self.queue.pop(&mut cursor) {
                task.run();
                if self.in_flight.fetch_sub(1, AcqRel) == 1 {
                    self.wake_paused_runtime();
                }
                continue;
            }
            if let Park::Exit = self.park() {
                return;
            }
        }
    }

    /// The last job in flight is done: a runtime with a paused clock that
    /// went idle while it ran waits for exactly this to advance its clock.
    /// (The job's handle was woken before the count went down, so that
    /// wake may have found the runtime still counting the job.)
    fn wake_paused_runtime(&self) {
        if let Some(handle) = self.handle.lock().as_ref() {
            let reactor = handle.reactor();
            if reactor.is_clock_paused() {
                reactor.unpark();
            }
        }
    }

    /// No thread sleeps and none may start, so a submit takes no lock: a
    /// running thread takes the job (rule 4).
    fn is_saturated(&self) -> bool {
        self.sleeping.load(SeqCst) == 0 && self.threads.load(SeqCst) >= self.max_threads
    }

    /// Rules 2 and 3: sleeps until claimed, shut down or timed out.
    fn park(&self) -> Park {
        let mut sleep = self.sleep.lock();
        self.sleeping.fetch_add(1, SeqCst);
        if self.queue.len() > 0 || self.shutdown.load(SeqCst) {
            self.sleeping.fetch_sub(1, SeqCst);
            return Park::Look;
        }
        let timed_out = self.work.wait_for(&mut sleep, self.keep_alive).timed_out();
        if sleep.woken > 0 {
            sleep.woken -= 1;
            return Park::Look;
        }
        self.sleeping.fetch_sub(1, SeqCst);
        if !timed_out || self.shutdown.load(SeqCst) {
            return Park::Look;
        }
        self.leave(&mut sleep);
        if self.queue.len() > 0 {
            self.threads.fetch_add(1, SeqCst);
            return Park::Look;
        }
        Park::Exit
    }

    /// Takes a thread out of `threads` (under `sleep`, which `shutdown`
    /// waits on) and returns how many are left.
    fn leave(&self, _sleep: &mut MutexGuard<'_, Sleep>) -> usize {
        let left = self.threads.fetch_sub(1, SeqCst) - 1;
        self.exited.notify_all();
        left
    }

    /// Rule 5: cancels every job queued now.
    fn cancel_queued(&self) {
        for task in self.queue.drain() {
            self.in_flight.fetch_sub(1, AcqRel);
            cancel(task);
        }
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
        let inner = &*self.inner;
        f.debug_struct("BlockingPool")
            .field("threads", &inner.threads.load(SeqCst))
            .field("sleeping", &inner.sleeping.load(SeqCst))
            .field("queued", &inner.queue.len())
            .field("in_flight", &inner.in_flight.load(SeqCst))
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
