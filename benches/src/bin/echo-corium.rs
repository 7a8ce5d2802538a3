//! `echo-corium`: the echo server of `echo-tokio`, line for line, on
//! Corium: an accept loop that spawns a task per connection, which reads
//! into a 16 KiB buffer (`--buffer BYTES`) and `write_all`s it back. No
//! graceful shutdown, no `TCP_NODELAY`, no logging: the same program on
//! each runtime, so that the difference is the runtime's. (The suite's
//! judged Corium rows are `examples/echo`, which also keeps a shutdown
//! wait per connection.) A current-thread runtime by default; `--workers
//! N` runs the multi-thread one with N workers.
//!
//! `echo-corium [--addr HOST:PORT] [--workers N] [--buffer BYTES]`: prints
//! `listening on <addr>` once bound and serves until killed. Used by
//! `benches/net/echo.sh`.

#[path = "shared/server_cli.rs"]
mod server_cli;

use corium::net::{TcpListener, TcpStream};

const NAME: &str = "echo-corium";
const ABOUT: &str =
    "echo-tokio's echo server on Corium (current-thread; multi-thread with --workers N > 1).";
/// `--workers N`, and `--buffer BYTES` for the read buffer of each
/// connection: 16 KiB without it, as every server of the suite reads.
const FLAGS: server_cli::Flags = server_cli::Flags {
    workers: true,
    buffer: Some(16 * 1024),
};

fn main() {
    let options = server_cli::ServerOptions::from_args(NAME, ABOUT, FLAGS);
    let runtime = if options.workers == 1 {
        corium::runtime::Builder::new_current_thread().build()
    } else {
        corium::runtime::Builder::new_multi_thread()
            .worker_threads(options.workers)
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
                    corium::spawn(serve(stream, options.buffer));
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
