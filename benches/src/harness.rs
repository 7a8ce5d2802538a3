//! The harness: runs every benchmark on every runtime, interleaved round
//! by round (corium, tokio, smol, ..., then again), after one warm-up run
//! per runtime, and collects one number per metric per round.
//!
//! criterion cannot interleave runtimes within one run, and on a noisy
//! shared machine only an interleaved run gives ratios worth reading.

use std::io::Write;
use std::marker::PhantomData;

use crate::micro::{Bench, Sizes};
use crate::rt::{Flavor, Rt};

/// A runtime as the harness sees it: a column of the table that can run
/// one round of a benchmark. [`column()`] makes one from any [`Rt`].
pub trait Runtime {
    /// Column name.
    fn name(&self) -> &'static str;
    /// Current-thread or multi-thread.
    fn flavor(&self) -> Flavor;
    /// Whether this is Corium (gets ratio columns against its peers).
    fn is_subject(&self) -> bool;
    /// Builds a fresh runtime, runs one round of `bench` on it and returns
    /// one number per metric of `bench`.
    fn measure(&self, bench: Bench, sizes: &Sizes) -> Vec<f64>;
}

/// The [`Runtime`] for the [`Rt`] implementation `R`.
pub fn column<R: Rt>() -> Box<dyn Runtime> {
    Box::new(Column::<R>(PhantomData))
}

struct Column<R>(PhantomData<fn() -> R>);

impl<R: Rt> Runtime for Column<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn flavor(&self) -> Flavor {
        R::FLAVOR
    }

    fn is_subject(&self) -> bool {
        R::SUBJECT
    }

    fn measure(&self, bench: Bench, sizes: &Sizes) -> Vec<f64> {
        let rt = R::build();
        let values = bench.run(&rt, sizes);
        drop(rt);
        values
    }
}

/// Every round of one benchmark: `rounds[metric][runtime]` holds one value
/// per round.
#[derive(Debug)]
pub struct BenchResult {
    /// Which benchmark.
    pub bench: Bench,
    /// Indexed by metric, then by runtime (in [`crate::runtimes::all`]
    /// order), then by round.
    pub rounds: Vec<Vec<Vec<f64>>>,
}

/// Runs `benches` on `runtimes`, `rounds` interleaved rounds each, with a
/// progress line on stderr.
pub fn run_all(
    benches: &[Bench],
    runtimes: &[Box<dyn Runtime>],
    sizes: &Sizes,
    rounds: usize,
) -> Vec<BenchResult> {
    let mut results = Vec::with_capacity(benches.len());
    for &bench in benches {
        for rt in runtimes {
            progress(bench, "warm-up", rt.name());
            rt.measure(bench, sizes);
        }
        let metrics = bench.metrics().len();
        let mut per_metric = vec![vec![Vec::with_capacity(rounds); runtimes.len()]; metrics];
        for round in 1..=rounds {
            for (index, rt) in runtimes.iter().enumerate() {
                progress(bench, &format!("round {round}/{rounds}"), rt.name());
                let values = rt.measure(bench, sizes);
                for (metric, value) in values.into_iter().enumerate() {
                    per_metric[metric][index].push(value);
                }
            }
        }
        results.push(BenchResult {
            bench,
            rounds: per_metric,
        });
    }
    eprint!("\r{:<64}\r", "");
    let _ = std::io::stderr().flush();
    results
}

/// Rewrites the progress line, e.g. `[spawn_many] round 3/7 tokio-ct`.
fn progress(bench: Bench, step: &str, runtime: &str) {
    let line = format!("[{}] {step} {runtime}", bench.name());
    eprint!("\r{line:<64}");
    let _ = std::io::stderr().flush();
}
