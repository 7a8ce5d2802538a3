#![cfg(loom)]
//! loom models of the fair semaphore (`semaphore.rs` rules 1-4).
//!
//! Every model ends with all permits released and asserts that
//! `available_permits()` is back at the initial count: permits are never
//! lost or duplicated, whichever way the races went.

mod loom_support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use corium_sync::Semaphore;
use loom::cell::UnsafeCell;
use loom::thread;
use loom_support::{block_on, model, model_exhaustive, poll_once};

/// Data guarded by a one-permit semaphore. loom flags any two accesses not
/// ordered by happens-before, so this checks that handing a permit over
/// (fast path, or through the queue) synchronises the two holders.
struct Guarded {
    sem: Semaphore,
    count: UnsafeCell<usize>,
}

// SAFETY: `count` is only touched while holding the semaphore's single
// permit; loom checks exactly that claim.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn bump(&self) {
        // SAFETY: see `unsafe impl Sync`.
        self.count.with_mut(|count| unsafe { *count += 1 });
    }

    fn count(&self) -> usize {
        // SAFETY: see `unsafe impl Sync`.
        self.count.with(|count| unsafe { *count })
    }
}

/// Polls `fut` once (with a loom waker) and drops it: an acquire that is
/// cancelled after it may have been queued and partly served.
fn poll_once_then_cancel<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    poll_once(fut.as_mut())
}

/// Rules 1-3: two acquirers race for the one permit that a releaser gives
/// back. Both must get it in turn (a lost wakeup deadlocks the model), the
/// data it guards is handed over without a race, and the permit comes
/// back.
#[test]
fn two_acquirers_and_a_releaser() {
    model(|| {
        let guarded = Arc::new(Guarded {
            sem: Semaphore::new(1),
            count: UnsafeCell::new(0),
        });
        let held = guarded.sem.try_acquire().unwrap();

        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let guarded = guarded.clone();
                thread::spawn(move || {
                    let permit = block_on(guarded.sem.acquire()).unwrap();
                    guarded.bump();
                    drop(permit);
                })
            })
            .collect();

        drop(held);
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(guarded.count(), 2);
        assert_eq!(guarded.sem.available_permits(), 1);
    });
}

/// Rules 3, 4: a waiter for two permits takes the one that is free and
/// queues for the other (partial assignment), then is cancelled while a
/// release may be assigning to it. What it was assigned must pass on to
/// the waiter behind it, or back to the semaphore.
#[test]
fn acquire_many_partial_vs_cancel() {
    model(|| {
        let sem = Arc::new(Semaphore::new(3));
        let held = sem.try_acquire_many(2).unwrap();

        let canceller = {
            let sem = sem.clone();
            thread::spawn(move || {
                // Takes the free permit and queues for one more, unless the
                // release came first; it is dropped right after one poll.
                if let Poll::Ready(permit) = poll_once_then_cancel(sem.acquire_many(2)) {
                    drop(permit.unwrap());
                }
            })
        };
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire()).unwrap()))
        };

        drop(held);
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            3,
            "permits were lost or duplicated"
        );
    });
}

/// Rule 4 without a waiter behind: the cancelled partial waiter is the
/// last in the queue, so its permits must go back to the word, clearing
/// WAITING, while a release races with it.
#[test]
fn acquire_many_partial_cancel_returns_permits() {
    model_exhaustive(|| {
        let sem = Arc::new(Semaphore::new(2));
        let held = sem.try_acquire().unwrap();

        let canceller = {
            let sem = sem.clone();
            thread::spawn(move || {
                if let Poll::Ready(permit) = poll_once_then_cancel(sem.acquire_many(2)) {
                    drop(permit.unwrap());
                }
            })
        };

        drop(held);
        canceller.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            2,
            "permits were lost or duplicated"
        );
        // WAITING must be clear again: the fast path works.
        let all = sem.try_acquire_many(2).expect("the semaphore is idle");
        drop(all);
    });
}

/// `close` racing with a waiter that is partly served and can never be
/// fully served (it wants more than exist): the waiter is woken with an
/// error and returns what it had been assigned.
#[test]
fn close_vs_acquire() {
    model_exhaustive(|| {
        let sem = Arc::new(Semaphore::new(1));
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || assert!(block_on(sem.acquire_many(2)).is_err()))
        };
        sem.close();
        waiter.join().unwrap();
        assert!(sem.is_closed());
        assert_eq!(
            sem.available_permits(),
            1,
            "a closed waiter kept its partial permit"
        );
        assert!(sem.try_acquire().is_err());
    });
}

/// `close` racing with a release and a waiter that may complete before the
/// close or fail because of it; either way the permits all come back.
#[test]
fn close_vs_release_and_acquire() {
    model_exhaustive(|| {
        let sem = Arc::new(Semaphore::new(2));
        let held = sem.try_acquire().unwrap();

        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || {
                if let Ok(permit) = block_on(sem.acquire_many(2)) {
                    assert_eq!(permit.num_permits(), 2);
                }
            })
        };
        let closer = {
            let sem = sem.clone();
            thread::spawn(move || sem.close())
        };

        drop(held);
        waiter.join().unwrap();
        closer.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            2,
            "permits were lost or duplicated"
        );
    });
}

/// Rules 4, 5: a partly served waiter is dropped while `close` runs. The
/// close hands its assigned permit back (outcome SHUT) or the cancel does
/// (outcome still PENDING), never both and never neither.
#[test]
fn cancel_vs_close() {
    model_exhaustive(|| {
        let sem = Arc::new(Semaphore::new(1));
        let canceller = {
            let sem = sem.clone();
            thread::spawn(move || {
                if let Poll::Ready(permit) = poll_once_then_cancel(sem.acquire_many(2)) {
                    assert!(permit.is_err(), "only one permit exists");
                }
            })
        };
        sem.close();
        canceller.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            1,
            "permits were lost or duplicated"
        );
    });
}

/// The `Mutex` on top: its one-CAS lock and unlock (`try_take_all`,
/// `release_all`) racing with the queued path. Both lockers get the lock
/// in turn, and loom checks the value's `UnsafeCell` is handed over with
/// happens-before.
#[test]
fn mutex_lock_handoff() {
    model(|| {
        let mutex = Arc::new(corium_sync::Mutex::new(0_usize));
        let held = mutex.try_lock().unwrap();
        let lockers: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || *block_on(mutex.lock()) += 1)
            })
            .collect();
        drop(held);
        for locker in lockers {
            locker.join().unwrap();
        }
        assert_eq!(*mutex.try_lock().unwrap(), 2);
    });
}
