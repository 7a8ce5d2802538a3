//! Unix signals as async streams: the self-pipe trick.
//!
//! [`signal`] installs one process-wide handler per signal (through
//! `signal-hook-registry`, which chains with handlers installed by others)
//! that counts the delivery and writes a byte to a pipe. The read end is
//! watched by the reactor of every runtime with a listener, so a signal
//! wakes every [`Signal`] in every runtime of the process, whichever reactor
//! sees the byte first. Each listener returns each delivery once: a burst
//! that arrives before its task runs is not lost (though the kernel itself
//! merges deliveries of one standard signal that arrive while the first is
//! still pending).
//!
//! Once a handler is installed it stays for the life of the process, and
//! the signal's default action (terminating, for `SIGINT` and `SIGTERM`) no
//! longer happens, as with tokio: a program that listens for `SIGTERM` must
//! exit by itself.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use crate::context::NO_RUNTIME;
use crate::reactor::Handle;

mod driver;
mod registry;

use registry::Slot;

/// Which signal to listen for; the usual ones have constructors.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// The signal number `signal`, for those without a constructor. An
    /// invalid or uncatchable one is refused by [`signal`].
    pub const fn from_raw(signal: i32) -> SignalKind {
        SignalKind(signal)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGINT`: the terminal's interrupt key (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: a polite request to terminate (`kill`, systemd, Docker).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons take it as "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: the terminal's quit key (Ctrl-\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGALRM`: a timer set by `alarm` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({})", self.0)
    }
}

impl From<i32> for SignalKind {
    fn from(signal: i32) -> SignalKind {
        SignalKind(signal)
    }
}

/// A listener for one signal: [`recv`](Signal::recv) completes once per
/// delivery since the listener was created.
pub struct Signal {
    slot: &'static Slot,
    /// The reactor watching the pipe for this listener.
    handle: Handle,
    /// Deliveries already returned (or that came before this listener).
    seen: u64,
    /// This listener's waker in the slot.
    key: Option<usize>,
}

/// Listens for `kind` from now on, installing the process's handler for it
/// if this is the first listener.
///
/// # Errors
/// Outside a runtime; for a number that is not a signal or one that cannot
/// be caught (`SIGKILL`, `SIGSTOP`) or must not be (`SIGSEGV`, `SIGILL`,
/// `SIGFPE`); when the pipe or the handler cannot be set up.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let handle = Handle::try_current().map_err(|_| io::Error::other(NO_RUNTIME))?;
    let registry = registry::registry()?;
    let slot = registry.slot(kind.0)?;
    driver::watch(&handle, registry)?;
    Ok(Signal {
        slot,
        handle,
        seen: slot.delivered(),
        key: None,
    })
}

/// Completes at the next `SIGINT` (Ctrl-C) after the first poll.
///
/// The first call installs the handler, after which Ctrl-C no longer ends
/// the process by itself: the program decides what it means.
///
/// # Errors
/// As [`signal`]; also when the runtime shuts down first.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(crate::reactor::gone()),
    }
}

impl Signal {
    /// Waits for the next delivery; `None` once the runtime this listener
    /// was created in has shut down.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll function, for hand-written futures.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        // The waker goes in before the count is read: a delivery announced
        // after the read wakes this waker.
        self.slot.set_waker(&mut self.key, cx.waker());
        if self.slot.delivered() > self.seen {
            self.seen += 1;
            return Poll::Ready(Some(()));
        }
        if self.handle.is_shutdown() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.slot.remove_waker(key);
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("seen", &self.seen).finish()
    }
}
