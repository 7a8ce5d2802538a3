//! The multi-thread scheduler under load and at its edges: spawns from many
//! threads at once, wake storms, tasks that move between workers while
//! they wait on sockets, a saturated blocking pool, shutdown while workers
//! are busy, the flavor chosen by the environment, `block_in_place`,
//! `UnhandledPanic::ShutdownRuntime`, the thread hooks, the metrics, and
//! the LIFO slot that must not strand a task behind a blocked worker.
//!
//! Every test is bounded by a watchdog, and none asserts how fast anything
//! ran: a slow machine makes them slower, never red. Tests of the
//! environment variables run in a child process (the parent re-runs this
//! test binary on one ignored `*_child` test with [`CHILD_MODE`] set),
//! because the environment is process-wide and tests run in parallel.

mod util;

use std::collections::{HashMap, HashSet};
use std::future::{pending, poll_fn, Future};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use corium::net::{TcpListener, TcpStream};
use corium::runtime::{Builder, Runtime, UnhandledPanic};
use corium::sync::{oneshot, Notify};
use corium::task::{block_in_place, spawn_blocking, yield_now, JoinHandle};
use corium::time::sleep;
use util::net::pair;
use util::{
    bounded, build, expect_panic, for_each_flavor, for_each_flavor_within, on_runtime, run,
    yield_until, DropCounter, Flavor,
};

/// Far beyond what any test here needs: a hang fails instead of blocking.
const LIMIT: Duration = Duration::from_secs(60);

/// How long a bounded busy loop may run: it stops earlier when the test is
/// done with it, and this only keeps a failing test from spinning forever.
const BUSY_FOR: Duration = Duration::from_secs(10);

/// A multi-thread runtime with `workers` workers.
fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime builds")
}

/// Sleeps a millisecond at a time until `done` says so; fails after ten
/// thousand tries. For a `block_on` future (which `yield_until` cannot
/// serve: yielding there does not let the tasks run on the current-thread
/// flavor) and for tests whose own task must not count as alive.
async fn sleep_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        sleep(Duration::from_millis(1)).await;
    }
    panic!("waited in vain for {what}");
}

// ---------------------------------------------------------------------------
// Spawning from many threads

