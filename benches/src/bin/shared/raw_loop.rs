//! The echo loop with no runtime: one thread, non-blocking sockets,
//! level-triggered readiness, and per request one `read`, one `write` and a
//! share of one wait. `echo-epoll` runs it on `epoll_wait` itself (the
//! limit), `echo-polling` on `polling::Poller::wait`; the loop is the same
//! code, so any difference between the two is the wait.
//!
//! A connection is registered once, for reading. Its interest changes only
//! when a write is short (the peer is not reading): the rest is kept, the
//! connection waits for writability instead of readability until the rest
//! is out, then goes back to reading. A plain echo request never touches
//! the registration.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::SocketFlags;

/// Bytes read at a time (every server of the suite reads into 16 KiB).
pub const READ_BUF: usize = 16 * 1024;

/// The key the listener is registered with; connection `i` of the slab has
/// key `i + 1`. (`usize::MAX` is reserved by `polling`.)
const LISTENER: usize = 0;

/// One readiness report.
pub struct Ready {
    /// The key the source was registered with.
    pub key: usize,
    /// Readable, or hung up / in error (a read will say which).
    pub readable: bool,
    /// Writable, or hung up / in error.
    pub writable: bool,
}

/// The poller under the loop: level-triggered registration and a wait.
pub trait Poll {
    /// Registers `fd` for readability under `key`.
    fn add(&mut self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()>;
    /// Switches `fd`'s interest to writability (`true`) or back to
    /// readability (`false`).
    fn want_write(&mut self, fd: BorrowedFd<'_>, key: usize, write: bool) -> io::Result<()>;
    /// Forgets `fd`, which is about to be closed.
    fn delete(&mut self, fd: BorrowedFd<'_>) -> io::Result<()>;
    /// Blocks until something is ready and appends it to `ready`.
    fn wait(&mut self, ready: &mut Vec<Ready>) -> io::Result<()>;
}

/// One connection.
struct Conn {
    fd: OwnedFd,
    /// Echo bytes a short write left over; while not empty the connection
    /// waits for writability, not readability.
    pending: Vec<u8>,
    /// How much of `pending` is written.
    sent: usize,
}

/// Serves echo on `listener` forever (until the process is killed); returns
/// only on an error of the poller itself.
pub fn run<P: Poll>(listener: TcpListener, mut poll: P) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    poll.add(listener.as_fd(), LISTENER)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; READ_BUF];
    let mut ready = Vec::with_capacity(256);
    loop {
        ready.clear();
        poll.wait(&mut ready)?;
        for r in &ready {
            if r.key == LISTENER {
                accept_all(&listener, &mut poll, &mut conns, &mut free);
                continue;
            }
            let slot = r.key - 1;
            let Some(Some(conn)) = conns.get_mut(slot) else {
                continue;
            };
            let keep = if conn.pending.is_empty() {
                !r.readable || echo(conn, &mut buf, &mut poll, r.key)
            } else {
                !r.writable || flush(conn, &mut poll, r.key)
            };
            if !keep {
                if let Some(conn) = conns[slot].take() {
                    let _ = poll.delete(conn.fd.as_fd());
                    free.push(slot);
                }
            }
        }
    }
}

/// Accepts every pending connection (`accept4`, non-blocking in the same
/// call) and registers each for readability.
fn accept_all<P: Poll>(
    listener: &TcpListener,
    poll: &mut P,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
) {
    loop {
        match rustix::net::accept_with(listener, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC) {
            Ok(fd) => {
                let slot = free.pop().unwrap_or_else(|| {
                    conns.push(None);
                    conns.len() - 1
                });
                if let Err(error) = poll.add(fd.as_fd(), slot + 1) {
                    eprintln!("register: {error}");
                    free.push(slot);
                    continue;
                }
                conns[slot] = Some(Conn {
                    fd,
                    pending: Vec::new(),
                    sent: 0,
                });
            }
            Err(Errno::AGAIN) => return,
            Err(Errno::INTR | Errno::CONNABORTED) => continue,
            Err(error) => {
                // Out of descriptors and the like: say so and try again on
                // the next wake rather than spin here.
                eprintln!("accept: {error}");
                return;
            }
        }
    }
}

/// One `read` and one `write` of what it read; `false` when the connection
/// is done (end of stream or error).
fn echo<P: Poll>(conn: &mut Conn, buf: &mut [u8], poll: &mut P, key: usize) -> bool {
    let n = match rustix::io::read(&conn.fd, &mut *buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(Errno::AGAIN | Errno::INTR) => return true,
        Err(_) => return false,
    };
    let written = match rustix::io::write(&conn.fd, &buf[..n]) {
        Ok(m) => m,
        Err(Errno::AGAIN | Errno::INTR) => 0,
        Err(_) => return false,
    };
    if written < n {
        conn.pending.extend_from_slice(&buf[written..n]);
        conn.sent = 0;
        if poll.want_write(conn.fd.as_fd(), key, true).is_err() {
            return false;
        }
    }
    true
}

/// Writes what a short write left; back to reading once it is all out.
fn flush<P: Poll>(conn: &mut Conn, poll: &mut P, key: usize) -> bool {
    match rustix::io::write(&conn.fd, &conn.pending[conn.sent..]) {
        Ok(m) => conn.sent += m,
        Err(Errno::AGAIN | Errno::INTR) => return true,
        Err(_) => return false,
    }
    if conn.sent == conn.pending.len() {
        conn.pending.clear();
        conn.sent = 0;
        if poll.want_write(conn.fd.as_fd(), key, false).is_err() {
            return false;
        }
    }
    true
}
