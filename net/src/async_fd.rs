//! `AsyncFd`: reactor readiness for any non-blocking file descriptor, as
//! tokio's `tokio::io::unix::AsyncFd` (re-exported as `corium::io::unix`).
//!
//! # Protocol
//!
//! Readiness is edge-triggered: the reactor records "readable" once, when
//! the kernel reports it, and nothing re-reports it while data stays
//! queued. So:
//!
//! 1. Wait for a guard ([`AsyncFd::readable`] and friends); it carries the
//!    readiness it saw.
//! 2. Do non-blocking I/O on the fd until it returns `WouldBlock`.
//! 3. Only then clear the guard's readiness ([`AsyncFdReadyGuard::try_io`]
//!    does this for you): the next wait then sleeps until new readiness.
//!    Clearing it early would wait for an edge that may never come;
//!    dropping the guard without clearing keeps the readiness, so the next
//!    wait returns at once.
//!
//! The bound is `AsFd` rather than tokio's `AsRawFd`, as for the rest of
//! Corium: the inner value owns or borrows a real fd, and `T::as_fd` must
//! name the same fd for as long as the `AsyncFd` holds it.

use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use corium_reactor::{coop, Interest, Ready, ReadyEvent, Registration};

/// A file descriptor registered with the reactor, so a task can wait until
/// it is readable or writable and then do its own non-blocking I/O on it.
///
/// The fd must already be in non-blocking mode (`O_NONBLOCK`): the reactor
/// cannot tell, and a blocking read would stall every task on the thread.
/// Both directions are registered, edge-triggered where the backend allows.
/// Dropping the `AsyncFd` deregisters the fd and then drops the inner value
/// (closing the fd if it owns it); [`into_inner`](AsyncFd::into_inner)
/// deregisters and gives the value back open.
///
/// ```
/// use std::io::Write;
/// use corium::io::unix::AsyncFd;
///
/// # corium::block_on(async {
/// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
/// a.set_nonblocking(true)?;
/// let a = AsyncFd::new(a)?;
/// b.write_all(b"hi")?;
/// let mut guard = a.readable().await?;
/// let mut buf = [0; 2];
/// let n = guard
///     .try_io(|fd| std::io::Read::read(&mut fd.get_ref(), &mut buf))
///     .expect("readable, so not WouldBlock")?;
/// assert_eq!(&buf[..n], b"hi");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct AsyncFd<T: AsFd> {
    registration: Registration<T>,
}

/// Readiness seen by [`AsyncFd::readable`], [`writable`](AsyncFd::writable)
/// or [`ready`](AsyncFd::ready); do I/O through [`try_io`](Self::try_io).
///
/// Dropping the guard keeps the readiness; see the protocol in
/// [`AsyncFd`]'s module docs.
#[must_use = "the guard says the fd is ready: do I/O, then clear it on WouldBlock"]
pub struct AsyncFdReadyGuard<'a, T: AsFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// [`AsyncFdReadyGuard`] with mutable access to the inner value, from
/// [`AsyncFd::readable_mut`], [`writable_mut`](AsyncFd::writable_mut) or
/// [`ready_mut`](AsyncFd::ready_mut).
#[must_use = "the guard says the fd is ready: do I/O, then clear it on WouldBlock"]
pub struct AsyncFdReadyMutGuard<'a, T: AsFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// The operation given to a guard's `try_io` returned `WouldBlock`, and the
/// guard's readiness has been cleared: wait for readiness again.
#[derive(Debug)]
pub struct TryIoError(());

