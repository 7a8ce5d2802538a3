//! `JoinSet`: joining in completion order, aborting, detaching, shutdown,
//! cancel safety, and joining many tasks.

mod util;

use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use corium::task::{yield_now, JoinSet};
use corium::time::{sleep, Instant};
use futures_channel::oneshot;
use util::{
    bounded, build, build_paused, count_polls, expect_panic, for_each_flavor_within,
    for_each_paused_flavor_within, panic_message, poll_once, run, yield_until, DropCounter,
};

/// How long any one test may take before it counts as hung: a set that
/// loses a wakeup never returns, and the watchdog turns that into a failure.
const WATCHDOG: Duration = Duration::from_secs(10);

/// Joins every task of `set`, failing on any error.
async fn join_ok<T>(set: &mut JoinSet<T>) -> Vec<T> {
    let mut outputs = Vec::new();
    while let Some(result) = set.join_next().await {
        outputs.push(result.expect("task succeeds"));
    }
    outputs
}

#[test]
fn join_set_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JoinSet<u32>>();
    assert_send_sync::<JoinSet<String>>();
}

#[test]
fn every_output_comes_back() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let mut outputs = run(build(flavor), async {
            let mut set = JoinSet::new();
            for i in 0..20u32 {
                set.spawn(async move { i * 3 });
            }
            assert_eq!(set.len(), 20);
            let outputs = join_ok(&mut set).await;
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            outputs
        });
        outputs.sort_unstable();
        assert_eq!(outputs, (0..20).map(|i| i * 3).collect::<Vec<u32>>());
    });
}

#[test]
fn an_empty_set_joins_none() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::<u32>::default();
            assert!(set.is_empty());
            assert_eq!(set.len(), 0);
            assert!(set.join_next().await.is_none());
            assert!(set.join_next_with_id().await.is_none());
            assert!(set.try_join_next().is_none());
            assert_eq!(format!("{set:?}"), "JoinSet { len: 0 }");
        });
    });
}

#[test]
fn debug_shows_the_number_of_tasks() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::new();
            set.spawn(pending::<()>());
            set.spawn(pending::<()>());
            assert_eq!(format!("{set:?}"), "JoinSet { len: 2 }");
        });
    });
}

#[test]
fn tasks_come_back_in_completion_order() {
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let (order, elapsed) = run(build_paused(flavor), async {
            let start = Instant::now();
            let mut set = JoinSet::new();
            for ms in [30u64, 10, 50, 20, 40] {
                set.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            let order = join_ok(&mut set).await;
            (order, start.elapsed())
        });
        assert_eq!(order, [10, 20, 30, 40, 50]);
        assert_eq!(elapsed, Duration::from_millis(50));
    });
}

#[test]
fn join_next_with_id_names_the_task() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::new();
            let first = set.spawn(async { "first" });
            let second = set.spawn(async { "second" });
            let mut seen = Vec::new();
            while let Some(result) = set.join_next_with_id().await {
                let (id, output) = result.unwrap();
                let expected = if id == first.id() { "first" } else { "second" };
                assert!(id == first.id() || id == second.id(), "{id:?}");
                assert_eq!(output, expected);
                seen.push(id);
            }
            seen.sort();
            let mut ids = vec![first.id(), second.id()];
            ids.sort();
            assert_eq!(seen, ids);
        });
    });
}

#[test]
fn abort_all_gives_cancelled_errors_and_drops_the_futures() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let drops = DropCounter::new();
        let probes = drops.clone();
        run(build(flavor), async move {
            let mut set = JoinSet::new();
            let mut ids = Vec::new();
            for _ in 0..5 {
                let probe = probes.probe();
                let abort = set.spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                });
                ids.push(abort.id());
            }
            set.abort_all();
            assert_eq!(set.len(), 5, "aborted tasks stay in the set");
            let mut cancelled = Vec::new();
            while let Some(result) = set.join_next().await {
                let err = result.unwrap_err();
                assert!(err.is_cancelled(), "{err:?}");
                assert!(!err.is_panic());
                cancelled.push(err.id());
            }
            cancelled.sort();
            ids.sort();
            assert_eq!(cancelled, ids);
            assert_eq!(probes.count(), 5);
        });
        assert_eq!(drops.count(), 5);
    });
}

