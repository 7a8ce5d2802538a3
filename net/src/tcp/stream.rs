//! `TcpStream`: a connected TCP socket.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use corium_reactor::{Interest, Ready};
use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::socket_io::SocketIo;
use crate::stream_api::{read_exact, write_all};

/// A TCP connection: read, write, or split it into halves for a reader and
/// a writer task.
///
/// Reads and writes are inherent `async fn`s, and the stream implements
/// `futures-io`'s `AsyncRead` and `AsyncWrite`, so `futures-util`'s
/// `AsyncReadExt`, `AsyncWriteExt`, `io::copy` and `BufReader` work on it.
///
/// ```
/// use corium::net::{TcpListener, TcpStream};
///
/// # corium::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// corium::spawn(async move {
///     let (mut peer, _) = listener.accept().await?;
///     let mut buf = [0; 5];
///     peer.read_exact(&mut buf).await?;
///     peer.write_all(&buf).await
/// });
/// let mut stream = TcpStream::connect(addr).await?;
/// stream.write_all(b"hello").await?;
/// let mut echo = [0; 5];
/// stream.read_exact(&mut echo).await?;
/// assert_eq!(&echo, b"hello");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpStream {
    io: SocketIo<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn;
    /// returns the first connection or the last error (a closed port gives
    /// `ConnectionRefused`).
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        TcpStream::connect_socket(socket, addr).await
    }

    /// Non-blocking connect done right: start it, wait for writability,
    /// then read `SO_ERROR` for the outcome.
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream {
            io: SocketIo::new(std::net::TcpStream::from(socket))?,
        };
        stream.io.ready(Interest::Writable).await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        // A connection refused between the event and `SO_ERROR` shows here.
        stream.peer_addr()?;
        Ok(stream)
    }

    /// Wraps a connected `std` stream, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: SocketIo::new(stream)?,
        })
    }

    pub(crate) fn from_accepted(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: SocketIo::new(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a blocking `std` stream.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let stream = self.io.into_inner();
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
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
    /// still read what the peer sends (a half-close). tokio's
    /// `AsyncWriteExt::shutdown` is `shutdown(Shutdown::Write)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the stream is ready in `interest`'s direction.
    ///
    /// One task at a time should wait per direction (the latest waiter's
    /// waker is the one woken).
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until a read may succeed (see [`ready`](Self::ready)).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::Readable).await.map(drop)
    }

    /// Waits until a write may succeed (see [`ready`](Self::ready)).
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

    /// Sets `TCP_NODELAY`: send small writes at once instead of batching
    /// them (Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `SO_LINGER`: `Some(Duration::ZERO)` makes `close` reset the
    /// connection instead of a graceful FIN.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Borrowed halves for a reader and a writer in the same task (e.g.
    /// both sides of a `join!`); no allocation.
    ///
    /// With `futures_util::io::AsyncReadExt` in scope, `stream.split()`
    /// resolves to that trait's `split(self)` (lock-based halves without
    /// `peek` or `shutdown`), because Rust tries by-value methods first;
    /// write `TcpStream::split(&mut stream)` there.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Owned halves that can move into separate tasks; join them again
    /// with [`OwnedReadHalf::reunite`]. Dropping the write half shuts
    /// down the write side, as tokio's does.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    pub(crate) fn socket_io(&self) -> &SocketIo<std::net::TcpStream> {
        &self.io
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_recv(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
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

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
