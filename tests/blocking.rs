//! The blocking pool: `spawn_blocking` results, the thread limit, the
//! runtime context inside a closure, spawning from outside a runtime, and
//! the pool under load: saturation, many submitting threads, shutdown with
//! jobs running and queued, keep-alive, and the paused clock's count of
//! jobs in flight.

mod util;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use corium::runtime::Handle;
use corium::task::{spawn_blocking, yield_now, JoinHandle};
use corium::time::{sleep, timeout};
use util::{
    bounded, build, for_each_flavor, for_each_flavor_within, for_each_paused_flavor_within, run,
    Gate,
};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn spawn_blocking_returns_the_closure_result_from_another_thread() {
    for_each_flavor(|flavor| {
        run(build(flavor), async {
            let runtime_thread = std::thread::current().id();
            let (answer, thread) = spawn_blocking(|| (6 * 7, std::thread::current().id()))
                .await
                .unwrap();
            assert_eq!(answer, 42);
            assert_ne!(thread, runtime_thread, "it ran off the runtime's thread");
        });
    });
}

#[test]
fn blocking_threads_carry_the_configured_name() {
    for_each_flavor(|flavor| {
        let runtime = flavor().thread_name("pool-worker").build().unwrap();
        let name = run(runtime, async {
            spawn_blocking(|| std::thread::current().name().map(str::to_owned))
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("pool-worker"));
    });
}

#[test]
fn many_jobs_share_a_small_pool_and_all_complete() {
    const JOBS: usize = 200;
    const THREADS: usize = 4;
    for_each_flavor(|flavor| {
        let running = Arc::new(AtomicUsize::new(0));
        let most_running = Arc::new(AtomicUsize::new(0));
        let runtime = flavor().max_blocking_threads(THREADS).build().unwrap();
        let results = {
            let (running, most_running) = (running.clone(), most_running.clone());
            bounded(LIMIT, move || {
                run(runtime, async move {
                    let jobs: Vec<_> = (0..JOBS)
                        .map(|i| {
                            let (running, most_running) = (running.clone(), most_running.clone());
                            spawn_blocking(move || {
                                let now = running.fetch_add(1, SeqCst) + 1;
                                most_running.fetch_max(now, SeqCst);
                                std::thread::sleep(Duration::from_millis(1));
                                running.fetch_sub(1, SeqCst);
                                i * 2
                            })
                        })
                        .collect();
                    let mut results = Vec::new();
                    for job in jobs {
                        results.push(job.await.unwrap());
                    }
                    results
                })
            })
        };
        assert_eq!(results, (0..JOBS).map(|i| i * 2).collect::<Vec<_>>());
        let most = most_running.load(SeqCst);
        assert!((1..=THREADS).contains(&most), "{most} ran at once");
    });
}

#[test]
fn a_blocking_closure_runs_inside_the_runtime_context() {
    for_each_flavor(|flavor| {
        let answer = bounded(LIMIT, move || {
            run(build(flavor), async {
                let task = spawn_blocking(|| {
                    let handle = Handle::current();
                    handle.spawn(async {
                        sleep(Duration::from_millis(5)).await;
                        5
                    })
                })
                .await
                .unwrap();
                task.await.unwrap()
            })
        });
        assert_eq!(answer, 5);
    });
}

#[test]

fn a_blocking_closure_can_block_on_the_runtime() {
    for_each_flavor(|flavor| {
        let answer = bounded(LIMIT, move || {
            run(build(flavor), async {
                spawn_blocking(|| {
                    Handle::current().block_on(async {
                        sleep(Duration::from_millis(5)).await;
                        corium::spawn(async { 6 }).await.unwrap()
                    })
                })
                .await
                .unwrap()
            })
        });
        assert_eq!(answer, 6);
    });
}

#[test]
fn runtime_spawn_blocking_works_from_outside_the_runtime() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let job = runtime.spawn_blocking(|| "from outside");
        let via_handle = runtime.handle().spawn_blocking(|| "via handle");
        let (job, via_handle) = run(runtime, async { (job.await, via_handle.await) });
        assert_eq!(job.unwrap(), "from outside");
        assert_eq!(via_handle.unwrap(), "via handle");
    });
}