#[test]
fn an_abort_handle_aborts_one_task() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::new();
            let doomed = set.spawn(async {
                pending::<()>().await;
                "never"
            });
            set.spawn(async { "kept" });
            doomed.abort();
            let mut kept = Vec::new();
            let mut cancelled = 0;
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(output) => kept.push(output),
                    Err(err) => {
                        assert!(err.is_cancelled());
                        assert_eq!(err.id(), doomed.id());
                        cancelled += 1;
                    }
                }
            }
            assert_eq!(kept, ["kept"]);
            assert_eq!(cancelled, 1);
        });
    });
}

#[test]
fn a_panicking_task_gives_is_panic_and_the_rest_still_join() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("boom in a set") });
            set.spawn(async { 1u32 });
            set.spawn(async { 2u32 });
            let mut outputs = Vec::new();
            let mut panics = Vec::new();
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(output) => outputs.push(output),
                    Err(err) => {
                        assert!(err.is_panic(), "{err:?}");
                        assert!(!err.is_cancelled());
                        panics.push(panic_message(&*err.into_panic()));
                    }
                }
            }
            outputs.sort_unstable();
            assert_eq!(outputs, [1, 2]);
            assert_eq!(panics, ["boom in a set"]);
        });
    });
}

#[test]
fn dropping_the_set_aborts_its_tasks() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let drops = DropCounter::new();
        let probes = drops.clone();
        let test = async move {
            let mut set = JoinSet::new();
            let mut aborts = Vec::new();
            for _ in 0..4 {
                let probe = probes.probe();
                aborts.push(set.spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                }));
            }
            // The tasks run and park; nothing has dropped them yet.
            yield_now().await;
            yield_now().await;
            assert_eq!(probes.count(), 0);
            assert!(aborts.iter().all(|abort| !abort.is_finished()));
            drop(set);
            // The runtime drops each aborted future while it still runs:
            // this is the set's doing, not the runtime's shutdown.
            // (On the multi-thread flavor a task is marked finished a
            // moment after its future is dropped, so wait for both.)
            yield_until(|| probes.count() == 4 && aborts.iter().all(|abort| abort.is_finished()))
                .await;
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
        assert_eq!(drops.count(), 4);
    });
}

