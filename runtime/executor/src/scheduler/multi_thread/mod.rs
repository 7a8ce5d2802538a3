//! The multi-thread scheduler: N workers with work-stealing run queues,
//! and either one I/O reactor they share (the default) or one reactor each.
//!
//! # Layout
//! Each worker owns a bounded lock-free run queue (`queue.rs`), a LIFO slot
//! and a reactor (its timers and wakeups), in its `Core`. Other workers
//! steal half a queue at a time, and take a LIFO task too (tokio's LIFO
//! slot cannot be stolen, so a task there waits for its worker however
//! long that worker is busy). Wakes from outside the workers go to one
//! inject queue. Idle workers sleep and are woken one at a time
//! (`idle.rs`).
//!
//! # One shared I/O reactor (`ReactorTopology::Shared`, the default)
//! Every socket is registered with one more reactor, which whichever
//! worker goes to sleep first with it free waits on, bounded by its own
//! timers (`SharedIo`); the others sleep in their own reactors. A worker
//! sleeping apart never leaves the sockets unwatched for more than
//! `IO_RECHECK` while the others run (`io_watch.rs`), so a task that
//! blocks its thread does not stall every connection (it does with
//! tokio's driver).
//!
//! # One reactor per worker (`ReactorTopology::PerWorker`)
//! A worker sleeps in its own epoll instance, fires its own timers and
//! registers the sockets it creates there; accepted connections are spread
//! over the workers' reactors in turn (`corium_reactor::Handle::balanced`).
//! A socket's events wake its task on the worker whose reactor saw them, so
//! a connection's task settles on that worker, and a request touches only
//! that worker's structures: its epoll, its run queue, its timer wheel.
//! A stolen task still wakes correctly: the waker queues it on whichever
//! worker (or inject queue) the wake happens on.
//!
//! The figures that decided the default are in DESIGN.md.
//!
//! # Shutdown
//! The flag is set, every worker woken; each drains its queues (dropping
//! only references) and hands its core back. Then the owned list is closed
//! and every task cancelled, and the reactors are dropped, which wakes
//! whatever still waited on them.

mod idle;
mod io_watch;
mod owned;
pub(crate) mod queue;
mod worker;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::ptr::{self, NonNull};
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed,
    Ordering::Release,
};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Instant;

use corium_reactor::{coop, Reactor};
use parking_lot::{Condvar, Mutex};

use super::{Config, ThreadSignal};
use crate::blocking;
use crate::runtime::UnhandledPanic;
use crate::task::raw::{Header, RawTask};
use crate::task::{Id, JoinHandle, Notified, Schedule};
use idle::Idle;
use io_watch::IoWatch;
use owned::OwnedTasks;

pub(crate) use worker::{hand_off_core, HandOff};

const NO_WATCHER: usize = 0;
const WATCHER_WANTED: usize = 1;

/// What every thread shares about one multi-thread runtime.
pub(crate) struct Shared {
    /// The reactor of worker 0: the one threads outside the workers enter
    /// (a `block_on` thread, the blocking pool).
    pub(crate) reactor: corium_reactor::Handle,
    pub(crate) blocking: blocking::Spawner,
    remotes: Box<[Remote]>,
    /// The I/O reactor the workers share, if they share one
    /// (`ReactorTopology::Shared`); `None`: one reactor per worker.
    io: Option<SharedIo>,
    inject: Inject,
    idle: Idle,
    owned: OwnedTasks,
    shutdown: AtomicBool,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    panicked: AtomicBool,
    /// Cores handed back by workers that stopped; dropped at shutdown.
    #[allow(clippy::vec_box)] // cores move between threads as boxes
    cores: Mutex<Vec<Box<worker::Core>>>,
    /// The worker threads, joined at shutdown.
    threads: Arc<Threads>,
    /// Which sleeper watches the LIFO slots: `NO_WATCHER`, `WATCHER_WANTED`,
    /// or a worker's index plus 2 (see [`Shared::watch_for`]).
    watcher: AtomicUsize,
    /// Threads inside `block_on`, woken when the runtime shuts down.
    block_on_threads: Mutex<Vec<Arc<ThreadSignal>>>,
    config: Config,
}

/// The worker threads of a runtime. Held apart from `Shared`, so that a
/// thread reports itself finished after it dropped its share of the
/// runtime.
#[derive(Default)]
struct Threads {
    list: Mutex<Vec<WorkerThread>>,
    done: Condvar,
}

