//! The Linux backend: epoll driven directly on `polling`'s epoll fd.
//!
//! Steady state costs one `epoll_pwait2` per turn and no `epoll_ctl`: every
//! source is added once, edge-triggered, for both directions and
//! `EPOLLRDHUP`; our eventfd is added once, edge-triggered, and a write to it
//! is an edge by itself, so it is never read back (its counter would take
//! 2^64 writes to fill; a full counter is reset below all the same).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

use super::WAKE_KEY;
use crate::io::Ready;

pub(crate) struct Selector {
    /// Owns the epoll fd; we never call its `wait` or `notify`.
    poller: polling::Poller,
    wake_fd: OwnedFd,
    /// Cleared the first time the kernel refuses `epoll_pwait2` (`ENOSYS`
    /// before 5.11, `EPERM` under some seccomp filters).
    has_pwait2: AtomicBool,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let poller = polling::Poller::new()?;
        let wake_fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            poller.as_fd(),
            &wake_fd,
            EventData::new_u64(WAKE_KEY as u64),
            EventFlags::IN | EventFlags::ET,
        )?;
        Ok(Selector {
            poller,
            wake_fd,
            has_pwait2: AtomicBool::new(true),
        })
    }

    pub(crate) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        epoll::add(
            self.poller.as_fd(),
            fd,
            EventData::new_u64(key as u64),
            flags,
        )?;
        Ok(())
    }

    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(self.poller.as_fd(), fd)?;
        Ok(())
    }

    pub(crate) fn wait(
        &self,
        events: &mut Vec<epoll::Event>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        let timeout = timeout.map(timespec);
        let precise = timeout.is_some_and(|t| t.tv_sec != 0 || t.tv_nsec != 0);
        if precise && self.has_pwait2.load(Relaxed) {
            match pwait2(self.poller.as_fd(), events, timeout.as_ref()) {
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    self.has_pwait2.store(false, Relaxed);
                }
                other => return other,
            }
        }
        // Plain `epoll_pwait`: millisecond timeouts, rounded up by rustix.
        epoll::wait(
            self.poller.as_fd(),
            rustix::buffer::spare_capacity(events),
            timeout.as_ref(),
        )?;
        Ok(())
    }

    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.wake_fd, &one) {
            Ok(_) => Ok(()),
            Err(rustix::io::Errno::AGAIN) => {
                let mut sink = [0u8; 8];
                let _ = rustix::io::read(&self.wake_fd, &mut sink);
                rustix::io::write(&self.wake_fd, &one)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: d.subsec_nanos() as _,
    }
}

/// `epoll_pwait2(2)`, which rustix only calls when built with its
/// `linux_5_11` feature, and then with no fallback for older kernels.
fn pwait2(
    epfd: BorrowedFd<'_>,
    events: &mut Vec<epoll::Event>,
    timeout: Option<&Timespec>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let spare = events.spare_capacity_mut();
    let timeout_ptr = timeout.map_or(std::ptr::null(), |t| t as *const Timespec);
    // SAFETY: `spare` is writable memory for `spare.len()` events, and
    // rustix's `epoll::Event` has the layout of the kernel's `struct
    // epoll_event` (rustix documents it as ABI-compatible; it is packed on
    // x86_64 as the kernel's is). rustix's `Timespec` is the kernel's
    // `struct __kernel_timespec` on 64-bit Linux (two 64-bit fields). The
    // sigmask pointer is null, so the size argument is ignored.
    let n = unsafe {
        libc::syscall(
            libc::SYS_epoll_pwait2,
            epfd.as_raw_fd(),
            spare.as_mut_ptr(),
            spare.len() as libc::c_int,
            timeout_ptr,
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel initialised the first `n` entries (n <= spare.len()).
    unsafe { events.set_len(n as usize) };
    Ok(())
}

/// Translates epoll flags into readiness.
pub(crate) fn readiness(flags: EventFlags) -> Ready {
    let mut ready = Ready::EMPTY;
    if flags.intersects(EventFlags::IN | EventFlags::PRI) {
        ready |= Ready::READABLE;
    }
    if flags.contains(EventFlags::OUT) {
        ready |= Ready::WRITABLE;
    }
    if flags.contains(EventFlags::RDHUP) {
        ready |= Ready::READ_CLOSED;
    }
    if flags.contains(EventFlags::HUP) {
        ready |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if flags.contains(EventFlags::ERR) {
        ready |= Ready::ERROR;
    }
    ready
}