#[test]
fn shutdown_aborts_and_waits_for_every_task() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let drops = DropCounter::new();
        let probes = drops.clone();
        let test = async move {
            let mut set = JoinSet::new();
            for _ in 0..3 {
                let probe = probes.probe();
                set.spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                });
            }
            set.spawn(async {}); // one that finishes on its own
            set.shutdown().await;
            assert!(set.is_empty());
            // Every future is gone by the time `shutdown` returns.
            assert_eq!(probes.count(), 3);
            assert!(set.join_next().await.is_none());
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn shutdown_waits_for_a_running_blocking_task() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let started = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (started_in, finished_in) = (started.clone(), finished.clone());
        let test = async move {
            let mut set = JoinSet::new();
            set.spawn_blocking(move || {
                started_in.store(true, SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                finished_in.store(true, SeqCst);
            });
            while !started.load(SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
            // Started closures cannot be aborted: shutdown waits for it.
            set.shutdown().await;
            assert!(finished.load(SeqCst), "shutdown returned before the task");
            assert!(set.is_empty());
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

/// `try_join_next_with_id`, yielding between tries until it has a task.
async fn joined_without_waiting(set: &mut JoinSet<u32>) -> (corium::task::Id, u32) {
    for _ in 0..1_000 {
        if let Some(joined) = set.try_join_next_with_id() {
            return joined.unwrap();
        }
        corium::task::yield_now().await;
    }
    panic!("no task finished after 1000 yields");
}

#[test]
fn try_join_next_returns_only_finished_tasks() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let test = async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<u32>();
            let waiting = set.spawn(async move { rx.await.unwrap() });
            let quick = set.spawn(async { 7u32 });
            // A finished task is joinable once its completion has woken
            // the set, a moment after its handle says finished.
            let first = joined_without_waiting(&mut set).await;
            assert_eq!(first, (quick.id(), 7));
            assert!(set.try_join_next().is_none(), "the other task waits");
            assert_eq!(set.len(), 1);
            tx.send(8).unwrap();
            let second = joined_without_waiting(&mut set).await;
            assert_eq!(second, (waiting.id(), 8));
            assert!(set.is_empty());
            assert!(set.try_join_next().is_none());
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn join_all_returns_the_outputs_in_completion_order() {
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let outputs = run(build_paused(flavor), async {
            let mut set = JoinSet::new();
            for ms in [3u64, 1, 2] {
                set.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            set.join_all().await
        });
        assert_eq!(outputs, [1, 2, 3]);
    });
}

#[test]
fn join_all_re_raises_a_task_panic() {
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        let message = expect_panic(|| {
            run(build_paused(flavor), async move {
                let mut set = JoinSet::new();
                set.spawn(async move {
                    let _probe = probe;
                    sleep(Duration::from_secs(3600)).await;
                    0u32
                });
                set.spawn(async { panic!("join_all must re-raise this") });
                set.join_all().await
            })
        });
        assert_eq!(message, "join_all must re-raise this");
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn detach_all_keeps_the_tasks_running() {
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let drops = DropCounter::new();
        let probes = drops.clone();
        let delivered = run(build_paused(flavor), async move {
            let mut set = JoinSet::new();
            let mut receivers = Vec::new();
            for i in 0..3u32 {
                let (tx, rx) = oneshot::channel();
                let probe = probes.probe();
                set.spawn(async move {
                    let _probe = probe;
                    sleep(Duration::from_millis(10)).await;
                    tx.send(i).unwrap();
                });
                receivers.push(rx);
            }
            set.detach_all();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            drop(set); // must not abort the detached tasks
            let mut delivered = Vec::new();
            for rx in receivers {
                delivered.push(rx.await.expect("detached task ran to the end"));
            }
            delivered
        });
        assert_eq!(delivered, [0, 1, 2]);
        assert_eq!(drops.count(), 3);
    });
}

#[test]
fn a_set_reused_after_detach_all_joins_its_new_tasks() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        run(build(flavor), async {
            let mut set = JoinSet::new();
            set.spawn(async { 1u32 });
            set.spawn(pending::<u32>());
            set.detach_all();
            // New entries reuse the slots of the detached ones.
            set.spawn(async { 10u32 });
            set.spawn(async { 20u32 });
            let mut outputs = join_ok(&mut set).await;
            outputs.sort_unstable();
            assert_eq!(outputs, [10, 20]);
        });
    });
}

#[test]
fn spawn_blocking_joins_with_async_tasks() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let mut outputs = run(build(flavor), async {
            let mut set = JoinSet::new();
            let caller = std::thread::current().id();
            set.spawn_blocking(move || {
                assert_ne!(std::thread::current().id(), caller, "runs on the pool");
                std::thread::sleep(Duration::from_millis(10));
                "blocking"
            });
            set.spawn(async { "async" });
            join_ok(&mut set).await
        });
        outputs.sort_unstable();
        assert_eq!(outputs, ["async", "blocking"]);
    });
}

#[test]
fn spawn_on_and_spawn_blocking_on_use_the_given_runtime() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let runtime = build(flavor);
        let handle = runtime.handle().clone();
        // Outside any runtime: the handle says where the tasks go.
        let mut set = JoinSet::new();
        set.spawn_on(async { 1u32 }, &handle);
        set.spawn_blocking_on(|| 2u32, &handle);
        let mut outputs = run(runtime, async move { join_ok(&mut set).await });
        outputs.sort_unstable();
        assert_eq!(outputs, [1, 2]);
    });
}

#[test]
fn spawn_local_joins_a_non_send_task() {
    // `spawn_local` needs a current-thread runtime.
    let outputs = bounded(WATCHDOG, || {
        run(util::rt(), async {
            let shared = Rc::new(5u32);
            let mut set = JoinSet::new();
            for i in 0..3 {
                let shared = shared.clone();
                set.spawn_local(async move {
                    yield_now().await;
                    Rc::new(*shared + i)
                });
            }
            let mut outputs: Vec<u32> = join_ok(&mut set).await.into_iter().map(|rc| *rc).collect();
            outputs.sort_unstable();
            outputs
        })
    });
    assert_eq!(outputs, [5, 6, 7]);
}

