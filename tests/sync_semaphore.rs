//! `Semaphore`: free permits, waiting for many, FIFO fairness, closing,
//! forgetting, merging and splitting, owned permits in tasks, cancel
//! safety (checked against a model of the queue), the permit limit, and
//! contention from threads and tasks.

mod util;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::Poll;
use std::time::Duration;

use corium::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use corium::task::yield_now;
use corium::time::sleep;
use util::{
    bounded, expect_panic, for_each_flavor, on_runtime, poll_once, yield_until, Lcg, Manual,
};

/// How long any one test may take before it counts as hung: a semaphore
/// that loses a wakeup never returns, and the watchdog turns that into a
/// failure.
const WATCHDOG: Duration = Duration::from_secs(60);

/// `sem.acquire_many(n)`, to be polled by hand.
fn acquire_many(sem: &Semaphore, n: u32) -> Manual<impl Future<Output = AcquireResult<'_>> + '_> {
    Manual::new(sem.acquire_many(n))
}

type AcquireResult<'a> = Result<corium::sync::SemaphorePermit<'a>, AcquireError>;

#[test]
fn try_acquire_takes_free_permits_and_drop_returns_them() {
    let sem = Semaphore::new(3);
    assert_eq!(sem.available_permits(), 3);
    let one = sem.try_acquire().unwrap();
    assert_eq!(one.num_permits(), 1);
    assert_eq!(sem.available_permits(), 2);
    let two = sem.try_acquire_many(2).unwrap();
    assert_eq!(two.num_permits(), 2);
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(
        sem.try_acquire_many(1).unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(two);
    assert_eq!(sem.available_permits(), 2);
    assert_eq!(
        sem.try_acquire_many(3).unwrap_err(),
        TryAcquireError::NoPermits,
        "two free permits do not make three"
    );
    assert_eq!(sem.available_permits(), 2, "a failed try takes nothing");
    drop(one);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn try_acquire_owned_returns_its_permits_on_drop() {
    let sem = Arc::new(Semaphore::new(2));
    let permit = sem.clone().try_acquire_many_owned(2).unwrap();
    assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    assert_eq!(
        sem.clone().try_acquire_owned().unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(permit);
    let one = sem.clone().try_acquire_owned().unwrap();
    assert_eq!(one.num_permits(), 1);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn acquire_many_waits_until_all_its_permits_are_free() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = acquire_many(&sem, 3);
    big.pending();
    sem.add_permits(1);
    big.pending();
    assert_eq!(big.wakes(), 0, "one of three permits is not enough to wake");
    drop(held);
    assert_eq!(big.wakes(), 1);
    let permit = big.ready().unwrap();
    assert_eq!(permit.num_permits(), 3);
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn a_queued_large_request_holds_back_later_small_ones() {
    let sem = Semaphore::new(3);
    let held = sem.try_acquire_many(2).unwrap();
    // One permit is free, but the request for three queued first: it keeps
    // that permit and everyone who comes later waits behind it.
    let mut big = acquire_many(&sem, 3);
    big.pending();
    assert_eq!(
        sem.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits,
        "try_acquire overtook a queued waiter"
    );
    let mut small = acquire_many(&sem, 1);
    small.pending();
    drop(held);
    assert_eq!(big.wakes(), 1);
    assert_eq!(small.wakes(), 0, "the small request overtook the big one");
    small.pending();
    let big_permit = big.ready().unwrap();
    drop(big_permit);
    assert_eq!(small.wakes(), 1);
    let small_permit = small.ready().unwrap();
    assert_eq!(sem.available_permits(), 2);
    drop(small_permit);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn waiters_get_permits_in_the_order_they_queued() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..5).map(|_| acquire_many(&sem, 1)).collect();
    for waiter in &mut waiters {
        waiter.pending();
    }
    let mut permits = Vec::new();
    for i in 0..waiters.len() {
        sem.add_permits(1);
        for (j, waiter) in waiters.iter().enumerate() {
            let expected = usize::from(j <= i);
            assert_eq!(
                waiter.wakes(),
                expected,
                "waiter {j} after {} permits",
                i + 1
            );
        }
        permits.push(waiters[i].ready().unwrap());
    }
    drop(permits);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn tasks_get_permits_in_the_order_they_asked() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let sem = Arc::new(Semaphore::new(0));
            let order = Arc::new(StdMutex::new(Vec::new()));
            let asked = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for id in 0..6 {
                let (sem, order, asking) = (sem.clone(), order.clone(), asked.clone());
                tasks.push(corium::spawn(async move {
                    // Queued by its first poll; only then may the next ask
                    // (on the multi-thread flavor the two run in parallel).
                    let mut acquire = std::pin::pin!(sem.acquire_owned());
                    assert!(poll_once(acquire.as_mut()).await.is_pending());
                    asking.fetch_add(1, SeqCst);
                    let permit = acquire.await.unwrap();
                    order.lock().unwrap().push(id);
                    permit.forget();
                }));
                // Each task queues before the next one is spawned.
                yield_until(|| asked.load(SeqCst) == id + 1).await;
                yield_now().await;
            }
            // One permit at a time, so that the order seen is the order
            // granted even when the tasks run in parallel.
            for granted in 1..=6 {
                sem.add_permits(1);
                yield_until(|| order.lock().unwrap().len() == granted).await;
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
        });
    });
}

