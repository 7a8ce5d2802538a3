//! `TcpStream`: a connected TCP socket.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use corium_reactor::Interest;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::socket_io::{fd_and_debug, SocketIo};
use crate::stream_api::stream_io;

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
            io: SocketIo::new_balanced(stream)?,
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

    /// Shuts down the read side, the write side or both. After
    /// `Shutdown::Write` the peer reads end-of-stream while this side can
    /// still read what the peer sends (a half-close). tokio's
    /// `AsyncWriteExt::shutdown` is `shutdown(Shutdown::Write)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
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

stream_io!(TcpStream);

fd_and_debug!(TcpStream, local = local_addr, peer = peer_addr);
