//! The blocking pool: `spawn_blocking` results, the thread limit, the
//! runtime context inside a closure, and spawning from outside a runtime.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::runtime::Handle;
use corium::task::spawn_blocking;
use corium::time::sleep;
use util::{bounded, build, for_each_flavor, run};

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