#[test]
fn add_permits_wakes_as_many_waiters_as_it_can_serve() {
    let sem = Semaphore::new(0);
    let mut a = acquire_many(&sem, 1);
    let mut b = acquire_many(&sem, 2);
    let mut c = acquire_many(&sem, 1);
    a.pending();
    b.pending();
    c.pending();
    sem.add_permits(3);
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 1, 0));
    c.pending();
    let (pa, pb) = (a.ready().unwrap(), b.ready().unwrap());
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(2);
    assert_eq!(c.wakes(), 1);
    let pc = c.ready().unwrap();
    assert_eq!(sem.available_permits(), 1, "the permit c did not need");
    drop((pa, pb, pc));
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn add_permits_wakes_waiting_tasks() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let sem = Arc::new(Semaphore::new(0));
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let sem = sem.clone();
                    corium::spawn(async move { sem.acquire_owned().await.unwrap() })
                })
                .collect();
            yield_now().await;
            assert!(tasks.iter().all(|task| !task.is_finished()));
            sem.add_permits(3);
            let mut permits = Vec::new();
            for task in tasks {
                permits.push(task.await.unwrap());
            }
            assert_eq!(sem.available_permits(), 0);
            drop(permits);
            assert_eq!(sem.available_permits(), 3);
        });
    });
}

#[test]
fn close_fails_queued_and_later_acquires_but_keeps_held_permits() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.try_acquire().unwrap();
    let mut queued = acquire_many(&sem, 1);
    queued.pending();
    assert!(!sem.is_closed());
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(queued.wakes(), 1, "close must wake the queued waiter");
    assert_eq!(queued.ready().unwrap_err(), closed_error());
    let mut later = acquire_many(&sem, 1);
    assert!(later.ready().is_err());
    assert!(Manual::new(sem.clone().acquire_owned()).ready().is_err());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_eq!(
        sem.clone().try_acquire_owned().unwrap_err(),
        TryAcquireError::Closed
    );
    // The permit held before the close stays valid and comes back.
    assert_eq!(held.num_permits(), 1);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
}

/// An `AcquireError`, from a closed semaphore.
fn closed_error() -> AcquireError {
    let sem = Semaphore::new(0);
    sem.close();
    let mut acquire = acquire_many(&sem, 1);
    acquire.ready().unwrap_err()
}

#[test]
fn errors_say_what_went_wrong() {
    assert_eq!(closed_error().to_string(), "the semaphore is closed");
    assert_eq!(
        TryAcquireError::Closed.to_string(),
        "the semaphore is closed"
    );
    assert_eq!(
        TryAcquireError::NoPermits.to_string(),
        "no permits are free right now"
    );
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<AcquireError>();
    assert_error::<TryAcquireError>();
}

#[test]
fn close_gives_back_what_a_queued_request_had_collected() {
    // The failed request is polled: it sees the close and gives back.
    let sem = Semaphore::new(1);
    let mut polled = acquire_many(&sem, 3);
    polled.pending(); // holds the one free permit, wants two more
    assert_eq!(sem.available_permits(), 0);
    sem.close();
    assert!(polled.ready().is_err());
    assert_eq!(sem.available_permits(), 1);

    // The failed request is dropped without looking.
    let sem = Semaphore::new(1);
    let mut unpolled = acquire_many(&sem, 3);
    unpolled.pending();
    sem.close();
    drop(unpolled);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn closing_wakes_waiting_tasks_with_an_error() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let sem = Arc::new(Semaphore::new(0));
            let tasks: Vec<_> = (0..4)
                .map(|n| {
                    let sem = sem.clone();
                    corium::spawn(async move { sem.acquire_many_owned(n + 1).await.map(drop) })
                })
                .collect();
            yield_now().await;
            sem.close();
            for task in tasks {
                assert!(task.await.unwrap().is_err());
            }
        });
    });
}

