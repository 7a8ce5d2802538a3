//! `UdpSocket`: a UDP socket.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use corium_reactor::Interest;
use rustix::net::SendFlags;
use socket2::{Domain, Protocol, Socket, Type};

use crate::addr::{each_addr, no_addresses, resolve, ToSocketAddrs};
use crate::datagram_api::datagram_io;
use crate::socket_io::{fd_and_debug, SocketIo};

/// A UDP socket: send and receive datagrams, to and from any address or,
/// after [`connect`](UdpSocket::connect), one peer.
///
/// Each receive returns one datagram; one longer than the buffer is cut to
/// fit and the rest is lost. The methods take `&self`, so an
/// `Arc<UdpSocket>` can be shared by a sending and a receiving task.
///
/// ```
/// use corium::net::UdpSocket;
///
/// # corium::block_on(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    io: SocketIo<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`, trying each address it resolves to in turn;
    /// returns the first socket bound or the last error. Port 0 lets the
    /// OS choose (see [`local_addr`](Self::local_addr)).
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `bind` leaves no socket open.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move { UdpSocket::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking(),
            Some(Protocol::UDP),
        )?;
        socket.bind(&addr.into())?;
        UdpSocket::from_nonblocking(socket.into())
    }

    /// Wraps a bound `std` socket, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_nonblocking(socket)
    }

    fn from_nonblocking(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: SocketIo::new(socket)?,
        })
    }

    /// Deregisters the socket and returns it in blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let socket = self.io.into_inner();
        socket.set_nonblocking(false)?;
        Ok(socket)
    }

    /// The local address, with the port the OS chose for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address; `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets the default peer, trying each address `addr` resolves to:
    /// [`send`](Self::send) goes there, and only its datagrams are
    /// received. A UDP connect sends nothing; an unreachable peer shows as
    /// `ConnectionRefused` on a later send or receive.
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while resolving, the socket is unchanged.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(addr, |addr| async move { socket.connect(addr) }).await
    }

    /// Sends `buf` as one datagram to `target`; a host name is resolved
    /// first, and the first address it resolves to is used.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before completing, nothing was sent.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(target)
            .await?
            .into_iter()
            .next()
            .ok_or_else(no_addresses)?;
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls to send `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::Writable, |s| send_to(s, buf, target))
    }

    /// Sends to `target` now if there is room, else `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::Writable, |s| send_to(s, buf, target))
    }

    /// Reads the next datagram and its sender's address without removing
    /// it from the queue: the next receive returns it again.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_peek_from(cx, buf)).await
    }

    /// Polls to peek at the next datagram.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Interest::Readable, |s| s.peek_from(&mut *buf))
    }

    /// Peeks at the next datagram now if one is queued, else `WouldBlock`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::Readable, |s| s.peek_from(buf))
    }

    /// Sets `SO_BROADCAST`: allow sending to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any: an ICMP
    /// "port unreachable" for an earlier datagram shows here.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// `sendto` with `MSG_NOSIGNAL`, like every send here.
fn send_to(socket: impl AsFd, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
    Ok(rustix::net::sendto(
        socket,
        buf,
        SendFlags::NOSIGNAL,
        &target,
    )?)
}

datagram_io!(UdpSocket, SocketAddr);

fd_and_debug!(UdpSocket, local = local_addr, peer = peer_addr);
