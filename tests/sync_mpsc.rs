//! `corium::sync::mpsc`: ordering, closing from either side, backpressure
//! and its fairness, permits, weak senders, cancellation at every await
//! point, and stress across threads and tasks.
//!
//! Tests of exact waiting order and cancellation poll the futures by hand
//! with a [`TestWaker`], so they can say who was woken and when; tests of
//! behaviour over time run on every runtime flavor.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corium::sync::mpsc::error::{SendError, TryRecvError, TrySendError};
use corium::sync::mpsc::{self, Receiver, Sender, UnboundedReceiver};
use corium::task::yield_now;
use util::{bounded, expect_panic, on_every_flavor, poll_once, DropCounter, OnDrop, TestWaker};

/// Longest any test may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(30);

/// Everything queued right now, in order.
fn drain<T>(rx: &mut Receiver<T>) -> Vec<T> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn drain_unbounded<T>(rx: &mut UnboundedReceiver<T>) -> Vec<T> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// Fills `tx`'s channel to its bound with 0, 1, 2, ...
fn fill(tx: &Sender<usize>) {
    for i in 0..tx.max_capacity() {
        tx.try_send(i).expect("the channel had room");
    }
    assert!(matches!(
        tx.try_send(usize::MAX),
        Err(TrySendError::Full(_))
    ));
}

/// Asserts that exactly `bound` messages fit in the empty channel of `tx`:
/// no slot was lost, and none was created.
fn assert_exact_capacity(tx: &Sender<usize>, rx: &mut Receiver<usize>, bound: usize) {
    assert!(rx.try_recv().is_err(), "the channel should be empty");
    assert_eq!(tx.capacity(), bound);
    for i in 0..bound {
        assert!(tx.try_send(i).is_ok(), "slot {i} of {bound} was lost");
    }
    assert!(
        matches!(tx.try_send(bound), Err(TrySendError::Full(_))),
        "a slot beyond the bound {bound} appeared"
    );
    assert_eq!(drain(rx), (0..bound).collect::<Vec<_>>());
}

// ----- ordering and the end of the stream -----

#[test]
fn bounded_channel_delivers_in_fifo_order() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(8);
        let producer = corium::spawn(async move {
            for i in 0..1_000 {
                tx.send(i).await.unwrap();
            }
        });
        for i in 0..1_000 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        producer.await.unwrap();
    });
}

#[test]
fn unbounded_channel_delivers_in_fifo_order() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = corium::spawn(async move {
            for i in 0..1_000 {
                tx.send(i).unwrap();
                if i % 100 == 0 {
                    yield_now().await;
                }
            }
        });
        for i in 0..1_000 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        producer.await.unwrap();
    });
}

/// Checks that `messages` holds `0..per_producer` from every producer,
/// each once and each producer's in the order it sent them.
fn assert_each_producer_in_order(
    messages: impl IntoIterator<Item = (usize, usize)>,
    producers: usize,
    per_producer: usize,
) {
    let mut next = vec![0; producers];
    for (producer, i) in messages {
        assert_eq!(
            i, next[producer],
            "producer {producer}: got {i}, expected {}",
            next[producer]
        );
        next[producer] += 1;
    }
    assert_eq!(next, vec![per_producer; producers], "messages were lost");
}

#[test]
fn each_producer_keeps_its_own_order_bounded() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        for producer in 0..4 {
            let tx = tx.clone();
            corium::spawn(async move {
                for i in 0..500 {
                    tx.send((producer, i)).await.unwrap();
                    if i % 7 == 0 {
                        yield_now().await;
                    }
                }
            });
        }
        drop(tx);
        let mut received = Vec::new();
        while let Some(message) = rx.recv().await {
            received.push(message);
        }
        assert_each_producer_in_order(received, 4, 500);
    });
}

#[test]
fn each_producer_keeps_its_own_order_unbounded() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for producer in 0..4 {
            let tx = tx.clone();
            corium::spawn(async move {
                for i in 0..500 {
                    tx.send((producer, i)).unwrap();
                    if i % 7 == 0 {
                        yield_now().await;
                    }
                }
            });
        }
        drop(tx);
        let mut received = Vec::new();
        while let Some(message) = rx.recv().await {
            received.push(message);
        }
        assert_each_producer_in_order(received, 4, 500);
    });
}

#[test]
fn recv_returns_none_only_after_every_sender_is_gone_and_the_queue_is_drained() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1), "one sender is still alive");
        drop(tx2);
        assert_eq!(
            rx.recv().await,
            Some(2),
            "queued messages outlive the senders"
        );
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None, "None again, not a hang");
        assert!(rx.is_closed());

        let (tx, mut rx) = mpsc::unbounded_channel();
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        drop((tx, tx2));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn dropping_the_last_sender_wakes_a_waiting_receiver() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let tx2 = tx.clone();
        let receiver = corium::spawn(async move { rx.recv().await });
        corium::spawn(async move {
            yield_now().await;
            drop(tx);
            yield_now().await;
            drop(tx2);
        });
        assert_eq!(receiver.await.unwrap(), None);

        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(tx);
        });
        assert_eq!(rx.recv().await, None);
        dropper.join().unwrap();
    });
}

#[test]
fn a_waiting_receiver_is_woken_by_a_send_from_another_thread() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        let (utx, mut urx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            tx.blocking_send(7).unwrap();
            thread::sleep(Duration::from_millis(10));
            utx.send(8).unwrap();
        });
        assert_eq!(rx.recv().await, Some(7));
        assert_eq!(urx.recv().await, Some(8));
        sender.join().unwrap();
    });
}

