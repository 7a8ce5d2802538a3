//! The results directory as the report sees it: every row of its `*.tsv`
//! files, the `key: value` lines of `meta.txt`, the per-part Markdown
//! reports, and what could not be read (which the report prints rather
//! than fail on).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::tsv::Row;

/// The per-part reports the suite writes beside its rows, in report order,
/// with the section each one covers.
pub const PARTS: [(&str, &str); 5] = [
    ("MICRO.md", "micro"),
    ("SYNC.md", "sync"),
    ("NET.md", "net"),
    ("APP.md", "app"),
    ("IDLE.md", "idle"),
];

/// The longest meta key: a line whose first `:` comes later is a note
/// (a sentence with a colon in it), not a key.
pub const MAX_KEY: usize = 40;

/// Meta keys the report's header prints itself; every other key is a note.
const HEADER_KEYS: [&str; 3] = ["command", "date", "machine"];

/// Which figure: one metric of one server on one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell<'a> {
    /// `micro`, `sync`, `net`, `app` or `idle`.
    pub section: &'a str,
    /// Benchmark, e.g. `echo50`.
    pub bench: &'a str,
    /// Server or runtime, e.g. `corium`.
    pub server: &'a str,
    /// Metric, e.g. `cpu_us`.
    pub metric: &'a str,
}

impl<'a> Cell<'a> {
    /// The cell `section bench server metric`.
    pub fn new(section: &'a str, bench: &'a str, server: &'a str, metric: &'a str) -> Self {
        Cell {
            section,
            bench,
            server,
            metric,
        }
    }

    /// The same benchmark and metric on `server`.
    pub fn on(self, server: &'a str) -> Self {
        Cell { server, ..self }
    }
}

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.section, self.bench, self.server, self.metric
        )
    }
}

type Key = (String, String, String, String);

/// Everything read from one results directory.
#[derive(Debug, Default)]
pub struct Results {
    /// The directory read.
    pub dir: PathBuf,
    /// Rows in file order (files by name), a later duplicate replacing an
    /// earlier one in place.
    rows: Vec<Row>,
    index: HashMap<Key, usize>,
    /// `meta.txt`'s lines, in order (a key may repeat).
    pub meta: Vec<(String, String)>,
    /// The `*.tsv` files read, by name.
    pub files: Vec<String>,
    /// The per-part reports found: (file name, its text).
    pub parts: Vec<(String, String)>,
    /// What was skipped and why: unreadable files, malformed lines,
    /// duplicate rows.
    pub problems: Vec<String>,
}

