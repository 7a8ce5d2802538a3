//! The headline: one row per goal of shared BENCHMARKS.md's "The numbers
//! we aim at", judged from the medians of one run, and the chart's bars
//! for it.
//!
//! A goal is a list of checks (a ratio or a figure against a bound). Its
//! verdict is *missed* if any check failed, else *not measured* if any
//! check lacked a figure, else *met*. A bar is Corium's figure over a
//! peer's, turned so that lower is better for every bar (rates are
//! inverted: peer/Corium), with the goal's bound in the same terms where
//! the goal bounds that comparison.

use std::fmt::Write as _;

use super::metric::{better, unit, Better};
use super::peers::PeerKind;
use super::results::{Cell, Results};
use crate::figure::{measured, ratio, ratio_against};

/// How a goal came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Met,
    /// At least one check failed.
    Missed,
    /// No check failed but some figure is missing: why.
    NotMeasured(String),
    /// Not a measurement: argued in DESIGN.md.
    OnPaper,
}

impl Verdict {
    /// The verdict as the table prints it.
    pub fn text(&self) -> String {
        match self {
            Verdict::Met => "met".to_string(),
            Verdict::Missed => "missed".to_string(),
            Verdict::NotMeasured(why) => format!("not measured ({why})"),
            Verdict::OnPaper => "on paper".to_string(),
        }
    }

    /// One word, for the chart.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::NotMeasured(_) => "not measured",
            Verdict::OnPaper => "on paper",
        }
    }
}

/// One bar of the chart: Corium against one peer, lower is better.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What the bar compares, e.g. `vs tokio-ct` or `RTT p50 vs tokio`.
    pub label: String,
    /// Who the peer is (the bar's colour).
    pub peer: PeerKind,
    /// Corium/peer, or peer/Corium for a rate; `None` when not measured.
    pub value: Option<f64>,
    /// The smallest and largest of the values `value` summarises (the
    /// mini_redis bars are geometric means over the tests).
    pub spread: Option<(f64, f64)>,
    /// The goal's bound on this bar's value, where the goal bounds it.
    pub goal: Option<f64>,
    /// Whether `value` is an inverted rate (peer/Corium).
    pub inverted: bool,
}

/// One row of the headline table and its group of bars.
#[derive(Debug, Clone)]
pub struct GoalRow {
    /// The benchmark, as BENCHMARKS.md names it.
    pub benchmark: String,
    /// The goal, short.
    pub goal: String,
    /// The ratio or figure measured, with the numbers it comes from.
    pub measured: String,
    /// How it came out.
    pub verdict: Verdict,
    /// The chart's bars (none for a goal argued on paper).
    pub bars: Vec<Bar>,
}

/// Judges every goal, in BENCHMARKS.md's order.
pub fn evaluate(results: &Results) -> Vec<GoalRow> {
    let mut rows = vec![
        micro_ratio(
            results,
            "spawn_many, current-thread",
            "spawn_many",
            "ct",
            0.5,
        ),
        micro_ratio(results, "yield_many", "yield_many", "ct", 0.7),
    ];
    for bench in ["ping_pong", "chained_spawn"] {
        for (flavor, name) in [("ct", "current-thread"), ("mt", "multi-thread")] {
            let label = format!("{bench}, {name}");
            rows.push(micro_ratio(results, &label, bench, flavor, 0.7));
        }
    }
    rows.extend([
        timers_insert_cancel(results),
        timer_delay(results),
        echo50_cpu(results),
        echo50_rate(results),
        echo1(results),
        echo50_syscalls(results),
        http_cpu(results),
        mini_redis(results),
        echo_two_workers(results),
        idle_memory(results),
        GoalRow {
            benchmark: "multi-thread scaling".to_string(),
            goal: "no structure every worker touches per request; 12x one worker at 16".to_string(),
            measured: "not computed: 2 cores here; see DESIGN.md".to_string(),
            verdict: Verdict::OnPaper,
            bars: Vec::new(),
        },
    ]);
    rows
}

