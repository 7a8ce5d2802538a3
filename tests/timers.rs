//! Timers: `sleep`, `sleep_until`, `Sleep::reset`, `timeout`, `interval` and
//! its missed-tick behaviours, and the paused test clock.

mod util;

use std::future::pending;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corium::runtime::Handle;
use corium::task::yield_now;
use corium::time::{
    advance, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, Instant,
    MissedTickBehavior,
};
use util::{bounded, build, build_paused, for_each_flavor, for_each_paused_flavor, poll_once, run};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn timers_registered() -> usize {
    Handle::current().reactor().num_timers()
}

#[test]
fn sleeps_fire_in_deadline_order_at_their_exact_deadlines() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let fired = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = [30, 10, 20, 50, 40]
                .into_iter()
                .map(|n| {
                    let fired = fired.clone();
                    corium::spawn(async move {
                        sleep(ms(n)).await;
                        fired.lock().unwrap().push((n, Instant::now() - start));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let fired = fired.lock().unwrap().clone();
            let expected: Vec<_> = [10, 20, 30, 40, 50].map(|n| (n, ms(n))).to_vec();
            assert_eq!(fired, expected);
        });
    });
}

#[test]
fn sleep_until_completes_at_the_deadline() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let deadline = Instant::now() + Duration::from_secs(1);
            let sleep = sleep_until(deadline);
            assert_eq!(sleep.deadline(), deadline);
            assert!(!sleep.is_elapsed());
            sleep.await;
            assert_eq!(Instant::now(), deadline);
        });
    });
}

#[test]
fn sleep_until_a_past_deadline_completes_at_once() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            advance(ms(10)).await;
            sleep_until(start).await;
            assert_eq!(Instant::now(), start + ms(10));
        });
    });
}

#[test]
fn reset_to_an_earlier_deadline_fires_earlier() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut sleep = pin!(sleep(Duration::from_secs(10)));
            assert!(poll_once(sleep.as_mut()).await.is_pending(), "registered");
            sleep.as_mut().reset(start + Duration::from_secs(1));
            sleep.await;
            assert_eq!(Instant::now() - start, Duration::from_secs(1));
        });
    });
}

#[test]
fn reset_to_a_later_deadline_fires_later() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut sleep = pin!(sleep(Duration::from_secs(10)));
            assert!(poll_once(sleep.as_mut()).await.is_pending(), "registered");
            sleep.as_mut().reset(start + Duration::from_secs(20));
            sleep.await;
            assert_eq!(Instant::now() - start, Duration::from_secs(20));
        });
    });
}

#[test]
fn reset_after_completion_makes_a_sleep_pending_again() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut sleep = pin!(sleep(ms(10)));
            sleep.as_mut().await;
            assert!(sleep.is_elapsed());
            sleep.as_mut().reset(start + ms(25));
            assert!(!sleep.is_elapsed());
            sleep.as_mut().await;
            assert_eq!(Instant::now() - start, ms(25));
        });
    });
}

#[test]
fn timeout_elapses_on_a_future_that_never_completes() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let result = timeout(ms(10), pending::<()>()).await;
            let elapsed: Elapsed = result.unwrap_err();
            assert_eq!(elapsed.to_string(), "deadline has elapsed");
            assert_eq!(Instant::now() - start, ms(10));
        });
    });
}

#[test]
fn timeout_at_elapses_at_its_deadline() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let deadline = Instant::now() + ms(70);
            assert!(timeout_at(deadline, pending::<()>()).await.is_err());
            assert_eq!(Instant::now(), deadline);
        });
    });
}

#[test]
fn timeout_returns_the_output_of_a_future_that_finishes_first() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let result = timeout(Duration::from_secs(1), async {
                sleep(ms(10)).await;
                "done"
            })
            .await;
            assert_eq!(result, Ok("done"));
            assert_eq!(Instant::now() - start, ms(10));
            // The deadline's timer went with the `Timeout`.
            assert_eq!(timers_registered(), 0);
        });
    });
}

#[test]
fn timeout_on_an_always_ready_future_is_ok_even_with_a_zero_duration() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
            assert_eq!(timeout(Duration::MAX, async { 6 }).await, Ok(6));
        });
    });
}

#[test]
fn timeout_elapses_on_a_task_that_keeps_yielding() {
    for_each_flavor(|flavor| {
        bounded(Duration::from_secs(10), move || {
            run(build(flavor), async {
                let busy = corium::spawn(timeout(ms(20), async {
                    loop {
                        yield_now().await;
                    }
                }));
                assert!(busy.await.unwrap().is_err());
            });
        });
    });
}

