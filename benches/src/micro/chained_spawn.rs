//! `chained_spawn`: a task that spawns the next, many deep; the last one
//! signals the root through a oneshot. Measures spawn-to-first-poll latency
//! when each task is the only runnable one.

use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::rt::Rt;

/// Runs a chain of `depth` spawns and waits for its end; returns the time
/// taken.
pub async fn run<R: Rt>(depth: usize) -> Duration {
    let start = Instant::now();
    let (done_tx, done_rx) = oneshot::channel();
    R::spawn_detached(async move { link::<R>(done_tx, depth) });
    done_rx.await.expect("chain dropped its end");
    start.elapsed()
}

/// One link: spawns the next one, or signals the root when none is left.
fn link<R: Rt>(done: oneshot::Sender<()>, left: usize) {
    if left <= 1 {
        done.send(()).expect("root stopped waiting");
    } else {
        R::spawn_detached(async move { link::<R>(done, left - 1) });
    }
}
