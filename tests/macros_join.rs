//! `corium::join!` and `corium::try_join!`: the futures run concurrently on
//! one task, each polled once per wake-up from a rotating start (or in
//! order with `biased;`), outputs come back as a tuple in declared order,
//! and `try_join!` stops at the first error, dropping the rest.

mod util;

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::{pending, ready, Future};
use std::task::Poll;
use std::time::Duration;

use corium::sync::oneshot;
use corium::task::yield_now;
use corium::time::{sleep, timeout};
use util::{build, count_polls, for_each_flavor_within, rt, run, Deferred, DropCounter};

/// Longest any test may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh current-thread runtime, failing after
/// [`LIMIT`].
fn block_on<F: Future>(future: F) -> F::Output {
    run(
        rt(),
        async move { timeout(LIMIT, future).await.expect("hung") },
    )
}

/// Two futures that each wait for the other's message: they finish only if
/// they run at the same time.
async fn ping_pong() -> (&'static str, &'static str) {
    let (ping_tx, ping_rx) = oneshot::channel();
    let (pong_tx, pong_rx) = oneshot::channel();
    corium::join!(
        async move {
            ping_tx.send("ping").unwrap();
            pong_rx.await.unwrap()
        },
        async move {
            let ping = ping_rx.await.unwrap();
            pong_tx.send("pong").unwrap();
            ping
        },
    )
}

// ----- join! -----

#[test]
fn join_runs_its_futures_concurrently_on_every_flavor() {
    for_each_flavor_within(LIMIT, |flavor| {
        let outputs = run(build(flavor), async {
            timeout(Duration::from_secs(5), ping_pong()).await
        });
        assert_eq!(outputs, Ok(("pong", "ping")));
    });
}

#[test]
fn join_waits_for_real_timers_at_the_same_time() {
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let started = std::time::Instant::now();
            let outputs = corium::join!(
                async {
                    sleep(Duration::from_millis(250)).await;
                    'a'
                },
                async {
                    sleep(Duration::from_millis(250)).await;
                    'b'
                },
            );
            assert_eq!(outputs, ('a', 'b'));
            // One after the other takes 500 ms at least.
            let elapsed = started.elapsed();
            assert!(
                elapsed < Duration::from_millis(500),
                "the sleeps ran in turn: {elapsed:?}"
            );
        });
    });
}

#[test]
fn join_of_nothing_is_unit_and_of_one_future_a_one_tuple() {
    block_on(async {
        let nothing: () = corium::join!();
        assert_eq!(nothing, ());
        let one: (u32,) = corium::join!(ready(1));
        assert_eq!(one, (1,));
    });
}

#[test]
fn join_returns_outputs_in_declared_order_whatever_finishes_first() {
    let outputs = block_on(async {
        corium::join!(
            async {
                for _ in 0..3 {
                    yield_now().await;
                }
                "slow"
            },
            ready(2),
            async { String::from("three") },
        )
    });
    assert_eq!(outputs, ("slow", 2, String::from("three")));
}

