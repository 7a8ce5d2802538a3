//! RESULTS.md: the header (command, date, machine, the suite's notes), the
//! goal table, the chart, the ratios, then every per-part report in full
//! with its headings one level down, so the file holds every figure.

use std::fmt::Write as _;

use super::goals::{GoalRow, Verdict};
use super::ratios::{self, figure_cell};
use super::results::{Results, PARTS};
use crate::machine;

/// What RESULTS.md says about how it was made.
#[derive(Debug)]
pub struct Context<'a> {
    /// The command that wrote this report.
    pub report_command: &'a str,
    /// The chart's path as the Markdown file should link it, if one was
    /// written.
    pub svg_link: Option<&'a str>,
}

/// The whole of RESULTS.md.
pub fn render(results: &Results, goals: &[GoalRow], context: &Context<'_>) -> String {
    let mut out = header(results, context);
    out.push_str(&goal_table(goals));
    if let Some(link) = context.svg_link {
        let _ = writeln!(
            out,
            "\n![Corium against each peer, one group per goal]({link})\n\n\
             The chart: one group per goal row above (not the one argued on paper), one bar per \
             peer. Every bar is turned so that **lower is better**: Corium's figure over the \
             peer's for times, CPU, syscalls and memory, and the peer's over Corium's for rates \
             (marked *inverted*). Bars against the raw epoll loop (grey) are against the limit, \
             a program with no runtime, not a peer. The black line is parity (1.0); a red tick \
             is the goal's bound on that bar (for an absolute goal, such as timer lateness \
             <= 1 ms, the bound divided by the peer's figure)."
        );
    }
    let _ = writeln!(
        out,
        "\n## Ratios\n\n\
         Every ratio of a Corium median to a peer's or a limit's median in this run, of the \
         same benchmark and metric. Each Corium figure is compared with the servers of its own \
         flavor and placement (`-ct` with current-thread peers, `-mt` with multi-thread ones, \
         `@unpinned` with `@unpinned`; a sync row with the primitives on the same executor), \
         and a multi-thread one also with Corium's own current-thread figure. Cells are \
         Corium/peer as is: **for time, CPU, memory and syscalls lower is better; for rates \
         (`ops_s`, `req_s`, `mib_s`) higher is better** (the metric column says which).\n"
    );
    out.push_str(&ratios::render(results));
    out.push_str(&parts(results));
    out
}

fn header(results: &Results, context: &Context<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Corium benchmark results\n");
    let _ = writeln!(
        out,
        "Command: `{}`\n",
        results
            .meta("command")
            .unwrap_or("not recorded (no `command:` in meta.txt)")
    );
    let date = results.meta("date").map_or_else(
        || {
            format!(
                "not recorded; this report was written {}",
                machine::date_utc()
            )
        },
        str::to_string,
    );
    let _ = writeln!(out, "- date: {date}");
    let machine = results.meta("machine").map_or_else(
        || {
            format!(
                "{} (the machine that wrote this report: meta.txt does not say)",
                machine::describe()
            )
        },
        str::to_string,
    );
    let _ = writeln!(out, "- machine: {machine}");
    for (key, value) in results.notes() {
        let _ = writeln!(out, "- {key}: {value}");
    }
    let _ = writeln!(
        out,
        "- results: `{}`: {} ({} rows)",
        results.dir.display(),
        if results.files.is_empty() {
            "no `*.tsv` file".to_string()
        } else {
            results.files.join(", ")
        },
        results.rows().len()
    );
    let _ = writeln!(out, "- this report: `{}`", context.report_command);
    for problem in &results.problems {
        let _ = writeln!(out, "- not read: {problem}");
    }
    out
}

fn goal_table(goals: &[GoalRow]) -> String {
    let count = |f: fn(&Verdict) -> bool| goals.iter().filter(|g| f(&g.verdict)).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## Goals\n\n\
         The numbers we aim at (shared BENCHMARKS.md), judged on the medians of this run: \
         {} met, {} missed, {} not measured, {} on paper. Ratios are Corium/peer; for time, \
         CPU, memory and syscalls lower is better, for rates (msgs/s, req/s) higher is \
         better.\n",
        count(|v| *v == Verdict::Met),
        count(|v| *v == Verdict::Missed),
        count(|v| matches!(v, Verdict::NotMeasured(_))),
        count(|v| *v == Verdict::OnPaper),
    );
    let _ = writeln!(out, "| benchmark | goal | measured | verdict |");
    let _ = writeln!(out, "|---|---|---|---|");
    for goal in goals {
        let verdict = match &goal.verdict {
            Verdict::Met => "**met**".to_string(),
            Verdict::Missed => "**missed**".to_string(),
            other => other.text(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&goal.benchmark),
            cell(&goal.goal),
            cell(&goal.measured),
            cell(&verdict)
        );
    }
    out
}

/// The per-part reports, in [`PARTS`] order; for a part whose report is
/// missing, its rows as a plain table, or why it was not measured.
fn parts(results: &Results) -> String {
    let mut out = String::from(
        "\n---\n\nThe reports of each part follow in full, as the suite wrote them \
         (headings one level down).\n",
    );
    for (file, section) in PARTS {
        out.push('\n');
        if let Some(text) = results.part(file) {
            out.push_str(&demote_headings(text));
            if !text.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        let _ = writeln!(out, "## {section}: no {file} in this run\n");
        let rows: Vec<_> = results.section(section).collect();
        if rows.is_empty() {
            let notes = results.notes_about(&[section]);
            let _ = writeln!(
                out,
                "Not measured{}.",
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" (meta.txt: {})", notes.join("; "))
                }
            );
            continue;
        }
        let _ = writeln!(out, "Its rows, median (min..max) over the rounds:\n");
        let _ = writeln!(
            out,
            "| bench | server | metric | median (min..max) | rounds |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for row in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&row.bench),
                cell(&row.server),
                cell(&row.metric),
                figure_cell(row),
                row.rounds
                    .map_or_else(|| "n/a".to_string(), |n| n.to_string())
            );
        }
    }
    out
}

/// `text` with every Markdown heading one level deeper (`#` becomes `##`),
/// leaving fenced code alone.
pub fn demote_headings(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if !in_fence && is_heading(line) {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// An ATX heading: `#` to `######` at the line's start, then a space or
/// the end of the line.
fn is_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(line.as_bytes().get(hashes), None | Some(b' '))
}

/// `text` made safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_go_one_level_down_outside_code() {
        let text = "# Title\n\ntext #1\n## Sub\n```\n# not a heading\n```\n#hashtag\n";
        assert_eq!(
            demote_headings(text),
            "## Title\n\ntext #1\n### Sub\n```\n# not a heading\n```\n#hashtag\n"
        );
    }
}