/// A goal being judged: its checks so far, what they printed, the figures
/// they lacked, and its bars.
struct Goal<'r> {
    results: &'r Results,
    benchmark: String,
    goal: String,
    parts: Vec<String>,
    checks: Vec<Option<bool>>,
    missing: Vec<String>,
    why_words: Vec<String>,
    bars: Vec<Bar>,
}

impl<'r> Goal<'r> {
    fn new(results: &'r Results, benchmark: &str, goal: &str) -> Self {
        Goal {
            results,
            benchmark: benchmark.to_string(),
            goal: goal.to_string(),
            parts: Vec::new(),
            checks: Vec::new(),
            missing: Vec::new(),
            why_words: Vec::new(),
            bars: Vec::new(),
        }
    }

    /// The median of `cell`, noting it as missing when there is none.
    fn median(&mut self, cell: Cell<'_>) -> Option<f64> {
        let value = self.results.median(cell);
        if value.is_none() {
            self.missing.push(cell.to_string());
            self.why_words.push(cell.section.to_string());
            self.why_words.push(cell.bench.to_string());
            let server = super::peers::Server::parse(cell.server);
            self.why_words.push(server.core_name().to_string());
            if matches!(cell.metric, "cpu_us" | "syscalls") {
                self.why_words.push("perf".to_string());
            }
        }
        value
    }

    /// Checks Corium/peer on `cell`: at most `bound` for a cost, at least
    /// `bound` for a rate. Prints `label 0.37x (101 / 271 ns)`.
    fn ratio(&mut self, label: &str, cell: Cell<'_>, peer: &str, bound: f64) -> Option<f64> {
        let (s, p) = (self.median(cell), self.median(cell.on(peer)));
        let Some((s, p)) = s.zip(p).filter(|&(_, p)| p != 0.0) else {
            self.checks.push(None);
            self.parts.push(format!("{label}n/a"));
            return None;
        };
        let r = s / p;
        let ok = match better(cell.metric) {
            Better::Lower => r <= bound,
            Better::Higher => r >= bound,
        };
        self.checks.push(Some(ok));
        self.parts.push(format!(
            "{label}{} ({} / {} {})",
            ratio_against(r, bound),
            measured(s),
            measured(p),
            unit(cell.metric)
        ));
        Some(r)
    }

    /// Checks that `cell` is at most `bound`. Prints `label 113 us`.
    fn at_most(&mut self, label: &str, cell: Cell<'_>, bound: f64) -> Option<f64> {
        let value = self.median(cell);
        self.checks.push(value.map(|v| v <= bound));
        self.parts.push(match value {
            Some(v) => format!("{label}{} {}", measured(v), unit(cell.metric)),
            None => format!("{label}n/a"),
        });
        value
    }

    /// Adds a figure that is shown but not judged.
    fn note(&mut self, text: String) {
        self.parts.push(text);
    }

    /// Adds `text` to the last figure printed.
    fn append(&mut self, text: String) {
        match self.parts.last_mut() {
            Some(last) => last.push_str(&text),
            None => self.parts.push(text),
        }
    }

    /// A shown ratio of Corium/peer on `cell`, not judged: `label 0.37x`.
    fn note_ratio(&mut self, label: &str, cell: Cell<'_>, peer: &str) {
        let r = ratio_of(self.results, cell, peer);
        self.note(format!(
            "{label}{}",
            r.map_or_else(|| "n/a".to_string(), ratio)
        ));
    }

    /// Adds the bar of Corium (`cell`) against `peer`, turned so that lower
    /// is better, with the goal's bound on it in the same terms.
    fn bar(&mut self, label: &str, cell: Cell<'_>, peer: &str, goal: Option<f64>) {
        let inverted = better(cell.metric) == Better::Higher;
        let value = ratio_of(self.results, cell, peer).map(|r| if inverted { 1.0 / r } else { r });
        self.bars.push(Bar {
            label: label.to_string(),
            peer: PeerKind::of(peer),
            value,
            spread: None,
            goal,
            inverted,
        });
    }

