#![cfg(loom)]
//! loom models of the oneshot channel (`oneshot.rs` rules 1-4).
//!
//! Every sent value is a [`Tracked`], which counts its drops: each model
//! ends by asserting that the value was dropped exactly once, wherever it
//! ended up (received, returned by a failed `send`, or dropped with the
//! channel). loom checks the value and waker slots (`UnsafeCell`s) for
//! unsynchronised access on every path.

mod loom_support;

use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;

use corium_sync::oneshot::{self, error::RecvError, error::TryRecvError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_support::{block_on, model_exhaustive, poll_once, poll_with, WakeFlag};

/// A value that counts its drops.
#[derive(Debug)]
struct Tracked {
    drops: Arc<AtomicUsize>,
    id: usize,
}

impl Tracked {
    fn new(drops: &Arc<AtomicUsize>, id: usize) -> Tracked {
        Tracked {
            drops: drops.clone(),
            id,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::AcqRel);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn assert_dropped_once(drops: &AtomicUsize) {
    assert_eq!(
        drops.load(Ordering::Acquire),
        1,
        "the value was not dropped exactly once"
    );
}

/// Rules 1, 3, 4: `send` racing with a receiver that parks between polls.
/// The receiver must be woken (else the model deadlocks) and must get the
/// value; the value moves across threads without a data race.
#[test]
fn send_vs_blocking_receiver() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, rx) = oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked::new(&drops, 7)).unwrap())
        };
        let value = block_on(rx).unwrap();
        assert_eq!(value.id, 7);
        drop(value);
        sender.join().unwrap();
        assert_dropped_once(&drops);
    });
}

/// `send` racing with one poll of the receiver with a recording waker:
/// if the poll was pending, `send` must have fired that waker by the time
/// it returns, and the next poll must be ready.
#[test]
fn send_wakes_pending_receiver() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, rx) = oneshot::channel();
        let mut rx = pin!(rx);
        let (flag, waker) = WakeFlag::new();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked::new(&drops, 1)).unwrap())
        };
        let first = poll_with(rx.as_mut(), &waker);
        sender.join().unwrap();
        let value = match first {
            Poll::Ready(value) => value,
            Poll::Pending => {
                assert!(flag.woken(), "lost wakeup: send did not wake the receiver");
                match poll_with(rx.as_mut(), &waker) {
                    Poll::Ready(value) => value,
                    Poll::Pending => panic!("woken but not ready"),
                }
            }
        };
        assert_eq!(value.unwrap().id, 1);
        assert_dropped_once(&drops);
    });
}

/// `send` racing with a receiver that is polled once and then dropped.
/// The value is received, or dropped with the channel, or handed back by
/// `send` (which fails only if the receiver was gone first): in every case
/// it is dropped exactly once, and no slot is touched concurrently.
#[test]
fn send_vs_receiver_poll_then_drop() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, rx) = oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked::new(&drops, 2)).is_ok())
        };
        let mut rx = rx;
        let received = matches!(poll_once(Pin::new(&mut rx)), Poll::Ready(Ok(_)));
        drop(rx);
        let sent = sender.join().unwrap();
        assert!(sent || !received, "received a value whose send failed");
        assert_dropped_once(&drops);
    });
}

/// Rule 1 with the sender dropped unsent: the parked receiver is woken and
/// ends with `RecvError`.
#[test]
fn sender_drop_vs_receiver_poll() {
    model_exhaustive(|| {
        let (tx, rx) = oneshot::channel::<Tracked>();
        let sender = thread::spawn(move || drop(tx));
        let _: RecvError = block_on(rx).unwrap_err();
        sender.join().unwrap();
    });
}

/// Rules 1, 2: `close` racing with `send`. `send` succeeds exactly when
/// COMPLETE won, and then the closed receiver still gets the value; the
/// receiver never waits after `close`.
#[test]
fn receiver_close_vs_send() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, mut rx) = oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked::new(&drops, 3)).is_ok())
        };
        rx.close();
        let received = match poll_once(pin!(&mut rx)) {
            Poll::Ready(Ok(value)) => {
                assert_eq!(value.id, 3);
                true
            }
            Poll::Ready(Err(_)) => false,
            Poll::Pending => panic!("a closed receiver must not wait"),
        };
        let sent = sender.join().unwrap();
        assert_eq!(sent, received, "send's result disagrees with what arrived");
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));
        assert_dropped_once(&drops);
    });
}

/// Rule 3, the waker swap: the receiver is polled once with one waker,
/// then parks with a different one (re-registration clears RX_WAKER,
/// writes the slot, sets it again) while `send` runs. The second waker
/// must be woken and the slot never read and written at once.
#[test]
fn receiver_waker_swap_vs_send() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, rx) = oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked::new(&drops, 4)).unwrap())
        };
        let mut rx = pin!(rx);
        let (_first, waker) = WakeFlag::new();
        let value = match poll_with(rx.as_mut(), &waker) {
            Poll::Ready(value) => value,
            // `block_on` polls with its own (different) waker.
            Poll::Pending => block_on(rx.as_mut()),
        };
        assert_eq!(value.unwrap().id, 4);
        sender.join().unwrap();
        assert_dropped_once(&drops);
    });
}

/// The waker swap racing with the sender being dropped unsent (which
/// reads the waker slot on the other path of rule 1).
#[test]
fn receiver_waker_swap_vs_sender_drop() {
    model_exhaustive(|| {
        let (tx, rx) = oneshot::channel::<Tracked>();
        let sender = thread::spawn(move || drop(tx));
        let mut rx = pin!(rx);
        let (_first, waker) = WakeFlag::new();
        let result = match poll_with(rx.as_mut(), &waker) {
            Poll::Ready(result) => result,
            Poll::Pending => block_on(rx.as_mut()),
        };
        assert!(result.is_err());
        sender.join().unwrap();
    });
}

/// Rule 3, mirror image: `Sender::closed` swaps its waker (one poll with
/// a recording waker, then parks with another) while the receiver is
/// dropped. The sender must be woken.
#[test]
fn sender_closed_waker_swap_vs_receiver_drop() {
    model_exhaustive(|| {
        let (mut tx, rx) = oneshot::channel::<Tracked>();
        let receiver = thread::spawn(move || drop(rx));
        let (_first, waker) = WakeFlag::new();
        {
            let mut closed = pin!(tx.closed());
            if poll_with(closed.as_mut(), &waker).is_pending() {
                block_on(closed);
            }
        }
        assert!(tx.is_closed());
        receiver.join().unwrap();
    });
}

/// The value is dropped exactly once when both ends go away without the
/// value being received: sent and left in the channel, with the receiver
/// dropped concurrently (the channel's last owner drops it).
#[test]
fn unreceived_value_dropped_once() {
    model_exhaustive(|| {
        let drops = counter();
        let (tx, rx) = oneshot::channel();
        let receiver = thread::spawn(move || drop(rx));
        let sent = tx.send(Tracked::new(&drops, 5));
        // A failed send returns the value: dropped here.
        drop(sent);
        receiver.join().unwrap();
        assert_dropped_once(&drops);
    });
}