impl<T: AsFd> AsyncFd<T> {
    /// Registers `inner`, whose fd must be non-blocking, with the current
    /// runtime's reactor, for reading and writing.
    ///
    /// # Panics
    /// Outside a Corium runtime.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        Ok(AsyncFd {
            registration: Registration::new(inner)?,
        })
    }

    /// The inner value.
    pub fn get_ref(&self) -> &T {
        self.registration.get_ref()
    }

    /// The inner value, mutably. Do not replace or close its fd: the
    /// reactor still has it registered.
    pub fn get_mut(&mut self) -> &mut T {
        self.registration.get_mut()
    }

    /// Deregisters the fd and gives the inner value back, fd open.
    pub fn into_inner(self) -> T {
        self.registration.into_inner()
    }

    /// Polls for read readiness; stores `cx`'s waker when there is none
    /// (one reader waker at a time: the latest poll wins).
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_guard(cx, Interest::Readable)
    }

    /// Polls for write readiness, as [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_guard(cx, Interest::Writable)
    }

    /// Polls for read readiness, with a guard giving mutable access.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_guard_mut(cx, Interest::Readable)
    }

    /// Polls for write readiness, with a guard giving mutable access.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_guard_mut(cx, Interest::Writable)
    }

    /// Waits until the fd is ready in `interest`'s direction.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the fd is ready in `interest`'s direction, with a guard
    /// giving mutable access.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the fd is readable (or read-closed, or in error).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::Readable).await
    }

    /// Waits until the fd is readable, with a guard giving mutable access.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::Readable).await
    }

    /// Waits until the fd is writable (or write-closed, or in error).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::Writable).await
    }

    /// Waits until the fd is writable, with a guard giving mutable access.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::Writable).await
    }

    /// Runs `op` on the inner value once the fd is ready in `interest`'s
    /// direction, clearing readiness and waiting again each time it returns
    /// `WouldBlock`: the whole protocol in one call.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call is between attempts, each of which
    /// returned `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.registration.poll_io(cx, interest, &mut op)).await
    }

    /// Runs `op` now if the fd was last seen ready in `interest`'s
    /// direction, else returns `WouldBlock`; a `WouldBlock` from `op`
    /// clears that readiness. Never stores a waker.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, op)
    }

    /// The readiness event in `interest`'s direction; a completed wait
    /// takes a unit of the task's cooperative budget, as socket I/O does,
    /// so a loop over an always-ready fd still yields.
    fn poll_event(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<ReadyEvent>> {
        let coop = ready!(coop::poll_proceed(cx));
        let event = ready!(self.registration.poll_ready(cx, interest))?;
        coop.made_progress();
        Poll::Ready(Ok(event))
    }

    fn poll_guard<'a>(
        &'a self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, interest))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    fn poll_guard_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, interest))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }
}

impl<'a, T: AsFd> AsyncFdReadyGuard<'a, T> {
    /// The readiness this guard saw (empty once cleared).
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |event| event.ready)
    }

    /// Forgets the readiness this guard saw, unless newer readiness arrived
    /// since: the next wait sleeps until the fd is ready again. Call it
    /// only after an operation returned `WouldBlock`.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Forgets only the states in `ready` of what this guard saw (the
    /// closed and error states are never forgotten).
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.event = clear_matching(&self.async_fd.registration, self.event.take(), ready);
    }

    /// Keeps the readiness: the next wait returns at once. Dropping the
    /// guard does the same; this says so explicitly.
    pub fn retain_ready(&mut self) {}

    /// The `AsyncFd` this guard came from.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The inner value of the `AsyncFd`.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }

    /// Runs the non-blocking operation `f`; if it returns `WouldBlock`,
    /// clears this guard's readiness and returns `Err(TryIoError)` so the
    /// caller waits again. Any other result, error or not, is `Ok`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }
}

impl<T: AsFd> AsyncFdReadyMutGuard<'_, T> {
    /// The readiness this guard saw (empty once cleared).
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |event| event.ready)
    }

    /// Forgets the readiness this guard saw, unless newer readiness arrived
    /// since (see [`AsyncFdReadyGuard::clear_ready`]).
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Forgets only the states in `ready` of what this guard saw.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.event = clear_matching(&self.async_fd.registration, self.event.take(), ready);
    }

    /// Keeps the readiness: the next wait returns at once. Dropping the
    /// guard does the same; this says so explicitly.
    pub fn retain_ready(&mut self) {}

    /// The `AsyncFd` this guard came from.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd` this guard came from, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The inner value of the `AsyncFd`.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The inner value of the `AsyncFd`, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }

    /// Runs the non-blocking operation `f`; if it returns `WouldBlock`,
    /// clears this guard's readiness and returns `Err(TryIoError)` so the
    /// caller waits again. Any other result, error or not, is `Ok`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }
}

/// Clears the states in `ready` of `event`; returns what is left of it.
fn clear_matching<T: AsFd>(
    registration: &Registration<T>,
    event: Option<ReadyEvent>,
    ready: Ready,
) -> Option<ReadyEvent> {
    let event = event?;
    let mut cleared = event;
    cleared.ready = event.ready & ready;
    registration.clear_readiness(cleared);
    let mut left = event;
    left.ready = event.ready - ready;
    (!left.ready.is_empty()).then_some(left)
}

impl<T: AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .finish()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; the readiness was cleared, so wait again")
    }
}

impl Error for TryIoError {}
