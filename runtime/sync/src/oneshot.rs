//! A channel for one value: the answer to one request.
//!
//! # Protocol
//!
//! One shared cell holds the value, the receiver's waker, the sender's
//! waker and a state word; no lock is taken.
//!
//! 1. COMPLETE is set once, by `send` (after writing the value) or by
//!    dropping the sender (no value). It is never set after CLOSED: a send
//!    that finds CLOSED takes its value back and returns it as the error.
//! 2. CLOSED is set once, by the receiver (`close` or drop).
//! 3. The receiver's waker slot belongs to the receiver while RX_WAKER is
//!    clear; once set, the sender may read it until it has set COMPLETE.
//!    To change its waker the receiver clears RX_WAKER first and checks in
//!    the same atomic step that COMPLETE was not set meanwhile (if it was,
//!    the sender may be reading the slot, so the receiver leaves it alone).
//!    The sender's waker slot (TX_WAKER, for `closed()`) is the mirror
//!    image with CLOSED.
//! 4. The value slot belongs to the sender until COMPLETE and to the
//!    receiver after; Release on COMPLETE and Acquire on the receiver's
//!    load order the write before the read.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, UnsafeCell};

const RX_WAKER: usize = 1;
const COMPLETE: usize = 2;
const CLOSED: usize = 4;
const TX_WAKER: usize = 8;

/// Creates a channel for one value.
///
/// ```
/// use corium_sync::oneshot;
///
/// let (tx, rx) = oneshot::channel();
/// tx.send(7).unwrap();
/// # futures_util::FutureExt::now_or_never(async move {
/// assert_eq!(rx.await, Ok(7));
/// # }).unwrap();
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner: Some(inner) },
    )
}

