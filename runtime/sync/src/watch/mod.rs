//! A single-value channel whose receivers see the latest value and are
//! told when it changes, as `tokio::sync::watch`.
//!
//! Senders replace or modify the one value; receivers
//! [`borrow`](Receiver::borrow) it and wait for the next change with
//! [`changed`](Receiver::changed). Changes between two looks coalesce: a
//! receiver sees the latest value, not every value.
//!
//! ```
//! use corium_sync::watch;
//!
//! let (tx, mut rx) = watch::channel("starting");
//! tx.send("ready").unwrap();
//! assert!(rx.has_changed().unwrap());
//! assert_eq!(*rx.borrow_and_update(), "ready");
//! assert!(!rx.has_changed().unwrap());
//! ```
//!
//! # Protocol
//!
//! 1. The value sits in a read-write lock. `state` holds the value's
//!    *version* (a counter that moves by `STEP`) and the `CLOSED` bit.
//!    A sender bumps the version while it still holds the write lock, so a
//!    reader holding the read lock always sees the version of the value
//!    it reads.
//! 2. A receiver remembers the version it saw last; "changed" means the
//!    version differs from it.
//! 3. A sender notifies *after* the bump: it takes the `waiters` lock and
//!    dequeues every waiting `changed` future, then wakes them once the
//!    lock is released.
//! 4. A `changed` future looks at the version, and if nothing changed,
//!    takes the `waiters` lock, looks *again*, and only then queues. A bump
//!    is either visible to that second look, or its notifier takes the
//!    lock after the future queued and finds it (rule 3): no change is
//!    missed.
//! 5. A `changed` future records the new version only in the poll that
//!    returns it, and its drop gives back its waiter slot: it is cancel
//!    safe.
//! 6. The last sender's drop sets `CLOSED` and notifies as a send does;
//!    the last receiver's drop wakes the [`Sender::closed`] waiters, which
//!    use the same look, lock, look again, queue steps.

pub mod error;

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use parking_lot::{RwLock, RwLockReadGuard};

use self::error::{RecvError, SendError};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex};
use crate::waiters::{WaitList, WaitSlot, WakeList};

/// The bit of `state` set once every sender is gone.
const CLOSED: usize = 1;

/// How far one change moves the version, stepping over [`CLOSED`].
const STEP: usize = 2;

/// Creates a watch channel holding `init`, and returns its first sender
/// and receiver. The receiver counts `init` as seen.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
        waiters: Mutex::new(Waiters {
            changed: WaitList::new(),
            closed: WaitList::new(),
        }),
    });
    let receiver = Receiver {
        shared: shared.clone(),
        seen: Version(0),
    };
    (Sender { shared }, receiver)
}

/// What every handle of one channel shares.
struct Shared<T> {
    value: RwLock<T>,
    /// The version of `value` and the [`CLOSED`] bit (protocol rule 1).
    state: AtomicUsize,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    waiters: Mutex<Waiters>,
}

/// The futures waiting on a channel.
struct Waiters {
    /// [`Receiver::changed`] futures, waiting for a change or the close.
    changed: WaitList<()>,
    /// [`Sender::closed`] futures, waiting for the last receiver to go.
    closed: WaitList<()>,
}

/// A version of the value: `state` without the [`CLOSED`] bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version(usize);

impl<T> Shared<T> {
    fn load_state(&self) -> (Version, bool) {
        let state = self.state.load(Ordering::Acquire);
        (Version(state & !CLOSED), state & CLOSED != 0)
    }

    fn version(&self) -> Version {
        self.load_state().0
    }

    /// Dequeues every `changed` future and wakes it (protocol rule 3).
    fn notify_changed(&self) {
        let mut wakers = WakeList::new();
        self.waiters.lock().changed.drain_into(&mut wakers, |_| {});
        wakers.wake_all();
    }

    /// A receiver that counts the current value as seen.
    fn subscribe(self: &Arc<Self>) -> Receiver<T> {
        self.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            shared: self.clone(),
            seen: self.version(),
        }
    }
}

/// The sending half of a watch channel. Clone it for more senders; the
/// channel closes for receivers when the last one is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a watch channel: it reads the latest value and
/// remembers which version it has seen. Clone it for more receivers; a
/// clone has seen what the original has.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver saw last (protocol rule 2).
    seen: Version,
}

/// A read lock on a watch channel's value, from `borrow`.
///
/// Senders wait while any `Ref` is alive: keep it briefly, and never
/// across an `.await`, or a sender on the same thread deadlocks.
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// True if this value is one the receiver had not seen when it
    /// borrowed it (always false for a [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("value", &*self.inner)
            .field("has_changed", &self.has_changed)
            .finish()
    }
}

impl<T> Sender<T> {
    /// A sender of a new channel holding `init`, with no receivers yet:
    /// get them with [`subscribe`](Sender::subscribe).
    pub fn new(init: T) -> Sender<T> {
        channel(init).0
    }

    /// Replaces the value with `value` and notifies the receivers.
    ///
    /// # Errors
    ///
    /// [`SendError`], with `value` in it, if there are no receivers; the
    /// value is then not stored. [`send_replace`](Sender::send_replace)
    /// stores it regardless.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value with `value`, notifies the receivers, and
    /// returns the old value. Works with no receivers too.
    pub fn send_replace(&self, value: T) -> T {
        let mut value = value;
        self.send_modify(|current| std::mem::swap(current, &mut value));
        value
    }