#[test]
fn forget_keeps_permits_out_for_good() {
    let sem = Semaphore::new(5);
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available_permits(), 3);
    let sem = Arc::new(sem);
    sem.clone().try_acquire_owned().unwrap().forget();
    assert_eq!(sem.available_permits(), 2);

    assert_eq!(sem.forget_permits(1), 1);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(
        sem.forget_permits(10),
        1,
        "only free permits can be forgotten"
    );
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.forget_permits(1), 0);
    sem.add_permits(1);
    assert_eq!(sem.try_acquire().unwrap().num_permits(), 1);
}

#[test]
fn forget_permits_cannot_take_what_a_queued_waiter_collected() {
    let sem = Semaphore::new(1);
    let mut waiter = acquire_many(&sem, 2);
    waiter.pending();
    assert_eq!(sem.forget_permits(1), 0);
    sem.add_permits(1);
    assert_eq!(waiter.ready().unwrap().num_permits(), 2);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn merge_and_split_move_permits_between_guards() {
    let sem = Semaphore::new(5);
    let mut a = sem.try_acquire_many(2).unwrap();
    let b = sem.try_acquire_many(3).unwrap();
    a.merge(b);
    assert_eq!(a.num_permits(), 5);
    assert_eq!(sem.available_permits(), 0);
    let c = a.split(4).unwrap();
    assert_eq!((a.num_permits(), c.num_permits()), (1, 4));
    assert!(a.split(2).is_none(), "cannot split off more than it holds");
    assert_eq!(a.num_permits(), 1, "a failed split leaves the permit alone");
    drop(c);
    assert_eq!(sem.available_permits(), 4);
    drop(a);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn owned_merge_and_split_move_permits_between_guards() {
    let sem = Arc::new(Semaphore::new(4));
    let mut a = sem.clone().try_acquire_owned().unwrap();
    a.merge(sem.clone().try_acquire_many_owned(3).unwrap());
    assert_eq!(a.num_permits(), 4);
    let b = a.split(3).unwrap();
    assert!(Arc::ptr_eq(b.semaphore(), &sem));
    assert!(a.split(2).is_none());
    drop(a);
    assert_eq!(sem.available_permits(), 1);
    drop(b);
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn merging_permits_of_different_semaphores_panics() {
    let (one, two) = (Semaphore::new(1), Semaphore::new(1));
    let mut a = one.try_acquire().unwrap();
    let b = two.try_acquire().unwrap();
    let message = expect_panic(move || a.merge(b));
    assert!(message.contains("different semaphores"), "{message}");

    let (one, two) = (Arc::new(Semaphore::new(1)), Arc::new(Semaphore::new(1)));
    let mut a = one.try_acquire_owned().unwrap();
    let b = two.try_acquire_owned().unwrap();
    let message = expect_panic(move || a.merge(b));
    assert!(message.contains("different semaphores"), "{message}");
}

#[test]
fn owned_permits_move_into_spawned_tasks() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let sem = Arc::new(Semaphore::new(2));
            let holders = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let permit: OwnedSemaphorePermit = sem.clone().acquire_owned().await.unwrap();
                let (holders, most) = (holders.clone(), most.clone());
                tasks.push(corium::spawn(async move {
                    let now = holders.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    sleep(Duration::from_millis(5)).await;
                    holders.fetch_sub(1, SeqCst);
                    drop(permit);
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(most.load(SeqCst), 2, "at most two tasks hold a permit");
            assert_eq!(sem.available_permits(), 2);
        });
    });
}

// ---- Cancellation ---------------------------------------------------------

#[test]
fn dropping_a_partly_served_request_gives_its_permits_back() {
    let sem = Semaphore::new(3);
    let held = sem.try_acquire_many(3).unwrap();
    let mut big = acquire_many(&sem, 5);
    big.pending();
    drop(held); // three of the five go to the queued request
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(big.wakes(), 0);
    drop(big);
    assert_eq!(
        sem.available_permits(),
        3,
        "the collected permits came back"
    );
    assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
}

#[test]
fn dropping_a_partly_served_request_serves_the_next_waiter() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = acquire_many(&sem, 4);
    big.pending();
    let mut small = acquire_many(&sem, 1);
    small.pending();
    drop(held); // both go to `big`, which still lacks two
    assert_eq!(small.wakes(), 0);
    drop(big);
    assert_eq!(small.wakes(), 1, "the next waiter gets the freed permits");
    let permit = small.ready().unwrap();
    assert_eq!(sem.available_permits(), 1);
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn a_granted_but_unpolled_acquire_passes_its_permits_to_the_next_waiter() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut first = acquire_many(&sem, 2);
    let mut second = acquire_many(&sem, 2);
    first.pending();
    second.pending();
    drop(held);
    assert_eq!((first.wakes(), second.wakes()), (1, 0));
    drop(first); // granted, never polled again
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.ready().unwrap().num_permits(), 2);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn a_granted_but_unpolled_acquire_with_no_one_behind_frees_its_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiter = acquire_many(&sem, 1);
    waiter.pending();
    drop(held);
    assert_eq!(waiter.wakes(), 1);
    assert_eq!(sem.available_permits(), 0, "the permit is the waiter's now");
    drop(waiter);
    assert_eq!(sem.available_permits(), 1);
    let _fast = sem.try_acquire().expect("nobody waits any more");
}

