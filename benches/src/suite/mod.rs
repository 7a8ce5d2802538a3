//! The one-command suite's report: reads a results directory (the `*.tsv`
//! rows of every part, see [`crate::tsv`], `meta.txt` and the per-part
//! Markdown reports) and writes RESULTS.md (the goal table of shared
//! BENCHMARKS.md, every Corium/peer ratio, every part's report) and
//! results.svg (the ratios as bars).
//!
//! Nothing here fails on missing data: a missing file, row or value
//! becomes `n/a` in a cell and "not measured" in the goal table, with the
//! reason when meta.txt gives one.

pub mod chart;
pub mod goals;
pub mod markdown;
pub mod metric;
pub mod peers;
pub mod ratios;
pub mod results;

use std::path::{Path, PathBuf};

pub use goals::{GoalRow, Verdict};
pub use results::Results;

/// Where `suite-report` reads and writes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The results directory.
    pub results: PathBuf,
    /// RESULTS.md.
    pub md: PathBuf,
    /// results.svg.
    pub svg: PathBuf,
}

/// The usage text of `suite-report`.
pub const USAGE: &str = "\
usage: suite-report --results DIR [--md FILE] [--svg FILE]

  --results DIR  the suite's results directory: *.tsv rows (section bench
                 server metric median min max rounds, tab-separated),
                 meta.txt (key: value lines) and MICRO.md, SYNC.md, NET.md,
                 APP.md, IDLE.md
  --md FILE      the report to write (default benches/RESULTS.md)
  --svg FILE     the chart to write (default benches/results.svg)";

impl Options {
    /// Parses the arguments (without the program name). `Err` carries the
    /// message to print; `Ok(None)` means `--help` was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let (mut results, mut md, mut svg) = (None, None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--results" => &mut results,
                "--md" => &mut md,
                "--svg" => &mut svg,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument: {other}")),
            };
            let value = args.next().ok_or(format!("{arg} needs a path"))?;
            *slot = Some(PathBuf::from(value));
        }
        let benches = Path::new(env!("CARGO_MANIFEST_DIR"));
        Ok(Some(Options {
            results: results.ok_or("--results DIR is required")?,
            md: md.unwrap_or_else(|| benches.join("RESULTS.md")),
            svg: svg.unwrap_or_else(|| benches.join("results.svg")),
        }))
    }
}

/// What a run of the report wrote and found.
#[derive(Debug)]
pub struct Outcome {
    /// The goal table's rows.
    pub goals: Vec<GoalRow>,
    /// Rows read.
    pub rows: usize,
    /// Lines or files that could not be read.
    pub problems: Vec<String>,
}

/// Reads `options.results`, writes the chart and the report. `report_command`
/// is the command line RESULTS.md says produced it.
pub fn run(options: &Options, report_command: &str) -> Result<Outcome, String> {
    let results = Results::load(&options.results);
    let goals = goals::evaluate(&results);
    for path in [&options.md, &options.svg] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        }
    }
    chart::write(&options.svg, &goals)?;
    let link = svg_link(&options.md, &options.svg);
    let context = markdown::Context {
        report_command,
        svg_link: Some(&link),
    };
    let md = markdown::render(&results, &goals, &context);
    std::fs::write(&options.md, md)
        .map_err(|e| format!("could not write {}: {e}", options.md.display()))?;
    Ok(Outcome {
        goals,
        rows: results.rows().len(),
        problems: results.problems,
    })
}

/// The chart's path as the report links it: relative to the report's
/// directory (both directories exist by now), else the path as given.
fn svg_link(md: &Path, svg: &Path) -> String {
    let dir = |p: &Path| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        parent.unwrap_or(Path::new(".")).canonicalize().ok()
    };
    let (Some(from), Some(to), Some(name)) = (dir(md), dir(svg), svg.file_name()) else {
        return svg.display().to_string();
    };
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut link = PathBuf::new();
    for _ in from.components().skip(common) {
        link.push("..");
    }
    link.extend(to.components().skip(common));
    link.push(name);
    link.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_linked_relative_to_the_report() {
        let root = std::env::temp_dir().join(format!("suite-link-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        let link = |md: &str, svg: &str| svg_link(&root.join(md), &root.join(svg));
        assert_eq!(link("a/RESULTS.md", "a/results.svg"), "results.svg");
        assert_eq!(link("a/RESULTS.md", "a/b/results.svg"), "b/results.svg");
        assert_eq!(
            link("a/b/RESULTS.md", "c/results.svg"),
            "../../c/results.svg"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn options_default_to_benches() {
        let args = ["--results", "r"].map(String::from);
        let options = Options::parse(args).unwrap().unwrap();
        assert_eq!(options.results, PathBuf::from("r"));
        assert!(options.md.ends_with("benches/RESULTS.md"));
        assert!(options.svg.ends_with("benches/results.svg"));
        assert!(Options::parse([String::from("--md")]).is_err());
        assert!(
            Options::parse(Vec::<String>::new()).is_err(),
            "--results is required"
        );
    }
}
