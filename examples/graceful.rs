//! Graceful shutdown: on SIGTERM or Ctrl-C the server stops accepting,
//! answers every request it has begun, closes idle connections, and exits
//! with status 0, within `--grace SECONDS` (default 3).
//!
//! ```sh
//! cargo run --example graceful -- --addr 127.0.0.1:7003
//! # another terminal: nc 127.0.0.1 7003, type `wait 2000`, then
//! kill -TERM <pid>     # the reply `done 2000` still comes, then the exit
//! ```
//!
//! The protocol is lines: `wait MS` answers `done MS` after MS
//! milliseconds (a slow request, to shut down in the middle of), and any
//! other line is echoed. A request begins with its first byte: a line half
//! sent when the signal comes is still read to its end and answered.
//!
//! The runtime is `#[corium::main]`'s: the environment picks the flavor
//! (`CORIUM_FLAVOR=current_thread`, `CORIUM_WORKER_THREADS=2`), else it is
//! multi-thread with one worker per core.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use corium::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/shutdown.rs"]
mod shutdown;

use shutdown::{Signals, Stop};

/// The longest line a request may be.
const MAX_LINE: usize = 4096;

/// The longest `wait` a request may ask for.
const MAX_WAIT_MS: u64 = 60_000;

#[corium::main]
async fn main() -> ExitCode {
    let args = std::env::args().skip(1);
    let (addr, grace) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("graceful: {message}\nusage: graceful [--addr HOST:PORT] [--grace SECONDS]");
            return ExitCode::from(2);
        }
    };
    match serve(&addr, grace).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graceful: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(String, Duration), String> {
    let mut addr = "127.0.0.1:7003".to_owned();
    let mut grace = cli::DEFAULT_GRACE;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value,
            "--grace" => grace = cli::parse_grace(&value)?,
            _ => return Err(format!("unexpected argument '{flag}'")),
        }
    }
    Ok((addr, grace))
}

async fn serve(addr: &str, grace: Duration) -> io::Result<()> {
    // Before binding: a SIGTERM as soon as the port answers is graceful too.
    let mut signals = Signals::install()?;
    let listener = cli::listen(addr).await?;
    let aborted = shutdown::serve(listener, signals.recv(), grace, connection).await;
    if aborted > 0 {
        eprintln!("graceful: {aborted} connection(s) cut off by the grace period");
    }
    Ok(())
}

async fn connection(stream: TcpStream, peer: SocketAddr, mut stop: Stop) {
    if let Err(e) = serve_lines(stream, &mut stop).await {
        eprintln!("{peer}: {e}");
    }
}

/// Answers line after line until the client closes or the server stops.
/// The stop is looked at only between requests, when no byte of the next
/// one has come: a request that has begun is read to its end and answered.
async fn serve_lines(mut stream: TcpStream, stop: &mut Stop) -> io::Result<()> {
    let mut pending = Vec::with_capacity(128);
    let mut buf = [0u8; 1024];
    loop {
        let n = if pending.is_empty() {
            match stop.next_request(stream.read(&mut buf)).await {
                Some(read) => read?,
                None => return Ok(()),
            }
        } else {
            stream.read(&mut buf).await?
        };
        if n == 0 {
            return Ok(()); // the client closed; half a line has no answer
        }
        pending.extend_from_slice(&buf[..n]);
        // Pipelined lines may come in one read: answer each.
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let reply = answer(&pending[..end]).await;
            stream.write_all(reply.as_bytes()).await?;
            pending.drain(..=end);
        }
        if pending.len() > MAX_LINE {
            return stream.write_all(b"error: line too long\n").await;
        }
    }
}

/// One request's reply.
async fn answer(line: &[u8]) -> String {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end_matches('\r');
    match line.strip_prefix("wait ").map(str::parse::<u64>) {
        Some(Ok(ms)) if ms <= MAX_WAIT_MS => {
            corium::time::sleep(Duration::from_millis(ms)).await;
            format!("done {ms}\n")
        }
        Some(_) => format!("error: wait takes milliseconds, at most {MAX_WAIT_MS}\n"),
        None => format!("{line}\n"),
    }
}
