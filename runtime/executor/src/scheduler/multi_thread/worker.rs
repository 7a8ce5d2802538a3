//! A worker: the loop that runs tasks, steals, sleeps (in the shared I/O
//! reactor or its own), and the thread-local through which wakes on a
//! worker reach its queue.
//!
//! The `Core` (run queue, reactor) sits in a `RefCell` in the worker's
//! context and is borrowed only for a moment at a time: a task is taken
//! out, the borrow ends, the task runs, and a wake during that poll borrows
//! the core again to queue the woken task locally without a lock.
//! `block_in_place` takes the core away and starts a new thread on it; the
//! old thread finishes its poll and stops.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corium_reactor::coop;

use super::queue;
use super::Shared;
use crate::task::Notified;

/// Ticks between two non-blocking looks at the reactor (tokio's figure).
const EVENT_INTERVAL: u32 = 61;
/// Ticks between two looks at the inject queue first (tokio's figure).
const INJECT_INTERVAL: u32 = 31;
/// LIFO tasks run in a row before the queue gets a turn.
const MAX_LIFO_POLLS: usize = 3;
/// How often the watching sleeper looks at the other workers' LIFO slots
/// (see `Shared::watch_for`): a worker that started no poll in that time
/// is stuck in one, and the task in its LIFO slot is taken.
const LIFO_RECHECK: Duration = Duration::from_millis(1);
/// How long a worker sleeps apart from the shared I/O reactor before it
/// tries that reactor again, unless a worker waits there (`io_watch.rs`):
/// the longest the runtime's sockets go unwatched while every worker that
/// is awake is stuck in a poll.
const IO_RECHECK: Duration = Duration::from_millis(10);
/// Most tasks moved from the inject queue to the run queue at once.
const INJECT_BATCH: usize = 32;
/// A wait on the shared I/O reactor that queues more tasks than this wakes
/// a sleeper to share them at once; a smaller batch first runs here for up
/// to `SHARE_AFTER` (see `keep_batch`).
const SHARE_AT_ONCE: usize = 16;
/// How long a small batch from a reactor turn runs on its own worker
/// before a sleeper is woken to share what is left of it.
const SHARE_AFTER: Duration = Duration::from_micros(50);

/// A worker's own state, owned by the thread running it.
pub(crate) struct Core {
    index: usize,
    run_queue: queue::Local<Notified>,
    /// Set while this worker turns a reactor: wakes then wait for the
    /// turn's end to wake other workers (`after_turn`), once for the batch.
    turning: bool,
    /// When a small batch from a reactor turn started running here without
    /// waking a sleeper to share it (`keep_batch`, `share_late`).
    unshared_since: Option<Instant>,
    /// Whether this worker already slept apart from the shared I/O reactor
    /// for `IO_RECHECK` in this park (its next sleep there may be deep).
    io_rechecked: bool,
    /// Polls each worker had started at this worker's last look, to tell
    /// a stalled worker (see `poll_stalled_reactors`).
    last_polls: Vec<u32>,
    /// The stalled workers of the last look (kept to reuse its memory).
    stalled: Vec<usize>,
    /// Events and wakers of looks at other workers' reactors.
    poll_buffer: Option<corium_reactor::PollBuffer>,
    tick: u32,
    is_searching: bool,
    rand: u32,
}

impl Core {
    pub(super) fn new(
        index: usize,
        run_queue: queue::Local<Notified>,
        workers: usize,
        poll_buffer: corium_reactor::PollBuffer,
    ) -> Box<Core> {
        Box::new(Core {
            index,
            run_queue,
            turning: false,
            unshared_since: None,
            io_rechecked: false,
            last_polls: vec![0; workers],
            stalled: Vec::with_capacity(workers),
            poll_buffer: Some(poll_buffer),
            tick: 0,
            is_searching: false,
            rand: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
        })
    }

