//! `Mutex` and `RwLock`: exclusion with guards held across `.await`,
//! fairness, the `try_*` forms, owned and mapped guards, `blocking_*`
//! from plain threads, cancel safety of a queued lock, readers and
//! writers (no writer starvation, downgrade), exact counts under
//! contention, and the auto traits of the guards.

mod util;

use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, OwnedRwLockReadGuard,
    OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError,
};
use corium::task::yield_now;
use corium::time::sleep;
use util::{bounded, build, for_each_flavor, on_runtime, poll_once, run, yield_until, Manual};

/// How long any one test may take before it counts as hung: a lock that
/// loses a wakeup never returns, and the watchdog turns that into a failure.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Marks a critical section: fails if two are ever inside at once.
#[derive(Default)]
struct Exclusive(AtomicBool);

impl Exclusive {
    #[track_caller]
    fn enter(&self) {
        assert!(!self.0.swap(true, SeqCst), "two holders inside at once");
    }

    fn leave(&self) {
        self.0.store(false, SeqCst);
    }
}

// ---- Mutex ----------------------------------------------------------------

#[test]
fn guards_held_across_await_exclude_each_other() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let inside = Arc::new(Exclusive::default());
            let tasks: Vec<_> = (0..8)
                .map(|id| {
                    let (mutex, inside) = (mutex.clone(), inside.clone());
                    corium::spawn(async move {
                        for round in 0..3 {
                            let mut log = mutex.lock().await;
                            inside.enter();
                            log.push((id, "in"));
                            if round % 2 == 0 {
                                sleep(Duration::from_millis(1)).await;
                            } else {
                                yield_now().await;
                            }
                            log.push((id, "out"));
                            inside.leave();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let log = mutex.lock().await;
            assert_eq!(log.len(), 8 * 3 * 2);
            for pair in log.chunks(2) {
                assert_eq!(pair[0].0, pair[1].0, "another task ran inside: {log:?}");
                assert_eq!((pair[0].1, pair[1].1), ("in", "out"));
            }
        });
    });
}

#[test]
fn the_lock_is_handed_on_in_request_order() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..4).map(|_| Manual::new(mutex.lock())).collect();
    for waiter in &mut waiters {
        waiter.pending();
    }
    drop(guard);
    for i in 0..waiters.len() {
        for (j, waiter) in waiters.iter().enumerate() {
            assert_eq!(
                waiter.wakes(),
                usize::from(j <= i),
                "waiter {j} at turn {i}"
            );
        }
        let guard = waiters[i].ready();
        for waiter in &mut waiters[i + 1..] {
            waiter.pending();
        }
        drop(guard);
    }
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn tasks_get_the_lock_in_the_order_they_asked() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let guard = mutex.clone().try_lock_owned().unwrap();
            let asked = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for id in 0..5 {
                let (mutex, asking) = (mutex.clone(), asked.clone());
                tasks.push(corium::spawn(async move {
                    // Queued by its first poll; only then may the next ask
                    // (on the multi-thread flavor the two run in parallel).
                    let mut lock = std::pin::pin!(mutex.lock());
                    assert!(poll_once(lock.as_mut()).await.is_pending());
                    asking.fetch_add(1, SeqCst);
                    lock.await.push(id);
                }));
                yield_until(|| asked.load(SeqCst) == id + 1).await;
            }
            drop(guard);
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*mutex.lock().await, [0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn the_lock_stays_exclusive_after_uncontended_lock_and_unlock() {
    // Lock and unlock with nobody waiting, by every path: the mutex must
    // still hold exactly one lock afterwards.
    let mutex = Arc::new(Mutex::new(0));
    for round in 0..4 {
        match round {
            0 => drop(Manual::new(mutex.lock()).ready()),
            1 => drop(mutex.try_lock().unwrap()),
            2 => drop(Manual::new(mutex.clone().lock_owned()).ready()),
            _ => drop(MutexGuard::map(mutex.try_lock().unwrap(), |v| v)),
        }
        let first = Manual::new(mutex.lock()).ready();
        assert!(mutex.try_lock().is_err(), "round {round}: two holders");
        let mut second = Manual::new(mutex.lock());
        second.pending();
        drop(first);
        assert_eq!(second.wakes(), 1);
        drop(second.ready());
    }
}

#[test]
fn try_lock_fails_while_the_lock_is_held_or_promised() {
    let mutex = Mutex::new(5);
    let guard = mutex.try_lock().unwrap();
    assert!(mutex.try_lock().is_err());
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    let mut waiter = Manual::new(mutex.lock());
    waiter.pending();
    drop(guard);
    // The lock went straight to the waiter: a newcomer cannot take it,
    // even before the waiter runs.
    assert!(mutex.try_lock().is_err(), "try_lock overtook a waiter");
    let guard = waiter.ready();
    assert_eq!(*guard, 5);
    drop(guard);
    assert_eq!(*mutex.try_lock().unwrap(), 5);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: 5 }");
}

