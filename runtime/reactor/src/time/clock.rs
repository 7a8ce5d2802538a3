//! The runtime's clock: real time, or a paused test clock.
//!
//! A paused clock stands still until `advance` moves it or the executor
//! auto-advances it to the next timer when every task is idle, so timer
//! tests are exact and take no wall time. After `resume` it runs again from
//! where it stood.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

#[derive(Debug)]
pub(crate) struct Clock {
    /// Deadlines are nanoseconds since this instant.
    base: Instant,
    /// Fast path: false while the clock is plain real time.
    adjusted: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Real,
    Paused {
        now: Instant,
    },
    /// Resumed after a pause: time runs from `virtual_start`.
    Shifted {
        real_start: Instant,
        virtual_start: Instant,
    },
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            base: Instant::now(),
            adjusted: AtomicBool::new(false),
            state: Mutex::new(State::Real),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        if !self.adjusted.load(Relaxed) {
            return Instant::now();
        }
        match *self.state.lock() {
            State::Real => Instant::now(),
            State::Paused { now } => now,
            State::Shifted {
                real_start,
                virtual_start,
            } => virtual_start + real_start.elapsed(),
        }
    }

    /// Nanoseconds from the clock's base to `instant` (0 if before it).
    pub(crate) fn ns_since_base(&self, instant: Instant) -> u64 {
        instant
            .saturating_duration_since(self.base)
            .as_nanos()
            .min(u64::MAX as u128) as u64
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.ns_since_base(self.now())
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.adjusted.load(Relaxed) && matches!(*self.state.lock(), State::Paused { .. })
    }

    pub(crate) fn pause(&self) {
        let now = self.now();
        let mut state = self.state.lock();
        assert!(
            !matches!(*state, State::Paused { .. }),
            "time::pause: the clock is already paused"
        );
        *state = State::Paused { now };
        self.adjusted.store(true, Relaxed);
    }

    pub(crate) fn resume(&self) {
        let mut state = self.state.lock();
        let State::Paused { now } = *state else {
            panic!("time::resume: the clock is not paused; call time::pause first");
        };
        *state = State::Shifted {
            real_start: Instant::now(),
            virtual_start: now,
        };
    }

    /// Moves a paused clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let mut state = self.state.lock();
        let State::Paused { now } = &mut *state else {
            panic!("time::advance: the clock is not paused; call time::pause first");
        };
        *now += by;
    }

    /// Moves a paused clock forward to `to`, if `to` is later.
    pub(crate) fn advance_to(&self, to: Instant) {
        if let State::Paused { now } = &mut *self.state.lock() {
            *now = (*now).max(to);
        }
    }

    pub(crate) fn instant_at_ns(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }
}
