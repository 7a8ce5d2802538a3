//! The current-thread scheduler: one thread runs every task and turns the
//! reactor ("single reactor, single thread", as Redis).
//!
//! The `Core` (local run queue, owned tasks, the reactor) is held by the
//! thread inside `block_on`, in a thread-local, and borrowed only for a
//! moment at a time: a task is popped, the borrow ends, the task runs. A
//! wake from that thread pushes to the local queue with no lock; a wake from
//! any other thread goes to the inject queue and unparks the reactor.
//!
//! Every `EVENT_INTERVAL` tasks the loop looks at the reactor without
//! blocking, and every `INJECT_INTERVAL` it takes from the inject queue
//! first, so neither I/O nor remote wakes starve behind a busy local queue.
//! When there is nothing to run it parks in the reactor until an event, a
//! timer or a remote wake.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{
    AtomicBool, AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed,
    Ordering::Release,
};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use corium_reactor::{coop, Reactor};
use parking_lot::Mutex;
use slab::Slab;

use super::Config;
use crate::blocking;
use crate::runtime::UnhandledPanic;
use crate::task::raw::{Header, RawTask};
use crate::task::{Id, JoinHandle, Notified, Schedule, Task};

/// Tasks run between two non-blocking looks at the reactor (tokio's figure).
const EVENT_INTERVAL: u32 = 61;
/// Tasks run between two looks at the inject queue first (tokio's figure).
const INJECT_INTERVAL: u32 = 31;

/// What every thread shares about one current-thread runtime.
pub(crate) struct Shared {
    pub(crate) reactor: corium_reactor::Handle,
    pub(crate) blocking: blocking::Spawner,
    inject: Mutex<Inject>,
    /// A hint that `inject` is non-empty, so the hot loop skips the lock.
    has_injected: AtomicBool,
    /// The core, while no thread is driving the runtime.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core.
    core_waiters: Mutex<Vec<Thread>>,
    shutdown: AtomicBool,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    panicked: AtomicBool,
    /// Tasks spawned and not yet complete.
    alive: AtomicUsize,
    config: Config,
}

#[derive(Default)]
struct Inject {
    queue: VecDeque<Notified>,
    closed: bool,
}

pub(crate) struct Core {
    queue: VecDeque<Notified>,
    /// The owned list's references, by `Header::owned_index`.
    owned: Slab<RawTask>,
    /// Taken out while parked, so wakes during a turn can reach the queue.
    reactor: Option<Reactor>,
    tick: u32,
    /// `spawn_local` tasks popped on a thread other than their owner; they
    /// run when the owner drives the runtime again.
    foreign_local: Vec<Notified>,
}

