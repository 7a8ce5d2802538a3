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

#[path = "../common/cli.rs"]
mod cli;

fn main() -> ExitCode {
    let options = cli::parse("mini_redis", "127.0.0.1:6380", &[]);
    let runtime = match options.runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mini_redis: cannot start the Corium runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = &options.addr;
    let served = runtime.block_on(server::bind_and_serve(addr, |bound| {
        println!("listening on {bound}");
        cli::print_runtime();
    }));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mini_redis: cannot listen on {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