struct WorkerThread {
    id: ThreadId,
    finished: bool,
    join: Option<thread::JoinHandle<()>>,
}

impl Threads {
    fn finished(&self, id: ThreadId) {
        let mut list = self.list.lock();
        if let Some(thread) = list.iter_mut().find(|t| t.id == id) {
            thread.finished = true;
        }
        self.done.notify_all();
    }
}

/// The part of a worker other threads reach: its queue's stealing end, its
/// LIFO slot and its reactor (to wake it). Aligned to its own cache lines:
/// the owner writes `lifo` and `polls` on every poll, and two workers'
/// remotes sharing a line would make each such write a cross-core miss.
#[repr(align(128))]
struct Remote {
    steal: queue::Steal<Notified>,
    lifo: LifoSlot,
    /// Polls the worker started (written by it alone): a sleeping worker
    /// that sees it unchanged knows the worker is stuck in one poll.
    polls: std::sync::atomic::AtomicU32,
    /// Set while the worker runs a batch from a reactor turn that it has
    /// not shared (`worker.rs`, `keep_batch`): a worker going to sleep then
    /// watches it (`Shared::should_watch`).
    unshared: std::sync::atomic::AtomicBool,
    reactor: corium_reactor::Handle,
    /// The reactor itself, turned only by the thread running this worker
    /// (other workers look at its sockets through `reactor.poll_now`,
    /// which needs no lock). It lives here rather than in the core so that
    /// shutdown can drop every reactor, waking their waiters, even when a
    /// worker detached at the deadline still holds its core. `None` once
    /// shut down.
    driver: Mutex<Option<Reactor>>,
}

/// The one I/O reactor of a runtime whose workers share one: every socket
/// is registered with it, and whichever worker goes to sleep first with
/// it free waits on it (`Reactor::park_driving`), its own timers and
/// wakeups included; the others sleep in their own reactors, which keep
/// only their timers and wakeups.
///
/// Who waits on it, and who may sleep apart with no bound, is
/// `io_watch.rs`'s protocol.
struct SharedIo {
    handle: corium_reactor::Handle,
    /// Taken with `try_lock` only: a worker that finds it held sleeps in
    /// its own reactor. `None` once shut down.
    driver: Mutex<Option<Reactor>>,
    watch: IoWatch,
}

