//! The event demultiplexer behind one small interface.
//!
//! Two backends implement it:
//! - `epoll` (Linux): the poller's epoll fd is created by `polling`, but the
//!   hot calls are ours: sources are added edge-triggered with `EPOLLRDHUP`
//!   (which `polling`'s `Event` cannot ask for), the wait is `epoll_pwait2`
//!   with a nanosecond timeout, and cross-thread wakeups go through our own
//!   edge-triggered eventfd. `Poller::wait` re-arms its timerfd and notifier
//!   on every call (four extra syscalls per wait); this path issues one.
//! - `portable`: `polling::Poller` end to end (`add_with_mode`, `wait`,
//!   `notify`), edge-triggered where `Poller::supports_edge` says so and
//!   oneshot with re-arm elsewhere. Every non-Linux platform uses it, and the
//!   tests run it on Linux too.

#[cfg(target_os = "linux")]
mod epoll;
mod portable;

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use crate::io::Ready;

/// The key our own wakeup eventfd is registered under. Registration keys
/// never have their top bit set, and `polling` keeps `usize::MAX` for its
/// notifier, so neither can collide with it.
pub(crate) const WAKE_KEY: usize = usize::MAX - 1;

/// Which event demultiplexer a reactor uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The fastest one for this platform: `Epoll` on Linux, `Polling`
    /// (edge-triggered where supported) elsewhere.
    #[default]
    Auto,
    /// Linux only: epoll driven directly, `epoll_pwait2` timeouts.
    Epoll,
    /// `polling::Poller` for everything, edge-triggered where the platform
    /// supports it.
    Polling,
    /// `polling::Poller` in oneshot mode with a re-arm after every event:
    /// the fallback for platforms without edge-triggered polling.
    PollingOneshot,
}

pub(crate) enum Selector {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Selector),
    Portable(portable::Selector),
}

pub(crate) enum Events {
    #[cfg(target_os = "linux")]
    Epoll(Vec<rustix::event::epoll::Event>),
    Portable(polling::Events),
}

// SAFETY: the epoll buffer holds plain kernel event records; rustix types
// their data as possibly a pointer, which makes them `!Send`, but we store
// and read only integer keys and never dereference anything (`polling`
// makes the same argument for its own buffer).
unsafe impl Send for Events {}

/// How many events one wait can return; more wait for the next turn.
const EVENT_CAPACITY: usize = 1024;

impl Selector {
    pub(crate) fn new(backend: Backend) -> io::Result<(Selector, Events)> {
        match backend {
            #[cfg(target_os = "linux")]
            Backend::Auto | Backend::Epoll => Ok((
                Selector::Epoll(epoll::Selector::new()?),
                Events::Epoll(Vec::with_capacity(EVENT_CAPACITY)),
            )),
            #[cfg(not(target_os = "linux"))]
            Backend::Epoll => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the epoll backend exists only on Linux; use Backend::Auto",
            )),
            #[cfg(not(target_os = "linux"))]
            Backend::Auto => Self::portable(true),
            Backend::Polling => Self::portable(true),
            Backend::PollingOneshot => Self::portable(false),
        }
    }

    fn portable(edge: bool) -> io::Result<(Selector, Events)> {
        Ok((
            Selector::Portable(portable::Selector::new(edge)?),
            Events::Portable(polling::Events::with_capacity(
                std::num::NonZeroUsize::new(EVENT_CAPACITY).expect("nonzero"),
            )),
        ))
    }

    /// Adds `fd` for both directions under `key`.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(s) => s.register(fd, key),
            Selector::Portable(s) => s.register(fd, key),
        }
    }

    /// Re-arms a oneshot registration for the given directions; nothing to
    /// do for edge-triggered ones.
    pub(crate) fn rearm(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => Ok(()),
            Selector::Portable(s) => s.rearm(fd, key, read, write),
        }
    }

    pub(crate) fn needs_rearm(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => false,
            Selector::Portable(s) => !s.edge,
        }
    }

    /// Whether events carry read-closed (`EPOLLRDHUP`), so that a short read
    /// may clear readiness without missing the FIN.
    pub(crate) fn reports_read_closed(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => true,
            Selector::Portable(_) => false,
        }
    }

    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(s) => s.deregister(fd),
            Selector::Portable(s) => s.deregister(fd),
        }
    }

    /// Waits for events or until `timeout`; `EINTR` returns with no events.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let result = match (self, events) {
            #[cfg(target_os = "linux")]
            (Selector::Epoll(s), Events::Epoll(events)) => s.wait(events, timeout),
            (Selector::Portable(s), Events::Portable(events)) => s.wait(events, timeout),
            #[allow(unreachable_patterns)]
            _ => unreachable!("events buffer built for another backend"),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        }
    }

    /// An empty events buffer for this backend.
    pub(crate) fn new_events(&self) -> Events {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => Events::Epoll(Vec::with_capacity(EVENT_CAPACITY)),
            Selector::Portable(_) => Events::Portable(polling::Events::with_capacity(
                std::num::NonZeroUsize::new(EVENT_CAPACITY).expect("nonzero"),
            )),
        }
    }

    /// Whether two threads may wait on this selector at once (epoll may;
    /// `polling::Poller::wait` returns at once for the second).
    pub(crate) fn allows_concurrent_waits(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => true,
            Selector::Portable(_) => false,
        }
    }

    /// Wakes a thread blocked in `wait`.
    pub(crate) fn notify(&self) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(s) => s.notify(),
            Selector::Portable(s) => s.notify(),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(_) => "epoll",
            Selector::Portable(s) if s.edge => "polling (edge)",
            Selector::Portable(_) => "polling (oneshot)",
        }
    }
}

impl Events {
    /// Whether the last wait returned the wakeup event.
    pub(crate) fn has_wakeup(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Events::Epoll(events) => events.iter().any(|e| e.data.u64() as usize == WAKE_KEY),
            Events::Portable(_) => false,
        }
    }

    /// Calls `f(key, readiness)` for each event of the last wait, skipping
    /// wakeups.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, Ready)) {
        match self {
            #[cfg(target_os = "linux")]
            Events::Epoll(events) => {
                for event in events {
                    let key = event.data.u64() as usize;
                    if key != WAKE_KEY {
                        f(key, epoll::readiness(event.flags));
                    }
                }
            }
            Events::Portable(events) => {
                for event in events.iter() {
                    f(event.key, portable::readiness(&event));
                }
            }
        }
    }
}
