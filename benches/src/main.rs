//! `corium-benches`: Corium's micro benchmark suite.
//!
//! Runs `spawn_many`, `yield_many`, `ping_pong`, `chained_spawn`,
//! `timers_insert_cancel` and `timer_delay` on Corium and its peers (tokio
//! current_thread and multi_thread, smol) in one run, interleaved round by
//! round, and prints a Markdown table of median, min and max per runtime
//! with Corium's ratios against its peers; the same report goes to
//! `benches/MICRO.md` (or `--out-dir`). Benchmarks report, they never
//! assert timing. `--tsv FILE` also appends every cell to FILE as a row
//! of the suite's machine-readable results (`corium_benches::tsv`), which
//! `suite-report` turns into `benches/RESULTS.md`.
//!
//! The sync suite (`--only sync`, see [`sync`]) compares `corium::sync`
//! with `tokio::sync` and `async-channel` / `async-lock`, every column of a
//! row on the same executor, and writes `benches/SYNC.md`.
//!
//! Run with `cargo run --release -p corium-benches -- [--rounds N]
//! [--only NAME] [--quick] [--tsv FILE] [--out-dir DIR]`.

mod cli;
mod harness;
mod micro;
mod report;
mod rng;
mod rt;
mod runtimes;
mod stats;
mod sync;

use std::path::Path;
use std::process::ExitCode;

use corium_benches::{command_line, tsv};

use cli::{Only, Options, USAGE};
use micro::{Bench, Sizes};

fn main() -> ExitCode {
    let (options, args) = match command_line::parse(USAGE, Options::parse) {
        Ok(parsed) => parsed,
        Err(code) => return code,
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
/// MICRO.md (and the TSV rows, with `--tsv`).
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
    write_report(&report::micro_md_path(&out_dir(options)), &report)?;
    match &options.tsv {
        Some(path) => append_tsv(path, &report::tsv_rows(&results, &runtimes)),
        None => Ok(()),
    }
}

/// Runs the sync suite, prints its table and writes SYNC.md (and the TSV
/// rows, with `--tsv`).
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
    write_report(&report::sync_md_path(&out_dir(options)), &report)?;
    match &options.tsv {
        Some(path) => append_tsv(path, &sync::report::tsv_rows(&rows)),
        None => Ok(()),
    }
}

/// Where the Markdown reports go: `--out-dir`, else `benches/`.
fn out_dir(options: &Options) -> std::path::PathBuf {
    options
        .out_dir
        .clone()
        .unwrap_or_else(report::default_out_dir)
}

/// Appends `rows` to the TSV file at `path`, saying so on stderr.
fn append_tsv(path: &Path, rows: &[tsv::Row]) -> Result<(), ExitCode> {
    if let Err(error) = tsv::append(path, rows) {
        eprintln!("could not append to {}: {error}", path.display());
        return Err(ExitCode::FAILURE);
    }
    eprintln!("appended {} rows to {}", rows.len(), path.display());
    Ok(())
}

/// Writes `report` to `path`, saying so on stderr.
fn write_report(path: &Path, report: &str) -> Result<(), ExitCode> {
    if let Some(dir) = path.parent() {
        // `--out-dir` may name a directory the suite has not made yet.
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(error) = std::fs::write(path, report) {
        eprintln!("could not write {}: {error}", path.display());
        return Err(ExitCode::FAILURE);
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}
