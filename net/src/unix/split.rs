//! Borrowed halves of a `UnixStream`.

use std::io;
use std::net::Shutdown;

use super::{SocketAddr, UnixStream};
use crate::stream_api::{read_half, write_half};

/// The reading half of a [`UnixStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a UnixStream);

/// The writing half of a [`UnixStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a UnixStream);

pub(crate) fn split(stream: &mut UnixStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

impl ReadHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }
}

impl WriteHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }

    /// Shuts down the write side: the peer reads end-of-stream.
    pub fn shutdown(&self) -> io::Result<()> {
        self.0.shutdown(Shutdown::Write)
    }
}

read_half!(ReadHalf<'_>, SocketAddr);
write_half!(WriteHalf<'_>);
