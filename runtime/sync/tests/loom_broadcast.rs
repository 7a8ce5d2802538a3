#![cfg(loom)]
//! loom models of the broadcast channel (`broadcast/mod.rs` rules 2-6):
//! `recv` racing a send or the close, cancel safety, values dropped
//! exactly once, and `Sender::closed` racing the last receiver's drop.
//!
//! Run with `runtime/sync/loom.sh`, or
//! `RUSTFLAGS="--cfg loom" cargo test -p corium-sync --release --test loom_broadcast`.

mod loom_support;

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

use corium_sync::broadcast::{self, error::RecvError};
use loom::thread;
use loom_support::{block_on, model, model_exhaustive, poll_with, WakeFlag};

/// Rules 2, 3: a send racing the first poll of `recv`. Either the poll
/// finds the value, or it queues and the send wakes it.
#[test]
fn recv_vs_send() {
    model_exhaustive(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        let (flag, waker) = WakeFlag::new();
        let mut recv = pin!(rx.recv());
        let first = poll_with(recv.as_mut(), &waker);
        let tx = sender.join().unwrap();
        let value = match first {
            Poll::Ready(value) => value,
            Poll::Pending => {
                assert!(flag.woken(), "lost wakeup: the send did not wake recv()");
                match poll_with(recv.as_mut(), &waker) {
                    Poll::Ready(value) => value,
                    Poll::Pending => panic!("woken but still pending"),
                }
            }
        };
        assert_eq!(value, Ok(1));
        drop(tx);
    });
}

/// Rule 3: a send and the last sender's drop racing a waiting receiver:
/// it gets the value, then `Closed`.
#[test]
fn recv_vs_send_then_close() {
    model_exhaustive(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        sender.join().unwrap();
    });
}

/// Rule 3: a `recv` dropped while a send runs loses nothing.
#[test]
fn dropped_recv_vs_send() {
    model_exhaustive(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        {
            let (_flag, waker) = WakeFlag::new();
            let mut recv = pin!(rx.recv());
            if let Poll::Ready(value) = poll_with(recv.as_mut(), &waker) {
                assert_eq!(value, Ok(1));
                sender.join().unwrap();
                return;
            }
        }
        let tx = sender.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        drop(tx);
    });
}

/// Two receivers on their own threads, each waiting for one send: a lost
/// wakeup leaves a thread parked, which loom reports as a deadlock.
#[test]
fn two_waiting_receivers_vs_send() {
    model(|| {
        let (tx, rx) = broadcast::channel(2);
        let waiters: Vec<_> = [tx.subscribe(), rx]
            .into_iter()
            .map(|mut rx| thread::spawn(move || block_on(rx.recv())))
            .collect();
        tx.send(7).unwrap();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Ok(7));
        }
    });
}

/// Counts its drops.
#[derive(Debug)]
struct Probe(Arc<AtomicUsize>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Rule 5 and ring invariant 3: a receiver dropped while a value is sent
/// and read by another: the value is dropped exactly once, after both
/// receivers let go of it.
#[test]
fn receiver_drop_vs_send_drops_the_value_once() {
    model_exhaustive(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut kept) = broadcast::channel::<Arc<Probe>>(2);
        let dropped = tx.subscribe();
        let dropper = thread::spawn(move || drop(dropped));
        tx.send(Arc::new(Probe(drops.clone()))).unwrap();
        drop(kept.try_recv().unwrap());
        dropper.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        drop(tx);
    });
}

/// Rule 6: `Sender::closed` racing the last receiver's drop.
#[test]
fn sender_closed_vs_last_receiver_drop() {
    model_exhaustive(|| {
        let (tx, rx) = broadcast::channel::<u32>(2);
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