    fn finish(self) -> GoalRow {
        let verdict = if self.checks.contains(&Some(false)) {
            Verdict::Missed
        } else if self.checks.is_empty() || self.checks.contains(&None) {
            Verdict::NotMeasured(self.why())
        } else {
            Verdict::Met
        };
        GoalRow {
            benchmark: self.benchmark,
            goal: self.goal,
            measured: self.parts.join("; "),
            verdict,
            bars: self.bars,
        }
    }

    /// Why a figure is missing: which ones, and what meta.txt says about
    /// them.
    fn why(&self) -> String {
        const SHOWN: usize = 3;
        let mut why = String::new();
        if self.missing.is_empty() {
            why.push_str("no figures");
        } else {
            let _ = write!(
                why,
                "no `{}`",
                self.missing[..self.missing.len().min(SHOWN)].join("`, `")
            );
            if self.missing.len() > SHOWN {
                let _ = write!(why, " and {} more", self.missing.len() - SHOWN);
            }
        }
        let words: Vec<&str> = self.why_words.iter().map(String::as_str).collect();
        let notes = self.results.notes_about(&words);
        if !notes.is_empty() {
            let _ = write!(why, "; meta.txt: {}", notes.join("; "));
        }
        why
    }
}

/// Corium's median over `peer`'s on `cell`'s benchmark and metric.
fn ratio_of(results: &Results, cell: Cell<'_>, peer: &str) -> Option<f64> {
    let s = results.median(cell)?;
    let p = results.median(cell.on(peer))?;
    (p != 0.0).then(|| s / p)
}

/// A micro benchmark on one flavor: corium/tokio at most `bound`.
fn micro_ratio(results: &Results, label: &str, bench: &str, flavor: &str, bound: f64) -> GoalRow {
    let (corium, tokio, smol) = micro_servers(flavor);
    let goal_text = format!("<= {bound}x {tokio}");
    let mut goal = Goal::new(results, label, &goal_text);
    let cell = Cell::new("micro", bench, corium, "ns");
    goal.ratio(&format!("{corium}/{tokio} "), cell, tokio, bound);
    goal.note_ratio(&format!("{corium}/{smol} "), cell, smol);
    goal.bar(&format!("vs {tokio}"), cell, tokio, Some(bound));
    goal.bar(&format!("vs {smol}"), cell, smol, None);
    goal.finish()
}

/// Corium, tokio and smol of one micro flavor (`ct` or `mt`).
fn micro_servers(flavor: &str) -> (&'static str, &'static str, &'static str) {
    if flavor == "mt" {
        ("corium-mt", "tokio-mt", "smol-mt")
    } else {
        ("corium-ct", "tokio-ct", "smol")
    }
}

fn timers_insert_cancel(results: &Results) -> GoalRow {
    const BOUND: f64 = 0.7;
    let mut goal = Goal::new(results, "timers insert+cancel", "<= 0.7x tokio-ct");
    let ct = Cell::new("micro", "timers_insert_cancel", "corium-ct", "ns");
    let mt = ct.on("corium-mt");
    goal.ratio("corium-ct/tokio-ct ", ct, "tokio-ct", BOUND);
    goal.note_ratio("not judged: corium-mt/tokio-mt ", mt, "tokio-mt");
    goal.bar("vs tokio-ct", ct, "tokio-ct", Some(BOUND));
    goal.bar("vs smol", ct, "smol", None);
    goal.bar("mt vs tokio-mt", mt, "tokio-mt", None);
    goal.bar("mt vs smol-mt", mt, "smol-mt", None);
    goal.finish()
}

