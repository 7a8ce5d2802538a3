//! The command line every example server shares: `--addr`, and the
//! runtime switch `--flavor current|multi` / `--workers N`.
//!
//! Without `--flavor` the runtime is what the environment asks for
//! (`CORIUM_FLAVOR`, `CORIUM_WORKER_THREADS`; `Builder::from_env`), and
//! with nothing set it is multi-thread with one worker per core. So the
//! same binary runs on either flavor without a change:
//!
//! ```sh
//! cargo run --release --example echo -- --flavor current
//! CORIUM_FLAVOR=multi CORIUM_WORKER_THREADS=2 cargo run --release --example echo
//! ```
//!
//! Each example includes this file with `#[path = "common/cli.rs"] mod cli;`.
#![allow(dead_code)] // each example uses its own subset

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use corium::net::TcpListener;
use corium::runtime::{Builder, Handle, Runtime};

/// The whole `main` of an example server: parses the command line (the
/// shared flags and `extra`), builds the runtime it asks for and runs
/// `serve` with the options; an error ends the program with
/// `program: error` and a failure status.
pub fn main(
    program: &str,
    default_addr: &str,
    extra: &[&str],
    serve: impl AsyncFnOnce(&Options) -> io::Result<()>,
) -> ExitCode {
    let options = parse(program, default_addr, extra);
    let served = options
        .runtime()
        .and_then(|rt| rt.block_on(serve(&options)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How long a graceful shutdown waits without `--grace`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// What the command line asked for.
pub struct Options {
    /// `--addr HOST:PORT`, else the example's default.
    pub addr: String,
    /// `--seconds N` (the demo's run length), if given.
    pub seconds: Option<String>,
    /// `--grace SECONDS`: how long a graceful shutdown waits for open
    /// connections (default 3 s), for the servers that take it.
    pub grace: Duration,
    /// `--buffer BYTES`: the per-connection buffer size, for the servers
    /// that take it (each defaults to its own); more than 0.
    pub buffer: Option<usize>,
    /// `--flavor`, if given.
    flavor: Option<String>,
    /// `--workers`, if given.
    workers: Option<String>,
}

/// Parses the arguments; prints the usage and exits on `--help` (0) or a
/// bad argument (2). An empty `default_addr` means the example takes no
/// `--addr`. `extra` names the example's own flags for the usage
/// line (`--seconds N`).
pub fn parse(program: &str, default_addr: &str, extra: &[&str]) -> Options {
    let usage = usage(program, default_addr, extra);
    match parse_from(std::env::args().skip(1), default_addr, extra) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{usage}");
            std::process::exit(0);
        }
        Err(message) => {
            eprintln!("{program}: {message}\n{usage}");
            std::process::exit(2);
        }
    }
}

fn usage(program: &str, default_addr: &str, extra: &[&str]) -> String {
    let extra: String = extra.iter().map(|flag| format!(" [{flag}]")).collect();
    let (addr, addr_default) = match default_addr {
        "" => ("", String::new()),
        _ => (
            " [--addr HOST:PORT]",
            format!("--addr defaults to {default_addr}; "),
        ),
    };
    format!(
        "usage: {program}{addr}{extra} [--flavor current|multi] [--workers N]\n  \
         {addr_default}without --flavor the runtime follows CORIUM_FLAVOR and \
         CORIUM_WORKER_THREADS, else multi-thread, one worker per core"
    )
}

/// `Ok(None)` for `--help`.
fn parse_from(
    mut args: impl Iterator<Item = String>,
    default_addr: &str,
    extra: &[&str],
) -> Result<Option<Options>, String> {
    let mut options = Options {
        addr: default_addr.to_owned(),
        seconds: None,
        grace: DEFAULT_GRACE,
        buffer: None,
        flavor: None,
        workers: None,
    };
    let mut addr = None;
    let mut grace = None;
    let mut buffer = None;
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let takes = |name: &str| extra.iter().any(|e| e.starts_with(name));
        let target = match flag.as_str() {
            "--addr" if !default_addr.is_empty() => &mut addr,
            "--flavor" => &mut options.flavor,
            "--workers" => &mut options.workers,
            "--seconds" if takes("--seconds") => &mut options.seconds,
            "--grace" if takes("--grace") => &mut grace,
            "--buffer" if takes("--buffer") => &mut buffer,
            _ => return Err(format!("unexpected argument '{arg}'")),
        };
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or(format!("{flag} needs a value"))?,
        };
        *target = Some(value);
    }
    if let Some(addr) = addr {
        options.addr = addr;
    }
    if let Some(grace) = grace {
        options.grace = parse_grace(&grace)?;
    }
    if let Some(buffer) = buffer {
        options.buffer = Some(parse_buffer(&buffer)?);
    }
    Ok(Some(options))
}

/// `--grace`'s value: seconds, a fraction allowed.
pub fn parse_grace(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or(format!(
            "--grace {value:?} is not valid: it must be a number of seconds, 0 or more"
        ))
}

/// `--buffer`'s value: a size in bytes, at least 1.
fn parse_buffer(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(format!(
            "--buffer {value:?} is not valid: it must be a whole number of bytes, at least 1"
        )),
    }
}

impl Options {
    /// The runtime the flags (then the environment, then the default) ask
    /// for. An invalid flag or variable is an error naming it.
    pub fn runtime(&self) -> io::Result<Runtime> {
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
        let mut builder = match self.flavor.as_deref() {
            None => Builder::from_env()?,
            Some("current" | "current_thread") => Builder::new_current_thread(),
            Some("multi" | "multi_thread") => Builder::new_multi_thread(),
            Some(other) => {
                return Err(invalid(format!(
                    "--flavor {other:?} is not valid: it must be `current` or `multi`"
                )))
            }
        };
        if let Some(workers) = &self.workers {
            match workers.parse::<usize>() {
                Ok(n) if n > 0 => builder.worker_threads(n),
                _ => {
                    return Err(invalid(format!(
                        "--workers {workers:?} is not valid: it must be a whole number, at least 1"
                    )))
                }
            };
        }
        builder.build()
    }
}

/// Binds `addr` and announces it: `listening on ADDR`, then the runtime
/// line (what the tests and the benchmark scripts wait for).
pub async fn listen(addr: &str) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    println!("listening on {}", listener.local_addr()?);
    print_runtime();
    Ok(listener)
}

/// Prints which runtime serves, for the line after `listening on`.
pub fn print_runtime() {
    let handle = Handle::current();
    let workers = handle.metrics().num_workers();
    let plural = if workers == 1 { "" } else { "s" };
    let topology = handle
        .reactor_topology()
        .map_or(String::new(), |t| format!(", {t}"));
    println!(
        "runtime: {} ({workers} worker{plural}{topology})",
        handle.runtime_flavor()
    );
}