#[test]
fn try_recv_tells_empty_from_disconnected() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(2).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(2), "a queued message outlives the sender");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, mut rx) = mpsc::unbounded_channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn len_and_is_empty_count_queued_messages() {
    let (tx, rx) = mpsc::channel(4);
    assert!(rx.is_empty());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let _permit = tx.try_reserve().unwrap();
    assert_eq!(rx.len(), 2, "a reserved slot is not a message");
    assert!(!rx.is_empty());

    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    assert_eq!(rx.len(), 1);
    rx.try_recv().unwrap();
    assert!(rx.is_empty());
}

// ----- recv_many -----

#[test]
fn recv_many_takes_up_to_the_limit_and_appends_to_the_buffer() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(8);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let mut buffer = vec![100];
        assert_eq!(rx.recv_many(&mut buffer, 3).await, 3);
        assert_eq!(buffer, [100, 0, 1, 2]);
        assert_eq!(rx.recv_many(&mut buffer, 10).await, 2);
        assert_eq!(buffer, [100, 0, 1, 2, 3, 4]);

        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        let mut buffer = Vec::new();
        assert_eq!(rx.recv_many(&mut buffer, 4).await, 4);
        assert_eq!(rx.recv_many(&mut buffer, 4).await, 1);
        assert_eq!(buffer, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn recv_many_returns_zero_once_the_channel_is_finished() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        drop(tx);
        let mut buffer = Vec::new();
        assert_eq!(rx.recv_many(&mut buffer, 10).await, 2);
        assert_eq!(rx.recv_many(&mut buffer, 10).await, 0);
        assert_eq!(buffer, [1, 2]);

        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        drop(tx);
        assert_eq!(rx.recv_many(&mut Vec::new(), 10).await, 0);
    });
}

#[test]
fn recv_many_with_limit_zero_returns_zero_and_takes_nothing() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        let mut buffer = Vec::new();
        assert_eq!(rx.recv_many(&mut buffer, 0).await, 0);
        assert!(buffer.is_empty());
        assert_eq!(rx.try_recv(), Ok(1), "the message is still queued");

        // Limit 0 on an empty, open channel returns at once, it does not wait.
        let (_utx, mut urx) = mpsc::unbounded_channel::<u8>();
        assert_eq!(urx.recv_many(&mut Vec::new(), 0).await, 0);
    });
}

#[test]
fn recv_many_waits_for_the_first_message() {
    let (tx, mut rx) = mpsc::channel(4);
    let waker = TestWaker::new();
    let mut buffer = Vec::new();
    {
        let mut recv = Box::pin(rx.recv_many(&mut buffer, 4));
        assert!(waker.poll(recv.as_mut()).is_pending());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert!(waker.woken(), "a message wakes the receiver");
        assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(2));
    }
    assert_eq!(buffer, [1, 2]);
}

#[test]
fn recv_many_hands_every_freed_slot_to_a_queued_sender() {
    let (tx, mut rx) = mpsc::channel(2);
    fill(&tx);
    let (a_waker, b_waker) = (TestWaker::new(), TestWaker::new());
    let mut a = Box::pin(tx.send(10));
    let mut b = Box::pin(tx.send(11));
    assert!(a_waker.poll(a.as_mut()).is_pending());
    assert!(b_waker.poll(b.as_mut()).is_pending());
    let mut buffer = Vec::new();
    assert_eq!(
        TestWaker::new().poll(Box::pin(rx.recv_many(&mut buffer, 2)).as_mut()),
        Poll::Ready(2)
    );
    assert!(a_waker.woken() && b_waker.woken());
    assert_eq!(a_waker.poll(a.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(b_waker.poll(b.as_mut()), Poll::Ready(Ok(())));
    drop((a, b));
    assert_eq!(drain(&mut rx), [10, 11]);
    assert_exact_capacity(&tx, &mut rx, 2);
}

// ----- backpressure and fairness -----

#[test]
fn send_waits_while_full_and_completes_when_the_receiver_takes_one() {
    let (tx, mut rx) = mpsc::channel(2);
    fill(&tx);
    let waker = TestWaker::new();
    let mut send = Box::pin(tx.send(2));
    assert!(waker.poll(send.as_mut()).is_pending());
    assert!(waker.poll(send.as_mut()).is_pending(), "still full");
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(waker.woken(), "taking a message wakes the waiting sender");
    assert_eq!(waker.poll(send.as_mut()), Poll::Ready(Ok(())));
    drop(send);
    assert_eq!(drain(&mut rx), [1, 2]);
}

#[test]
fn send_waits_for_room_on_every_flavor() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let producer = corium::spawn(async move {
            tx.send(1).await.unwrap();
            "sent"
        });
        for _ in 0..10 {
            yield_now().await;
        }
        assert!(!producer.is_finished(), "the channel is full");
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(producer.await.unwrap(), "sent");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn queued_senders_are_served_in_arrival_order() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let wakers: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut sends: Vec<_> = (1..=3).map(|i| Box::pin(tx.send(i))).collect();
    for (send, waker) in sends.iter_mut().zip(&wakers) {
        assert!(waker.poll(send.as_mut()).is_pending());
    }
    for turn in 0..3 {
        assert_eq!(rx.try_recv(), Ok(turn), "the message sent before");
        // Poll the later senders first: they must not overtake.
        for later in (turn + 1..3).rev() {
            assert!(wakers[later].poll(sends[later].as_mut()).is_pending());
        }
        assert!(wakers[turn].woken(), "sender {turn} is next in line");
        assert_eq!(wakers[turn].poll(sends[turn].as_mut()), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn try_send_fails_full_while_a_sender_is_queued() {
    let (tx, mut rx) = mpsc::channel(2);
    let first = tx.try_reserve().unwrap();
    let second = tx.try_reserve().unwrap();
    let waker = TestWaker::new();
    let mut queued = Box::pin(tx.send(7));
    assert!(waker.poll(queued.as_mut()).is_pending());

    drop(first);
    // The freed slot is promised to the queued sender, not to a newcomer.
    assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    assert_eq!(tx.capacity(), 0);
    assert!(waker.woken());
    assert_eq!(waker.poll(queued.as_mut()), Poll::Ready(Ok(())));
    drop(queued);
    drop(second);
    assert_eq!(drain(&mut rx), [7]);
    assert_exact_capacity(&tx, &mut rx, 2);
}

#[test]
fn try_send_and_try_reserve_fail_full_when_full() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    match tx.try_send(2) {
        Err(TrySendError::Full(value)) => assert_eq!(value, 2, "the value comes back"),
        other => panic!("expected Full, got {other:?}"),
    }
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    let tx = match tx.try_reserve_owned() {
        Err(TrySendError::Full(tx)) => tx,
        other => panic!("expected Full with the sender back, got {other:?}"),
    };
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
}

// ----- permits -----

#[test]
fn permit_send_delivers_into_the_reserved_slot() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(2);
        let permit = tx.reserve().await.unwrap();
        assert_eq!(tx.capacity(), 1, "the permit holds a slot");
        tx.try_send(1).unwrap();
        assert!(
            matches!(tx.try_send(2), Err(TrySendError::Full(2))),
            "the permit's slot is not for others"
        );
        permit.send(0);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(tx.capacity(), 2);
    });
}

