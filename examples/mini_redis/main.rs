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
//! The modules are meant to be reused (the tests include them by path):
//! `resp` parses requests and encodes replies, `db` is the keyspace, `cmd`
//! runs one request, `server` owns the sockets and the tasks.

mod cmd;
mod db;
mod resp;
mod server;

use std::process::ExitCode;

const DEFAULT_ADDR: &str = "127.0.0.1:6380";

const USAGE: &str = "usage: mini_redis [--addr HOST:PORT]   (default 127.0.0.1:6380)";

fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("mini_redis: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match corium::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mini_redis: cannot start the Corium runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(server::bind_and_serve(&addr, |bound| {
        println!("listening on {bound}");
    }));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mini_redis: cannot listen on {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The address to listen on, or `None` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<String>, String> {
    let mut addr = DEFAULT_ADDR.to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            _ => match arg.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => return Err(format!("unexpected argument '{arg}'")),
            },
        }
    }
    Ok(Some(addr))
}
