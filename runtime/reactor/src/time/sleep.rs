//! `Sleep`: a future that completes at a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::Instant;
use crate::coop;
use crate::reactor::Handle;

/// Waits until `duration` has passed.
///
/// # Panics
/// Outside a runtime, with a message saying how to enter one.
///
/// # Cancel safety
/// Dropping a `Sleep` cancels its timer; nothing else is lost.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let handle = Handle::current();
    let now = Instant::from_std(handle.now());
    Sleep {
        handle,
        deadline: now.far_add(duration),
        key: None,
    }
}

/// Waits until `deadline`.
///
/// # Panics
/// Outside a runtime, with a message saying how to enter one.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future of [`sleep`] and [`sleep_until`]. Its timer is registered on
/// the first poll that finds the deadline still ahead, and cancelled on drop.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    handle: Handle,
    deadline: Instant,
    /// The wheel entry, once registered.
    key: Option<usize>,
}

impl Sleep {
    #[track_caller]
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            handle: Handle::current(),
            deadline,
            key: None,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed and the sleep completed.
    pub fn is_elapsed(&self) -> bool {
        self.handle.now() >= self.deadline.into_std()
    }

    /// Moves the deadline; a completed sleep becomes pending again if the new
    /// deadline is ahead.
    pub fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
        if let Some(key) = self.key {
            let ns = self.handle.shared.clock.ns_since_base(deadline.into_std());
            let mut wheel = self.handle.shared.wheel.lock();
            wheel.reset(key, ns);
            let wake = wheel.is_before_wait(ns);
            drop(wheel);
            if wake {
                self.handle.wake_for_timer();
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let coop = ready!(coop::poll_proceed(cx));
        let shared = &this.handle.shared;
        let done = match this.key {
            Some(key) => shared.wheel.lock().poll(key, cx.waker()),
            None if this.handle.is_shutdown() => true,
            None => {
                // Registered lazily, on the first poll that finds the
                // deadline ahead of the last time timers were processed (a
                // deadline between then and now fires on the next turn).
                let ns = shared.clock.ns_since_base(this.deadline.into_std());
                let mut wheel = shared.wheel.lock();
                if wheel.is_due(ns) {
                    true
                } else {
                    this.key = Some(wheel.insert(ns, cx.waker().clone()));
                    let wake = wheel.is_before_wait(ns);
                    drop(wheel);
                    if wake {
                        this.handle.wake_for_timer();
                    }
                    false
                }
            }
        };
        if done {
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.handle.shared.wheel.lock().remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}