impl Results {
    /// Reads `dir`. Never fails: what is missing or malformed is noted in
    /// [`Results::problems`] and shows as "not measured" in the report.
    pub fn load(dir: &Path) -> Results {
        let mut results = Results {
            dir: dir.to_path_buf(),
            ..Results::default()
        };
        let mut tsv_files = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
                .collect::<Vec<_>>(),
            Err(error) => {
                results
                    .problems
                    .push(format!("could not read {}: {error}", dir.display()));
                Vec::new()
            }
        };
        tsv_files.sort();
        for path in tsv_files {
            let name = file_name(&path);
            match std::fs::read_to_string(&path) {
                Ok(text) => results.add_tsv(&name, &text),
                Err(error) => results
                    .problems
                    .push(format!("could not read {name}: {error}")),
            }
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("meta.txt")) {
            results.add_meta(&text);
        }
        for (part, _) in PARTS {
            if let Ok(text) = std::fs::read_to_string(dir.join(part)) {
                results.parts.push((part.to_string(), text));
            }
        }
        results
    }

    /// Adds the rows of one TSV file called `name`.
    pub fn add_tsv(&mut self, name: &str, text: &str) {
        self.files.push(name.to_string());
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match Row::parse(line) {
                Ok(row) => self.insert(row, name, number + 1),
                Err(error) => self
                    .problems
                    .push(format!("{name}:{}: skipped ({error})", number + 1)),
            }
        }
    }

    /// Adds the `key: value` lines of a `meta.txt` (a key is at most
    /// [`MAX_KEY`] characters and may hold spaces, e.g. `skipped rows`);
    /// other lines are kept as notes.
    pub fn add_meta(&mut self, text: &str) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (key, value) = match line.split_once(':') {
                Some((key, value)) if !key.trim().is_empty() && key.len() <= MAX_KEY => {
                    (key.trim().to_string(), value.trim().to_string())
                }
                _ => ("note".to_string(), line.to_string()),
            };
            self.meta.push((key, value));
        }
    }

    fn insert(&mut self, row: Row, file: &str, line: usize) {
        let key = (
            row.section.clone(),
            row.bench.clone(),
            row.server.clone(),
            row.metric.clone(),
        );
        if let Some(&at) = self.index.get(&key) {
            self.problems.push(format!(
                "{file}:{line}: `{} {} {} {}` given again; this later row is used",
                key.0, key.1, key.2, key.3
            ));
            self.rows[at] = row;
        } else {
            self.index.insert(key, self.rows.len());
            self.rows.push(row);
        }
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The row for `cell`, if the suite wrote one.
    pub fn row(&self, cell: Cell<'_>) -> Option<&Row> {
        let key = (
            cell.section.to_string(),
            cell.bench.to_string(),
            cell.server.to_string(),
            cell.metric.to_string(),
        );
        self.index.get(&key).map(|&at| &self.rows[at])
    }

    /// The median of `cell`, if measured.
    pub fn median(&self, cell: Cell<'_>) -> Option<f64> {
        self.row(cell).and_then(|row| row.median)
    }

    /// The first value of meta key `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The meta lines other than command, date and machine: the suite's
    /// notes (skipped parts and why, tool versions, ...).
    pub fn notes(&self) -> impl Iterator<Item = &(String, String)> {
        self.meta
            .iter()
            .filter(|(k, _)| !HEADER_KEYS.iter().any(|h| k.eq_ignore_ascii_case(h)))
    }

    /// The notes that mention any of `words` as a whole word (letters,
    /// digits and `_`), as `key: value`, to say why a figure is missing.
    pub fn notes_about(&self, words: &[&str]) -> Vec<String> {
        self.notes()
            .filter(|(key, value)| {
                let line = format!("{key} {value}").to_ascii_lowercase();
                let tokens: Vec<&str> = line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .collect();
                words
                    .iter()
                    .any(|word| tokens.contains(&word.to_ascii_lowercase().as_str()))
            })
            .map(|(key, value)| format!("{key}: {value}"))
            .collect()
    }

    /// The sections present, in [`PARTS`] order, then any other in file
    /// order.
    pub fn sections(&self) -> Vec<&str> {
        let mut sections: Vec<&str> = PARTS
            .iter()
            .map(|&(_, section)| section)
            .filter(|s| self.rows.iter().any(|r| r.section == *s))
            .collect();
        for row in &self.rows {
            if !sections.contains(&row.section.as_str()) {
                sections.push(&row.section);
            }
        }
        sections
    }

    /// The rows of `section`, in file order.
    pub fn section<'r>(&'r self, section: &'r str) -> impl Iterator<Item = &'r Row> + 'r {
        self.rows.iter().filter(move |r| r.section == section)
    }

    /// The benchmarks of `section` on which `server` has a row, in file
    /// order.
    pub fn benches_of<'r>(&'r self, section: &'r str, server: &str) -> Vec<&'r str> {
        let mut benches: Vec<&str> = Vec::new();
        for row in self.section(section).filter(|r| r.server == server) {
            if !benches.contains(&row.bench.as_str()) {
                benches.push(&row.bench);
            }
        }
        benches
    }

    /// The per-part report `name` (e.g. `NET.md`), if the suite wrote it.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.as_str())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_reported_and_duplicates_replaced() {
        let mut results = Results::default();
        results.add_tsv(
            "a.tsv",
            "# comment\n\
             net\techo1\tcorium\tp50_us\t50\t49\t52\t5\n\
             net\techo1\tcorium\tp50_us\n\
             net\techo1\tcorium\tp50_us\t51\t49\t52\t5\n",
        );
        assert_eq!(results.rows().len(), 1);
        let cell = Cell::new("net", "echo1", "corium", "p50_us");
        assert_eq!(results.median(cell), Some(51.0));
        assert_eq!(results.problems.len(), 2, "{:?}", results.problems);
        assert!(results.problems[0].starts_with("a.tsv:3: skipped"));
    }

    #[test]
    fn notes_are_found_by_whole_word() {
        let mut results = Results::default();
        results.add_meta(
            "command: benches/run.sh\n\
             skipped: http-nginx (nginx not installed)\n\
             skipped: idle (ulimit -n too low)\n\
             skipped rows: app get-P16 resp-redis syscalls (perf failed)\n\
             a line without a key\n",
        );
        assert_eq!(
            results.notes_about(&["perf"]),
            ["skipped rows: app get-P16 resp-redis syscalls (perf failed)"]
        );
        assert_eq!(results.meta("command"), Some("benches/run.sh"));
        assert_eq!(
            results.notes_about(&["nginx"]),
            ["skipped: http-nginx (nginx not installed)"]
        );
        assert_eq!(results.notes_about(&["idle"]).len(), 1);
        assert!(results.notes_about(&["net"]).is_empty());
        assert_eq!(results.notes().count(), 4);
        assert_eq!(results.meta("note"), Some("a line without a key"));
    }
}
