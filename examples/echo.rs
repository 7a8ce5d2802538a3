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
//! On SIGTERM or Ctrl-C it stops accepting, lets each connection finish
//! the message it is echoing, and exits (`--grace SECONDS`, default 3).
//! `--buffer BYTES` sets the per-connection buffer (default 16 KiB); the
//! idle-connection benchmark runs every server with 64 bytes.
//!
//! The echo benchmark runs this binary against a raw epoll loop, so it is
//! kept lean: one buffer per connection, no allocation per message,
//! `TCP_NODELAY` so small replies leave at once.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use corium::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/shutdown.rs"]
mod shutdown;

use shutdown::{Signals, Stop};

/// Bytes read (and written back) per round: large enough that a bulk
/// sender is drained in few syscalls, small enough for 10k connections.
const BUF_SIZE: usize = 16 * 1024;

fn main() -> ExitCode {
    cli::main(
        "echo",
        "127.0.0.1:7000",
        &[
            "--grace SECONDS (default 3)",
            "--buffer BYTES (default 16384)",
        ],
        serve,
    )
}

/// Accepts connections until SIGTERM or Ctrl-C, one task each, then shuts
/// down gracefully (`common/shutdown.rs`).
async fn serve(options: &cli::Options) -> io::Result<()> {
    let addr = &options.addr;
    // Before binding: a SIGTERM as soon as the port answers is graceful too.
    let mut signals = Signals::install()?;
    let listener = cli::listen(addr).await?;
    let buf_size = options.buffer.unwrap_or(BUF_SIZE);
    let echo = move |stream, peer, stop| echo(stream, peer, stop, buf_size);
    shutdown::serve(listener, signals.recv(), options.grace, echo).await;
    Ok(())
}

/// Writes back whatever arrives until the client closes its side or the
/// server stops. Each read is a whole request here, so each waits through
/// `Stop::next_request`. `buf_size` bytes are read at a time.
async fn echo(mut stream: TcpStream, peer: SocketAddr, mut stop: Stop, buf_size: usize) {
    if let Err(e) = stream.set_nodelay(true) {
        eprintln!("{peer}: {e}");
        return;
    }
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = match stop.next_request(stream.read(&mut buf)).await {
            None | Some(Ok(0)) => return,
            Some(Ok(n)) => n,
            Some(Err(e)) => return eprintln!("{peer}: {e}"),
        };
        if let Err(e) = stream.write_all(&buf[..n]).await {
            return eprintln!("{peer}: {e}");
        }
    }
}
