//! The report: the Markdown table of results, the machine it ran on and the
//! command that produced it, printed to stdout and written to
//! `benches/MICRO.md` (the sync suite's report, `benches/SYNC.md`, is
//! rendered by [`crate::sync::report`] with the helpers here).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use corium_benches::figure::number;
pub use corium_benches::machine::{cpu_model, date_utc, kernel, load_average, nproc};
use corium_benches::tsv;

use crate::harness::{BenchResult, Runtime};
use crate::micro::Sizes;
use crate::stats::Summary;

/// The directory the reports go to without `--out-dir`: `benches/`.
pub fn default_out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the report is written: `MICRO.md` in `dir`.
pub fn micro_md_path(dir: &Path) -> PathBuf {
    dir.join("MICRO.md")
}

/// Where the sync suite's report is written: `SYNC.md` in `dir`.
pub fn sync_md_path(dir: &Path) -> PathBuf {
    dir.join("SYNC.md")
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

/// The command that reproduces this run.
pub fn command(args: &[String]) -> String {
    let mut command = String::from("cargo run --release -p corium-benches");
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    command
}

/// The TSV rows (section `micro`, see [`corium_benches::tsv`]) of every
/// cell of the table: median, min and max over the rounds and how many
/// rounds, per benchmark, metric and runtime.
pub fn tsv_rows(results: &[BenchResult], runtimes: &[Box<dyn Runtime>]) -> Vec<tsv::Row> {
    let mut rows = Vec::new();
    for result in results {
        let metrics = result.bench.tsv_metrics().iter().zip(&result.rounds);
        for (metric, per_runtime) in metrics {
            for (rt, values) in runtimes.iter().zip(per_runtime) {
                rows.push(tsv_row(
                    "micro",
                    result.bench.name(),
                    rt.name(),
                    metric,
                    values,
                ));
            }
        }
    }
    rows
}

/// One TSV row summarising `values` (one per round).
pub fn tsv_row(section: &str, bench: &str, server: &str, metric: &str, values: &[f64]) -> tsv::Row {
    let figures =
        Summary::of(values).map_or([None; 3], |s| [Some(s.median), Some(s.min), Some(s.max)]);
    tsv::Row::new(section, bench, server, metric, figures, values.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::micro::Bench;

    #[test]
    fn every_cell_becomes_a_tsv_row() {
        let runtimes = crate::runtimes::all();
        let rounds = |metric: f64| {
            (0..runtimes.len())
                .map(|rt| vec![metric + rt as f64, metric, metric + 10.0])
                .collect::<Vec<_>>()
        };
        let results = [
            BenchResult {
                bench: Bench::SpawnMany,
                rounds: vec![rounds(100.0)],
            },
            BenchResult {
                bench: Bench::TimerDelay,
                rounds: vec![rounds(40.0), rounds(100.0)],
            },
        ];
        let rows = tsv_rows(&results, &runtimes);
        assert_eq!(rows.len(), 3 * runtimes.len());
        let lines: Vec<String> = rows.iter().map(tsv::Row::line).collect();
        assert_eq!(
            lines[0],
            "micro\tspawn_many\tcorium-ct\tns\t100.0000\t100.0000\t110.0000\t3"
        );
        assert_eq!(
            lines[runtimes.len() + 1],
            "micro\ttimer_delay\ttokio-ct\tlate_p50_us\t41.0000\t40.0000\t50.0000\t3"
        );
        assert!(lines[2 * runtimes.len()].contains("\tcorium-ct\tlate_p99_us\t"));
        for line in &lines {
            assert_eq!(tsv::Row::parse(line).unwrap().line(), *line);
        }
    }

    #[test]
    fn a_cell_with_no_rounds_is_na() {
        let row = tsv_row("micro", "yield_many", "smol", "ns", &[]);
        assert_eq!(row.line(), "micro\tyield_many\tsmol\tns\tNA\tNA\tNA\t0");
    }
}
