//! `Interval`: ticks at a fixed period.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::{sleep_until, Instant, Sleep};

/// How late a tick may complete before it counts as missed: a tick a
/// little late (a busy turn) keeps the schedule whatever the behaviour.
const MISSED_TICK_SLACK: Duration = Duration::from_millis(5);

/// What an [`Interval`] does when ticks were missed (the task was busy
/// past one or more tick deadlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after the other, then keep the
    /// original schedule.
    #[default]
    Burst,
    /// Fire once now, then one period after now.
    Delay,
    /// Fire once now, then at the next tick of the original schedule.
    Skip,
}

impl MissedTickBehavior {
    fn next_timeout(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = now.duration_since(scheduled).as_nanos();
                let period_ns = period.as_nanos();
                let ahead = period_ns - late % period_ns;
                now + Duration::from_nanos(ahead.min(u64::MAX as u128) as u64)
            }
        }
    }
}

/// Ticks every `period`; the first tick completes immediately.
///
/// # Panics
/// When `period` is zero, or outside a runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// When `period` is zero, or outside a runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "interval: `period` must be non-zero"
    );
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// The stream of ticks of [`interval`].
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    /// Cancel safe: a tick is consumed only when `tick` returns it.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; see [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Future::poll(self.delay.as_mut(), cx));
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = if now > scheduled + MISSED_TICK_SLACK {
            self.missed_tick_behavior
                .next_timeout(scheduled, now, self.period)
        } else {
            scheduled + self.period
        };
        self.delay.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        let next = Instant::now() + self.period;
        self.delay.as_mut().reset(next);
    }

    /// Makes the next tick complete immediately.
    pub fn reset_immediately(&mut self) {
        self.delay.as_mut().reset(Instant::now());
    }

    /// Makes the next tick happen at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.as_mut().reset(deadline);
    }

    /// The behaviour for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the behaviour for missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
