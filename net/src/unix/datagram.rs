//! `UnixDatagram`: a Unix datagram socket.

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::path::Path;

use corium_reactor::Interest;
use rustix::net::{SendFlags, SocketAddrUnix, SocketType};

use super::{sockaddr, socket, socket_pair, SocketAddr};
use crate::datagram_api::datagram_io;
use crate::socket_io::{fd_and_debug, SocketIo};

/// A Unix datagram socket: bound to a path, unbound, or one of a pair.
///
/// Each `recv` returns one datagram; one longer than the buffer is cut to
/// fit and the rest is lost. Sends pass `MSG_NOSIGNAL`.
///
/// ```
/// use corium::net::UnixDatagram;
///
/// # corium::block_on(async {
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0; 16];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixDatagram {
    io: SocketIo<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (created here, not removed on drop).
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let fd = socket(SocketType::DGRAM)?;
        rustix::net::bind(&fd, &sockaddr(path.as_ref())?)?;
        UnixDatagram::from_nonblocking(fd.into())
    }

    /// A socket bound to no address: it can send, and receive replies only
    /// from a peer it is [`connect`](Self::connect)ed to.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_nonblocking(socket(SocketType::DGRAM)?.into())
    }

    /// A connected pair of sockets, made in one `socketpair` call.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = socket_pair(SocketType::DGRAM)?;
        Ok((
            UnixDatagram::from_nonblocking(a.into())?,
            UnixDatagram::from_nonblocking(b.into())?,
        ))
    }

    /// Wraps a `std` socket, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_nonblocking(socket)
    }

    fn from_nonblocking(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: SocketIo::new(socket)?,
        })
    }

    /// Deregisters the socket and returns it in blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        let socket = self.io.into_inner();
        socket.set_nonblocking(false)?;
        Ok(socket)
    }

    /// Sets the default peer: [`send`](Self::send) goes there, and only its
    /// datagrams are received. Does not block (a datagram connect only
    /// records the address).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        Ok(rustix::net::connect(
            self.io.get_ref(),
            &sockaddr(path.as_ref())?,
        )?)
    }

    /// The local address (unnamed unless bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address; `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before completing, nothing was sent.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let addr = sockaddr(path.as_ref())?;
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Interest::Writable, |s| send_to(s, buf, &addr))
        })
        .await
    }

    /// Sends to `path` now if there is room, else `WouldBlock`.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let addr = sockaddr(path.as_ref())?;
        self.io
            .try_io(Interest::Writable, |s| send_to(s, buf, &addr))
    }

    /// Shuts down the read side, the write side or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// `sendto` with `MSG_NOSIGNAL`.
fn send_to(socket: impl AsFd, buf: &[u8], addr: &SocketAddrUnix) -> io::Result<usize> {
    Ok(rustix::net::sendto(socket, buf, SendFlags::NOSIGNAL, addr)?)
}

datagram_io!(UnixDatagram, SocketAddr);

fd_and_debug!(UnixDatagram, local = local_addr, peer = peer_addr);
