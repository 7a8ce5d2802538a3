//! `echo-tokio`: the idiomatic tokio echo server: an accept loop that
//! spawns a task per connection, which reads into a 16 KiB buffer
//! (`--buffer BYTES`) and `write_all`s it back. A `current_thread` runtime
//! by default; `--workers N` runs it on a `multi_thread` runtime with N
//! workers.
//!
//! `echo-tokio [--addr HOST:PORT] [--workers N] [--buffer BYTES]`: prints
//! `listening on <addr>` once bound and serves until killed. Used by
//! `benches/net/echo.sh` and `benches/net/idle.sh`.

#[path = "shared/server_cli.rs"]
mod server_cli;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const NAME: &str = "echo-tokio";
const ABOUT: &str = "An echo server on tokio (current_thread; multi_thread with --workers N > 1).";
/// `--workers N`, and `--buffer BYTES` for the read buffer of each
/// connection: 16 KiB without it, as every server of the suite reads.
const FLAGS: server_cli::Flags = server_cli::Flags {
    workers: true,
    buffer: Some(16 * 1024),
};

fn main() {
    let options = server_cli::ServerOptions::from_args(NAME, ABOUT, FLAGS);
    let runtime = if options.workers == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.workers)
            .enable_io()
            .build()
    }
    .unwrap_or_else(|error| server_cli::die(NAME, "runtime", error));
    runtime.block_on(async {
        let listener = TcpListener::bind(options.addr)
            .await
            .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
        let local = listener
            .local_addr()
            .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
        server_cli::announce(local);
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream, options.buffer));
                }
                Err(error) => eprintln!("{NAME}: accept: {error}"),
            }
        }
    });
}

/// Echoes until the peer closes or an error, reading `buffer` bytes at a
/// time.
async fn serve(mut stream: TcpStream, buffer: usize) {
    let mut buf = vec![0u8; buffer];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
