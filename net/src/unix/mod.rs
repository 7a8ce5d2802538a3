//! Unix domain sockets: [`UnixListener`], [`UnixStream`] with its halves,
//! and [`UnixDatagram`], as `tokio::net::unix`.
//!
//! Every socket made here is non-blocking and close-on-exec from the one
//! `socket`/`socketpair`/`accept4` call, and sends pass `MSG_NOSIGNAL`, as
//! for TCP. Addresses are `std::os::unix::net::SocketAddr`, re-exported
//! here as [`SocketAddr`].

mod datagram;
mod listener;
mod split;
mod split_owned;
mod stream;

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;

/// The flags every socket here is created with, in the creating syscall.
const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// A new non-blocking, close-on-exec Unix socket.
fn socket(type_: SocketType) -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(
        AddressFamily::UNIX,
        type_,
        FLAGS,
        None,
    )?)
}

/// A connected pair of non-blocking, close-on-exec Unix sockets.
fn socket_pair(type_: SocketType) -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        type_,
        FLAGS,
        None,
    )?)
}

/// The `sockaddr_un` for a path (`InvalidInput` if it holds a NUL byte,
/// an error if it is too long for `sun_path`).
fn sockaddr(path: &Path) -> io::Result<SocketAddrUnix> {
    Ok(SocketAddrUnix::new(path)?)
}