/// Errors of the oneshot channel.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender is still alive.
        Empty,
        /// The sender was dropped without sending, or the value was
        /// already taken.
        Closed,
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the oneshot sender was dropped without sending")
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                TryRecvError::Empty => "no value has been sent yet",
                TryRecvError::Closed => {
                    "the oneshot channel is closed: the sender was dropped without sending, \
                     or the value was already taken"
                }
            })
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the value moves from the sender's thread to the receiver's
// (`T: Send`); the waker slots are handed over by the protocol's rule 3.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above: every slot has one owner at a time.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Sends the one value. Dropping it unsent ends the receiver with
/// [`RecvError`].
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the one value; it is a future itself.
///
/// # Cancel safety
/// Polling it and dropping it loses nothing the receiver could still get:
/// a value sent to a dropped receiver is dropped with it, and a pending
/// `&mut Receiver` may be polled again.
pub struct Receiver<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Inner<T> {
    /// Rule 1: sets COMPLETE unless CLOSED; returns the state before.
    fn complete(&self) -> usize {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & CLOSED != 0 {
                return state;
            }
            match self.state.compare_exchange_weak(
                state,
                state | COMPLETE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return state,
                Err(actual) => state = actual,
            }
        }
    }

    fn wake_rx(&self) {
        // SAFETY: rule 3: RX_WAKER was set when we set COMPLETE, so the
        // receiver no longer touches the slot.
        self.rx_waker.with(|waker| unsafe {
            if let Some(waker) = &*waker {
                waker.wake_by_ref();
            }
        });
    }

    fn wake_tx(&self) {
        // SAFETY: rule 3 (mirror): TX_WAKER was set when CLOSED was set.
        self.tx_waker.with(|waker| unsafe {
            if let Some(waker) = &*waker {
                waker.wake_by_ref();
            }
        });
    }

    /// Rule 4: takes the value once COMPLETE has been seen.
    ///
    /// # Safety
    /// COMPLETE must have been observed with Acquire by the receiver.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: by rule 4 the slot is the receiver's after COMPLETE.
        self.value.with_mut(|value| unsafe { (*value).take() })
    }

    /// Rule 3: registers `waker` in the slot guarded by `bit`, unless a
    /// bit of `done` is set first: then returns the state that showed it.
    fn register(
        &self,
        bit: usize,
        done: usize,
        slot: &UnsafeCell<Option<Waker>>,
        waker: &Waker,
    ) -> Result<(), usize> {
        let state = self.state.load(Ordering::Acquire);
        if state & done != 0 {
            return Err(state);
        }
        if state & bit != 0 {
            // SAFETY: reading the slot is fine for its owner at any time;
            // only writing must wait until the bit is clear.
            let same = slot.with(|w| unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) });
            if same {
                return Ok(());
            }
            let before = self.state.fetch_and(!bit, Ordering::AcqRel);
            if before & done != 0 {
                // The peer may be waking the old waker: leave the slot and
                // put the bit back, so the slot is dropped with the cell.
                self.state.fetch_or(bit, Ordering::AcqRel);
                return Err(before);
            }
        }
        // SAFETY: `bit` is clear, so the slot is ours (rule 3).
        slot.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        let before = self.state.fetch_or(bit, Ordering::AcqRel);
        match before & done {
            0 => Ok(()),
            _ => Err(before),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value`. Fails, giving it back, if the receiver is gone.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a sender sends once");
        // SAFETY: rule 4: before COMPLETE the value slot is the sender's.
        inner.value.with_mut(|slot| unsafe { *slot = Some(value) });
        let before = inner.complete();
        if before & CLOSED != 0 {
            // SAFETY: COMPLETE was not set, so the slot is still ours.
            let value = inner.value.with_mut(|slot| unsafe { (*slot).take() });
            return Err(value.expect("the value written above"));
        }
        if before & RX_WAKER != 0 {
            inner.wake_rx();
        }
        Ok(())
    }

    /// True once the receiver was dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.inner().state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed: the answer is no
    /// longer wanted, so work on it can stop.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls whether the receiver is gone, registering the task to be
    /// woken when it goes.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner();
        match inner.register(TX_WAKER, CLOSED, &inner.tx_waker, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(_) => Poll::Ready(()),
        }
    }

    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_ref()
            .expect("a sender is used until it sends")
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let before = inner.complete();
        if before & (CLOSED | RX_WAKER) == RX_WAKER {
            inner.wake_rx();
        }
    }
}

impl<T> Receiver<T> {
    /// Closes the channel from this side: the sender's `send` fails from
    /// now on and its `closed()` completes. A value sent before can still
    /// be received.
    pub fn close(&mut self) {
        let Some(inner) = &self.inner else { return };
        let before = inner.state.fetch_or(CLOSED, Ordering::AcqRel);
        if before & (CLOSED | COMPLETE | TX_WAKER) == TX_WAKER {
            inner.wake_tx();
        }
    }

    /// True once nothing more can arrive: the value was sent or the sender
    /// is gone (or the value was already taken).
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// True if a value is waiting to be taken.
    pub fn is_empty(&self) -> bool {
        let Some(inner) = &self.inner else {
            return true;
        };
        if inner.state.load(Ordering::Acquire) & COMPLETE == 0 {
            return true;
        }
        // SAFETY: COMPLETE seen with Acquire: the slot is ours (rule 4).
        inner.value.with(|value| unsafe { (*value).is_none() })
    }

    /// Takes the value if it has been sent.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Ordering::Acquire);
        if state & COMPLETE == 0 {
            if state & CLOSED != 0 {
                self.inner = None;
                return Err(TryRecvError::Closed);
            }
            return Err(TryRecvError::Empty);
        }
        self.finish().map_err(|_| TryRecvError::Closed)
    }

    /// Waits for the value from a thread outside any async runtime.
    ///
    /// # Panics
    /// On a thread that runs a Corium runtime's tasks (a `block_on` thread
    /// or a worker), where parking would stall them all; blocking-pool
    /// threads are fine.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::block_on(self)
    }

    /// After COMPLETE: takes the value and releases the cell.
    fn finish(&mut self) -> Result<T, RecvError> {
        let inner = self.inner.take().expect("checked by the caller");
        // SAFETY: the caller observed COMPLETE with Acquire (rule 4).
        unsafe { inner.take_value() }.ok_or(RecvError(()))
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| self.poll_value(cx))
    }
}

impl<T> Receiver<T> {
    fn poll_value(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let Some(inner) = &self.inner else {
            panic!("a oneshot Receiver polled after it completed");
        };
        let state = match inner.register(RX_WAKER, COMPLETE | CLOSED, &inner.rx_waker, cx.waker()) {
            Ok(()) => return Poll::Pending,
            Err(state) => state,
        };
        // Rule 1: COMPLETE is never set after CLOSED, so the state that
        // ended the wait tells which of the two it was.
        if state & COMPLETE == 0 {
            self.inner = None;
            return Poll::Ready(Err(RecvError(())));
        }
        Poll::Ready(self.finish())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("terminated", &self.is_terminated())
            .finish_non_exhaustive()
    }
}
