//! `UnixListener`: accepts Unix stream connections.

use std::future::poll_fn;
use std::io;
use std::path::Path;
use std::task::{ready, Context, Poll};

use corium_reactor::Interest;
use rustix::net::SocketType;

use super::{sockaddr, socket, SocketAddr, UnixStream, FLAGS};
use crate::socket_io::{fd_and_debug, SocketIo};

/// The accept queue length `bind` asks for, as `TcpListener`'s; the kernel
/// caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// A Unix socket listening for stream connections.
///
/// ```
/// use corium::net::{UnixListener, UnixStream};
///
/// # corium::block_on(async {
/// let dir = std::env::temp_dir().join(format!("corium-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let client = UnixStream::connect(&path).await?;
/// let (server, _) = listener.accept().await?;
/// # drop((client, server));
/// std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    io: SocketIo<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens with a backlog of 1024. The socket file
    /// is created here and not removed on drop (as with `std`): remove it
    /// before binding the same path again, or binding fails with
    /// `AddrInUse`.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let fd = socket(SocketType::STREAM)?;
        rustix::net::bind(&fd, &sockaddr(path.as_ref())?)?;
        rustix::net::listen(&fd, BACKLOG)?;
        Ok(UnixListener {
            io: SocketIo::new(fd.into())?,
        })
    }

    /// Wraps a listening `std` listener, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: SocketIo::new(listener)?,
        })
    }

    /// Deregisters the listener and returns it in blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        let listener = self.io.into_inner();
        listener.set_nonblocking(false)?;
        Ok(listener)
    }

    /// Waits for the next connection.
    ///
    /// Errors are returned, not retried: with the fd table full
    /// (`EMFILE`/`ENFILE`) the pending connection stays queued, so a loop
    /// that retries at once spins; back off briefly first.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `accept` has taken no connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    ///
    /// The new socket is non-blocking and close-on-exec from its `accept4`;
    /// the peer's address comes from `getpeername`, because `std`'s
    /// `SocketAddr` cannot be built from a raw unnamed address.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let fd = ready!(self.io.poll_io(cx, Interest::Readable, |listener| {
            Ok(rustix::net::accept_with(listener, FLAGS)?)
        }))?;
        let stream = std::os::unix::net::UnixStream::from(fd);
        let addr = stream.peer_addr()?;
        Poll::Ready(Ok((UnixStream::from_connected(stream)?, addr)))
    }

    /// The local address: the path bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

fd_and_debug!(UnixListener, addr = local_addr);
