//! `http-epoll`: the limit for `http_hello`. A single-thread HTTP hello
//! server on raw `epoll`, no runtime: level-triggered, non-blocking
//! `accept4`, and per read one `write` answering every complete request
//! header in it (`\r\n\r\n`-terminated; the unfinished tail is kept) with
//! the same fixed `200` as examples/http_hello.rs. It never calls
//! `epoll_ctl` in steady state. Keep-alive only: it does not look for
//! `Connection: close` (wrk never sends it); a header over 8 KiB closes
//! the connection.
//!
//! `http-epoll [--addr HOST:PORT]`: prints `listening on <addr>` once bound
//! and serves until killed. Used by `benches/net/app.sh`.

#[path = "shared/server_cli.rs"]
mod server_cli;

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::io::Errno;
use rustix::net::{sockopt, SocketFlags};

const NAME: &str = "http-epoll";

/// The answer to every request (the same bytes as examples/http_hello.rs).
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";

/// The largest request header accepted, and so the read buffer's size.
const MAX_HEADER: usize = 8 * 1024;

/// The listener's key; connection `i` of the slab has key `i + 1`.
const LISTENER: u64 = 0;

fn main() {
    let options = server_cli::ServerOptions::from_args(
        NAME,
        "The limit for http_hello: a single-thread HTTP hello server on raw epoll, no runtime.",
        server_cli::Flags::default(),
    );
    let listener = TcpListener::bind(options.addr)
        .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
    let local = listener
        .local_addr()
        .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
    server_cli::announce(local);
    if let Err(error) = run(listener) {
        server_cli::die(NAME, "epoll", error);
    }
}

/// One connection.
struct Conn {
    fd: OwnedFd,
    /// Request bytes read and not yet answered (an unfinished header).
    buf: Box<[u8]>,
    filled: usize,
    /// Response bytes a short write left; while not empty the connection
    /// waits for writability, not readability.
    pending: Vec<u8>,
    sent: usize,
}

fn run(listener: TcpListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let ep = epoll::create(CreateFlags::CLOEXEC)?;
    epoll::add(&ep, &listener, EventData::new_u64(LISTENER), EventFlags::IN)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events: Vec<Event> = Vec::with_capacity(256);
    let mut responses: Vec<u8> = Vec::with_capacity(16 * HELLO.len());
    let read_ready = EventFlags::IN | EventFlags::HUP | EventFlags::ERR | EventFlags::RDHUP;
    let write_ready = EventFlags::OUT | EventFlags::HUP | EventFlags::ERR;
    loop {
        events.clear();
        match epoll::wait(&ep, spare_capacity(&mut events), None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
        for event in &events {
            // `Event` is packed: copy the fields out before using them.
            let (flags, data) = (event.flags, event.data);
            let key = data.u64();
            if key == LISTENER {
                accept_all(&listener, &ep, &mut conns, &mut free);
                continue;
            }
            let slot = (key - 1) as usize;
            let Some(Some(conn)) = conns.get_mut(slot) else {
                continue;
            };
            let keep = if conn.pending.is_empty() {
                !flags.intersects(read_ready) || serve(conn, &ep, key, &mut responses)
            } else {
                !flags.intersects(write_ready) || flush(conn, &ep, key)
            };
            if !keep {
                // Closing the socket takes it out of the epoll set.
                conns[slot] = None;
                free.push(slot);
            }
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    ep: &OwnedFd,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
) {
    loop {
        match rustix::net::accept_with(listener, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC) {
            Ok(fd) => {
                // As examples/http_hello.rs does.
                let _ = sockopt::set_tcp_nodelay(&fd, true);
                let slot = free.pop().unwrap_or_else(|| {
                    conns.push(None);
                    conns.len() - 1
                });
                let data = EventData::new_u64(slot as u64 + 1);
                if let Err(error) = epoll::add(ep, fd.as_fd(), data, EventFlags::IN) {
                    eprintln!("register: {error}");
                    free.push(slot);
                    continue;
                }
                conns[slot] = Some(Conn {
                    fd,
                    buf: vec![0u8; MAX_HEADER].into_boxed_slice(),
                    filled: 0,
                    pending: Vec::new(),
                    sent: 0,
                });
            }
            Err(Errno::AGAIN) => return,
            Err(Errno::INTR | Errno::CONNABORTED) => continue,
            Err(error) => {
                eprintln!("accept: {error}");
                return;
            }
        }
    }
}

/// Where the first request header in `buf` ends, if one is complete.
fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// One `read`, then one `write` answering every complete request in the
/// buffer; `false` when the connection is done.
fn serve(conn: &mut Conn, ep: &OwnedFd, key: u64, responses: &mut Vec<u8>) -> bool {
    let n = match rustix::io::read(&conn.fd, &mut conn.buf[conn.filled..]) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(Errno::AGAIN | Errno::INTR) => return true,
        Err(_) => return false,
    };
    let mut scan_from = conn.filled.saturating_sub(3);
    conn.filled += n;
    let mut consumed = 0;
    while let Some(end) = header_end(&conn.buf[scan_from..conn.filled]) {
        consumed = scan_from + end;
        scan_from = consumed;
        responses.extend_from_slice(HELLO);
    }
    conn.buf.copy_within(consumed..conn.filled, 0);
    conn.filled -= consumed;
    if conn.filled == conn.buf.len() {
        return false;
    }
    if responses.is_empty() {
        return true;
    }
    let written = match rustix::io::write(&conn.fd, responses) {
        Ok(m) => m,
        Err(Errno::AGAIN | Errno::INTR) => 0,
        Err(_) => {
            responses.clear();
            return false;
        }
    };
    if written < responses.len() {
        conn.pending.extend_from_slice(&responses[written..]);
        conn.sent = 0;
        let data = EventData::new_u64(key);
        if epoll::modify(ep, &conn.fd, data, EventFlags::OUT).is_err() {
            responses.clear();
            return false;
        }
    }
    responses.clear();
    true
}

/// Writes what a short write left; back to reading once it is all out.
fn flush(conn: &mut Conn, ep: &OwnedFd, key: u64) -> bool {
    match rustix::io::write(&conn.fd, &conn.pending[conn.sent..]) {
        Ok(m) => conn.sent += m,
        Err(Errno::AGAIN | Errno::INTR) => return true,
        Err(_) => return false,
    }
    if conn.sent == conn.pending.len() {
        conn.pending.clear();
        conn.sent = 0;
        if epoll::modify(ep, &conn.fd, EventData::new_u64(key), EventFlags::IN).is_err() {
            return false;
        }
    }
    true
}
