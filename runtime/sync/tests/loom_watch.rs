#![cfg(loom)]
//! loom models of the watch channel's wakeup protocol (`watch/mod.rs`
//! rules 3-6): a `changed` future racing a send or the close, cancel
//! safety, and `Sender::closed` racing the last receiver's drop.
//!
//! The value's lock is `parking_lot`'s, which loom cannot see, so no model
//! reads the value while another thread may send.
//!
//! Run with `runtime/sync/loom.sh`, or
//! `RUSTFLAGS="--cfg loom" cargo test -p corium-sync --release --test loom_watch`.

mod loom_support;

use std::pin::pin;

use corium_sync::watch;
use loom::thread;
use loom_support::{block_on, model, model_exhaustive, poll_with, WakeFlag};

/// Rules 3, 4: a send racing the first poll of `changed`. Either the poll
/// sees the new version, or it queues and the send wakes it.
#[test]
fn changed_vs_send() {
    model_exhaustive(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        let (flag, waker) = WakeFlag::new();
        let mut changed = pin!(rx.changed());
        let first = poll_with(changed.as_mut(), &waker);
        let tx = sender.join().unwrap();
        if first.is_pending() {
            assert!(flag.woken(), "lost wakeup: the send did not wake changed()");
            assert!(poll_with(changed.as_mut(), &waker).is_ready());
        }
        drop(tx);
    });
}

/// Rule 6: the last sender's drop racing `changed`: the future ends with
/// an error, woken if it had queued.
#[test]
fn changed_vs_last_sender_drop() {
    model_exhaustive(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || drop(tx));
        let (flag, waker) = WakeFlag::new();
        let mut changed = pin!(rx.changed());
        let first = poll_with(changed.as_mut(), &waker);
        sender.join().unwrap();
        let outcome = match first {
            std::task::Poll::Ready(outcome) => outcome,
            std::task::Poll::Pending => {
                assert!(
                    flag.woken(),
                    "lost wakeup: the close did not wake changed()"
                );
                match poll_with(changed.as_mut(), &waker) {
                    std::task::Poll::Ready(outcome) => outcome,
                    std::task::Poll::Pending => panic!("woken but still pending"),
                }
            }
        };
        assert!(outcome.is_err());
    });
}

/// Rule 5: a queued `changed` dropped while a send runs loses nothing:
/// the next `changed` returns at once.
#[test]
fn dropped_changed_vs_send() {
    model_exhaustive(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        {
            let (_flag, waker) = WakeFlag::new();
            let mut changed = pin!(rx.changed());
            let _ = poll_with(changed.as_mut(), &waker);
        }
        let tx = sender.join().unwrap();
        // The first future may have seen the send (and marked it seen);
        // if it did not, the change must still be there.
        if rx.has_changed() == Ok(true) {
            assert_eq!(block_on(rx.changed()), Ok(()));
        }
        assert_eq!(*rx.borrow(), 1);
        drop(tx);
    });
}

/// Two receivers on their own threads, each waiting for one send: a lost
/// wakeup leaves a thread parked, which loom reports as a deadlock.
#[test]
fn two_waiting_receivers_vs_send() {
    model(|| {
        let (tx, rx) = watch::channel(0);
        let waiters: Vec<_> = [rx.clone(), rx]
            .into_iter()
            .map(|mut rx| thread::spawn(move || block_on(rx.changed()).unwrap()))
            .collect();
        tx.send(1).unwrap();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// Rule 6: `Sender::closed` racing the last receiver's drop.
#[test]
fn sender_closed_vs_last_receiver_drop() {
    model_exhaustive(|| {
        let (tx, rx) = watch::channel(0);
        let receiver = thread::spawn(move || drop(rx));
        let (flag, waker) = WakeFlag::new();
        let mut closed = pin!(tx.closed());
        let first = poll_with(closed.as_mut(), &waker);
        receiver.join().unwrap();
        if first.is_pending() {
            assert!(flag.woken(), "lost wakeup: the drop did not wake closed()");
            assert!(poll_with(closed.as_mut(), &waker).is_ready());
        }
    });
}
