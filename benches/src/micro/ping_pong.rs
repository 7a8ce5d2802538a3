//! `ping_pong`: two tasks pass a message back and forth through oneshot
//! channels, one round at a time (tokio's own form of this bench).
//!
//! Each round spawns a task that receives on one oneshot and replies on a
//! second; the root task sends and awaits the reply. The channel is
//! `futures_channel::oneshot` for every runtime alike, so the figure
//! measures the executor (spawn, wake, cross-task handoff), not a channel.

use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::rt::Rt;

/// Plays `rounds` ping-pong rounds; returns the time taken.
pub async fn run<R: Rt>(rounds: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        let (ping_tx, ping_rx) = oneshot::channel::<()>();
        let (pong_tx, pong_rx) = oneshot::channel::<()>();
        R::spawn_detached(async move {
            ping_rx.await.expect("ping sender dropped");
            pong_tx.send(()).expect("pong receiver dropped");
        });
        ping_tx.send(()).expect("ping receiver dropped");
        pong_rx.await.expect("pong sender dropped");
    }
    start.elapsed()
}
