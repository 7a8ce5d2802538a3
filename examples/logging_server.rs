//! The logging server of Douglas Schmidt's "Reactor" pattern paper, as
//! async functions: clients send log records, the server prints each one
//! with the client's address.
//!
//! A record on the wire is a `u32` big-endian length followed by that many
//! bytes of text. Try it with any client that can frame one, e.g.
//!
//! ```sh
//! cargo run --example logging_server
//! printf '\0\0\0\5hello' | nc -q1 127.0.0.1 7002
//! ```
//!
//! # From handlers to tasks
//!
//! In the paper an `Initiation_Dispatcher` owns a *synchronous event
//! demultiplexer* (`select`) and a table of *event handlers*. The
//! `Logging_Acceptor` handler is registered for the listening socket; when
//! `select` says it is readable, the dispatcher calls its `handle_event`,
//! which accepts and registers a new `Logging_Handler` for the connection.
//! Each `Logging_Handler::handle_event` reads whatever the socket holds
//! and must keep its own state (how much of the current record has
//! arrived) between calls, because it has to return to the dispatcher
//! before the rest arrives.
//!
//! Here the same parts are still there, but the bookkeeping is gone:
//!
//! - The demultiplexer and dispatcher are Corium's reactor (epoll on
//!   Linux). Registering a handler happens when a socket is created; the
//!   registration's "handler" is the waker of the task that is waiting on
//!   the socket, and dispatching an event means waking that task.
//! - The `Logging_Acceptor` is [`accept_loop`]: one task awaiting `accept`.
//! - Each `Logging_Handler` is a [`log_records`] task. Its state between
//!   events (which record, how many bytes of it) is just where the `async
//!   fn` is suspended and its local variables: `read_exact` may take many
//!   readiness events, and the code reads as if it blocked.
//! - `handle_close` (deregistering and closing) is dropping the stream
//!   when the task returns.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use corium::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;

/// The largest record accepted; a longer length prefix is treated as a
/// broken client and ends the connection, instead of allocating whatever
/// the client asks for.
const MAX_RECORD: usize = 64 * 1024;

/// How long the acceptor rests after an error such as `EMFILE`: the
/// pending connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    cli::main("logging_server", "127.0.0.1:7002", &[], accept_loop)
}

/// The logging acceptor: accepts clients forever and starts a logging
/// handler task for each.
async fn accept_loop(options: &cli::Options) -> io::Result<()> {
    let addr = &options.addr;
    let listener = cli::listen(addr).await?;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                corium::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        corium::spawn(async move {
            eprintln!("{peer}: connected");
            match log_records(stream, peer).await {
                Ok(()) => eprintln!("{peer}: disconnected"),
                Err(e) => eprintln!("{peer}: dropped: {e}"),
            }
        });
    }
}

/// The logging handler: prints the client's records until it closes.
async fn log_records(mut stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    // One buffer per connection, grown to the largest record seen.
    let mut record = Vec::new();
    loop {
        let mut prefix = [0u8; 4];
        match stream.read_exact(&mut prefix).await {
            Ok(()) => {}
            // A close between records is the normal end of a session.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(prefix) as usize;
        if len > MAX_RECORD {
            let message = format!("a {len}-byte record (the limit is {MAX_RECORD})");
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
        record.resize(len, 0);
        stream.read_exact(&mut record).await?;
        println!("{peer}: {}", String::from_utf8_lossy(&record).trim_end());
    }
}
