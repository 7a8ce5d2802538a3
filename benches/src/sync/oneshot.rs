//! The oneshot benchmarks.
//!
//! - `oneshot_rpc`: request/response between two tasks, as a service uses
//!   a oneshot: a client task sends `(value, oneshot::Sender)` over the
//!   family's bounded mpsc to a responder task, which answers on the
//!   oneshot; the client waits for each answer before the next request.
//!   One round trip is two cross-task wakes, one mpsc send/recv and one
//!   oneshot, all from the same family.
//! - `oneshot_local`: one task creates a oneshot, sends and awaits it (the
//!   value is already there: no wake). The oneshot's own cost: allocation
//!   and its state changes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::prims::Channels;
use crate::rt::Rt;

/// Capacity of the request channel of `oneshot_rpc` (one request is ever
/// in flight, so it only has to be at least 1).
const REQUEST_CAPACITY: usize = 1_024;

/// `requests` request/response round trips; returns the time they took.
pub async fn rpc<R: Rt, C: Channels>(requests: usize) -> Duration {
    let (tx, mut rx) = C::bounded::<(u64, C::OnceTx<u64>)>(REQUEST_CAPACITY);
    let responder = R::spawn(async move {
        while let Some((value, reply)) = C::recv(&mut rx).await {
            C::reply(reply, value + 1);
        }
    });
    let start = Instant::now();
    for i in 0..requests as u64 {
        let (reply_tx, reply_rx) = C::oneshot();
        C::send(&tx, (i, reply_tx)).await;
        let answer = C::wait(reply_rx).await;
        assert_eq!(answer, i + 1, "wrong answer");
    }
    let took = start.elapsed();
    drop(tx);
    responder.await;
    took
}

/// `count` create/send/await cycles in one task; returns the time taken.
pub async fn local<C: Channels>(count: usize) -> Duration {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..count as u64 {
        let (tx, rx) = C::oneshot();
        C::reply(tx, black_box(i));
        sum = sum.wrapping_add(C::wait(rx).await);
    }
    let took = start.elapsed();
    black_box(sum);
    took
}
