//! `ScheduledIo`: the shared state of one registration.
//!
//! # Protocol
//!
//! The readiness word packs the readiness bits, a shutdown bit and a `tick`
//! that the reactor increments on every event it dispatches to this source.
//!
//! 1. The reactor sets bits and increments the tick (`dispatch`), *then* takes
//!    the waiting wakers under the waiter lock.
//! 2. A task that finds no readiness stores its waker under the waiter lock
//!    and loads the word again before unlocking. With rule 1, either the
//!    task sees the new bits or the reactor sees the waker: no lost wakeup.
//! 3. A task that got `WouldBlock` clears the bits it saw, with a
//!    compare-and-swap that fails if the tick moved since it read them: an
//!    event that arrived in between is never erased.
//! 4. Clearing never erases the sticky states (read-closed, write-closed,
//!    error): edge-triggered epoll reports them once.

use std::os::fd::RawFd;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::ready::{Interest, Ready};

const READY_MASK: usize = 0b1_1111;
const SHUTDOWN: usize = 1 << 5;
const TICK_SHIFT: u32 = 16;
const TICK_MASK: usize = 0xffff << TICK_SHIFT;

/// Readiness observed by a task, with the tick it was observed at.
///
/// Pass it back to [`Registration::clear_readiness`](crate::Registration::clear_readiness)
/// after an operation returns `WouldBlock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyEvent {
    pub(crate) tick: u16,
    /// The readiness states that were set.
    pub ready: Ready,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, interest: Interest) -> &mut Option<Waker> {
        match interest {
            Interest::Readable => &mut self.reader,
            Interest::Writable => &mut self.writer,
        }
    }
}

/// The state the reactor and the tasks of one registration share.
pub(crate) struct ScheduledIo {
    /// The generation of the slab slot this state lives in; part of the key.
    pub(crate) generation: usize,
    /// The registered fd, for re-arming oneshot registrations.
    ///
    /// # Invariant
    /// Open for as long as this state is in the reactor's slab: a
    /// `Registration` leaves the slab before it drops its source.
    pub(crate) fd: RawFd,
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    pub(crate) fn new(generation: usize, fd: RawFd) -> ScheduledIo {
        ScheduledIo {
            generation,
            fd,
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Rule 1: records `ready`, advances the tick, and pushes the wakers
    /// waiting for it onto `wakers` (woken by the caller, outside any lock).
    pub(crate) fn dispatch(&self, ready: Ready, wakers: &mut Vec<Waker>) {
        let mut current = self.readiness.load(Acquire);
        loop {
            let tick = ((current & TICK_MASK) >> TICK_SHIFT).wrapping_add(1) & 0xffff;
            let next = (current & !TICK_MASK) | (tick << TICK_SHIFT) | ready.as_usize();
            match self
                .readiness
                .compare_exchange_weak(current, next, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        self.take_wakers(ready, wakers);
    }

    /// Marks the source as shut down (the reactor is gone) and wakes every waiter.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        self.take_wakers(Ready::ALL, wakers);
    }

    fn take_wakers(&self, ready: Ready, wakers: &mut Vec<Waker>) {
        let mut waiters = self.waiters.lock();
        for interest in [Interest::Readable, Interest::Writable] {
            if ready.intersects(interest.mask()) {
                wakers.extend(waiters.slot(interest).take());
            }
        }
    }

    fn observe(&self, interest: Interest) -> Option<Poll<Result<ReadyEvent, Shutdown>>> {
        let current = self.readiness.load(Acquire);
        if current & SHUTDOWN != 0 {
            return Some(Poll::Ready(Err(Shutdown)));
        }
        let ready = Ready::from_usize(current & READY_MASK) & interest.mask();
        if ready.is_empty() {
            return None;
        }
        let tick = ((current & TICK_MASK) >> TICK_SHIFT) as u16;
        Some(Poll::Ready(Ok(ReadyEvent { tick, ready })))
    }

    /// Rule 2: readiness in `interest`'s direction, or `Pending` with the
    /// waker stored.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<Result<ReadyEvent, Shutdown>> {
        if let Some(ready) = self.observe(interest) {
            return ready;
        }
        let mut waiters = self.waiters.lock();
        let slot = waiters.slot(interest);
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        self.observe(interest).unwrap_or(Poll::Pending)
    }

    /// The readiness in `interest`'s direction right now, without storing
    /// a waker (for `try_io`-style calls that must not displace a waiting
    /// task's waker).
    pub(crate) fn peek_ready(&self, interest: Interest) -> Option<Result<ReadyEvent, Shutdown>> {
        match self.observe(interest)? {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }

    /// Rules 3 and 4: clears what `event` saw unless a newer event arrived.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = (event.ready - Ready::STICKY).as_usize();
        let mut current = self.readiness.load(Acquire);
        loop {
            let tick = ((current & TICK_MASK) >> TICK_SHIFT) as u16;
            if tick != event.tick {
                return;
            }
            match self
                .readiness
                .compare_exchange_weak(current, current & !clear, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Which directions have a task waiting: (reading, writing).
    pub(crate) fn waiting(&self) -> (bool, bool) {
        let waiters = self.waiters.lock();
        (waiters.reader.is_some(), waiters.writer.is_some())
    }

    /// The readiness bits currently set, for tests and `Debug`.
    pub(crate) fn readiness(&self) -> Ready {
        Ready::from_usize(self.readiness.load(Acquire) & READY_MASK)
    }
}

/// The reactor this registration belonged to has shut down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shutdown;