thread_local! {
    /// The core of the runtime this thread drives, if any.
    static CORE: RefCell<Option<Box<Core>>> = const { RefCell::new(None) };
    /// Which runtime `CORE` belongs to.
    static CORE_OWNER: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

impl Shared {
    pub(crate) fn new(
        reactor: Reactor,
        blocking: blocking::Spawner,
        config: Config,
    ) -> Arc<Shared> {
        let shared = Arc::new(Shared {
            reactor: reactor.handle(),
            blocking,
            inject: Mutex::new(Inject::default()),
            has_injected: AtomicBool::new(false),
            core: Mutex::new(None),
            core_waiters: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            alive: AtomicUsize::new(0),
            config,
        });
        *shared.core.lock() = Some(Box::new(Core {
            queue: VecDeque::with_capacity(256),
            owned: Slab::with_capacity(256),
            reactor: Some(reactor),
            tick: 0,
            foreign_local: Vec::new(),
        }));
        shared
    }

    /// Runs `f` on this runtime's core if this thread is driving it and it
    /// is not borrowed already.
    fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
        if !ptr::eq(CORE_OWNER.with(Cell::get), self) {
            return None;
        }
        CORE.with(|core| {
            let mut core = core.try_borrow_mut().ok()?;
            core.as_mut().map(|core| f(core))
        })
    }

    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        owner: Option<thread::ThreadId>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // Three references: the run queue's, the owned list's (taken up when
        // the task is first popped) and the handle's.
        let raw = RawTask::new_with_owner(future, self.clone(), Id::next(), 3, owner);
        self.alive.fetch_add(1, Relaxed);
        let handle = JoinHandle::new(raw);
        self.schedule(Notified(raw));
        handle
    }

    pub(crate) fn spawn_local<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.with_core(|_| ()).is_some(),
            "spawn_local: call it on the thread inside this current-thread runtime's \
             `block_on` (a !Send future can only run on the thread that drives it)"
        );
        self.spawn(future, Some(thread::current().id()))
    }

    fn push_inject(&self, task: Notified) {
        let mut inject = self.inject.lock();
        if inject.closed {
            drop(inject);
            cancel_unowned(task);
            return;
        }
        inject.queue.push_back(task);
        self.has_injected.store(true, Release);
        drop(inject);
        self.reactor.unpark();
    }

    fn pop_inject(&self) -> Option<Notified> {
        if !self.has_injected.load(Acquire) {
            return None;
        }
        let mut inject = self.inject.lock();
        let task = inject.queue.pop_front();
        if inject.queue.is_empty() {
            self.has_injected.store(false, Release);
        }
        task
    }

    fn take_core(&self) -> Option<Box<Core>> {
        self.core.lock().take()
    }

    fn return_core(&self, core: Box<Core>) {
        *self.core.lock() = Some(core);
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }

    /// Runs `future` to completion on this thread, driving the runtime's
    /// tasks and reactor whenever no other thread is.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let _in_block_on = super::BlockOnGuard::enter();
        let mut future = pin!(future);
        let signal = Arc::new(BlockOnSignal {
            woken: AtomicBool::new(true),
            reactor: self.reactor.clone(),
            thread: thread::current(),
        });
        let waker = Waker::from(signal.clone());
        loop {
            if let Some(core) = self.take_core() {
                let (core, output) = self.drive(core, future.as_mut(), &signal, &waker);
                self.return_core(core);
                if let Some(output) = output {
                    return output;
                }
            }
            self.assert_running();
            if signal.woken.swap(false, AcqRel) {
                let mut cx = Context::from_waker(&waker);
                if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return output;
                }
            }
            self.core_waiters.lock().push(thread::current());
            if self.core.lock().is_none() && !signal.woken.load(Acquire) {
                thread::park();
            }
        }
    }

    #[track_caller]
    fn assert_running(&self) {
        assert!(
            !self.panicked.load(Acquire),
            "block_on: a task panicked and the runtime is configured with \
             `UnhandledPanic::ShutdownRuntime`, so it stopped"
        );
        assert!(
            !self.shutdown.load(Acquire),
            "block_on: the runtime was shut down while this future was waiting on it"
        );
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        self.alive.load(Relaxed)
    }

    /// The scheduler loop. Returns the core, and the output unless the
    /// runtime shut down first.
    fn drive<F: Future>(
        self: &Arc<Self>,
        core: Box<Core>,
        mut future: std::pin::Pin<&mut F>,
        signal: &BlockOnSignal,
        waker: &Waker,
    ) -> (Box<Core>, Option<F::Output>) {
        let installed = InstalledCore::install(self, core);
        let mut cx = Context::from_waker(waker);
        let me = thread::current().id();
        self.with_core(|core| {
            let local: Vec<_> = core.foreign_local.drain(..).collect();
            core.queue.extend(local);
        });
        let mut since_turn = 0;
        loop {
            if self.shutdown.load(Acquire) || self.panicked.load(Acquire) {
                return (installed.uninstall(), None);
            }
            if signal.woken.swap(false, AcqRel) {
                since_turn += 1;
                if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return (installed.uninstall(), Some(output));
                }
            }
            // Run tasks until the queue is empty or the interval is used up,
            // even if the future was woken meanwhile: a future that keeps
            // waking itself must not starve the tasks or the reactor.
            let mut out_of_tasks = false;
            while since_turn < EVENT_INTERVAL {
                let Some(task) = self.with_core(|core| core.next_task(self)).flatten() else {
                    out_of_tasks = true;
                    break;
                };
                since_turn += 1;
                let local_elsewhere = task.header().local_owner.is_some_and(|owner| owner != me);
                if local_elsewhere {
                    self.with_core(|core| core.foreign_local.push(task));
                } else {
                    coop::budget(|| task.run());
                }
            }
            if out_of_tasks && !signal.woken.load(Acquire) {
                self.park(true);
                since_turn = 0;
            } else if since_turn >= EVENT_INTERVAL {
                // Let I/O and timers in even while work keeps coming.
                self.park(false);
                since_turn = 0;
            }
        }
    }

    /// Turns the reactor: blocking until something happens when `idle`,
    /// else only a look.
    fn park(&self, idle: bool) {
        let Some(mut reactor) = self.with_core(|core| core.reactor.take()).flatten() else {
            return;
        };
        let hooks = idle.then_some(&self.config);
        if let Some(hook) = hooks.and_then(|c| c.on_thread_park.as_ref()) {
            hook();
        }
        let wait = if idle { None } else { Some(Duration::ZERO) };
        if idle && reactor.is_clock_paused() && self.blocking.in_flight() == 0 {
            self.auto_advance(&mut reactor);
        } else {
            // An error here is a broken poller (EBADF and the like); the
            // runtime cannot recover from that, and hiding it would spin.
            if let Err(e) = reactor.park(wait) {
                panic!("corium: the reactor failed to wait for events: {e}");
            }
        }
        self.with_core(|core| core.reactor = Some(reactor));
        if let Some(hook) = hooks.and_then(|c| c.on_thread_unpark.as_ref()) {
            hook();
        }
    }

    /// With a paused clock and nothing to run, jumps the clock to the next
    /// timer instead of waiting for it.
    fn auto_advance(&self, reactor: &mut Reactor) {
        let woke = reactor
            .park(Some(Duration::ZERO))
            .expect("corium: the reactor failed to poll for events");
        if woke > 0 || self.has_work() {
            return;
        }
        match reactor.next_timer() {
            Some(deadline) => {
                reactor.advance_clock_to(deadline);
                reactor.fire_timers();
            }
            None => {
                reactor
                    .park(None)
                    .expect("corium: the reactor failed to wait for events");
            }
        }
    }

    fn has_work(&self) -> bool {
        self.has_injected.load(Acquire)
            || self
                .with_core(|core| !core.queue.is_empty())
                .unwrap_or(false)
    }

    /// Stops the runtime: every task's future is dropped, queues emptied,
    /// the reactor shut down (waking whatever still waits on it).
    pub(crate) fn shutdown(self: &Arc<Self>) {
        if self.shutdown.swap(true, AcqRel) {
            return;
        }
        let inject = {
            let mut inject = self.inject.lock();
            inject.closed = true;
            std::mem::take(&mut inject.queue)
        };
        self.reactor.unpark();
        let core = loop {
            if let Some(core) = self.take_core() {
                break core;
            }
            // Another thread's `Handle::block_on` is driving; it sees the
            // flag on its next turn and gives the core back.
            self.core_waiters.lock().push(thread::current());
            self.reactor.unpark();
            thread::park_timeout(Duration::from_millis(10));
        };
        let installed = InstalledCore::install(self, core);
        for task in inject {
            cancel_unowned(task);
        }
        let me = thread::current().id();
        loop {
            let tasks = self
                .with_core(|core| {
                    let queued: Vec<Notified> = core
                        .queue
                        .drain(..)
                        .chain(core.foreign_local.drain(..))
                        .collect();
                    let owned: Vec<RawTask> = core.owned.drain().collect();
                    (queued, owned)
                })
                .expect("the core is installed");
            let (queued, owned) = tasks;
            if queued.is_empty() && owned.is_empty() {
                break;
            }
            // The slab was drained, so a completing task's `release` finds
            // nothing to remove and these references are the list's.
            for task in owned {
                if task.header().local_owner.is_some_and(|owner| owner != me) {
                    // A !Send future must not be dropped on this thread: leak
                    // it (its memory stays; its destructor never runs).
                    std::mem::forget(Task(task));
                } else {
                    Task(task).shutdown();
                }
            }
            for task in queued {
                if task.header().local_owner.is_some_and(|owner| owner != me) {
                    std::mem::forget(task);
                } else {
                    cancel_unowned(task);
                }
            }
        }
        let core = installed.uninstall();
        // Dropping the reactor wakes every socket and timer waiter; their
        // tasks are complete, so those wakes only drop references.
        drop(core);
    }
}