#[test]
fn dropping_a_queued_acquire_does_not_disturb_the_others() {
    let sem = Semaphore::new(0);
    let mut a = acquire_many(&sem, 1);
    let mut b = acquire_many(&sem, 1);
    let mut c = acquire_many(&sem, 1);
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    sem.add_permits(1);
    assert_eq!((a.wakes(), c.wakes()), (1, 0));
    let pa = a.ready().unwrap();
    sem.add_permits(1);
    assert_eq!(c.wakes(), 1);
    let pc = c.ready().unwrap();
    drop((pa, pc));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn after_the_last_waiter_leaves_permits_are_free_again() {
    let sem = Semaphore::new(0);
    let mut only = acquire_many(&sem, 1);
    only.pending();
    drop(only);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 2);
    let _permit = sem.try_acquire().expect("no one is queued any more");
    assert_eq!(sem.forget_permits(1), 1);
}

#[test]
fn a_timed_out_acquire_in_a_task_loses_no_permit() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let sem = Arc::new(Semaphore::new(2));
            let held = sem.clone().try_acquire_owned().unwrap();
            let timed_out =
                corium::time::timeout(Duration::from_millis(10), sem.acquire_many(2)).await;
            assert!(timed_out.is_err(), "two permits were never free together");
            assert_eq!(sem.available_permits(), 1, "the collected permit came back");
            drop(held);
            assert_eq!(sem.acquire_many(2).await.unwrap().num_permits(), 2);
        });
    });
}

/// What the semaphore's documented protocol says should happen: free
/// permits, and a FIFO of (waiter, permits still missing).
#[derive(Default)]
struct Model {
    free: usize,
    queue: VecDeque<(usize, usize)>,
    granted: Vec<usize>,
}

impl Model {
    /// A new request for `n`, on its first poll: true if it is served.
    fn request(&mut self, id: usize, n: usize) -> bool {
        if self.free >= n {
            self.free -= n;
            return true;
        }
        let taken = std::mem::take(&mut self.free);
        self.queue.push_back((id, n - taken));
        false
    }

    /// `n` permits come back: to the queue front first, in order.
    fn release(&mut self, mut n: usize) {
        while n > 0 {
            let Some((id, missing)) = self.queue.front_mut() else {
                break;
            };
            let given = n.min(*missing);
            *missing -= given;
            n -= given;
            if *missing == 0 {
                self.granted.push(*id);
                self.queue.pop_front();
            }
        }
        self.free += n;
    }

    /// A waiter's future is dropped: it gives back everything it holds.
    fn cancel(&mut self, id: usize, n: usize) {
        if let Some(at) = self.granted.iter().position(|&g| g == id) {
            self.granted.remove(at);
            return self.release(n);
        }
        let at = self.queue.iter().position(|&(q, _)| q == id).unwrap();
        let (_, missing) = self.queue.remove(at).unwrap();
        self.release(n - missing);
    }

    fn is_granted(&self, id: usize) -> bool {
        self.granted.contains(&id)
    }
}

