//! The cooperative budget reaches `corium::sync`: a task whose receives or
//! acquires are always ready still yields, so it cannot starve the other
//! tasks on its thread (as tokio's primitives do).

mod util;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use corium::sync::{broadcast, mpsc, Mutex, Semaphore};

const OPS: usize = 10_000;

/// Runs `busy` (which calls `step` `OPS` times, each always ready) beside a
/// task that raises a flag, and returns after how many steps the busy task
/// first saw the flag: `None` if it never yielded.
fn steps_before_the_other_task_ran<F, Fut>(busy: F) -> Option<usize>
where
    F: FnOnce(Arc<AtomicBool>) -> Fut + Send + 'static,
    Fut: Future<Output = Option<usize>> + Send + 'static,
{
    util::run(util::rt(), async move {
        let flag = Arc::new(AtomicBool::new(false));
        let busy = corium::spawn(busy(flag.clone()));
        corium::spawn(async move { flag.store(true, Ordering::SeqCst) });
        busy.await.unwrap()
    })
}

fn first_seen(flag: &AtomicBool, step: usize, seen: &mut Option<usize>) {
    if seen.is_none() && flag.load(Ordering::SeqCst) {
        *seen = Some(step);
    }
}

#[test]
fn a_receiver_of_a_full_channel_yields_to_other_tasks() {
    let seen = steps_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        (0..OPS).for_each(|i| tx.send(i).unwrap());
        let mut seen = None;
        for step in 0..OPS {
            assert_eq!(rx.recv().await, Some(step));
            first_seen(&flag, step, &mut seen);
        }
        seen
    });
    assert!(seen.is_some(), "the receiving task never yielded");
}

#[test]
fn a_broadcast_receiver_with_values_waiting_yields_to_other_tasks() {
    let seen = steps_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = broadcast::channel(OPS);
        (0..OPS).for_each(|i| {
            tx.send(i).unwrap();
        });
        let mut seen = None;
        for step in 0..OPS {
            assert_eq!(rx.recv().await.unwrap(), step);
            first_seen(&flag, step, &mut seen);
        }
        seen
    });
    assert!(seen.is_some(), "the receiving task never yielded");
}

#[test]
fn a_task_locking_a_free_mutex_in_a_loop_yields_to_other_tasks() {
    let seen = steps_before_the_other_task_ran(|flag| async move {
        let mutex = Mutex::new(0);
        let mut seen = None;
        for step in 0..OPS {
            *mutex.lock().await += 1;
            first_seen(&flag, step, &mut seen);
        }
        seen
    });
    assert!(seen.is_some(), "the locking task never yielded");
}

#[test]
fn a_task_acquiring_free_permits_in_a_loop_yields_to_other_tasks() {
    let seen = steps_before_the_other_task_ran(|flag| async move {
        let sem = Semaphore::new(1);
        let mut seen = None;
        for step in 0..OPS {
            drop(sem.acquire().await.unwrap());
            first_seen(&flag, step, &mut seen);
        }
        seen
    });
    assert!(seen.is_some(), "the acquiring task never yielded");
}

#[test]
fn outside_a_runtime_there_is_no_budget_to_run_out_of() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    (0..OPS).for_each(|i| tx.send(i).unwrap());
    let received = futures_util::FutureExt::now_or_never(async {
        let mut n = 0;
        while n < OPS {
            rx.recv().await.unwrap();
            n += 1;
        }
        n
    });
    assert_eq!(received, Some(OPS));
}

/// A `blocking_*` call on a thread that runs the runtime's tasks would
/// stall them all (and hang for good if the value comes from one of
/// them): it panics with advice instead. On the blocking pool it works.
#[test]
fn blocking_calls_panic_on_a_runtime_thread_and_work_on_the_blocking_pool() {
    let message = util::expect_panic(|| {
        util::run(util::rt(), async {
            let (_tx, rx) = corium::sync::oneshot::channel::<u8>();
            rx.blocking_recv()
        })
    });
    assert!(
        message.contains("spawn_blocking"),
        "unhelpful message: {message}"
    );

    let received = util::run(util::rt(), async {
        let (tx, rx) = corium::sync::oneshot::channel();
        let waiter = corium::task::spawn_blocking(move || rx.blocking_recv());
        tx.send(7).unwrap();
        waiter.await.unwrap()
    });
    assert_eq!(received, Ok(7));
}
