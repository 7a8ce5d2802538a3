//! `sync::watch`: receivers read the latest value and track which version
//! they have seen; `changed` wakes on a send, coalesces sends, errs once
//! the senders are gone and is cancel safe; `send_if_modified` notifies
//! only on a change; `wait_for`; and receiver threads watching 100,000
//! sends see the value only rise, and see the last one.

mod util;

use std::pin::pin;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corium::sync::watch::{self, error::SendError, Receiver};
use corium::task::yield_now;
use util::{bounded, TestWaker};

/// How long a test may take before it counts as hung (a lost wakeup).
const LIMIT: Duration = Duration::from_secs(10);

/// The same for the cross-thread stress tests.
const STRESS_LIMIT: Duration = Duration::from_secs(60);

/// Sends made from the sender thread of the stress test.
const STRESS_SENDS: u64 = 100_000;

#[test]
fn borrow_has_changed_and_borrow_and_update_track_the_version_seen() {
    let (tx, mut rx) = watch::channel(1);
    assert_eq!(*rx.borrow(), 1);
    assert!(
        !rx.borrow().has_changed(),
        "the initial value counts as seen"
    );
    assert_eq!(rx.has_changed(), Ok(false));

    tx.send(2).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    let borrowed = rx.borrow();
    assert_eq!((*borrowed, borrowed.has_changed()), (2, true));
    drop(borrowed);
    assert_eq!(rx.has_changed(), Ok(true), "borrow does not mark it seen");

    let updated = rx.borrow_and_update();
    assert_eq!((*updated, updated.has_changed()), (2, true));
    drop(updated);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow_and_update().has_changed());

    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(*tx.borrow(), 2);
}

#[test]
fn a_clone_or_subscriber_starts_from_what_it_was_made_from() {
    let (tx, rx) = watch::channel("a");
    tx.send("b").unwrap();
    let clone = rx.clone();
    assert_eq!(
        clone.has_changed(),
        Ok(true),
        "the clone has not seen b either"
    );
    let subscriber = tx.subscribe();
    assert_eq!(
        subscriber.has_changed(),
        Ok(false),
        "a subscriber has seen b"
    );
    assert_eq!(tx.receiver_count(), 3);
    assert!(rx.same_channel(&subscriber));
    assert!(!rx.same_channel(&watch::channel("a").1));
}

#[test]
fn changed_wakes_a_waiting_receiver_when_a_value_is_sent() {
    bounded(LIMIT, || {
        let value = corium::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            let waiter = corium::spawn(async move {
                rx.changed().await.unwrap();
                let value = *rx.borrow_and_update();
                value
            });
            // Let the waiter run and park on `changed`.
            yield_now().await;
            assert!(!waiter.is_finished());
            tx.send(5).unwrap();
            waiter.await.unwrap()
        });
        assert_eq!(value, 5);
    });
}

#[test]
fn changed_waits_until_a_send_and_wakes_exactly_then() {
    let (tx, mut rx) = watch::channel(0);
    let waker = TestWaker::new();
    let mut changed = pin!(rx.changed());
    assert!(waker.poll(changed.as_mut()).is_pending());
    assert!(waker.poll(changed.as_mut()).is_pending());
    assert_eq!(waker.wakes(), 0);
    tx.send(1).unwrap();
    assert_eq!(waker.wakes(), 1);
    assert_eq!(waker.poll(changed.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn several_sends_before_a_look_coalesce_into_one_change() {
    bounded(LIMIT, || {
        let (tx, mut rx) = watch::channel(0);
        for value in 1..=3 {
            tx.send(value).unwrap();
        }
        assert_eq!(corium::block_on(rx.changed()), Ok(()));
        assert_eq!(*rx.borrow(), 3);
        let waker = TestWaker::new();
        let mut changed = pin!(rx.changed());
        assert!(
            waker.poll(changed.as_mut()).is_pending(),
            "the three sends were one change"
        );
    });
}

#[test]
fn changed_errs_once_every_sender_is_gone_but_the_last_value_stays_readable() {
    bounded(LIMIT, || {
        let (tx, mut rx) = watch::channel(0);
        let second = tx.clone();
        assert_eq!(tx.sender_count(), 2);
        drop(tx);
        assert_eq!(rx.has_changed(), Ok(false), "a sender remains");

        second.send(7).unwrap();
        let waker = TestWaker::new();
        assert_eq!(corium::block_on(rx.changed()), Ok(()));
        {
            let mut changed = pin!(rx.changed());
            assert!(waker.poll(changed.as_mut()).is_pending());
            drop(second);
            assert_eq!(waker.wakes(), 1, "the close woke the waiter");
            let closed = waker.poll(changed.as_mut());
            assert!(matches!(closed, Poll::Ready(Err(_))), "{closed:?}");
        }
        let err = rx.has_changed().unwrap_err();
        assert!(err.to_string().contains("closed"), "{err}");
        assert!(corium::block_on(rx.changed()).is_err());
        assert_eq!(*rx.borrow(), 7);
    });
}

#[test]
fn a_change_sent_just_before_the_close_is_still_reported() {
    bounded(LIMIT, || {
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        drop(tx);
        assert!(
            rx.has_changed().is_err(),
            "has_changed reports the close first"
        );
        assert_eq!(
            corium::block_on(rx.changed()),
            Ok(()),
            "changed reports the change"
        );
        assert!(corium::block_on(rx.changed()).is_err());
    });
}

#[test]
fn send_if_modified_notifies_only_when_it_reports_a_change() {
    let (tx, mut rx) = watch::channel(10);
    let waker = TestWaker::new();
    {
        let mut changed = pin!(rx.changed());
        assert!(waker.poll(changed.as_mut()).is_pending());

        assert!(!tx.send_if_modified(|value| *value == 0));
        assert_eq!(waker.wakes(), 0, "no change, no wake");
        assert!(waker.poll(changed.as_mut()).is_pending());

        assert!(tx.send_if_modified(|value| {
            *value += 1;
            true
        }));
        assert_eq!(waker.wakes(), 1);
        assert_eq!(waker.poll(changed.as_mut()), Poll::Ready(Ok(())));
    }
    assert_eq!(*tx.borrow(), 11);

    tx.send_modify(|value| *value *= 2);
    assert_eq!(*rx.borrow_and_update(), 22);
}

#[test]
fn send_without_receivers_fails_but_send_replace_stores() {
    let (tx, rx) = watch::channel(1);
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(2).unwrap_err();
    assert!(matches!(err, SendError(2)));
    assert!(err.to_string().contains("no receivers"), "{err}");
    assert_eq!(*tx.borrow(), 1, "a failed send stores nothing");

    assert_eq!(tx.send_replace(3), 1);
    let rx = tx.subscribe();
    assert_eq!((*rx.borrow(), rx.has_changed()), (3, Ok(false)));
    tx.send(4).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn wait_for_returns_the_first_value_that_satisfies_the_predicate() {
    bounded(LIMIT, || {
        corium::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            let sender = corium::spawn(async move {
                for value in 1..=10 {
                    tx.send(value).unwrap();
                    yield_now().await;
                }
            });
            let found = rx.wait_for(|value| *value >= 5).await.unwrap();
            assert!(*found >= 5, "got {}", *found);
            drop(found);
            sender.await.unwrap();
        });
    });
}

#[test]
fn wait_for_tries_the_current_value_first_and_errs_only_when_closed() {
    bounded(LIMIT, || {
        corium::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            tx.send(10).unwrap();
            let unseen = rx.wait_for(|value| *value == 10).await.unwrap();
            assert!(unseen.has_changed(), "10 was unseen when it matched");
            drop(unseen);
            assert_eq!(rx.has_changed(), Ok(false), "and is now marked seen");
            let seen = rx.wait_for(|value| *value == 10).await.unwrap();
            assert!(!seen.has_changed(), "a seen value is tried too");
            drop(seen);

            drop(tx);
            assert!(rx.wait_for(|value| *value == 10).await.is_ok());
            assert!(rx.wait_for(|value| *value == 11).await.is_err());
        });
    });
}

