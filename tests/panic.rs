//! Panics: a panicking task or blocking closure becomes a `JoinError` with
//! its payload, the runtime carries on, and `block_on` passes a panic on.

mod util;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::task::{spawn_blocking, JoinError};
use corium::time::sleep;
use futures_channel::oneshot;
use util::{
    bounded, build, build_paused, expect_panic, for_each_flavor, for_each_paused_flavor, run,
    yield_until, DropCounter,
};

/// The error of a task that panicked with `message`.
fn panicked_with(message: &'static str) -> JoinError {
    run(util::rt(), async move {
        corium::spawn(async move {
            panic!("{}", message);
        })
        .await
        .unwrap_err()
    })
}

#[test]
fn a_panicking_task_gives_a_join_error_with_its_payload() {
    for_each_flavor(|flavor| {
        let err = run(build(flavor), async {
            corium::spawn(async {
                panic!("boom");
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    });
}

#[test]
fn a_formatted_panic_message_is_a_string_payload() {
    let err = panicked_with("boom");
    let payload = err.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom")
    );
}

#[test]
fn the_runtime_keeps_running_other_tasks_after_a_panic() {
    for_each_paused_flavor(|flavor| {
        let drops = DropCounter::new();
        let probe = drops.probe();
        run(build_paused(flavor), async move {
            let (tx, rx) = oneshot::channel::<u32>();
            let waiting = corium::spawn(async move { rx.await.unwrap() * 2 });
            let panicking = corium::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_millis(5)).await;
                panic!("boom");
            });
            assert!(panicking.await.unwrap_err().is_panic());
            tx.send(21).unwrap();
            assert_eq!(waiting.await.unwrap(), 42);
            let after = corium::spawn(async {
                sleep(Duration::from_millis(5)).await;
                "still running"
            });
            assert_eq!(after.await.unwrap(), "still running");
        });
        // The panicking future's locals were dropped by the unwind.
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn a_panicking_blocking_closure_gives_a_join_error() {
    for_each_flavor(|flavor| {
        let err = run(build(flavor), async {
            spawn_blocking(|| -> u32 { panic!("blocking boom") })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic());
        assert_eq!(
            err.into_panic().downcast_ref::<&str>(),
            Some(&"blocking boom")
        );
    });
}

#[test]
fn a_panic_while_dropping_an_aborted_future_is_reported_not_propagated() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    for_each_flavor(|flavor| {
        let test = async {
            let armed = Arc::new(AtomicBool::new(false));
            let arming = armed.clone();
            let task = corium::spawn(async move {
                let _bomb = PanicOnDrop;
                arming.store(true, SeqCst);
                std::future::pending::<()>().await;
            });
            // On the multi-thread flavor another worker polls the task, so
            // wait until `_bomb` exists rather than assume one yield does it.
            yield_until(|| armed.load(SeqCst)).await;
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"drop boom"));
            assert_eq!(corium::spawn(async { 1 }).await.unwrap(), 1);
        };
        run(build(flavor), async { corium::spawn(test).await.unwrap() });
    });
}

#[test]
fn join_error_display_and_debug_say_what_happened() {
    let err = panicked_with("boom");
    let display = err.to_string();
    assert!(display.contains("panicked"), "{display}");
    assert!(display.contains("boom"), "{display}");
    let debug = format!("{err:?}");
    assert!(debug.to_lowercase().contains("panic"), "{debug}");
    assert!(debug.contains("boom"), "{debug}");

    let cancelled = run(util::rt(), async {
        let task = corium::spawn(std::future::pending::<()>());
        task.abort();
        task.await.unwrap_err()
    });
    let display = cancelled.to_string();
    assert!(display.contains("cancelled"), "{display}");
    let debug = format!("{cancelled:?}");
    assert!(debug.to_lowercase().contains("cancelled"), "{debug}");
    assert!(
        cancelled.try_into_panic().is_err(),
        "a cancellation has no payload"
    );
}

#[test]
fn a_panic_in_the_block_on_future_reaches_the_caller() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let message = expect_panic(|| runtime.block_on(async { panic!("outer boom") }));
        assert_eq!(message, "outer boom");
        // Dropping the runtime would hang (see below): leak it.
        std::mem::forget(runtime);
    });
}

#[test]

fn the_runtime_survives_a_panic_in_the_block_on_future() {
    for_each_flavor(|flavor| {
        bounded(Duration::from_secs(5), move || {
            let drops = DropCounter::new();
            let runtime = build(flavor);
            let probe = drops.probe();
            runtime.spawn(async move {
                let _probe = probe;
                std::future::pending::<()>().await;
            });
            expect_panic(|| runtime.block_on(async { panic!("outer boom") }));
            assert_eq!(runtime.block_on(async { 1 + 1 }), 2, "still usable");
            drop(runtime);
            assert_eq!(drops.count(), 1, "the pending task was dropped");
        });
    });
}