#[test]

fn timeout_elapses_on_a_block_on_future_that_keeps_yielding() {
    for_each_flavor(|flavor| {
        bounded(Duration::from_secs(10), move || {
            let result = run(build(flavor), async {
                let busy = async {
                    loop {
                        yield_now().await;
                    }
                };
                timeout(ms(20), busy).await
            });
            assert!(result.is_err());
        });
    });
}

#[test]
fn interval_ticks_at_once_then_every_period() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut ticks = interval(ms(10));
            assert_eq!(ticks.period(), ms(10));
            for n in 0..5 {
                let scheduled = ticks.tick().await;
                assert_eq!(scheduled, start + ms(10 * n));
                assert_eq!(Instant::now(), start + ms(10 * n));
            }
        });
    });
}

#[test]
fn interval_at_starts_at_the_given_instant() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut ticks = interval_at(start + ms(100), ms(10));
            assert_eq!(ticks.tick().await, start + ms(100));
            assert_eq!(Instant::now(), start + ms(100));
            assert_eq!(ticks.tick().await, start + ms(110));
        });
    });
}

/// Ticks `behavior` after a 35 ms stall in a 10 ms interval: returns each
/// tick's (scheduled, now) as offsets from the start.
async fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<(Duration, Duration)> {
    let start = Instant::now();
    let mut ticks = interval(ms(10));
    ticks.set_missed_tick_behavior(behavior);
    assert_eq!(ticks.missed_tick_behavior(), behavior);
    ticks.tick().await;
    // The task is busy for 35 ms: three ticks (10, 20, 30) are missed.
    advance(ms(35)).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let scheduled = ticks.tick().await;
        seen.push((scheduled - start, Instant::now() - start));
    }
    seen
}

#[test]
fn missed_ticks_burst_then_keep_the_schedule() {
    for_each_paused_flavor(|flavor| {
        let seen = run(
            build_paused(flavor),
            ticks_after_a_stall(MissedTickBehavior::Burst),
        );
        let expected = [(10, 35), (20, 35), (30, 35), (40, 40)].map(|(s, n)| (ms(s), ms(n)));
        assert_eq!(seen, expected);
    });
}

#[test]
fn missed_ticks_delay_restarts_the_schedule_from_now() {
    for_each_paused_flavor(|flavor| {
        let seen = run(
            build_paused(flavor),
            ticks_after_a_stall(MissedTickBehavior::Delay),
        );
        let expected = [(10, 35), (45, 45), (55, 55), (65, 65)].map(|(s, n)| (ms(s), ms(n)));
        assert_eq!(seen, expected);
    });
}

#[test]
fn missed_ticks_skip_to_the_next_tick_of_the_schedule() {
    for_each_paused_flavor(|flavor| {
        let seen = run(
            build_paused(flavor),
            ticks_after_a_stall(MissedTickBehavior::Skip),
        );
        let expected = [(10, 35), (40, 40), (50, 50), (60, 60)].map(|(s, n)| (ms(s), ms(n)));
        assert_eq!(seen, expected);
    });
}

#[test]
fn interval_reset_restarts_one_period_from_now() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut ticks = interval(ms(10));
            ticks.tick().await;
            advance(ms(3)).await;
            ticks.reset();
            assert_eq!(ticks.tick().await, start + ms(13));
            assert_eq!(Instant::now(), start + ms(13));
            assert_eq!(ticks.tick().await, start + ms(23));
            assert_eq!(Instant::now(), start + ms(23));
        });
    });
}

#[test]
fn interval_reset_immediately_ticks_now() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let mut ticks = interval(ms(10));
            ticks.tick().await;
            advance(ms(4)).await;
            ticks.reset_immediately();
            assert_eq!(ticks.tick().await, start + ms(4));
            assert_eq!(Instant::now(), start + ms(4));
            assert_eq!(ticks.tick().await, start + ms(14));
        });
    });
}

#[test]
fn dropping_a_sleep_cancels_its_timer() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            // The task registers an hour-long timer, then gives up on it.
            let task = corium::spawn(async {
                let mut long = Box::pin(sleep(Duration::from_secs(3600)));
                assert!(poll_once(long.as_mut()).await.is_pending());
                assert_eq!(timers_registered(), 1);
                drop(long);
                "finished"
            });
            assert_eq!(task.await.unwrap(), "finished");
            assert_eq!(timers_registered(), 0);
            // Nothing waits on the clock, so it never jumped an hour ahead.
            assert_eq!(Instant::now(), start);
        });
    });
}

