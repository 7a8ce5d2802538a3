//! Time: `sleep`, `timeout`, `interval` and the runtime's clock.
//!
//! Timers live in the reactor's hierarchical wheel (`wheel.rs`) and fire
//! when the clock passes their exact deadline; the reactor sleeps until that
//! deadline with nanosecond precision where the kernel allows
//! (`epoll_pwait2`), so a timer is not pushed a millisecond late by slot or
//! timeout rounding.
//!
//! ```
//! # fn main() {
//! # let _ = corium_reactor::time::Duration::ZERO;
//! # }
//! ```

pub(crate) mod clock;
mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use error::Elapsed;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};

use crate::reactor::Handle;

/// Pauses the clock of the current runtime: time stands still until
/// [`advance`] moves it, or until every task is idle, when the runtime jumps
/// it to the next timer's deadline. Timer tests become exact and instant.
///
/// # Panics
/// Outside a runtime, or when the clock is already paused.
#[track_caller]
pub fn pause() {
    let handle = Handle::current();
    assert!(
        !handle.is_grouped(),
        "time::pause needs the current-thread runtime: a paused clock jumps ahead when the one \
         thread that runs tasks is idle, and the multi-thread runtime has many (tokio has the \
         same rule); build the runtime with `Builder::new_current_thread`"
    );
    handle.shared.clock.pause();
}

/// Lets a paused clock run again from where it stands.
///
/// # Panics
/// Outside a runtime, or when the clock is not paused.
#[track_caller]
pub fn resume() {
    Handle::current().shared.clock.resume();
}

/// Moves the paused clock forward by `by`, fires the timers that came due,
/// and yields once so that the tasks they woke run before this one resumes.
///
/// # Panics
/// Outside a runtime, or when the clock is not paused.
pub async fn advance(by: Duration) {
    let handle = Handle::current();
    handle.shared.clock.advance(by);
    let mut wakers = Vec::new();
    let now = handle.shared.clock.now_ns();
    handle.shared.wheel.lock().process(now, &mut wakers);
    wakers.into_iter().for_each(std::task::Waker::wake);
    YieldOnce(false).await;
}

struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
