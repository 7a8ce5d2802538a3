//! `mpsc_1p` / `mpsc_4p`: throughput of a bounded channel. Producer tasks
//! share the messages between them and send as fast as the channel takes
//! them; the root task is the consumer and counts until every sender is
//! gone.

use std::time::{Duration, Instant};

use super::prims::Channels;
use crate::rt::Rt;

/// Sends `messages` `u64`s (split evenly over `producers` spawned tasks)
/// through a channel of `capacity` and receives them all in the calling
/// task; returns the time from the first spawn to the last message.
pub async fn run<R: Rt, C: Channels>(
    producers: usize,
    messages: usize,
    capacity: usize,
) -> Duration {
    let per_producer = messages / producers;
    let (tx, mut rx) = C::bounded::<u64>(capacity);
    let start = Instant::now();
    for _ in 0..producers {
        let tx = tx.clone();
        R::spawn_detached(async move {
            for i in 0..per_producer as u64 {
                C::send(&tx, i).await;
            }
        });
    }
    drop(tx);
    let mut received = 0;
    while C::recv(&mut rx).await.is_some() {
        received += 1;
    }
    let took = start.elapsed();
    assert_eq!(received, per_producer * producers, "messages lost");
    took
}
