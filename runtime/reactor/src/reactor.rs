//! `Reactor`, the driver turned by one thread, and `Handle`, its clonable
//! face.
//!
//! A turn waits on the event demultiplexer until an event, a wakeup or the
//! earliest timer deadline, then dispatches: each event sets readiness on its
//! registration and each expired timer is marked fired; the wakers found are
//! woken after every lock is released (a waker may drop a task whose output
//! holds a socket, whose drop locks the registrations again).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::AcqRel, Ordering::Acquire};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use slab::Slab;

use crate::context::{self, EnterGuard, TryCurrentError, NO_RUNTIME};
use crate::io::scheduled::ScheduledIo;
use crate::sys::{Backend, Events, Selector};
use crate::time::clock::Clock;
use crate::time::wheel::Wheel;

/// Bits of a poller key that hold the slab index; the rest (but the top
/// bit, so no key collides with the backends' reserved keys) hold the
/// generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: usize = (1 << (usize::BITS - INDEX_BITS - 1)) - 1;

/// Park states: see [`Reactor::park`].
const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;
/// Parked in the group's shared I/O reactor (see [`Reactor::park_driving`]):
/// a wakeup goes to that reactor's demultiplexer.
const PARKED_ON_IO: u8 = 3;

/// A closure to run on the blocking pool (see [`Handle::spawn_blocking`]).
pub type BlockingJob = Box<dyn FnOnce() + Send>;
type BlockingSpawner = Box<dyn Fn(BlockingJob) + Send + Sync>;

pub(crate) struct Shared {
    pub(crate) selector: Selector,
    registrations: Mutex<Registrations>,
    pub(crate) wheel: Mutex<Wheel>,
    pub(crate) clock: Clock,
    park: AtomicU8,
    shutdown: AtomicBool,
    blocking: OnceLock<BlockingSpawner>,
    /// The reactors of one multi-thread runtime (see [`Handle::link_group`]).
    group: OnceLock<Group>,
    /// Whether this reactor watches the signal pipe (see `signal`).
    signals_watched: AtomicBool,
}

/// The sibling reactors of a multi-thread runtime, one per worker. Weak, so
/// that the reactors do not keep each other alive.
struct Group {
    members: Vec<std::sync::Weak<Shared>>,
    /// Where this reactor's next balanced registration goes. Each reactor
    /// has its own cursor, so accepting threads share no counter.
    next: std::sync::atomic::AtomicUsize,
    /// The one reactor every I/O source of the runtime registers with, when
    /// the workers share one (see [`Handle::link_shared_io`]); the members
    /// then keep only their timers and wakeups.
    io: Option<Arc<Shared>>,
}

impl Shared {
    /// True for the one caller that is to make this reactor watch the
    /// signal pipe.
    pub(crate) fn claim_signal_watch(&self) -> bool {
        !self.signals_watched.swap(true, AcqRel)
    }

    /// Undoes a claim whose watch could not be set up.
    pub(crate) fn release_signal_watch(&self) {
        self.signals_watched
            .store(false, std::sync::atomic::Ordering::Release);
    }

    /// Enters a park in `state` (`PARKED` or `PARKED_ON_IO`); false if a
    /// wakeup was pending, which is consumed: the caller then only looks,
    /// without blocking.
    fn enter_park(&self, state: u8) -> bool {
        if self
            .park
            .compare_exchange(EMPTY, state, AcqRel, Acquire)
            .is_ok()
        {
            return true;
        }
        self.park.store(EMPTY, std::sync::atomic::Ordering::Release);
        false
    }

    /// Sets readiness from `events` and collects the wakers to wake.
    fn dispatch_io(&self, events: &Events, wakers: &mut Vec<Waker>) {
        let selector = &self.selector;
        let rearm = selector.needs_rearm();
        let registrations = self.registrations.lock();
        events.for_each(|key, ready| {
            let Some(io) = registrations.dispatch(key, ready, wakers) else {
                return;
            };
            // A oneshot registration is disarmed by its event; a task still
            // waiting in a direction this event did not satisfy needs it
            // armed again, for that direction only (arming a direction that
            // is ready would fire at once, forever).
            if rearm {
                let (read, write) = io.waiting();
                if read || write {
                    // SAFETY: `io` is in the slab, so its fd is open
                    // (`ScheduledIo::fd`'s invariant).
                    let fd = unsafe { BorrowedFd::borrow_raw(io.fd) };
                    // A failed re-arm leaves the waiter to its timeout or
                    // the next poll, which re-arms and reports the error.
                    let _ = selector.rearm(fd, key, read, write);
                }
            }
        });
    }
}