#[test]
fn a_timed_out_sleep_is_cancelled_with_its_timeout() {
    for_each_paused_flavor(|flavor| {
        run(build_paused(flavor), async {
            let start = Instant::now();
            let result = timeout(ms(5), sleep(Duration::from_secs(3600))).await;
            assert!(result.is_err());
            assert_eq!(timers_registered(), 0);
            assert_eq!(Instant::now() - start, ms(5));
        });
    });
}

#[test]
fn paused_clock_jumps_to_the_next_timer_when_idle() {
    for_each_paused_flavor(|flavor| {
        let wall = std::time::Instant::now();
        run(build_paused(flavor), async {
            let start = Instant::now();
            sleep(Duration::from_secs(3600)).await;
            assert_eq!(Instant::now() - start, Duration::from_secs(3600));
        });
        assert!(
            wall.elapsed() < Duration::from_secs(10),
            "an hour of paused time took {:?} of wall time",
            wall.elapsed()
        );
    });
}

#[test]
fn advance_fires_the_timers_that_came_due() {
    for_each_paused_flavor(|flavor| {
        // In a task: `yield_now` in a `block_on` future starves the tasks
        // (see wakeups.rs).
        let in_task = async {
            let start = Instant::now();
            let sleeper = corium::spawn(async move {
                sleep(ms(30)).await;
                Instant::now() - start
            });
            yield_now().await;
            advance(ms(50)).await;
            assert!(sleeper.is_finished());
            // It woke when `advance` moved the clock past its deadline.
            assert_eq!(sleeper.await.unwrap(), ms(50));
        };
        run(build_paused(flavor), async {
            corium::spawn(in_task).await.unwrap()
        });
    });
}

#[test]
fn real_clock_sleep_waits_at_least_its_duration() {
    for_each_flavor(|flavor| {
        run(build(flavor), async {
            let wall = std::time::Instant::now();
            let start = Instant::now();
            sleep(ms(20)).await;
            assert!(wall.elapsed() >= ms(20), "woke after {:?}", wall.elapsed());
            assert!(start.elapsed() >= ms(20));
        });
    });
}

#[test]

fn a_timer_set_from_another_thread_wakes_the_parked_runtime() {
    for_each_flavor(|flavor| {
        bounded(Duration::from_secs(5), move || {
            let runtime = build(flavor);
            let handle = runtime.handle().clone();
            let (done_tx, done_rx) = futures_channel::oneshot::channel();
            // This thread sleeps on the runtime's timer while the main thread
            // drives the runtime (parked, with no timer of its own).
            let sleeper = std::thread::spawn(move || {
                handle.block_on(async { sleep(ms(20)).await });
                done_tx.send(()).unwrap();
            });
            run(runtime, async { done_rx.await.unwrap() });
            sleeper.join().unwrap();
        });
    });
}

#[test]
fn multi_thread_refuses_a_paused_clock() {
    let error = corium::runtime::Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("start_paused needs the current-thread runtime"),
        "{error}"
    );
    let runtime = corium::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let message = runtime.block_on(async {
        corium::spawn(async { util::expect_panic(corium::time::pause) })
            .await
            .unwrap()
    });
    assert!(
        message.contains("time::pause needs the current-thread runtime"),
        "{message}"
    );
}

#[test]
fn timers_fire_on_every_worker_of_the_multi_thread_flavor() {
    // Each worker has its own wheel; a task may register its timer on one
    // worker and be woken by another's reactor after it migrated. Every
    // sleep must end, and never before its deadline.
    bounded(Duration::from_secs(20), || {
        let runtime = corium::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
        run(runtime, async move {
            let mut tasks = Vec::new();
            for i in 0..400u64 {
                let threads = threads.clone();
                tasks.push(corium::spawn(async move {
                    for round in 0..3 {
                        let length = Duration::from_millis(1 + (i * 7 + round) % 20);
                        let start = std::time::Instant::now();
                        corium::time::sleep(length).await;
                        assert!(start.elapsed() >= length, "woke early");
                        threads.lock().unwrap().insert(std::thread::current().id());
                        // Move about: a yield may land this task elsewhere.
                        yield_now().await;
                    }
                    let timed_out =
                        corium::time::timeout(Duration::from_millis(2), pending::<()>());
                    timed_out.await.unwrap_err();
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let ran_on = threads.lock().unwrap().len();
            eprintln!("sleeps ended on {ran_on} threads");
            assert!(ran_on >= 2, "every sleep ended on one worker of four");
        });
    });
}