    fn next_task(&mut self, shared: &Shared) -> Option<Notified> {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % INJECT_INTERVAL == 0 {
            if let Some(task) = self.pop_inject(shared) {
                return Some(task);
            }
        }
        self.run_queue
            .pop()
            .or_else(|| shared.remotes[self.index].lifo.take())
            .or_else(|| self.pop_inject(shared))
    }

    /// Takes a batch from the inject queue: one to run, the rest queued
    /// here (never more than fit, so no overflow goes back to it).
    fn pop_inject(&mut self, shared: &Shared) -> Option<Notified> {
        let room = self.run_queue.remaining_slots().min(INJECT_BATCH);
        let share = shared.inject.len.load(Relaxed) / shared.remotes.len() + 1;
        let run_queue = &mut self.run_queue;
        shared.inject.pop_batch(share.min(room + 1), |task| {
            run_queue.push_back(std::iter::once(task));
        })
    }

    /// Looks for work on the other workers: half of a run queue, then the
    /// inject queue.
    fn steal_work(&mut self, shared: &Shared) -> Option<Notified> {
        if !self.is_searching {
            self.is_searching = shared.idle.transition_worker_to_searching();
        }
        if !self.is_searching {
            return None;
        }
        let n = shared.remotes.len();
        let start = self.next_rand() as usize % n;
        let victims = (0..n).map(|i| (start + i) % n).filter(|&v| v != self.index);
        for victim in victims {
            if let Some(task) = shared.remotes[victim].steal.steal_into(&mut self.run_queue) {
                return Some(task);
            }
        }
        // LIFO slots are left alone here: a task there runs next on its
        // own worker, and taking it would bounce a message-passing pair
        // between threads. Only a stuck worker's slot is taken (`park`).
        self.pop_inject(shared)
    }

    /// Queues a task woken on this worker: into the LIFO slot (it runs
    /// next) when the running task woke it, else at the back of the queue:
    /// a task that yielded, and the tasks a reactor turn wakes (they are a
    /// batch, and the queue is where other workers can steal from it;
    /// searching workers leave LIFO slots alone).
    fn schedule_local(&mut self, shared: &Shared, task: Notified, is_yield: bool) {
        let displaced = if is_yield || self.turning {
            Some(task)
        } else {
            // Woken by the running task, which may yet block its thread:
            // make sure a sleeper keeps an eye on the slot.
            shared.request_watcher();
            shared.remotes[self.index].lifo.replace(task)
        };
        if let Some(task) = displaced {
            self.push_back(shared, task);
        }
    }

    /// Queues `task` where other workers can steal it, waking one if none
    /// is looking. Inside a reactor turn the wake waits for the turn's end
    /// (`after_turn`): one for the whole batch.
    fn push_back(&mut self, shared: &Shared, task: Notified) {
        self.run_queue.push_back_or_overflow(task, &shared.inject);
        if !self.turning {
            shared.notify_parked();
        }
    }

    /// Records when an unshared batch began (`None`: none now), and marks
    /// it for the other workers (`Shared::should_watch`).
    fn set_unshared(&mut self, shared: &Shared, since: Option<Instant>) {
        if self.unshared_since.is_some() != since.is_some() {
            shared.remotes[self.index]
                .unshared
                .store(since.is_some(), Relaxed);
        }
        self.unshared_since = since;
    }

    /// Tasks queued here, the LIFO slot included.
    fn queued(&self, shared: &Shared) -> usize {
        self.run_queue.len() + usize::from(shared.remotes[self.index].lifo.is_occupied())
    }

    /// Whether this worker holds more than it will run next, with nobody
    /// searching on its behalf.
    fn should_notify_others(&self, shared: &Shared) -> bool {
        !self.is_searching && self.queued(shared) > 1
    }

    fn next_rand(&mut self) -> u32 {
        // xorshift32: only spreads the first victim of each search.
        self.rand ^= self.rand << 13;
        self.rand ^= self.rand >> 17;
        self.rand ^= self.rand << 5;
        self.rand
    }

