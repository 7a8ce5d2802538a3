//! The command line every echo server of the network suite shares:
//! `--addr HOST:PORT` (default `127.0.0.1:0`) and, for the servers that have
//! more than one thread to offer, `--workers N`; and the one line a server
//! prints once bound, `listening on <addr>`, which `benches/net/echo.sh`
//! reads the port from.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::exit;

/// What the server was asked for.
pub struct ServerOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Worker threads (1: a single-thread runtime).
    pub workers: usize,
}

impl ServerOptions {
    /// Parses `std::env::args()`, printing usage and exiting on `--help`
    /// (status 0) or a bad argument (status 2). `about` is the server's
    /// one-line description; `multi_thread` says whether `--workers` is
    /// accepted.
    pub fn from_args(name: &str, about: &str, multi_thread: bool) -> ServerOptions {
        let usage = if multi_thread {
            format!(
                "usage: {name} [--addr HOST:PORT] [--workers N]\n\n{about}\n\n  \
                 --addr HOST:PORT  where to listen (default 127.0.0.1:0)\n  \
                 --workers N       worker threads (default 1: a single-thread runtime)\n\n\
                 Prints `listening on <addr>` once bound; runs until killed."
            )
        } else {
            format!(
                "usage: {name} [--addr HOST:PORT]\n\n{about}\n\n  \
                 --addr HOST:PORT  where to listen (default 127.0.0.1:0)\n\n\
                 Prints `listening on <addr>` once bound; runs until killed."
            )
        };
        let fail = |message: String| -> ! {
            eprintln!("{name}: {message}\n\n{usage}");
            exit(2)
        };
        let mut options = ServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            workers: 1,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => {
                    let value = args
                        .next()
                        .unwrap_or_else(|| fail("--addr needs HOST:PORT".into()));
                    options.addr = value
                        .parse()
                        .unwrap_or_else(|_| fail(format!("--addr: not HOST:PORT: {value}")));
                }
                "--workers" if multi_thread => {
                    let value = args
                        .next()
                        .unwrap_or_else(|| fail("--workers needs a number".into()));
                    options.workers = match value.parse() {
                        Ok(n) if n >= 1 => n,
                        _ => fail(format!("--workers: not a positive number: {value}")),
                    };
                }
                "-h" | "--help" => {
                    let _ = writeln!(std::io::stdout(), "{usage}");
                    exit(0);
                }
                other => fail(format!("unknown argument: {other}")),
            }
        }
        options
    }
}

/// Prints the one line `listening on <addr>` and flushes it at once (stdout
/// is a pipe or a file under the suite, so it would otherwise sit in the
/// buffer).
pub fn announce(addr: SocketAddr) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on {addr}");
    let _ = stdout.flush();
}

/// Exits with a message when the server cannot start (bind, runtime).
pub fn die(name: &str, what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("{name}: {what}: {error}");
    exit(1)
}
