//! [`Notify`]: wake one task, or every waiting task, with no data.
//!
//! # Protocol
//!
//! The state word holds `calls << 2 | EMPTY | WAITING | NOTIFIED`, where
//! `calls` counts [`Notify::notify_waiters`] calls.
//!
//! 1. `notify_one` with nobody waiting stores one permit (NOTIFIED) with a
//!    compare-and-swap and no lock; the next `notified()` consumes it.
//!    Permits do not add up: two calls store one.
//! 2. WAITING is set and cleared under the lock only, exactly while the
//!    waiter list is not empty. `notify_one` with WAITING set takes the
//!    lock and hands the notification to the first waiter.
//! 3. A [`Notified`] future remembers `calls` when it is created; if
//!    `notify_waiters` ran since, it completes. So a future created before
//!    `notify_waiters` is woken by it even if it was not polled yet, and
//!    `notify_waiters` never stores a permit.
//! 4. A `Notified` dropped after `notify_one` chose it, but before it saw
//!    the notification, passes the notification on (to the next waiter, or
//!    as the stored permit): a cancelled waiter never swallows a wakeup.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::Mutex;
use crate::waiters::{WaitList, WakeList};

const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const MODE: usize = 3;
const CALL: usize = 4;

/// How a queued waiter was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    One,
    All,
}

/// Notifies tasks that something happened, with no data attached.
///
/// ```
/// use std::sync::Arc;
/// use corium_sync::Notify;
///
/// let notify = Arc::new(Notify::new());
/// notify.notify_one(); // stored: nobody waits yet
/// # futures_util::FutureExt::now_or_never(async {
/// notify.notified().await; // consumes the stored permit at once
/// # }).unwrap();
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Outcome>>,
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    calls: usize,
    key: Option<usize>,
    done: bool,
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A future that completes when this is notified.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `Notified` leaves the queue, and a
    /// notification already handed to it passes to the next waiter.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls: self.state.load(Ordering::Acquire) / CALL,
            key: None,
            done: false,
        }
    }

    /// Wakes the first waiting task, or stores one permit if none waits
    /// (rule 1).
    pub fn notify_one(&self) {
        let mut state = self.state.load(Ordering::Acquire);
        while state & MODE != WAITING {
            let new = (state & !MODE) | NOTIFIED;
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        let waker = self.hand_on_locked(&mut self.waiters.lock());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now (and every `Notified` created before
    /// this call), storing no permit (rule 3).
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            let mut state = self.state.load(Ordering::Acquire);
            loop {
                let mode = match state & MODE {
                    WAITING => EMPTY,
                    mode => mode,
                };
                let new = (state & !MODE).wrapping_add(CALL) | mode;
                match self.state.compare_exchange_weak(
                    state,
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
            waiters.drain_into(&mut wakers, |outcome| *outcome = Outcome::All);
        }
        wakers.wake_all();
    }

    /// Under the lock: gives one notification to the first waiter, or
    /// stores it as the permit (rules 1, 2, 4).
    fn hand_on_locked(&self, waiters: &mut WaitList<Outcome>) -> Option<Waker> {
        let Some((key, waker)) = waiters.pop_front() else {
            self.set_mode(NOTIFIED);
            return None;
        };
        *waiters.state_mut(key) = Outcome::One;
        if waiters.is_empty() {
            self.set_mode(EMPTY);
        }
        waker
    }

    /// Under the lock: sets the mode bits, keeping the call count.
    fn set_mode(&self, mode: usize) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let new = (state & !MODE) | mode;
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// Consumes the stored permit, if there is one.
    fn take_permit(&self) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        while state & MODE == NOTIFIED {
            match self.state.compare_exchange_weak(
                state,
                state & !MODE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        false
    }

    fn calls_since(&self, calls: usize) -> bool {
        self.state.load(Ordering::Acquire) / CALL != calls
    }
}

impl Notified<'_> {
    /// Joins the queue now, without waiting to be polled, so a
    /// `notify_one` from here on is handed to this future. Returns true if
    /// it is already notified.
    pub fn enable(mut self: Pin<&mut Self>) -> bool {
        self.poll_with(None).is_ready()
    }

    fn poll_with(&mut self, waker: Option<&Waker>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let ready = match self.key {
            None => self.first_poll(waker),
            Some(key) => self.poll_queued(key, waker),
        };
        if ready.is_ready() {
            self.done = true;
        }
        ready
    }

    fn first_poll(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let notify = self.notify;
        if notify.take_permit() || notify.calls_since(self.calls) {
            return Poll::Ready(());
        }
        let mut waiters = notify.waiters.lock();
        // Under the lock only a lock-free `notify_one` can still change the
        // word (EMPTY to NOTIFIED), so the compare-and-swap to WAITING
        // cannot overwrite a permit (rule 2).
        let mut state = notify.state.load(Ordering::Acquire);
        loop {
            if state / CALL != self.calls {
                return Poll::Ready(());
            }
            let new = match state & MODE {
                NOTIFIED => state & !MODE,
                _ => (state & !MODE) | WAITING,
            };
            match notify.state.compare_exchange_weak(
                state,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) if state & MODE == NOTIFIED => return Poll::Ready(()),
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        self.key = Some(waiters.push_back(waker.cloned(), Outcome::Waiting));
        Poll::Pending
    }

    fn poll_queued(&mut self, key: usize, waker: Option<&Waker>) -> Poll<()> {
        let mut waiters = self.notify.waiters.lock();
        if *waiters.state(key) != Outcome::Waiting {
            waiters.remove(key);
            self.key = None;
            return Poll::Ready(());
        }
        if let Some(waker) = waker {
            waiters.set_waker(key, waker);
        }
        Poll::Pending
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_with(Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let notify = self.notify;
        let waker = {
            let mut waiters = notify.waiters.lock();
            let was_queued = waiters.is_queued(key);
            let outcome = waiters.remove(key);
            if outcome == Outcome::One {
                notify.hand_on_locked(&mut waiters)
            } else {
                if was_queued && waiters.is_empty() {
                    notify.set_mode(EMPTY);
                }
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Notify")
            .field("permit", &(state & MODE == NOTIFIED))
            .field("waiting", &(state & MODE == WAITING))
            .finish()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("queued", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
