//! `sync::broadcast`: every receiver sees every value in order; a receiver
//! that falls behind is told how many values it missed and resumes at the
//! oldest one kept; receivers drain and then see `Closed` once the senders
//! are gone; values are dropped once seen; `recv` is cancel safe; and
//! 100,000 values cross threads intact.

mod util;

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corium::sync::broadcast::error::{RecvError, SendError, TryRecvError};
use corium::sync::broadcast::{self, Receiver, Sender};
use corium::task::yield_now;
use util::{bounded, expect_panic, DropCounter, OnDrop, TestWaker};

/// How long a test may take before it counts as hung (a lost wakeup).
const LIMIT: Duration = Duration::from_secs(10);

/// The same for the cross-thread stress tests.
const STRESS_LIMIT: Duration = Duration::from_secs(60);

/// Values sent across threads in the stress tests.
const STRESS_VALUES: u64 = 100_000;

/// Receives `count` values, failing on a lag or a close.
async fn receive(mut rx: Receiver<u32>, count: usize) -> Vec<u32> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        seen.push(rx.recv().await.expect("no lag, no close"));
    }
    seen
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    // The sender outlives the receivers: only the sends can wake them.
    let seen = bounded(LIMIT, || {
        corium::block_on(async {
            let (tx, rx) = broadcast::channel(16);
            let receivers = [rx, tx.subscribe(), tx.subscribe()];
            let tasks: Vec<_> = receivers
                .into_iter()
                .map(|rx| corium::spawn(receive(rx, 10)))
                .collect();
            for value in 0..10 {
                assert_eq!(tx.send(value), Ok(3), "sent to all three receivers");
                // Let the receivers run, so they wait between values.
                yield_now().await;
            }
            let mut seen = Vec::new();
            for task in tasks {
                seen.push(task.await.unwrap());
            }
            seen
        })
    });
    let expected: Vec<u32> = (0..10).collect();
    assert_eq!(seen, vec![expected.clone(), expected.clone(), expected]);
}

