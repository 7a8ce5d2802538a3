//! Corium's demo: tasks, timers, a timeout, an interval, a panicking task
//! and the blocking pool, with what happened printed as it happens.
//!
//! Run it with `cargo run --example demo`.

use std::time::Duration;

use corium::time::{interval, sleep, timeout, Instant};

fn main() {
    let rt = corium::runtime::Builder::new_current_thread()
        .build()
        .expect("start a Corium runtime");
    rt.block_on(demo());
}

async fn demo() {
    let start = Instant::now();
    let at = move || -> String { format!("{:>5.1} ms", start.elapsed().as_secs_f64() * 1e3) };

    // Three workers sleeping different times wake in deadline order.
    let workers: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            corium::spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                println!("[{}] worker that sleeps {ms} ms woke", at());
                ms
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("worker finished");
    }
    println!(
        "[{}] joined all workers ({total} ms of sleep in ~30 ms)",
        at()
    );

    // A timeout that fires, and one that does not.
    let slow = timeout(Duration::from_millis(15), sleep(Duration::from_secs(10))).await;
    println!("[{}] 10 s sleep under a 15 ms timeout: {slow:?}", at());
    let quick = timeout(Duration::from_secs(1), async { 42 }).await;
    println!("[{}] ready future under a 1 s timeout: {quick:?}", at());

    // An interval: the first tick is immediate, then one every 5 ms.
    let mut ticks = interval(Duration::from_millis(5));
    for n in 0..3 {
        ticks.tick().await;
        println!("[{}] interval tick {n}", at());
    }

    // A panicking task is reported through its handle; the runtime lives on.
    let crashed = corium::spawn(async { panic!("this task fails on purpose") }).await;
    match crashed {
        Err(e) if e.is_panic() => println!("[{}] caught a task panic: {e}", at()),
        other => println!("[{}] unexpected: {other:?}", at()),
    }

    // Blocking work runs on the blocking pool, not on the runtime thread.
    let sum = corium::task::spawn_blocking(|| (1..=1_000_000u64).sum::<u64>())
        .await
        .expect("blocking job finished");
    println!("[{}] blocking pool summed 1..=1e6 = {sum}", at());

    // An aborted task reports cancellation and its future is dropped.
    let sleeper = corium::spawn(sleep(Duration::from_secs(3600)));
    sleeper.abort();
    let aborted = sleeper.await.expect_err("aborted");
    println!(
        "[{}] aborted an hour-long sleeper: cancelled = {}",
        at(),
        aborted.is_cancelled()
    );
}
