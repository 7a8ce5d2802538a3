//! Command-line flags of the suite.

use crate::micro::Bench;

/// Rounds when `--rounds` is not given.
pub const DEFAULT_ROUNDS: usize = 7;
/// Rounds under `--quick`.
pub const QUICK_ROUNDS: usize = 3;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Interleaved rounds per benchmark.
    pub rounds: usize,
    /// Run only this benchmark or suite.
    pub only: Option<Only>,
    /// Smaller sizes and fewer rounds, for a smoke check.
    pub quick: bool,
}

/// What `--only` selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// One micro benchmark (writes `benches/MICRO.md`).
    Micro(Bench),
    /// Every micro benchmark (writes `benches/MICRO.md`).
    AllMicro,
    /// The sync suite (writes `benches/SYNC.md`).
    Sync,
}

/// The usage text printed by `--help` and on a bad flag.
pub const USAGE: &str = "\
usage: corium-benches [--rounds N] [--only NAME] [--quick]

  --rounds N    interleaved rounds per benchmark (default 7; 3 with --quick)
  --only NAME   run one micro benchmark: spawn_many, yield_many, ping_pong,
                chained_spawn, timers_insert_cancel, timer_delay;
                or one suite: micro (all of the above), sync (corium::sync
                beside tokio::sync and async-channel / async-lock)
  --quick       a tenth of the work and 3 rounds: a smoke check, not a result

Without --only, runs both suites. Writes the micro table to stdout and
benches/MICRO.md, the sync table to stdout and benches/SYNC.md.";

impl Options {
    /// Parses the arguments (without the program name). `Err` carries the
    /// message to print; `Ok(None)` means `--help` was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut rounds = None;
        let mut only = None;
        let mut quick = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--rounds" => {
                    let value = args.next().ok_or("--rounds needs a number")?;
                    let n: usize = value
                        .parse()
                        .map_err(|_| format!("--rounds: not a number: {value}"))?;
                    if n == 0 {
                        return Err("--rounds must be at least 1".into());
                    }
                    rounds = Some(n);
                }
                "--only" => {
                    let name = args.next().ok_or("--only needs a benchmark name")?;
                    only = Some(match name.as_str() {
                        "sync" => Only::Sync,
                        "micro" => Only::AllMicro,
                        _ => Only::Micro(
                            Bench::from_name(&name)
                                .ok_or(format!("--only: no benchmark {name}"))?,
                        ),
                    });
                }
                "--quick" => quick = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument: {other}")),
            }
        }
        let rounds = rounds.unwrap_or(if quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS });
        Ok(Some(Options {
            rounds,
            only,
            quick,
        }))
    }
}