#[derive(Default)]
struct Registrations {
    slab: Slab<Arc<ScheduledIo>>,
    next_generation: usize,
}

/// The I/O and timer driver. Exactly one thread turns it at a time (it is
/// `Send` but its methods take `&mut self`); everything else talks to it
/// through a [`Handle`].
pub struct Reactor {
    shared: Arc<Shared>,
    events: Events,
    wakers: Vec<Waker>,
}

/// The events and wakers of [`Handle::poll_now`], kept by the polling
/// thread so that a look allocates nothing.
pub struct PollBuffer {
    events: Events,
    wakers: Vec<Waker>,
}

impl fmt::Debug for PollBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollBuffer").finish_non_exhaustive()
    }
}

/// A cheap, clonable reference to a [`Reactor`]: what registrations, timers
/// and other threads hold.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Registrations {
    /// Records an event; returns the registration it was for, unless the
    /// event is stale (its slot was freed, and maybe reused, since).
    fn dispatch(
        &self,
        key: usize,
        ready: crate::io::Ready,
        wakers: &mut Vec<Waker>,
    ) -> Option<&Arc<ScheduledIo>> {
        let (index, generation) = (key & INDEX_MASK, key >> INDEX_BITS);
        let io = self
            .slab
            .get(index)
            .filter(|io| io.generation == generation)?;
        io.dispatch(ready, wakers);
        Some(io)
    }
}

impl Reactor {
    /// A reactor on the best backend for this platform.
    pub fn new() -> io::Result<Reactor> {
        Reactor::with_backend(Backend::Auto)
    }

    /// A reactor on the given backend (tests use this to run the portable
    /// path on Linux).
    pub fn with_backend(backend: Backend) -> io::Result<Reactor> {
        let (selector, events) = Selector::new(backend)?;
        let shared = Arc::new(Shared {
            selector,
            registrations: Mutex::new(Registrations::default()),
            wheel: Mutex::new(Wheel::default()),
            clock: Clock::new(),
            park: AtomicU8::new(EMPTY),
            shutdown: AtomicBool::new(false),
            blocking: OnceLock::new(),
            group: OnceLock::new(),
            signals_watched: AtomicBool::new(false),
        });
        Ok(Reactor {
            shared,
            events,
            wakers: Vec::new(),
        })
    }

    /// A handle to this reactor.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// Waits for I/O events, a wakeup from [`Handle::unpark`], the earliest
    /// timer deadline or `max_wait` (`None`: no bound), whichever comes
    /// first, and wakes the tasks concerned. Returns how many were woken.
    ///
    /// A wakeup sent while the reactor was not parked makes the next park
    /// return at once, so no wakeup is lost; many wakeups while parked cost
    /// one `eventfd` write.
    pub fn park(&mut self, max_wait: Option<Duration>) -> io::Result<usize> {
        if !self.shared.enter_park(PARKED) {
            return self.turn(Some(Duration::ZERO));
        }
        let result = self.turn(max_wait);
        self.shared.park.swap(EMPTY, AcqRel);
        result
    }

    /// Parks as [`park`](Self::park) does, but waits on `io`'s
    /// demultiplexer: the I/O reactor a multi-thread runtime's workers
    /// share (see [`Handle::link_shared_io`]), turned by whichever worker
    /// parks first. This reactor's timers bound the wait and fire after
    /// it, and a wakeup from [`Handle::unpark`] or an earlier timer reaches
    /// the wait through `io`. `io` must be this reactor's group's shared
    /// reactor, or those wakeups would go elsewhere.
    pub fn park_driving(
        &mut self,
        io: &mut Reactor,
        max_wait: Option<Duration>,
    ) -> io::Result<usize> {
        let parked = self.shared.enter_park(PARKED_ON_IO);
        let max_wait = if parked {
            max_wait
        } else {
            Some(Duration::ZERO)
        };
        let timeout = min_wait(max_wait, self.until_next_timer());
        let waited = io.shared.selector.wait(&mut io.events, timeout);
        if parked {
            self.shared.park.swap(EMPTY, AcqRel);
        }
        waited?;
        io.dispatch_io();
        self.collect_expired_timers();
        Ok(io.wake_all() + self.wake_all())
    }

