//! The sync benchmarks: `corium::sync` beside `tokio::sync` and smol-rs's
//! `async-channel` / `async-lock`, in one run, interleaved round by round.
//!
//! # Which executor drives them
//!
//! A row of the table is one benchmark on one executor; its columns are the
//! three primitive families, all driven by that same executor, so within a
//! row the primitive is the only thing that differs. The primitives need
//! nothing but wakers, so any of them runs on any executor, and the cost of
//! a primitive depends on the executor's wake path (a wake from the same
//! thread, the run queue, a cross-thread unpark). So rather than pick one
//! executor, every benchmark runs on both current-thread runtimes,
//! `corium-ct` and `tokio-ct`: a ratio that holds on both is the
//! primitive's, not an accident of one scheduler. The benchmarks where
//! tasks contend (`mpsc_4p`, `mutex_contended`, `semaphore_contended`) also
//! run on `tokio-mt` (2 workers), since contention across threads is where
//! primitives differ most; Corium has no multi-thread runtime yet, so that
//! row has no Corium executor.
//!
//! One thing is not the primitive alone on tokio's executors: tokio's own
//! primitives take part in tokio's cooperative budget there (a forced yield
//! after a run of ready operations in one task), and nowhere else.
//!
//! Every body runs inside a root task spawned on a fresh runtime (as the
//! micro benchmarks do) and times its own work; each measurement of a
//! round is one run of the body, sized to take tens of milliseconds.

mod locks;
mod mpsc;
mod oneshot;
mod prims;
pub mod report;

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use prims::{Channels, CoriumSync, Locks, SmolRs, TokioSync};

use crate::rt::Rt;
use crate::runtimes::corium::CoriumCt;
use crate::runtimes::tokio::{TokioCt, TokioMt};

/// One sync benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncBench {
    /// Bounded mpsc (capacity 1,024), one producer task.
    Mpsc1p,
    /// Bounded mpsc (capacity 1,024), four producer tasks.
    Mpsc4p,
    /// Request over an mpsc, answer over a oneshot, two tasks.
    OneshotRpc,
    /// Create, send and await a oneshot in one task.
    OneshotLocal,
    /// Lock/unlock in one task.
    MutexUncontended,
    /// Four tasks locking, yielding while holding the lock.
    MutexContended,
    /// Acquire/release in one task.
    SemaphoreUncontended,
    /// Four tasks on two permits, yielding while holding one.
    SemaphoreContended,
}

/// A runtime that drives a row (every column of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    /// Corium's current-thread runtime.
    CoriumCt,
    /// tokio's `current_thread` runtime.
    TokioCt,
    /// tokio's `multi_thread` runtime, 2 workers.
    TokioMt,
}

/// A primitive family: a column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `corium::sync`.
    Corium,
    /// `tokio::sync`.
    Tokio,
    /// `async-channel` (channel rows) or `async-lock` (lock rows).
    Smol,
}

impl Family {
    /// Every family, in column and interleaving order.
    pub const ALL: [Family; 3] = [Family::Corium, Family::Tokio, Family::Smol];

    /// Column header.
    pub fn header(self) -> &'static str {
        match self {
            Family::Corium => "corium::sync",
            Family::Tokio => "tokio::sync",
            Family::Smol => "async-channel / async-lock",
        }
    }

    /// The family's name for `bench` (the crate a cell measured).
    pub fn name_for(self, bench: SyncBench) -> &'static str {
        match (self, bench.is_channel()) {
            (Family::Corium, true) => CoriumSync::CHANNELS,
            (Family::Corium, false) => CoriumSync::LOCKS,
            (Family::Tokio, true) => TokioSync::CHANNELS,
            (Family::Tokio, false) => TokioSync::LOCKS,
            (Family::Smol, true) => SmolRs::CHANNELS,
            (Family::Smol, false) => SmolRs::LOCKS,
        }
    }
}

impl Executor {
    /// Row label.
    pub fn name(self) -> &'static str {
        match self {
            Executor::CoriumCt => CoriumCt::NAME,
            Executor::TokioCt => TokioCt::NAME,
            Executor::TokioMt => TokioMt::NAME,
        }
    }

    /// Builds a fresh runtime of this kind and runs one measurement of
    /// `bench` with `family`'s primitives on it: nanoseconds per operation.
    fn measure(self, bench: SyncBench, family: Family, sizes: &SyncSizes) -> f64 {
        match self {
            Executor::CoriumCt => measure_on::<CoriumCt>(bench, family, sizes),
            Executor::TokioCt => measure_on::<TokioCt>(bench, family, sizes),
            Executor::TokioMt => measure_on::<TokioMt>(bench, family, sizes),
        }
    }
}

