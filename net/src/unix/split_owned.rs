//! Owned halves of a `UnixStream`, for a reader task and a writer task.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::sync::Arc;

use super::{SocketAddr, UnixStream};
use crate::stream_api::{read_half, write_half};

/// The reading half of a [`UnixStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<UnixStream>,
}

/// The writing half of a [`UnixStream::into_split`]; dropping it shuts down
/// the write side (unless [`forget`](OwnedWriteHalf::forget) was called).
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

/// The two halves given to [`OwnedReadHalf::reunite`] came from different
/// streams; here they are back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

pub(crate) fn split_owned(stream: UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl OwnedReadHalf {
    fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Joins the halves back into the stream, if they belong together.
    pub fn reunite(self, mut write: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        Ok(Arc::try_unwrap(self.stream).expect("both halves were given, so no other owner"))
    }
}

impl OwnedWriteHalf {
    fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Joins the halves back into the stream, if they belong together.
    pub fn reunite(self, read: OwnedReadHalf) -> Result<UnixStream, ReuniteError> {
        read.reunite(self)
    }

    /// Drops the half without shutting down the write side.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// Shuts down the write side now: the peer reads end-of-stream.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; nothing to report from a drop.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

read_half!(OwnedReadHalf, SocketAddr);
write_half!(OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different Unix streams")
    }
}

impl Error for ReuniteError {}
