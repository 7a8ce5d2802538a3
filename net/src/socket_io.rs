//! The I/O every socket type shares: a [`Registration`] plus the
//! readiness-driven `recv`/`send` calls on it.
//!
//! Sends always pass `MSG_NOSIGNAL`: a write to a closed peer is an
//! `EPIPE` error, never a `SIGPIPE`, even in a host program that restored
//! the default signal handler. Reads go through `recv`. A short read or
//! write clears readiness (the reactor's protocol), so the next call waits
//! for an event instead of costing an `EAGAIN` syscall.
//!
//! The [`fd_and_debug!`] macro gives each socket type built on a
//! `SocketIo` its `AsFd`, `AsRawFd` and `Debug` impls.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::task::{ready, Context, Poll};

use corium_reactor::{Interest, Ready, Registration};
use rustix::net::{RecvFlags, SendAncillaryBuffer, SendFlags};

/// A non-blocking socket registered with the current reactor.
pub(crate) struct SocketIo<T: AsFd> {
    registration: Registration<T>,
}

impl<T: AsFd> SocketIo<T> {
    /// Registers `socket`, which must already be non-blocking.
    pub(crate) fn new(socket: T) -> io::Result<SocketIo<T>> {
        Ok(SocketIo {
            registration: Registration::new(socket)?,
        })
    }

    /// Registers an accepted connection with the next reactor of the
    /// runtime in turn (`Handle::balanced`), so that on the multi-thread
    /// flavor connections spread over the workers.
    #[track_caller]
    pub(crate) fn new_balanced(socket: T) -> io::Result<SocketIo<T>> {
        let handle = corium_reactor::Handle::current().balanced();
        Ok(SocketIo {
            registration: Registration::with_handle(&handle, socket)?,
        })
    }

    pub(crate) fn get_ref(&self) -> &T {
        self.registration.get_ref()
    }

    /// Deregisters the socket and gives it back (still non-blocking).
    pub(crate) fn into_inner(self) -> T {
        self.registration.into_inner()
    }

    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.registration.poll_read_io(cx, buf.len(), |socket| {
            rustix::net::recv(socket, &mut *buf, RecvFlags::empty())
                .map(|(n, _)| n)
                .map_err(io::Error::from)
        })
    }

    pub(crate) fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.registration.poll_io(cx, Interest::Readable, |socket| {
            rustix::net::recv(socket, &mut *buf, RecvFlags::PEEK)
                .map(|(n, _)| n)
                .map_err(io::Error::from)
        })
    }

    pub(crate) fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.registration
            .poll_write_io(cx, buf.len(), |socket| send(socket, buf))
    }

    pub(crate) fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.registration
            .poll_write_io(cx, len, |socket| send_vectored(socket, bufs))
    }

    /// Runs a non-blocking operation once it is ready in `interest`'s
    /// direction, waiting again after `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration.poll_io(cx, interest, op)
    }

    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        let event = ready!(self.registration.poll_ready(cx, interest))?;
        Poll::Ready(Ok(event.ready))
    }

    /// Waits until the socket is ready in `interest`'s direction.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// Runs `op` if the socket was last seen ready in `interest`'s
    /// direction; a `WouldBlock` from it clears that readiness.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, op)
    }
}

/// `send` with `MSG_NOSIGNAL`.
pub(crate) fn send(socket: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(socket, buf, SendFlags::NOSIGNAL)?)
}

/// `sendmsg` with `MSG_NOSIGNAL` (`writev` could raise `SIGPIPE`).
pub(crate) fn send_vectored(socket: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut control = SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(
        socket,
        bufs,
        &mut control,
        SendFlags::NOSIGNAL,
    )?)
}

impl<T: AsFd + fmt::Debug> fmt::Debug for SocketIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get_ref().fmt(f)
    }
}

/// `AsFd`, `AsRawFd` and `Debug` for a socket type with an `io: SocketIo<_>`
/// field. `Debug` shows each `name = getter` given (an address getter,
/// `None` on error) and then the fd.
macro_rules! fd_and_debug {
    ($socket:ident, $($name:ident = $getter:ident),+) => {
        impl std::os::fd::AsFd for $socket {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }

        impl std::os::fd::AsRawFd for $socket {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        impl std::fmt::Debug for $socket {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($socket))
                    $(.field(stringify!($name), &self.$getter().ok()))+
                    .field("fd", &std::os::fd::AsRawFd::as_raw_fd(self))
                    .finish()
            }
        }
    };
}

pub(crate) use fd_and_debug;
