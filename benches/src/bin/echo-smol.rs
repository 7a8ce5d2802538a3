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
#[allow(dead_code)] // `from_args`: see `parse_args`
mod server_cli;

use std::net::{SocketAddr, TcpListener, TcpStream};

use async_executor::{Executor, LocalExecutor};
use async_io::Async;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "echo-smol";
const ABOUT: &str =
    "An echo server on smol (async-executor + async-io; one thread unless --workers N).";
/// Bytes read at a time without `--buffer` (every server of the suite reads
/// into 16 KiB).
const READ_BUF: usize = 16 * 1024;

fn main() {
    let (options, buffer) = parse_args();
    if options.workers == 1 {
        let executor = LocalExecutor::new();
        async_io::block_on(executor.run(async {
            let listener = bind(options.addr);
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => executor.spawn(serve(stream, buffer)).detach(),
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
                    Ok((stream, _)) => executor.spawn(serve(stream, buffer)).detach(),
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

/// `server_cli`'s `--addr` and `--workers`, and the read buffer's size
/// (`--buffer`). Parsed here because `server_cli` turns away the flags it
/// does not know, and only the echo servers take `--buffer`.
fn parse_args() -> (server_cli::ServerOptions, usize) {
    let usage = format!(
        "usage: {NAME} [--addr HOST:PORT] [--workers N] [--buffer BYTES]\n\n{ABOUT}\n\n  \
         --addr HOST:PORT  where to listen (default 127.0.0.1:0)\n  \
         --workers N       worker threads (default 1: a single-thread runtime)\n  \
         --buffer BYTES    each connection's read buffer (default {READ_BUF})\n\n\
         Prints `listening on <addr>` once bound; runs until killed."
    );
    let fail = |message: String| -> ! {
        eprintln!("{NAME}: {message}\n\n{usage}");
        std::process::exit(2)
    };
    let positive = |flag: &str, value: String| match value.parse() {
        Ok(n) if n >= 1 => n,
        _ => fail(format!("{flag}: not a positive number: {value}")),
    };
    let mut options = server_cli::ServerOptions {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        workers: 1,
    };
    let mut buffer = READ_BUF;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            println!("{usage}");
            std::process::exit(0);
        }
        if !matches!(arg.as_str(), "--addr" | "--workers" | "--buffer") {
            fail(format!("unknown argument: {arg}"));
        }
        let value = args
            .next()
            .unwrap_or_else(|| fail(format!("{arg} needs a value")));
        match arg.as_str() {
            "--addr" => {
                options.addr = value
                    .parse()
                    .unwrap_or_else(|_| fail(format!("--addr: not HOST:PORT: {value}")));
            }
            "--workers" => options.workers = positive("--workers", value),
            _ => buffer = positive("--buffer", value),
        }
    }
    (options, buffer)
}
