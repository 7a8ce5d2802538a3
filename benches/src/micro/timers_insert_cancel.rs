//! `timers_insert_cancel`: create many sleeps with different durations
//! (1 to 100 s), poll each once so it registers with the runtime's timer,
//! then drop them all. Measures timer insertion plus cancellation.
//!
//! Each sleep is boxed (the same allocation for every runtime) so it can be
//! pinned and kept; it is polled with a no-op waker inside the runtime. A
//! `Pending` poll costs no cooperative budget in tokio or Corium, so every
//! sleep really registers.

use std::future::Future;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use crate::rng::XorShift;
use crate::rt::Rt;

/// Creates, registers and drops `n` sleeps; returns the time taken.
pub async fn run<R: Rt>(n: usize) -> Duration {
    let mut rng = XorShift::new(0x7153_5EED);
    let start = Instant::now();
    let mut sleeps = Vec::with_capacity(n);
    {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..n {
            let millis = rng.range(1_000, 100_000);
            let mut sleep = Box::pin(R::sleep(Duration::from_millis(millis)));
            let registered = sleep.as_mut().poll(&mut cx).is_pending();
            debug_assert!(registered, "a sleep of {millis} ms completed at once");
            sleeps.push(sleep);
        }
    }
    drop(sleeps);
    start.elapsed()
}
