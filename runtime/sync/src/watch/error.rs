//! The errors of the [`watch`](super) channel.

use std::fmt;

/// The error of [`Sender::send`](super::Sender::send): no receiver is
/// left to see the value, so it was not stored. The value is handed back.
///
/// Its `Debug` does not show the value, so it needs no `T: Debug`.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the watch channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::changed`](super::Receiver::changed) and
/// friends: every sender is gone, so the value will never change again.
/// The last value can still be read with
/// [`Receiver::borrow`](super::Receiver::borrow).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError(pub(super) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: every watch sender has been dropped")
    }
}

impl std::error::Error for RecvError {}
