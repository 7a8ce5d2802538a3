//! The portable backend: `polling::Poller` for registration, wait and notify.
//!
//! `polling` cannot ask for read-closed (`EPOLLRDHUP`), so this backend says
//! it does not report it and short reads then keep readiness (see
//! `Registration::poll_read_io`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use polling::{Event, PollMode, Poller};

use crate::io::Ready;

pub(crate) struct Selector {
    poller: Poller,
    /// Edge-triggered registrations; oneshot with re-arm when false.
    pub(crate) edge: bool,
}

impl Selector {
    pub(crate) fn new(want_edge: bool) -> io::Result<Selector> {
        let poller = Poller::new()?;
        let edge = want_edge && poller.supports_edge();
        Ok(Selector { poller, edge })
    }

    fn mode(&self) -> PollMode {
        if self.edge {
            PollMode::Edge
        } else {
            PollMode::Oneshot
        }
    }

    pub(crate) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // SAFETY: `polling` requires the source to be deleted before it is
        // closed. Every caller is a `Registration`, which owns its source and
        // deregisters it in `Drop` (and in `into_inner`) before the source
        // itself is dropped.
        unsafe {
            self.poller
                .add_with_mode(fd.as_raw_fd(), Event::all(key), self.mode())
        }
    }

    pub(crate) fn rearm(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        if self.edge {
            return Ok(());
        }
        let interest = match (read, write) {
            (true, true) => Event::all(key),
            (true, false) => Event::readable(key),
            (false, true) => Event::writable(key),
            (false, false) => Event::none(key),
        };
        self.poller.modify_with_mode(fd, interest, self.mode())
    }

    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    pub(crate) fn wait(
        &self,
        events: &mut polling::Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        self.poller.wait(events, timeout).map(drop)
    }

    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}

pub(crate) fn readiness(event: &Event) -> Ready {
    let mut ready = Ready::EMPTY;
    if event.readable {
        ready |= Ready::READABLE;
    }
    if event.writable {
        ready |= Ready::WRITABLE;
    }
    if event.is_interrupt() {
        ready |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if event.is_err() == Some(true) {
        ready |= Ready::ERROR;
    }
    ready
}
