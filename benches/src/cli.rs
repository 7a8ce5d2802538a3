//! Command-line flags of the suite.

use std::path::PathBuf;

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
    /// Append every cell as a TSV row (`corium_benches::tsv`) to this file.
    pub tsv: Option<PathBuf>,
    /// Write MICRO.md and SYNC.md here instead of `benches/`.
    pub out_dir: Option<PathBuf>,
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
usage: corium-benches [--rounds N] [--only NAME] [--quick] [--tsv FILE]
                      [--out-dir DIR]

  --rounds N    interleaved rounds per benchmark (default 7; 3 with --quick)
  --only NAME   run one micro benchmark: spawn_many, yield_many, ping_pong,
                chained_spawn, timers_insert_cancel, timer_delay;
                or one suite: micro (all of the above), sync (corium::sync
                beside tokio::sync and async-channel / async-lock)
  --quick       a tenth of the work and 3 rounds: a smoke check, not a result
  --tsv FILE    also append every cell to FILE as a tab-separated row:
                section bench server metric median min max rounds
                (section micro or sync; read by suite-report)
  --out-dir DIR write MICRO.md and SYNC.md into DIR (default benches/)

Without --only, runs both suites. Writes the micro table to stdout and
MICRO.md, the sync table to stdout and SYNC.md.";

impl Options {
    /// Parses the arguments (without the program name). `Err` carries the
    /// message to print; `Ok(None)` means `--help` was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut rounds = None;
        let mut only = None;
        let mut quick = false;
        let mut tsv = None;
        let mut out_dir = None;
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
                "--tsv" => tsv = Some(PathBuf::from(args.next().ok_or("--tsv needs a file")?)),
                "--out-dir" => {
                    out_dir = Some(PathBuf::from(
                        args.next().ok_or("--out-dir needs a directory")?,
                    ));
                }
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument: {other}")),
            }
        }
        let rounds = rounds.unwrap_or(if quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS });
        Ok(Some(Options {
            rounds,
            only,
            quick,
            tsv,
            out_dir,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn tsv_and_out_dir_are_optional_paths() {
        let plain = parse(&[]).unwrap().unwrap();
        assert_eq!((plain.tsv, plain.out_dir), (None, None));
        let options = parse(&["--tsv", "r/micro.tsv", "--out-dir", "r", "--only", "sync"])
            .unwrap()
            .unwrap();
        assert_eq!(options.tsv, Some(PathBuf::from("r/micro.tsv")));
        assert_eq!(options.out_dir, Some(PathBuf::from("r")));
        assert_eq!(options.only, Some(Only::Sync));
        assert!(parse(&["--tsv"]).is_err());
        assert!(parse(&["--out-dir"]).is_err());
    }
}