#[test]
fn collect_and_extend_spawn_every_future() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let mut outputs = run(build(flavor), async {
            let mut set: JoinSet<u32> = (0..3).map(|i| async move { i }).collect();
            set.extend((3..5).map(|i| async move { i }));
            assert_eq!(set.len(), 5);
            join_ok(&mut set).await
        });
        outputs.sort_unstable();
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn ten_thousand_tasks_all_join_exactly_once() {
    const TASKS: usize = 10_000;
    for_each_flavor_within(WATCHDOG, |flavor| {
        let outputs = run(build(flavor), async {
            let mut set = JoinSet::new();
            for i in 0..TASKS {
                set.spawn(async move {
                    // Half finish on their first poll, half after a wake.
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    i
                });
            }
            join_ok(&mut set).await
        });
        assert_eq!(outputs.len(), TASKS);
        let mut seen = vec![false; TASKS];
        for i in outputs {
            assert!(!seen[i], "task {i} joined twice");
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
    });
}

#[test]
fn the_joining_task_is_polled_about_once_per_finished_task() {
    const TASKS: u64 = 50;
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let (joiner, polls) = count_polls(async {
            let mut set = JoinSet::new();
            for ms in 1..=TASKS {
                set.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            join_ok(&mut set).await
        });
        let order = run(build_paused(flavor), async {
            corium::spawn(joiner).await.unwrap()
        });
        assert_eq!(order, (1..=TASKS).collect::<Vec<_>>());
        // One poll to start, then at most one per finished task: a set that
        // woke itself while it waited would be polled far more often.
        let polls = polls.load(SeqCst);
        assert!(polls <= TASKS as usize + 1, "{polls} polls");
    });
}

#[test]
fn a_dropped_join_next_loses_no_output() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let test = async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<u32>();
            let task = set.spawn(async move { rx.await.unwrap() });
            {
                let mut next = Box::pin(set.join_next());
                assert!(poll_once(next.as_mut()).await.is_pending());
                // The task finishes, waking the set, while the future that
                // registered for it is alive; then the future is dropped.
                tx.send(42).unwrap();
                yield_until(|| task.is_finished()).await;
            }
            assert_eq!(set.len(), 1);
            assert_eq!(set.join_next().await.unwrap().unwrap(), 42);
            assert!(set.is_empty());
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn a_join_next_dropped_before_the_task_finishes_loses_no_output() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let test = async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<u32>();
            set.spawn(async move { rx.await.unwrap() });
            let mut next = Box::pin(set.join_next());
            assert!(poll_once(next.as_mut()).await.is_pending());
            assert!(poll_once(next.as_mut()).await.is_pending());
            drop(next);
            tx.send(43).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), 43);
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn poll_join_next_reports_pending_then_ready() {
    for_each_flavor_within(WATCHDOG, |flavor| {
        let test = async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<u32>();
            set.spawn(async move { rx.await.unwrap() });
            let first = std::future::poll_fn(|cx| Poll::Ready(set.poll_join_next(cx))).await;
            assert!(first.is_pending());
            tx.send(9).unwrap();
            let next = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
            assert_eq!(next.unwrap().unwrap(), 9);
            let last = std::future::poll_fn(|cx| Poll::Ready(set.poll_join_next(cx))).await;
            assert!(matches!(last, Poll::Ready(None)));
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn a_set_spawned_in_a_task_joins_while_other_tasks_run() {
    // The set's waker is the joining task's: completions reach it whether
    // the set is awaited from a spawned task or from `block_on`.
    for_each_paused_flavor_within(WATCHDOG, |flavor| {
        let counter = Arc::new(AtomicUsize::new(0));
        let seen = counter.clone();
        let total = run(build_paused(flavor), async move {
            let joiner = corium::spawn(async move {
                let mut set = JoinSet::new();
                for _ in 0..10 {
                    let counter = counter.clone();
                    set.spawn(async move {
                        sleep(Duration::from_millis(5)).await;
                        counter.fetch_add(1, SeqCst)
                    });
                }
                join_ok(&mut set).await.len()
            });
            joiner.await.unwrap()
        });
        assert_eq!(total, 10);
        assert_eq!(seen.load(SeqCst), 10);
    });
}