#[test]
fn reserve_waits_while_full_and_completes_when_a_slot_frees() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let mut reserve = Box::pin(tx.reserve());
        assert!(poll_once(reserve.as_mut()).await.is_pending());
        assert_eq!(rx.recv().await, Some(0));
        let permit = reserve.await.unwrap();
        permit.send(1);
        assert_eq!(rx.recv().await, Some(1));
    });
}

#[test]
fn dropping_a_permit_frees_its_slot() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    drop(permit);
    assert_eq!(tx.capacity(), 1);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_exact_capacity(&tx, &mut rx, 1);
}

#[test]
fn dropping_a_permit_hands_its_slot_to_a_queued_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    let waker = TestWaker::new();
    let mut send = Box::pin(tx.send(5));
    assert!(waker.poll(send.as_mut()).is_pending());
    drop(permit);
    assert!(waker.woken());
    assert_eq!(waker.poll(send.as_mut()), Poll::Ready(Ok(())));
    drop(send);
    assert_eq!(drain(&mut rx), [5]);
    assert_exact_capacity(&tx, &mut rx, 1);
}

#[test]
fn owned_permit_sends_and_gives_the_sender_back() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = tx.clone().reserve_owned().await.unwrap();
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        // 'static: it can move into a task.
        let sent = corium::spawn(async move {
            let tx = permit.send(1);
            tx.strong_count()
        });
        assert_eq!(sent.await.unwrap(), 2, "the permit gave its sender back");
        assert_eq!(rx.recv().await, Some(1));
        drop(tx);
        assert_eq!(rx.recv().await, None, "the returned sender was dropped");
    });
}

#[test]
fn owned_permit_release_gives_the_slot_and_the_sender_back() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve_owned().unwrap();
    let tx = permit.release();
    assert_eq!(tx.capacity(), 1);
    assert_exact_capacity(&tx, &mut rx, 1);

    // Dropping an owned permit also gives the slot back.
    let permit = tx.clone().try_reserve_owned().unwrap();
    assert_eq!(tx.capacity(), 0);
    drop(permit);
    assert_exact_capacity(&tx, &mut rx, 1);
}

#[test]
fn try_reserve_and_try_reserve_owned_take_a_free_slot() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    let owned = tx.clone().try_reserve_owned().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    owned.send(1);
    permit.send(2);
    assert_eq!(drain(&mut rx), [1, 2]);
    assert_exact_capacity(&tx, &mut rx, 2);
}

// ----- closing from the receiver's side -----

#[test]
fn close_fails_later_sends_with_the_value_given_back() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        rx.close();
        assert!(tx.is_closed());
        assert!(rx.is_closed());
        assert_eq!(tx.send(1).await, Err(SendError(1)));
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        assert!(tx.reserve().await.is_err());
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
        assert!(tx.clone().reserve_owned().await.is_err());
        assert!(matches!(
            tx.clone().try_reserve_owned(),
            Err(TrySendError::Closed(_))
        ));
        assert_eq!(rx.recv().await, None, "closed and empty, senders or not");

        let (tx, mut rx) = mpsc::unbounded_channel();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(SendError(1)));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn close_keeps_queued_messages_receivable() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        rx.close();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        drop(tx);

        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        rx.close();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn close_lets_outstanding_permits_still_send() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(4);
        let permit = tx.reserve().await.unwrap();
        let owned = tx.clone().reserve_owned().await.unwrap();
        rx.close();
        assert!(rx.try_recv().is_err());
        permit.send(1);
        let _tx = owned.send(2);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None, "no permit left: finished");
    });
}

