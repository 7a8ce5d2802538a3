//! The classic echo server: every byte a client sends comes straight back.
//!
//! It shows the shape of nearly every Corium server: bind a listener, accept
//! in a loop, and give each connection its own task that reads and writes
//! as if it were blocking code. The reactor turns "this socket is readable"
//! into a wakeup for exactly that task.
//!
//! ```sh
//! cargo run --release --example echo -- --addr 127.0.0.1:7000
//! ```
//!
//! The echo benchmark runs this binary against a raw epoll loop, so it is
//! kept lean: one buffer per connection, no allocation per message,
//! `TCP_NODELAY` so small replies leave at once.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use corium::net::{TcpListener, TcpStream};

#[path = "common/cli.rs"]
mod cli;

/// Bytes read (and written back) per round: large enough that a bulk
/// sender is drained in few syscalls, small enough for 10k connections.
const BUF_SIZE: usize = 16 * 1024;

/// How long the accept loop rests after an error such as `EMFILE`: the
/// pending connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    cli::main("echo", "127.0.0.1:7000", serve)
}

/// Accepts connections forever, one task each.
async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    println!("listening on {}", listener.local_addr()?);
    cli::print_runtime();
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
            if let Err(e) = echo(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Writes back whatever arrives until the client closes its side.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
