//! The sync suite's report: header (command, date, machine, load, how it
//! was run), one table row per (benchmark, executor) with one column per
//! primitive family and Corium's ratios, and how to read it. Printed to
//! stdout and written to `benches/SYNC.md`.

use std::fmt::Write as _;

use corium_benches::tsv;

use super::{Family, SyncRow, SyncSizes};
use crate::report::{command, cpu_model, date_utc, kernel, nproc, number, tsv_row};
use crate::stats::Summary;

/// What the report's header needs to know about the run.
#[derive(Debug)]
pub struct RunInfo<'a> {
    /// The arguments the suite was given (without the program name).
    pub args: &'a [String],
    /// Interleaved rounds.
    pub rounds: usize,
    /// The sizes used.
    pub sizes: &'a SyncSizes,
    /// Whether `--quick` sizes were used.
    pub quick: bool,
    /// `/proc/loadavg` when the run started.
    pub load_before: String,
}

/// The whole report.
pub fn render(rows: &[SyncRow], info: &RunInfo<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Corium sync benchmarks\n");
    let _ = writeln!(out, "Command: `{}`\n", command(info.args));
    let _ = writeln!(out, "- date: {}", date_utc());
    let _ = writeln!(
        out,
        "- machine: {} CPUs (nproc), {}, kernel {}; load average at start {} \
         (a shared machine: other builds may have been running)",
        nproc(),
        cpu_model(),
        kernel(),
        info.load_before,
    );
    let _ = writeln!(
        out,
        "- {} rounds; within a round each row's columns run one after the other \
         (corium::sync, tokio::sync, async-channel / async-lock), after one warm-up \
         measurement per cell; each measurement builds a fresh runtime and runs the \
         benchmark once on it, in a task spawned on it",
        info.rounds,
    );
    let _ = writeln!(
        out,
        "- sizes: {}{}\n",
        if info.quick {
            "quick (a tenth of the work: a smoke check, not a result): "
        } else {
            ""
        },
        info.sizes.describe(),
    );
    out.push_str(&table(rows));
    let _ = writeln!(
        out,
        "\nCells: median (min..max) over the rounds, nanoseconds per operation. \
         A row is one benchmark on one executor (corium-ct, tokio-ct: current-thread; \
         tokio-mt: multi-thread, 2 workers) and every column of it runs on that executor, \
         so only the primitive differs within a row. The third column is `async-channel` \
         (`bounded`, used as an mpsc; `bounded(1)` as the oneshot) for the mpsc_* and \
         oneshot_* rows and `async-lock` for the mutex_* and semaphore_* rows. Ratios are \
         of medians; below 1.00 corium::sync is faster. The contended rows include one \
         executor `yield_now` per operation (the lock is held across it), the same in \
         every column; on tokio's executors tokio::sync also takes part in tokio's \
         cooperative budget. See benches/src/sync/ for what each body does."
    );
    out
}

/// The Markdown table.
pub fn table(rows: &[SyncRow]) -> String {
    let mut header = vec!["bench", "executor", "metric"];
    header.extend(Family::ALL.iter().map(|f| f.header()));
    header.extend(["corium/tokio", "corium/async-*"]);
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let summaries: Vec<Option<Summary>> = row.rounds.iter().map(|v| Summary::of(v)).collect();
        let mut cells = vec![
            row.bench.name().to_string(),
            row.executor.name().to_string(),
            row.bench.metric().to_string(),
        ];
        cells.extend(summaries.iter().map(|s| match s {
            Some(s) => format!(
                "{} ({}..{})",
                number(s.median),
                number(s.min),
                number(s.max)
            ),
            None => "-".to_string(),
        }));
        let ratio = |peer: usize| match (summaries[0], summaries[peer]) {
            (Some(s), Some(p)) if p.median != 0.0 => format!("{:.2}x", s.median / p.median),
            _ => "-".to_string(),
        };
        cells.push(ratio(1));
        cells.push(ratio(2));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// The TSV rows (section `sync`, metric `ns`, see [`corium_benches::tsv`])
/// of every cell of the table. A cell's server is the crate it measured and
/// the executor of its row, `family@executor`: `corium::sync@corium-ct`,
/// `tokio::sync@tokio-mt`, `async-channel@tokio-ct`, `async-lock@corium-ct`.
pub fn tsv_rows(rows: &[SyncRow]) -> Vec<tsv::Row> {
    let mut out = Vec::new();
    for row in rows {
        for (family, values) in Family::ALL.iter().zip(&row.rounds) {
            let server = format!("{}@{}", family.name_for(row.bench), row.executor.name());
            out.push(tsv_row("sync", row.bench.name(), &server, "ns", values));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Executor, SyncBench};

    #[test]
    fn a_sync_cell_is_named_family_at_executor() {
        let rows = [SyncRow {
            bench: SyncBench::MutexContended,
            executor: Executor::TokioMt,
            rounds: vec![vec![300.0], vec![380.0], vec![440.0]],
        }];
        let servers: Vec<String> = tsv_rows(&rows).into_iter().map(|r| r.server).collect();
        assert_eq!(
            servers,
            [
                "corium::sync@tokio-mt",
                "tokio::sync@tokio-mt",
                "async-lock@tokio-mt"
            ]
        );
        assert_eq!(
            tsv_rows(&rows)[0].line(),
            "sync\tmutex_contended\tcorium::sync@tokio-mt\tns\t300.0000\t300.0000\t300.0000\t1"
        );
    }
}
