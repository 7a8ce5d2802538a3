//! Wakeups: wakes from other threads reach a parked runtime and are never
//! lost, `Handle::spawn` and `Handle::block_on` from plain threads, a wake
//! during a poll, and `yield_now` fairness.

mod util;

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use corium::task::yield_now;
use corium::time::sleep;
use futures_channel::{mpsc as async_mpsc, oneshot};
use futures_util::StreamExt;
use util::{bounded, build, count_polls, for_each_flavor, on_current_thread_only, run};

const LIMIT: Duration = Duration::from_secs(10);

/// A value another thread raises, and the waker of the task waiting on it.
#[derive(Default)]
struct Signal {
    value: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    /// Waits until the value reaches `target`.
    fn reached(self: &Arc<Self>, target: usize) -> impl Future<Output = ()> + Send + 'static {
        let signal = self.clone();
        poll_fn(move |cx| {
            // Store the waker before looking, so a raise in between wakes it.
            *signal.waker.lock().unwrap() = Some(cx.waker().clone());
            if signal.value.load(SeqCst) >= target {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    fn raise(&self, value: usize) {
        self.value.store(value, SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    fn waker(&self) -> Option<Waker> {
        self.waker.lock().unwrap().clone()
    }
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_task() {
    for_each_flavor(|flavor| {
        let answer = bounded(LIMIT, move || {
            run(build(flavor), async {
                let (tx, rx) = oneshot::channel();
                let task = corium::spawn(async move { rx.await.unwrap() });
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    tx.send(7).unwrap();
                });
                task.await.unwrap()
            })
        });
        assert_eq!(answer, 7);
    });
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_block_on() {
    for_each_flavor(|flavor| {
        let answer = bounded(LIMIT, move || {
            run(build(flavor), async {
                let (tx, rx) = oneshot::channel();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    tx.send(8).unwrap();
                });
                rx.await.unwrap()
            })
        });
        assert_eq!(answer, 8);
    });
}

#[test]
fn ten_thousand_remote_wakes_end_in_one_completion() {
    for_each_flavor(|flavor| {
        let polls = bounded(LIMIT, move || {
            run(build(flavor), async {
                let signal = Arc::new(Signal::default());
                let (waiter, polls) = count_polls(signal.reached(1));
                let task = corium::spawn(waiter);
                let waker_thread = std::thread::spawn({
                    let signal = signal.clone();
                    move || {
                        let waker = loop {
                            match signal.waker() {
                                Some(waker) => break waker,
                                None => std::thread::yield_now(),
                            }
                        };
                        for _ in 0..10_000 {
                            waker.wake_by_ref();
                        }
                        signal.raise(1);
                    }
                });
                task.await.unwrap();
                waker_thread.join().unwrap();
                polls.load(SeqCst)
            })
        });
        // Spurious wakes may be merged, never multiplied.
        assert!((2..=10_002).contains(&polls), "{polls} polls");
    });
}

/// 1,000 rounds of "the thread raises the value, the task sees it and
/// acknowledges": one lost wake stalls a round and fails the test.
fn ping_pong(flavor: util::Flavor, in_a_task: bool) {
    const ROUNDS: usize = 1_000;
    bounded(LIMIT, move || {
        let signal = Arc::new(Signal::default());
        let (ack_tx, ack_rx) = mpsc::channel();
        let raiser = std::thread::spawn({
            let signal = signal.clone();
            move || {
                for round in 1..=ROUNDS {
                    signal.raise(round);
                    let acked = ack_rx.recv_timeout(Duration::from_secs(5));
                    assert_eq!(acked, Ok(round), "round {round} was lost");
                }
            }
        });
        let rounds = async move {
            for round in 1..=ROUNDS {
                signal.reached(round).await;
                ack_tx.send(round).unwrap();
            }
        };
        run(build(flavor), async move {
            if in_a_task {
                corium::spawn(rounds).await.unwrap();
            } else {
                rounds.await;
            }
        });
        raiser.join().unwrap();
    });
}

#[test]
fn remote_wakes_of_a_task_are_never_lost() {
    for_each_flavor(|flavor| ping_pong(flavor, true));
}

#[test]
fn remote_wakes_of_block_on_are_never_lost() {
    for_each_flavor(|flavor| ping_pong(flavor, false));
}

#[test]
fn handle_spawn_from_many_plain_threads() {
    const THREADS: u64 = 4;
    const TASKS: u64 = 1_000;
    for_each_flavor(|flavor| {
        let results = bounded(LIMIT, move || {
            let runtime = build(flavor);
            let (handles_tx, mut handles_rx) = async_mpsc::unbounded();
            let spawners: Vec<_> = (0..THREADS)
                .map(|t| {
                    let handle = runtime.handle().clone();
                    let handles_tx = handles_tx.clone();
                    std::thread::spawn(move || {
                        for i in 0..TASKS {
                            let task = handle.spawn(async move { t * TASKS + i });
                            handles_tx.unbounded_send(task).unwrap();
                        }
                    })
                })
                .collect();
            drop(handles_tx);
            // The runtime runs the tasks while the threads still spawn them.
            let mut results = run(runtime, async move {
                let mut results = Vec::new();
                while let Some(task) = handles_rx.next().await {
                    results.push(task.await.unwrap());
                }
                results
            });
            for spawner in spawners {
                spawner.join().unwrap();
            }
            results.sort_unstable();
            results
        });
        assert_eq!(results, (0..THREADS * TASKS).collect::<Vec<_>>());
    });
}

#[test]
fn handle_block_on_from_a_plain_thread_drives_the_runtime() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let early = runtime.spawn(async { 1 });
        let handle = runtime.handle().clone();
        let answer = bounded(LIMIT, move || {
            // Nobody else drives the runtime: this thread must run the tasks
            // and the timers.
            handle.block_on(async {
                let late = corium::spawn(async {
                    sleep(Duration::from_millis(10)).await;
                    2
                });
                early.await.unwrap() + late.await.unwrap()
            })
        });
        assert_eq!(answer, 3);
        drop(runtime);
    });
}

