//! `echo-polling`: the loop of `echo-epoll` (the same code,
//! `shared/raw_loop.rs`) on `polling::Poller` instead of raw epoll:
//! registration with `add_with_mode`/`modify_with_mode` in level mode, and
//! `Poller::wait(.., None)` for the wait. What it costs above `echo-epoll`
//! is what `polling`'s wait costs on Linux (it re-arms its timerfd and its
//! notifier on every call; see DESIGN.md).
//!
//! `echo-polling [--addr HOST:PORT]`: prints `listening on <addr>` once
//! bound and serves until killed. Used by `benches/net/echo.sh`.

#[path = "shared/raw_loop.rs"]
mod raw_loop;
#[path = "shared/server_cli.rs"]
mod server_cli;

use std::io;
use std::net::TcpListener;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd};

use polling::{Event, Events, PollMode, Poller};

use raw_loop::{Poll, Ready};

const NAME: &str = "echo-polling";

fn main() {
    let options = server_cli::ServerOptions::from_args(
        NAME,
        "The raw echo loop on polling::Poller::wait (what polling's wait costs).",
        server_cli::Flags::default(),
    );
    let listener = TcpListener::bind(options.addr)
        .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
    let poller = Polling::new().unwrap_or_else(|error| server_cli::die(NAME, "Poller::new", error));
    let local = listener
        .local_addr()
        .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
    server_cli::announce(local);
    if let Err(error) = raw_loop::run(listener, poller) {
        server_cli::die(NAME, "poller", error);
    }
}

/// A `polling::Poller` and the buffer its waits fill.
struct Polling {
    poller: Poller,
    events: Events,
}

impl Polling {
    fn new() -> io::Result<Polling> {
        Ok(Polling {
            poller: Poller::new()?,
            events: Events::with_capacity(NonZeroUsize::new(256).expect("256 is not zero")),
        })
    }
}

impl Poll for Polling {
    fn add(&mut self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // SAFETY: the loop deletes every source before closing it.
        unsafe {
            self.poller
                .add_with_mode(fd.as_raw_fd(), Event::readable(key), PollMode::Level)
        }
    }

    fn want_write(&mut self, fd: BorrowedFd<'_>, key: usize, write: bool) -> io::Result<()> {
        let interest = if write {
            Event::writable(key)
        } else {
            Event::readable(key)
        };
        self.poller.modify_with_mode(fd, interest, PollMode::Level)
    }

    fn delete(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    fn wait(&mut self, ready: &mut Vec<Ready>) -> io::Result<()> {
        self.events.clear();
        match self.poller.wait(&mut self.events, None) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        ready.extend(self.events.iter().map(|event| Ready {
            key: event.key,
            readable: event.readable,
            writable: event.writable,
        }));
        Ok(())
    }
}