    /// Gives up the queues at shutdown: only references are dropped here;
    /// the owned list cancels the futures.
    fn shut_down(mut self: Box<Self>, shared: &Shared) {
        drop(shared.remotes[self.index].lifo.take());
        while let Some(task) = self.run_queue.pop() {
            drop(task);
        }
        shared.cores.lock().push(self);
    }
}

/// What a worker thread shares with the wakes that happen on it.
struct WorkerContext {
    shared: Arc<Shared>,
    core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    /// The context of the worker running on this thread, if any.
    static WORKER: Cell<*const WorkerContext> = const { Cell::new(ptr::null()) };
}

fn with_worker<R>(f: impl FnOnce(&WorkerContext) -> R) -> Option<R> {
    let context = WORKER.try_with(Cell::get).ok()?;
    if context.is_null() {
        return None;
    }
    // SAFETY: `run` points `WORKER` at a context on its own stack and
    // resets it before that frame ends, so a non-null pointer is live.
    Some(f(unsafe { &*context }))
}

/// The worker thread's body: runs `core` until shutdown (or until
/// `block_in_place` takes the core to another thread).
pub(super) fn run(shared: &Arc<Shared>, core: Box<Core>) {
    let index = core.index;
    let context = WorkerContext {
        shared: shared.clone(),
        core: RefCell::new(Some(core)),
    };
    let handle = crate::runtime::Handle {
        inner: crate::scheduler::Handle::MultiThread(shared.clone()),
    };
    let _runtime = handle.enter_owned();
    let _reactor = shared.remotes[index].reactor.enter();
    let _driving = corium_reactor::enter_driving();
    // A task that calls `block_on` here would stall this worker's queue.
    let _no_block_on = crate::scheduler::BlockOnGuard::enter();
    let previous = WORKER.with(|w| w.replace(&context));
    let _reset = ResetWorker(previous);
    context.run();
    let core = context.core.borrow_mut().take();
    if let Some(core) = core {
        core.shut_down(shared);
    }
}

struct ResetWorker(*const WorkerContext);

impl Drop for ResetWorker {
    fn drop(&mut self) {
        let _ = WORKER.try_with(|w| w.set(self.0));
    }
}

