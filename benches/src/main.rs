//! `corium-benches`: Corium's micro benchmark suite.
//!
//! Runs `spawn_many`, `yield_many`, `ping_pong`, `chained_spawn`,
//! `timers_insert_cancel` and `timer_delay` on Corium and its peers (tokio
//! current_thread and multi_thread, smol) in one run, interleaved round by
//! round, and prints a Markdown table of median, min and max per runtime
//! with Corium's ratios against its peers; the same report goes to
//! `benches/MICRO.md`. Benchmarks report, they never assert timing.
//!
//! The sync suite (`--only sync`, see [`sync`]) compares `corium::sync`
//! with `tokio::sync` and `async-channel` / `async-lock`, every column of a
//! row on the same executor, and writes `benches/SYNC.md`.
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
mod sync;

use std::process::ExitCode;

use cli::{Only, Options, USAGE};
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
    let (micro, run_sync) = match options.only {
        None => (Bench::ALL.to_vec(), true),
        Some(Only::AllMicro) => (Bench::ALL.to_vec(), false),
        Some(Only::Micro(bench)) => (vec![bench], false),
        Some(Only::Sync) => (Vec::new(), true),
    };
    if !micro.is_empty() {
        if let Err(code) = run_micro(&micro, &options, &args) {
            return code;
        }
    }
    if run_sync {
        if let Err(code) = run_sync_suite(&options, &args) {
            return code;
        }
    }
    ExitCode::SUCCESS
}

/// Runs the micro benchmarks `benches`, prints the table and writes
/// `benches/MICRO.md`.
fn run_micro(benches: &[Bench], options: &Options, args: &[String]) -> Result<(), ExitCode> {
    let sizes = if options.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let runtimes = runtimes::all();
    let load_before = report::load_average();

    let results = harness::run_all(benches, &runtimes, &sizes, options.rounds);
    let report = report::render(
        &results,
        &runtimes,
        args,
        options.rounds,
        &sizes,
        options.quick,
        &load_before,
    );
    print!("{report}");
    write_report(&report::micro_md_path(), &report)
}

/// Runs the sync suite, prints its table and writes `benches/SYNC.md`.
fn run_sync_suite(options: &Options, args: &[String]) -> Result<(), ExitCode> {
    let sizes = if options.quick {
        sync::SyncSizes::quick()
    } else {
        sync::SyncSizes::full()
    };
    let load_before = report::load_average();
    let rows = sync::run_all(&sizes, options.rounds);
    let info = sync::report::RunInfo {
        args,
        rounds: options.rounds,
        sizes: &sizes,
        quick: options.quick,
        load_before,
    };
    let report = sync::report::render(&rows, &info);
    print!("{report}");
    write_report(&report::sync_md_path(), &report)
}

/// Writes `report` to `path`, saying so on stderr.
fn write_report(path: &std::path::Path, report: &str) -> Result<(), ExitCode> {
    if let Err(error) = std::fs::write(path, report) {
        eprintln!("could not write {}: {error}", path.display());
        return Err(ExitCode::FAILURE);
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}
