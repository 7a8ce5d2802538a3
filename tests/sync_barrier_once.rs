//! `Barrier` (release together, one leader a round, reuse, a cancelled
//! wait un-counted, `new(0)`) and `OnceCell` (one initialiser among many
//! callers, `set`/`get` and their errors, failed and cancelled
//! initialisers, `take`/`into_inner`, the value dropped exactly once).

mod util;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::sync::{Barrier, OnceCell, SetError};
use corium::task::yield_now;
use corium::time::sleep;
use futures_channel::oneshot;
use util::{bounded, for_each_flavor, on_runtime, DropCounter, Manual, OnDrop};

/// How long any one test may take before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

// ---- Barrier --------------------------------------------------------------

#[test]
fn the_last_arrival_releases_everyone_and_leads() {
    let barrier = Barrier::new(3);
    let mut a = Manual::new(barrier.wait());
    let mut b = Manual::new(barrier.wait());
    a.pending();
    b.pending();
    let mut c = Manual::new(barrier.wait());
    assert!(c.ready().is_leader(), "the arrival that releases leads");
    assert_eq!((a.wakes(), b.wakes()), (1, 1));
    assert!(!a.ready().is_leader());
    assert!(!b.ready().is_leader());
}

#[test]
fn tasks_are_released_together_with_one_leader() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            const N: usize = 6;
            let barrier = Arc::new(Barrier::new(N));
            let arrived = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..N)
                .map(|_| {
                    let (barrier, arrived) = (barrier.clone(), arrived.clone());
                    corium::spawn(async move {
                        yield_now().await;
                        arrived.fetch_add(1, SeqCst);
                        let result = barrier.wait().await;
                        assert_eq!(arrived.load(SeqCst), N, "released before all arrived");
                        result.is_leader()
                    })
                })
                .collect();
            let mut leaders = 0;
            for task in tasks {
                leaders += usize::from(task.await.unwrap());
            }
            assert_eq!(leaders, 1);
        });
    });
}