    /// Modifies the value in place and notifies the receivers.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Lets `modify` change the value in place; if it returns true, the
    /// change is published and the receivers are notified. Returns what
    /// `modify` returned.
    ///
    /// If `modify` returns false, receivers are not told, so it should
    /// leave the value as it was. If it panics, nothing is published.
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut value = self.shared.value.write();
        if !modify(&mut value) {
            return false;
        }
        // Under the write lock (protocol rule 1).
        self.shared.state.fetch_add(STEP, Ordering::Release);
        drop(value);
        self.shared.notify_changed();
        true
    }

    /// A read lock on the current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver that counts the current value as seen.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.subscribe()
    }

    /// The number of receivers alive now.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// The number of senders alive now, this one included.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// True if no receiver is alive: [`send`](Sender::send) would fail.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// True if `self` and `other` send on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until no receiver is alive.
    ///
    /// Cancel safe: dropping the future gives up its place and nothing
    /// else.
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            waiter: WaitSlot::default(),
        }
        .await;
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    /// The last sender's drop closes the channel (protocol rule 6).
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::Release);
            self.shared.notify_changed();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// A read lock on the current value, without marking it seen.
    /// [`Ref::has_changed`] says whether it was unseen.
    ///
    /// Senders wait while the [`Ref`] is alive: see its docs.
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        // No send can run under the read lock: this is `inner`'s version.
        let version = self.shared.version();
        Ref {
            inner,
            has_changed: version != self.seen,
        }
    }

    /// A read lock on the current value, which is marked seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { inner, has_changed }
    }

    /// True if the value changed since this receiver last marked it seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone, changed value or not (as
    /// tokio does).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        match self.shared.load_state() {
            (_, true) => Err(RecvError(())),
            (version, false) => Ok(version != self.seen),
        }
    }

    /// Makes the current value count as unseen, so that the next
    /// [`changed`](Receiver::changed) returns at once.
    pub fn mark_changed(&mut self) {
        self.seen = Version(self.shared.version().0.wrapping_sub(STEP));
    }

    /// Makes the current value count as seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version();
    }

    /// Waits until the value changes from the one this receiver saw last,
    /// and marks the new one seen. Returns at once if it already has.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and there is no unseen
    /// value.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the value is marked seen only in the poll that
    /// returns, so dropping the future loses no change (protocol rule 5).
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            waiter: WaitSlot::default(),
        }
        .await
    }

    /// Waits until `predicate` holds for the value, and returns it marked
    /// seen. The current value is tried first, seen or not.
    ///
    /// `predicate` runs under the read lock: it must not send on this
    /// channel.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and the last value does not
    /// satisfy `predicate`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`changed`](Receiver::changed); a dropped future
    /// may already have marked values seen that did not satisfy
    /// `predicate`.
    pub async fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let shared = &*self.shared;
        let mut closed = false;
        loop {
            {
                let inner = shared.value.read();
                let version = shared.version();
                let has_changed = version != self.seen;
                self.seen = version;
                if (!closed || has_changed) && predicate(&inner) {
                    return Ok(Ref { inner, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            let changed = Changed {
                shared,
                seen: &mut self.seen,
                waiter: WaitSlot::default(),
            };
            closed = changed.await.is_err();
        }
    }

    /// True if `self` and `other` receive from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    /// The last receiver's drop wakes [`Sender::closed`] (protocol rule 6).
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut wakers = WakeList::new();
            let mut waiters = self.shared.waiters.lock();
            waiters.closed.drain_into(&mut wakers, |_| {});
            drop(waiters);
            wakers.wake_all();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen.0)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::changed`].
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut Version,
    waiter: WaitSlot,
}

impl<T> Changed<'_, T> {
    /// The outcome, if there is one yet: a new version (now marked seen),
    /// else the close.
    fn look(&mut self) -> Option<Result<(), RecvError>> {
        match self.shared.load_state() {
            (version, _) if version != *self.seen => {
                *self.seen = version;
                Some(Ok(()))
            }
            (_, true) => Some(Err(RecvError(()))),
            (_, false) => None,
        }
    }
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    /// Look, lock, look again, queue (protocol rule 4).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::coop::poll_budgeted(cx, |cx| this.poll_changed(cx))
    }
}

impl<T> Changed<'_, T> {
    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        let this = self;
        if !this.waiter.is_held() {
            if let Some(outcome) = this.look() {
                return Poll::Ready(outcome);
            }
        }
        let mut waiters = this.shared.waiters.lock();
        match this.look() {
            Some(outcome) => {
                this.waiter.leave(&mut waiters.changed);
                Poll::Ready(outcome)
            }
            None => {
                this.waiter.wait(&mut waiters.changed, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if self.waiter.is_held() {
            self.waiter.leave(&mut self.shared.waiters.lock().changed);
        }
    }
}

/// The future of [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    waiter: WaitSlot,
}

impl<T> Closed<'_, T> {
    fn no_receivers(&self) -> bool {
        self.shared.receivers.load(Ordering::Acquire) == 0
    }
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    /// Look, lock, look again, queue (protocol rule 6).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if !this.waiter.is_held() && this.no_receivers() {
            return Poll::Ready(());
        }
        let mut waiters = this.shared.waiters.lock();
        if this.no_receivers() {
            this.waiter.leave(&mut waiters.closed);
            return Poll::Ready(());
        }
        this.waiter.wait(&mut waiters.closed, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if self.waiter.is_held() {
            self.waiter.leave(&mut self.shared.waiters.lock().closed);
        }
    }
}