#[test]
fn recv_after_close_waits_for_an_outstanding_permit() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let waker = TestWaker::new();
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "a permit may still send"
    );
    {
        let mut recv = Box::pin(rx.recv());
        assert!(waker.poll(recv.as_mut()).is_pending());
        permit.send(1);
        assert!(waker.woken());
        assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(Some(1)));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_permit_dropped_after_close_wakes_the_waiting_receiver() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let waker = TestWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(waker.poll(recv.as_mut()).is_pending());
    drop(permit);
    assert!(waker.woken(), "the last promised message will never come");
    assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(None));
}

#[test]
fn close_fails_queued_senders_with_their_values() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let waker = TestWaker::new();
    let mut send = Box::pin(tx.send(5));
    assert!(waker.poll(send.as_mut()).is_pending());
    rx.close();
    assert!(waker.woken(), "close wakes the queued sender");
    assert_eq!(waker.poll(send.as_mut()), Poll::Ready(Err(SendError(5))));
    drop(send);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_send_granted_before_close_still_delivers() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let waker = TestWaker::new();
    let mut send = Box::pin(tx.send(5));
    assert!(waker.poll(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to `send`
    rx.close();
    assert_eq!(waker.poll(send.as_mut()), Poll::Ready(Ok(())));
    drop(send);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_granted_send_dropped_after_close_wakes_the_waiting_receiver() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let mut send = Box::pin(tx.send(5));
    assert!(TestWaker::new().poll(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to `send`
    rx.close();
    let waker = TestWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(
        waker.poll(recv.as_mut()).is_pending(),
        "the granted send may still deliver"
    );
    drop(send);
    assert!(
        waker.woken(),
        "the promised message will never come: the receiver must be woken"
    );
    assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(None));
}

#[test]
fn a_granted_reserve_dropped_after_close_wakes_the_waiting_receiver() {
    let (tx, mut rx) = mpsc::channel::<usize>(1);
    fill(&tx);
    let mut reserve = Box::pin(tx.reserve());
    assert!(TestWaker::new().poll(reserve.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to `reserve`
    rx.close();
    let waker = TestWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(waker.poll(recv.as_mut()).is_pending());
    drop(reserve);
    assert!(
        waker.woken(),
        "the receiver must learn the channel is finished"
    );
    assert_eq!(waker.poll(recv.as_mut()), Poll::Ready(None));
}

#[test]
fn close_completes_the_senders_closed_futures() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
        let waiter = corium::spawn(async move {
            tx.closed().await;
            utx.closed().await;
            (tx.is_closed(), utx.is_closed())
        });
        yield_now().await;
        rx.close();
        urx.close();
        assert_eq!(waiter.await.unwrap(), (true, true));
    });
}

// ----- dropping the receiver -----

#[test]
fn dropping_the_receiver_fails_sends_with_the_value() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = mpsc::channel(4);
        drop(rx);
        assert!(tx.is_closed());
        let err = tx.send(String::from("lost")).await.unwrap_err();
        assert_eq!(err.0, "lost", "the value comes back in the error");
        assert!(matches!(tx.try_send(2.to_string()), Err(TrySendError::Closed(v)) if v == "2"));
        assert!(tx.reserve().await.is_err());
        assert!(tx.try_reserve().is_err());

        let (tx, rx) = mpsc::unbounded_channel();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(String::from("lost")).unwrap_err().0, "lost");
    });
}

#[test]
fn dropping_the_receiver_completes_closed_on_every_sender() {
    on_every_flavor(LIMIT, || async {
        let (tx, rx) = mpsc::channel::<u8>(1);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let tx = tx.clone();
                corium::spawn(async move { tx.closed().await })
            })
            .collect();
        yield_now().await;
        // Dropped on another thread, while the runtime may be parked.
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(rx);
        });
        tx.closed().await;
        for waiter in waiters {
            waiter.await.unwrap();
        }
        dropper.join().unwrap();

        let (utx, urx) = mpsc::unbounded_channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(urx);
        });
        utx.closed().await;
        assert!(utx.is_closed());
        dropper.join().unwrap();
    });
}

#[test]
fn closed_completes_at_once_when_already_closed() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    drop(rx);
    assert_eq!(
        TestWaker::new().poll(Box::pin(tx.closed()).as_mut()),
        Poll::Ready(())
    );
}

#[test]
fn a_dropped_closed_future_does_not_stop_others_from_being_woken() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let (first, second) = (TestWaker::new(), TestWaker::new());
    let mut a = Box::pin(tx.closed());
    let mut b = Box::pin(tx.closed());
    assert!(first.poll(a.as_mut()).is_pending());
    assert!(second.poll(b.as_mut()).is_pending());
    drop(a);
    drop(rx);
    assert!(second.woken());
    assert_eq!(second.poll(b.as_mut()), Poll::Ready(()));
}

#[test]
fn dropping_the_receiver_drops_queued_messages_at_once() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::channel(4);
    for _ in 0..3 {
        tx.try_send(drops.probe()).unwrap();
    }
    drop(rx);
    assert_eq!(
        drops.count(),
        3,
        "the senders are alive, the messages are not"
    );
    assert!(tx.try_send(drops.probe()).is_err());
    assert_eq!(
        drops.count(),
        4,
        "the refused value was dropped with the error"
    );

    let drops = DropCounter::new();
    let (tx, rx) = mpsc::unbounded_channel();
    for _ in 0..3 {
        tx.send(drops.probe()).unwrap();
    }
    drop(rx);
    assert_eq!(drops.count(), 3);
    drop(tx);
    assert_eq!(drops.count(), 3, "dropped once, not again with the channel");
}