impl Shared {
    pub(crate) fn new(
        reactors: Vec<Reactor>,
        shared_io: Option<Reactor>,
        blocking: blocking::Spawner,
        config: Config,
    ) -> Arc<Shared> {
        let num_workers = reactors.len();
        let handles: Vec<_> = reactors.iter().map(Reactor::handle).collect();
        let io = shared_io.map(|reactor| SharedIo {
            handle: reactor.handle(),
            driver: Mutex::new(Some(reactor)),
            watch: IoWatch::new(num_workers),
        });
        match &io {
            Some(io) => corium_reactor::Handle::link_shared_io(&handles, &io.handle),
            None => corium_reactor::Handle::link_group(&handles),
        }
        // Looks at other reactors' sockets (`poll_now`) go to the shared
        // one when there is one.
        let poll_buffer_of = |index: usize| match &io {
            Some(io) => io.handle.poll_buffer(),
            None => handles[index].poll_buffer(),
        };
        let mut cores = Vec::with_capacity(num_workers);
        let mut remotes = Vec::with_capacity(num_workers);
        for (index, reactor) in reactors.into_iter().enumerate() {
            let (steal, local) = queue::local();
            remotes.push(Remote {
                steal,
                lifo: LifoSlot::default(),
                polls: std::sync::atomic::AtomicU32::new(0),
                unshared: std::sync::atomic::AtomicBool::new(false),
                reactor: reactor.handle(),
                driver: Mutex::new(Some(reactor)),
            });
            cores.push(worker::Core::new(
                index,
                local,
                num_workers,
                poll_buffer_of(index),
            ));
        }
        let shared = Arc::new(Shared {
            reactor: handles[0].clone(),
            blocking,
            remotes: remotes.into_boxed_slice(),
            io,
            inject: Inject::default(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(num_workers),
            shutdown: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            cores: Mutex::new(Vec::new()),
            threads: Arc::default(),
            watcher: AtomicUsize::new(NO_WATCHER),
            block_on_threads: Mutex::new(Vec::new()),
            config,
        });
        for core in cores {
            if let Err((e, _core)) = shared.start_worker(core) {
                shared.begin_shutdown();
                panic!("failed to start a Corium worker thread: {e}");
            }
        }
        shared
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    pub(crate) fn reactor_topology(&self) -> crate::runtime::ReactorTopology {
        match self.io {
            Some(_) => crate::runtime::ReactorTopology::Shared,
            None => crate::runtime::ReactorTopology::PerWorker,
        }
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        self.owned.len()
    }

    /// Starts a thread that runs the worker loop on `core` (at build, and
    /// when `block_in_place` hands a core over). On failure the core comes
    /// back with the error.
    fn start_worker(
        self: &Arc<Self>,
        core: Box<worker::Core>,
    ) -> Result<(), (std::io::Error, Box<worker::Core>)> {
        let mut builder = thread::Builder::new().name((self.config.worker_name)());
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        // The core travels through a slot, so a failed spawn can return it.
        let slot = Arc::new(Mutex::new(Some(core)));
        let theirs = slot.clone();
        let shared = self.clone();
        let threads = self.threads.clone();
        let mut list = self.threads.list.lock();
        let spawned = builder.spawn(move || {
            let core = theirs.lock().take();
            if let Some(hook) = &shared.config.on_thread_start {
                hook();
            }
            if let Some(core) = core {
                worker::run(&shared, core);
            }
            if let Some(hook) = &shared.config.on_thread_stop {
                hook();
            }
            // Last: once the runtime is gone, so are its reactors' fds.
            drop(shared);
            threads.finished(thread::current().id());
        });
        match spawned {
            Ok(thread) => {
                list.push(WorkerThread {
                    id: thread.thread().id(),
                    finished: false,
                    join: Some(thread),
                });
                Ok(())
            }
            Err(e) => Err((e, slot.lock().take().expect("the thread never started"))),
        }
    }

    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // Three references: the run queue's, the owned list's, the handle's.
        let raw = RawTask::new(future, self.clone(), Id::next(), 3);
        let handle = JoinHandle::new(raw);
        match self.owned.insert(raw) {
            Ok(()) => self.schedule(Notified(raw)),
            Err(task) => {
                // Shut down: cancel it; the queue's reference just goes.
                task.shutdown();
                drop(Notified(raw));
            }
        }
        handle
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Wakes a sleeping worker if the work just queued needs one (see
    /// `idle.rs`).
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].reactor.unpark();
        }
    }

    /// Asks for a sleeping worker to watch the LIFO slots, unless one does
    /// or was asked already (a relaxed load, then: this runs at every LIFO
    /// fill).
    fn request_watcher(&self) {
        if self.watcher.load(Relaxed) != NO_WATCHER
            || self
                .watcher
                .compare_exchange(NO_WATCHER, WATCHER_WANTED, AcqRel, Relaxed)
                .is_err()
        {
            return;
        }
        // With everyone awake, the next worker to sleep takes the watch.
        if let Some(index) = self.idle.any_sleeper() {
            self.remotes[index].reactor.unpark();
        }
    }

    /// Whether sleeping worker `me` should watch the LIFO slots (sleep at
    /// most `LIFO_RECHECK`, then look). A task that wakes another puts it
    /// in its worker's LIFO slot and asks for a watcher
    /// (`request_watcher`); one sleeper then watches for as long as some
    /// other worker is awake, since that worker may block its thread in a
    /// poll with a task in its LIFO slot, which would otherwise wait for
    /// that poll however long it takes (tokio's LIFO slot works that way).
    /// The watch costs the watcher a wakeup every `LIFO_RECHECK` while
    /// others work; nothing when no task wakes another, or all sleep.
    fn watch_for(&self, me: usize) -> bool {
        let mine = me + 2;
        if !self.idle.others_awake() {
            self.stop_watching(me);
            return false;
        }
        let current = self.watcher.load(Acquire);
        current == mine
            || (current == WATCHER_WANTED
                && self
                    .watcher
                    .compare_exchange(current, mine, AcqRel, Relaxed)
                    .is_ok())
    }