#[test]
fn try_lock_error_says_what_went_wrong() {
    let mutex = Mutex::new(());
    let _held = mutex.try_lock().unwrap();
    let err = mutex.try_lock().unwrap_err();
    assert_eq!(err.to_string(), "the lock is held elsewhere right now");
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<TryLockError>();
}

#[test]
fn owned_guards_move_into_spawned_tasks() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let mutex = Arc::new(Mutex::new(0u32));
            let guard: OwnedMutexGuard<u32> = mutex.clone().lock_owned().await;
            assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
            let holder = corium::spawn(async move {
                let mut guard = guard;
                sleep(Duration::from_millis(10)).await;
                *guard += 1;
            });
            assert!(mutex.clone().try_lock_owned().is_err());
            // Waits for the task that holds the guard.
            assert_eq!(*mutex.lock().await, 1);
            holder.await.unwrap();
            let mut again = mutex.clone().try_lock_owned().unwrap();
            *again += 1;
            drop(again);
            assert_eq!(*mutex.lock().await, 2);
        });
    });
}

#[test]
fn a_mapped_guard_narrows_the_value_and_keeps_the_lock() {
    struct Pair {
        left: u32,
        right: String,
    }
    let mutex = Mutex::new(Pair {
        left: 1,
        right: "a".to_string(),
    });
    let guard = mutex.try_lock().unwrap();
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    let mut right: MappedMutexGuard<'_, String> = MutexGuard::map(guard, |pair| &mut pair.right);
    right.push('b');
    assert!(
        mutex.try_lock().is_err(),
        "the mapped guard still holds the lock"
    );
    assert_eq!(format!("{right:?}"), "\"ab\"");
    drop(right);
    let guard = mutex.try_lock().expect("dropping the mapped guard unlocks");
    assert_eq!((guard.left, guard.right.as_str()), (1, "ab"));
}

#[test]
fn a_mapped_guard_hands_the_lock_to_the_next_waiter() {
    let mutex = Mutex::new((0u8, 0u8));
    let mapped = MutexGuard::map(mutex.try_lock().unwrap(), |pair| &mut pair.1);
    let mut waiter = Manual::new(mutex.lock());
    waiter.pending();
    drop(mapped);
    assert_eq!(waiter.wakes(), 1);
    drop(waiter.ready());
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(*mutex.try_lock().unwrap(), [1, 2]);
    assert_eq!(mutex.into_inner(), [1, 2]);
    let mutex: Mutex<u8> = Mutex::default();
    assert_eq!(mutex.into_inner(), 0);
    assert_eq!(Mutex::from(7).into_inner(), 7);
}

#[test]
fn blocking_lock_from_a_std_thread_waits_for_an_async_holder() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let mut guard = mutex.clone().lock_owned().await;
            let (started_tx, started_rx) = futures_channel::oneshot::channel();
            let thread = std::thread::spawn({
                let mutex = mutex.clone();
                move || {
                    started_tx.send(()).unwrap();
                    mutex.blocking_lock().push("thread");
                    mutex.clone().blocking_lock_owned().push("thread again");
                }
            });
            started_rx.await.unwrap();
            // The thread is (about to be) parked on the lock; let it wait a
            // while, then finish with the guard.
            sleep(Duration::from_millis(20)).await;
            guard.push("task");
            drop(guard);
            let joined = corium::task::spawn_blocking(move || thread.join());
            joined.await.unwrap().unwrap();
            assert_eq!(*mutex.lock().await, ["task", "thread", "thread again"]);
        });
    });
}

