//! The per-reactor half: a reactor with a signal listener watches the
//! self-pipe's read end, and the handler of that event is
//! a waker, as for any socket, except that this waker is the driver itself:
//! waking it drains the pipe and announces the signals, on the thread that
//! dispatched the event. No task is involved, so nothing has to be spawned
//! and nothing can starve it.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

use super::registry::Registry;
use crate::io::Registration;
use crate::reactor::Handle;

struct Driver {
    registry: &'static Registry,
    /// `None` once the reactor is gone. The registration holds this
    /// driver's waker, and this holds the registration: the reactor's
    /// shutdown wakes the driver, which then drops the registration and
    /// breaks the cycle.
    pipe: Mutex<Option<Registration<BorrowedFd<'static>>>>,
}

/// Makes the reactor behind `handle` watch the signal pipe, once per
/// reactor.
pub(crate) fn watch(handle: &Handle, registry: &'static Registry) -> io::Result<()> {
    // Where the pipe would be registered: a shared I/O reactor is watched
    // once for all its workers.
    let handle = &handle.io_home();
    if !handle.shared.claim_signal_watch() {
        return Ok(());
    }
    // Every reactor watches the same fd (an fd may be in many epoll sets);
    // the registry keeps it open for the life of the process.
    let watched = Registration::with_handle(handle, registry.read_end());
    let registration = match watched {
        Ok(registration) => registration,
        Err(e) => {
            handle.shared.release_signal_watch();
            return Err(e);
        }
    };
    let driver = Arc::new(Driver {
        registry,
        pipe: Mutex::new(Some(registration)),
    });
    // The first turn stores the driver's waker in the registration; any
    // byte already in the pipe is drained now.
    driver.turn();
    Ok(())
}

impl Driver {
    /// Drains the pipe until it would block, leaving this driver's waker
    /// with the registration, then announces. Another thread's turn waits
    /// for the lock rather than skipping: the event it was woken for may
    /// have come after this turn last looked.
    fn turn(self: &Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let mut pipe = self.pipe.lock();
        let Some(registration) = pipe.as_ref() else {
            return;
        };
        let gone = loop {
            match registration.poll_read_ready(&mut cx) {
                Poll::Pending => break false,
                Poll::Ready(Err(_)) => break true,
                Poll::Ready(Ok(event)) => {
                    if !drain(registration.get_ref()) {
                        // Cannot happen to a pipe whose write end the
                        // registry keeps open; stop rather than spin.
                        break false;
                    }
                    registration.clear_readiness(event);
                }
            }
        };
        let dropped = if gone { pipe.take() } else { None };
        drop(pipe);
        drop(dropped);
        self.registry.announce();
        if gone {
            // Listeners on this reactor must see that it is gone.
            self.registry.wake_everyone();
        }
    }
}

/// Reads the pipe empty; true when it would block now, false on an error
/// or end of file.
fn drain(fd: &BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 128];
    loop {
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => return true,
            Err(_) => return false,
        }
    }
}

impl Wake for Driver {
    fn wake(self: Arc<Self>) {
        self.turn();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.turn();
    }
}
