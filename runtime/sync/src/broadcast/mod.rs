//! A multi-producer, multi-consumer channel in which every receiver sees
//! every value, as `tokio::sync::broadcast`.
//!
//! The channel keeps the last `capacity` values in a ring (`ring.rs`
//! states its invariants). A receiver that falls further
//! behind than that gets [`RecvError::Lagged`] with the number of values
//! it missed, then resumes at the oldest value still kept. A value is
//! dropped once every receiver subscribed when it was sent has seen it or
//! been dropped, or when a later send overwrites it.
//!
//! ```
//! use corium_sync::broadcast;
//!
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send("hello").unwrap();
//! assert_eq!(rx1.try_recv(), Ok("hello"));
//! assert_eq!(rx2.try_recv(), Ok("hello"));
//! ```
//!
//! # Protocol
//!
//! 1. All the channel's state (the ring, the counts of senders and
//!    receivers, both waiter lists) lives under one lock, `Shared::state`.
//!    A value is cloned for a receiver under that lock; it is never read
//!    outside it.
//! 2. A receiver that finds nothing to read queues itself on
//!    `recv_waiters` under the lock it looked under, so no send can fall
//!    between its look and its registration.
//! 3. A send, and the drop of the last sender, dequeues *every* waiting
//!    receiver and wakes them. Waiters carry no outcome (`WaitList<()>`):
//!    the values stay in the ring, each receiver reads at its own cursor
//!    when it runs. So a `recv` future dropped at any point loses nothing,
//!    and a woken one that finds nothing just queues again.
//! 4. Wakers are woken, and values taken out of the ring are dropped,
//!    after the lock is released: both run user code, which may use this
//!    channel.
//! 5. A dropped receiver releases its claim on every value it has not
//!    read (ring invariant 3), so those are not kept for it.
//! 6. [`Sender::closed`] waiters queue on `closed_waiters`; the drop of
//!    the last receiver wakes them. A waiter looks again when it runs, as
//!    a new subscriber may have come in between.

pub mod error;
mod ring;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use self::error::{RecvError, SendError, TryRecvError};
use self::ring::{Read, Ring};
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::waiters::{WaitList, WaitSlot, WakeList};

/// Creates a broadcast channel that keeps up to `capacity` values for
/// receivers that have not yet seen them, and returns its first sender and
/// receiver. More receivers come from [`Sender::subscribe`].
///
/// The capacity is rounded up to a power of two, as tokio does.
///
/// # Panics
///
/// If `capacity` is 0 or greater than `usize::MAX / 2`.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast channel capacity cannot be zero: \
         a value must be kept until a receiver reads it"
    );
    assert!(
        capacity <= usize::MAX >> 1,
        "broadcast channel capacity {capacity} exceeds `usize::MAX / 2`"
    );
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            ring: Ring::with_capacity(capacity.next_power_of_two()),
            senders: 1,
            receivers: 1,
            recv_waiters: WaitList::new(),
            closed_waiters: WaitList::new(),
        }),
    });
    let receiver = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, receiver)
}

/// What every handle of one channel shares.
struct Shared<T> {
    state: Mutex<State<T>>,
}

/// The channel under its lock (protocol rule 1).
struct State<T> {
    ring: Ring<T>,
    senders: usize,
    receivers: usize,
    /// Receivers waiting for a value or for the last sender to go.
    recv_waiters: WaitList<()>,
    /// [`Sender::closed`] futures waiting for the last receiver to go.
    closed_waiters: WaitList<()>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    /// A receiver whose cursor starts at the tail: it sees the values sent
    /// from now on.
    fn subscribe(self: &Arc<Self>) -> Receiver<T> {
        let mut state = self.lock();
        state.receivers += 1;
        let next = state.ring.tail();
        drop(state);
        Receiver {
            shared: self.clone(),
            next,
        }
    }
}

