//! The receiving half both flavours share, and its public methods.

use std::task::{Context, Poll};

use super::chan::Chan;
use super::error::TryRecvError;
use crate::loom::Arc;

/// The receiver's side of a [`Chan`]; closes it when dropped.
pub(crate) struct Rx<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

impl<T> Rx<T> {
    pub(crate) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    pub(crate) async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| {
            crate::coop::poll_budgeted(cx, |cx| self.chan.poll_recv_many(cx, buffer, limit))
        })
        .await
    }

    pub(crate) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan
            .try_pop()
            .map_err(|disconnected| match disconnected {
                true => TryRecvError::Disconnected,
                false => TryRecvError::Empty,
            })
    }

    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::coop::poll_budgeted(cx, |cx| self.chan.poll_recv(cx))
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

/// The public methods of `Receiver` and `UnboundedReceiver`, written once.
macro_rules! receiver_api {
    ($receiver:ident) => {
        impl<T> $receiver<T> {
            /// Waits for the next message; `None` once the channel is empty
            /// and every sender is gone (or, after
            #[doc = concat!("[`close`](", stringify!($receiver), "::close),")]
            /// once every reserved slot was used or released).
            ///
            /// # Cancel safety
            /// Cancel safe: a dropped `recv` has taken no message.
            pub async fn recv(&mut self) -> Option<T> {
                self.rx.recv().await
            }

            /// Waits for at least one message, then moves up to `limit`
            /// queued messages into `buffer` at once; returns how many (0
            /// when the channel is finished, or if `limit` is 0).
            ///
            /// # Cancel safety
            /// Cancel safe: a dropped `recv_many` has taken no message.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                self.rx.recv_many(buffer, limit).await
            }

            /// Takes the next message if there is one right now.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.rx.try_recv()
            }

            /// Waits for the next message from a thread outside any async
            /// runtime, parking it.
            ///
            /// # Panics
            /// On a thread that runs a Corium runtime's tasks, where
            /// parking would stall them all.
            pub fn blocking_recv(&mut self) -> Option<T> {
                crate::blocking::block_on(self.recv())
            }

            /// Polls for the next message (for hand-written futures and
            /// streams).
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.rx.poll_recv(cx)
            }

            /// Closes the channel for senders without dropping the receiver:
            /// sends fail from now on, while the messages already queued
            /// (and those of outstanding permits) can still be received.
            pub fn close(&mut self) {
                self.rx.chan.close();
            }

            /// True once the channel is closed from either side.
            pub fn is_closed(&self) -> bool {
                self.rx.chan.is_closed_for_rx()
            }

            /// The number of queued messages.
            pub fn len(&self) -> usize {
                self.rx.chan.len()
            }

            /// True if no message is queued.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// The number of live senders (not counting weak ones).
            pub fn sender_strong_count(&self) -> usize {
                self.rx.chan.sender_count()
            }
        }

        impl<T> std::fmt::Debug for $receiver<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($receiver))
                    .field("chan", &*self.rx.chan)
                    .finish()
            }
        }
    };
}

pub(crate) use receiver_api;