#[test]
fn a_cancelled_queued_lock_passes_the_lock_on() {
    let mutex = Mutex::new(0);
    let guard = mutex.try_lock().unwrap();
    let mut first = Manual::new(mutex.lock());
    let mut second = Manual::new(mutex.lock());
    first.pending();
    second.pending();
    drop(guard); // hands the lock to `first`
    assert_eq!((first.wakes(), second.wakes()), (1, 0));
    drop(first); // ...which is cancelled before it looks
    assert_eq!(second.wakes(), 1, "the lock must pass on, not be lost");
    let guard = second.ready();
    assert!(mutex.try_lock().is_err());
    drop(guard);
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn a_cancelled_handed_lock_with_no_one_behind_unlocks() {
    let mutex = Mutex::new(0);
    let guard = mutex.try_lock().unwrap();
    let mut waiter = Manual::new(mutex.lock());
    waiter.pending();
    drop(guard);
    assert!(mutex.try_lock().is_err(), "promised to the waiter");
    drop(waiter);
    assert!(
        mutex.try_lock().is_ok(),
        "the lock was lost with the waiter"
    );
}

#[test]
fn a_cancelled_waiting_lock_leaves_the_others_in_order() {
    let mutex = Mutex::new(0);
    let guard = mutex.try_lock().unwrap();
    let mut a = Manual::new(mutex.lock());
    let mut b = Manual::new(mutex.lock());
    let mut c = Manual::new(mutex.lock());
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    drop(guard);
    assert_eq!((a.wakes(), c.wakes()), (1, 0));
    drop(a.ready());
    assert_eq!(c.wakes(), 1);
    drop(c.ready());
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn a_timed_out_lock_in_a_task_does_not_keep_the_lock() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let mutex = Arc::new(Mutex::new(0));
            let guard = mutex.clone().lock_owned().await;
            let gave_up = corium::time::timeout(Duration::from_millis(5), mutex.lock()).await;
            assert!(gave_up.is_err());
            let next = corium::spawn({
                let mutex = mutex.clone();
                async move { *mutex.lock().await += 1 }
            });
            yield_now().await;
            drop(guard);
            next.await.unwrap();
            assert_eq!(*mutex.lock().await, 1);
        });
    });
}

// ---- RwLock ---------------------------------------------------------------

#[test]
fn many_readers_hold_the_lock_at_once() {
    let lock = RwLock::new(3);
    let readers: Vec<_> = (0..100).map(|_| lock.try_read().unwrap()).collect();
    assert!(readers.iter().all(|r| **r == 3));
    assert!(lock.try_write().is_err());
    assert_eq!(format!("{lock:?}"), "RwLock { data: 3 }");
    drop(readers);
    assert!(lock.try_write().is_ok());
}

