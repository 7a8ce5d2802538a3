//! Graceful shutdown for the example servers, in the pattern the README
//! describes:
//!
//! 1. [`Signals::install`] before binding, so a `SIGTERM` that arrives as
//!    soon as the port answers is already handled.
//! 2. [`serve`] accepts until `SIGTERM` or Ctrl-C, giving each connection a
//!    [`Stop`] (a child of one `CancellationToken`) and keeping it in a
//!    `JoinSet`.
//! 3. On the signal it stops accepting (the listener is closed) and cancels
//!    the token. A connection finishes the request it is in, then sees the
//!    stop between requests and closes; one waiting for its next request
//!    closes at once. After the grace period the rest are aborted.
//!
//! The per-request cost is one atomic load and, while a connection waits
//! for its next request, one poll of a wait whose waker stays in the
//! connection's own child token (registered once per connection): there is
//! no `select!` around the reads inside a request, and no lock that every
//! connection shares.
#![allow(dead_code)] // each example uses its own subset

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use corium::net::{TcpListener, TcpStream};
use corium::signal::unix::{signal, Signal, SignalKind};
use corium::sync::{CancellationToken, WaitForCancellationFutureOwned};
use corium::task::JoinSet;
use corium::time::{sleep, timeout};

/// How long the accept loop rests after an error such as `EMFILE`: the
/// pending connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The signals that ask a server to stop: `SIGTERM` (kill, systemd,
/// Kubernetes) and `SIGINT` (Ctrl-C).
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Installs the handlers: from here on neither signal ends the process
    /// by itself.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for either signal; returns its name.
    pub async fn recv(&mut self) -> &'static str {
        corium::select! {
            Some(()) = self.terminate.recv() => "SIGTERM",
            Some(()) = self.interrupt.recv() => "SIGINT",
            // Only when the runtime is shutting down, which ends the
            // server anyway.
            else => "runtime shutdown",
        }
    }
}

/// What a connection task is told about the server stopping. Its wait for
/// the stop stays registered from one request to the next (one waker in
/// the connection's own child token), so a request costs an atomic load
/// and a poll that finds its waker in place, not a registration and a
/// removal under the token's lock.
pub struct Stop {
    token: CancellationToken,
    cancelled: WaitForCancellationFutureOwned,
}

impl Stop {
    fn new(token: CancellationToken) -> Stop {
        Stop {
            cancelled: token.clone().cancelled_owned(),
            token,
        }
    }

    /// Whether the server is stopping: check it between requests.
    pub fn is_stopping(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Waits for the first bytes of the next request (`read`, a read of
    /// the connection), or returns `None` if the server stops first. Use it
    /// only between requests: inside one, read plainly, so a request that
    /// has begun is always finished.
    pub async fn next_request<F: Future>(&mut self, read: F) -> Option<F::Output> {
        if self.is_stopping() {
            return None;
        }
        corium::select! {
            biased;
            output = read => Some(output),
            () = &mut self.cancelled => None,
        }
    }
}

/// Accepts connections on `listener` and runs `connection` for each until
/// `until` completes (with the reason, such as [`Signals::recv`]'s signal
/// name); then drains as the module doc says, for at most `grace`. Returns
/// how many connections were still open at the end of the grace period
/// and were aborted.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    until: impl Future<Output = &'static str>,
    grace: Duration,
    mut connection: F,
) -> usize
where
    F: FnMut(TcpStream, SocketAddr, Stop) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut until = std::pin::pin!(until);
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    let name = loop {
        corium::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, Stop::new(stop.child_token())));
                }
                Err(e) => {
                    eprintln!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                    sleep(ACCEPT_BACKOFF).await;
                }
            },
            // Reaps finished connections, so the set holds only open ones.
            Some(finished) = connections.join_next() => report(finished),
            name = until.as_mut() => break name,
        }
    };
    drop(listener);
    stop.cancel();
    eprintln!(
        "{name}: stopped accepting; {} connection(s) open, waiting up to {grace:?}",
        connections.len()
    );
    let drained = timeout(grace, async {
        while let Some(finished) = connections.join_next().await {
            report(finished);
        }
    })
    .await;
    let aborted = connections.len();
    if drained.is_err() {
        eprintln!("grace period over: aborting {aborted} connection(s)");
        connections.shutdown().await;
    }
    eprintln!("shut down");
    aborted
}

fn report(finished: Result<(), corium::task::JoinError>) {
    if let Err(e) = finished {
        eprintln!("a connection task failed: {e}");
    }
}
