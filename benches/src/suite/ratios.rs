//! The ratios table: every Corium/peer and Corium/limit ratio the rows
//! allow, one table per section, one row per (benchmark, metric, Corium
//! flavor), one column per kind of peer.

use std::fmt::Write as _;

use super::metric::better_word;
use super::peers::{is_subject, peers_of, PeerKind};
use super::results::{Cell, Results};
use crate::figure::{measured, ratio};
use crate::tsv::Row;

/// One table per section that has a Corium row, under `###` headings.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    for section in results.sections() {
        let rows = section_rows(results, section);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {section}\n");
        out.push_str(&table(&rows));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("No ratio can be formed: no Corium row has a measured peer.\n");
    }
    out
}

/// One row of a ratios table.
#[derive(Debug)]
struct RatioRow<'r> {
    corium: &'r Row,
    /// Per peer: its kind, its name and Corium/peer (`None`: not measured).
    ratios: Vec<(PeerKind, &'r str, Option<f64>)>,
}

fn section_rows<'r>(results: &'r Results, section: &'r str) -> Vec<RatioRow<'r>> {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for row in results.section(section) {
        let key = (row.bench.as_str(), row.metric.as_str());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let mut out = Vec::new();
    for (bench, metric) in groups {
        let servers: Vec<&str> = results
            .section(section)
            .filter(|r| r.bench == bench && r.metric == metric)
            .map(|r| r.server.as_str())
            .collect();
        for &subject in servers.iter().filter(|s| is_subject(s)) {
            let cell = Cell::new(section, bench, subject, metric);
            let Some(corium) = results.row(cell) else {
                continue;
            };
            let ratios: Vec<_> = peers_of(subject, &servers)
                .into_iter()
                .map(|(peer, kind)| {
                    let r = corium
                        .median
                        .zip(results.median(cell.on(peer)))
                        .filter(|&(_, p)| p != 0.0)
                        .map(|(s, p)| s / p);
                    (kind, peer, r)
                })
                .collect();
            if !ratios.is_empty() {
                out.push(RatioRow { corium, ratios });
            }
        }
    }
    out
}

fn table(rows: &[RatioRow<'_>]) -> String {
    let kinds: Vec<PeerKind> = PeerKind::ALL
        .into_iter()
        .filter(|k| {
            rows.iter()
                .any(|r| r.ratios.iter().any(|(rk, _, _)| rk == k))
        })
        .collect();
    let mut header = vec![
        "bench",
        "metric (better)",
        "Corium",
        "Corium median (min..max)",
    ];
    header.extend(kinds.iter().map(|k| k.header()));
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let c = row.corium;
        let mut cells = vec![
            c.bench.clone(),
            format!("{} ({})", c.metric, better_word(&c.metric)),
            c.server.clone(),
            figure_cell(c),
        ];
        cells.extend(kinds.iter().map(|kind| {
            let of_kind: Vec<_> = row.ratios.iter().filter(|(k, _, _)| k == kind).collect();
            match of_kind.as_slice() {
                [] => "".to_string(),
                [(_, _, r)] => r.map_or_else(|| "n/a".to_string(), ratio),
                many => many
                    .iter()
                    .map(|(_, peer, r)| {
                        format!("{} ({peer})", r.map_or_else(|| "n/a".to_string(), ratio))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        }));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// `median (min..max)`, or `n/a`.
pub fn figure_cell(row: &Row) -> String {
    match (row.median, row.min, row.max) {
        (Some(m), Some(lo), Some(hi)) => {
            format!("{} ({}..{})", measured(m), measured(lo), measured(hi))
        }
        (Some(m), _, _) => measured(m),
        _ => "n/a".to_string(),
    }
}
