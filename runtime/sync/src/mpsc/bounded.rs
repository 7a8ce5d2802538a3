//! The bounded flavour: `send` waits for room, in arrival order.

use std::fmt;
use std::task::{Context, Poll};

use super::chan::{Chan, Reserve, RxClosed, TryPush};
use super::error::{SendError, TryRecvError, TrySendError};
use super::receiver::{receiver_api, Rx};
use crate::loom::Arc;

/// Creates a channel that holds at most `capacity` messages.
///
/// # Panics
/// If `capacity` is 0 (use a [`oneshot`](crate::oneshot) or a
/// [`Notify`](crate::Notify) for a rendezvous).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: the capacity must be at least 1"
    );
    let chan = Chan::new(capacity);
    (Sender { chan: chan.clone() }, Receiver { rx: Rx { chan } })
}

/// Sends into a bounded channel; clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`] it to send.
///
/// [`upgrade`]: WeakSender::upgrade
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from a bounded channel.
pub struct Receiver<T> {
    rx: Rx<T>,
}

/// One reserved slot: [`send`](Permit::send) fills it without waiting; a
/// dropped permit gives the slot back.
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// A reserved slot that owns its sender, so it is `'static`.
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

receiver_api!(Receiver);

impl<T> Receiver<T> {
    /// The number of free slots right now.
    pub fn capacity(&self) -> usize {
        self.rx.chan.capacity()
    }

    /// The channel's bound.
    pub fn max_capacity(&self) -> usize {
        self.rx.chan.bound()
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full. Fails,
    /// giving the value back, once the receiver is closed.
    ///
    /// # Cancel safety
    /// If the returned future is dropped before it completes, the value
    /// was not sent (it is dropped with the future) and the sender loses
    /// its place in line; a slot already granted to it passes to the next
    /// sender. Use [`reserve`](Sender::reserve) to keep the value in a
    /// `select!`.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.try_push(value) {
            Ok(()) => Ok(()),
            Err(TryPush::Closed(value)) => Err(SendError(value)),
            Err(TryPush::Full(value)) => match Reserve::new(&self.chan).await {
                Ok(()) => {
                    self.chan.push_reserved(value);
                    Ok(())
                }
                Err(()) => Err(SendError(value)),
            },
        }
    }

    /// Sends `value` if there is room right now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_push(value).map_err(|e| match e {
            TryPush::Full(value) => TrySendError::Full(value),
            TryPush::Closed(value) => TrySendError::Closed(value),
        })
    }

    /// Sends from a thread outside any async runtime, parking it while the
    /// channel is full.
    ///
    /// # Panics
    /// On a thread that runs a Corium runtime's tasks (a `block_on` thread
    /// or a worker), where parking would stall them all; blocking-pool
    /// threads are fine.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on(self.send(value))
    }

    /// Waits for a slot and reserves it.
    ///
    /// # Cancel safety
    /// Cancel safe as to capacity (a dropped `reserve` gives a granted slot
    /// on), but it loses its place in line.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        Reserve::new(&self.chan).await.map_err(|()| SendError(()))?;
        Ok(Permit { chan: &self.chan })
    }

    /// [`reserve`](Sender::reserve) that consumes the sender, for a
    /// `'static` permit.
    ///
    /// # Cancel safety
    /// As [`reserve`](Sender::reserve).
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        Reserve::new(&self.chan).await.map_err(|()| SendError(()))?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Reserves a slot if one is free right now.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.try_reserve_slot()?;
        Ok(Permit { chan: &self.chan })
    }

    /// [`try_reserve`](Sender::try_reserve) that consumes the sender; on
    /// failure the sender comes back in the error.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.try_reserve_slot() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    fn try_reserve_slot(&self) -> Result<(), TrySendError<()>> {
        self.chan.try_reserve().map_err(|closed| match closed {
            true => TrySendError::Closed(()),
            false => TrySendError::Full(()),
        })
    }

    /// Waits until the receiver is dropped or closed: nobody will read what
    /// is sent from now on.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn closed(&self) {
        RxClosed::new(&self.chan).await
    }

    /// True once the receiver is dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// The number of free slots right now.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The channel's bound.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// True if both senders feed the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A sender that does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// The number of live senders.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }
}

impl<T> WeakSender<T> {
    /// A sender again, if any sender is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Permit<'_, T> {
    /// Fills the reserved slot. Never waits, never fails: after the
    /// receiver closed the message is still delivered; after it was dropped
    /// the message is dropped.
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        chan.push_reserved(value);
    }
}

impl<T> OwnedPermit<T> {
    /// Fills the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("a permit is used once");
        sender.chan.push_reserved(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("a permit is used once");
        sender.chan.release_reserved();
        sender
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved();
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.release_reserved();
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &*self.chan).finish()
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
