//! `suite-report`: turns the one-command suite's results directory into
//! `benches/RESULTS.md` (the goal table of shared BENCHMARKS.md, every
//! Corium/peer ratio, every part's report in full) and
//! `benches/results.svg` (the ratios as a bar chart).
//!
//! `suite-report --results DIR [--md FILE] [--svg FILE]`; see
//! [`corium_benches::suite`] for what it reads.

use std::process::ExitCode;

use corium_benches::command_line;
use corium_benches::suite::{self, Options, Verdict, USAGE};

fn main() -> ExitCode {
    let (options, args) = match command_line::parse(USAGE, Options::parse) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let command = format!(
        "cargo run --release -p corium-benches --bin suite-report -- {}",
        args.join(" ")
    );
    match suite::run(&options, &command) {
        Ok(outcome) => {
            for problem in &outcome.problems {
                eprintln!("not read: {problem}");
            }
            let met = outcome
                .goals
                .iter()
                .filter(|g| g.verdict == Verdict::Met)
                .count();
            eprintln!(
                "read {} rows; goals met: {met} of {}; wrote {} and {}",
                outcome.rows,
                outcome.goals.len(),
                options.md.display(),
                options.svg.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("suite-report: {message}");
            ExitCode::FAILURE
        }
    }
}
