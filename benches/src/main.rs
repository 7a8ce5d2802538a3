//! `corium-benches`: Corium's micro benchmark suite.
//!
//! Runs `spawn_many`, `yield_many`, `ping_pong`, `chained_spawn`,
//! `timers_insert_cancel` and `timer_delay` on Corium and its peers (tokio
//! current_thread and multi_thread, smol) in one run, interleaved round by
//! round, and prints a Markdown table of median, min and max per runtime
//! with Corium's ratios against its peers; the same report goes to
//! `benches/MICRO.md`. Benchmarks report, they never assert timing.
//!
//! Run with `cargo run --release -p corium-benches -- [--rounds N]
//! [--only NAME] [--quick]`.

mod cli;
mod harness;
mod micro;
mod report;
mod rng;
mod rt;
mod runtimes;
mod stats;

use std::process::ExitCode;

use cli::{Options, USAGE};
use micro::{Bench, Sizes};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(args.clone()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sizes = if options.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let benches: Vec<Bench> = match options.only {
        Some(bench) => vec![bench],
        None => Bench::ALL.to_vec(),
    };
    let runtimes = runtimes::all();

    let results = harness::run_all(&benches, &runtimes, &sizes, options.rounds);
    let report = report::render(
        &results,
        &runtimes,
        &args,
        options.rounds,
        &sizes,
        options.quick,
    );
    print!("{report}");
    let path = report::micro_md_path();
    if let Err(error) = std::fs::write(&path, &report) {
        eprintln!("could not write {}: {error}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}
