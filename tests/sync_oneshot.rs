//! `corium::sync::oneshot`: delivery in either order, the ends of a channel
//! (sender dropped, receiver dropped or closed), `closed()`, values dropped
//! exactly once on every path, cancellation of a pending receive, and races
//! of the lock-free protocol across threads and tasks.

mod util;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corium::sync::oneshot::{self, error::RecvError, error::TryRecvError};
use corium::task::yield_now;
use util::{bounded, on_every_flavor, poll_once, DropCounter, OnDrop, TestWaker};

/// Longest any test may take before it counts as hung. Generous: the
/// lockstep races spin between rounds, and on 2 cores shared with other
/// busy processes (a loaded CI host) 20,000 rounds took up to 50 s.
const LIMIT: Duration = Duration::from_secs(120);

/// Lines two threads up before each round, so that both sides act on the
/// same channel at the same moment and the race is real rather than one
/// thread running far ahead of the other.
#[derive(Default)]
struct Lockstep {
    arrived: AtomicUsize,
}

impl Lockstep {
    /// Waits for the other thread to reach round `round` (counted from 0 by
    /// both threads, each calling this once per round).
    fn wait(&self, round: usize) {
        self.arrived.fetch_add(1, SeqCst);
        let mut spins = 0u32;
        while self.arrived.load(SeqCst) < 2 * (round + 1) {
            spins += 1;
            if spins % 64 == 0 {
                thread::yield_now(); // the other thread may need this core
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

// ----- delivery -----

#[test]
fn send_then_await_delivers_the_value() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = oneshot::channel();
        assert_eq!(tx.send(String::from("answer")), Ok(()));
        assert_eq!(rx.await, Ok(String::from("answer")));
    });
}

#[test]
fn await_then_send_from_another_thread_wakes_the_receiver() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            tx.send(7).unwrap();
        });
        assert_eq!(rx.await, Ok(7));
        sender.join().unwrap();
    });
}

#[test]
fn await_then_send_from_another_task() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = oneshot::channel();
        let receiver = corium::spawn(rx);
        corium::spawn(async move {
            yield_now().await;
            tx.send(8).unwrap();
        });
        assert_eq!(receiver.await.unwrap(), Ok(8));
    });
}

#[test]
fn a_pending_receiver_is_woken_by_the_send() {
    let (tx, mut rx) = oneshot::channel();
    let waker = TestWaker::new();
    assert!(waker.poll(Pin::new(&mut rx)).is_pending());
    assert!(waker.poll(Pin::new(&mut rx)).is_pending(), "still nothing");
    tx.send(1).unwrap();
    assert!(waker.woken());
    assert_eq!(waker.poll(Pin::new(&mut rx)), Poll::Ready(Ok(1)));
    assert!(rx.is_terminated());
}

#[test]
fn a_receiver_polled_by_another_task_wakes_the_new_task_only() {
    let (tx, mut rx) = oneshot::channel();
    let (old, new) = (TestWaker::new(), TestWaker::new());
    assert!(old.poll(Pin::new(&mut rx)).is_pending());
    assert!(new.poll(Pin::new(&mut rx)).is_pending());
    tx.send(1).unwrap();
    assert!(
        new.woken(),
        "the waker of the latest poll is the one to wake"
    );
    assert_eq!(new.poll(Pin::new(&mut rx)), Poll::Ready(Ok(1)));
}

// ----- the sender's end -----

#[test]
fn a_sender_dropped_without_sending_ends_the_receiver_with_recv_error() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        let received: Result<u8, RecvError> = rx.await;
        assert!(received.is_err());

        // Dropped on another thread while the receiver waits.
        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(tx);
        });
        assert!(rx.await.is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn a_sender_dropped_wakes_the_pending_receiver() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let waker = TestWaker::new();
    assert!(waker.poll(Pin::new(&mut rx)).is_pending());
    drop(tx);
    assert!(waker.woken());
    assert!(matches!(waker.poll(Pin::new(&mut rx)), Poll::Ready(Err(_))));
}

#[test]
fn send_after_the_receiver_is_dropped_gives_the_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(
        tx.send(String::from("unwanted")),
        Err(String::from("unwanted"))
    );
}

// ----- the receiver's end: close and drop -----

#[test]
fn close_then_send_fails_with_the_value() {
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_ends_a_receive_with_recv_error_while_the_sender_lives() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = oneshot::channel::<u8>();
        rx.close();
        assert!(rx.await.is_err(), "nothing can arrive after close");
        assert!(tx.is_closed());
    });
}