/// How much work each sync benchmark does per measurement.
#[derive(Debug, Clone)]
pub struct SyncSizes {
    /// Messages per `mpsc_*` run, shared between the producers.
    pub mpsc_messages: usize,
    /// Capacity of the `mpsc_*` channel.
    pub mpsc_capacity: usize,
    /// Round trips per `oneshot_rpc` run.
    pub rpc_requests: usize,
    /// Oneshots per `oneshot_local` run.
    pub oneshots: usize,
    /// Lock (or acquire) cycles per uncontended run.
    pub uncontended_ops: usize,
    /// Lock (or acquire) cycles per contended run, over all tasks.
    pub contended_ops: usize,
    /// Tasks in the contended runs (and producers in `mpsc_4p`).
    pub contending_tasks: usize,
    /// Permits in `semaphore_contended`.
    pub contended_permits: usize,
}

impl SyncSizes {
    /// The full sizes: each measurement takes roughly 10 to 100 ms here,
    /// long enough to time on a noisy machine, and a round of one
    /// benchmark (every executor and family once) well under a second.
    pub fn full() -> SyncSizes {
        SyncSizes {
            mpsc_messages: 1_000_000,
            mpsc_capacity: 1_024,
            rpc_requests: 200_000,
            oneshots: 1_000_000,
            uncontended_ops: 2_000_000,
            contended_ops: 200_000,
            contending_tasks: 4,
            contended_permits: 2,
        }
    }

    /// A tenth of the work, for a smoke check.
    pub fn quick() -> SyncSizes {
        SyncSizes {
            mpsc_messages: 100_000,
            rpc_requests: 20_000,
            oneshots: 100_000,
            uncontended_ops: 200_000,
            contended_ops: 20_000,
            ..SyncSizes::full()
        }
    }

    /// One line describing the sizes, for the report.
    pub fn describe(&self) -> String {
        format!(
            "mpsc {} messages (capacity {}), oneshot_rpc {} round trips, oneshot_local {}, \
             uncontended {} cycles, contended {} cycles over {} tasks ({} permits for the semaphore)",
            self.mpsc_messages,
            self.mpsc_capacity,
            self.rpc_requests,
            self.oneshots,
            self.uncontended_ops,
            self.contended_ops,
            self.contending_tasks,
            self.contended_permits,
        )
    }
}

impl SyncBench {
    /// Every sync benchmark, in the order the suite runs them.
    pub const ALL: [SyncBench; 8] = [
        SyncBench::Mpsc1p,
        SyncBench::Mpsc4p,
        SyncBench::OneshotRpc,
        SyncBench::OneshotLocal,
        SyncBench::MutexUncontended,
        SyncBench::MutexContended,
        SyncBench::SemaphoreUncontended,
        SyncBench::SemaphoreContended,
    ];

    /// The name in the table.
    pub fn name(self) -> &'static str {
        match self {
            SyncBench::Mpsc1p => "mpsc_1p",
            SyncBench::Mpsc4p => "mpsc_4p",
            SyncBench::OneshotRpc => "oneshot_rpc",
            SyncBench::OneshotLocal => "oneshot_local",
            SyncBench::MutexUncontended => "mutex_uncontended",
            SyncBench::MutexContended => "mutex_contended",
            SyncBench::SemaphoreUncontended => "semaphore_uncontended",
            SyncBench::SemaphoreContended => "semaphore_contended",
        }
    }

    /// What the number means.
    pub fn metric(self) -> &'static str {
        match self {
            SyncBench::Mpsc1p | SyncBench::Mpsc4p => "ns/msg",
            SyncBench::OneshotRpc => "ns/round trip",
            SyncBench::OneshotLocal => "ns/oneshot",
            SyncBench::MutexUncontended | SyncBench::MutexContended => "ns/lock",
            SyncBench::SemaphoreUncontended | SyncBench::SemaphoreContended => "ns/acquire",
        }
    }

    /// Channel benchmark (third column async-channel) or lock benchmark
    /// (third column async-lock).
    pub fn is_channel(self) -> bool {
        matches!(
            self,
            SyncBench::Mpsc1p | SyncBench::Mpsc4p | SyncBench::OneshotRpc | SyncBench::OneshotLocal
        )
    }

    /// The executors this benchmark runs on: both current-thread runtimes,
    /// plus tokio's multi-thread one where tasks contend.
    pub fn executors(self) -> &'static [Executor] {
        match self {
            SyncBench::Mpsc4p | SyncBench::MutexContended | SyncBench::SemaphoreContended => {
                &[Executor::CoriumCt, Executor::TokioCt, Executor::TokioMt]
            }
            _ => &[Executor::CoriumCt, Executor::TokioCt],
        }
    }
}

