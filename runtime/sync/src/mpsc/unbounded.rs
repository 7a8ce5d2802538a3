//! The unbounded flavour: `send` never waits.

use std::fmt;
use std::task::{Context, Poll};

use super::chan::{Chan, RxClosed, TryPush};
use super::error::{SendError, TryRecvError};
use super::receiver::{receiver_api, Rx};
use crate::loom::Arc;

/// Creates an unbounded channel: memory is the only limit.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(usize::MAX);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { rx: Rx { chan } },
    )
}

/// Sends into an unbounded channel; clone it for more producers.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`] it to send.
///
/// [`upgrade`]: WeakUnboundedSender::upgrade
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from an unbounded channel.
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

receiver_api!(UnboundedReceiver);

impl<T> UnboundedSender<T> {
    /// Queues `value`; fails, giving it back, once the receiver is closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.try_push(value).map_err(|e| match e {
            TryPush::Full(value) | TryPush::Closed(value) => SendError(value),
        })
    }

    /// Waits until the receiver is dropped or closed.
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

    /// True if both senders feed the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A sender that does not keep the channel open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }

    /// The number of live senders.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }
}

impl<T> WeakUnboundedSender<T> {
    /// A sender again, if any sender is still alive.
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &*self.chan)
            .finish()
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}