    /// Whether sleeping worker `me` should watch the other workers (sleep
    /// at most `LIFO_RECHECK`, then look for a stuck one): it holds the
    /// watch (`watch_for`), or another worker runs a batch it has not
    /// shared, which a poll that blocks its thread would hold until it
    /// ends.
    fn should_watch(&self, me: usize) -> bool {
        self.watch_for(me)
            || self
                .remotes
                .iter()
                .enumerate()
                .any(|(i, r)| i != me && r.unshared.load(Relaxed))
    }

    /// Gives up the watch, if `me` holds it.
    fn stop_watching(&self, me: usize) {
        let _ = self
            .watcher
            .compare_exchange(me + 2, NO_WATCHER, AcqRel, Relaxed);
    }

    /// Queues a task woken outside this runtime's workers.
    fn push_remote(&self, task: Notified) {
        if self.inject.push(task) {
            self.notify_parked();
        }
    }

    /// Whether some queue other than `me`'s holds work (the last searcher's
    /// final look before it sleeps, rule 4 of `idle.rs`).
    fn has_work_elsewhere(&self, me: usize) -> bool {
        !self.inject.is_empty()
            || self
                .remotes
                .iter()
                .enumerate()
                .any(|(i, r)| i != me && !r.steal.is_empty())
    }

    /// Runs `future` to completion on the calling thread; the workers run
    /// the runtime's tasks meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let _in_block_on = super::BlockOnGuard::enter();
        let mut future = pin!(future);
        let signal = Arc::new(ThreadSignal::new(thread::current()));
        let waker = Waker::from(signal.clone());
        let mut cx = Context::from_waker(&waker);
        self.block_on_threads.lock().push(signal.clone());
        let _registered = BlockOnRegistration(self, &signal);
        loop {
            if signal.take() {
                if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return output;
                }
            }
            self.assert_running("block_on");
            signal.wait();
        }
    }

    #[track_caller]
    pub(crate) fn assert_running(&self, what: &str) {
        assert!(
            !self.panicked.load(Acquire),
            "{what}: a task panicked and the runtime is configured with \
             `UnhandledPanic::ShutdownRuntime`, so it shut down"
        );
        assert!(
            !self.is_shutdown(),
            "{what}: the runtime was shut down while this future was waiting on it"
        );
    }

    /// Tells every worker to stop; returns at once.
    pub(crate) fn begin_shutdown(&self) {
        if self.shutdown.swap(true, AcqRel) {
            return;
        }
        for task in self.inject.close() {
            drop(task);
        }
        for remote in self.remotes.iter() {
            remote.reactor.unpark();
        }
        for signal in self.block_on_threads.lock().iter() {
            signal.wake_by_ref();
        }
    }

    /// Stops the runtime: waits for the workers to finish their current
    /// poll (up to `deadline`), cancels every task, drops the reactors.
    pub(crate) fn shutdown(self: &Arc<Self>, deadline: Option<Instant>) {
        self.begin_shutdown();
        self.wait_for_workers(deadline);
        self.owned.close_and_shutdown_all();
        let cores = std::mem::take(&mut *self.cores.lock());
        drop(cores);
        // Dropping the reactors wakes every socket and timer waiter; their
        // tasks are complete, so those wakes only drop references. A
        // worker still turning one (detached at the deadline) keeps it.
        for remote in self.remotes.iter() {
            let reactor = remote.driver.try_lock().and_then(|mut slot| slot.take());
            drop(reactor);
        }
        if let Some(io) = &self.io {
            let reactor = io.driver.try_lock().and_then(|mut slot| slot.take());
            drop(reactor);
        }
    }

    /// Waits until every worker thread but this one has stopped, or the
    /// deadline; joins those that stopped.
    fn wait_for_workers(&self, deadline: Option<Instant>) {
        let me = thread::current().id();
        let mut list = self.threads.list.lock();
        while list.iter().any(|t| t.id != me && !t.finished) {
            match deadline {
                Some(deadline) => {
                    if self
                        .threads
                        .done
                        .wait_until(&mut list, deadline)
                        .timed_out()
                    {
                        break;
                    }
                }
                None => self.threads.done.wait(&mut list),
            }
        }
        let finished: Vec<_> = list
            .iter_mut()
            .filter(|t| t.finished)
            .filter_map(|t| t.join.take())
            .collect();
        list.retain(|t| !t.finished);
        drop(list);
        for thread in finished {
            // The thread caught every task panic; it ends normally.
            let _ = thread.join();
        }
    }

    fn on_task_panic(&self) {
        if self.config.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.panicked.store(true, Release);
            self.begin_shutdown();
        }
    }
}