#[test]
fn reading_tasks_hold_the_lock_together_across_await() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            const READERS: usize = 5;
            let lock = Arc::new(RwLock::new("shared"));
            let inside = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..READERS)
                .map(|_| {
                    let (lock, inside) = (lock.clone(), inside.clone());
                    corium::spawn(async move {
                        let guard = lock.read().await;
                        inside.fetch_add(1, SeqCst);
                        // Every reader is inside before any leaves.
                        yield_until(|| inside.load(SeqCst) == READERS).await;
                        assert_eq!(*guard, "shared");
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}

#[test]
fn a_writer_excludes_readers_and_writers() {
    let lock = RwLock::new(0);
    let mut writer = lock.try_write().unwrap();
    *writer = 1;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
    let mut reader = Manual::new(lock.read());
    let mut other_writer = Manual::new(lock.write());
    reader.pending();
    other_writer.pending();
    drop(writer);
    assert_eq!((reader.wakes(), other_writer.wakes()), (1, 0));
    let read = reader.ready();
    assert_eq!(*read, 1);
    other_writer.pending();
    drop(read);
    assert_eq!(other_writer.wakes(), 1);
    let mut write = other_writer.ready();
    *write = 2;
    drop(write);
    assert_eq!(*lock.try_read().unwrap(), 2);
}

#[test]
fn a_writer_waits_for_every_reader_to_leave() {
    let lock = RwLock::new(0);
    let (r1, r2) = (lock.try_read().unwrap(), lock.try_read().unwrap());
    let mut writer = Manual::new(lock.write());
    writer.pending();
    drop(r1);
    assert_eq!(writer.wakes(), 0, "one reader is still inside");
    writer.pending();
    drop(r2);
    assert_eq!(writer.wakes(), 1);
    drop(writer.ready());
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let early = lock.try_read().unwrap();
    let mut writer = Manual::new(lock.write());
    writer.pending();
    assert!(
        lock.try_read().is_err(),
        "a reader overtook the queued writer"
    );
    let mut late = Manual::new(lock.read());
    late.pending();
    drop(early);
    assert_eq!((writer.wakes(), late.wakes()), (1, 0));
    let mut write = writer.ready();
    late.pending();
    *write = 7;
    drop(write);
    assert_eq!(late.wakes(), 1);
    assert_eq!(*late.ready(), 7);
}

#[test]
fn a_cancelled_queued_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(0);
    let early = lock.try_read().unwrap();
    let mut writer = Manual::new(lock.write());
    writer.pending();
    let mut late = Manual::new(lock.read());
    late.pending();
    drop(writer);
    assert_eq!(
        late.wakes(),
        1,
        "the readers behind a cancelled writer are stuck"
    );
    let late = late.ready();
    assert!(lock.try_read().is_ok(), "readers share again");
    drop((early, late));
    assert!(lock.try_write().is_ok());
}

#[test]
fn a_cancelled_writer_handed_the_lock_passes_it_on() {
    let lock = RwLock::new(0);
    let held = lock.try_write().unwrap();
    let mut writer = Manual::new(lock.write());
    let mut reader_a = Manual::new(lock.read());
    let mut reader_b = Manual::new(lock.read());
    writer.pending();
    reader_a.pending();
    reader_b.pending();
    drop(held);
    assert_eq!(writer.wakes(), 1);
    drop(writer);
    assert_eq!((reader_a.wakes(), reader_b.wakes()), (1, 1));
    let (a, b) = (reader_a.ready(), reader_b.ready());
    assert!(lock.try_write().is_err());
    drop((a, b));
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_lets_readers_in_and_keeps_writers_out() {
    let lock = RwLock::new(0);
    let mut write = lock.try_write().unwrap();
    let mut reader = Manual::new(lock.read());
    reader.pending();
    *write = 9;
    let read: RwLockReadGuard<'_, i32> = write.downgrade();
    assert_eq!(*read, 9);
    assert_eq!(reader.wakes(), 1, "a downgrade wakes the waiting readers");
    let other = reader.ready();
    assert_eq!(*other, 9);
    assert!(lock.try_write().is_err());
    drop(read);
    assert!(
        lock.try_write().is_err(),
        "the other reader is still inside"
    );
    drop(other);
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_keeps_a_queued_writer_waiting_until_the_reader_leaves() {
    let lock = RwLock::new(0);
    let mut write = lock.try_write().unwrap();
    let mut writer = Manual::new(lock.write());
    writer.pending();
    *write = 1;
    let read = write.downgrade();
    assert_eq!(writer.wakes(), 0, "a writer got in between the downgrade");
    writer.pending();
    assert_eq!(*read, 1);
    drop(read);
    assert_eq!(writer.wakes(), 1);
    drop(writer.ready());
}

#[test]
fn owned_guards_move_into_tasks_and_downgrade() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let lock = Arc::new(RwLock::new(Vec::new()));
            let mut write: OwnedRwLockWriteGuard<Vec<u32>> = lock.clone().write_owned().await;
            assert!(lock.clone().try_read_owned().is_err());
            let writer = corium::spawn(async move {
                sleep(Duration::from_millis(5)).await;
                write.push(1);
                let read: OwnedRwLockReadGuard<Vec<u32>> = write.downgrade();
                sleep(Duration::from_millis(5)).await;
                assert_eq!(*read, [1]);
            });
            let read = lock.clone().read_owned().await;
            assert_eq!(*read, [1], "the reader waited for the writer");
            drop(read);
            writer.await.unwrap();
            let mut write = lock.clone().try_write_owned().unwrap();
            write.push(2);
            drop(write);
            let read = lock.clone().try_read_owned().unwrap();
            assert_eq!(*read, [1, 2]);
            assert_eq!(format!("{read:?}"), "[1, 2]");
        });
    });
}