#[test]
fn a_value_sent_before_close_is_still_received() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = oneshot::channel();
        tx.send(3).unwrap();
        rx.close();
        assert_eq!(rx.await, Ok(3));

        let (tx, mut rx) = oneshot::channel();
        tx.send(4).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(4));
    });
}

#[test]
fn try_recv_tells_empty_from_value_from_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
    assert!(!rx.is_terminated());
    tx.send(1).unwrap();
    assert!(!rx.is_empty(), "a value is waiting");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "the value was taken"
    );
    assert!(rx.is_terminated());

    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "the sender is gone"
    );
    assert!(rx.is_terminated());
}

#[test]
fn closed_completes_when_the_receiver_drops_on_another_thread() {
    on_every_flavor(LIMIT, || async {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(rx);
        });
        tx.closed().await;
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        dropper.join().unwrap();
    });
}

#[test]
fn closed_completes_when_the_receiver_closes() {
    on_every_flavor(LIMIT, || async {
        let (mut tx, mut rx) = oneshot::channel::<u8>();
        let waiter = corium::spawn(async move {
            tx.closed().await;
            tx.send(1)
        });
        yield_now().await;
        rx.close();
        assert_eq!(waiter.await.unwrap(), Err(1));
        assert!(rx.await.is_err());
    });
}

#[test]
fn poll_closed_is_pending_until_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let (first, second) = (TestWaker::new(), TestWaker::new());
    assert!(tx.poll_closed(&mut first.context()).is_pending());
    assert!(tx.poll_closed(&mut first.context()).is_pending());
    // The task moved: the latest waker is the one to wake.
    assert!(tx.poll_closed(&mut second.context()).is_pending());
    drop(rx);
    assert!(second.woken());
    assert!(tx.poll_closed(&mut second.context()).is_ready());
    assert!(
        tx.poll_closed(&mut first.context()).is_ready(),
        "and stays ready"
    );
}

#[test]
fn a_dropped_closed_future_can_be_replaced() {
    on_every_flavor(LIMIT, || async {
        let (mut tx, rx) = oneshot::channel::<u8>();
        {
            let mut closed = Box::pin(tx.closed());
            assert!(poll_once(closed.as_mut()).await.is_pending());
        }
        let dropper = corium::spawn(async move {
            yield_now().await;
            drop(rx);
        });
        tx.closed().await;
        dropper.await.unwrap();
    });
}

#[test]
fn blocking_recv_waits_on_a_plain_thread() {
    bounded(LIMIT, || {
        let (tx, rx) = oneshot::channel();
        let receiver = thread::spawn(move || rx.blocking_recv());
        thread::sleep(Duration::from_millis(10));
        tx.send(9).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(9));

        let (tx, rx) = oneshot::channel::<u8>();
        let receiver = thread::spawn(move || rx.blocking_recv());
        thread::sleep(Duration::from_millis(10));
        drop(tx);
        assert!(receiver.join().unwrap().is_err());

        let (tx, rx) = oneshot::channel();
        tx.send(10).unwrap();
        assert_eq!(rx.blocking_recv(), Ok(10), "already sent: no wait");
    });
}

// ----- every value is dropped exactly once -----

