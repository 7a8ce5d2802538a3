//! `echo-epoll`: the limit. A single-thread echo server on raw `epoll`, no
//! runtime: level-triggered, non-blocking `accept4`, and per request one
//! `read`, one `write` and a share of one `epoll_wait` (`epoll_pwait`). It
//! never calls `epoll_ctl` in steady state, and closing a socket removes it
//! from the epoll set with no syscall of its own.
//!
//! `echo-epoll [--addr HOST:PORT]`: prints `listening on <addr>` once bound
//! and serves until killed. Used by `benches/net/echo.sh`.

#[path = "shared/raw_loop.rs"]
mod raw_loop;
#[path = "shared/server_cli.rs"]
mod server_cli;

use std::io;
use std::net::TcpListener;
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::io::Errno;

use raw_loop::{Poll, Ready};

const NAME: &str = "echo-epoll";

fn main() {
    let options = server_cli::ServerOptions::from_args(
        NAME,
        "The limit: a single-thread echo server on raw epoll, no runtime.",
        server_cli::Flags::default(),
    );
    let listener = TcpListener::bind(options.addr)
        .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
    let epoll = Epoll::new().unwrap_or_else(|error| server_cli::die(NAME, "epoll_create", error));
    let local = listener
        .local_addr()
        .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
    server_cli::announce(local);
    if let Err(error) = raw_loop::run(listener, epoll) {
        server_cli::die(NAME, "epoll", error);
    }
}

/// An epoll instance and the buffer its waits fill.
struct Epoll {
    fd: OwnedFd,
    events: Vec<Event>,
}

impl Epoll {
    fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: epoll::create(CreateFlags::CLOEXEC)?,
            events: Vec::with_capacity(256),
        })
    }
}

impl Poll for Epoll {
    fn add(&mut self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        epoll::add(&self.fd, fd, EventData::new_u64(key as u64), EventFlags::IN)?;
        Ok(())
    }

    fn want_write(&mut self, fd: BorrowedFd<'_>, key: usize, write: bool) -> io::Result<()> {
        let flags = if write {
            EventFlags::OUT
        } else {
            EventFlags::IN
        };
        epoll::modify(&self.fd, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    fn delete(&mut self, _fd: BorrowedFd<'_>) -> io::Result<()> {
        // Closing the socket (it is never duplicated) takes it out of the
        // epoll set: no `epoll_ctl` needed.
        Ok(())
    }

    fn wait(&mut self, ready: &mut Vec<Ready>) -> io::Result<()> {
        self.events.clear();
        match epoll::wait(&self.fd, spare_capacity(&mut self.events), None) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        let read = EventFlags::IN | EventFlags::HUP | EventFlags::ERR | EventFlags::RDHUP;
        let write = EventFlags::OUT | EventFlags::HUP | EventFlags::ERR;
        ready.extend(self.events.iter().map(|event| {
            // `Event` is packed: copy the fields out before using them.
            let (flags, data) = (event.flags, event.data);
            Ready {
                key: data.u64() as usize,
                readable: flags.intersects(read),
                writable: flags.intersects(write),
            }
        }));
        Ok(())
    }
}