#[test]
fn blocking_read_and_write_from_std_threads() {
    bounded(WATCHDOG, || {
        let lock = Arc::new(RwLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        *lock.blocking_write() += 1;
                        assert!(*lock.blocking_read() >= 1);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.blocking_read(), 4_000);
    });
}

#[test]
fn rwlock_get_mut_and_into_inner_need_no_lock() {
    let mut lock = RwLock::new(String::from("a"));
    lock.get_mut().push('b');
    assert_eq!(*lock.try_read().unwrap(), "ab");
    assert_eq!(lock.into_inner(), "ab");
    assert_eq!(RwLock::<u8>::default().into_inner(), 0);
    assert_eq!(RwLock::from(4).into_inner(), 4);
}

// ---- Contention -----------------------------------------------------------

/// A counter whose increment is a separate read and write, so two holders
/// inside at once would lose an update (or trip `inside`).
#[derive(Default)]
struct Counter {
    value: u64,
}

impl Counter {
    fn bump(&mut self, inside: &Exclusive) {
        inside.enter();
        let value = self.value;
        std::hint::black_box(&value);
        self.value = value + 1;
        inside.leave();
    }
}

#[test]
fn mutex_counts_exactly_under_threads_and_tasks_at_once() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 25_000;
    const TASKS: usize = 50;
    const PER_TASK: u64 = 200;
    for_each_flavor(|flavor| {
        bounded(WATCHDOG, move || {
            let mutex = Arc::new(Mutex::new(Counter::default()));
            let inside = Arc::new(Exclusive::default());
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (mutex, inside) = (mutex.clone(), inside.clone());
                    std::thread::spawn(move || {
                        for _ in 0..PER_THREAD {
                            mutex.blocking_lock().bump(&inside);
                        }
                    })
                })
                .collect();
            run(build(flavor), {
                let (mutex, inside) = (mutex.clone(), inside.clone());
                async move {
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let (mutex, inside) = (mutex.clone(), inside.clone());
                            corium::spawn(async move {
                                for round in 0..PER_TASK {
                                    let mut guard = mutex.lock().await;
                                    if round % 4 == 0 {
                                        // The whole section, yield included,
                                        // is exclusive.
                                        inside.enter();
                                        let value = guard.value;
                                        yield_now().await;
                                        guard.value = value + 1;
                                        inside.leave();
                                    } else {
                                        guard.bump(&inside);
                                    }
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                }
            });
            for thread in threads {
                thread.join().unwrap();
            }
            let total = THREADS as u64 * PER_THREAD + TASKS as u64 * PER_TASK;
            assert_eq!(mutex.blocking_lock().value, total);
        });
    });
}

#[test]
fn rwlock_counts_exactly_and_readers_never_see_a_half_write() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 25_000;
    bounded(WATCHDOG, || {
        // A writer updates both halves; a reader must see them equal.
        let lock = Arc::new(RwLock::new((0u64, 0u64)));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    corium::block_on(async {
                        for round in 0..PER_THREAD {
                            if round % 4 == t as u64 % 4 {
                                let pair = lock.read().await;
                                assert_eq!(pair.0, pair.1, "a reader saw a half-done write");
                            }
                            let mut pair = lock.write().await;
                            pair.0 += 1;
                            if round % 64 == 0 {
                                yield_now().await;
                            }
                            pair.1 += 1;
                        }
                    });
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let pair = *lock.blocking_read();
        assert_eq!(pair, (100_000, 100_000));
    });
}