#[test]
fn a_value_sent_and_received_is_dropped_by_its_receiver_only() {
    on_every_flavor(LIMIT, || async {
        let drops = DropCounter::new();
        let (tx, rx) = oneshot::channel();
        tx.send(drops.probe()).unwrap();
        let value = rx.await.unwrap();
        assert_eq!(
            drops.count(),
            0,
            "the channel must not drop a delivered value"
        );
        drop(value);
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn a_value_sent_and_never_received_is_dropped_with_the_receiver() {
    let drops = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(drops.probe()).unwrap();
    assert_eq!(drops.count(), 0);
    drop(rx);
    assert_eq!(drops.count(), 1);

    // The same after close.
    let drops = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    tx.send(drops.probe()).unwrap();
    rx.close();
    assert_eq!(drops.count(), 0, "still receivable after close");
    drop(rx);
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_value_sent_after_the_receiver_dropped_comes_back_alive() {
    let drops = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let value = tx.send(drops.probe()).unwrap_err();
    assert_eq!(drops.count(), 0, "the value is the caller's again");
    drop(value);
    assert_eq!(drops.count(), 1);

    let drops = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    let value = tx.send(drops.probe()).unwrap_err();
    drop(rx);
    assert_eq!(drops.count(), 0);
    drop(value);
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_value_taken_by_try_recv_is_dropped_once() {
    let drops = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    tx.send(drops.probe()).unwrap();
    let value = rx.try_recv().unwrap();
    drop(rx);
    assert_eq!(drops.count(), 0);
    drop(value);
    assert_eq!(drops.count(), 1);
}

// ----- cancellation of a pending receive -----

#[test]
fn a_dropped_pending_receive_then_a_later_receive_gets_the_value() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = oneshot::channel();
        {
            let mut receive = Box::pin(&mut rx);
            assert!(poll_once(receive.as_mut()).await.is_pending());
        }
        let sender = corium::spawn(async move {
            yield_now().await;
            tx.send(11).unwrap();
        });
        assert_eq!((&mut rx).await, Ok(11));
        sender.await.unwrap();
    });
}

#[test]
fn a_receive_woken_then_dropped_loses_nothing() {
    let drops = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    let waker = TestWaker::new();
    let mut receive = Box::pin(&mut rx);
    assert!(waker.poll(receive.as_mut()).is_pending());
    tx.send(drops.probe()).unwrap();
    assert!(waker.woken());
    drop(receive); // the woken task gave up without polling again
    assert_eq!(drops.count(), 0, "the value waits in the channel");
    assert!(rx.try_recv().is_ok(), "a later receive gets it");
    assert_eq!(drops.count(), 1, "taken and dropped, once");
}

// ----- Debug and Display -----

/// A value type without `Debug`: the channel's types must not need it.
struct Opaque;

#[test]
fn every_public_type_has_debug_output() {
    let (tx, rx) = oneshot::channel::<Opaque>();
    assert!(format!("{tx:?}").contains("Sender"));
    assert!(format!("{rx:?}").contains("Receiver"));
    assert!(!format!("{:?}", recv_error()).is_empty());
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
    assert_eq!(format!("{:?}", TryRecvError::Closed), "Closed");
}

/// A real `RecvError`, made the only way a user can.
fn recv_error() -> RecvError {
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    match TestWaker::new().poll(Pin::new(&mut rx)) {
        Poll::Ready(Err(error)) => error,
        other => panic!("expected RecvError, got {other:?}"),
    }
}

#[test]
fn errors_say_what_happened() {
    let recv = recv_error().to_string();
    assert!(
        recv.contains("sender") && recv.contains("dropped"),
        "{recv}"
    );
    let empty = TryRecvError::Empty.to_string();
    assert!(empty.contains("no value"), "{empty}");
    let closed = TryRecvError::Closed.to_string();
    assert!(closed.contains("sender"), "{closed}");
    assert_ne!(empty, closed);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(recv_error());
    assert_eq!(boxed.to_string(), recv);
}

// ----- races and stress -----

/// One round trip's outcome, as each side saw it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum SenderSaw {
    Dropped,
    Sent,
    Refused,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum ReceiverSaw {
    Dropped,
    Value,
    Error,
}

/// Checks one round trip: what the receiver saw must follow from what the
/// sender did, and the reverse.
fn assert_consistent(i: usize, sender: SenderSaw, receiver: ReceiverSaw) {
    let ok = matches!(
        (sender, receiver),
        (
            SenderSaw::Dropped,
            ReceiverSaw::Error | ReceiverSaw::Dropped
        ) | (SenderSaw::Sent, ReceiverSaw::Value | ReceiverSaw::Dropped)
            | (SenderSaw::Refused, ReceiverSaw::Dropped)
    );
    assert!(ok, "round {i}: sender {sender:?} but receiver {receiver:?}");
}

/// 100,000 round trips across two threads: each side either uses its end
/// or drops it, racing the other side. Every outcome is consistent, and
/// every value made is dropped exactly once.
#[test]
fn stress_round_trips_across_two_threads() {
    const ROUNDS: usize = 100_000;
    const BATCH: usize = 5_000;
    bounded(LIMIT, || {
        let drops = DropCounter::new();
        let mut made = 0;
        for batch in 0..ROUNDS / BATCH {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..BATCH)
                .map(|_| oneshot::channel::<(usize, OnDrop)>())
                .unzip();
            let base = batch * BATCH;
            let lockstep = Arc::new(Lockstep::default());
            let (sender_drops, sender_lockstep) = (drops.clone(), lockstep.clone());
            let sending = thread::spawn(move || {
                let mut saw = Vec::with_capacity(BATCH);
                for (k, tx) in senders.into_iter().enumerate() {
                    sender_lockstep.wait(k);
                    let i = base + k;
                    if i % 4 == 3 {
                        drop(tx);
                        saw.push(SenderSaw::Dropped);
                        continue;
                    }
                    match tx.send((i, sender_drops.probe())) {
                        Ok(()) => saw.push(SenderSaw::Sent),
                        Err((id, _probe)) => {
                            assert_eq!(id, i, "a refused send gives back its own value");
                            saw.push(SenderSaw::Refused);
                        }
                    }
                }
                saw
            });
            let receiving = thread::spawn(move || {
                let mut saw = Vec::with_capacity(BATCH);
                for (k, rx) in receivers.into_iter().enumerate() {
                    lockstep.wait(k);
                    let i = base + k;
                    if i % 5 == 4 {
                        drop(rx);
                        saw.push(ReceiverSaw::Dropped);
                        continue;
                    }
                    match rx.blocking_recv() {
                        Ok((id, _probe)) => {
                            assert_eq!(id, i, "a value reached the wrong receiver");
                            saw.push(ReceiverSaw::Value);
                        }
                        Err(_) => saw.push(ReceiverSaw::Error),
                    }
                }
                saw
            });
            let sender_saw = sending.join().unwrap();
            let receiver_saw = receiving.join().unwrap();
            for (k, (s, r)) in sender_saw.into_iter().zip(receiver_saw).enumerate() {
                assert_consistent(base + k, s, r);
                made += usize::from(s != SenderSaw::Dropped);
            }
        }
        assert_eq!(made, ROUNDS - ROUNDS / 4);
        assert_eq!(drops.count(), made, "a value leaked or was dropped twice");
    });
}

/// 10,000 round trips between tasks, with both sides sometimes dropping
/// their end and sometimes waiting first.
#[test]
fn stress_round_trips_between_tasks() {
    const ROUNDS: usize = 10_000;
    on_every_flavor(LIMIT, || async {
        let drops = DropCounter::new();
        let mut made = 0;
        for start in (0..ROUNDS).step_by(1_000) {
            let mut pairs = Vec::with_capacity(1_000);
            for i in start..start + 1_000 {
                let (tx, rx) = oneshot::channel::<(usize, OnDrop)>();
                let probe = drops.probe();
                let sending = corium::spawn(async move {
                    if i % 2 == 0 {
                        yield_now().await; // let the receiver wait first
                    }
                    if i % 4 == 3 {
                        drop((tx, probe));
                        return SenderSaw::Dropped;
                    }
                    match tx.send((i, probe)) {
                        Ok(()) => SenderSaw::Sent,
                        Err(_) => SenderSaw::Refused,
                    }
                });
                let receiving = corium::spawn(async move {
                    if i % 3 == 0 {
                        yield_now().await;
                    }
                    if i % 5 == 4 {
                        return ReceiverSaw::Dropped;
                    }
                    match rx.await {
                        Ok((id, _probe)) if id == i => ReceiverSaw::Value,
                        Ok((id, _)) => panic!("round {i} received the value of {id}"),
                        Err(_) => ReceiverSaw::Error,
                    }
                });
                pairs.push((i, sending, receiving));
            }
            for (i, sending, receiving) in pairs {
                let sender_saw = sending.await.unwrap();
                let receiver_saw = receiving.await.unwrap();
                assert_consistent(i, sender_saw, receiver_saw);
                made += 1;
            }
        }
        assert_eq!(made, ROUNDS);
        assert_eq!(drops.count(), ROUNDS, "a value leaked or was dropped twice");
    });
}

/// The sender sends on one thread while the receiver is polled, re-polled
/// with another waker, and dropped or waited on, on another. No wakeup is
/// lost (a pending poll is always woken) and no value leaks or is dropped
/// twice.
#[test]
fn race_send_against_a_receiver_polled_and_dropped_on_another_thread() {
    const ROUNDS: usize = 20_000;
    const BATCH: usize = 1_000;
    bounded(LIMIT, || {
        let drops = DropCounter::new();
        for base in (0..ROUNDS).step_by(BATCH) {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..BATCH).map(|_| oneshot::channel::<OnDrop>()).unzip();
            let lockstep = Arc::new(Lockstep::default());
            let (sender_drops, sender_lockstep) = (drops.clone(), lockstep.clone());
            let sending = thread::spawn(move || {
                for (k, tx) in senders.into_iter().enumerate() {
                    sender_lockstep.wait(k);
                    // Refused values are dropped here, with the error.
                    let _ = tx.send(sender_drops.probe());
                }
            });
            let receiving = thread::spawn(move || {
                for (k, mut rx) in receivers.into_iter().enumerate() {
                    let first = TestWaker::new();
                    lockstep.wait(k);
                    let polled = first.poll(Pin::new(&mut rx));
                    match (base + k) % 3 {
                        // Polled once, then dropped while the send races.
                        0 => drop(rx),
                        // Pending must be followed by a wake.
                        1 if polled.is_pending() => {
                            first.wait();
                            let value = first.poll(Pin::new(&mut rx));
                            assert!(matches!(value, Poll::Ready(Ok(_))), "woken early");
                        }
                        // The task moved: the new waker must be woken.
                        2 if polled.is_pending() => {
                            let second = TestWaker::new();
                            let mut value = second.poll(Pin::new(&mut rx));
                            if value.is_pending() {
                                second.wait();
                                value = second.poll(Pin::new(&mut rx));
                            }
                            assert!(matches!(value, Poll::Ready(Ok(_))), "woken early");
                        }
                        _ => assert!(matches!(polled, Poll::Ready(Ok(_)))),
                    }
                }
            });
            sending.join().unwrap();
            receiving.join().unwrap();
        }
        assert_eq!(drops.count(), ROUNDS, "a value leaked or was dropped twice");
    });
}