#[test]
fn dropping_a_pending_changed_loses_no_change() {
    bounded(LIMIT, || {
        let (tx, mut rx) = watch::channel(0);
        let waker = TestWaker::new();
        {
            let mut changed = pin!(rx.changed());
            assert!(waker.poll(changed.as_mut()).is_pending());
        }
        tx.send(1).unwrap();
        assert_eq!(waker.wakes(), 0, "the dropped future left the queue");

        {
            let mut changed = pin!(rx.changed());
            assert_eq!(waker.poll(changed.as_mut()), Poll::Ready(Ok(())));
        }
        {
            let mut changed = pin!(rx.changed());
            assert!(waker.poll(changed.as_mut()).is_pending());
            tx.send(2).unwrap();
            assert_eq!(waker.wakes(), 1);
            // Woken, then dropped without being polled again.
        }
        assert_eq!(rx.has_changed(), Ok(true));
        assert_eq!(corium::block_on(rx.changed()), Ok(()));
        assert_eq!(*rx.borrow(), 2);
    });
}

#[test]
fn sender_closed_resolves_once_every_receiver_is_gone() {
    let (tx, rx) = watch::channel(());
    let clone = rx.clone();
    let waker = TestWaker::new();
    let mut closed = pin!(tx.closed());
    assert!(waker.poll(closed.as_mut()).is_pending());
    drop(rx);
    assert!(!tx.is_closed());
    assert!(waker.poll(closed.as_mut()).is_pending());
    drop(clone);
    assert_eq!(waker.wakes(), 1);
    assert!(tx.is_closed());
    assert_eq!(waker.poll(closed.as_mut()), Poll::Ready(()));
}

#[test]
fn handles_and_futures_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(0_u32);
    assert_send_sync(&tx);
    assert_send_sync(&rx);
    assert_send_sync(&tx.closed());
    assert_send_sync(&rx.changed());
    assert_send(&rx.wait_for(|_| true));
}

/// Watches until the channel closes; checks every value it sees is larger
/// than the last, and returns the last.
async fn watch_rising(mut rx: Receiver<u64>) -> u64 {
    let mut last = *rx.borrow_and_update();
    while rx.changed().await.is_ok() {
        let value = *rx.borrow_and_update();
        assert!(value > last, "saw {value} after {last}");
        last = value;
    }
    last
}

#[test]
fn receiver_threads_see_a_hundred_thousand_sends_rise_and_end_at_the_last() {
    bounded(STRESS_LIMIT, || {
        let (tx, rx) = watch::channel(0_u64);
        let mut threads: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || corium::block_on(watch_rising(rx)))
            })
            .collect();
        let mut waiting = rx.clone();
        threads.push(thread::spawn(move || {
            let last = corium::block_on(waiting.wait_for(|v| *v == STRESS_SENDS)).map(|v| *v);
            last.unwrap()
        }));
        drop(rx);
        let sender = thread::spawn(move || {
            for _ in 0..STRESS_SENDS {
                tx.send_modify(|value| *value += 1);
            }
        });
        sender.join().unwrap();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), STRESS_SENDS);
        }
    });
}