#[test]
fn received_messages_are_not_dropped_by_the_channel() {
    let drops = DropCounter::new();
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(drops.probe()).unwrap();
    let received = rx.try_recv().unwrap();
    drop((tx, rx));
    assert_eq!(
        drops.count(),
        0,
        "the message belongs to the receiver's caller"
    );
    drop(received);
    assert_eq!(drops.count(), 1);
}

#[test]
fn dropping_the_receiver_fails_queued_senders_with_their_values() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(drops.probe()).unwrap();
    let waker = TestWaker::new();
    let mut send = Box::pin(tx.send(drops.probe()));
    assert!(waker.poll(send.as_mut()).is_pending());
    drop(rx);
    assert_eq!(drops.count(), 1, "the queued message");
    assert!(waker.woken());
    let Poll::Ready(Err(SendError(value))) = waker.poll(send.as_mut()) else {
        panic!("the queued send must fail");
    };
    assert_eq!(drops.count(), 1, "the value came back, alive");
    drop(value);
    drop(send);
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_permit_used_after_the_receiver_is_gone_drops_its_message() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    let owned = tx.clone().try_reserve_owned().unwrap();
    drop(rx);
    permit.send(drops.probe());
    assert_eq!(drops.count(), 1);
    let _tx = owned.send(drops.probe());
    assert_eq!(drops.count(), 2);
}

// ----- weak senders -----

#[test]
fn weak_sender_upgrades_while_a_strong_sender_lives() {
    let (tx, mut rx) = mpsc::channel(2);
    let weak = tx.downgrade();
    assert_eq!(tx.strong_count(), 1, "a weak sender is not counted");
    let upgraded = weak.upgrade().expect("the strong sender is alive");
    assert!(upgraded.same_channel(&tx));
    assert_eq!(rx.sender_strong_count(), 2);
    upgraded.try_send(1).unwrap();
    drop(tx);
    assert!(weak.upgrade().is_some(), "the upgraded sender is strong");
    assert_eq!(rx.try_recv(), Ok(1));

    let (utx, _urx) = mpsc::unbounded_channel::<u8>();
    let weak = utx.downgrade();
    let upgraded = weak.clone().upgrade().unwrap();
    assert!(upgraded.same_channel(&utx));
    assert_eq!(utx.strong_count(), 2);
}

#[test]
fn weak_sender_does_not_keep_the_channel_open() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(2);
        let weak = tx.downgrade();
        tx.send(1).await.unwrap();
        let receiver = corium::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second, rx.sender_strong_count())
        });
        yield_now().await;
        drop(tx);
        assert_eq!(receiver.await.unwrap(), (Some(1), None, 0));
        assert!(weak.upgrade().is_none(), "every strong sender is gone");

        let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
        let weak = utx.downgrade();
        drop(utx);
        assert_eq!(urx.recv().await, None);
        assert!(weak.upgrade().is_none());
    });
}

#[test]
fn weak_sender_upgrade_races_the_last_strong_drop_safely() {
    bounded(LIMIT, || {
        for _ in 0..2_000 {
            let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
            let weak = tx.downgrade();
            let dropper = thread::spawn(move || drop(tx));
            let upgraded = weak.upgrade();
            dropper.join().unwrap();
            if let Some(tx) = upgraded {
                tx.send(1).unwrap();
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                drop(tx);
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            assert!(weak.upgrade().is_none());
        }
    });
}

// ----- capacity -----

#[test]
fn capacity_counts_free_slots_and_max_capacity_the_bound() {
    let (tx, mut rx) = mpsc::channel(4);
    assert_eq!((tx.capacity(), tx.max_capacity()), (4, 4));
    tx.try_send(1).unwrap();
    assert_eq!(tx.capacity(), 3);
    let permit = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 2, "a permit holds a slot");
    assert_eq!(rx.capacity(), 2, "both halves see the same count");
    assert_eq!(rx.max_capacity(), 4);
    rx.try_recv().unwrap();
    assert_eq!(tx.capacity(), 3);
    drop(permit);
    assert_eq!((tx.capacity(), tx.max_capacity()), (4, 4));
}

#[test]
fn channel_of_capacity_zero_panics_with_a_clear_message() {
    let message = expect_panic(|| mpsc::channel::<u8>(0));
    assert!(message.contains("capacity"), "{message}");
}

// ----- blocking -----

#[test]
fn blocking_send_and_blocking_recv_work_between_threads() {
    bounded(LIMIT, || {
        let (tx, mut rx) = mpsc::channel(3);
        let producer = thread::spawn(move || {
            for i in 0..1_000 {
                tx.blocking_send(i).unwrap(); // parks whenever the channel is full
            }
        });
        for i in 0..1_000 {
            assert_eq!(rx.blocking_recv(), Some(i));
        }
        assert_eq!(rx.blocking_recv(), None);
        producer.join().unwrap();

        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = thread::spawn(move || {
            for i in 0..1_000 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..1_000 {
            assert_eq!(rx.blocking_recv(), Some(i));
        }
        assert_eq!(rx.blocking_recv(), None);
        producer.join().unwrap();
    });
}

#[test]
fn blocking_send_fails_with_the_value_when_the_receiver_drops() {
    bounded(LIMIT, || {
        let (tx, rx) = mpsc::channel(1);
        tx.blocking_send(1).unwrap();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(rx);
        });
        assert_eq!(tx.blocking_send(2), Err(SendError(2)), "woken by the drop");
        dropper.join().unwrap();
    });
}

