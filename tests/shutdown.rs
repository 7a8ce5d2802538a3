//! Shutdown: dropping a runtime drops every task's future wherever it
//! waits, join handles outliving it report cancellation, and
//! `shutdown_timeout` / `shutdown_background` never hang on the blocking
//! pool.

mod util;

use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::runtime::Runtime;
use corium::task::{yield_now, JoinHandle};
use corium::time::sleep;
use futures_channel::oneshot;
use util::{
    bounded, build, build_paused, expect_panic, for_each_flavor, for_each_paused_flavor, run,
    DropCounter, Flavor,
};

const SECS_5: Duration = Duration::from_secs(5);

/// A runtime with tasks blocked every way a task can be: on long timers, on
/// futures that never complete, on each other through channel cycles, and
/// queued without ever having run. Returns it, the drop counter of every
/// task's future and how many tasks there are.
fn runtime_with_stuck_tasks(flavor: Flavor) -> (Runtime, DropCounter, usize) {
    let drops = DropCounter::new();
    let runtime = build(flavor);
    let mut spawned = 0;
    for _ in 0..3 {
        let probe = drops.probe();
        runtime.spawn(async move {
            let _probe = probe;
            sleep(Duration::from_secs(3600)).await;
        });
        let probe = drops.probe();
        runtime.spawn(async move {
            let _probe = probe;
            pending::<()>().await;
        });
        // Two tasks, each holding the sender the other waits on.
        let (to_a, from_b) = oneshot::channel::<()>();
        let (to_b, from_a) = oneshot::channel::<()>();
        let probe = drops.probe();
        runtime.spawn(async move {
            let _probe = probe;
            let _to_b = to_b;
            let _ = from_b.await;
            pending::<()>().await;
        });
        let probe = drops.probe();
        runtime.spawn(async move {
            let _probe = probe;
            let _to_a = to_a;
            let _ = from_a.await;
            pending::<()>().await;
        });
        spawned += 4;
    }
    // Let them all run up to where they wait.
    runtime.block_on(async {
        corium::spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    // And one that never ran at all (on the current-thread flavor; a
    // multi-thread worker may run it at once, and it then waits forever).
    let probe = drops.probe();
    runtime.spawn(async move {
        let _probe = probe;
        pending::<()>().await;
    });
    spawned += 1;
    assert_eq!(drops.count(), 0, "every task is still waiting");
    (runtime, drops, spawned)
}

#[test]
fn dropping_the_runtime_drops_every_task_future() {
    for_each_flavor(|flavor| {
        let (runtime, drops, spawned) = runtime_with_stuck_tasks(flavor);
        bounded(SECS_5, move || drop(runtime));
        assert_eq!(drops.count(), spawned);
    });
}

#[test]
fn dropping_the_runtime_on_another_thread_drops_every_task_future() {
    for_each_flavor(|flavor| {
        let (runtime, drops, spawned) = runtime_with_stuck_tasks(flavor);
        let dropper = std::thread::spawn(move || drop(runtime));
        bounded(SECS_5, move || dropper.join().unwrap());
        assert_eq!(drops.count(), spawned);
    });
}

#[test]
fn a_join_handle_outliving_its_runtime_reports_cancelled() {
    for_each_paused_flavor(|flavor| {
        let first = build_paused(flavor);
        let waiting: JoinHandle<()> = first.spawn(async {
            sleep(Duration::from_secs(3600)).await;
        });
        first.block_on(async {
            corium::spawn(yield_now()).await.unwrap();
        });
        // Queued after the last `block_on`: nothing ever runs it.
        let never_ran = first.spawn(async { 5 });
        drop(first);
        assert!(waiting.is_finished());
        let (a, b) = run(build(flavor), async { (waiting.await, never_ran.await) });
        assert!(a.unwrap_err().is_cancelled());
        assert!(b.unwrap_err().is_cancelled());
    });
}

#[test]
fn spawning_through_a_handle_after_shutdown_gives_a_cancelled_task() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let handle = runtime.handle().clone();
        drop(runtime);
        let drops = DropCounter::new();
        let probe = drops.probe();
        let task = handle.spawn(async move {
            let _probe = probe;
            "never"
        });
        assert_eq!(drops.count(), 1, "the future is dropped at once");
        let result = bounded(SECS_5, move || run(build(flavor), task));
        assert!(result.unwrap_err().is_cancelled());
    });
}

#[test]
fn handle_block_on_on_another_thread_panics_when_the_runtime_shuts_down() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let handle = runtime.handle().clone();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let driver = std::thread::spawn(move || {
            expect_panic(|| {
                handle.block_on(async {
                    started_tx.send(()).unwrap();
                    pending::<()>().await
                })
            })
        });
        started_rx.recv().unwrap();
        bounded(SECS_5, move || drop(runtime));
        let message = bounded(SECS_5, move || driver.join().unwrap());
        assert!(message.contains("shut down"), "{message}");
    });
}

#[test]
fn shutdown_timeout_waits_for_blocking_closures_that_finish_in_time() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let finished = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        runtime.spawn_blocking({
            let finished = finished.clone();
            move || {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                finished.store(true, SeqCst);
            }
        });
        started_rx.recv().unwrap();
        bounded(SECS_5, move || {
            runtime.shutdown_timeout(Duration::from_secs(10))
        });
        assert!(finished.load(SeqCst));
    });
}

/// A runtime whose blocking pool is stuck in a five-second closure.
fn runtime_with_stuck_blocking_closure(flavor: Flavor) -> Runtime {
    let runtime = build(flavor);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    runtime.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(5));
    });
    started_rx.recv().unwrap();
    runtime
}

#[test]
fn shutdown_timeout_gives_up_on_a_stuck_blocking_closure() {
    for_each_flavor(|flavor| {
        let runtime = runtime_with_stuck_blocking_closure(flavor);
        let start = std::time::Instant::now();
        runtime.shutdown_timeout(Duration::from_millis(100));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100), "waited only {took:?}");
        assert!(took < Duration::from_secs(4), "waited {took:?}");
    });
}

#[test]
fn shutdown_background_does_not_wait_for_blocking_closures() {
    for_each_flavor(|flavor| {
        let runtime = runtime_with_stuck_blocking_closure(flavor);
        let start = std::time::Instant::now();
        runtime.shutdown_background();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(4), "waited {took:?}");
    });
}

#[test]
fn dropping_the_runtime_does_not_wait_for_blocking_closures() {
    for_each_flavor(|flavor| {
        let runtime = runtime_with_stuck_blocking_closure(flavor);
        let start = std::time::Instant::now();
        drop(runtime);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(4), "waited {took:?}");
    });
}

#[test]
fn queued_blocking_jobs_are_cancelled_at_shutdown() {
    for_each_flavor(|flavor| {
        let runtime = flavor().max_blocking_threads(1).build().unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let running = runtime.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            "ran"
        });
        started_rx.recv().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let queued = runtime.spawn_blocking({
            let ran = ran.clone();
            move || ran.store(true, SeqCst)
        });
        runtime.shutdown_background();
        let (running, queued) = bounded(SECS_5, move || {
            run(build(flavor), async { (running.await, queued.await) })
        });
        assert_eq!(
            running.unwrap(),
            "ran",
            "a running closure is detached, not lost"
        );
        assert!(queued.unwrap_err().is_cancelled());
        assert!(!ran.load(SeqCst));
    });
}
