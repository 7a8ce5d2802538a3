//! `Registration`: an I/O source registered with a reactor.
//!
//! The source is added once, for both directions, edge-triggered where the
//! backend allows, so steady-state I/O costs no `epoll_ctl`. A task asks for
//! readiness, tries the operation, and on `WouldBlock` clears the readiness
//! it saw (see the protocol in `scheduled.rs`). The registration owns its
//! source and deletes it from the poller before the source is dropped, as
//! `polling` requires.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::scheduled::ScheduledIo;
use super::{Interest, Ready, ReadyEvent};
use crate::coop;
use crate::reactor::{gone, Handle};

/// An I/O source registered with a reactor, with per-direction readiness.
///
/// # Invariant
/// `source` is `Some` from construction until `into_inner` or `drop`, both of
/// which deregister it first.
pub struct Registration<T: AsFd> {
    source: Option<T>,
    handle: Handle,
    io: Arc<ScheduledIo>,
    pub(crate) key: usize,
}

impl<T: AsFd> Registration<T> {
    /// Registers `source` with the current runtime's reactor.
    ///
    /// The source must be in non-blocking mode.
    ///
    /// # Panics
    /// Outside a runtime, with a message saying how to enter one.
    #[track_caller]
    pub fn new(source: T) -> io::Result<Registration<T>> {
        Registration::with_handle(&Handle::current(), source)
    }

    /// Registers `source` with the reactor behind `handle` (or with the
    /// I/O reactor its runtime's workers share, if they share one).
    pub fn with_handle(handle: &Handle, source: T) -> io::Result<Registration<T>> {
        let handle = handle.io_home();
        let (key, io) = handle.register(source.as_fd())?;
        Ok(Registration {
            source: Some(source),
            handle,
            io,
            key,
        })
    }

    /// The source.
    pub fn get_ref(&self) -> &T {
        self.source.as_ref().expect("present until dropped")
    }

    /// The source, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.source.as_mut().expect("present until dropped")
    }

    /// Deregisters the source and gives it back.
    pub fn into_inner(mut self) -> T {
        let source = self.source.take().expect("present until dropped");
        self.handle.deregister(self.key, &self.io, source.as_fd());
        source
    }

    /// The reactor this source is registered with.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Readiness in `interest`'s direction; when there is none, stores the
    /// waker of `cx` (one per direction: the latest poll wins) and returns
    /// `Pending`.
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.io.poll_ready(cx, interest) {
            Poll::Ready(Ok(event)) => Poll::Ready(Ok(event)),
            Poll::Ready(Err(_shutdown)) => Poll::Ready(Err(gone())),
            Poll::Pending => {
                let selector = &self.handle.shared.selector;
                if selector.needs_rearm() {
                    // Arm exactly the directions tasks wait in: this one,
                    // and the other if a task waits there too.
                    let (read, write) = self.io.waiting();
                    selector.rearm(self.get_ref().as_fd(), self.key, read, write)?;
                }
                Poll::Pending
            }
        }
    }

    /// The readiness in `interest`'s direction right now, or `None`;
    /// unlike [`poll_ready`](Self::poll_ready) it stores no waker, so it
    /// never displaces the waker of a task waiting in that direction.
    pub fn peek_ready(&self, interest: Interest) -> Option<io::Result<ReadyEvent>> {
        self.io
            .peek_ready(interest)
            .map(|ready| ready.map_err(|_shutdown| gone()))
    }

    /// Runs `op` on the source now if it was last seen ready in
    /// `interest`'s direction, else returns `WouldBlock`; a `WouldBlock`
    /// from `op` clears that readiness. Stores no waker (see
    /// [`peek_ready`](Self::peek_ready)), so it never displaces a task
    /// waiting in that direction.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = match self.peek_ready(interest) {
            Some(event) => event?,
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        match op(self.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event);
                Err(e)
            }
            result => result,
        }
    }

    /// [`poll_ready`](Self::poll_ready) for reading.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Interest::Readable)
    }

    /// [`poll_ready`](Self::poll_ready) for writing.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Interest::Writable)
    }

    /// Forgets the readiness `event` reported, unless an event arrived since.
    /// Call it after an operation returns `WouldBlock`. Read-closed,
    /// write-closed and error are never forgotten.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// The readiness currently recorded (for tests and diagnostics).
    pub fn readiness(&self) -> Ready {
        self.io.readiness()
    }

    /// Runs `op` on the source once it is ready in `interest`'s direction,
    /// clearing readiness and waiting again whenever it returns
    /// `WouldBlock`. Takes one unit of the task's cooperative budget when it
    /// completes.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let coop = ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => {
                    coop.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// [`poll_io`](Self::poll_io) for a stream read into a buffer of `len`
    /// bytes. A short read (0 < n < len) means the socket buffer is empty,
    /// so readiness is cleared and the next read waits for an event instead
    /// of costing an `EAGAIN` syscall, but only where the backend reports
    /// read-closed: there a FIN that came with the data stays recorded.
    pub fn poll_read_io(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let clear_short = self.handle.reports_read_closed();
        self.poll_short_io(cx, Interest::Readable, len, clear_short, op)
    }

    /// [`poll_io`](Self::poll_io) for a stream write of `len` bytes. A short
    /// write means the socket buffer is full, so readiness is cleared: the
    /// kernel sends a writable edge when room frees up.
    pub fn poll_write_io(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_short_io(cx, Interest::Writable, len, true, op)
    }

    fn poll_short_io(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        len: usize,
        clear_short: bool,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let coop = ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                Ok(n) if clear_short && n > 0 && n < len => {
                    self.clear_readiness(event);
                    coop.made_progress();
                    return Poll::Ready(Ok(n));
                }
                result => {
                    coop.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }
}

impl<T: AsFd> Drop for Registration<T> {
    fn drop(&mut self) {
        if let Some(source) = self.source.take() {
            self.handle.deregister(self.key, &self.io, source.as_fd());
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Registration<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("source", &self.source)
            .field("readiness", &self.io.readiness())
            .finish()
    }
}