/// Takes a `block_on` thread off the list shutdown wakes.
struct BlockOnRegistration<'a>(&'a Shared, &'a Arc<ThreadSignal>);

impl Drop for BlockOnRegistration<'_> {
    fn drop(&mut self) {
        self.0
            .block_on_threads
            .lock()
            .retain(|signal| !Arc::ptr_eq(signal, self.1));
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        worker::schedule(self, task, false);
    }

    fn yield_now(&self, task: Notified) {
        worker::schedule(self, task, true);
    }

    fn release(&self, task: &Header) -> bool {
        self.owned.remove(task)
    }

    fn unhandled_panic(&self) {
        self.on_task_panic();
    }
}

/// The inject queue: tasks woken outside the workers, and the overflow of
/// full local queues. A lock, but one taken only off the hot path: a task
/// woken by its own worker's reactor or by another task never comes here.
/// On cache lines of its own, as `Idle`.
#[derive(Default)]
#[repr(align(128))]
struct Inject {
    queue: Mutex<InjectQueue>,
    /// A copy of the length, so that empty checks take no lock.
    len: AtomicUsize,
}

#[derive(Default)]
struct InjectQueue {
    tasks: std::collections::VecDeque<Notified>,
    closed: bool,
}

impl Inject {
    /// Queues `task`; false (dropping it) once the runtime shut down.
    fn push(&self, task: Notified) -> bool {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            drop(task);
            return false;
        }
        queue.tasks.push_back(task);
        self.len
            .store(queue.tasks.len(), std::sync::atomic::Ordering::SeqCst);
        true
    }

    /// Takes up to `max` tasks: the first to run now, the rest to `rest`.
    fn pop_batch(&self, max: usize, mut rest: impl FnMut(Notified)) -> Option<Notified> {
        if self.is_empty() {
            return None;
        }
        let mut queue = self.queue.lock();
        let first = queue.tasks.pop_front()?;
        let more = max.saturating_sub(1).min(queue.tasks.len());
        for task in queue.tasks.drain(..more) {
            rest(task);
        }
        self.len
            .store(queue.tasks.len(), std::sync::atomic::Ordering::SeqCst);
        Some(first)
    }

    fn is_empty(&self) -> bool {
        self.len.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    fn close(&self) -> std::collections::VecDeque<Notified> {
        let mut queue = self.queue.lock();
        queue.closed = true;
        self.len.store(0, std::sync::atomic::Ordering::SeqCst);
        std::mem::take(&mut queue.tasks)
    }
}

impl queue::Overflow<Notified> for Inject {
    fn push(&self, task: Notified) {
        Inject::push(self, task);
    }

    fn push_batch<I: Iterator<Item = Notified>>(&self, tasks: I) {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            tasks.for_each(drop);
            return;
        }
        queue.tasks.extend(tasks);
        self.len
            .store(queue.tasks.len(), std::sync::atomic::Ordering::SeqCst);
    }
}

/// A worker's LIFO slot: the task woken last by the task it is running,
/// which runs next (message passing stays on one warm core). Any worker
/// may take it: see the module docs.
#[derive(Default)]
struct LifoSlot(AtomicPtr<Header>);

impl LifoSlot {
    /// Puts `task` in the slot; returns the task it displaced.
    #[must_use = "the displaced task must be queued, or its wake is lost"]
    fn replace(&self, task: Notified) -> Option<Notified> {
        let previous = self.0.swap(task.into_raw().as_ptr(), AcqRel);
        // SAFETY: the slot holds only pointers from `Notified::into_raw`,
        // each owning its reference; the swap moved that ownership to us.
        NonNull::new(previous).map(|ptr| unsafe { Notified::from_raw(ptr) })
    }

    fn take(&self) -> Option<Notified> {
        if !self.is_occupied() {
            return None;
        }
        let previous = self.0.swap(ptr::null_mut(), AcqRel);
        // SAFETY: as in `replace`.
        NonNull::new(previous).map(|ptr| unsafe { Notified::from_raw(ptr) })
    }

    fn is_occupied(&self) -> bool {
        !self.0.load(std::sync::atomic::Ordering::Relaxed).is_null()
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.remotes.len())
            .field("alive_tasks", &self.owned.len())
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}
