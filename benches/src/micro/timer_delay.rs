//! `timer_delay`: how late timers fire.
//!
//! Spawns one task per timer; each sleeps until a pseudo-random deadline
//! spread uniformly over the window (100 ms) and records, with
//! `std::time::Instant`, how long after its deadline it ran. The window
//! starts 10 ms after the benchmark does, so spawning the tasks (a few ms)
//! never shows up as lateness. Lateness is signed: a timer that fired early
//! shows as negative.

use std::time::{Duration, Instant};

use crate::rng::XorShift;
use crate::rt::Rt;
use crate::stats::percentile;

/// Time between the start of the benchmark and the start of the window.
const LEAD: Duration = Duration::from_millis(10);

/// Fires `n` timers spread over `window`; returns each one's lateness in
/// nanoseconds.
pub async fn run<R: Rt>(n: usize, window: Duration) -> Vec<i64> {
    let mut rng = XorShift::new(0xDE1A_75EE);
    let window_ns = u64::try_from(window.as_nanos()).expect("window too long");
    let base = Instant::now() + LEAD;
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let deadline = base + Duration::from_nanos(rng.range(0, window_ns));
        handles.push(R::spawn(async move {
            R::sleep_until(deadline).await;
            signed_ns_since(Instant::now(), deadline)
        }));
    }
    let mut lateness = Vec::with_capacity(n);
    for handle in handles {
        lateness.push(handle.await);
    }
    lateness
}

/// The 50th and 99th percentiles of `lateness_ns`, in microseconds.
pub fn p50_p99_us(mut lateness_ns: Vec<i64>) -> (f64, f64) {
    let p50 = percentile(&mut lateness_ns, 50.0);
    let p99 = percentile(&mut lateness_ns, 99.0);
    (p50 as f64 / 1_000.0, p99 as f64 / 1_000.0)
}

/// `now - deadline` in nanoseconds, negative when `now` is earlier.
fn signed_ns_since(now: Instant, deadline: Instant) -> i64 {
    match now.checked_duration_since(deadline) {
        Some(late) => i64::try_from(late.as_nanos()).unwrap_or(i64::MAX),
        None => -i64::try_from((deadline - now).as_nanos()).unwrap_or(i64::MAX),
    }
}
