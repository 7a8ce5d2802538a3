//! `UnixStream`: a connected Unix stream socket.

use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::time::Duration;

use corium_reactor::time::sleep;
use corium_reactor::Interest;
use rustix::io::Errno;
use rustix::net::SocketType;

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use super::{sockaddr, socket, socket_pair, SocketAddr};
use crate::socket_io::{fd_and_debug, SocketIo};
use crate::stream_api::stream_io;

/// The first pause before retrying a connect that found the listener's
/// accept queue full; it doubles up to [`CONNECT_RETRY_MAX`].
const CONNECT_RETRY_MIN: Duration = Duration::from_millis(1);

/// The longest pause between connect retries: a listener that catches up
/// is noticed within this long, and a stuck one costs a few syscalls a
/// second.
const CONNECT_RETRY_MAX: Duration = Duration::from_millis(50);

/// A Unix stream connection: read, write, or split it into halves for a
/// reader and a writer task.
///
/// Reads and writes are inherent `async fn`s, and the stream implements
/// `futures-io`'s `AsyncRead` and `AsyncWrite`. Writes pass `MSG_NOSIGNAL`:
/// writing to a closed peer is a `BrokenPipe` error, never a `SIGPIPE`.
///
/// ```
/// use corium::net::UnixStream;
///
/// # corium::block_on(async {
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixStream {
    io: SocketIo<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`.
    ///
    /// A missing path gives `NotFound`; a path with no listener behind it
    /// gives `ConnectionRefused`. When the listener's accept queue is full,
    /// a non-blocking connect on Linux fails with `EAGAIN` instead of
    /// waiting; this one retries with a growing pause (1 ms up to 50 ms)
    /// until the listener makes room, as a blocking `connect` would wait.
    /// Wrap it in [`timeout`](corium_reactor::time::timeout) to bound that.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped connect closes its socket.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = sockaddr(path.as_ref())?;
        let fd = socket(SocketType::STREAM)?;
        let mut pause = CONNECT_RETRY_MIN;
        loop {
            match rustix::net::connect(&fd, &addr) {
                Ok(()) => return UnixStream::from_connected(fd.into()),
                // Other Unixes may finish the connect later, as TCP does.
                Err(Errno::INPROGRESS) => break,
                Err(Errno::AGAIN) => {
                    sleep(pause).await;
                    pause = (pause * 2).min(CONNECT_RETRY_MAX);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let stream = UnixStream::from_connected(fd.into())?;
        stream.io.ready(Interest::Writable).await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        stream.peer_addr()?;
        Ok(stream)
    }

    /// A connected pair of streams, made in one `socketpair` call.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = socket_pair(SocketType::STREAM)?;
        Ok((
            UnixStream::from_connected(a.into())?,
            UnixStream::from_connected(b.into())?,
        ))
    }

    /// Wraps a connected `std` stream, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_connected(stream)
    }

    /// Registers a stream that is non-blocking already.
    pub(crate) fn from_connected(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: SocketIo::new(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a blocking `std` stream.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        let stream = self.io.into_inner();
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// The local address (unnamed unless the socket was bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address (unnamed for a [`pair`](Self::pair) or an
    /// unbound client).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both. After
    /// `Shutdown::Write` the peer reads end-of-stream while this side can
    /// still read what the peer sends (a half-close).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Borrowed halves for a reader and a writer in the same task (e.g.
    /// both sides of a `join!`); no allocation.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Owned halves that can move into separate tasks; join them again
    /// with [`OwnedReadHalf::reunite`]. Dropping the write half shuts
    /// down the write side, as tokio's does.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    pub(crate) fn socket_io(&self) -> &SocketIo<std::os::unix::net::UnixStream> {
        &self.io
    }
}

stream_io!(UnixStream);

fd_and_debug!(UnixStream, local = local_addr, peer = peer_addr);