#[test]
fn random_acquires_releases_and_cancellations_follow_the_fifo_model() {
    for seed in 0..8 {
        let mut total = 4;
        let sem = Semaphore::new(total);
        let mut model = Model {
            free: total,
            ..Model::default()
        };
        let mut rng = Lcg(seed);
        let mut waiters = Vec::new(); // (id, permits, future), queued or served
        let mut held = Vec::new();
        for op in 0..5_000 {
            let at = |rng: &mut Lcg, len: usize| rng.below(len.max(1));
            match rng.below(8) {
                0..=2 if waiters.len() < 8 => {
                    let n = 1 + rng.below(3);
                    let mut waiter = acquire_many(&sem, n as u32);
                    let served = waiter.poll();
                    assert_eq!(
                        served.is_ready(),
                        model.request(op, n),
                        "seed {seed} op {op}"
                    );
                    match served {
                        Poll::Ready(permit) => held.push(permit.unwrap()),
                        Poll::Pending => waiters.push((op, n, waiter)),
                    }
                }
                3 if !waiters.is_empty() => {
                    // A served waiter is ready with its permits; a queued
                    // one only re-registers.
                    let i = at(&mut rng, waiters.len());
                    let (id, n, waiter) = &mut waiters[i];
                    if model.is_granted(*id) {
                        let permit = waiter.ready().unwrap();
                        assert_eq!(permit.num_permits(), *n);
                        model.granted.retain(|g| g != id);
                        held.push(permit);
                        waiters.swap_remove(i);
                    } else {
                        waiter.pending();
                    }
                }
                4 if !waiters.is_empty() => {
                    // Cancellation, queued or already served.
                    let i = at(&mut rng, waiters.len());
                    let (id, n, waiter) = waiters.swap_remove(i);
                    model.cancel(id, n);
                    drop(waiter);
                }
                5 if total < 10 => {
                    total += 1;
                    sem.add_permits(1);
                    model.release(1);
                }
                _ if !held.is_empty() => {
                    let permit = held.swap_remove(at(&mut rng, held.len()));
                    model.release(permit.num_permits());
                    drop(permit);
                }
                _ => {}
            }
            assert_eq!(sem.available_permits(), model.free, "seed {seed} op {op}");
            for (id, _, waiter) in &waiters {
                if model.is_granted(*id) {
                    assert!(
                        waiter.wakes() > 0,
                        "seed {seed} op {op}: a served waiter was not woken"
                    );
                }
            }
            let in_hand: usize = held.iter().map(|p| p.num_permits()).sum();
            assert!(
                in_hand <= total,
                "seed {seed} op {op}: permits were duplicated"
            );
        }
        drop(waiters);
        drop(held);
        assert_eq!(
            sem.available_permits(),
            total,
            "seed {seed}: permits were lost"
        );
    }
}

// ---- Limits -------------------------------------------------------------

#[test]
fn more_than_max_permits_panics_with_a_clear_message() {
    let message = expect_panic(|| Semaphore::new(Semaphore::MAX_PERMITS + 1));
    assert!(message.contains("MAX_PERMITS"), "{message}");

    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    let message = expect_panic(|| sem.add_permits(1));
    assert!(message.contains("MAX_PERMITS"), "{message}");
    assert_eq!(
        sem.available_permits(),
        Semaphore::MAX_PERMITS,
        "a refused add changes nothing"
    );

    let sem = Semaphore::new(Semaphore::MAX_PERMITS - 1);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

// ---- Contention -----------------------------------------------------------

/// Takes and gives back one permit `rounds` times, checking through
/// `holders` that no more than `limit` hold one at once.
async fn churn(sem: &Semaphore, holders: &AtomicUsize, limit: usize, rounds: usize) {
    for round in 0..rounds {
        let permit = sem.acquire().await.unwrap();
        let now = holders.fetch_add(1, SeqCst) + 1;
        assert!(now <= limit, "{now} holders of {limit} permits");
        if round % 8 == 0 {
            yield_now().await;
        }
        holders.fetch_sub(1, SeqCst);
        drop(permit);
    }
}

#[test]
fn threads_never_hold_more_permits_than_exist() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 25_000;
    bounded(WATCHDOG, || {
        let sem = Arc::new(Semaphore::new(3));
        let holders = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (sem, holders) = (sem.clone(), holders.clone());
                std::thread::spawn(move || {
                    corium::block_on(churn(&sem, &holders, 3, ROUNDS));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(holders.load(SeqCst), 0);
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn tasks_never_hold_more_permits_than_exist() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let sem = Arc::new(Semaphore::new(3));
            let holders = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..100)
                .map(|_| {
                    let (sem, holders) = (sem.clone(), holders.clone());
                    corium::spawn(async move { churn(&sem, &holders, 3, 500).await })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(holders.load(SeqCst), 0);
            assert_eq!(sem.available_permits(), 3);
        });
    });
}