fn timer_delay(results: &Results) -> GoalRow {
    const BOUND_US: f64 = 1000.0;
    let mut goal = Goal::new(
        results,
        "timer firing delay",
        "p99 late <= 1000 us, ct and mt",
    );
    for flavor in ["ct", "mt"] {
        let (corium, tokio, smol) = micro_servers(flavor);
        let p99 = Cell::new("micro", "timer_delay", corium, "late_p99_us");
        goal.at_most(&format!("{corium} p99 "), p99, BOUND_US);
        let p50 = results.median(Cell {
            metric: "late_p50_us",
            ..p99
        });
        let tokio_p99 = results.median(p99.on(tokio));
        goal.append(format!(
            " (p50 {}, {tokio} p99 {})",
            p50.map_or_else(|| "n/a".to_string(), measured),
            tokio_p99.map_or_else(|| "n/a".to_string(), measured)
        ));
        // The absolute bound, in terms of the bar against tokio.
        let bound = tokio_p99.filter(|&t| t > 0.0).map(|t| BOUND_US / t);
        goal.bar(&format!("p99 vs {tokio}"), p99, tokio, bound);
        goal.bar(&format!("p99 vs {smol}"), p99, smol, None);
    }
    goal.finish()
}

fn echo50_cpu(results: &Results) -> GoalRow {
    const BOUND: f64 = 1.02;
    let mut goal = Goal::new(
        results,
        "echo 50 conns, 1 thread: CPU/msg",
        "<= 1.02x raw epoll",
    );
    let cell = Cell::new("net", "echo50", "corium", "cpu_us");
    goal.ratio("corium/epoll ", cell, "epoll", BOUND);
    goal.note_ratio("vs tokio ", cell, "tokio");
    goal.bar("vs epoll (limit)", cell, "epoll", Some(BOUND));
    goal.bar("vs tokio", cell, "tokio", None);
    goal.bar("vs smol", cell, "smol", None);
    goal.finish()
}

fn echo50_rate(results: &Results) -> GoalRow {
    let mut goal = Goal::new(
        results,
        "echo 50 conns: msgs/s",
        ">= tokio and smol (a rate)",
    );
    let cell = Cell::new("net", "echo50", "corium", "ops_s");
    goal.ratio("corium/tokio ", cell, "tokio", 1.0);
    goal.ratio("corium/smol ", cell, "smol", 1.0);
    goal.bar("msgs/s vs tokio", cell, "tokio", Some(1.0));
    goal.bar("msgs/s vs smol", cell, "smol", Some(1.0));
    goal.finish()
}

fn echo1(results: &Results) -> GoalRow {
    // "3 syscalls per round trip", allowing the count's rounding.
    const SYSCALLS: f64 = 3.05;
    let mut goal = Goal::new(
        results,
        "echo 1 conn: syscalls, RTT p50",
        "3 syscalls (<= 3.05), p50 <= tokio",
    );
    let syscalls = Cell::new("net", "echo1", "corium", "syscalls");
    let p50 = Cell::new("net", "echo1", "corium", "p50_us");
    goal.at_most("corium ", syscalls, SYSCALLS);
    goal.ratio("p50 corium/tokio ", p50, "tokio", 1.0);
    goal.bar("RTT p50 vs tokio", p50, "tokio", Some(1.0));
    goal.bar("RTT p50 vs epoll (limit)", p50, "epoll", None);
    let epoll = results.median(syscalls.on("epoll")).filter(|&e| e > 0.0);
    goal.bar(
        "syscalls vs epoll (limit)",
        syscalls,
        "epoll",
        epoll.map(|e| SYSCALLS / e),
    );
    goal.finish()
}

fn echo50_syscalls(results: &Results) -> GoalRow {
    const MARGIN: f64 = 0.1;
    let mut goal = Goal::new(results, "syscalls/msg, 50 conns", "<= raw epoll + 0.1");
    let cell = Cell::new("net", "echo50", "corium", "syscalls");
    let (corium, epoll) = (goal.median(cell), goal.median(cell.on("epoll")));
    match corium.zip(epoll) {
        Some((c, e)) => {
            goal.checks.push(Some(c <= e + MARGIN));
            goal.note(format!(
                "corium {} vs epoll {} ({:+.2})",
                measured(c),
                measured(e),
                c - e
            ));
        }
        None => {
            goal.checks.push(None);
            goal.note("n/a".to_string());
        }
    }
    let bound = epoll.filter(|&e| e > 0.0).map(|e| (e + MARGIN) / e);
    goal.bar("vs epoll (limit)", cell, "epoll", bound);
    goal.bar("vs tokio", cell, "tokio", None);
    goal.bar("vs smol", cell, "smol", None);
    goal.finish()
}