/// The sending half of a broadcast channel. Clone it for more senders;
/// receivers see [`RecvError::Closed`] once every sender is dropped and
/// they have read what was sent.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a broadcast channel: a cursor into the channel's
/// ring. Each receiver sees each value sent while it is subscribed.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position this receiver reads next (ring invariant 2).
    next: u64,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver subscribed now, and returns how many
    /// that is.
    ///
    /// Never waits: if the ring is full, the oldest value is overwritten
    /// and the receivers that had not seen it will get
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// [`SendError`], with `value` in it, if there are no receivers.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let mut state = self.shared.lock();
        let receivers = state.receivers;
        if receivers == 0 {
            return Err(SendError(value));
        }
        let overwritten = state.ring.push(value, receivers);
        state.recv_waiters.drain_into(&mut wakers, |_| {});
        drop(state);
        wakers.wake_all();
        drop(overwritten);
        Ok(receivers)
    }

    /// A new receiver that sees the values sent after this call.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.subscribe()
    }

    /// The number of receivers subscribed now.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// The number of values still kept for some receiver: sent, not yet
    /// seen by every receiver subscribed at the time, and not overwritten.
    pub fn len(&self) -> usize {
        self.shared.lock().ring.queued()
    }

    /// True if no value is kept for any receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `self` and `other` send on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until the channel has no receivers: every receiver, including
    /// those from [`subscribe`](Sender::subscribe), has been dropped.
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
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    /// The last sender's drop closes the channel: waiting receivers wake,
    /// read what is left and then get [`RecvError::Closed`].
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            state.recv_waiters.drain_into(&mut wakers, |_| {});
        }
        drop(state);
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// The number of values sent that this receiver has not read yet,
    /// counting those it has lagged past: a value above the channel's
    /// capacity means the next receive reports [`RecvError::Lagged`].
    pub fn len(&self) -> usize {
        let unread = self.shared.lock().ring.unread(self.next);
        usize::try_from(unread).unwrap_or(usize::MAX)
    }

    /// True if this receiver has read every value sent so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `self` and `other` receive from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A new receiver of the same channel that sees the values sent after
    /// this call (not the ones this receiver has yet to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        self.shared.subscribe()
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value this receiver has not seen.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if values were overwritten before this
    /// receiver saw them (the next call returns the oldest value kept);
    /// [`RecvError::Closed`] once every sender is gone and every value has
    /// been read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value is taken only in the poll that returns it, so
    /// dropping the future loses nothing.
    ///
    /// `T::clone` runs under the channel's lock (protocol rule 1): a
    /// `clone` that uses this same channel deadlocks.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            waiter: WaitSlot::default(),
        }
        .await
    }

    /// Takes the next value this receiver has not seen, if one is there.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is there yet,
    /// [`TryRecvError::Lagged`] and [`TryRecvError::Closed`] as for
    /// [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        let read = state.ring.read(&mut self.next);
        let senders = state.senders;
        drop(state);
        match read {
            Read::Value(value) => Ok(value),
            Read::Lagged(missed) => Err(TryRecvError::Lagged(missed)),
            Read::Empty if senders == 0 => Err(TryRecvError::Closed),
            Read::Empty => Err(TryRecvError::Empty),
        }
    }

    /// Blocks the calling thread until the next value, as
    /// [`recv`](Receiver::recv) waits for it.
    ///
    /// For plain threads and the blocking pool.
    ///
    /// # Panics
    /// On a thread that runs a Corium runtime's tasks, where parking would
    /// stall them all.
    ///
    /// # Errors
    ///
    /// As for [`recv`](Receiver::recv).
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::blocking::block_on(self.recv())
    }
}

impl<T> Drop for Receiver<T> {
    /// Releases this receiver's claim on the values it has not read
    /// (protocol rule 5); the last receiver's drop wakes
    /// [`Sender::closed`].
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut state = self.shared.lock();
        let freed = state.ring.release(self.next);
        state.receivers -= 1;
        if state.receivers == 0 {
            state.closed_waiters.drain_into(&mut wakers, |_| {});
        }
        drop(state);
        wakers.wake_all();
        drop(freed);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    waiter: WaitSlot,
}

impl<T: Clone> Recv<'_, T> {
    /// Reads at the cursor under the lock; waits if there is nothing yet
    /// and a sender remains (protocol rule 2).
    fn poll_read(&mut self, waker: &Waker) -> Poll<Result<T, RecvError>> {
        let Receiver { shared, next } = &mut *self.receiver;
        let mut state = shared.lock();
        let outcome = match state.ring.read(next) {
            Read::Value(value) => Ok(value),
            Read::Lagged(missed) => Err(RecvError::Lagged(missed)),
            Read::Empty if state.senders == 0 => Err(RecvError::Closed),
            Read::Empty => {
                self.waiter.wait(&mut state.recv_waiters, waker);
                return Poll::Pending;
            }
        };
        self.waiter.leave(&mut state.recv_waiters);
        Poll::Ready(outcome)
    }
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::coop::poll_budgeted(cx, |cx| this.poll_read(cx.waker()))
    }
}

impl<T> Drop for Recv<'_, T> {
    /// Gives back the waiter slot; the values stay in the ring for the
    /// receiver (protocol rule 3).
    fn drop(&mut self) {
        if self.waiter.is_held() {
            let mut state = self.receiver.shared.lock();
            self.waiter.leave(&mut state.recv_waiters);
        }
    }
}

/// The future of [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Arc<Shared<T>>,
    waiter: WaitSlot,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if state.receivers == 0 {
            this.waiter.leave(&mut state.closed_waiters);
            return Poll::Ready(());
        }
        this.waiter.wait(&mut state.closed_waiters, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if self.waiter.is_held() {
            let mut state = self.shared.lock();
            self.waiter.leave(&mut state.closed_waiters);
        }
    }
}