// ----- Debug and Display -----

/// A message type without `Debug`: the channel's types must not need it.
struct Opaque;

#[test]
fn every_public_type_has_debug_output() {
    let (tx, mut rx) = mpsc::channel::<Opaque>(2);
    assert!(format!("{tx:?}").contains("Sender"));
    assert!(format!("{rx:?}").contains("Receiver"));
    assert!(format!("{:?}", tx.downgrade()).contains("WeakSender"));
    let permit = tx.try_reserve().unwrap();
    assert!(format!("{permit:?}").contains("Permit"));
    drop(permit);
    let owned = tx.clone().try_reserve_owned().unwrap();
    assert!(format!("{owned:?}").contains("OwnedPermit"));
    drop(owned);
    rx.close();

    let (utx, urx) = mpsc::unbounded_channel::<Opaque>();
    assert!(format!("{utx:?}").contains("UnboundedSender"));
    assert!(format!("{urx:?}").contains("UnboundedReceiver"));
    assert!(format!("{:?}", utx.downgrade()).contains("WeakUnboundedSender"));

    assert!(format!("{:?}", SendError(Opaque)).contains("SendError"));
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "Full(..)");
    assert_eq!(format!("{:?}", TrySendError::Closed(Opaque)), "Closed(..)");
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
}

#[test]
fn errors_say_what_happened() {
    let send = SendError(1).to_string();
    assert!(
        send.contains("closed") && send.contains("receiver"),
        "{send}"
    );
    let full = TrySendError::Full(1).to_string();
    assert!(full.contains("full"), "{full}");
    let closed = TrySendError::Closed(1).to_string();
    assert!(closed.contains("closed"), "{closed}");
    let empty = TryRecvError::Empty.to_string();
    assert!(empty.contains("empty"), "{empty}");
    let gone = TryRecvError::Disconnected.to_string();
    assert!(gone.contains("sender"), "{gone}");
    assert_ne!(empty, gone);

    // The values come back out of the errors.
    assert_eq!(TrySendError::Full(5).into_inner(), 5);
    assert_eq!(TrySendError::Closed(6).into_inner(), 6);
    assert_eq!(TrySendError::from(SendError(7)), TrySendError::Closed(7));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(SendError(String::new()));
    assert_eq!(boxed.to_string(), send);
}

// ----- cancellation at every await point -----

#[test]
fn a_send_dropped_while_queued_gives_back_its_place_and_loses_no_capacity() {
    let (tx, mut rx) = mpsc::channel(3);
    fill(&tx);
    let (first, second) = (TestWaker::new(), TestWaker::new());
    let mut a = Box::pin(tx.send(10));
    let mut b = Box::pin(tx.send(11));
    assert!(first.poll(a.as_mut()).is_pending());
    assert!(second.poll(b.as_mut()).is_pending());
    drop(a);
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(second.woken(), "the second sender moved up to first place");
    assert_eq!(second.poll(b.as_mut()), Poll::Ready(Ok(())));
    drop(b);
    assert_eq!(
        drain(&mut rx),
        [1, 2, 11],
        "the dropped send's value never arrives"
    );
    assert_exact_capacity(&tx, &mut rx, 3);
}

#[test]
fn a_send_dropped_while_queued_on_every_flavor() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(2);
        for i in 0..2 {
            tx.send(i).await.unwrap();
        }
        let mut a = Box::pin(tx.send(10));
        let mut b = Box::pin(tx.send(11));
        assert!(poll_once(a.as_mut()).await.is_pending());
        assert!(poll_once(b.as_mut()).await.is_pending());
        drop(a);
        assert_eq!(rx.recv().await, Some(0));
        b.await.unwrap();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(11));
        assert_exact_capacity(&tx, &mut rx, 2);
    });
}

#[test]
fn a_granted_send_dropped_before_its_next_poll_passes_the_slot_to_the_next_sender() {
    let (tx, mut rx) = mpsc::channel(2);
    fill(&tx);
    let (first, second) = (TestWaker::new(), TestWaker::new());
    let mut a = Box::pin(tx.send(10));
    let mut b = Box::pin(tx.send(11));
    assert!(first.poll(a.as_mut()).is_pending());
    assert!(second.poll(b.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the freed slot to `a`
    assert!(first.woken());
    assert!(
        second.poll(b.as_mut()).is_pending(),
        "the slot is promised to `a`"
    );
    assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));
    drop(a); // never polled again
    assert!(second.woken(), "the granted slot passed on");
    assert_eq!(second.poll(b.as_mut()), Poll::Ready(Ok(())));
    drop(b);
    assert_eq!(drain(&mut rx), [1, 11]);
    assert_exact_capacity(&tx, &mut rx, 2);
}