#[test]
fn handle_spawn_from_many_plain_threads_runs_every_task_exactly_once() {
    // Catches a task lost or run twice when many threads push onto the
    // inject queue at once (a race in its lock-free length, a batch pop
    // that drops or duplicates, a wake of a sleeping worker that is lost).
    const THREADS: usize = 8;
    const PER_THREAD: usize = 10_000;
    const TASKS: usize = THREADS * PER_THREAD;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = build(flavor);
        let runs: Arc<Vec<AtomicU8>> = Arc::new((0..TASKS).map(|_| AtomicU8::new(0)).collect());
        let finished = Arc::new(AtomicUsize::new(0));
        let all_ran = Arc::new(Notify::new());
        let start = Arc::new(Barrier::new(THREADS));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = runtime.handle().clone();
                let (runs, finished, all_ran) = (runs.clone(), finished.clone(), all_ran.clone());
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    (0..PER_THREAD)
                        .map(|i| {
                            let id = t * PER_THREAD + i;
                            let (runs, finished, all_ran) =
                                (runs.clone(), finished.clone(), all_ran.clone());
                            handle.spawn(async move {
                                runs[id].fetch_add(1, SeqCst);
                                if finished.fetch_add(1, SeqCst) + 1 == TASKS {
                                    all_ran.notify_one();
                                }
                                id
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // The runtime runs the tasks while the threads still spawn (the
        // current-thread flavor only inside `block_on`).
        runtime.block_on(all_ran.notified());
        let handles: Vec<JoinHandle<usize>> = spawners
            .into_iter()
            .flat_map(|spawner| spawner.join().expect("spawner thread"))
            .collect();
        let mut outputs = runtime.block_on(async move {
            let mut outputs = Vec::with_capacity(TASKS);
            for handle in handles {
                outputs.push(handle.await.expect("task output"));
            }
            outputs
        });
        outputs.sort_unstable();
        assert!(outputs.iter().copied().eq(0..TASKS), "every output once");
        let twice: Vec<_> = (0..TASKS).filter(|&i| runs[i].load(SeqCst) != 1).collect();
        assert!(twice.is_empty(), "tasks not run exactly once: {twice:?}");
        drop(runtime);
    });
}

// ---------------------------------------------------------------------------
// Wake storms

#[test]
fn a_storm_of_cross_thread_wakes_loses_none() {
    // Catches a lost wake (the task never runs again, and its notifier
    // spins until the deadline) or a doubled one (a count above ROUNDS),
    // from plain threads and from tasks on other workers alike.
    const TASKS: usize = 1_000;
    const ROUNDS: usize = 100; // 100k wakes in all
    const PLAIN_NOTIFIERS: usize = 2;
    const TASK_NOTIFIERS: usize = 2;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = build(flavor);
        let notifies: Arc<Vec<Notify>> = Arc::new((0..TASKS).map(|_| Notify::new()).collect());
        let woken: Arc<Vec<AtomicUsize>> =
            Arc::new((0..TASKS).map(|_| AtomicUsize::new(0)).collect());
        let waiters: Vec<JoinHandle<()>> = (0..TASKS)
            .map(|i| {
                let (notifies, woken) = (notifies.clone(), woken.clone());
                runtime.spawn(async move {
                    for _ in 0..ROUNDS {
                        notifies[i].notified().await;
                        woken[i].fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        // Notifier `n` of `notifiers` serves tasks `n`, `n + notifiers`, ...
        // (see `notify_round`).
        let notifiers = PLAIN_NOTIFIERS + TASK_NOTIFIERS;
        let plain: Vec<_> = (0..PLAIN_NOTIFIERS)
            .map(|n| {
                let (notifies, woken) = (notifies.clone(), woken.clone());
                std::thread::spawn(move || {
                    let mut sent = vec![0; TASKS.div_ceil(notifiers)];
                    let deadline = Instant::now() + LIMIT;
                    while !notify_round(n, notifiers, ROUNDS, &mut sent, &notifies, &woken) {
                        assert!(Instant::now() < deadline, "notifier {n}: a wake was lost");
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        let in_tasks: Vec<_> = (PLAIN_NOTIFIERS..notifiers)
            .map(|n| {
                let (notifies, woken) = (notifies.clone(), woken.clone());
                runtime.spawn(async move {
                    let mut sent = vec![0; TASKS.div_ceil(notifiers)];
                    let deadline = Instant::now() + LIMIT;
                    while !notify_round(n, notifiers, ROUNDS, &mut sent, &notifies, &woken) {
                        assert!(Instant::now() < deadline, "notifier {n}: a wake was lost");
                        yield_now().await;
                    }
                })
            })
            .collect();
        runtime.block_on(async move {
            for task in in_tasks.into_iter().chain(waiters) {
                task.await.expect("task completes");
            }
        });
        for thread in plain {
            thread.join().expect("plain notifier");
        }
        let total: usize = woken.iter().map(|w| w.load(SeqCst)).sum();
        assert_eq!(total, TASKS * ROUNDS);
        drop(runtime);
    });
}

/// One pass of notifier `n` (of `of`) over its tasks: notifies each task
/// whose last wake it has counted and that wants more (a stored permit
/// does not add up, so each wake must be seen before the next is sent).
/// True once all its tasks have seen `rounds` wakes.
fn notify_round(
    n: usize,
    of: usize,
    rounds: usize,
    sent: &mut [usize],
    notifies: &[Notify],
    woken: &[AtomicUsize],
) -> bool {
    let mut all_done = true;
    for (i, sent) in (n..notifies.len()).step_by(of).zip(sent.iter_mut()) {
        let seen = woken[i].load(SeqCst);
        assert!(seen <= *sent, "task {i} woke {seen} times for {sent} wakes");
        if seen == *sent && *sent < rounds {
            *sent += 1;
            notifies[i].notify_one();
        }
        all_done &= seen == rounds;
    }
    all_done
}

#[test]
fn a_task_woken_100k_times_by_a_plain_thread_sees_every_wake() {
    // Catches a wake lost in the race between a task going idle and a
    // remote wake (the notified-while-running case): the thread waits for
    // each round to be seen, so one lost wake stalls it at a known round.
    const ROUNDS: usize = 100_000;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = build(flavor);
        let notify = Arc::new(Notify::new());
        let seen = Arc::new(AtomicUsize::new(0));
        let task = runtime.spawn({
            let (notify, seen) = (notify.clone(), seen.clone());
            async move {
                for _ in 0..ROUNDS {
                    notify.notified().await;
                    seen.fetch_add(1, SeqCst);
                }
            }
        });
        let waker = std::thread::spawn(move || {
            let deadline = Instant::now() + LIMIT;
            for round in 0..ROUNDS {
                notify.notify_one();
                while seen.load(SeqCst) != round + 1 {
                    assert!(
                        Instant::now() < deadline,
                        "round {round}: the wake was lost"
                    );
                    std::hint::spin_loop();
                }
            }
        });
        runtime.block_on(task).expect("the task completes");
        waker.join().expect("waking thread");
        drop(runtime);
    });
}

// ---------------------------------------------------------------------------
// Tasks that move between workers while they wait on sockets

/// The bytes of round `round` on connection `conn`: distinct per round and
/// connection, so a reply delivered to the wrong task or round shows.
fn message(conn: usize, round: usize) -> [u8; 32] {
    std::array::from_fn(|i| (conn * 131 + round * 7 + i * 13) as u8)
}

#[test]
fn echo_connections_stay_correct_while_their_tasks_move_between_workers() {
    // Catches a socket wake lost or delivered to the wrong worker's queue
    // after a task was stolen, a registration left on a reactor its task
    // no longer runs near, and a core handed off by `block_in_place` that
    // drops or double-runs what it carried. Correctness is the assertion;
    // how often tasks moved is printed, since it depends on the machine.
    const CONNECTIONS: usize = 64;
    const ROUNDS: usize = 200;
    for workers in [2, 4] {
        let runtime = multi_thread(workers);
        let threads_seen: Arc<Mutex<Vec<HashSet<ThreadId>>>> = Arc::default();
        let moved = bounded(LIMIT, {
            let threads_seen = threads_seen.clone();
            move || {
                run(runtime, async move {
                    echo_under_migration(CONNECTIONS, ROUNDS, threads_seen.clone()).await;
                    let seen = threads_seen.lock().unwrap();
                    assert_eq!(seen.len(), CONNECTIONS, "every server task ran");
                    seen.iter().filter(|threads| threads.len() > 1).count()
                })
            }
        });
        eprintln!(
            "{workers} workers: {moved} of {CONNECTIONS} server tasks ran on more than one thread"
        );
    }
}

/// Serves `connections` echo connections of `rounds` round trips each on
/// the current runtime, with busy tasks and `block_in_place` calls pushing
/// tasks around; records each server task's threads in `threads_seen`.
async fn echo_under_migration(
    connections: usize,
    rounds: usize,
    threads_seen: Arc<Mutex<Vec<HashSet<ThreadId>>>>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    // Busy tasks keep some workers occupied, so idle ones steal.
    let busy: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            corium::spawn(async move {
                let deadline = Instant::now() + BUSY_FOR;
                while !stop.load(SeqCst) && Instant::now() < deadline {
                    yield_now().await;
                }
            })
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().unwrap();
    let server = corium::spawn(async move {
        let mut servers = Vec::with_capacity(connections);
        for conn in 0..connections {
            let (stream, _) = listener.accept().await.expect("accepts");
            servers.push(corium::spawn(serve(stream, rounds, conn)));
        }
        let mut all = Vec::with_capacity(connections);
        for server in servers {
            all.push(server.await.expect("server task"));
        }
        all
    });
    let clients: Vec<_> = (0..connections)
        .map(|conn| corium::spawn(client(addr, conn, rounds)))
        .collect();
    for client in clients {
        client.await.expect("client task");
    }
    *threads_seen.lock().unwrap() = server.await.expect("accept task");
    stop.store(true, SeqCst);
    for task in busy {
        task.await.unwrap();
    }
}

/// One echo server task: reads each round's message and writes it back,
/// noting the thread it runs on after every wake. Every eighth connection
/// blocks in place now and then, handing its worker's queue to a new
/// thread.
async fn serve(mut stream: TcpStream, rounds: usize, conn: usize) -> HashSet<ThreadId> {
    let mut threads = HashSet::new();
    let mut buf = [0; 32];
    for round in 0..rounds {
        stream.read_exact(&mut buf).await.expect("server reads");
        threads.insert(std::thread::current().id());
        if conn % 8 == 0 && round % 50 == 25 {
            block_in_place(|| std::thread::sleep(Duration::from_millis(2)));
            threads.insert(std::thread::current().id());
        }
        stream.write_all(&buf).await.expect("server writes");
    }
    threads
}

/// One client: `rounds` round trips, each checked byte for byte.
async fn client(addr: std::net::SocketAddr, conn: usize, rounds: usize) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let mut reply = [0; 32];
    for round in 0..rounds {
        let sent = message(conn, round);
        stream.write_all(&sent).await.expect("client writes");
        stream.read_exact(&mut reply).await.expect("client reads");
        assert_eq!(reply, sent, "connection {conn}, round {round}");
    }
}

// ---------------------------------------------------------------------------
// The blocking pool beyond its cap

#[test]
fn tasks_keep_running_while_the_blocking_pool_is_saturated() {
    // Catches `spawn_blocking` blocking its caller (a worker) while the
    // pool is full, or the pool's queue starving the workers: the ticker
    // would then stand still between the tenth job and the ninetieth.
    const JOBS: usize = 100;
    const CAP: usize = 2;
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor().max_blocking_threads(CAP).build().unwrap();
        let ticks = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let most_running = Arc::new(AtomicUsize::new(0));
        let ticks_at: Arc<Vec<AtomicUsize>> =
            Arc::new((0..JOBS).map(|_| AtomicUsize::new(0)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = runtime.spawn({
            let (ticks, stop) = (ticks.clone(), stop.clone());
            async move {
                while !stop.load(SeqCst) {
                    sleep(Duration::from_millis(1)).await;
                    ticks.fetch_add(1, SeqCst);
                }
            }
        });
        let results = runtime.block_on(async {
            let jobs: Vec<_> = (0..JOBS)
                .map(|i| {
                    let (ticks, ticks_at) = (ticks.clone(), ticks_at.clone());
                    let (running, most_running) = (running.clone(), most_running.clone());
                    corium::spawn(async move {
                        spawn_blocking(move || {
                            ticks_at[i].store(ticks.load(SeqCst), SeqCst);
                            let now = running.fetch_add(1, SeqCst) + 1;
                            most_running.fetch_max(now, SeqCst);
                            std::thread::sleep(Duration::from_millis(5));
                            running.fetch_sub(1, SeqCst);
                            i
                        })
                        .await
                        .expect("job")
                    })
                })
                .collect();
            let mut results = Vec::with_capacity(JOBS);
            for job in jobs {
                results.push(job.await.expect("job task"));
            }
            results
        });
        stop.store(true, SeqCst);
        runtime.block_on(ticker).unwrap();
        assert!(results.iter().copied().eq(0..JOBS));
        let most = most_running.load(SeqCst);
        assert!((1..=CAP).contains(&most), "{most} jobs ran at once");
        // Jobs start in no fixed order: compare the earliest tenth with the
        // latest tenth of the start times.
        let mut starts: Vec<_> = ticks_at.iter().map(|t| t.load(SeqCst)).collect();
        starts.sort_unstable();
        let (early, late) = (starts[JOBS / 10], starts[JOBS - JOBS / 10]);
        assert!(
            late > early,
            "the ticker stood still while the pool was saturated (ticks {early} → {late})"
        );
        drop(runtime);
    });
}

// ---------------------------------------------------------------------------
// Shutdown while the workers are busy

/// A runtime whose workers are busy every way at once: tasks that yield in
/// a loop, tasks that spin a millisecond per poll, tasks waiting on
/// sockets, and blocking jobs sleeping `blocking_for`. Returns it with the
/// counter of every task future's drop and the tasks' handles, once every
/// task has started.
fn busy_runtime(
    flavor: Flavor,
    blocking_for: Duration,
) -> (Runtime, DropCounter, Vec<JoinHandle<()>>) {
    let runtime = flavor().worker_threads(2).build().unwrap();
    let drops = DropCounter::new();
    let started = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (probe, started) = (drops.probe(), started.clone());
        tasks.push(runtime.spawn(async move {
            let _probe = probe;
            started.fetch_add(1, SeqCst);
            loop {
                yield_now().await;
            }
        }));
    }
    for _ in 0..2 {
        let (probe, started) = (drops.probe(), started.clone());
        tasks.push(runtime.spawn(async move {
            let _probe = probe;
            started.fetch_add(1, SeqCst);
            loop {
                let spin_until = Instant::now() + Duration::from_millis(1);
                while Instant::now() < spin_until {
                    std::hint::spin_loop();
                }
                yield_now().await;
            }
        }));
    }
    for _ in 0..4 {
        let (probe, started) = (drops.probe(), started.clone());
        tasks.push(runtime.spawn(async move {
            let _probe = probe;
            let (_client, mut server) = pair().await;
            started.fetch_add(1, SeqCst);
            let mut buf = [0; 8];
            let _ = server.read(&mut buf).await;
            pending::<()>().await;
        }));
    }
    for _ in 0..2 {
        runtime.spawn_blocking(move || std::thread::sleep(blocking_for));
    }
    let all = tasks.len();
    runtime.block_on(sleep_until("every busy task to start", || {
        started.load(SeqCst) == all
    }));
    assert_eq!(drops.count(), 0, "every task is still running");
    (runtime, drops, tasks)
}

/// Asserts that every handle in `tasks` reports its task cancelled.
fn assert_all_cancelled(tasks: Vec<JoinHandle<()>>) {
    let results = bounded(LIMIT, move || {
        run(build(Builder::new_current_thread), async move {
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await);
            }
            results
        })
    });
    for result in results {
        assert!(result.expect_err("cancelled").is_cancelled());
    }
}

/// Asserts that all `spawned` probes of `drops` are dropped within ten
/// seconds: after a shutdown that detached the workers still in a poll.
#[track_caller]
fn assert_all_dropped_soon(drops: &DropCounter, spawned: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while drops.count() < spawned {
        assert!(
            Instant::now() < deadline,
            "{} of {spawned} task futures dropped",
            drops.count()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn dropping_a_busy_runtime_drops_every_task_future() {
    // Catches a drop that waits for a task that never stops yielding, or
    // for a blocking job, and a task future left alive on a worker's queue
    // or in its LIFO slot when the workers stop.
    for_each_flavor(|flavor| {
        let (runtime, drops, tasks) = busy_runtime(flavor, Duration::from_millis(300));
        let spawned = tasks.len();
        bounded(LIMIT, move || drop(runtime));
        assert_eq!(drops.count(), spawned);
        assert_all_cancelled(tasks);
    });
}

#[test]
fn shutdown_timeout_of_a_busy_runtime_gives_up_on_a_stuck_blocking_job() {
    // Catches a `shutdown_timeout` that waits for the blocking job it
    // should detach (ten seconds here), or for a worker that is never idle.
    for_each_flavor(|flavor| {
        let (runtime, drops, tasks) = busy_runtime(flavor, Duration::from_secs(10));
        let spawned = tasks.len();
        bounded(Duration::from_secs(5), move || {
            runtime.shutdown_timeout(Duration::from_millis(50))
        });
        // A worker still in a poll at the deadline (descheduled on a busy
        // machine) is detached, as documented: its task's future is dropped
        // when that poll ends.
        assert_all_dropped_soon(&drops, spawned);
        assert_all_cancelled(tasks);
    });
}

#[test]
fn shutdown_background_of_a_busy_runtime_returns_at_once() {
    // Catches a `shutdown_background` that waits for the workers or the
    // blocking pool; and task futures never dropped once the workers stop.
    for_each_flavor(|flavor| {
        let (runtime, drops, tasks) = busy_runtime(flavor, Duration::from_secs(10));
        let spawned = tasks.len();
        bounded(Duration::from_secs(2), move || {
            runtime.shutdown_background()
        });
        assert_all_dropped_soon(&drops, spawned);
        assert_all_cancelled(tasks);
    });
}

// ---------------------------------------------------------------------------
// The flavor the environment asks for

/// The environment variable that makes a `*_child` test do its work;
/// without it those tests return at once.
const CHILD_MODE: &str = "CORIUM_MULTI_THREAD_CHILD";

/// Runs the ignored test `test` of this binary alone in a child process,
/// with [`CHILD_MODE`] set and the Corium variables as `vars` says (unset
/// when `None`, whatever this process has).
fn run_child(test: &'static str, vars: &[(&'static str, Option<&'static str>)]) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, "1")
        .env_remove("CORIUM_FLAVOR")
        .env_remove("CORIUM_WORKER_THREADS")
        .env_remove("CORIUM_REACTOR_TOPOLOGY");
    for (name, value) in vars {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    bounded(LIMIT, move || {
        command.output().expect("the child process runs")
    })
}

/// What a child printed, for failure messages.
fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether this process is a child (else the `*_child` test returns).
fn is_child() -> bool {
    let child = std::env::var_os(CHILD_MODE).is_some();
    if !child {
        eprintln!("not a child process ({CHILD_MODE} unset): nothing to do");
    }
    child
}

#[test]
#[ignore = "a child process of the environment tests: run by them"]
fn runtime_new_child() {
    if !is_child() {
        return;
    }
    let runtime = Runtime::new().expect("runtime builds");
    let handle = runtime.handle();
    println!(
        "REPORT new: {:?} {}",
        handle.runtime_flavor(),
        handle.metrics().num_workers()
    );
    let explicit = Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .unwrap();
    println!(
        "REPORT explicit: {}",
        explicit.handle().metrics().num_workers()
    );
    let implicit = Builder::new_multi_thread().build().unwrap();
    println!(
        "REPORT implicit: {}",
        implicit.handle().metrics().num_workers()
    );
    println!("REPORT topology: {:?}", handle.reactor_topology());
    let shared = Builder::new_multi_thread()
        .reactor_topology(corium::runtime::ReactorTopology::Shared)
        .build()
        .unwrap();
    println!(
        "REPORT explicit topology: {:?}",
        shared.handle().reactor_topology()
    );
    assert_eq!(
        runtime
            .block_on(async { corium::spawn(async { 7 }).await })
            .unwrap(),
        7
    );
}

/// The lines a passing child reported, without their `REPORT ` prefix.
#[track_caller]
fn child_report(vars: &[(&'static str, Option<&'static str>)]) -> Vec<String> {
    let output = run_child("runtime_new_child", vars);
    assert!(
        output.status.success(),
        "the child failed\n{}",
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test\n{}",
        describe(&output)
    );
    stdout
        .lines()
        // libtest prints "test <name> ... " on the line of the first.
        .filter_map(|line| {
            line.split_once("REPORT ")
                .map(|(_, report)| report.to_owned())
        })
        .collect()
}

/// Asserts that `Runtime::new()` panics in a child with `vars`, naming
/// every one of `words`.
#[track_caller]
fn assert_runtime_new_panics(vars: &[(&'static str, Option<&'static str>)], words: &[&str]) {
    let output = run_child("runtime_new_child", vars);
    assert!(
        !output.status.success(),
        "the child passed\n{}",
        describe(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for word in words {
        assert!(
            stderr.contains(word),
            "the panic does not mention {word:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn runtime_new_panics_on_an_unknown_flavor_naming_the_allowed_values() {
    // Catches a typo in CORIUM_FLAVOR silently picking a flavor, or a
    // message that does not tell the user what to write instead.
    assert_runtime_new_panics(
        &[("CORIUM_FLAVOR", Some("bogus"))],
        &["CORIUM_FLAVOR", "bogus", "current_thread", "multi_thread"],
    );
}

#[test]
fn runtime_new_panics_on_an_unknown_reactor_topology_naming_the_allowed_values() {
    assert_runtime_new_panics(
        &[("CORIUM_REACTOR_TOPOLOGY", Some("both"))],
        &["CORIUM_REACTOR_TOPOLOGY", "both", "shared", "per_worker"],
    );
}

#[test]
fn corium_reactor_topology_picks_the_topology_and_the_code_wins_over_it() {
    // Catches the variable being ignored, or overriding what the code set.
    let reports = child_report(&[
        ("CORIUM_FLAVOR", None),
        ("CORIUM_REACTOR_TOPOLOGY", Some("per_worker")),
    ]);
    assert!(
        reports.contains(&"topology: Some(PerWorker)".to_string()),
        "{reports:?}"
    );
    // The code asked for the shared reactor: the variable does not change it.
    assert!(
        reports.contains(&"explicit topology: Some(Shared)".to_string()),
        "{reports:?}"
    );
    let reports = child_report(&[("CORIUM_FLAVOR", None), ("CORIUM_REACTOR_TOPOLOGY", None)]);
    assert!(
        reports.contains(&"topology: Some(Shared)".to_string()),
        "{reports:?}"
    );
}
#[test]
fn runtime_new_panics_on_a_worker_count_that_is_not_a_positive_number() {
    // Catches "abc" or "0" being read as a default (or 0 workers: a
    // runtime that never runs a task).
    for value in ["abc", "0"] {
        assert_runtime_new_panics(
            &[("CORIUM_WORKER_THREADS", Some(value))],
            &["CORIUM_WORKER_THREADS", value, "at least 1"],
        );
    }
}

#[test]
fn corium_flavor_current_thread_gives_a_current_thread_runtime() {
    // Catches `Runtime::new()` ignoring CORIUM_FLAVOR.
    for value in ["current_thread", "current"] {
        let report = child_report(&[("CORIUM_FLAVOR", Some(value))]);
        assert_eq!(report[0], "new: CurrentThread 1", "CORIUM_FLAVOR={value}");
    }
}

#[test]
fn with_nothing_set_runtime_new_is_multi_thread_with_a_worker_per_core() {
    // Catches a default flavor other than tokio's, or a default worker
    // count other than the available parallelism.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let report = child_report(&[]);
    assert_eq!(report[0], format!("new: MultiThread {cores}"));
    assert_eq!(report[1], "explicit: 3");
    assert_eq!(report[2], format!("implicit: {cores}"));
}

#[test]
fn an_explicit_worker_count_wins_over_corium_worker_threads() {
    // Catches the environment overriding what the code asked for, and a
    // builder that leaves the count unset ignoring the environment.
    let report = child_report(&[("CORIUM_WORKER_THREADS", Some("5"))]);
    assert_eq!(report[0], "new: MultiThread 5");
    assert_eq!(report[1], "explicit: 3");
    assert_eq!(report[2], "implicit: 5");
}

// ---------------------------------------------------------------------------
// block_in_place

#[test]
fn block_in_place_lets_the_other_tasks_run_on_a_one_worker_runtime() {
    // Catches a `block_in_place` that only runs the closure: the one
    // worker's queue and reactor would then stand still for 200 ms, and
    // the ticker's count would not move during the closure.
    let runtime = multi_thread(1);
    let ticks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = runtime.spawn({
        let (ticks, stop) = (ticks.clone(), stop.clone());
        async move {
            while !stop.load(SeqCst) {
                sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, SeqCst);
            }
        }
    });
    let blocker = runtime.spawn({
        let ticks = ticks.clone();
        async move {
            sleep_until("the ticker to start", || ticks.load(SeqCst) > 0).await;
            let (before, after, answer) = block_in_place(|| {
                let before = ticks.load(SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                (before, ticks.load(SeqCst), 42)
            });
            // The task goes on after the closure, on whichever thread.
            yield_now().await;
            (before, after, answer)
        }
    });
    let (before, after, answer) = bounded(LIMIT, move || {
        let result = runtime.block_on(blocker).expect("the blocking task");
        stop.store(true, SeqCst);
        runtime.block_on(ticker).unwrap();
        result
    });
    assert_eq!(answer, 42, "block_in_place returns the closure's value");
    assert!(
        after > before,
        "the ticker stood still ({before} → {after})"
    );
}

#[test]
fn block_in_place_outside_a_worker_just_runs_the_closure() {
    // Catches `block_in_place` refusing (or hanging) in a multi-thread
    // runtime's `block_on` thread, which has no core to hand over.
    let runtime = multi_thread(2);
    let answer = bounded(LIMIT, move || {
        runtime.block_on(async { block_in_place(|| 6 * 7) })
    });
    assert_eq!(answer, 42);
}

#[test]
fn block_in_place_on_the_current_thread_flavor_panics_pointing_to_spawn_blocking() {
    // Catches a `block_in_place` that blocks the one thread running every
    // task (stalling them all) instead of refusing.
    on_runtime(LIMIT, Builder::new_current_thread, false, || async {
        let message = expect_panic(|| block_in_place(|| 1));
        assert!(message.contains("spawn_blocking"), "{message}");
    });
    let runtime = build(Builder::new_current_thread);
    let message = bounded(LIMIT, move || {
        runtime.block_on(async { expect_panic(|| block_in_place(|| 1)) })
    });
    assert!(message.contains("spawn_blocking"), "{message}");
}

// ---------------------------------------------------------------------------
// Unhandled panics

#[test]
fn a_task_panic_stops_a_runtime_built_to_shut_down_on_one() {
    // Catches `UnhandledPanic::ShutdownRuntime` being ignored (block_on
    // would wait an hour, and the watchdog fires) or stopping the runtime
    // without saying why.
    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = flavor()
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        let message = expect_panic(|| {
            runtime.block_on(async {
                corium::spawn(async { panic!("a task's invariant broke") });
                sleep(Duration::from_secs(3600)).await;
            })
        });
        assert!(
            message.contains("UnhandledPanic::ShutdownRuntime"),
            "{message}"
        );
        drop(runtime);
    });
}

#[test]
fn by_default_a_task_panic_leaves_the_runtime_running() {
    // Catches a panic that takes the worker (or the runtime) down with it
    // under the default `UnhandledPanic::Ignore`.
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let error = corium::spawn(async { panic!("only this task fails") })
                .await
                .expect_err("the task panicked");
            assert!(error.is_panic());
            sleep(Duration::from_millis(5)).await;
            assert_eq!(corium::spawn(async { 5 }).await.unwrap(), 5);
        });
    });
}

// ---------------------------------------------------------------------------
// Thread hooks

#[test]
fn thread_hooks_run_on_every_worker() {
    // Catches a start or stop hook run on the wrong threads or more than
    // once per worker, a stop hook not yet run when drop returns, and
    // park/unpark hooks never called.
    const WORKERS: usize = 3;
    let counters: Arc<[AtomicUsize; 4]> = Arc::default();
    let hook = |i: usize| {
        let counters = counters.clone();
        move || {
            counters[i].fetch_add(1, SeqCst);
        }
    };
    let runtime = Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .on_thread_start(hook(0))
        .on_thread_stop(hook(1))
        .on_thread_park(hook(2))
        .on_thread_unpark(hook(3))
        .build()
        .unwrap();
    bounded(LIMIT, move || {
        run(runtime, async {
            // Idle: the workers go to sleep; then work wakes one.
            sleep(Duration::from_millis(50)).await;
            corium::spawn(async {}).await.unwrap();
            sleep(Duration::from_millis(10)).await;
        })
    });
    let [start, stop, park, unpark] = [0, 1, 2, 3].map(|i| counters[i].load(SeqCst));
    assert_eq!(start, WORKERS, "start hooks");
    assert_eq!(stop, WORKERS, "stop hooks");
    assert!(park > 0, "no park hook ran");
    assert!(unpark > 0, "no unpark hook ran");
}

#[test]
fn park_hooks_run_on_the_current_thread_flavor() {
    // Catches the hooks being a multi-thread feature only.
    let counters: Arc<[AtomicUsize; 2]> = Arc::default();
    let hook = |i: usize| {
        let counters = counters.clone();
        move || {
            counters[i].fetch_add(1, SeqCst);
        }
    };
    let runtime = Builder::new_current_thread()
        .on_thread_park(hook(0))
        .on_thread_unpark(hook(1))
        .build()
        .unwrap();
    bounded(LIMIT, move || {
        run(runtime, async { sleep(Duration::from_millis(20)).await });
    });
    assert!(counters[0].load(SeqCst) > 0, "no park hook ran");
    assert!(counters[1].load(SeqCst) > 0, "no unpark hook ran");
}

// ---------------------------------------------------------------------------
// Metrics

#[test]
fn metrics_count_workers_and_alive_tasks() {
    // Catches a worker count that differs from what was built, and an
    // alive-task count that misses spawns or never comes back down (a
    // task never released from the owned list leaks its memory).
    const PENDING: usize = 10;
    let current = build(Builder::new_current_thread);
    assert_eq!(current.handle().metrics().num_workers(), 1);
    drop(current);
    assert_eq!(multi_thread(3).handle().metrics().num_workers(), 3);

    for_each_flavor_within(LIMIT, |flavor| {
        let runtime = build(flavor);
        let metrics = runtime.handle().metrics();
        run(runtime, async move {
            assert_eq!(metrics.num_alive_tasks(), 0);
            let (senders, tasks): (Vec<_>, Vec<_>) = (0..PENDING)
                .map(|_| {
                    let (tx, rx) = oneshot::channel::<()>();
                    (tx, corium::spawn(async move { rx.await.unwrap() }))
                })
                .unzip();
            assert_eq!(metrics.num_alive_tasks(), PENDING);
            for tx in senders {
                tx.send(()).unwrap();
            }
            let checker = corium::spawn({
                let metrics = metrics.clone();
                // Only this checker is left alive.
                async move { yield_until(|| metrics.num_alive_tasks() == 1).await }
            });
            checker.await.unwrap();
            for task in tasks {
                task.await.unwrap();
            }
            sleep_until("no task alive", || metrics.num_alive_tasks() == 0).await;
        });
    });
}

// ---------------------------------------------------------------------------
// The LIFO slot

/// How long A blocks its worker's thread in the LIFO tests.
const LIFO_BLOCK: Duration = Duration::from_millis(300);

#[test]
fn a_task_in_a_blocked_workers_lifo_slot_runs_on_a_worker_that_is_awake() {
    // Catches tokio's LIFO-slot flaw: a task woken into the LIFO slot of a
    // worker that then blocks waits for that worker, however idle the
    // others are. Here A wakes B from inside its poll (B lands in A's
    // worker's LIFO slot) and blocks its thread; B must finish on the
    // other worker, which has just run B's first poll, before A's sleep
    // ends.
    assert_lifo_task_runs_elsewhere(Duration::ZERO);
}

#[test]
fn a_task_in_a_blocked_workers_lifo_slot_wakes_a_sleeping_worker() {
    // The same with the other worker asleep when A blocks (A waits a
    // little first, so it has run out of work): the usual state of an idle
    // worker. Catches a LIFO slot that only a worker already awake (or one
    // that went to sleep watching that slot) would ever look at.
    assert_lifo_task_runs_elsewhere(Duration::from_millis(20));
}

/// Runs the LIFO scenario a few times on a two-worker runtime, A waiting
/// `settle` before it wakes B and blocks; each try is one interleaving,
/// and in every one B must finish before A's sleep ends.
fn assert_lifo_task_runs_elsewhere(settle: Duration) {
    const TRIES: usize = 3;
    let runtime = multi_thread(2);
    bounded(LIMIT, move || {
        for attempt in 0..TRIES {
            let (b_done, a_end, a_thread, b_thread) = runtime
                .block_on(lifo_scenario(settle, LIFO_BLOCK))
                .expect("scenario");
            eprintln!(
                "try {attempt}: A on {a_thread:?}, B on {b_thread:?}, B done {:?} before A's \
                 sleep ended",
                a_end.checked_duration_since(b_done)
            );
            assert!(
                b_done < a_end,
                "try {attempt}: B waited for A's whole {LIFO_BLOCK:?} sleep ({:?} after it)",
                b_done.duration_since(a_end)
            );
        }
    });
}

/// One try of the LIFO scenario: B waits on a oneshot; A, once B is
/// surely waiting and `settle` later, sends and blocks its thread. Returns when B finished,
/// when A's sleep ended, and the threads A and B ran on last.
async fn lifo_scenario(
    settle: Duration,
    block: Duration,
) -> Result<(Instant, Instant, ThreadId, ThreadId), corium::task::JoinError> {
    let (tx, mut rx) = oneshot::channel::<()>();
    let waiting = Arc::new(AtomicBool::new(false));
    let b = corium::spawn({
        let waiting = waiting.clone();
        async move {
            // Says "waiting" only once the receiver has its waker.
            poll_fn(|cx| {
                let poll = std::pin::Pin::new(&mut rx).poll(cx);
                if poll.is_pending() {
                    waiting.store(true, SeqCst);
                }
                poll
            })
            .await
            .unwrap();
            (Instant::now(), std::thread::current().id())
        }
    });
    let a = corium::spawn(async move {
        sleep_until("B to wait", || waiting.load(SeqCst)).await;
        if !settle.is_zero() {
            sleep(settle).await;
        }
        // One poll: the wake puts B in this worker's LIFO slot, then the
        // worker is blocked.
        tx.send(()).unwrap();
        std::thread::sleep(block);
        (Instant::now(), std::thread::current().id())
    });
    let (a_end, a_thread) = a.await?;
    let (b_done, b_thread) = b.await?;
    Ok((b_done, a_end, a_thread, b_thread))
}

// ---------------------------------------------------------------------------
// The shared I/O reactor

/// How long a connection's task blocks its worker's thread in the test
/// below: far beyond the moment the other worker takes over the I/O.
const IO_BLOCK: Duration = Duration::from_millis(1500);

#[test]
fn a_worker_blocked_in_a_poll_does_not_stall_the_other_connections() {
    // Catches tokio's shared-driver flaw: a worker leaves the I/O reactor
    // to run a task that blocks its thread, and the other worker sleeps
    // apart, so no thread waits for I/O and every connection waits for
    // that poll to end. Here connection X's request blocks its worker;
    // connection Y, sent to while X's worker is blocked, must be answered
    // before X's block ends. Both workers are idle (the usual state: one
    // waits in the I/O reactor, the other sleeps apart) when X's request
    // arrives. The shared reactor's guarantee (a reactor per worker
    // leaves the blocked worker's own sockets waiting: see DESIGN.md).
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .reactor_topology(corium::runtime::ReactorTopology::Shared)
        .build()
        .expect("runtime builds");
    bounded(LIMIT, move || {
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let blocked_done = Arc::new(AtomicBool::new(false));
            let server = corium::spawn({
                let blocked_done = blocked_done.clone();
                async move {
                    for _ in 0..2 {
                        let (stream, _) = listener.accept().await.unwrap();
                        corium::spawn(answer(stream, blocked_done.clone()));
                    }
                }
            });
            // The client is a plain thread with blocking sockets: no task of
            // the runtime is involved on its side.
            let client = std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut x = std::net::TcpStream::connect(addr).unwrap();
                let mut y = std::net::TcpStream::connect(addr).unwrap();
                std::thread::sleep(Duration::from_millis(100)); // both idle
                x.write_all(b"b").unwrap(); // X's task blocks its worker
                std::thread::sleep(Duration::from_millis(100));
                y.write_all(b"p").unwrap();
                let mut reply = [0u8; 1];
                y.read_exact(&mut reply).unwrap();
                x.read_exact(&mut [0u8; 1]).unwrap();
                reply[0]
            });
            let reply = corium::task::spawn_blocking(move || client.join().unwrap())
                .await
                .unwrap();
            server.await.unwrap();
            assert_eq!(
                reply, b'e',
                "Y was answered only after X's {IO_BLOCK:?} block ended ('l' for late)"
            );
        });
    });
}

/// Answers one one-byte request: `b` blocks the thread for [`IO_BLOCK`]
/// and then says so in `blocked_done`; anything else gets `e` (early) if
/// no block has ended yet, else `l` (late).
async fn answer(mut stream: TcpStream, blocked_done: Arc<AtomicBool>) {
    let mut request = [0u8; 1];
    stream.read_exact(&mut request).await.unwrap();
    let reply = if request[0] == b'b' {
        std::thread::sleep(IO_BLOCK);
        blocked_done.store(true, SeqCst);
        b'd'
    } else if blocked_done.load(SeqCst) {
        b'l'
    } else {
        b'e'
    };
    stream.write_all(&[reply]).await.unwrap();
}

/// Runs the future `test` makes on a 2-worker runtime of each reactor
/// topology, under the watchdog.
fn on_two_workers_of_each_topology<F, Fut>(test: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()>,
{
    for topology in [
        corium::runtime::ReactorTopology::Shared,
        corium::runtime::ReactorTopology::PerWorker,
    ] {
        eprintln!("--- {topology}");
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .reactor_topology(topology)
            .build()
            .expect("runtime builds");
        let test = test.clone();
        bounded(LIMIT, move || runtime.block_on(test()));
    }
}

/// Spawns `n` tasks running `task` that one reactor turn wakes together:
/// each first waits for a timer with one shared deadline, and every timer
/// is made on one worker (a `Sleep` stays in the wheel of the reactor it
/// was made on), so one worker's turn fires them all.
async fn spawn_woken_by_one_turn<F, Fut>(n: usize, task: F) -> Vec<JoinHandle<Fut::Output>>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    corium::spawn(async move {
        let deadline = corium::time::Instant::now() + Duration::from_millis(200);
        (0..n)
            .map(|_| {
                let sleep = Box::pin(corium::time::sleep_until(deadline));
                let task = task.clone();
                corium::spawn(async move {
                    sleep.await;
                    task().await
                })
            })
            .collect()
    })
    .await
    .unwrap()
}

/// How long each task of the batch below holds its worker's thread.
const HEAVY_POLL: Duration = Duration::from_millis(30);
/// Tasks in that batch.
const BATCH: usize = 8;

#[test]
fn a_batch_of_heavy_tasks_woken_by_one_reactor_turn_is_shared_between_workers() {
    // Catches a worker that keeps a batch of tasks woken by one reactor
    // turn to itself while the other worker sleeps: the late share
    // (`keep_batch`, `share_late`) lets a small batch run where it was
    // woken for a moment before it wakes a sleeper, and that moment must
    // end after the first long poll, not after the batch. Eight tasks are
    // woken by one turn while the other worker sleeps; each holds its
    // thread for HEAVY_POLL, and each worker must run at least two.
    on_two_workers_of_each_topology(|| async {
        let threads = Arc::new(Mutex::new(HashMap::<ThreadId, usize>::new()));
        let counted = threads.clone();
        let tasks = spawn_woken_by_one_turn(BATCH, move || {
            let threads = counted.clone();
            async move {
                std::thread::sleep(HEAVY_POLL);
                *threads
                    .lock()
                    .unwrap()
                    .entry(std::thread::current().id())
                    .or_default() += 1;
            }
        })
        .await;
        for task in tasks {
            task.await.unwrap();
        }
        let served: Vec<usize> = threads.lock().unwrap().values().copied().collect();
        assert!(
            served.len() == 2 && served.iter().all(|&n| n >= 2),
            "tasks run per worker: {served:?} (a batch kept by one worker)"
        );
    });
}

/// How long the first task of the batch below blocks its worker's thread:
/// far beyond the moment the other worker looks (1 ms, then another).
const BLOCKING_POLL: Duration = Duration::from_millis(1500);

#[test]
fn tasks_queued_behind_a_blocked_poll_run_on_the_other_worker() {
    // Catches tasks stranded behind a poll that blocks its thread: three
    // tasks woken by one reactor turn stay, for the moment, with the worker
    // that turned it, and the first it runs blocks its thread. The other
    // two must run on the other worker before that block ends: it watches
    // while the batch is unshared and takes a stuck worker's queued tasks
    // (`take_stuck_work`), and a turn's wakes go to the run queue, where
    // searching workers steal (none is left in the LIFO slot, which they
    // leave alone).
    on_two_workers_of_each_topology(|| async {
        let blocking = Arc::new(AtomicBool::new(false));
        let block_ended = Arc::new(AtomicBool::new(false));
        let flags = (blocking.clone(), block_ended.clone());
        let tasks = spawn_woken_by_one_turn(3, move || {
            let (blocking, block_ended) = flags.clone();
            async move {
                if !blocking.swap(true, SeqCst) {
                    std::thread::sleep(BLOCKING_POLL);
                    block_ended.store(true, SeqCst);
                    None
                } else {
                    Some(block_ended.load(SeqCst))
                }
            }
        })
        .await;
        let mut late = 0;
        for task in tasks {
            late += usize::from(task.await.unwrap() == Some(true));
        }
        assert_eq!(late, 0, "{late} of 2 tasks waited for the blocked poll");
    });
}