#[test]
fn a_blocking_job_completes_without_anyone_driving_the_runtime() {
    for_each_flavor(|flavor| {
        let runtime = build(flavor);
        let (tx, rx) = std::sync::mpsc::channel();
        let job = runtime.spawn_blocking(move || tx.send("done").unwrap());
        assert_eq!(rx.recv_timeout(LIMIT), Ok("done"));
        run(runtime, job).unwrap();
    });
}

/// Counts closures running at once and remembers the most.
#[derive(Clone, Default)]
struct Concurrency {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Concurrency {
    fn enter(&self) {
        let now = self.running.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
    }

    fn exit(&self) {
        self.running.fetch_sub(1, SeqCst);
    }
}

#[test]
fn a_saturated_pool_queues_jobs_without_stalling_async_tasks() {
    const JOBS: usize = 200;
    const THREADS: usize = 2;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor().max_blocking_threads(THREADS).build().unwrap();
        run(runtime, async {
            let ticks = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let ticker = corium::spawn({
                let (ticks, stop) = (ticks.clone(), stop.clone());
                async move {
                    while !stop.load(SeqCst) {
                        ticks.fetch_add(1, SeqCst);
                        yield_now().await;
                    }
                }
            });
            let gate = Gate::default();
            let concurrency = Concurrency::default();
            let started = Arc::new(AtomicUsize::new(0));
            // Every job waits on the gate, which opens only after the last
            // submit returned: a submit that waited for a free thread would
            // never return.
            let jobs: Vec<JoinHandle<(usize, usize)>> = (0..JOBS)
                .map(|i| {
                    let (gate, concurrency) = (gate.clone(), concurrency.clone());
                    let (ticks, started) = (ticks.clone(), started.clone());
                    spawn_blocking(move || {
                        concurrency.enter();
                        started.fetch_add(1, SeqCst);
                        let tick = ticks.load(SeqCst);
                        gate.wait(LIMIT);
                        std::thread::sleep(Duration::from_millis(2));
                        concurrency.exit();
                        (i * 3, tick)
                    })
                })
                .collect();
            while started.load(SeqCst) < THREADS {
                sleep(Duration::from_millis(1)).await;
            }
            let submitted = ticks.load(SeqCst);
            sleep(Duration::from_millis(20)).await;
            assert!(
                ticks.load(SeqCst) > submitted,
                "the async task made no progress while the pool was saturated"
            );
            assert_eq!(started.load(SeqCst), THREADS, "only the capped threads run");
            let opened = ticks.load(SeqCst);
            gate.open();
            let mut last_start_tick = 0;
            for (i, job) in jobs.into_iter().enumerate() {
                let (result, tick) = job.await.unwrap();
                assert_eq!(result, i * 3);
                last_start_tick = last_start_tick.max(tick);
            }
            assert!(
                last_start_tick > opened,
                "the async task stalled while the queue drained"
            );
            stop.store(true, SeqCst);
            ticker.await.unwrap();
            let most = concurrency.most.load(SeqCst);
            assert_eq!(most, THREADS, "{most} closures ran at once");
        });
    });
}