#[test]
fn a_granted_send_dropped_with_nobody_waiting_gives_the_slot_back() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let mut send = Box::pin(tx.send(10));
    assert!(TestWaker::new().poll(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the freed slot to `send`
    assert_eq!(tx.capacity(), 0, "the slot is promised");
    drop(send);
    assert_eq!(tx.capacity(), 1);
    assert_exact_capacity(&tx, &mut rx, 1);
}

#[test]
fn a_granted_send_dropped_on_every_flavor() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let mut a = Box::pin(tx.send(10));
        let mut b = Box::pin(tx.send(11));
        assert!(poll_once(a.as_mut()).await.is_pending());
        assert!(poll_once(b.as_mut()).await.is_pending());
        assert_eq!(rx.recv().await, Some(0));
        drop(a);
        b.await.unwrap();
        assert_eq!(rx.recv().await, Some(11));
        assert_exact_capacity(&tx, &mut rx, 1);
    });
}

#[test]
fn a_dropped_recv_loses_no_message() {
    // Dropped while waiting, before any message.
    let (tx, mut rx) = mpsc::channel(2);
    assert!(TestWaker::new()
        .poll(Box::pin(rx.recv()).as_mut())
        .is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));

    // Woken by a message, then dropped before it was polled again.
    let waker = TestWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(waker.poll(recv.as_mut()).is_pending());
    tx.try_send(2).unwrap();
    assert!(waker.woken());
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(2), "the message waited in the queue");

    // The same for recv_many and for the unbounded flavour.
    let mut buffer = Vec::new();
    assert!(TestWaker::new()
        .poll(Box::pin(rx.recv_many(&mut buffer, 4)).as_mut())
        .is_pending());
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));

    let (utx, mut urx) = mpsc::unbounded_channel();
    assert!(TestWaker::new()
        .poll(Box::pin(urx.recv()).as_mut())
        .is_pending());
    utx.send(4).unwrap();
    assert_eq!(drain_unbounded(&mut urx), [4]);
}

#[test]
fn a_recv_dropped_then_replaced_is_woken_on_every_flavor() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        {
            let mut recv = Box::pin(rx.recv());
            assert!(poll_once(recv.as_mut()).await.is_pending());
        }
        let sender = corium::spawn(async move {
            yield_now().await;
            tx.send(1).await.unwrap();
        });
        // A new recv registers its own waker: the old one must not steal
        // the wakeup.
        assert_eq!(rx.recv().await, Some(1));
        sender.await.unwrap();
    });
}

#[test]
fn a_reserve_dropped_while_queued_or_after_its_grant_loses_no_capacity() {
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let wakers: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut queued = Box::pin(tx.reserve());
    let mut granted = Box::pin(tx.reserve());
    let mut last = Box::pin(tx.send(7));
    assert!(wakers[0].poll(queued.as_mut()).is_pending());
    assert!(wakers[1].poll(granted.as_mut()).is_pending());
    assert!(wakers[2].poll(last.as_mut()).is_pending());

    drop(queued); // while queued: nothing was promised to it
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(
        wakers[1].woken(),
        "the slot goes to the next reserve in line"
    );
    assert!(wakers[2].poll(last.as_mut()).is_pending());
    drop(granted); // after its grant, before it was polled again
    assert!(wakers[2].woken(), "the slot passed on");
    assert_eq!(wakers[2].poll(last.as_mut()), Poll::Ready(Ok(())));
    drop(last);
    assert_eq!(drain(&mut rx), [7]);
    assert_exact_capacity(&tx, &mut rx, 1);

    // reserve_owned, granted then dropped: the slot comes back.
    let (tx, mut rx) = mpsc::channel(1);
    fill(&tx);
    let mut owned = Box::pin(tx.clone().reserve_owned());
    assert!(TestWaker::new().poll(owned.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.capacity(), 0);
    drop(owned);
    assert_eq!(
        tx.strong_count(),
        1,
        "the dropped future dropped its sender"
    );
    assert_exact_capacity(&tx, &mut rx, 1);
}

#[test]
fn a_dropped_send_drops_its_value() {
    let drops = DropCounter::new();
    let (tx, mut rx) = mpsc::channel::<OnDrop>(1);
    tx.try_send(drops.probe()).unwrap();
    let mut send = Box::pin(tx.send(drops.probe()));
    assert!(TestWaker::new().poll(send.as_mut()).is_pending());
    drop(send);
    assert_eq!(drops.count(), 1, "the unsent value went with the future");
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.count(), 2);
}

/// Producers that give up on a waiting send now and then (before or after
/// it was granted a slot) and try again: under load, every message still
/// arrives once and in order, and the channel ends with its whole capacity.
#[test]
fn cancelled_sends_under_load_lose_no_message_and_no_capacity() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 2_000;
    const BOUND: usize = 4;
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(BOUND);
        let cancelled = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let (tx, cancelled) = (tx.clone(), cancelled.clone());
                corium::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        let mut attempt = 0;
                        loop {
                            attempt += 1;
                            let mut send = Box::pin(tx.send((producer, i)));
                            if poll_once(send.as_mut()).await.is_ready() {
                                break;
                            }
                            // Let the consumer run: it may grant us a slot.
                            yield_now().await;
                            if (i + attempt + producer) % 3 == 0 {
                                cancelled.fetch_add(1, SeqCst);
                                drop(send);
                                continue;
                            }
                            send.await.unwrap();
                            break;
                        }
                    }
                })
            })
            .collect();
        let consumer = corium::spawn(async move {
            let mut received = Vec::with_capacity(PRODUCERS * PER_PRODUCER);
            while received.len() < PRODUCERS * PER_PRODUCER {
                received.push(rx.recv().await.unwrap());
                if received.len() % 5 == 0 {
                    yield_now().await;
                }
            }
            (received, rx)
        });
        for producer in producers {
            producer.await.unwrap();
        }
        let (received, mut rx) = consumer.await.unwrap();
        assert_each_producer_in_order(received, PRODUCERS, PER_PRODUCER);
        assert!(cancelled.load(SeqCst) > 0, "the test cancelled no send");
        assert_eq!(tx.capacity(), BOUND, "capacity lost to cancelled sends");
        drop(tx);
        assert_eq!(rx.recv().await, None);
    });
}

