//! The `Mutex` and `Semaphore` benchmarks.
//!
//! - `mutex_uncontended`: one task locks, increments the counter and
//!   unlocks, in a loop: the fast path.
//! - `mutex_contended`: 4 tasks each lock, increment, call the executor's
//!   `yield_now` *while holding the guard*, and unlock, in a loop. Holding
//!   the lock across the yield is what makes the others queue even on one
//!   thread, so every acquisition goes through the primitive's wait list
//!   and wake; a fair lock (corium::sync, tokio::sync) hands it over in
//!   FIFO order, an unfair one (async-lock) may let the releasing task
//!   take it straight back. The figure includes one executor yield per
//!   lock, the same in every column of a row.
//! - `semaphore_uncontended`: one task acquires and drops a permit, in a
//!   loop, on a semaphore of 1.
//! - `semaphore_contended`: 4 tasks share 2 permits; each acquires, yields
//!   while holding the permit and releases, in a loop.
//!
//! The final counter is checked, so a broken lock fails the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::prims::Locks;
use crate::rt::Rt;

/// `count` lock/increment/unlock cycles in one task; returns the time.
pub async fn mutex_uncontended<L: Locks>(count: usize) -> Duration {
    let mutex = L::mutex(0);
    let start = Instant::now();
    for _ in 0..count {
        *L::lock(&mutex).await += 1;
    }
    let took = start.elapsed();
    assert_eq!(*L::lock(&mutex).await, count as u64, "lost increments");
    took
}

/// `tasks` tasks doing `count / tasks` lock/increment/yield/unlock cycles
/// each; returns the time until all are done.
pub async fn mutex_contended<R: Rt, L: Locks>(tasks: usize, count: usize) -> Duration {
    let per_task = count / tasks;
    let mutex = Arc::new(L::mutex(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let mutex = Arc::clone(&mutex);
            R::spawn(async move {
                for _ in 0..per_task {
                    let mut guard = L::lock(&mutex).await;
                    *guard += 1;
                    R::yield_now().await;
                    drop(guard);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    let took = start.elapsed();
    let total = *L::lock(&mutex).await;
    assert_eq!(total, (per_task * tasks) as u64, "lost increments");
    took
}

/// `count` acquire/release cycles in one task on a 1-permit semaphore;
/// returns the time.
pub async fn semaphore_uncontended<L: Locks>(count: usize) -> Duration {
    let semaphore = L::semaphore(1);
    let start = Instant::now();
    for _ in 0..count {
        drop(L::acquire(&semaphore).await);
    }
    start.elapsed()
}

/// `tasks` tasks sharing `permits` permits, each doing `count / tasks`
/// acquire/yield/release cycles; returns the time until all are done.
pub async fn semaphore_contended<R: Rt, L: Locks>(
    tasks: usize,
    permits: usize,
    count: usize,
) -> Duration {
    let per_task = count / tasks;
    let semaphore = Arc::new(L::semaphore(permits));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let semaphore = Arc::clone(&semaphore);
            R::spawn(async move {
                let mut held = 0u64;
                for _ in 0..per_task {
                    let permit = L::acquire(&semaphore).await;
                    held += 1;
                    R::yield_now().await;
                    drop(permit);
                }
                held
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await;
    }
    let took = start.elapsed();
    assert_eq!(total, (per_task * tasks) as u64, "lost acquisitions");
    took
}