impl WorkerContext {
    /// Runs `f` on the core, if this thread still has it.
    fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
        self.core.borrow_mut().as_mut().map(|core| f(core))
    }

    fn run(&self) {
        let shared = &*self.shared;
        while !shared.is_shutdown() {
            let Some((task, tick)) = self.with_core(|core| (core.next_task(shared), core.tick))
            else {
                return; // block_in_place took the core
            };
            if tick % EVENT_INTERVAL == 0 {
                let drove_io = self.turn(Some(Duration::ZERO));
                self.poll_stalled_reactors(drove_io);
                self.after_turn();
            }
            if let Some(task) = task {
                self.run_task(task);
                self.share_late();
            } else if let Some(task) = self.with_core(|core| core.steal_work(shared)).flatten() {
                self.run_task(task);
                self.share_late();
            } else {
                self.park();
            }
        }
    }

    /// Runs `task`, then the tasks it woke into the LIFO slot, a few in a
    /// row and within one budget.
    fn run_task(&self, task: Notified) {
        let shared = &*self.shared;
        let was_searching = self.with_core(|core| std::mem::take(&mut core.is_searching));
        if was_searching == Some(true) && shared.idle.transition_worker_from_searching() {
            // The last searcher found work: more may have come meanwhile.
            shared.notify_parked();
        }
        coop::budget(|| {
            self.poll(task);
            for _ in 0..MAX_LIFO_POLLS {
                let Some(next) = self
                    .with_core(|core| shared.remotes[core.index].lifo.take())
                    .flatten()
                else {
                    return;
                };
                if !coop::has_budget_remaining() {
                    self.with_core(|core| core.push_back(shared, next));
                    return;
                }
                self.poll(next);
            }
            // The chain ends here so the queue gets its turn.
            self.with_core(|core| {
                if let Some(next) = shared.remotes[core.index].lifo.take() {
                    core.push_back(shared, next);
                }
            });
        });
    }

    fn poll(&self, task: Notified) {
        self.with_core(|core| {
            let polls = &self.shared.remotes[core.index].polls;
            polls.store(polls.load(Relaxed).wrapping_add(1), Relaxed);
        });
        task.run();
    }

    /// Turns this worker's reactor, waiting up to `timeout`: through the
    /// shared I/O reactor when the runtime has one and nobody turns it
    /// (see `SharedIo`), else alone. Returns whether it turned the shared
    /// I/O reactor.
    fn turn(&self, timeout: Option<Duration>) -> bool {
        let Some(index) = self.with_core(|core| core.index) else {
            return false;
        };
        let shared = &*self.shared;
        let mut driver = shared.remotes[index].driver.lock();
        let Some(reactor) = driver.as_mut() else {
            return false;
        };
        self.with_core(|core| core.turning = true);
        let (turned, drove_io) = match &shared.io {
            None => (reactor.park(timeout), false),
            Some(io) => self.park_with_shared_io(reactor, io, index, timeout),
        };
        // An error here is a broken poller (EBADF and the like); the
        // runtime cannot recover from that, and hiding it would spin.
        if let Err(e) = turned {
            panic!("corium: the reactor failed to wait for events: {e}");
        }
        self.with_core(|core| core.turning = false);
        drove_io
    }

    /// Parks worker `me` (whose reactor is `reactor`) on a runtime whose
    /// workers share `io`: waiting on `io` if nobody holds it, else apart
    /// in its own reactor for as long as `io_watch.rs` allows. Says
    /// whether it waited on `io`.
    fn park_with_shared_io(
        &self,
        reactor: &mut corium_reactor::Reactor,
        io: &super::SharedIo,
        me: usize,
        timeout: Option<Duration>,
    ) -> (std::io::Result<usize>, bool) {
        let Some(mut io_driver) = io.driver.try_lock() else {
            let turned = reactor.park(self.apart_wait(io, me, timeout));
            io.watch.woke(me);
            return (turned, false);
        };
        let Some(io_reactor) = io_driver.as_mut() else {
            return (reactor.park(timeout), false); // shut down
        };
        let waits = timeout != Some(Duration::ZERO);
        if waits {
            io.watch.begin_wait();
        }
        let turned = reactor.park_driving(io_reactor, timeout);
        drop(io_driver);
        self.keep_batch();
        if waits {
            let remotes = &self.shared.remotes;
            io.watch.end_wait(|i| remotes[i].reactor.unpark());
        }
        (turned, true)
    }

    /// How long to sleep apart from the shared I/O reactor, which another
    /// worker holds: `IO_RECHECK` at first, then `timeout` if a worker
    /// waits there and will wake this one when it leaves (`io_watch.rs`).
    fn apart_wait(
        &self,
        io: &super::SharedIo,
        me: usize,
        timeout: Option<Duration>,
    ) -> Option<Duration> {
        if timeout == Some(Duration::ZERO) {
            return timeout;
        }
        let rechecked = self
            .with_core(|core| std::mem::replace(&mut core.io_rechecked, true))
            .unwrap_or(false);
        if rechecked && io.watch.sleep_deep(me) {
            return timeout;
        }
        Some(timeout.map_or(IO_RECHECK, |t| t.min(IO_RECHECK)))
    }

    /// Notes in `core.stalled` the other workers that started no poll
    /// since this one last looked: each is asleep, or its thread is stalled
    /// (the OS runs something else there, or a poll blocks).
    fn find_stalled(&self) {
        let remotes = &self.shared.remotes;
        self.with_core(|core| {
            core.stalled.clear();
            for (i, remote) in remotes.iter().enumerate() {
                let polls = remote.polls.load(Relaxed);
                if i != core.index && core.last_polls[i] == polls {
                    core.stalled.push(i);
                }
                core.last_polls[i] = polls;
            }
        });
    }

    /// Looks, without waiting, at the sockets of every stalled worker
    /// (`find_stalled`): in its own reactor, or in the shared one if the
    /// workers share one. Their ready sockets' tasks come to this worker
    /// instead of waiting for that one (`corium_reactor::Handle::poll_now`);
    /// this is what keeps a descheduled worker's connections moving when
    /// the cores are shared with other programs. `drove_io`: this worker
    /// has just turned the shared I/O reactor itself, so a look at it would
    /// find nothing new (one `epoll_wait` saved per maintenance).
    fn poll_stalled_reactors(&self, drove_io: bool) {
        self.find_stalled();
        let shared = &*self.shared;
        let looks = self.with_core(|core| {
            if core.stalled.is_empty() || drove_io {
                return None;
            }
            let buffer = core.poll_buffer.take()?;
            core.turning = true;
            Some((std::mem::take(&mut core.stalled), buffer))
        });
        let Some((stalled, mut buffer)) = looks.flatten() else {
            return;
        };
        // Outside the core's borrow: the looks wake tasks onto this core.
        match &shared.io {
            Some(io) => {
                io.handle.poll_now(&mut buffer);
            }
            None => {
                for &i in &stalled {
                    shared.remotes[i].reactor.poll_now(&mut buffer);
                }
            }
        }
        self.with_core(|core| {
            core.turning = false;
            core.stalled = stalled;
            core.poll_buffer = Some(buffer);
        });
    }

    /// After a turn: if the wakes brought more work than this worker will
    /// run next, wake a sleeper to share it, unless `keep_batch` kept it
    /// here for now.
    fn after_turn(&self) {
        let shared = &*self.shared;
        let notify = self
            .with_core(|core| core.should_notify_others(shared) && core.unshared_since.is_none());
        if notify == Some(true) {
            shared.notify_parked();
        }
    }

    /// Right after a wait on the shared I/O reactor, before the workers
    /// asleep apart are woken (`io_watch.rs`): keeps a batch of 2 to
    /// `SHARE_AT_ONCE` woken tasks here rather than wake a sleeper to share
    /// it at once (tokio's rule, still used for bigger batches and for turns
    /// of a worker's own reactor). Most batches of a busy server are a few
    /// short polls, and waking a sleeper for them costs more CPU (a wakeup,
    /// a context switch, a steal) than running them here. A batch still
    /// here after `SHARE_AFTER` is shared between two polls (`share_late`).
    /// A poll that blocks its thread is covered by the mark this sets:
    /// every worker asleep apart is woken now (or within `IO_RECHECK`) and
    /// sees it, sleeps at most `LIFO_RECHECK` while it stands, and takes a
    /// stuck worker's work (`park`, `take_stuck_work`).
    fn keep_batch(&self) {
        let shared = &*self.shared;
        self.with_core(|core| {
            if core.unshared_since.is_none()
                && core.should_notify_others(shared)
                && core.queued(shared) <= SHARE_AT_ONCE
            {
                core.set_unshared(shared, Some(Instant::now()));
            }
        });
    }

    /// Between two polls: wakes a sleeper to share the rest of a batch
    /// `keep_batch` kept here, once it has run here for `SHARE_AFTER`.
    fn share_late(&self) {
        let shared = &*self.shared;
        let notify = self.with_core(|core| {
            let since = core.unshared_since?;
            if core.queued(shared) <= 1 || core.is_searching {
                core.set_unshared(shared, None);
                return None;
            }
            (since.elapsed() >= SHARE_AFTER).then(|| core.set_unshared(shared, None))
        });
        if notify.flatten().is_some() {
            shared.notify_parked();
        }
    }

    /// Sleeps in this worker's reactor until its own I/O or timers, a
    /// notification (rule 1 of `idle.rs`) or shutdown.
    fn park(&self) {
        let shared = &*self.shared;
        let Some((index, was_searching)) =
            self.with_core(|core| (core.index, std::mem::take(&mut core.is_searching)))
        else {
            return;
        };
        if shared
            .idle
            .transition_worker_to_parked(index, was_searching)
            && shared.has_work_elsewhere(index)
        {
            // Rule 4: the last searcher looks once more (this may wake
            // this very worker, which then searches).
            shared.notify_parked();
        }
        if let Some(hook) = &shared.config.on_thread_park {
            hook();
        }
        self.with_core(|core| core.io_rechecked = false);
        loop {
            if shared.is_shutdown() {
                break;
            }
            let has_work = self
                .with_core(|core| !core.run_queue.is_empty())
                .unwrap_or(false)
                || shared.remotes[index].lifo.is_occupied()
                || !shared.inject.is_empty();
            if has_work {
                let searching = !shared.idle.unpark_worker_by_id(index);
                self.with_core(|core| core.is_searching = searching);
                break;
            }
            if !shared.idle.is_parked(index) {
                // Woken to search (rule 1).
                self.with_core(|core| core.is_searching = true);
                break;
            }
            if !shared.should_watch(index) {
                self.turn(None);
                continue;
            }
            self.find_stalled(); // the look the next one compares with
            let drove_io = self.turn(Some(LIFO_RECHECK));
            self.poll_stalled_reactors(drove_io);
            if let Some(task) = self.take_stuck_work() {
                // Run it here, next: this worker leaves its sleep with it.
                self.with_core(|core| core.schedule_local(shared, task, false));
                let searching = !shared.idle.unpark_worker_by_id(index);
                self.with_core(|core| core.is_searching = searching);
                break;
            }
        }
        shared.stop_watching(index);
        if let Some(hook) = &shared.config.on_thread_unpark {
            hook();
        }
        self.after_turn();
    }

    /// The work of a worker `find_stalled` found stuck, a `LIFO_RECHECK`
    /// after the look before: its LIFO task, else half of its run queue,
    /// moves here rather than wait for that worker's poll to end.
    fn take_stuck_work(&self) -> Option<Notified> {
        let remotes = &self.shared.remotes;
        self.with_core(|core| {
            let Core {
                stalled, run_queue, ..
            } = core;
            stalled.iter().find_map(|&i| {
                remotes[i]
                    .lifo
                    .take()
                    .or_else(|| remotes[i].steal.steal_into(run_queue))
            })
        })
        .flatten()
    }
}