// ----- stress -----

const STRESS_PRODUCERS: usize = 4;
const STRESS_TOTAL: usize = 100_000;
const STRESS_PER_PRODUCER: usize = STRESS_TOTAL / STRESS_PRODUCERS;

/// The stress test on threads: `STRESS_PRODUCERS` threads each `send`
/// their `(producer, i)` messages on a clone of `tx` (dropped here), while
/// this thread takes every message with `recv` and checks them.
fn stress_threads<S: Clone + Send + 'static>(
    tx: S,
    send: fn(&S, (usize, usize)),
    recv: impl FnMut() -> Option<(usize, usize)>,
) {
    let producers: Vec<_> = (0..STRESS_PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..STRESS_PER_PRODUCER {
                    send(&tx, (producer, i));
                }
            })
        })
        .collect();
    drop(tx);
    let received = std::iter::from_fn(recv).collect::<Vec<_>>();
    assert_each_producer_in_order(received, STRESS_PRODUCERS, STRESS_PER_PRODUCER);
    for producer in producers {
        producer.join().unwrap();
    }
}

#[test]
fn stress_bounded_threads_with_blocking_send() {
    bounded(LIMIT, || {
        let (tx, mut rx) = mpsc::channel(1024);
        stress_threads(
            tx,
            |tx, message| tx.blocking_send(message).unwrap(),
            || rx.blocking_recv(),
        );
    });
}

#[test]
fn stress_unbounded_threads() {
    bounded(LIMIT, || {
        let (tx, mut rx) = mpsc::unbounded_channel();
        stress_threads(
            tx,
            |tx, message| tx.send(message).unwrap(),
            || rx.blocking_recv(),
        );
    });
}

/// Spawns `STRESS_PRODUCERS` tasks that each send their `(producer, i)`
/// messages in order on a clone of `tx` (dropped here).
fn spawn_stress_producers(tx: Sender<(usize, usize)>) {
    for producer in 0..STRESS_PRODUCERS {
        let tx = tx.clone();
        corium::spawn(async move {
            for i in 0..STRESS_PER_PRODUCER {
                tx.send((producer, i)).await.unwrap();
            }
        });
    }
}

#[test]
fn stress_bounded_tasks() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1024);
        spawn_stress_producers(tx);
        let consumer = corium::spawn(async move {
            let mut received = Vec::with_capacity(STRESS_TOTAL);
            while let Some(message) = rx.recv().await {
                received.push(message);
            }
            received
        });
        let received = consumer.await.unwrap();
        assert_each_producer_in_order(received, STRESS_PRODUCERS, STRESS_PER_PRODUCER);
    });
}

#[test]
fn stress_bounded_tasks_with_recv_many() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1024);
        spawn_stress_producers(tx);
        let mut received = Vec::with_capacity(STRESS_TOTAL);
        while rx.recv_many(&mut received, 100).await > 0 {}
        assert_each_producer_in_order(received, STRESS_PRODUCERS, STRESS_PER_PRODUCER);
    });
}

#[test]
fn stress_unbounded_tasks() {
    on_every_flavor(LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for producer in 0..STRESS_PRODUCERS {
            let tx = tx.clone();
            corium::spawn(async move {
                for i in 0..STRESS_PER_PRODUCER {
                    tx.send((producer, i)).unwrap();
                    if i % 64 == 0 {
                        yield_now().await; // interleave the producers
                    }
                }
            });
        }
        drop(tx);
        let consumer = corium::spawn(async move {
            let mut received = Vec::with_capacity(STRESS_TOTAL);
            while let Some(message) = rx.recv().await {
                received.push(message);
            }
            received
        });
        let received = consumer.await.unwrap();
        assert_each_producer_in_order(received, STRESS_PRODUCERS, STRESS_PER_PRODUCER);
    });
}

/// Every message is dropped exactly once, however the receiver's drop
/// races the senders: the refused ones with their errors, the queued ones
/// with the receiver, the received ones by the test.
#[test]
fn stress_receiver_drop_racing_senders_drops_every_message_once() {
    bounded(LIMIT, || {
        for round in 0..200 {
            let drops = DropCounter::new();
            let (tx, mut rx) = mpsc::channel(8);
            let producers: Vec<_> = (0..2)
                .map(|_| {
                    let (tx, drops) = (tx.clone(), drops.clone());
                    thread::spawn(move || {
                        let mut made = 0;
                        for _ in 0..50 {
                            made += 1;
                            if tx.blocking_send(drops.probe()).is_err() {
                                break;
                            }
                        }
                        made
                    })
                })
                .collect();
            drop(tx);
            for _ in 0..round % 20 {
                if rx.blocking_recv().is_none() {
                    break;
                }
            }
            drop(rx);
            let made: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
            assert_eq!(
                drops.count(),
                made,
                "round {round}: leaked or dropped twice"
            );
        }
    });
}
