#![cfg(loom)]
//! loom models of `CancellationToken`'s wait: the lock-free poll of a
//! future already queued with the same waker (`poll_cancelled`'s fast
//! path) racing with a cancel.
//!
//! Run with `runtime/sync/loom.sh cancel`, or
//! `RUSTFLAGS="--cfg loom" cargo test -p corium-sync --release --test loom_cancellation`.

mod loom_support;

use std::pin::pin;

use corium_sync::CancellationToken;
use loom::thread;
use loom_support::{block_on, model_exhaustive, poll_with, WakeFlag};

/// A queued wait polled again with the same waker (no lock) while another
/// thread cancels: either that poll sees the cancel, or the cancel wakes
/// the waker it left queued. A lost wakeup fails the `woken` assertion.
#[test]
fn repoll_with_the_same_waker_vs_cancel() {
    model_exhaustive(|| {
        let token = CancellationToken::new();
        let mut cancelled = pin!(token.cancelled());
        let (flag, waker) = WakeFlag::new();
        assert!(poll_with(cancelled.as_mut(), &waker).is_pending());

        let canceller = {
            let token = token.clone();
            thread::spawn(move || token.cancel())
        };
        // A schedule point: without it loom runs this lock-free poll only
        // before the cancel (one interleaving; a probe showed it).
        thread::yield_now();
        let second = poll_with(cancelled.as_mut(), &waker);
        canceller.join().unwrap();
        if second.is_pending() {
            assert!(flag.woken(), "lost wakeup: the cancel missed the waiter");
        }
        assert!(poll_with(cancelled.as_mut(), &waker).is_ready());
    });
}

/// The same through a child token, cancelled by its parent (the node's flag
/// is set by the parent's cancel, under the child's lock), with a waiter
/// that parks and polls again on every wake, as a task does.
#[test]
fn blocked_waiter_on_a_child_wakes_when_the_parent_cancels() {
    model_exhaustive(|| {
        let parent = CancellationToken::new();
        let child = parent.child_token();
        let waiter = thread::spawn(move || block_on(child.cancelled_owned()));
        parent.cancel();
        waiter.join().unwrap();
    });
}

/// A queued wait polled with a different waker (the slow path: the waker
/// is replaced under the lock) while another thread cancels: the new
/// waker is the one woken.
#[test]
fn repoll_with_a_new_waker_vs_cancel() {
    model_exhaustive(|| {
        let token = CancellationToken::new();
        let mut cancelled = pin!(token.cancelled());
        let (_first, first_waker) = WakeFlag::new();
        assert!(poll_with(cancelled.as_mut(), &first_waker).is_pending());

        let (second, second_waker) = WakeFlag::new();
        let canceller = {
            let token = token.clone();
            thread::spawn(move || token.cancel())
        };
        thread::yield_now(); // as above
        let polled = poll_with(cancelled.as_mut(), &second_waker);
        canceller.join().unwrap();
        if polled.is_pending() {
            assert!(second.woken(), "lost wakeup: the cancel woke the old waker");
        }
    });
}