#[test]
fn jobs_submitted_from_many_threads_at_once_each_complete_exactly_once() {
    const SUBMITTERS: usize = 8;
    const JOBS_EACH: usize = 5_000;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor().max_blocking_threads(4).build().unwrap();
        let runs: Arc<Vec<AtomicUsize>> = Arc::new(
            (0..SUBMITTERS * JOBS_EACH)
                .map(|_| AtomicUsize::new(0))
                .collect(),
        );
        let start = Arc::new(Barrier::new(SUBMITTERS));
        let submitters: Vec<_> = (0..SUBMITTERS)
            .map(|s| {
                let (handle, runs, start) = (runtime.handle().clone(), runs.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    (0..JOBS_EACH)
                        .map(|i| {
                            let runs = runs.clone();
                            let job = s * JOBS_EACH + i;
                            handle.spawn_blocking(move || {
                                runs[job].fetch_add(1, SeqCst);
                                job
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let jobs: Vec<_> = submitters
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        let results = run(runtime, async {
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                results.push(job.await.unwrap());
            }
            results
        });
        let mut seen = vec![0; SUBMITTERS * JOBS_EACH];
        for job in results {
            seen[job] += 1;
        }
        assert!(
            seen.iter().all(|&n| n == 1),
            "a result came back twice or never"
        );
        assert!(
            runs.iter().all(|n| n.load(SeqCst) == 1),
            "a job ran twice or never"
        );
    });
}

#[test]
fn shutdown_with_jobs_running_and_queued_cancels_the_queued_and_detaches_the_running() {
    const THREADS: usize = 2;
    const QUEUED: usize = 20;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor().max_blocking_threads(THREADS).build().unwrap();
        let gate = Gate::default();
        let (started_tx, started_rx) = mpsc::channel();
        let (finished_tx, finished_rx) = mpsc::channel();
        let running: Vec<_> = (0..THREADS)
            .map(|i| {
                let (gate, started_tx, finished_tx) =
                    (gate.clone(), started_tx.clone(), finished_tx.clone());
                runtime.spawn_blocking(move || {
                    started_tx.send(()).unwrap();
                    // Stuck for up to ten seconds, or until the test opens
                    // the gate after shutdown gave up on it.
                    gate.wait(LIMIT);
                    finished_tx.send(i).unwrap();
                    i
                })
            })
            .collect();
        for _ in 0..THREADS {
            started_rx.recv_timeout(LIMIT).unwrap();
        }
        let queued_ran = Arc::new(AtomicUsize::new(0));
        let queued: Vec<_> = (0..QUEUED)
            .map(|_| {
                let queued_ran = queued_ran.clone();
                runtime.spawn_blocking(move || queued_ran.fetch_add(1, SeqCst))
            })
            .collect();
        let began = Instant::now();
        runtime.shutdown_timeout(Duration::from_millis(50));
        let took = began.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "shutdown took {took:?} (hung?)"
        );
        let queued = run(build(flavor), async {
            let mut results = Vec::new();
            for job in queued {
                results.push(job.await);
            }
            results
        });
        assert!(queued
            .iter()
            .all(|r| r.as_ref().unwrap_err().is_cancelled()));
        assert_eq!(
            queued_ran.load(SeqCst),
            0,
            "a queued job ran after shutdown"
        );
        gate.open();
        let mut finished: Vec<_> = (0..THREADS)
            .map(|_| finished_rx.recv_timeout(LIMIT).unwrap())
            .collect();
        finished.sort_unstable();
        assert_eq!(finished, (0..THREADS).collect::<Vec<_>>());
        let running = run(build(flavor), async {
            let mut results = Vec::new();
            for job in running {
                results.push(job.await.unwrap());
            }
            results
        });
        assert_eq!(
            running,
            (0..THREADS).collect::<Vec<_>>(),
            "detached, not lost"
        );
    });
}

#[test]
fn jobs_submitted_to_an_idle_pool_wake_its_sleeping_threads() {
    const THREADS: usize = 2;
    const ROUNDS: usize = 5;
    for_each_flavor_within(LIMIT, |flavor| {
        // Sleepers that were not woken would take the job only when their
        // keep-alive ran out, long after the watchdog fired.
        let runtime = flavor()
            .max_blocking_threads(THREADS)
            .thread_keep_alive(Duration::from_secs(3600))
            .build()
            .unwrap();
        let mut pool_threads = Vec::new();
        for _ in 0..ROUNDS {
            // Time for the pool's threads to go to sleep.
            std::thread::sleep(Duration::from_millis(10));
            // Each job waits for the other, so both threads must be awake.
            let together = Arc::new(Barrier::new(THREADS));
            let jobs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let together = together.clone();
                    runtime.spawn_blocking(move || {
                        together.wait();
                        std::thread::current().id()
                    })
                })
                .collect();
            for job in jobs {
                let thread = runtime.block_on(job).unwrap();
                if !pool_threads.contains(&thread) {
                    pool_threads.push(thread);
                }
            }
        }
        assert_eq!(
            pool_threads.len(),
            THREADS,
            "sleepers are reused, not replaced"
        );
    });
}

