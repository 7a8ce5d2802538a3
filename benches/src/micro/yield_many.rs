//! `yield_many`: many tasks each calling the runtime's `yield_now` many
//! times. Measures a reschedule: wake self, go to the back of the run
//! queue, be polled again.

use std::time::{Duration, Instant};

use crate::rt::Rt;

/// Spawns `tasks` tasks that each yield `yields` times, joins them all and
/// returns the time taken.
pub async fn run<R: Rt>(tasks: usize, yields: usize) -> Duration {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        handles.push(R::spawn(async move {
            for _ in 0..yields {
                R::yield_now().await;
            }
        }));
    }
    for handle in handles {
        handle.await;
    }
    start.elapsed()
}
