//! `spawn_many`: spawn many empty tasks from inside the runtime, then await
//! every join handle. Measures the cost of a task's whole life: allocate,
//! schedule, poll once, complete, join.

use std::time::{Duration, Instant};

use crate::rt::Rt;

/// Spawns `n` empty tasks and joins them all; returns the time taken.
pub async fn run<R: Rt>(n: usize) -> Duration {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(R::spawn(async {}));
    }
    for handle in handles {
        handle.await;
    }
    start.elapsed()
}