/// The receiver drops or closes on one thread while the sender waits for
/// that in `poll_closed` on another: the sender is always woken.
#[test]
fn race_closed_against_the_receiver_dropping_on_another_thread() {
    const ROUNDS: usize = 20_000;
    const BATCH: usize = 1_000;
    bounded(LIMIT, || {
        for base in (0..ROUNDS).step_by(BATCH) {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..BATCH).map(|_| oneshot::channel::<u8>()).unzip();
            let lockstep = Arc::new(Lockstep::default());
            let receiver_lockstep = lockstep.clone();
            let receiving = thread::spawn(move || {
                for (k, mut rx) in receivers.into_iter().enumerate() {
                    receiver_lockstep.wait(k);
                    if (base + k) % 2 == 0 {
                        rx.close();
                    }
                    drop(rx);
                }
            });
            for (k, mut tx) in senders.into_iter().enumerate() {
                let mut waiting = TestWaker::new();
                lockstep.wait(k);
                let mut polled = tx.poll_closed(&mut waiting.context());
                if polled.is_pending() && k % 2 == 1 {
                    // The task moved: the new waker must be the one woken.
                    waiting = TestWaker::new();
                    polled = tx.poll_closed(&mut waiting.context());
                }
                if polled.is_pending() {
                    waiting.wait();
                    assert!(tx.poll_closed(&mut waiting.context()).is_ready());
                }
                assert!(tx.is_closed());
                assert_eq!(tx.send(1), Err(1));
            }
            receiving.join().unwrap();
        }
    });
}

