//! The runtime context: what needs a runtime and says so outside one,
//! entering a runtime, nested `block_on`, task ids, task-locals,
//! `spawn_local` and `corium::block_on`.

mod util;

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corium::runtime::{Builder, Handle};
use corium::task::{self, yield_now};
use corium::time::sleep;
use util::{
    bounded, build, build_paused, expect_panic, for_each_flavor, for_each_paused_flavor,
    on_current_thread_only, run,
};

#[test]
fn spawn_outside_a_runtime_panics_with_a_helpful_message() {
    let message = expect_panic(|| corium::spawn(async {}));
    assert!(message.contains("no Corium runtime"), "{message}");
}

#[test]
fn sleep_outside_a_runtime_panics_with_a_helpful_message() {
    let message = expect_panic(|| corium::time::sleep(Duration::from_millis(1)));
    assert!(message.contains("no Corium runtime"), "{message}");
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_with_a_helpful_message() {
    let message = expect_panic(|| task::spawn_blocking(|| ()));
    assert!(message.contains("no Corium runtime"), "{message}");
}

#[test]
fn handle_try_current_is_err_outside_and_ok_inside() {
    for_each_flavor(|flavor| {
        let err = Handle::try_current().unwrap_err();
        assert!(err.to_string().contains("no Corium runtime"), "{err}");
        let runtime = build(flavor);
        run(runtime, async {
            assert!(Handle::try_current().is_ok(), "in block_on");
            let in_task = corium::spawn(async { Handle::try_current().is_ok() });
            assert!(in_task.await.unwrap(), "in a task");
        });
        assert!(Handle::try_current().is_err(), "after block_on returns");
    });
}

#[test]
fn block_on_inside_a_runtime_panics_with_a_helpful_message() {
    for_each_flavor(|flavor| {
        let other = build(flavor);
        let message = run(build(flavor), async {
            let message = expect_panic(|| other.block_on(async {}));
            // The runtime that refused carries on.
            assert_eq!(corium::spawn(async { 1 }).await.unwrap(), 1);
            message
        });
        assert!(message.contains("inside a Corium runtime"), "{message}");
    });
}

#[test]

fn a_runtime_dropped_inside_another_leaves_the_outer_one_running() {
    for_each_flavor(|flavor| {
        let (message, after) = bounded(Duration::from_secs(5), move || {
            run(build(flavor), async {
                // `corium::block_on` builds a runtime, refuses, and drops it.
                let message = expect_panic(|| corium::block_on(async {}));
                drop(build(flavor));
                let after = corium::spawn(async { 1 }).await.unwrap();
                (message, after)
            })
        });
        assert!(message.contains("inside a Corium runtime"), "{message}");
        assert_eq!(after, 1);
    });
}

#[test]
fn enter_makes_spawn_and_timers_work_from_plain_code() {
    for_each_paused_flavor(|flavor| {
        let runtime = build_paused(flavor);
        let task = {
            let _guard = runtime.enter();
            assert!(Handle::try_current().is_ok());
            let delay = sleep(Duration::from_secs(1));
            corium::spawn(async move {
                delay.await;
                "entered"
            })
        };
        assert!(Handle::try_current().is_err(), "the guard left the runtime");
        assert_eq!(run(runtime, task).unwrap(), "entered");
    });
}

#[test]
fn task_id_is_unique_per_task_and_matches_the_join_handle() {
    for_each_flavor(|flavor| {
        run(build(flavor), async {
            let tasks: Vec<_> = (0..3)
                .map(|_| corium::spawn(async { task::id() }))
                .collect();
            let handle_ids: Vec<_> = tasks.iter().map(|t| t.id()).collect();
            let mut seen = Vec::new();
            for (task, handle_id) in tasks.into_iter().zip(handle_ids) {
                let id = task.await.unwrap();
                assert_eq!(id, handle_id);
                assert!(!seen.contains(&id), "{id} seen twice");
                seen.push(id);
            }
        });
        assert_eq!(task::try_id(), None, "outside any task");
    });
}

corium::task_local! {
    static REQUEST: u32;
    static NAME: String;
}

#[test]
fn task_local_is_set_only_inside_its_scope() {
    for_each_paused_flavor(|flavor| {
        assert!(REQUEST.try_with(|r| *r).is_err());
        run(build_paused(flavor), async {
            assert!(REQUEST.try_with(|r| *r).is_err(), "no scope yet");
            REQUEST
                .scope(7, async {
                    assert_eq!(REQUEST.get(), 7);
                    assert_eq!(REQUEST.try_with(|r| r + 1), Ok(8));
                    sleep(Duration::from_millis(10)).await;
                    yield_now().await;
                    assert_eq!(REQUEST.get(), 7, "survives .await");
                })
                .await;
            assert!(REQUEST.try_with(|r| *r).is_err(), "scope ended");
        });
        assert_eq!(REQUEST.sync_scope(3, || REQUEST.get()), 3);
    });
}

#[test]
fn task_locals_are_per_task() {
    for_each_flavor(|flavor| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        run(build(flavor), async move {
            let tasks: Vec<_> = ["a", "b", "c"]
                .into_iter()
                .map(|name| {
                    let seen = recorded.clone();
                    corium::spawn(NAME.scope(name.to_string(), async move {
                        for _ in 0..3 {
                            // The tasks interleave here.
                            yield_now().await;
                            seen.lock().unwrap().push((name, NAME.get()));
                        }
                    }))
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 9);
        for (name, value) in seen.iter() {
            assert_eq!(name, value);
        }
    });
}

#[test]
fn block_on_inside_a_worker_panics_but_block_in_place_allows_it() {
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (refused, allowed) = runtime.block_on(async {
        corium::spawn(async {
            let handle = Handle::current();
            // Straight from a task, it would stall this worker's queue.
            let refused = expect_panic(|| handle.block_on(async {}));
            // After handing the queue away, waiting is fine.
            let allowed = task::block_in_place(|| {
                handle.block_on(async { corium::spawn(async { 6 * 7 }).await.unwrap() })
            });
            (refused, allowed)
        })
        .await
        .unwrap()
    });
    assert!(
        refused.contains("block_on called inside a Corium runtime"),
        "{refused}"
    );
    assert_eq!(allowed, 42);
}

#[test]
fn spawn_local_on_the_multi_thread_flavor_says_why() {
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let message = runtime.block_on(async {
        let task = corium::spawn(async { expect_panic(|| task::spawn_local(async {})) });
        task.await.unwrap()
    });
    assert!(message.contains("cannot run a !Send future"), "{message}");
}

#[test]
fn spawn_local_runs_a_non_send_future() {
    // Current-thread only: the multi-thread flavor refuses `spawn_local`
    // (see `spawn_local_on_the_multi_thread_flavor_says_why`).
    on_current_thread_only(|flavor| {
        let answer = run(build(flavor), async {
            let shared = Rc::new(41);
            let task = task::spawn_local({
                let shared = shared.clone();
                async move {
                    yield_now().await;
                    *shared + 1
                }
            });
            task.await.unwrap()
        });
        assert_eq!(answer, 42);
    });
}

#[test]
fn corium_block_on_runs_a_future_on_a_fresh_runtime() {
    let answer = corium::block_on(async {
        let task = corium::spawn(async {
            sleep(Duration::from_millis(1)).await;
            40
        });
        task.await.unwrap() + 2
    });
    assert_eq!(answer, 42);
    assert!(Handle::try_current().is_err(), "no runtime left behind");
}