#[test]
fn the_barrier_is_reusable_round_after_round() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            const N: usize = 4;
            const ROUNDS: usize = 25;
            let barrier = Arc::new(Barrier::new(N));
            let arrivals: Arc<Vec<AtomicUsize>> =
                Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
            let leaders: Arc<Vec<AtomicUsize>> =
                Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
            let tasks: Vec<_> = (0..N)
                .map(|id| {
                    let (barrier, arrivals, leaders) =
                        (barrier.clone(), arrivals.clone(), leaders.clone());
                    corium::spawn(async move {
                        for round in 0..ROUNDS {
                            if (id + round) % 3 == 0 {
                                sleep(Duration::from_millis(1)).await;
                            }
                            arrivals[round].fetch_add(1, SeqCst);
                            let result = barrier.wait().await;
                            assert_eq!(arrivals[round].load(SeqCst), N, "round {round}");
                            if result.is_leader() {
                                leaders[round].fetch_add(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            for (round, count) in leaders.iter().enumerate() {
                assert_eq!(count.load(SeqCst), 1, "leaders in round {round}");
            }
        });
    });
}

#[test]
fn threads_pass_the_barrier_in_lockstep_with_one_leader_a_round() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    bounded(WATCHDOG, || {
        let barrier = Arc::new(Barrier::new(THREADS));
        let arrivals: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
        let leaders: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (barrier, arrivals, leaders) =
                    (barrier.clone(), arrivals.clone(), leaders.clone());
                std::thread::spawn(move || {
                    corium::block_on(async {
                        for (round, arrived) in arrivals.iter().enumerate() {
                            arrived.fetch_add(1, SeqCst);
                            let result = barrier.wait().await;
                            assert_eq!(arrived.load(SeqCst), THREADS, "round {round}");
                            leaders[round].fetch_add(usize::from(result.is_leader()), SeqCst);
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        for (round, count) in leaders.iter().enumerate() {
            assert_eq!(count.load(SeqCst), 1, "leaders in round {round}");
        }
    });
}

#[test]
fn a_cancelled_wait_is_not_counted() {
    let barrier = Barrier::new(3);
    let mut a = Manual::new(barrier.wait());
    let mut b = Manual::new(barrier.wait());
    a.pending();
    b.pending();
    drop(b);
    // Two more must arrive now, not one.
    let mut c = Manual::new(barrier.wait());
    c.pending();
    assert_eq!(
        a.wakes(),
        0,
        "a cancelled wait made the barrier release early"
    );
    let mut d = Manual::new(barrier.wait());
    assert!(d.ready().is_leader());
    assert!(!a.ready().is_leader());
    assert!(!c.ready().is_leader());
}

#[test]
fn a_released_wait_dropped_before_it_looks_does_not_upset_the_next_round() {
    let barrier = Barrier::new(2);
    let mut a = Manual::new(barrier.wait());
    a.pending();
    let mut b = Manual::new(barrier.wait());
    assert!(b.ready().is_leader());
    drop(a); // released, never polled again: it must not be un-counted
    let mut c = Manual::new(barrier.wait());
    c.pending();
    let mut d = Manual::new(barrier.wait());
    assert!(d.ready().is_leader());
    assert_eq!(c.wakes(), 1);
    assert!(!c.ready().is_leader());
}

#[test]
fn a_wait_never_polled_is_not_an_arrival() {
    let barrier = Barrier::new(2);
    let unpolled = barrier.wait();
    let mut a = Manual::new(barrier.wait());
    a.pending();
    drop(unpolled);
    let mut b = Manual::new(barrier.wait());
    assert!(b.ready().is_leader());
    assert!(!a.ready().is_leader());
}

#[test]
fn a_timed_out_task_leaves_the_barrier_waiting_for_a_replacement() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let barrier = Arc::new(Barrier::new(2));
            let gave_up = corium::time::timeout(Duration::from_millis(5), barrier.wait()).await;
            assert!(gave_up.is_err());
            let first = corium::spawn({
                let barrier = barrier.clone();
                async move { barrier.wait().await.is_leader() }
            });
            yield_now().await;
            assert!(
                !first.is_finished(),
                "the timed-out arrival was still counted"
            );
            let second = barrier.wait().await.is_leader();
            let first = first.await.unwrap();
            assert!(first ^ second, "exactly one leader");
        });
    });
}

#[test]
fn a_barrier_of_zero_or_one_never_waits() {
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        for _ in 0..3 {
            assert!(
                Manual::new(barrier.wait()).ready().is_leader(),
                "Barrier::new({n})"
            );
        }
    }
}

#[test]
fn barrier_wait_is_send() {
    fn assert_send_future<F: Future + Send>(_: F) {}
    let barrier = Barrier::new(1);
    assert_send_future(barrier.wait());
}

// ---- OnceCell -------------------------------------------------------------

#[test]
fn get_or_init_runs_one_initialiser_for_many_tasks() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..20)
                .map(|id| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    corium::spawn(async move {
                        let value = cell
                            .get_or_init(|| async {
                                runs.fetch_add(1, SeqCst);
                                sleep(Duration::from_millis(5)).await;
                                id
                            })
                            .await;
                        *value
                    })
                })
                .collect();
            let mut values = Vec::new();
            for task in tasks {
                values.push(task.await.unwrap());
            }
            assert_eq!(runs.load(SeqCst), 1, "the initialiser ran more than once");
            assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
            assert_eq!(cell.get(), Some(&values[0]));
        });
    });
}

#[test]
fn get_or_init_runs_one_initialiser_for_many_threads() {
    bounded(WATCHDOG, || {
        for _ in 0..50 {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..4)
                .map(|id| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    std::thread::spawn(move || {
                        corium::block_on(async {
                            *cell
                                .get_or_init(|| async {
                                    runs.fetch_add(1, SeqCst);
                                    yield_now().await;
                                    id
                                })
                                .await
                        })
                    })
                })
                .collect();
            let values: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(runs.load(SeqCst), 1);
            assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
        }
    });
}