/// `send` races `close`: the value is either received or given back to
/// the sender, never both and never neither.
#[test]
fn race_send_against_close_on_another_thread() {
    const ROUNDS: usize = 20_000;
    const BATCH: usize = 1_000;
    bounded(LIMIT, || {
        let drops = DropCounter::new();
        for _ in (0..ROUNDS).step_by(BATCH) {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..BATCH).map(|_| oneshot::channel::<OnDrop>()).unzip();
            let lockstep = Arc::new(Lockstep::default());
            let (sender_drops, sender_lockstep) = (drops.clone(), lockstep.clone());
            let sending = thread::spawn(move || {
                senders
                    .into_iter()
                    .enumerate()
                    .map(|(k, tx)| {
                        sender_lockstep.wait(k);
                        tx.send(sender_drops.probe()).is_ok()
                    })
                    .collect::<Vec<_>>()
            });
            let receiving = thread::spawn(move || {
                receivers
                    .into_iter()
                    .enumerate()
                    .map(|(k, mut rx)| {
                        lockstep.wait(k);
                        rx.close();
                        // Whatever was sent before the close is still here;
                        // the sender is done or refused after it.
                        loop {
                            match rx.try_recv() {
                                Ok(_value) => return true,
                                Err(TryRecvError::Closed) => return false,
                                Err(TryRecvError::Empty) => thread::yield_now(),
                            }
                        }
                    })
                    .collect::<Vec<_>>()
            });
            let sent = sending.join().unwrap();
            let received = receiving.join().unwrap();
            assert_eq!(sent, received, "sent must mean received, after close too");
        }
        assert_eq!(drops.count(), ROUNDS, "a value leaked or was dropped twice");
    });
}