/// Wakes itself during its first poll and returns `Pending`; completes on
/// the poll that follows.
fn wakes_itself_once() -> impl Future<Output = usize> + Send {
    let mut polls = 0;
    poll_fn(move |cx| {
        polls += 1;
        if polls == 1 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(polls)
        }
    })
}

#[test]
fn a_wake_during_a_poll_polls_again() {
    for_each_flavor(|flavor| {
        let polls = bounded(LIMIT, move || {
            run(build(flavor), async {
                corium::spawn(wakes_itself_once()).await.unwrap()
            })
        });
        assert_eq!(polls, 2);
        let polls = bounded(LIMIT, move || run(build(flavor), wakes_itself_once()));
        assert_eq!(polls, 2);
    });
}

#[test]
fn yield_now_lets_the_other_tasks_run() {
    // The exact interleaving holds where one thread runs both tasks.
    on_current_thread_only(|flavor| {
        let order = run(build(flavor), async {
            let order = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let order = order.clone();
                    corium::spawn(async move {
                        for i in 0..3 {
                            order.lock().unwrap().push(format!("{name}{i}"));
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let order = order.lock().unwrap().clone();
            order
        });
        assert_eq!(order, ["a0", "b0", "a1", "b1", "a2", "b2"]);
    });
}

#[test]

fn yield_now_in_block_on_lets_the_tasks_run() {
    // Where `block_on`'s thread is the one that runs tasks; on the
    // multi-thread flavor the workers run them meanwhile anyway.
    on_current_thread_only(|flavor| {
        bounded(LIMIT, move || {
            run(build(flavor), async {
                let task = corium::spawn(async { "ran" });
                for _ in 0..1_000 {
                    if task.is_finished() {
                        break;
                    }
                    yield_now().await;
                }
                assert!(task.is_finished(), "1000 yields and the task never ran");
                assert_eq!(task.await.unwrap(), "ran");
            });
        });
    });
}