/// Marks `owned_index` of a task cancelled before any core adopted it.
const NEVER_OWNED: usize = usize::MAX - 1;

/// A queued task that may never have been popped: if it is not in the owned
/// list yet, the list's reference rides with it and cancels it here.
fn cancel_unowned(task: Notified) {
    let index = task.header().owned_index.get();
    // SAFETY: `owned_index` is written only by the thread that holds the
    // core. Here either this thread holds it (shutdown) or the runtime is
    // closed and no core will ever adopt this task (a spawn or wake after
    // shutdown), so no other thread touches the index.
    let unowned = unsafe { *index } == usize::MAX;
    if unowned {
        // SAFETY: as above.
        unsafe { *index = NEVER_OWNED };
        Task(task.0).shutdown();
    }
    drop(task);
}

impl Core {
    fn next_task(&mut self, shared: &Shared) -> Option<Notified> {
        self.tick = self.tick.wrapping_add(1);
        let task = if self.tick % INJECT_INTERVAL == 0 {
            shared.pop_inject().or_else(|| self.queue.pop_front())
        } else {
            self.queue.pop_front().or_else(|| shared.pop_inject())
        }?;
        self.adopt(&task);
        Some(task)
    }

    /// Puts a task popped for the first time into the owned list, with the
    /// reference it was spawned with for that purpose.
    fn adopt(&mut self, task: &Notified) {
        let index = task.header().owned_index.get();
        // SAFETY: `owned_index` is only touched by the thread holding the
        // core (this one), per `Header`'s invariant.
        if unsafe { *index } == usize::MAX {
            let slot = self.owned.insert(task.0);
            // SAFETY: as above.
            unsafe { *index = slot };
        }
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        let mut task = Some(task);
        self.with_core(|core| core.queue.push_back(task.take().expect("pushed once")));
        if let Some(task) = task {
            self.push_inject(task);
        }
    }