    /// One wait and dispatch, without the unpark protocol of [`Reactor::park`]
    /// (a wakeup still interrupts the wait).
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<usize> {
        let timeout = min_wait(max_wait, self.until_next_timer());
        self.shared.selector.wait(&mut self.events, timeout)?;
        self.dispatch_io();
        self.collect_expired_timers();
        Ok(self.wake_all())
    }

    /// Fires the timers due now without waiting; returns how many woke.
    pub fn fire_timers(&mut self) -> usize {
        self.collect_expired_timers();
        self.wake_all()
    }

    /// The deadline of the earliest pending timer, if any.
    pub fn next_timer(&self) -> Option<Instant> {
        let ns = self.shared.wheel.lock().next_deadline()?;
        Some(self.shared.clock.instant_at_ns(ns))
    }

    /// Whether this reactor's clock is paused (see `time::pause`).
    pub fn is_clock_paused(&self) -> bool {
        self.shared.clock.is_paused()
    }

    /// Moves a paused clock forward to `to` (auto-advance of an idle runtime).
    pub fn advance_clock_to(&self, to: Instant) {
        self.shared.clock.advance_to(to);
    }

    /// The time to the earliest timer, recording it as the end of the wait
    /// (see `Handle::wake_for_timer`).
    fn until_next_timer(&self) -> Option<Duration> {
        if self.shared.clock.is_paused() {
            // Paused time does not pass while we wait; the executor advances it.
            self.shared.wheel.lock().wait_until = u64::MAX;
            return None;
        }
        let deadline = {
            let mut wheel = self.shared.wheel.lock();
            wheel.wait_until = wheel.next_deadline().unwrap_or(u64::MAX);
            wheel.wait_until
        };
        if deadline == u64::MAX {
            return None;
        }
        Some(Duration::from_nanos(
            deadline.saturating_sub(self.shared.clock.now_ns()),
        ))
    }

    fn dispatch_io(&mut self) {
        self.shared.dispatch_io(&self.events, &mut self.wakers);
    }

    fn collect_expired_timers(&mut self) {
        let now = self.shared.clock.now_ns();
        self.shared.wheel.lock().process(now, &mut self.wakers);
    }

    fn wake_all(&mut self) -> usize {
        let n = self.wakers.len();
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
        n
    }
}