#[test]
fn waiters_get_the_value_without_running_their_initialiser() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel::<u32>();
    let mut first = Manual::new(cell.get_or_init(|| async { rx.await.unwrap() }));
    first.pending();
    let second_ran = AtomicUsize::new(0);
    let mut second = Manual::new(cell.get_or_init(|| async {
        second_ran.fetch_add(1, SeqCst);
        0
    }));
    second.pending();
    assert!(!cell.initialized());
    tx.send(42).unwrap();
    assert_eq!(*first.ready(), 42);
    assert_eq!(second.wakes(), 1, "the waiter must be woken by the store");
    assert_eq!(*second.ready(), 42);
    assert_eq!(second_ran.load(SeqCst), 0);
}

#[test]
fn set_and_get() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert!(!cell.initialized());
    assert_eq!(cell.set(1), Ok(()));
    assert!(cell.initialized());
    assert_eq!(cell.get(), Some(&1));
    let err = cell.set(2).unwrap_err();
    assert!(err.is_already_init_err());
    assert!(!err.is_initializing_err());
    assert_eq!(err, SetError::AlreadyInitializedError(2));
    assert_eq!(err.to_string(), "the cell already holds a value");
    assert_eq!(cell.get(), Some(&1), "a refused set changes nothing");
    // get_or_init on a set cell does not run its initialiser.
    let value = Manual::new(cell.get_or_init(|| async { unreachable!() })).ready();
    assert_eq!(*value, 1);
}

#[test]
fn set_during_an_initialiser_is_refused_and_gives_the_value_back() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel::<&str>();
    let mut init = Manual::new(cell.get_or_init(|| async { rx.await.unwrap() }));
    init.pending();
    let err = cell.set("from set").unwrap_err();
    assert!(err.is_initializing_err());
    assert_eq!(err, SetError::InitializingError("from set"));
    assert_eq!(err.to_string(), "the cell is being initialised right now");
    tx.send("from init").unwrap();
    assert_eq!(*init.ready(), "from init");
    assert_eq!(
        cell.set("late").unwrap_err(),
        SetError::AlreadyInitializedError("late")
    );
}

#[test]
fn a_failing_initialiser_leaves_the_cell_empty_for_the_next_caller() {
    let cell = OnceCell::new();
    let failed: Result<&u32, &str> =
        Manual::new(cell.get_or_try_init(|| async { Err("unavailable") })).ready();
    assert_eq!(failed, Err("unavailable"));
    assert_eq!(cell.get(), None);
    assert!(!cell.initialized());
    let ok: Result<&u32, &str> = Manual::new(cell.get_or_try_init(|| async { Ok(5) })).ready();
    assert_eq!(ok, Ok(&5));
    assert_eq!(cell.get(), Some(&5));
}

#[test]
fn a_failing_initialiser_hands_over_to_the_next_waiter() {
    let cell = OnceCell::<u32>::new();
    let (tx, rx) = oneshot::channel::<()>();
    let mut failing = Manual::new(cell.get_or_try_init(|| async {
        rx.await.unwrap();
        Err("down")
    }));
    failing.pending();
    let mut next = Manual::new(cell.get_or_try_init(|| async { Ok::<_, &str>(8) }));
    next.pending();
    tx.send(()).unwrap();
    assert_eq!(failing.ready(), Err("down"));
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready(), Ok(&8));
}

#[test]
fn a_cancelled_initialiser_lets_the_next_waiter_initialise() {
    let cell = OnceCell::new();
    let mut cancelled = Manual::new(cell.get_or_init(std::future::pending::<u32>));
    cancelled.pending();
    let mut next = Manual::new(cell.get_or_init(|| async { 3 }));
    next.pending();
    drop(cancelled);
    assert_eq!(next.wakes(), 1, "the next waiter must be woken");
    assert_eq!(*next.ready(), 3);
    assert_eq!(cell.get(), Some(&3));
}

