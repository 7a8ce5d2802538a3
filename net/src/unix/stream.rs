//! `UnixStream`: a connected Unix stream socket.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use corium_reactor::time::sleep;
use corium_reactor::{Interest, Ready};
use futures_io::{AsyncRead, AsyncWrite};
use rustix::io::Errno;
use rustix::net::SocketType;

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use super::{sockaddr, socket, socket_pair, SocketAddr};
use crate::socket_io::SocketIo;
use crate::stream_api::{read_exact, write_all};

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

    /// Reads into `buf`; `Ok(0)` means the peer closed its write side (or
    /// `buf` is empty).
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before completing, no data was read.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_recv(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the peer closes
    /// first.
    ///
    /// # Cancel safety
    /// Not cancel safe: bytes read before the drop are lost.
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.io, buf).await
    }

    /// Reads without removing the data from the socket's queue.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_peek(cx, buf)).await
    }

    /// Writes some of `buf`; returns how much.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before completing, nothing was written.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_send(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Cancel safety
    /// Not cancel safe: part of `buf` may have been written.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.io, buf).await
    }

    /// Writes from several buffers in one `sendmsg`; returns how much.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_send_vectored(cx, bufs)).await
    }

    /// Shuts down the read side, the write side or both. After
    /// `Shutdown::Write` the peer reads end-of-stream while this side can
    /// still read what the peer sends (a half-close).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the stream is ready in `interest`'s direction.
    ///
    /// One task at a time should wait per direction (the latest waiter's
    /// waker is the one woken).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until a read may succeed (see [`ready`](Self::ready)).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await.map(drop)
    }

    /// Waits until a write may succeed (see [`ready`](Self::ready)).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::Writable).await.map(drop)
    }

    /// Reads now if data is ready, else `WouldBlock` (and the readiness is
    /// cleared, so [`readable`](Self::readable) waits for new data).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::Readable, |s| {
            rustix::net::recv(s, buf, rustix::net::RecvFlags::empty())
                .map(|(n, _)| n)
                .map_err(io::Error::from)
        })
    }

    /// Writes now if the socket has room, else `WouldBlock`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::Writable, |s| crate::socket_io::send(s, buf))
    }

    /// Runs any non-blocking operation `op` on the socket under the
    /// readiness protocol (`WouldBlock` clears readiness).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(interest, |_| op())
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

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_recv(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_send(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_send_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side: the peer reads end-of-stream.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
