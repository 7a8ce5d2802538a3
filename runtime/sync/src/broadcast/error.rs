//! The errors of the [`broadcast`](super) channel.

use std::fmt;

/// The error of [`Sender::send`](super::Sender::send): no receiver is
/// subscribed, so nobody could ever see the value. The value is handed
/// back in the error.
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
        f.write_str("channel closed: the broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`](super::Receiver::recv).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvError {
    /// Every sender is gone and this receiver has seen every value sent:
    /// no value will ever come.
    Closed,
    /// This receiver fell behind: this many values were overwritten before
    /// it saw them. The next receive returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Lagged(missed) => write!(f, "channel lagged by {missed}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No value is waiting for this receiver now; senders remain.
    Empty,
    /// Every sender is gone and this receiver has seen every value sent.
    Closed,
    /// This receiver fell behind: this many values were overwritten before
    /// it saw them. The next receive returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
            TryRecvError::Lagged(missed) => write!(f, "channel lagged by {missed}"),
        }
    }
}

impl std::error::Error for TryRecvError {}