fn http_cpu(results: &Results) -> GoalRow {
    const BOUND: f64 = 1.05;
    let mut goal = Goal::new(results, "http hello: CPU/request", "<= 1.05x raw epoll");
    let cell = Cell::new("app", "wrk", "http-corium", "cpu_us");
    goal.ratio("corium/epoll ", cell, "http-epoll", BOUND);
    goal.note_ratio("vs tokio ", cell, "http-tokio");
    goal.note_ratio("vs nginx ", cell, "http-nginx");
    goal.bar("vs epoll (limit)", cell, "http-epoll", Some(BOUND));
    goal.bar("vs tokio", cell, "http-tokio", None);
    goal.bar("vs nginx", cell, "http-nginx", None);
    goal.finish()
}

fn mini_redis(results: &Results) -> GoalRow {
    let mut goal = Goal::new(
        results,
        "mini_redis: CPU/request",
        "<= tokio, < redis-server, per test",
    );
    let tests = results.benches_of("app", "resp-corium");
    let (mut met, mut judged) = (0, 0);
    let mut per_test = Vec::new();
    let (mut vs_tokio, mut vs_redis) = (Vec::new(), Vec::new());
    for test in &tests {
        let cell = Cell::new("app", test, "resp-corium", "cpu_us");
        let t = ratio_of(results, cell, "resp-tokio");
        let r = ratio_of(results, cell, "resp-redis");
        let show = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), ratio);
        per_test.push(format!("{test} {}/{}", show(t), show(r)));
        vs_tokio.extend(t);
        vs_redis.extend(r);
        match t.zip(r) {
            Some((t, r)) => {
                let ok = t <= 1.0 && r < 1.0;
                judged += 1;
                met += usize::from(ok);
                goal.checks.push(Some(ok));
            }
            None => {
                goal.median(cell);
                goal.median(cell.on("resp-tokio"));
                goal.median(cell.on("resp-redis"));
                goal.checks.push(None);
            }
        }
    }
    if tests.is_empty() {
        goal.missing.push("app resp-corium rows".to_string());
        goal.why_words.extend(["app", "redis"].map(String::from));
        goal.note("n/a".to_string());
    } else {
        goal.note(format!(
            "met on {met} of {} tests{}; CPU vs tokio / vs redis-server: {}",
            tests.len(),
            if judged < tests.len() {
                format!(" ({} not measured)", tests.len() - judged)
            } else {
                String::new()
            },
            per_test.join(", ")
        ));
    }
    for (label, peer, values) in [
        ("vs tokio, geomean of tests", PeerKind::Tokio, &vs_tokio),
        (
            "vs redis-server, geomean of tests",
            PeerKind::Redis,
            &vs_redis,
        ),
    ] {
        goal.bars.push(Bar {
            label: label.to_string(),
            peer,
            value: geomean(values),
            spread: spread(values),
            goal: Some(1.0),
            inverted: false,
        });
    }
    goal.finish()
}

