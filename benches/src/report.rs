//! The report: the Markdown table of results, the machine it ran on and the
//! command that produced it, printed to stdout and written to
//! `benches/MICRO.md` (the sync suite's report, `benches/SYNC.md`, is
//! rendered by [`crate::sync::report`] with the helpers here).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use crate::harness::{BenchResult, Runtime};
use crate::micro::Sizes;
use crate::stats::Summary;

/// Where the report is written.
pub fn micro_md_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/MICRO.md"))
}

/// Where the sync suite's report is written.
pub fn sync_md_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/SYNC.md"))
}

/// The whole report: header (command, date, machine and its load average
/// before the run and now, how it was run), the table, and how to read it.
pub fn render(
    results: &[BenchResult],
    runtimes: &[Box<dyn Runtime>],
    args: &[String],
    rounds: usize,
    sizes: &Sizes,
    quick: bool,
    load_before: &str,
) -> String {
    let names: Vec<&str> = runtimes.iter().map(|rt| rt.name()).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# Corium micro benchmarks\n");
    let _ = writeln!(out, "Command: `{}`\n", command(args));
    let _ = writeln!(out, "- date: {}", date_utc());
    let _ = writeln!(
        out,
        "- machine: {} CPUs (nproc), {}, kernel {}; load average before: {load_before}, \
         after: {} (a shared machine: other builds may have been running)",
        nproc(),
        cpu_model(),
        kernel(),
        load_average(),
    );
    let _ = writeln!(
        out,
        "- {rounds} rounds, interleaved ({}), after one warm-up round per runtime; \
         each round builds a fresh runtime and runs the benchmark's body {} times on it \
         (timer_delay: once), the round's figure being the mean",
        names.join(", "),
        sizes.batches,
    );
    let _ = writeln!(
        out,
        "- sizes: {}\n",
        if quick {
            "quick (a tenth of the work: a smoke check, not a result)"
        } else {
            "full (as in shared BENCHMARKS.md)"
        },
    );
    out.push_str(&table(results, runtimes));
    let _ = writeln!(
        out,
        "\nCells: median (min..max) over the rounds. Ratios are of medians; \
         below 1.00 Corium is faster (for lateness: fires closer to the deadline). \
         Each runtime is compared with the peers of its own flavor (-ct: current-thread, \
         -mt: multi-thread, 2 workers)."
    );
    out
}

/// The Markdown table: one row per benchmark metric, one column per
/// runtime, then one ratio column per (Corium flavor, peer of that flavor).
pub fn table(results: &[BenchResult], runtimes: &[Box<dyn Runtime>]) -> String {
    let pairs: Vec<(usize, usize)> = runtimes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_subject())
        .flat_map(|(si, s)| {
            runtimes
                .iter()
                .enumerate()
                .filter(move |(_, p)| !p.is_subject() && p.flavor() == s.flavor())
                .map(move |(pi, _)| (si, pi))
        })
        .collect();

    let mut header = vec!["bench".to_string(), "metric".to_string()];
    header.extend(runtimes.iter().map(|rt| rt.name().to_string()));
    header.extend(
        pairs
            .iter()
            .map(|&(s, p)| format!("{}/{}", runtimes[s].name(), runtimes[p].name())),
    );
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));

    for result in results {
        for (metric, per_runtime) in result.bench.metrics().iter().zip(&result.rounds) {
            let summaries: Vec<Option<Summary>> =
                per_runtime.iter().map(|v| Summary::of(v)).collect();
            let mut row = vec![result.bench.name().to_string(), metric.to_string()];
            row.extend(summaries.iter().map(|s| match s {
                Some(s) => format!(
                    "{} ({}..{})",
                    number(s.median),
                    number(s.min),
                    number(s.max)
                ),
                None => "-".to_string(),
            }));
            row.extend(
                pairs
                    .iter()
                    .map(|&(s, p)| match (summaries[s], summaries[p]) {
                        (Some(s), Some(p)) if p.median != 0.0 => {
                            format!("{:.2}x", s.median / p.median)
                        }
                        _ => "-".to_string(),
                    }),
            );
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
    }
    out
}

/// A measured value with as many decimals as are worth reading.
pub fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The command that reproduces this run.
pub fn command(args: &[String]) -> String {
    let mut command = String::from("cargo run --release -p corium-benches");
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    command
}

/// `date -u`, or `unknown` if it cannot run.
pub fn date_utc() -> String {
    Command::new("date")
        .arg("-u")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// CPUs this process may run on (what `nproc` prints).
pub fn nproc() -> String {
    std::thread::available_parallelism()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// The first `model name` of /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// The kernel release (what `uname -r` prints).
pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The 1, 5 and 15 minute load averages (from /proc/loadavg), to show how
/// busy the shared machine was when a run started.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}