#[test]
fn a_lagging_receiver_learns_how_much_it_missed_then_resumes_at_the_oldest_value() {
    bounded(LIMIT, || {
        let (tx, mut rx) = broadcast::channel(2);
        let mut polled = tx.subscribe();
        for value in [10, 20, 30, 40, 50] {
            tx.send(value).unwrap();
        }
        assert_eq!(rx.len(), 5, "len counts the values lagged past");

        let lagged = corium::block_on(rx.recv()).unwrap_err();
        assert_eq!(lagged, RecvError::Lagged(3));
        assert_eq!(format!("{lagged:?}"), "Lagged(3)");
        assert_eq!(lagged.to_string(), "channel lagged by 3");
        assert_eq!(corium::block_on(rx.recv()), Ok(40));
        assert_eq!(corium::block_on(rx.recv()), Ok(50));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

        assert_eq!(polled.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(polled.try_recv(), Ok(40));
        assert_eq!(polled.try_recv(), Ok(50));
        assert_eq!(polled.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn capacity_is_rounded_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for value in 0..5 {
        tx.send(value).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(1), "four values are kept");
}

#[test]
fn receivers_drain_what_is_left_then_see_closed_once_every_sender_is_gone() {
    bounded(LIMIT, || {
        let (tx, mut rx) = broadcast::channel(4);
        let second = tx.clone();
        tx.send(1).unwrap();
        second.send(2).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a sender remains");

        second.send(3).unwrap();
        drop(second);
        assert_eq!(rx.try_recv(), Ok(3), "values sent before the close drain");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(corium::block_on(rx.recv()), Err(RecvError::Closed));
        assert_eq!(RecvError::Closed.to_string(), "channel closed");
    });
}

#[test]
fn a_send_wakes_a_waiting_receiver_once() {
    let (tx, mut rx) = broadcast::channel(4);
    let waker = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(waker.poll(recv.as_mut()).is_pending());
    assert!(waker.poll(recv.as_mut()).is_pending());
    tx.send(1).unwrap();
    assert_eq!(waker.wakes(), 1, "one wake for one waiting future");
    assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(Ok(1)));
}

#[test]
fn a_waiting_receiver_wakes_with_closed_when_the_last_sender_drops() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    let waker = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(waker.poll(recv.as_mut()).is_pending());
    drop(tx);
    assert_eq!(waker.wakes(), 1, "the close woke the receiver");
    assert_eq!(
        waker.poll(recv.as_mut()),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn send_without_receivers_fails_and_hands_the_value_back() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    let err = tx.send(String::from("lost?")).unwrap_err();
    let SendError(value) = err.clone();
    assert_eq!(value, "lost?");
    assert!(err.to_string().contains("no receivers"), "{err}");
    let _: &dyn std::error::Error = &err;
    assert!(tx.is_empty(), "a failed send keeps nothing");

    let mut late = tx.subscribe();
    assert_eq!(tx.send(String::from("kept")), Ok(1));
    assert_eq!(late.try_recv().as_deref(), Ok("kept"));
}

#[test]
fn a_new_subscriber_sees_only_values_sent_after_it_subscribed() {
    let (tx, mut early) = broadcast::channel(8);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    let mut resubscribed = early.resubscribe();
    tx.send(2).unwrap();

    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(resubscribed.try_recv(), Ok(2));
    assert_eq!(resubscribed.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(early.try_recv(), Ok(1));
    assert_eq!(early.try_recv(), Ok(2));
}

#[test]
fn a_value_is_dropped_once_every_receiver_has_seen_it() {
    let drops = DropCounter::new();
    let (tx, mut first) = broadcast::channel::<Arc<OnDrop>>(8);
    let mut second = tx.subscribe();

    tx.send(Arc::new(drops.probe())).unwrap();
    assert_eq!(tx.len(), 1);
    drop(first.try_recv().unwrap());
    assert_eq!(drops.count(), 0, "the second receiver has not seen it");
    assert_eq!(tx.len(), 1);
    drop(second.try_recv().unwrap());
    assert_eq!(drops.count(), 1, "both have seen it");
    assert!(tx.is_empty());

    tx.send(Arc::new(drops.probe())).unwrap();
    drop(first.try_recv().unwrap());
    assert_eq!(drops.count(), 1);
    drop(second);
    assert_eq!(drops.count(), 2, "a dropped receiver releases its claim");
    assert!(tx.is_empty());
}

#[test]
fn an_overwritten_value_is_dropped_and_later_values_wait_for_their_receivers() {
    let drops = DropCounter::new();
    let (tx, mut rx) = broadcast::channel::<Arc<OnDrop>>(1);
    tx.send(Arc::new(drops.probe())).unwrap();
    tx.send(Arc::new(drops.probe())).unwrap();
    assert_eq!(drops.count(), 1, "the unseen value was overwritten");
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Lagged(1));
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.count(), 2);
    drop(tx);
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Closed);
}

#[test]
fn dropping_a_pending_recv_loses_nothing() {
    bounded(LIMIT, || {
        let (tx, mut rx) = broadcast::channel(4);
        let waker = TestWaker::new();
        {
            let mut recv = pin!(rx.recv());
            assert!(waker.poll(recv.as_mut()).is_pending());
        }
        // Dropped before any send: the send wakes nobody.
        tx.send(1).unwrap();
        assert_eq!(waker.wakes(), 0, "the dropped future left the queue");

        assert_eq!(rx.try_recv(), Ok(1));
        {
            let mut recv = pin!(rx.recv());
            assert!(waker.poll(recv.as_mut()).is_pending());
            tx.send(2).unwrap();
            assert_eq!(waker.wakes(), 1);
            // Woken, then dropped without being polled again.
        }
        assert_eq!(corium::block_on(rx.recv()), Ok(2));
    });
}

#[test]
fn sender_closed_resolves_once_every_receiver_is_gone() {
    let (tx, rx) = broadcast::channel::<u32>(4);
    let other = tx.subscribe();
    let waker = TestWaker::new();
    let mut closed = pin!(tx.closed());
    assert!(waker.poll(closed.as_mut()).is_pending());
    drop(rx);
    assert!(waker.poll(closed.as_mut()).is_pending());
    assert_eq!(waker.wakes(), 0);
    drop(other);
    assert_eq!(waker.wakes(), 1);
    assert_eq!(waker.poll(closed.as_mut()), Poll::Ready(()));
}

#[test]
fn counts_lengths_and_channel_identity() {
    let (tx, mut rx) = broadcast::channel(4);
    let (other_tx, other_rx) = broadcast::channel::<u32>(4);
    assert!(tx.same_channel(&tx.clone()));
    assert!(!tx.same_channel(&other_tx));
    assert!(rx.same_channel(&tx.subscribe()));
    assert!(!rx.same_channel(&other_rx));
    assert_eq!(tx.receiver_count(), 1, "the temporary subscriber is gone");

    assert!(rx.is_empty());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!((rx.len(), tx.len()), (2, 2));
    rx.try_recv().unwrap();
    assert_eq!((rx.len(), tx.len()), (1, 1));
}

#[test]
fn zero_capacity_panics_with_a_clear_message() {
    let message = expect_panic(|| broadcast::channel::<u32>(0));
    assert!(message.contains("capacity cannot be zero"), "{message}");
}

#[test]
fn handles_and_futures_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<u32>(1);
    assert_send_sync(&tx);
    assert_send_sync(&rx);
    assert_send_sync(&tx.closed());
    assert_send_sync(&rx.recv());
}