fn echo_two_workers(results: &Results) -> GoalRow {
    const STRETCH: f64 = 1.05;
    let mut goal = Goal::new(
        results,
        "echo 2 workers, unpinned",
        ">= tokio-mt's msgs/s, <= its CPU",
    );
    let (corium, tokio, own) = ("corium-mt@unpinned", "tokio-mt@unpinned", "corium@unpinned");
    let rate = Cell::new("net", "echo50", corium, "ops_s");
    let cpu = Cell {
        metric: "cpu_us",
        ..rate
    };
    goal.ratio("msgs/s corium-mt/tokio-mt ", rate, tokio, 1.0);
    goal.ratio("CPU corium-mt/tokio-mt ", cpu, tokio, 1.0);
    let stretch = ratio_of(results, cpu, own);
    goal.note(match stretch {
        Some(r) => format!(
            "stretch, CPU <= 1.05x Corium current-thread's: {} ({})",
            ratio_against(r, STRETCH),
            if r <= STRETCH { "met" } else { "missed" }
        ),
        None => "stretch: n/a".to_string(),
    });
    // echo-tokio's own program on Corium (no graceful shutdown): what the
    // runtimes cost on the same program, beside the judged example.
    goal.note_ratio(
        "not judged: CPU of echo-tokio's program on Corium (corium-plain-mt)/tokio-mt ",
        Cell {
            server: "corium-plain-mt@unpinned",
            ..cpu
        },
        tokio,
    );
    goal.bar("msgs/s vs tokio-mt", rate, tokio, Some(1.0));
    goal.bar("CPU vs tokio-mt", cpu, tokio, Some(1.0));
    goal.bar(
        "CPU vs own current-thread (stretch)",
        cpu,
        own,
        Some(STRETCH),
    );
    goal.finish()
}

fn idle_memory(results: &Results) -> GoalRow {
    const BOUND: f64 = 0.5;
    let mut goal = Goal::new(
        results,
        "memory per idle connection",
        "<= 0.5x tokio, 10k idle conns",
    );
    let cell = Cell::new("idle", "idle10000", "corium", "kb_per_conn");
    goal.ratio("corium/tokio ", cell, "tokio", BOUND);
    goal.note_ratio(
        "not judged: corium-mt/tokio-mt ",
        cell.on("corium-mt"),
        "tokio-mt",
    );
    goal.bar("vs tokio", cell, "tokio", Some(BOUND));
    goal.bar("vs smol", cell, "smol", None);
    goal.bar("vs epoll (limit)", cell, "epoll", None);
    goal.finish()
}