    fn unhandled_panic(&self) {
        if self.config.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.panicked.store(true, Release);
            self.reactor.unpark();
        }
    }

    fn release(&self, task: &Header) -> bool {
        self.alive.fetch_sub(1, Relaxed);
        self.with_core(|core| {
            // SAFETY: we hold the core, so we may touch `owned_index`.
            let index = unsafe { *task.owned_index.get() };
            if index != usize::MAX
                && core
                    .owned
                    .get(index)
                    .is_some_and(|t| ptr::eq(t.header(), task))
            {
                core.owned.remove(index);
                true
            } else {
                false
            }
        })
        .unwrap_or(false)
    }
}

/// Installs a core in this thread's thread-local for the length of a drive
/// (or a shutdown), keeping whatever core was there (another runtime this
/// thread drives) to put back afterwards.
struct InstalledCore {
    shared: Arc<Shared>,
    previous_core: Option<Box<Core>>,
    previous_owner: *const Shared,
    /// Set once the core was taken back out.
    uninstalled: bool,
    /// This thread polls tasks while the core is installed.
    _driving: corium_reactor::DrivingGuard,
}

impl InstalledCore {
    fn install(shared: &Arc<Shared>, core: Box<Core>) -> InstalledCore {
        let previous_core = CORE.with(|slot| {
            slot.try_borrow_mut()
                .expect("a runtime was started or dropped while its thread's core was in use")
                .replace(core)
        });
        let previous_owner = CORE_OWNER.with(|owner| owner.replace(Arc::as_ptr(shared)));
        InstalledCore {
            shared: shared.clone(),
            previous_core,
            previous_owner,
            uninstalled: false,
            _driving: corium_reactor::enter_driving(),
        }
    }

    fn take(&mut self) -> Option<Box<Core>> {
        if std::mem::replace(&mut self.uninstalled, true) {
            return None;
        }
        let core = CORE
            .try_with(|slot| {
                let mut slot = slot.borrow_mut();
                let core = slot.take();
                *slot = self.previous_core.take();
                core
            })
            .ok()
            .flatten();
        let _ = CORE_OWNER.try_with(|owner| owner.set(self.previous_owner));
        core
    }

    fn uninstall(mut self) -> Box<Core> {
        self.take().expect("core installed")
    }
}

impl Drop for InstalledCore {
    /// Reached when a drive unwinds (the `block_on` future panicked): the
    /// core goes back to the runtime, which stays usable, as tokio's does.
    fn drop(&mut self) {
        if let Some(core) = self.take() {
            self.shared.return_core(core);
        }
    }
}

/// The waker of a `block_on` future.
struct BlockOnSignal {
    woken: AtomicBool,
    reactor: corium_reactor::Handle,
    thread: Thread,
}

impl Wake for BlockOnSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Release);
        self.reactor.unpark();
        self.thread.unpark();
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread")
            .field("reactor", &self.reactor)
            .field("shutdown", &self.shutdown.load(Acquire))
            .finish_non_exhaustive()
    }
}
