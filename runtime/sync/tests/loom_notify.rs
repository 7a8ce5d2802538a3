#![cfg(loom)]
//! loom models of `Notify` and the waiter list under it (`waiters.rs`,
//! `notify.rs` rules 1-4).
//!
//! Run with `runtime/sync/loom.sh`, or
//! `RUSTFLAGS="--cfg loom" cargo test -p corium-sync --release --test loom_notify`.

mod loom_support;

use std::pin::pin;
use std::sync::Arc;

use corium_sync::Notify;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use loom_support::{block_on, model, model_exhaustive, poll_once, poll_with, WakeFlag};

/// True if `notify` holds a stored permit: a fresh `notified()` is ready at
/// once. (The probe is dropped right after, leaving the queue as it was,
/// but it consumes the permit if there was one.)
fn take_stored_permit(notify: &Notify) -> bool {
    let probe = pin!(notify.notified());
    let (_flag, waker) = WakeFlag::new();
    poll_with(probe, &waker).is_ready()
}

/// Rules 1, 2: `notify_one` racing with the first poll of a `Notified`.
/// Either the poll finds the permit, or it queues and `notify_one` hands
/// the notification to it and wakes its waker. Exactly one notification
/// is consumed: no permit is left behind.
#[test]
fn notify_one_vs_first_poll() {
    model_exhaustive(|| {
        let notify = Arc::new(Notify::new());
        let mut notified = pin!(notify.notified());
        let (flag, waker) = WakeFlag::new();

        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };

        let first = poll_with(notified.as_mut(), &waker);
        notifier.join().unwrap();
        if first.is_pending() {
            assert!(
                flag.woken(),
                "lost wakeup: notify_one did not wake the queued waiter"
            );
            assert!(poll_with(notified.as_mut(), &waker).is_ready());
        }
        assert!(!take_stored_permit(&notify), "notify_one counted twice");
    });
}

/// As above with a waiter that parks (`block_on`) and polls again on
/// every wake, re-registering its waker.
#[test]
fn notify_one_wakes_blocked_waiter() {
    model_exhaustive(|| {
        let notify = Arc::new(Notify::new());
        let waiter = {
            let notify = notify.clone();
            thread::spawn(move || block_on(notify.notified()))
        };
        notify.notify_one();
        waiter.join().unwrap();
        assert!(!take_stored_permit(&notify));
    });
}

/// Rule 4: a `Notified` that joined the queue (`enable`) and is dropped
/// without seeing its outcome. If `notify_one` chose it, the drop must
/// store the notification as the permit; if it never joined, the permit
/// is stored directly. Either way one permit is left at the end.
#[test]
fn notification_given_to_dropped_waiter_is_stored() {
    model_exhaustive(|| {
        let notify = Arc::new(Notify::new());
        let canceller = {
            let notify = notify.clone();
            thread::spawn(move || {
                let mut notified = pin!(notify.notified());
                if notified.as_mut().enable() {
                    // It took the permit itself: give it back.
                    notify.notify_one();
                }
                // Dropped here, possibly after notify_one picked it.
            })
        };
        notify.notify_one();
        canceller.join().unwrap();
        assert!(
            take_stored_permit(&notify),
            "a cancelled waiter swallowed the notification"
        );
    });
}

/// Rule 4 with a second waiter: the dropped waiter passes the
/// notification on to the parked one, which must wake. Nothing is left
/// stored afterwards (the notification is not duplicated).
#[test]
fn notification_given_to_dropped_waiter_passes_to_next() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let canceller = {
            let notify = notify.clone();
            thread::spawn(move || {
                let mut notified = pin!(notify.notified());
                if notified.as_mut().enable() {
                    notify.notify_one();
                }
            })
        };
        let waiter = {
            let notify = notify.clone();
            thread::spawn(move || block_on(notify.notified()))
        };
        notify.notify_one();
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert!(
            !take_stored_permit(&notify),
            "the notification was duplicated"
        );
    });
}

/// Rule 3: futures created before `notify_waiters` complete, whether they
/// were queued when it ran (the first one, polled concurrently) or never
/// polled before it (the second one, first polled after the first
/// completed, must be ready at once). No permit is stored.
#[test]
fn notify_waiters_wakes_earlier_futures() {
    model_exhaustive(|| {
        let notify = Arc::new(Notify::new());
        let first = notify.notified();
        let mut second = pin!(notify.notified());

        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_waiters())
        };

        block_on(first);
        let (_flag, waker) = WakeFlag::new();
        assert!(
            poll_with(second.as_mut(), &waker).is_ready(),
            "a Notified created before notify_waiters missed it"
        );
        notifier.join().unwrap();
        assert!(
            !take_stored_permit(&notify),
            "notify_waiters stored a permit"
        );
    });
}

/// Rule 3 the other way: a `Notified` created after `notify_waiters`
/// returned is not released by it (and finds no permit).
#[test]
fn notify_waiters_does_not_release_later_futures() {
    model_exhaustive(|| {
        let notify = Arc::new(Notify::new());
        let done = Arc::new(AtomicBool::new(false));
        let earlier = notify.notified();

        let notifier = {
            let (notify, done) = (notify.clone(), done.clone());
            thread::spawn(move || {
                notify.notify_waiters();
                done.store(true, Ordering::Release);
            })
        };

        let after = done.load(Ordering::Acquire);
        let later = pin!(notify.notified());
        let ready = poll_once(later).is_ready();
        if after {
            assert!(!ready, "a Notified created after notify_waiters completed");
        }
        block_on(earlier);
        notifier.join().unwrap();
        assert!(!take_stored_permit(&notify));
    });
}

/// `notify_waiters` racing with a waiter that registers concurrently: it
/// is either released by `notify_waiters` or stays queued for the
/// `notify_one` that follows; it is never lost (a lost wakeup deadlocks
/// the model).
#[test]
fn notify_waiters_vs_new_waiter() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let earlier = notify.notified();

        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_waiters())
        };
        let newcomer = {
            let notify = notify.clone();
            thread::spawn(move || block_on(notify.notified()))
        };

        block_on(earlier);
        notifier.join().unwrap();
        notify.notify_one();
        newcomer.join().unwrap();
    });
}

/// Sanity check of the probe itself, so that the "no permit" assertions
/// above cannot pass vacuously.
#[test]
fn probe_sees_a_stored_permit() {
    model_exhaustive(|| {
        let notify = Notify::new();
        assert!(!take_stored_permit(&notify));
        notify.notify_one();
        assert!(take_stored_permit(&notify));
        assert!(!take_stored_permit(&notify));
    });
}