#[test]
fn a_thread_going_to_sleep_as_a_job_arrives_still_takes_it() {
    const ROUNDS: usize = 20_000;
    for_each_flavor_within(LIMIT, |flavor| {
        // One thread that sleeps for an hour once idle: a job it missed on
        // its way to sleep would wait that long.
        let runtime = flavor()
            .max_blocking_threads(1)
            .thread_keep_alive(Duration::from_secs(3600))
            .build()
            .unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        for round in 1..=ROUNDS {
            let finished = done.clone();
            drop(runtime.spawn_blocking(move || finished.store(round, SeqCst)));
            // Spin rather than block, so the next submit lands while the
            // thread is on its way from an empty queue to sleep.
            let began = Instant::now();
            for spins in 0.. {
                if done.load(SeqCst) == round {
                    break;
                }
                if spins % 1024 == 1023 {
                    assert!(began.elapsed() < LIMIT, "job {round} never ran");
                    std::thread::yield_now();
                }
                std::hint::spin_loop();
            }
        }
    });
}

thread_local! {
    /// Set by a job that wants to hear when its pool thread exits.
    static ON_EXIT: RefCell<Option<ExitProbe>> = const { RefCell::new(None) };
}

/// Sends the moment of its drop (its thread's exit) down a channel.
struct ExitProbe(mpsc::Sender<Instant>);

impl Drop for ExitProbe {
    fn drop(&mut self) {
        let _ = self.0.send(Instant::now());
    }
}

#[test]
fn an_idle_thread_exits_after_keep_alive_and_a_later_job_starts_another() {
    const KEEP_ALIVE: Duration = Duration::from_millis(100);
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor()
            .max_blocking_threads(1)
            .thread_keep_alive(KEEP_ALIVE)
            .build()
            .unwrap();
        let (exit_tx, exit_rx) = mpsc::channel();
        let first = runtime
            .block_on(runtime.spawn_blocking(move || {
                ON_EXIT.with(|probe| *probe.borrow_mut() = Some(ExitProbe(exit_tx)));
                std::thread::current().id()
            }))
            .unwrap();
        let (reused, finished) = runtime
            .block_on(runtime.spawn_blocking(|| (std::thread::current().id(), Instant::now())))
            .unwrap();
        assert_eq!(reused, first, "an idle thread takes the next job");
        let exited = exit_rx.recv_timeout(LIMIT).expect("the idle thread exits");
        let idle = exited - finished;
        assert!(idle >= KEEP_ALIVE, "exited after {idle:?} idle");
        let again = runtime.spawn_blocking(|| std::thread::current().id());
        let again = run(runtime, again).unwrap();
        assert_ne!(again, first, "a new thread runs the later job");
    });
}

/// Awaits `job` under an hour's timeout on a paused clock: it fails if the
/// clock jumped while the job was in flight.
async fn within_the_hour<T>(job: JoinHandle<T>) -> T {
    timeout(Duration::from_secs(3600), job)
        .await
        .expect("the paused clock jumped an hour over a blocking job in flight")
        .unwrap()
}

#[test]
fn the_paused_clock_waits_for_blocking_jobs_queued_or_running_then_advances() {
    // Long enough that the runtime goes idle while a job runs; too short
    // and a count that missed a job might still go unnoticed.
    const JOB: Duration = Duration::from_millis(50);
    const THREADS: usize = 2;
    for_each_paused_flavor_within(LIMIT, |flavor| {
        let runtime = flavor()
            .max_blocking_threads(THREADS)
            .start_paused(true)
            .build()
            .unwrap();
        run(runtime, async {
            let running = spawn_blocking(|| std::thread::sleep(JOB));
            within_the_hour(running).await;
            // Twice as many jobs as threads: half of them queue at first.
            let jobs: Vec<_> = (0..2 * THREADS)
                .map(|i| {
                    spawn_blocking(move || {
                        std::thread::sleep(JOB);
                        i
                    })
                })
                .collect();
            for (i, job) in jobs.into_iter().enumerate() {
                assert_eq!(within_the_hour(job).await, i);
            }
            // With none left in flight it jumps at once: no real hour passes
            // (and a count that never went back to zero hangs here).
            sleep(Duration::from_secs(3600)).await;
        });
    });
}
