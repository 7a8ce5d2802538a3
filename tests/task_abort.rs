//! Aborting tasks (`JoinHandle::abort`, `AbortHandle`), `is_finished`, and
//! detaching a task by dropping its `JoinHandle`.

mod util;

use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::runtime::Handle;
use corium::task::yield_now;
use corium::time::{sleep, Instant};
use futures_channel::oneshot;
use util::{
    build, build_paused, for_each_flavor, for_each_paused_flavor, hold_workers, run, yield_until,
    DropCounter,
};

#[test]
fn abort_drops_a_task_blocked_on_a_long_timer_and_reports_cancelled() {
    for_each_paused_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        let test = async move {
            let start = Instant::now();
            let task = corium::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_secs(3600)).await;
            });
            yield_now().await; // the task registers its timer
            assert_eq!(Handle::current().reactor().num_timers(), 1);
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
            assert!(!err.is_panic());
            // Its future, and with it the timer, is gone; the paused clock
            // never had to reach the hour.
            assert_eq!(Handle::current().reactor().num_timers(), 0);
            assert_eq!(Instant::now(), start);
        };
        run(build_paused(flavor), async {
            corium::spawn(test).await.unwrap()
        });
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_handle_aborts_the_task() {
    for_each_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        run(build(flavor), async move {
            let task = corium::spawn(async move {
                let _probe = probe;
                pending::<()>().await;
            });
            let abort = task.abort_handle();
            assert_eq!(abort.id(), task.id());
            assert!(!abort.is_finished());
            abort.clone().abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled());
            assert!(abort.is_finished());
        });
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_from_another_thread_reaches_a_parked_runtime() {
    for_each_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        run(build(flavor), async move {
            let task = corium::spawn(async move {
                let _probe = probe;
                pending::<()>().await;
            });
            let abort = task.abort_handle();
            let aborter = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                abort.abort();
            });
            // The runtime parks with nothing to do until the abort comes.
            assert!(task.await.unwrap_err().is_cancelled());
            aborter.join().unwrap();
        });
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_after_completion_leaves_the_output() {
    for_each_flavor(|flavor| {
        let test = async {
            let task = corium::spawn(async { 7 });
            yield_until(|| task.is_finished()).await;
            task.abort();
            task.abort_handle().abort();
            assert_eq!(task.await.unwrap(), 7);
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn is_finished_turns_true_when_the_task_completes() {
    for_each_flavor(|flavor| {
        let test = async {
            let (tx, rx) = oneshot::channel::<u32>();
            let task = corium::spawn(async move { rx.await.unwrap() + 1 });
            yield_now().await;
            assert!(!task.is_finished(), "still waiting for its message");
            tx.send(41).unwrap();
            yield_until(|| task.is_finished()).await;
            assert_eq!(task.await.unwrap(), 42);
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn is_finished_turns_true_when_the_task_is_aborted() {
    for_each_flavor(|flavor| {
        let test = async {
            let task = corium::spawn(pending::<()>());
            assert!(!task.is_finished());
            task.abort();
            yield_until(|| task.is_finished()).await;
            assert!(task.await.unwrap_err().is_cancelled());
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn dropping_the_join_handle_detaches_the_task() {
    for_each_paused_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        let delivered = run(build_paused(flavor), async move {
            let (tx, rx) = oneshot::channel();
            let task = corium::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_millis(10)).await;
                tx.send(42).unwrap();
            });
            drop(task);
            rx.await
        });
        assert_eq!(delivered, Ok(42));
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_before_the_first_poll_never_runs_the_task() {
    for_each_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        let polled = Arc::new(AtomicBool::new(false));
        let was_polled = polled.clone();
        run(build(flavor), async move {
            // Another worker could poll the task between spawn and abort.
            let held = hold_workers(&Handle::current());
            let task = corium::spawn(async move {
                let _probe = probe;
                was_polled.store(true, SeqCst);
            });
            task.abort();
            drop(held);
            assert!(task.await.unwrap_err().is_cancelled());
        });
        assert!(!polled.load(SeqCst));
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_of_a_task_spawned_before_block_on_never_runs_it() {
    for_each_flavor(|flavor| {
        let drops = DropCounter::new();
        let polled = Arc::new(AtomicBool::new(false));
        let runtime = build(flavor);
        // The workers run from build on: hold them so none polls the task
        // between spawn and abort.
        let held = hold_workers(runtime.handle());
        let task = runtime.spawn({
            let probe = drops.probe();
            let polled = polled.clone();
            async move {
                let _probe = probe;
                polled.store(true, SeqCst);
            }
        });
        task.abort();
        drop(held);
        let err = run(runtime, task).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!polled.load(SeqCst));
        assert_eq!(drops.count(), 1);
    });
}
