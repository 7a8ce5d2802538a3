//! mini_redis: a small Redis-compatible server on Corium.
//!
//! It speaks RESP (and inline commands) and keeps one in-memory keyspace
//! with expiry: `PING`, `ECHO`, `SET [EX|PX]`, `GET`, `DEL`, `INCR`,
//! `EXISTS`, `EXPIRE`, `TTL`, `PTTL`, `DBSIZE`, plus what `redis-cli` and
//! `redis-benchmark` ask at startup.
//!
//! ```text
//! cargo run --release --example mini_redis -- --addr 127.0.0.1:6380
//! redis-benchmark -p 6380 -t ping,set,get -q
//! ```
//!
//! On SIGTERM or Ctrl-C it stops accepting, answers the requests it has
//! begun and exits (`--grace SECONDS`, default 3).
//!
//! The modules are meant to be reused (the tests include them by path):
//! `resp` parses requests and encodes replies, `db` is the keyspace, `cmd`
//! runs one request, `server` owns the sockets and the tasks.

mod cmd;
mod db;
mod resp;
mod server;

use std::process::ExitCode;

#[path = "../common/cli.rs"]
mod cli;
#[path = "../common/shutdown.rs"]
mod shutdown;

use db::SharedDb;

fn main() -> ExitCode {
    let options = cli::parse(
        "mini_redis",
        "127.0.0.1:6380",
        &["--grace SECONDS (default 3)"],
    );
    let runtime = match options.runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mini_redis: cannot start the Corium runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mini_redis: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
async fn serve(options: &cli::Options) -> std::io::Result<()> {
    let addr = &options.addr;
    // Before binding: a SIGTERM as soon as the port answers is graceful too.
    let mut signals = shutdown::Signals::install()?;
    let listener = cli::listen(addr).await?;
    let db = SharedDb::new();
    server::serve_until(listener, db, signals.recv(), options.grace).await;
    Ok(())
}