/// The shorter of two optional waits (`None`: no bound).
fn min_wait(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Drop for Reactor {
    /// Shuts down: every waiting socket task and timer is woken; sockets
    /// then report an error and timers complete, so no task waits forever
    /// on a reactor that is gone.
    fn drop(&mut self) {
        self.shared
            .shutdown
            .store(true, std::sync::atomic::Ordering::Release);
        for (_, io) in self.shared.registrations.lock().slab.iter() {
            io.shutdown(&mut self.wakers);
        }
        self.shared.wheel.lock().fire_all(&mut self.wakers);
        self.wake_all();
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("backend", &self.shared.selector.name())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The reactor of the runtime entered on this thread.
    ///
    /// # Panics
    /// Outside a runtime, with a message saying how to enter one.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => panic!("{NO_RUNTIME}"),
        }
    }

    /// The reactor of the runtime entered on this thread, or an error.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(Handle::clone)
    }

    /// Makes this reactor current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard {
        context::enter(self.clone())
    }

    /// Wakes the thread parked in [`Reactor::park`], or makes its next park
    /// return at once. Cheap when called often: only the first call after
    /// the reactor parks writes to the kernel.
    pub fn unpark(&self) {
        // A failed notify leaves the reactor to its timeout; there is no
        // caller that could do better with the error.
        match self.shared.park.swap(NOTIFIED, AcqRel) {
            PARKED => {
                let _ = self.shared.selector.notify();
            }
            PARKED_ON_IO => {
                if let Some(io) = self.shared_io() {
                    let _ = io.selector.notify();
                }
            }
            _ => {}
        }
    }

    /// The group's shared I/O reactor, if the group has one.
    fn shared_io(&self) -> Option<&Arc<Shared>> {
        self.shared.group.get().and_then(|group| group.io.as_ref())
    }

    /// The reactor an I/O source registered through this handle goes to:
    /// the group's shared I/O reactor if it has one, else this one.
    pub(crate) fn io_home(&self) -> Handle {
        let shared = self.shared_io().unwrap_or(&self.shared);
        Handle {
            shared: shared.clone(),
        }
    }

    /// Called after a timer was set earlier than the reactor's current wait
    /// ends (`Wheel::is_before_wait`, under the wheel lock): wakes the
    /// reactor if it is parked, so it waits again with the new deadline. The
    /// reactor sets PARKED before it reads the wheel, so either it saw the
    /// timer or this sees PARKED. On the driving thread it is never parked,
    /// so registering a timer there costs no syscall.
    pub(crate) fn wake_for_timer(&self) {
        if matches!(self.shared.park.load(Acquire), PARKED | PARKED_ON_IO) {
            self.unpark();
        }
    }

    /// Links the reactors of one multi-thread runtime (one per worker), so
    /// that [`balanced`](Self::balanced) can spread connections over them.
    /// The executor calls this once when it builds the runtime; later calls
    /// are ignored.
    pub fn link_group(members: &[Handle]) {
        Handle::link(members, None);
    }

    /// Links the reactors of one multi-thread runtime that share one I/O
    /// reactor, `io`: every source registered through a member (a socket,
    /// the signal pipe) goes to `io`, and the members keep their own
    /// timers and wakeups. A worker parks with
    /// [`Reactor::park_driving`] when it holds `io`, else with
    /// [`Reactor::park`]. The executor calls this once when it builds
    /// the runtime; later calls are ignored.
    pub fn link_shared_io(members: &[Handle], io: &Handle) {
        Handle::link(members, Some(io));
    }

    fn link(members: &[Handle], io: Option<&Handle>) {
        for (index, member) in members.iter().enumerate() {
            let _ = member.shared.group.set(Group {
                members: members.iter().map(|m| Arc::downgrade(&m.shared)).collect(),
                next: std::sync::atomic::AtomicUsize::new(index),
                io: io.map(|io| io.shared.clone()),
            });
        }
    }

    /// The reactor a new connection should be registered with: the group's
    /// shared I/O reactor if it has one, else the next reactor of this
    /// one's group, in turn (this one itself when it has no group).
    /// Accepted connections are spread this way, as Netty and memcached
    /// spread theirs over their event loops; a task then runs where its
    /// socket's events arrive.
    pub fn balanced(&self) -> Handle {
        let Some(group) = self.shared.group.get() else {
            return self.clone();
        };
        if group.io.is_some() {
            return self.io_home();
        }
        let turn = group
            .next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let member = &group.members[turn % group.members.len()];
        member
            .upgrade()
            .map_or_else(|| self.clone(), |shared| Handle { shared })
    }

    /// A buffer for [`poll_now`](Self::poll_now) calls made by one thread.
    pub fn poll_buffer(&self) -> PollBuffer {
        PollBuffer {
            events: self.shared.selector.new_events(),
            wakers: Vec::new(),
        }
    }

    /// Looks at this reactor's I/O from a thread that does not drive it,
    /// without waiting, and wakes the tasks of the sockets that are ready;
    /// returns how many. For a multi-thread worker to serve the sockets of
    /// a worker that is not running (descheduled, asleep, or busy in a
    /// long poll). Timers stay with the reactor's own thread. On a backend
    /// that allows one waiter at a time it does nothing.
    ///
    /// A wakeup meant for the reactor's thread is passed on to it.
    pub fn poll_now(&self, buffer: &mut PollBuffer) -> usize {
        let shared = &self.shared;
        if !shared.selector.allows_concurrent_waits() || self.is_shutdown() {
            return 0;
        }
        if shared
            .selector
            .wait(&mut buffer.events, Some(Duration::ZERO))
            .is_err()
        {
            return 0; // the owner meets the error on its own turn
        }
        if buffer.events.has_wakeup() {
            let _ = shared.selector.notify();
        }
        shared.dispatch_io(&buffer.events, &mut buffer.wakers);
        let n = buffer.wakers.len();
        for waker in buffer.wakers.drain(..) {
            waker.wake();
        }
        n
    }

    /// Whether this reactor is one of a multi-thread runtime's group.
    pub(crate) fn is_grouped(&self) -> bool {
        self.shared.group.get().is_some()
    }

    /// Whether the reactor has shut down.
    pub fn is_shutdown(&self) -> bool {
        self.shared.shutdown.load(Acquire)
    }

    /// The name of the backend in use ("epoll", "polling (edge)", ...).
    pub fn backend_name(&self) -> &'static str {
        self.shared.selector.name()
    }

    /// Whether readiness events report read-closed, so that a short read may
    /// clear readiness without missing a FIN.
    pub fn reports_read_closed(&self) -> bool {
        self.shared.selector.reports_read_closed()
    }

    /// Whether this reactor's clock is paused (see `time::pause`).
    pub fn is_clock_paused(&self) -> bool {
        self.shared.clock.is_paused()
    }

    /// The current time on this reactor's clock (paused or real).
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// How many timers are registered on this reactor.
    pub fn num_timers(&self) -> usize {
        self.shared.wheel.lock().len()
    }

    /// Installs the closure that runs jobs on the executor's blocking pool.
    /// The executor calls this once when it builds a runtime; later calls
    /// are ignored.
    pub fn set_blocking_spawner(&self, spawner: impl Fn(BlockingJob) + Send + Sync + 'static) {
        let _ = self.shared.blocking.set(Box::new(spawner));
    }

    /// Runs `job` on the blocking pool of the runtime that owns this reactor
    /// (host-name resolution uses it, so it never blocks the reactor thread).
    pub fn spawn_blocking(&self, job: BlockingJob) -> io::Result<()> {
        match self.shared.blocking.get() {
            Some(spawn) => {
                spawn(job);
                Ok(())
            }
            None => Err(io::Error::other(
                "this reactor has no blocking pool: it was not built by a Corium runtime",
            )),
        }
    }

    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<(usize, Arc<ScheduledIo>)> {
        if self.is_shutdown() {
            return Err(gone());
        }
        let mut registrations = self.shared.registrations.lock();
        let generation = registrations.next_generation;
        registrations.next_generation = (generation + 1) & GENERATION_MASK;
        let entry = registrations.slab.vacant_entry();
        let index = entry.key();
        if index > INDEX_MASK {
            return Err(io::Error::other("too many registrations for one reactor"));
        }
        let io = Arc::new(ScheduledIo::new(generation, fd.as_raw_fd()));
        let key = index | (generation << INDEX_BITS);
        self.shared.selector.register(fd, key)?;
        entry.insert(io.clone());
        Ok((key, io))
    }

    pub(crate) fn deregister(&self, key: usize, io: &Arc<ScheduledIo>, fd: BorrowedFd<'_>) {
        // An error means the fd was already gone from the poller (closed
        // elsewhere through a duplicate); the slot must be freed regardless.
        let _ = self.shared.selector.deregister(fd);
        let mut registrations = self.shared.registrations.lock();
        let index = key & INDEX_MASK;
        if registrations
            .slab
            .get(index)
            .is_some_and(|slot| Arc::ptr_eq(slot, io))
        {
            registrations.slab.remove(index);
        }
    }

    #[cfg(test)]
    pub(crate) fn num_registrations(&self) -> usize {
        self.shared.registrations.lock().slab.len()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("backend", &self.shared.selector.name())
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

/// The error of an operation on a socket whose runtime has shut down.
pub(crate) fn gone() -> io::Error {
    io::Error::other(
        "the Corium runtime that owned this I/O source has shut down; \
         create the source inside a running runtime",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Ready, Registration};
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_stale_event_for_a_reused_slot_wakes_nobody() {
        let reactor = Reactor::new().unwrap();
        let handle = reactor.handle();
        let (a, _a_peer) = UnixStream::pair().unwrap();
        let first = Registration::with_handle(&handle, a).unwrap();
        let stale_key = first.key;
        drop(first);
        let (b, _b_peer) = UnixStream::pair().unwrap();
        let second = Registration::with_handle(&handle, b).unwrap();
        assert_eq!(
            stale_key & INDEX_MASK,
            second.key & INDEX_MASK,
            "slot reused"
        );
        assert_ne!(stale_key, second.key, "generation differs");
        assert_eq!(handle.num_registrations(), 1);

        let mut wakers = Vec::new();
        let registrations = handle.shared.registrations.lock();
        registrations.dispatch(stale_key, Ready::READ_CLOSED, &mut wakers);
        assert!(!second.readiness().is_read_closed(), "stale event ignored");
        registrations.dispatch(second.key, Ready::READ_CLOSED, &mut wakers);
        assert!(second.readiness().is_read_closed());
    }

    #[test]
    fn poll_now_from_another_thread_delivers_readiness() {
        use std::io::Write;
        let reactor = Reactor::new().unwrap();
        let handle = reactor.handle();
        let (a, mut peer) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let registration = Registration::with_handle(&handle, a).unwrap();
        peer.write_all(b"x").unwrap();
        let mut buffer = handle.poll_buffer();
        let looker = handle.clone();
        std::thread::spawn(move || looker.poll_now(&mut buffer))
            .join()
            .unwrap();
        assert!(
            registration.readiness().is_readable(),
            "the look set readiness"
        );
        drop(reactor);
    }

    #[test]
    fn poll_now_passes_a_wakeup_on_to_the_reactors_thread() {
        // A look that takes the wakeup meant for the parked thread must
        // give it back, or that thread sleeps through its unpark.
        for _ in 0..20 {
            let mut reactor = Reactor::new().unwrap();
            let handle = reactor.handle();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            let parked = std::thread::spawn(move || {
                reactor.park(None).unwrap();
                done_tx.send(()).unwrap();
                reactor
            });
            std::thread::sleep(Duration::from_millis(2));
            handle.unpark();
            let mut buffer = handle.poll_buffer();
            for _ in 0..50 {
                handle.poll_now(&mut buffer);
            }
            done_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("the parked thread woke");
            drop(parked.join().unwrap());
        }
    }

    /// A worker's reactor and the I/O reactor it shares with its group.
    fn shared_io_pair() -> (Reactor, Reactor) {
        let worker = Reactor::new().unwrap();
        let io = Reactor::new().unwrap();
        Handle::link_shared_io(&[worker.handle()], &io.handle());
        (worker, io)
    }

    #[test]
    fn an_unpark_reaches_a_worker_waiting_on_the_shared_io_reactor() {
        // The wakeup must go to the I/O reactor's eventfd while the worker
        // waits there, not to the worker's own, which nobody waits on.
        for _ in 0..20 {
            let (mut worker, mut io) = shared_io_pair();
            let handle = worker.handle();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            let parked = std::thread::spawn(move || {
                worker.park_driving(&mut io, None).unwrap();
                done_tx.send(()).unwrap();
                (worker, io)
            });
            std::thread::sleep(Duration::from_millis(2));
            handle.unpark();
            done_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("the worker waiting on the shared reactor woke");
            drop(parked.join().unwrap());
        }
    }

    #[test]
    fn a_source_registered_through_a_member_goes_to_the_shared_io_reactor() {
        use std::io::Write;
        let (mut worker, mut io) = shared_io_pair();
        let (a, mut peer) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let registration = Registration::with_handle(&worker.handle(), a).unwrap();
        assert!(
            Arc::ptr_eq(&registration.handle().shared, &io.shared),
            "registered with the shared reactor"
        );
        assert_eq!(worker.handle().num_registrations(), 0);
        peer.write_all(b"x").unwrap();
        worker
            .park_driving(&mut io, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(registration.readiness().is_readable());
    }

    #[test]
    fn keys_never_collide_with_reserved_backend_keys() {
        let key = INDEX_MASK | (GENERATION_MASK << INDEX_BITS);
        assert!(key < crate::sys::WAKE_KEY);
        assert_eq!(key >> (usize::BITS - 1), 0, "top bit clear");
    }
}