/// The geometric mean of positive `values`; `None` when there are none.
fn geomean(values: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = values
        .iter()
        .filter(|v| **v > 0.0)
        .map(|v| v.ln())
        .collect();
    (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// The smallest and largest of `values`, when there are two or more.
fn spread(values: &[f64]) -> Option<(f64, f64)> {
    (values.len() > 1).then(|| {
        values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results holding `rows`, each `section bench server metric median`.
    fn results(rows: &[(&str, &str, &str, &str, f64)]) -> Results {
        let mut results = Results::default();
        let text: String = rows
            .iter()
            .map(|(section, bench, server, metric, median)| {
                format!("{section}\t{bench}\t{server}\t{metric}\t{median}\t{median}\t{median}\t5\n")
            })
            .collect();
        results.add_tsv("test.tsv", &text);
        results
    }

    fn echo50(corium: f64, tokio: f64, smol: f64) -> Results {
        results(&[
            ("net", "echo50", "corium", "ops_s", corium),
            ("net", "echo50", "tokio", "ops_s", tokio),
            ("net", "echo50", "smol", "ops_s", smol),
        ])
    }

    #[test]
    fn a_rate_goal_is_met_at_or_above_the_peer() {
        assert_eq!(
            echo50_rate(&echo50(100.0, 100.0, 50.0)).verdict,
            Verdict::Met
        );
        assert_eq!(
            echo50_rate(&echo50(101.0, 100.0, 50.0)).verdict,
            Verdict::Met
        );
        assert_eq!(
            echo50_rate(&echo50(99.0, 100.0, 50.0)).verdict,
            Verdict::Missed
        );
        assert_eq!(
            echo50_rate(&echo50(150.0, 100.0, 151.0)).verdict,
            Verdict::Missed
        );
    }

    #[test]
    fn rate_bars_are_inverted_so_lower_is_better() {
        let row = echo50_rate(&echo50(200.0, 100.0, 50.0));
        let bar = &row.bars[0];
        assert!(bar.inverted);
        assert_eq!(bar.value, Some(0.5), "tokio / corium");
        assert_eq!(bar.goal, Some(1.0));
    }

    #[test]
    fn a_cost_goal_is_met_at_or_below_its_bound() {
        let micro = |corium: f64| {
            results(&[
                ("micro", "spawn_many", "corium-ct", "ns", corium),
                ("micro", "spawn_many", "tokio-ct", "ns", 200.0),
            ])
        };
        let judge = |corium| micro_ratio(&micro(corium), "s", "spawn_many", "ct", 0.5);
        assert_eq!(judge(100.0).verdict, Verdict::Met);
        assert_eq!(judge(101.0).verdict, Verdict::Missed);
        assert!(
            judge(100.6).measured.contains("0.503x"),
            "{}",
            judge(100.6).measured
        );
        // smol has no row: shown as n/a, the goal (against tokio) still judged.
        assert!(judge(100.0).measured.contains("corium-ct/smol n/a"));
        assert_eq!(judge(100.0).bars[1].value, None);
    }

    #[test]
    fn a_missing_figure_is_not_measured_unless_another_check_failed() {
        let only_corium = results(&[("net", "echo50", "corium", "ops_s", 100.0)]);
        let row = echo50_rate(&only_corium);
        let Verdict::NotMeasured(why) = &row.verdict else {
            panic!("{:?}", row.verdict)
        };
        assert!(
            why.contains("no `net echo50 tokio ops_s`, `net echo50 smol ops_s`"),
            "{why}"
        );
        // tokio measured and beaten, smol missing: missed wins.
        let beaten = results(&[
            ("net", "echo50", "corium", "ops_s", 90.0),
            ("net", "echo50", "tokio", "ops_s", 100.0),
        ]);
        assert_eq!(echo50_rate(&beaten).verdict, Verdict::Missed);
    }

    #[test]
    fn absolute_goals_are_judged_on_the_figure() {
        let delay = |ct: f64, mt: f64| {
            results(&[
                ("micro", "timer_delay", "corium-ct", "late_p99_us", ct),
                ("micro", "timer_delay", "corium-mt", "late_p99_us", mt),
                ("micro", "timer_delay", "tokio-ct", "late_p99_us", 2000.0),
            ])
        };
        assert_eq!(timer_delay(&delay(1000.0, 120.0)).verdict, Verdict::Met);
        let missed = timer_delay(&delay(1001.0, 120.0));
        assert_eq!(missed.verdict, Verdict::Missed);
        // The 1 ms bound in terms of the bar against tokio-ct: 1000 / 2000.
        assert_eq!(missed.bars[0].goal, Some(0.5));
    }

    #[test]
    fn syscalls_allow_a_tenth_over_the_limit() {
        let sys = |corium: f64| {
            results(&[
                ("net", "echo50", "corium", "syscalls", corium),
                ("net", "echo50", "epoll", "syscalls", 2.0),
            ])
        };
        assert_eq!(echo50_syscalls(&sys(2.1)).verdict, Verdict::Met);
        assert_eq!(echo50_syscalls(&sys(2.11)).verdict, Verdict::Missed);
    }

    #[test]
    fn mini_redis_counts_the_tests_met() {
        let mut rows = Vec::new();
        for (test, corium) in [("set-P1", 1.0), ("get-P1", 1.2)] {
            rows.push(("app", test, "resp-corium", "cpu_us", corium));
            rows.push(("app", test, "resp-tokio", "cpu_us", 1.1));
            rows.push(("app", test, "resp-redis", "cpu_us", 1.5));
        }
        let row = mini_redis(&results(&rows));
        assert_eq!(row.verdict, Verdict::Missed);
        assert!(
            row.measured.starts_with("met on 1 of 2 tests"),
            "{}",
            row.measured
        );
        assert_eq!(
            row.bars[0].spread.map(|(lo, hi)| (lo < 1.0, hi > 1.0)),
            Some((true, true))
        );
    }
}