/// Sends `STRESS_VALUES` values in order from a thread of its own, and
/// hands the sender back: while it lives, only sends wake the receivers.
fn spawn_sender(tx: Sender<u64>) -> thread::JoinHandle<Sender<u64>> {
    thread::spawn(move || {
        for value in 0..STRESS_VALUES {
            tx.send(value).unwrap();
        }
        tx
    })
}

/// Receives all `STRESS_VALUES` values, checking they count up from 0
/// without a gap.
async fn receive_in_order(mut rx: Receiver<u64>) {
    for expected in 0..STRESS_VALUES {
        assert_eq!(rx.recv().await, Ok(expected));
    }
}

/// [`receive_in_order`] with `blocking_recv`.
fn receive_in_order_blocking(mut rx: Receiver<u64>) {
    for expected in 0..STRESS_VALUES {
        assert_eq!(rx.blocking_recv(), Ok(expected));
    }
}

#[test]
fn a_hundred_thousand_values_reach_four_receiver_threads_in_order() {
    bounded(STRESS_LIMIT, || {
        // Room for every value: nobody can lag.
        let (tx, rx) = broadcast::channel::<u64>(STRESS_VALUES as usize);
        let receivers = [rx, tx.subscribe(), tx.subscribe(), tx.subscribe()];
        let threads: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(i, rx)| {
                // Half the threads block, half run a runtime.
                thread::spawn(move || match i % 2 {
                    0 => receive_in_order_blocking(rx),
                    _ => corium::block_on(receive_in_order(rx)),
                })
            })
            .collect();
        let tx = spawn_sender(tx).join().unwrap();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(tx);
    });
}

#[test]
fn lag_reports_account_for_every_value_a_slow_receiver_thread_missed() {
    bounded(STRESS_LIMIT, || {
        let (tx, rx) = broadcast::channel::<u64>(16);
        let receivers = [rx, tx.subscribe()];
        let threads: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                thread::spawn(move || {
                    let (mut next, mut lags) = (0, 0);
                    while next < STRESS_VALUES {
                        match rx.blocking_recv() {
                            Ok(value) => {
                                assert_eq!(value, next);
                                next += 1;
                            }
                            Err(RecvError::Lagged(missed)) => {
                                next += missed;
                                lags += 1;
                            }
                            Err(RecvError::Closed) => panic!("closed after {next}"),
                        }
                    }
                    (next, lags)
                })
            })
            .collect();
        let tx = spawn_sender(tx).join().unwrap();
        for thread in threads {
            let (next, lags) = thread.join().unwrap();
            assert_eq!(next, STRESS_VALUES, "after {lags} lags");
            eprintln!("a receiver lagged {lags} times");
        }
        drop(tx);
    });
}