/// Builds `R`, runs one measurement of `bench` with `family` on it.
fn measure_on<R: Rt>(bench: SyncBench, family: Family, sizes: &SyncSizes) -> f64 {
    match family {
        Family::Corium => measure_with::<R, CoriumSync>(bench, sizes),
        Family::Tokio => measure_with::<R, TokioSync>(bench, sizes),
        Family::Smol => measure_with::<R, SmolRs>(bench, sizes),
    }
}

/// One measurement of `bench` with the primitives of `P` on a fresh `R`:
/// nanoseconds per operation.
fn measure_with<R: Rt, P: Channels + Locks>(bench: SyncBench, sizes: &SyncSizes) -> f64 {
    let rt = R::build();
    let tasks = sizes.contending_tasks;
    let (ops, took) = match bench {
        SyncBench::Mpsc1p => {
            let (n, cap) = (sizes.mpsc_messages, sizes.mpsc_capacity);
            (n, in_task(&rt, mpsc::run::<R, P>(1, n, cap)))
        }
        SyncBench::Mpsc4p => {
            let (n, cap) = (sizes.mpsc_messages / tasks * tasks, sizes.mpsc_capacity);
            (n, in_task(&rt, mpsc::run::<R, P>(tasks, n, cap)))
        }
        SyncBench::OneshotRpc => {
            let n = sizes.rpc_requests;
            (n, in_task(&rt, oneshot::rpc::<R, P>(n)))
        }
        SyncBench::OneshotLocal => {
            let n = sizes.oneshots;
            (n, in_task(&rt, oneshot::local::<P>(n)))
        }
        SyncBench::MutexUncontended => {
            let n = sizes.uncontended_ops;
            (n, in_task(&rt, locks::mutex_uncontended::<P>(n)))
        }
        SyncBench::MutexContended => {
            let n = sizes.contended_ops / tasks * tasks;
            (n, in_task(&rt, locks::mutex_contended::<R, P>(tasks, n)))
        }
        SyncBench::SemaphoreUncontended => {
            let n = sizes.uncontended_ops;
            (n, in_task(&rt, locks::semaphore_uncontended::<P>(n)))
        }
        SyncBench::SemaphoreContended => {
            let (n, permits) = (sizes.contended_ops / tasks * tasks, sizes.contended_permits);
            (
                n,
                in_task(&rt, locks::semaphore_contended::<R, P>(tasks, permits, n)),
            )
        }
    };
    drop(rt);
    took.as_nanos() as f64 / ops.max(1) as f64
}

/// Runs `work` as a task spawned on `rt` (so on a multi-thread runtime it
/// runs on a worker) and returns its output.
fn in_task<R: Rt, F>(rt: &R, work: F) -> F::Output
where
    F: Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async move { R::spawn(work).await })
}

/// Every round of one benchmark on one executor: `rounds[family]` holds
/// one value per round, in [`Family::ALL`] order.
#[derive(Debug)]
pub struct SyncRow {
    /// Which benchmark.
    pub bench: SyncBench,
    /// Which executor drove every column.
    pub executor: Executor,
    /// Per family, per round: nanoseconds per operation.
    pub rounds: Vec<Vec<f64>>,
}

/// Runs every sync benchmark: per benchmark, one warm-up measurement per
/// (executor, family), then `rounds` rounds, each measuring every
/// (executor, family) pair once in the same order, so the columns of a row
/// are interleaved round by round.
pub fn run_all(sizes: &SyncSizes, rounds: usize) -> Vec<SyncRow> {
    let mut rows = Vec::new();
    for bench in SyncBench::ALL {
        let executors = bench.executors();
        for &executor in executors {
            for family in Family::ALL {
                progress(bench, "warm-up", executor, family);
                executor.measure(bench, family, sizes);
            }
        }
        let mut per_row: Vec<Vec<Vec<f64>>> =
            vec![vec![Vec::with_capacity(rounds); Family::ALL.len()]; executors.len()];
        for round in 1..=rounds {
            for (row, &executor) in executors.iter().enumerate() {
                for (column, family) in Family::ALL.into_iter().enumerate() {
                    progress(bench, &format!("round {round}/{rounds}"), executor, family);
                    per_row[row][column].push(executor.measure(bench, family, sizes));
                }
            }
        }
        rows.extend(
            executors
                .iter()
                .zip(per_row)
                .map(|(&executor, rounds)| SyncRow {
                    bench,
                    executor,
                    rounds,
                }),
        );
    }
    eprint!("\r{:<72}\r", "");
    let _ = std::io::stderr().flush();
    rows
}

/// Rewrites the progress line, e.g. `[mpsc_4p] round 3/5 tokio-mt tokio::sync`.
fn progress(bench: SyncBench, step: &str, executor: Executor, family: Family) {
    let line = format!(
        "[{}] {step} {} {}",
        bench.name(),
        executor.name(),
        family.name_for(bench)
    );
    eprint!("\r{line:<72}");
    let _ = std::io::stderr().flush();
}
