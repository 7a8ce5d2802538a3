//! suite-report end to end: the fixture results directory in, RESULTS.md
//! and results.svg out.

use std::path::{Path, PathBuf};

use corium_benches::suite::{self, Options, Verdict};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results")
}

/// A fresh directory for one test's output.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("suite-report-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(results: &Path, test: &str) -> (suite::Outcome, String, String) {
    let dir = out_dir(test);
    let options = Options {
        results: results.to_path_buf(),
        md: dir.join("RESULTS.md"),
        svg: dir.join("results.svg"),
    };
    let outcome = suite::run(&options, "suite-report --results fixtures").unwrap();
    let md = std::fs::read_to_string(&options.md).unwrap();
    let svg = std::fs::read_to_string(&options.svg).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (outcome, md, svg)
}

fn verdict<'a>(outcome: &'a suite::Outcome, benchmark: &str) -> &'a Verdict {
    &outcome
        .goals
        .iter()
        .find(|g| g.benchmark == benchmark)
        .unwrap_or_else(|| panic!("no goal row {benchmark}"))
        .verdict
}

#[test]
fn fixture_goals_come_out_as_computed_by_hand() {
    let (outcome, _, _) = run(&fixture_dir(), "goals");
    let expect = [
        ("spawn_many, current-thread", "met"),
        ("yield_many", "met"),
        ("ping_pong, current-thread", "met"),
        ("ping_pong, multi-thread", "met"),
        ("chained_spawn, current-thread", "met"),
        ("chained_spawn, multi-thread", "met"),
        ("timers insert+cancel", "met"),
        // corium-mt p99 1250 us > 1000.
        ("timer firing delay", "missed"),
        // 5.41 / 5.09 = 1.063 > 1.02.
        ("echo 50 conns, 1 thread: CPU/msg", "missed"),
        // A rate: 182592 >= 173633 and >= 114877.
        ("echo 50 conns: msgs/s", "met"),
        // RTT p50 56.7 > tokio's 55.4.
        ("echo 1 conn: syscalls, RTT p50", "missed"),
        ("syscalls/msg, 50 conns", "met"),
        ("http hello: CPU/request", "missed"),
        // get-P16: 0.59 > tokio's 0.55.
        ("mini_redis: CPU/request", "missed"),
        // A rate below tokio-mt's: 119344 < 132613.
        ("echo 2 workers, unpinned", "missed"),
        ("memory per idle connection", "not measured"),
        ("multi-thread scaling", "on paper"),
    ];
    assert_eq!(outcome.goals.len(), expect.len());
    for (benchmark, word) in expect {
        assert_eq!(verdict(&outcome, benchmark).word(), word, "{benchmark}");
    }
    let Verdict::NotMeasured(why) = verdict(&outcome, "memory per idle connection") else {
        unreachable!()
    };
    assert!(why.contains("idle idle10000 corium kb_per_conn"), "{why}");
    assert!(
        why.contains("ulimit -n is 1024"),
        "meta.txt's reason: {why}"
    );
    assert!(
        outcome.problems.iter().any(|p| p.starts_with("sync.tsv:")),
        "{:?}",
        outcome.problems
    );
}

#[test]
fn results_md_has_the_headline_ratios_and_every_part() {
    let (_, md, _) = run(&fixture_dir(), "md");
    assert!(md.starts_with("# Corium benchmark results\n"));
    assert!(md.contains("Command: `ROUNDS=5 benches/run.sh`"));
    assert!(md.contains("- machine: 2 CPUs (nproc), AMD EPYC"));
    assert!(md.contains("- skipped: http-nginx (nginx not installed)"));
    assert!(md.contains(
        "| spawn_many, current-thread | <= 0.5x tokio-ct | corium-ct/tokio-ct 0.37x (101 / 271 ns)"
    ));
    assert!(md.contains("met on 7 of 8 tests"));
    assert!(md.contains("get-P16 1.07x/0.72x"));
    assert!(md.contains("![Corium against each peer, one group per goal](results.svg)"));
    // Ratios: nginx has no row, so http's nginx column is absent or n/a,
    // and the sync rows compare on the same executor.
    assert!(md.contains("| mpsc_1p | ns (lower) | corium::sync@corium-ct |"));
    assert!(md.contains("| echo50 | ops_s (higher) | corium |"));
    // The included reports, one heading level down, and the fallbacks.
    assert!(md.contains("\n## Corium micro benchmarks\n"));
    assert!(md.contains("\n#### echo, 64 B, 1 connection\n"));
    assert!(md.contains("## app: no APP.md in this run"));
    assert!(md.contains("| get-P16 | resp-corium | cpu_us | 0.59 (0.59..0.59) | 3 |"));
    assert!(md.contains("## idle: no IDLE.md in this run\n\nNot measured (meta.txt: skipped: idle"));
}

#[test]
fn svg_has_a_labelled_group_per_goal() {
    let (outcome, _, svg) = run(&fixture_dir(), "svg");
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    for goal in outcome.goals.iter().filter(|g| !g.bars.is_empty()) {
        let label = goal.benchmark.replace('&', "&amp;");
        assert!(svg.contains(&label), "no group label {label}");
    }
    assert!(
        !svg.contains("multi-thread scaling"),
        "a goal on paper has no bars"
    );
    for text in [
        "vs raw epoll (limit)",
        "vs tokio",
        "msgs/s vs tokio (inverted)",
        "n/a vs nginx",
        "goal",
    ] {
        assert!(svg.contains(text), "no {text:?} in the chart");
    }
}

#[test]
fn an_empty_or_missing_directory_gives_a_report_of_not_measured() {
    let missing = std::env::temp_dir().join("suite-report-no-such-dir");
    let (outcome, md, svg) = run(&missing, "empty");
    assert!(outcome
        .goals
        .iter()
        .all(|g| matches!(g.verdict, Verdict::NotMeasured(_) | Verdict::OnPaper)));
    assert!(md.contains("Command: `not recorded"));
    assert!(md.contains("- not read: could not read"));
    assert!(md.contains("No ratio can be formed"));
    assert!(svg.contains("n/a vs tokio-ct"));
}
