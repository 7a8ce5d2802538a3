//! `echo-smol`: the idiomatic smol echo server: `async_io::Async`
//! listener and streams, an accept loop that spawns a task per connection,
//! which reads into a 16 KiB buffer (`--buffer BYTES`) and `write_all`s it
//! back. One thread by
//! default: an `async_executor::LocalExecutor` driven by
//! `async_io::block_on` (what `smol::block_on` is; async-io's own "async-io"
//! thread exists too, as in every smol program). `--workers N` runs a shared
//! `async_executor::Executor` on N threads, each in `async_io::block_on`
//! (what `smol`'s global executor does).
//!
//! `echo-smol [--addr HOST:PORT] [--workers N] [--buffer BYTES]`: prints
//! `listening on <addr>` once bound and serves until killed. Used by
//! `benches/net/echo.sh` and `benches/net/idle.sh`.

#[path = "shared/server_cli.rs"]
mod server_cli;

use std::net::{SocketAddr, TcpListener, TcpStream};

use async_executor::{Executor, LocalExecutor};
use async_io::Async;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "echo-smol";
const ABOUT: &str =
    "An echo server on smol (async-executor + async-io; one thread unless --workers N).";
/// `--workers N`, and `--buffer BYTES` for the read buffer of each
/// connection: 16 KiB without it, as every server of the suite reads.
const FLAGS: server_cli::Flags = server_cli::Flags {
    workers: true,
    buffer: Some(16 * 1024),
};

fn main() {
    let options = server_cli::ServerOptions::from_args(NAME, ABOUT, FLAGS);
    if options.workers == 1 {
        let executor = LocalExecutor::new();
        async_io::block_on(executor.run(async {
            let listener = bind(options.addr);
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => executor.spawn(serve(stream, options.buffer)).detach(),
                    Err(error) => eprintln!("{NAME}: accept: {error}"),
                }
            }
        }))
    } else {
        let executor: &'static Executor<'static> = Box::leak(Box::new(Executor::new()));
        for i in 1..options.workers {
            std::thread::Builder::new()
                .name(format!("{NAME}-worker-{i}"))
                .spawn(move || {
                    async_io::block_on(executor.run(futures_lite::future::pending::<()>()))
                })
                .unwrap_or_else(|error| server_cli::die(NAME, "spawn worker", error));
        }
        async_io::block_on(executor.run(async {
            let listener = bind(options.addr);
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => executor.spawn(serve(stream, options.buffer)).detach(),
                    Err(error) => eprintln!("{NAME}: accept: {error}"),
                }
            }
        }))
    }
}

/// Binds, says so, and returns the listener.
fn bind(addr: SocketAddr) -> Async<TcpListener> {
    let listener = Async::<TcpListener>::bind(addr)
        .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
    let local = listener
        .get_ref()
        .local_addr()
        .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
    server_cli::announce(local);
    listener
}

/// Echoes until the peer closes or an error, reading `buffer` bytes at a
/// time.
async fn serve(mut stream: Async<TcpStream>, buffer: usize) {
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
