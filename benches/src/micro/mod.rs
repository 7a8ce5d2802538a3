//! The micro benchmarks: which exist, their sizes, and how one round of one
//! of them is run on one runtime.
//!
//! Every body is a generic `async fn` over [`Rt`] in its own file and runs
//! inside a root task spawned on the runtime (so on a multi-thread runtime
//! it runs on a worker, like real code); it times its own work with
//! `std::time::Instant`, so building the runtime and entering `block_on`
//! are never counted.

mod chained_spawn;
mod ping_pong;
mod spawn_many;
mod timer_delay;
mod timers_insert_cancel;
mod yield_many;

use std::time::Duration;

use crate::rt::Rt;

/// One micro benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bench {
    /// Spawn many empty tasks from inside the runtime, then join them all.
    SpawnMany,
    /// Many tasks each calling `yield_now` many times.
    YieldMany,
    /// Two tasks passing a message back and forth through oneshots.
    PingPong,
    /// A task that spawns the next, many deep.
    ChainedSpawn,
    /// Create, register (one poll) and drop many sleeps.
    TimersInsertCancel,
    /// Many timers at random deadlines within 100 ms: how late they fire.
    TimerDelay,
}

/// How much work each benchmark does per round.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Tasks spawned by `spawn_many`.
    pub spawn_many: usize,
    /// Tasks in `yield_many`.
    pub yield_tasks: usize,
    /// `yield_now` calls per task in `yield_many`.
    pub yields_per_task: usize,
    /// Round trips in `ping_pong`.
    pub ping_pongs: usize,
    /// Depth of `chained_spawn`.
    pub chain_depth: usize,
    /// Sleeps created and dropped in `timers_insert_cancel`.
    pub timers: usize,
    /// Timers fired in `timer_delay`.
    pub delay_timers: usize,
    /// Window the `timer_delay` deadlines are spread over.
    pub delay_window: Duration,
    /// How many times a round runs the body of each per-operation benchmark
    /// (all but `timer_delay`) on its runtime; the round's figure is the
    /// mean over all of them. A single body takes well under a millisecond
    /// for some benchmarks, too short to time alone on a noisy machine.
    pub batches: usize,
}

impl Sizes {
    /// The sizes of the suite as BENCHMARKS.md describes it.
    pub fn full() -> Sizes {
        Sizes {
            spawn_many: 10_000,
            yield_tasks: 1_000,
            yields_per_task: 200,
            ping_pongs: 1_000,
            chain_depth: 1_000,
            timers: 100_000,
            delay_timers: 10_000,
            delay_window: Duration::from_millis(100),
            batches: 10,
        }
    }

    /// A tenth of the work (same timer window), for a smoke check.
    pub fn quick() -> Sizes {
        Sizes {
            spawn_many: 1_000,
            yield_tasks: 100,
            yields_per_task: 50,
            ping_pongs: 100,
            chain_depth: 100,
            timers: 10_000,
            delay_timers: 1_000,
            delay_window: Duration::from_millis(100),
            batches: 2,
        }
    }
}

impl Bench {
    /// Every benchmark, in the order the suite runs them.
    pub const ALL: [Bench; 6] = [
        Bench::SpawnMany,
        Bench::YieldMany,
        Bench::PingPong,
        Bench::ChainedSpawn,
        Bench::TimersInsertCancel,
        Bench::TimerDelay,
    ];

    /// The name used in the table and by `--only`.
    pub fn name(self) -> &'static str {
        match self {
            Bench::SpawnMany => "spawn_many",
            Bench::YieldMany => "yield_many",
            Bench::PingPong => "ping_pong",
            Bench::ChainedSpawn => "chained_spawn",
            Bench::TimersInsertCancel => "timers_insert_cancel",
            Bench::TimerDelay => "timer_delay",
        }
    }

    /// The benchmark called `name`, if any.
    pub fn from_name(name: &str) -> Option<Bench> {
        Bench::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What each number that [`Bench::run`] returns means, in order (the
    /// row labels, e.g. `ns/spawn` or `p99 late us`).
    pub fn metrics(self) -> &'static [&'static str] {
        match self {
            Bench::SpawnMany => &["ns/task"],
            Bench::ChainedSpawn => &["ns/spawn"],
            Bench::YieldMany => &["ns/yield"],
            Bench::PingPong => &["ns/round trip"],
            Bench::TimersInsertCancel => &["ns/timer"],
            Bench::TimerDelay => &["p50 late us", "p99 late us"],
        }
    }

    /// The same metrics as they are named in the suite's TSV rows
    /// (`corium_benches::tsv`): `ns` per operation, or the lateness
    /// percentiles of `timer_delay` in microseconds.
    pub fn tsv_metrics(self) -> &'static [&'static str] {
        match self {
            Bench::TimerDelay => &["late_p50_us", "late_p99_us"],
            _ => &["ns"],
        }
    }

    /// Runs one round on `rt` and returns one number per [`Bench::metrics`]
    /// entry.
    pub fn run<R: Rt>(self, rt: &R, sizes: &Sizes) -> Vec<f64> {
        let batches = sizes.batches.max(1);
        // Runs `body` `batches` times, each in its own root task, and
        // returns nanoseconds per operation over all of them.
        let per_op = |ops: usize, body: &dyn Fn() -> Duration| {
            let took: Duration = (0..batches).map(|_| body()).sum();
            took.as_nanos() as f64 / (ops * batches) as f64
        };
        match self {
            Bench::SpawnMany => {
                let n = sizes.spawn_many;
                vec![per_op(n, &|| in_task(rt, spawn_many::run::<R>(n)))]
            }
            Bench::YieldMany => {
                let (tasks, yields) = (sizes.yield_tasks, sizes.yields_per_task);
                vec![per_op(tasks * yields, &|| {
                    in_task(rt, yield_many::run::<R>(tasks, yields))
                })]
            }
            Bench::PingPong => {
                let n = sizes.ping_pongs;
                vec![per_op(n, &|| in_task(rt, ping_pong::run::<R>(n)))]
            }
            Bench::ChainedSpawn => {
                let n = sizes.chain_depth;
                vec![per_op(n, &|| in_task(rt, chained_spawn::run::<R>(n)))]
            }
            Bench::TimersInsertCancel => {
                let n = sizes.timers;
                vec![per_op(n, &|| {
                    in_task(rt, timers_insert_cancel::run::<R>(n))
                })]
            }
            Bench::TimerDelay => {
                let (n, window) = (sizes.delay_timers, sizes.delay_window);
                let lateness = in_task(rt, timer_delay::run::<R>(n, window));
                let (p50, p99) = timer_delay::p50_p99_us(lateness);
                vec![p50, p99]
            }
        }
    }
}

/// Runs `work` as a task spawned on `rt` (not as the `block_on` future
/// itself, so on a multi-thread runtime it runs on a worker) and returns
/// its output.
fn in_task<R: Rt, F>(rt: &R, work: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(async move { R::spawn(work).await })
}
