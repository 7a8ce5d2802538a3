//! The command line every server of the network suite shares:
//! `--addr HOST:PORT` (default `127.0.0.1:0`); for the servers that have
//! more than one thread to offer, `--workers N`; for the ones that read each
//! connection into a buffer of its own, `--buffer BYTES`; and the one line a
//! server prints once bound, `listening on <addr>`, which the scripts of
//! `benches/net` read the port from.
//!
//! A flag a server does not take is an unknown argument to it, like any
//! other: the usage and exit status 2.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::exit;

/// The flags a server takes besides `--addr`; the default is none (one
/// thread, no buffer per connection).
#[derive(Clone, Copy, Default)]
pub struct Flags {
    /// Whether `--workers N` is accepted (the server can run more than one
    /// thread).
    pub workers: bool,
    /// `--buffer BYTES` is accepted, with this default, by a server that
    /// reads each connection into a buffer of its own; `None` for one that
    /// keeps no buffer per connection.
    pub buffer: Option<usize>,
}

/// What the server was asked for.
pub struct ServerOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Worker threads (1: a single-thread runtime).
    pub workers: usize,
    /// Bytes of each connection's read buffer: `--buffer`, else the
    /// server's default ([`Flags::buffer`]); 0 for a server that keeps none.
    pub buffer: usize,
}

impl ServerOptions {
    /// Parses `std::env::args()`, printing usage and exiting on `--help`
    /// (status 0) or a bad argument (status 2). `about` is the server's
    /// one-line description; `flags` says which flags besides `--addr` it
    /// takes.
    pub fn from_args(name: &str, about: &str, flags: Flags) -> ServerOptions {
        let usage = usage(name, about, flags);
        let fail = |message: String| -> ! {
            eprintln!("{name}: {message}\n\n{usage}");
            exit(2)
        };
        let positive = |flag: &str, value: Option<String>| -> usize {
            let value = value.unwrap_or_else(|| fail(format!("{flag} needs a number")));
            match value.parse() {
                Ok(n) if n >= 1 => n,
                _ => fail(format!("{flag}: not a positive number: {value}")),
            }
        };
        let mut options = ServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            workers: 1,
            buffer: flags.buffer.unwrap_or(0),
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
                "--workers" if flags.workers => options.workers = positive(&arg, args.next()),
                "--buffer" if flags.buffer.is_some() => {
                    options.buffer = positive(&arg, args.next());
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

/// The usage text of a server taking `flags`.
fn usage(name: &str, about: &str, flags: Flags) -> String {
    let mut synopsis = format!("usage: {name} [--addr HOST:PORT]");
    let mut lines = String::from("  --addr HOST:PORT  where to listen (default 127.0.0.1:0)\n");
    if flags.workers {
        synopsis += " [--workers N]";
        lines += "  --workers N       worker threads (default 1: a single-thread runtime)\n";
    }
    if let Some(buffer) = flags.buffer {
        synopsis += " [--buffer BYTES]";
        lines += &format!("  --buffer BYTES    each connection's read buffer (default {buffer})\n");
    }
    format!(
        "{synopsis}\n\n{about}\n\n{lines}\n\
         Prints `listening on <addr>` once bound; runs until killed."
    )
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
