//! The server: the accept loop, a task per connection, and the expiry sweep.
//!
//! A connection is one loop: read what the socket has, run every complete
//! request in the buffer, write all their replies at once, repeat. So a
//! pipelined batch costs one read and one write, and a connection's
//! buffers are reused from one batch to the next. Its memory is bounded:
//!
//! - the read buffer grows (doubling) only when bytes that have arrived
//!   fill it, never to what a length header claims, and stops at
//!   [`MAX_READ_BUFFER`]: a request that does not fit gets an error and the
//!   connection is closed;
//! - replies are written out whenever [`FLUSH_AT`] bytes are pending, so a
//!   pipeline of large `GET`s does not pile up in memory;
//! - a buffer that grew past [`KEEP_BUFFER`] is given back once empty.

use std::future::Future;
use std::net::Shutdown;
use std::time::Duration;

use corium::net::{TcpListener, TcpStream};
use corium::task::{yield_now, JoinHandle};
use corium::time::{interval, timeout, Instant, MissedTickBehavior};

use crate::cmd::{self, Flow};
use crate::db::SharedDb;
use crate::resp::{self, Parser, MAX_BULK_LEN};
use crate::shutdown::{self, Stop};

/// How often the sweep removes expired keys nobody asked for.
pub const SWEEP_PERIOD: Duration = Duration::from_millis(100);

/// Expired keys removed per hold of the lock: a sweep after a mass expiry
/// yields between batches rather than stall every connection.
const SWEEP_BATCH: usize = 1024;

/// A connection's buffers start at this size, and shrink back to it.
const INITIAL_BUFFER: usize = 16 * 1024;

/// The least free space a read is given; below it the buffer is compacted
/// or grown first.
const MIN_READ: usize = 4 * 1024;

/// The read buffer's limit: the largest bulk string plus room for the
/// rest of its request (command name, key, headers).
pub const MAX_READ_BUFFER: usize = MAX_BULK_LEN + 64 * 1024;

/// Pending reply bytes after which they are written before more requests
/// run.
const FLUSH_AT: usize = 64 * 1024;

/// An empty buffer larger than this is dropped and started afresh, so one
/// large request does not pin its memory for the connection's life.
const KEEP_BUFFER: usize = 1024 * 1024;

/// How long a connection closed for a protocol error keeps reading (and
/// discarding) what the client still sends, so that the error reply is not
/// lost to a reset, and how much of it.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

/// Serves `db` to every client of `listener` until `until` completes, then
/// shuts down gracefully (`common/shutdown.rs`): no new connections, every
/// request already begun is answered, idle connections close at once, and
/// after `grace` the rest are aborted. One task per connection, plus the
/// expiry sweep, which stops with the server.
pub async fn serve_until(
    listener: TcpListener,
    db: SharedDb,
    until: impl Future<Output = &'static str>,
    grace: Duration,
) {
    let _sweep = AbortOnDrop(corium::spawn(sweep_expired(db.clone())));
    shutdown::serve(listener, until, grace, move |stream, _peer, stop| {
        serve_connection(stream, db.clone(), stop)
    })
    .await;
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

/// Serves one client until it leaves, errs, breaks the protocol or the
/// server stops; the stop is seen only between requests, when the read
/// buffer is empty, so a request that has begun is always answered.
async fn serve_connection(mut stream: TcpStream, db: SharedDb, mut stop: Stop) {
    // Replies are written once per batch: Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let mut conn = Connection::new();
    loop {
        let between_requests = conn.input.unread().is_empty();
        let Some(space) = conn.input.space() else {
            resp::error(
                &mut conn.output,
                "Protocol error: request exceeds the query buffer limit",
            );
            let _ = stream.write_all(&conn.output).await;
            return close_after_error(stream).await;
        };
        let read = stream.read(space);
        let read = if between_requests {
            match stop.next_request(read).await {
                Some(read) => read,
                None => return,
            }
        } else {
            read.await
        };
        match read {
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
/// then drains what the client still sends for a moment. Closing a socket
/// with unread input sends a reset, which can destroy the reply in flight.
async fn close_after_error(mut stream: TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
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
