//! The machine-readable results every part of the suite writes and
//! `suite-report` reads: one line per (section, benchmark, server, metric),
//! eight tab-separated columns, no header:
//!
//! ```text
//! section  bench  server  metric  median  min  max  rounds
//! ```
//!
//! - `section`: `micro`, `sync`, `net`, `app` or `idle`.
//! - `median`, `min`, `max`: decimal numbers (`.` as the point); `NA`
//!   (also `na`, `n/a`, `-`, `nan` or an empty field) when not measured.
//! - `rounds`: how many rounds the median is over, an integer, or `NA`.
//!
//! Blank lines and lines starting with `#` are skipped by the reader.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

/// Columns on every line.
pub const COLUMNS: usize = 8;

/// One line: one metric of one server on one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `micro`, `sync`, `net`, `app` or `idle`.
    pub section: String,
    /// Benchmark, e.g. `spawn_many` or `echo50`.
    pub bench: String,
    /// Runtime or server, e.g. `corium-ct` or `tokio-mt@unpinned`.
    pub server: String,
    /// What was measured, e.g. `ns` or `cpu_us`.
    pub metric: String,
    /// Median over the rounds.
    pub median: Option<f64>,
    /// Smallest round.
    pub min: Option<f64>,
    /// Largest round.
    pub max: Option<f64>,
    /// Rounds the median is over.
    pub rounds: Option<u32>,
}

/// Why a line is not a [`Row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl Row {
    /// A row of `rounds` measurements summarised as `median` (`min..max`).
    pub fn new(
        section: &str,
        bench: &str,
        server: &str,
        metric: &str,
        [median, min, max]: [Option<f64>; 3],
        rounds: usize,
    ) -> Row {
        Row {
            section: section.to_string(),
            bench: bench.to_string(),
            server: server.to_string(),
            metric: metric.to_string(),
            median,
            min,
            max,
            rounds: u32::try_from(rounds).ok(),
        }
    }

    /// The line for this row, without the newline.
    pub fn line(&self) -> String {
        let value = |v: Option<f64>| match v {
            Some(v) if v.is_finite() => format!("{v:.4}"),
            _ => "NA".to_string(),
        };
        let rounds = self
            .rounds
            .map_or_else(|| "NA".to_string(), |n| n.to_string());
        [
            self.section.clone(),
            self.bench.clone(),
            self.server.clone(),
            self.metric.clone(),
            value(self.median),
            value(self.min),
            value(self.max),
            rounds,
        ]
        .join("\t")
    }

    /// Parses one line (a trailing `\r` is ignored).
    pub fn parse(line: &str) -> Result<Row, ParseError> {
        let fields: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if fields.len() != COLUMNS {
            return Err(ParseError(format!(
                "{} tab-separated columns, expected {COLUMNS}",
                fields.len()
            )));
        }
        let name = |i: usize, what: &str| {
            let field = fields[i].trim();
            if field.is_empty() {
                Err(ParseError(format!("empty {what}")))
            } else {
                Ok(field.to_string())
            }
        };
        let rounds = match fields[7].trim() {
            field if is_missing(field) => None,
            field => Some(
                field
                    .parse::<u32>()
                    .map_err(|_| ParseError(format!("rounds is not a whole number: {field:?}")))?,
            ),
        };
        Ok(Row {
            section: name(0, "section")?,
            bench: name(1, "bench")?,
            server: name(2, "server")?,
            metric: name(3, "metric")?,
            median: value(fields[4], "median")?,
            min: value(fields[5], "min")?,
            max: value(fields[6], "max")?,
            rounds,
        })
    }
}

/// Whether a field says "not measured".
fn is_missing(field: &str) -> bool {
    matches!(
        field.to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "-" | "nan"
    )
}

/// A number field, `None` when it says "not measured".
fn value(field: &str, what: &str) -> Result<Option<f64>, ParseError> {
    let field = field.trim();
    if is_missing(field) {
        return Ok(None);
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(ParseError(format!("{what} is not a number: {field:?}"))),
    }
}

/// Appends `rows` to the file at `path`, creating it if needed.
pub fn append(path: &Path, rows: &[Row]) -> std::io::Result<()> {
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.line());
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_survives_its_line() {
        let row = Row::new(
            "micro",
            "spawn_many",
            "corium-ct",
            "ns",
            [Some(101.25), Some(73.5), None],
            7,
        );
        assert_eq!(
            row.line(),
            "micro\tspawn_many\tcorium-ct\tns\t101.2500\t73.5000\tNA\t7"
        );
        assert_eq!(Row::parse(&row.line()), Ok(row));
    }

    #[test]
    fn missing_values_parse_as_none() {
        let row = Row::parse("net\techo1\tsmol\tsyscalls\tNA\tn/a\t\tNA\r").unwrap();
        assert_eq!(
            (row.median, row.min, row.max, row.rounds),
            (None, None, None, None)
        );
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(Row::parse("net\techo1\tsmol\tsyscalls\t1\t2\t3").is_err());
        assert!(Row::parse("net\techo1\tsmol\tsyscalls\tfast\t2\t3\t5").is_err());
        assert!(Row::parse("net\t\tsmol\tsyscalls\t1\t2\t3\t5").is_err());
    }
}