#[test]
fn a_cancelled_initialiser_with_no_one_waiting_leaves_the_cell_free() {
    let cell = OnceCell::new();
    let mut cancelled = Manual::new(cell.get_or_init(std::future::pending::<u32>));
    cancelled.pending();
    drop(cancelled);
    assert_eq!(
        cell.set(1),
        Ok(()),
        "the cell stayed locked after the cancel"
    );
}

#[test]
fn a_timed_out_initialiser_in_a_task_lets_another_initialise() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let cell = Arc::new(OnceCell::new());
            let slow = corium::time::timeout(
                Duration::from_millis(5),
                cell.get_or_init(|| async {
                    sleep(Duration::from_secs(3600)).await;
                    "slow"
                }),
            )
            .await;
            assert!(slow.is_err());
            assert_eq!(*cell.get_or_init(|| async { "fast" }).await, "fast");
        });
    });
}

#[test]
fn take_and_into_inner_move_the_value_out() {
    let mut cell = OnceCell::from(String::from("a"));
    assert_eq!(cell.get_mut().map(|s| s.as_str()), Some("a"));
    cell.get_mut().unwrap().push('b');
    assert_eq!(cell.take().as_deref(), Some("ab"));
    assert_eq!(cell.get(), None);
    assert_eq!(cell.take(), None);
    assert_eq!(
        cell.set(String::from("c")),
        Ok(()),
        "a taken cell is empty again"
    );
    assert_eq!(cell.into_inner().as_deref(), Some("c"));
    assert_eq!(OnceCell::<u8>::new().into_inner(), None);
    assert_eq!(OnceCell::new_with(Some(1)).into_inner(), Some(1));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
    let cloned = OnceCell::from(9).clone();
    assert_eq!(cloned.get(), Some(&9));
}

#[test]
fn the_value_is_dropped_exactly_once() {
    let drops = DropCounter::new();

    let cell = OnceCell::new();
    cell.set(drops.probe()).unwrap();
    drop(cell);
    assert_eq!(drops.count(), 1, "dropping a set cell");

    let mut cell = OnceCell::new();
    cell.set(drops.probe()).unwrap();
    let taken = cell.take();
    drop(cell);
    assert_eq!(
        drops.count(),
        1,
        "the taken value is not dropped by the cell"
    );
    drop(taken);
    assert_eq!(drops.count(), 2);

    let cell = OnceCell::new();
    cell.set(drops.probe()).unwrap();
    let value = cell.into_inner();
    assert_eq!(drops.count(), 2);
    drop(value);
    assert_eq!(drops.count(), 3);

    let cell = OnceCell::new();
    cell.set(drops.probe()).unwrap();
    let refused = cell.set(drops.probe()).unwrap_err();
    assert_eq!(drops.count(), 3, "the refused value came back, not dropped");
    drop(refused);
    drop(cell);
    assert_eq!(drops.count(), 5);

    let cell: OnceCell<OnDrop> = OnceCell::new();
    let value = Manual::new(cell.get_or_init(|| async { drops.probe() })).ready();
    let _ = value;
    drop(cell);
    assert_eq!(drops.count(), 6, "a value from get_or_init");

    drop(OnceCell::<OnDrop>::new());
    assert_eq!(drops.count(), 6, "an empty cell drops nothing");
}

#[test]
fn a_failed_initialiser_drops_nothing_in_the_cell() {
    let drops = DropCounter::new();
    let cell = OnceCell::<OnDrop>::new();
    let failed =
        Manual::new(cell.get_or_try_init(|| async { Err::<OnDrop, _>(drops.probe()) })).ready();
    assert!(failed.is_err());
    assert_eq!(drops.count(), 0);
    drop(failed);
    drop(cell);
    assert_eq!(drops.count(), 1);
}

#[test]
fn once_cell_is_send_and_sync_and_its_futures_are_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send_future<F: Future + Send>(_: F) {}
    assert_send_sync::<OnceCell<String>>();
    let cell = OnceCell::<String>::new();
    assert_send_future(cell.get_or_init(|| async { String::new() }));
    assert_send_future(cell.get_or_try_init(|| async { Ok::<_, ()>(String::new()) }));
}