#[test]
fn join_polls_a_finished_future_no_more() {
    let (quick, quick_polls) = count_polls(ready(1));
    let (slow, slow_polls) = count_polls(async {
        for _ in 0..3 {
            yield_now().await;
        }
    });
    block_on(async { corium::join!(quick, slow) });
    assert_eq!(quick_polls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(slow_polls.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// The order in which three always-pending futures are polled over three
/// wake-ups of a `join!`, `biased` or not.
fn poll_order(biased: bool) -> Vec<usize> {
    let polled = RefCell::new(Vec::new());
    let probe = |index: usize| {
        let polled = &polled;
        std::future::poll_fn(move |cx| {
            polled.borrow_mut().push(index);
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        })
    };
    block_on(async {
        let three_wakeups = async {
            for _ in 0..2 {
                yield_now().await;
            }
        };
        let joined = async {
            if biased {
                corium::join!(biased; probe(0), probe(1), probe(2))
            } else {
                corium::join!(probe(0), probe(1), probe(2))
            }
        };
        // The first to finish ends the wait; the join never does.
        let mut joined = std::pin::pin!(joined);
        let mut three_wakeups = std::pin::pin!(three_wakeups);
        std::future::poll_fn(|cx| {
            let _ = joined.as_mut().poll(cx);
            three_wakeups.as_mut().poll(cx)
        })
        .await;
    });
    polled.into_inner()
}

#[test]
fn join_starts_each_wakeup_at_the_next_future() {
    assert_eq!(poll_order(false), [0, 1, 2, 1, 2, 0, 2, 0, 1]);
}

#[test]
fn biased_join_polls_in_declared_order_every_time() {
    assert_eq!(poll_order(true), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
}

#[test]
fn join_borrows_locals_and_accepts_into_future() {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let shared = String::from("shared");
    let outputs = block_on(async {
        corium::join!(
            async {
                left.push(shared.len());
            },
            async {
                right.push(shared.as_str());
            },
            Deferred(5),
        )
    });
    assert_eq!(outputs, ((), (), 5));
    assert_eq!((left, right), (vec![6], vec!["shared"]));
}

// ----- try_join! -----

#[test]
fn try_join_returns_every_ok_value_in_order() {
    let outputs = block_on(async {
        corium::try_join!(
            async {
                yield_now().await;
                Ok::<_, String>(1)
            },
            ready(Ok("two")),
            async { Ok(3.0) },
        )
    });
    assert_eq!(outputs, Ok((1, "two", 3.0)));
}

#[test]
fn try_join_of_nothing_is_ok_unit_and_of_one_future_a_one_tuple() {
    block_on(async {
        let nothing: Result<(), ()> = corium::try_join!();
        assert_eq!(nothing, Ok(()));
        let one: Result<(u32,), ()> = corium::try_join!(ready(Ok(1)));
        assert_eq!(one, Ok((1,)));
    });
}

#[test]
fn try_join_stops_at_the_first_error_and_drops_the_others() {
    let dropped = DropCounter::new();
    let (result, dropped_on_return) = block_on(async {
        let probe = dropped.probe();
        let result: Result<((), u32), &str> = corium::try_join!(
            async move {
                let _held = probe;
                pending::<Result<(), &str>>().await
            },
            async {
                yield_now().await;
                Err("failed")
            },
        );
        (result, dropped.count())
    });
    assert_eq!(result, Err("failed"));
    assert_eq!(
        dropped_on_return, 1,
        "the pending future outlived try_join!"
    );
}

#[test]
fn try_join_returns_the_first_error_to_happen() {
    let result = block_on(async {
        corium::try_join!(
            async {
                for _ in 0..3 {
                    yield_now().await;
                }
                Err::<(), _>("late")
            },
            async {
                yield_now().await;
                Err::<(), _>("early")
            },
        )
    });
    assert_eq!(result, Err("early"));
}

#[test]
fn try_join_stops_a_real_timer_on_error_on_every_flavor() {
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let (tx, rx) = oneshot::channel::<Result<u32, String>>();
            corium::spawn(async move {
                sleep(Duration::from_millis(10)).await;
                tx.send(Err("refused".into())).unwrap();
            });
            let result = corium::try_join!(
                async {
                    sleep(Duration::from_secs(10)).await;
                    Ok(0)
                },
                async { rx.await.unwrap() },
            );
            assert_eq!(result, Err("refused".to_string()));
        });
    });
}

#[test]
fn try_join_with_an_infallible_error_type_compiles_without_warnings() {
    #[deny(warnings)]
    async fn infallible() -> Result<(u32, u32), Infallible> {
        corium::try_join!(async { Ok(1) }, async { Ok(2) })
    }
    assert_eq!(block_on(infallible()), Ok((1, 2)));
}

#[test]
fn join_and_try_join_run_in_spawned_tasks_on_every_flavor() {
    // `spawn` takes only `Send` futures: the joins' own state must be.
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let joined = corium::spawn(ping_pong());
            let tried = corium::spawn(async {
                corium::try_join!(async { Ok::<_, ()>(1) }, async {
                    sleep(Duration::from_millis(5)).await;
                    Ok(2)
                })
            });
            assert_eq!(joined.await.unwrap(), ("pong", "ping"));
            assert_eq!(tried.await.unwrap(), Ok((1, 2)));
        });
    });
}
