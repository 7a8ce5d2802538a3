//! `TcpListener`: accepts TCP connections.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use corium_reactor::Interest;
use futures_core::Stream;
use rustix::net::SocketFlags;

use super::{TcpSocket, TcpStream};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::socket_io::{fd_and_debug, SocketIo};

/// The accept queue length `bind` asks for; the kernel caps it at
/// `net.core.somaxconn`.
pub(crate) const BACKLOG: u32 = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// # corium::block_on(async {
/// let listener = corium::net::TcpListener::bind("127.0.0.1:0").await?;
/// println!("listening on {}", listener.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    io: SocketIo<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (trying each address it resolves to) with
    /// `SO_REUSEADDR` and a backlog of 1024, and listens.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move {
            let socket = TcpSocket::for_addr(addr)?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(BACKLOG)
        })
        .await
    }

    pub(crate) fn from_listening(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: SocketIo::new(listener)?,
        })
    }

    /// Wraps a listening `std` listener, switching it to non-blocking mode.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_listening(listener)
    }

    /// Deregisters the listener and returns it in blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let listener = self.io.into_inner();
        listener.set_nonblocking(false)?;
        Ok(listener)
    }

    /// Waits for the next connection.
    ///
    /// Errors are returned, not retried: with the fd table full
    /// (`EMFILE`/`ENFILE`) the pending connection stays queued, so a loop
    /// that retries at once spins; back off briefly first (the examples
    /// sleep 100 ms).
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `accept` has taken no connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (fd, addr) = std::task::ready!(self.io.poll_io(cx, Interest::Readable, |listener| {
            // One syscall: the new socket is non-blocking and close-on-exec
            // from the start.
            Ok(rustix::net::acceptfrom_with(
                listener,
                SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            )?)
        }))?;
        let addr = addr
            .and_then(|addr| SocketAddr::try_from(addr).ok())
            .ok_or_else(|| io::Error::other("accept returned no peer address"))?;
        let stream = TcpStream::from_accepted(std::net::TcpStream::from(fd))?;
        Poll::Ready(Ok((stream, addr)))
    }

    /// The connections as a `Stream` (of `futures-core`); it never ends.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The local address, with the port the OS chose for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

/// The stream of [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(|(stream, _)| stream)))
    }
}

fd_and_debug!(TcpListener, addr = local_addr);
