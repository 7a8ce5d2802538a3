//! `Timeout`: a future with a deadline.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::{sleep_until, Elapsed, Instant, Sleep};
use crate::coop;

/// Runs `future` until it completes or `duration` passes, whichever is
/// first; on timeout the future is dropped and `Err(Elapsed)` returned.
///
/// # Panics
/// Outside a runtime, with a message saying how to enter one.
///
/// # Cancel safety
/// As cancel safe as `future`: on timeout, it is dropped where it stood.
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    let deadline = Instant::now().far_add(duration);
    timeout_at(deadline, future)
}

/// [`timeout`] with a deadline instead of a duration.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep_until(deadline),
    }
}

pin_project! {
    /// The future of [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        #[pin]
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Unwraps the future, dropping the timer.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(v) = this.value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        // If the inner future spent the last unit of budget, the deadline
        // must still be able to fire, or an always-busy future would never
        // time out.
        let delay = if had_budget && !coop::has_budget_remaining() {
            coop::unconstrained(|| this.delay.poll(cx))
        } else {
            this.delay.poll(cx)
        };
        delay.map(|()| Err(Elapsed(())))
    }
}