/// Queues a woken task: on this worker's own queue when the wake happens
/// on one of `shared`'s workers, else on the inject queue.
pub(super) fn schedule(shared: &Arc<Shared>, task: Notified, is_yield: bool) {
    let mut task = Some(task);
    with_worker(|context| {
        if !ptr::eq(Arc::as_ptr(&context.shared), Arc::as_ptr(shared)) {
            return;
        }
        let Ok(mut slot) = context.core.try_borrow_mut() else {
            return;
        };
        if let Some(core) = slot.as_mut() {
            let task = task.take().expect("scheduled once");
            core.schedule_local(shared, task, is_yield);
        }
    });
    if let Some(task) = task {
        shared.push_remote(task);
    }
}

/// The outcome of [`hand_off_core`].
pub(crate) enum HandOff {
    /// Another thread runs the queue now; this one is not driving, and may
    /// `block_on`, while the guards live.
    Done(corium_reactor::DrivingGuard, crate::scheduler::AllowBlockOn),
    /// No new thread could start: the queue stays, and waits.
    Failed,
    /// This thread is no multi-thread worker holding a core.
    NotAWorker,
}

/// `block_in_place`'s first half: the worker's core (run queue and
/// reactor) moves to a new thread, so that the blocking code about to run
/// on this one stalls nothing else.
pub(crate) fn hand_off_core() -> HandOff {
    let outcome = with_worker(|context| {
        let Some(core) = context
            .core
            .try_borrow_mut()
            .ok()
            .and_then(|mut c| c.take())
        else {
            return HandOff::NotAWorker;
        };
        match context.shared.start_worker(core) {
            Ok(()) => HandOff::Done(
                corium_reactor::exit_driving(),
                crate::scheduler::AllowBlockOn::new(),
            ),
            Err((_, core)) => {
                *context.core.borrow_mut() = Some(core);
                HandOff::Failed
            }
        }
    });
    outcome.unwrap_or(HandOff::NotAWorker)
}