#[test]
fn a_std_thread_and_tasks_share_an_rwlock() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let lock = Arc::new(RwLock::new(0u64));
            let thread = std::thread::spawn({
                let lock = lock.clone();
                move || {
                    for _ in 0..5_000 {
                        *lock.blocking_write() += 1;
                    }
                }
            });
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    let lock = lock.clone();
                    corium::spawn(async move {
                        for _ in 0..500 {
                            let mut guard = lock.write().await;
                            yield_now().await;
                            *guard += 1;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            corium::task::spawn_blocking(move || thread.join().unwrap())
                .await
                .unwrap();
            assert_eq!(*lock.read().await, 10_000);
        });
    });
}

// ---- Auto traits ----------------------------------------------------------

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn guards_are_send_and_sync_when_their_contents_are() {
    assert_send::<MutexGuard<'static, Vec<u8>>>();
    assert_sync::<MutexGuard<'static, Vec<u8>>>();
    assert_send::<OwnedMutexGuard<Vec<u8>>>();
    assert_sync::<OwnedMutexGuard<Vec<u8>>>();
    assert_send::<MappedMutexGuard<'static, Vec<u8>>>();
    assert_sync::<MappedMutexGuard<'static, Vec<u8>>>();
    assert_send::<RwLockReadGuard<'static, Vec<u8>>>();
    assert_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    assert_send::<RwLockWriteGuard<'static, Vec<u8>>>();
    assert_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    assert_send::<OwnedRwLockReadGuard<Vec<u8>>>();
    assert_sync::<OwnedRwLockReadGuard<Vec<u8>>>();
    assert_send::<OwnedRwLockWriteGuard<Vec<u8>>>();
    assert_sync::<OwnedRwLockWriteGuard<Vec<u8>>>();

    assert_send::<Mutex<Vec<u8>>>();
    assert_sync::<Mutex<Vec<u8>>>();
    assert_sync::<Mutex<std::cell::Cell<u8>>>(); // Send is enough for a mutex
    assert_send::<RwLock<Vec<u8>>>();
    assert_sync::<RwLock<Vec<u8>>>();
}

#[test]
fn lock_futures_are_send_so_tasks_that_await_them_can_be_spawned() {
    fn assert_send_future<F: Future + Send>(_: F) {}
    let mutex = Arc::new(Mutex::new(Vec::<u8>::new()));
    let lock = Arc::new(RwLock::new(Vec::<u8>::new()));
    assert_send_future(mutex.lock());
    assert_send_future(mutex.clone().lock_owned());
    assert_send_future(lock.read());
    assert_send_future(lock.write());
    assert_send_future(lock.clone().read_owned());
    assert_send_future(lock.clone().write_owned());
}

/// Answers "is `T: Sync`?" at run time for a concrete type (autoref
/// specialisation), so a guard that is `Sync` when it must not be fails
/// a test instead of stopping the build.
struct SyncProbe<T: ?Sized>(PhantomData<T>);

trait IsSync {
    fn is_sync(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> IsSync for SyncProbe<T> {}

trait IsNotSync {
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> IsNotSync for &SyncProbe<T> {}

macro_rules! is_sync {
    ($t:ty) => {
        (&SyncProbe::<$t>(PhantomData)).is_sync()
    };
}

/// `Sync` but not `Send`: a value that must stay on the thread that owns it
/// (as a `std::sync::MutexGuard` must).
struct PinnedToThread(#[allow(dead_code)] PhantomData<std::sync::MutexGuard<'static, ()>>);

#[test]
fn the_sync_probe_tells_sync_from_not_sync() {
    assert!(is_sync!(u8));
    assert!(is_sync!(PinnedToThread));
    assert!(!is_sync!(std::cell::Cell<u8>));
    assert!(!is_sync!(Mutex<PinnedToThread>), "a mutex of a !Send value");
}

#[test]
fn a_mutex_guard_is_not_sync_when_its_value_is_not_send() {
    assert!(!is_sync!(MutexGuard<'static, PinnedToThread>));
    assert!(!is_sync!(OwnedMutexGuard<PinnedToThread>));
}
