//! `redis-tokio`: examples/mini_redis on tokio `current_thread`. The
//! protocol, keyspace and commands are the example's own files, included
//! by path (`resp.rs`, `db.rs`, `cmd.rs`); only `server.rs`, which owns the
//! sockets and tasks, is ported here from Corium's API to tokio's, line for
//! line (the connection loop, its buffers and the 100 ms expiry sweep).
//! `db.rs` and `cmd.rs` take `corium::time::Instant`: outside a Corium
//! runtime its `now()` is `std::time::Instant::now()` after one
//! thread-local check.
//!
//! `redis-tokio [--addr HOST:PORT]`: prints `listening on <addr>` once
//! bound and serves until killed. Used by `benches/net/app.sh`.

#[path = "../../../examples/mini_redis/cmd.rs"]
mod cmd;
#[path = "../../../examples/mini_redis/db.rs"]
mod db;
#[path = "../../../examples/mini_redis/resp.rs"]
mod resp;
#[path = "shared/server_cli.rs"]
mod server_cli;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{yield_now, JoinHandle};
use tokio::time::{interval, sleep, timeout, MissedTickBehavior};

use corium::time::Instant;

use crate::cmd::Flow;
use crate::db::SharedDb;
use crate::resp::{Parser, MAX_BULK_LEN};

const NAME: &str = "redis-tokio";

/// How often the sweep removes expired keys nobody asked for.
const SWEEP_PERIOD: Duration = Duration::from_millis(100);

/// Expired keys removed per hold of the lock.
const SWEEP_BATCH: usize = 1024;

/// How long the accept loop waits after an error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A connection's buffers start at this size, and shrink back to it.
const INITIAL_BUFFER: usize = 16 * 1024;

/// The least free space a read is given.
const MIN_READ: usize = 4 * 1024;

/// The read buffer's limit.
const MAX_READ_BUFFER: usize = MAX_BULK_LEN + 64 * 1024;

/// Pending reply bytes after which they are written before more requests
/// run.
const FLUSH_AT: usize = 64 * 1024;

/// An empty buffer larger than this is dropped and started afresh.
const KEEP_BUFFER: usize = 1024 * 1024;

/// How long (and how much) a connection closed for a protocol error
/// drains.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

fn main() {
    let options = server_cli::ServerOptions::from_args(
        NAME,
        "examples/mini_redis on tokio current_thread.",
        server_cli::Flags::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap_or_else(|error| server_cli::die(NAME, "runtime", error));
    runtime.block_on(async {
        let listener = TcpListener::bind(options.addr)
            .await
            .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
        let local = listener
            .local_addr()
            .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
        server_cli::announce(local);
        serve(listener, SharedDb::new()).await;
    });
}

/// Serves `db` to every client of `listener`, forever.
async fn serve(listener: TcpListener, db: SharedDb) {
    let _sweep = AbortOnDrop(tokio::spawn(sweep_expired(db.clone())));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, db.clone()));
            }
            Err(e) => {
                eprintln!("{NAME}: accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every [`SWEEP_PERIOD`], removes the keys whose deadline has passed.
async fn sweep_expired(db: SharedDb) {
    let mut ticks = interval(SWEEP_PERIOD);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Instant::now();
        loop {
            let removed = db.lock().remove_expired(now, SWEEP_BATCH);
            if removed < SWEEP_BATCH {
                break;
            }
            yield_now().await;
        }
    }
}

/// Serves one client until it leaves, errs or breaks the protocol.
async fn serve_connection(mut stream: TcpStream, db: SharedDb) {
    let mut conn = Connection::new();
    loop {
        let Some(space) = conn.input.space() else {
            resp::error(
                &mut conn.output,
                "Protocol error: request exceeds the query buffer limit",
            );
            let _ = stream.write_all(&conn.output).await;
            return close_after_error(stream).await;
        };
        match stream.read(space).await {
            Ok(0) | Err(_) => return,
            Ok(n) => conn.input.filled(n),
        }
        loop {
            let step = conn.run_requests(&db);
            if !conn.output.is_empty() {
                if stream.write_all(&conn.output).await.is_err() {
                    return;
                }
                conn.output.clear();
            }
            match step {
                Step::NeedMore => break,
                Step::Flushed => continue,
                Step::Quit => return,
                Step::ProtocolError => return close_after_error(stream).await,
            }
        }
        conn.shrink_idle_buffers();
    }
}

/// Closes a connection whose error reply has been written: half-closes,
/// then drains what the client still sends for a moment.
async fn close_after_error(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    };
    let _ = timeout(LINGER, drain).await;
}

// Below: examples/mini_redis/server.rs verbatim (no runtime in it).

/// What [`Connection::run_requests`] stopped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Every complete request ran; the next needs more bytes.
    NeedMore,
    /// [`FLUSH_AT`] reply bytes are pending; write them, then run more.
    Flushed,
    /// The client sent `QUIT`: write the replies and close.
    Quit,
    /// The input is not RESP: write the replies (the last is the error)
    /// and close.
    ProtocolError,
}

/// A connection's state between reads: its buffers and parser.
#[derive(Debug)]
struct Connection {
    input: ReadBuffer,
    parser: Parser,
    output: Vec<u8>,
}

impl Connection {
    fn new() -> Connection {
        Connection {
            input: ReadBuffer::new(),
            parser: Parser::new(),
            output: Vec::with_capacity(INITIAL_BUFFER),
        }
    }

    /// Runs the complete requests in the read buffer, appending their
    /// replies to `output`.
    fn run_requests(&mut self, db: &SharedDb) -> Step {
        loop {
            let frame = match self.parser.next_frame(self.input.unread()) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Step::NeedMore,
                Err(e) => {
                    resp::error(&mut self.output, e);
                    return Step::ProtocolError;
                }
            };
            let flow = cmd::execute(&frame, db, &mut self.output);
            let used = frame.encoded_len();
            self.input.consume(used);
            if flow == Flow::Close {
                return Step::Quit;
            }
            if self.output.len() >= FLUSH_AT {
                return Step::Flushed;
            }
        }
    }

    fn shrink_idle_buffers(&mut self) {
        self.input.shrink_if_empty();
        if self.output.capacity() > KEEP_BUFFER {
            self.output = Vec::with_capacity(INITIAL_BUFFER);
        }
    }
}

/// The bytes read and not yet consumed, at `bytes[start..end]`.
///
/// `bytes` is always initialised (zeroed when it grows), so reads go
/// straight into it without `unsafe`; it grows only when received bytes
/// fill it.
#[derive(Debug)]
struct ReadBuffer {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    fn new() -> ReadBuffer {
        ReadBuffer {
            bytes: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
        }
    }

    fn unread(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space to read into, after moving the unread bytes to the front
    /// or growing if little is left; `None` once the buffer is full at
    /// [`MAX_READ_BUFFER`].
    fn space(&mut self) -> Option<&mut [u8]> {
        if self.bytes.len() - self.end < MIN_READ && self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.bytes.len() - self.end < MIN_READ && self.bytes.len() < MAX_READ_BUFFER {
            let grown = (self.bytes.len() * 2).min(MAX_READ_BUFFER);
            self.bytes.resize(grown, 0);
        }
        let space = &mut self.bytes[self.end..];
        (!space.is_empty()).then_some(space)
    }

    fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.bytes.len());
    }

    fn shrink_if_empty(&mut self) {
        if self.start == self.end && self.bytes.len() > KEEP_BUFFER {
            *self = ReadBuffer::new();
        }
    }
}
