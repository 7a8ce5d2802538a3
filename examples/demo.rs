//! Corium's demo: two small servers and 50 clients in one process, on one
//! thread, for about three seconds.
//!
//! ```sh
//! cargo run --example demo                 # or: -- --seconds 10
//! ```
//!
//! It starts an echo server and a server answering the Redis `PING` inline
//! command with `+PONG`, both on `127.0.0.1` ports the OS picks, then runs
//! 50 client connections against them, each sending one request and
//! waiting for its reply before the next. A progress line on stderr shows
//! the rate as it goes; at the end it prints the total, the throughput and
//! the latency percentiles. Along the way it uses most of the runtime:
//! a task per connection, a `JoinSet` of clients, an `interval` for the
//! progress line, a `timeout` around every request, and the blocking pool
//! to sort the latencies.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use corium::net::{TcpListener, TcpStream};
use corium::task::JoinSet;
use corium::time::{interval, sleep, timeout, Instant};

#[path = "common/cli.rs"]
mod cli;

/// Client connections, split evenly between the two servers.
const CLIENTS: usize = 50;

/// What an echo client sends each time.
const ECHO_MESSAGE: &[u8] = b"hello, corium\n";

/// Longest a single request may take before the demo reports a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

fn main() -> ExitCode {
    let options = cli::parse("demo", "", &["--seconds N (default 3)"]);
    let Some(length) = run_length(options.seconds.as_deref()) else {
        eprintln!("demo: --seconds must be a positive number of seconds");
        return ExitCode::from(2);
    };
    let outcome = options.runtime().and_then(|rt| rt.block_on(demo(length)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(length: Duration) -> io::Result<()> {
    let echo = start_server(echo).await?;
    let ping = start_server(pong).await?;
    println!("echo server on {echo}, PING server on {ping}");
    cli::print_runtime();
    println!(
        "{CLIENTS} clients ({} echo, {} PING) for {:.1} s, one request at a time each",
        CLIENTS / 2,
        CLIENTS - CLIENTS / 2,
        length.as_secs_f64()
    );

    let start = Instant::now();
    let deadline = start + length;
    let requests = Arc::new(AtomicU64::new(0));
    let mut clients = JoinSet::new();
    for n in 0..CLIENTS {
        let (addr, request, reply): (_, &'static [u8], &'static [u8]) = if n % 2 == 0 {
            (echo, ECHO_MESSAGE, ECHO_MESSAGE)
        } else {
            (ping, b"PING\r\n", b"+PONG\r\n")
        };
        let requests = requests.clone();
        clients.spawn(client(addr, request, reply, deadline, requests));
    }
    let progress = corium::spawn(show_progress(start, deadline, requests.clone()));

    let mut latencies = Vec::new();
    while let Some(finished) = clients.join_next().await {
        let mut measured = finished.map_err(io::Error::other)??;
        latencies.append(&mut measured);
    }
    let elapsed = start.elapsed();
    // It stops by itself at the deadline, at most one tick from now.
    let _ = progress.await;
    eprintln!();

    // Sorting a few hundred thousand numbers is CPU work: it goes to the
    // blocking pool so that it would not stall other tasks.
    let latencies = corium::task::spawn_blocking(move || {
        latencies.sort_unstable();
        latencies
    })
    .await
    .map_err(io::Error::other)?;
    let total = latencies.len();
    println!(
        "summary: {total} requests in {:.2} s: {:.0} req/s, latency p50 {} us, p99 {} us",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
    );
    Ok(())
}

/// Binds a port the OS picks and serves each connection with `handler`
/// in its own task; returns the address.
async fn start_server<H, F>(handler: H) -> io::Result<SocketAddr>
where
    H: Fn(TcpStream) -> F + Send + 'static,
    F: std::future::Future<Output = io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    corium::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    corium::spawn(handler(stream));
                }
                Err(e) => {
                    // Such as EMFILE: the connection stays queued, so rest
                    // instead of retrying at once.
                    eprintln!("accept failed: {e}");
                    sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(addr)
}

/// The echo server's handler: writes back whatever arrives.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// The PING server's handler: answers each `PING` line with `+PONG`
/// (Redis's inline command form), and anything else with an error.
async fn pong(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 4 * 1024];
    let mut replies = Vec::new();
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let mut consumed = 0;
        while let Some(eol) = buf[consumed..filled].iter().position(|&b| b == b'\n') {
            let command = buf[consumed..consumed + eol].trim_ascii();
            replies.extend_from_slice(if command.eq_ignore_ascii_case(b"PING") {
                b"+PONG\r\n"
            } else {
                b"-ERR only PING is spoken here\r\n"
            });
            consumed += eol + 1;
        }
        stream.write_all(&replies).await?;
        replies.clear();
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        if filled == buf.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
    }
}

/// One client connection: sends `request` and reads `reply` over and over
/// until `deadline`; returns each round trip's latency in microseconds.
async fn client(
    addr: SocketAddr,
    request: &'static [u8],
    reply: &'static [u8],
    deadline: Instant,
    requests: Arc<AtomicU64>,
) -> io::Result<Vec<u32>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut answer = vec![0u8; reply.len()];
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        let round_trip = async {
            stream.write_all(request).await?;
            stream.read_exact(&mut answer).await
        };
        match timeout(REQUEST_TIMEOUT, round_trip).await {
            Ok(done) => done?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no reply in 2 s")),
        }
        if answer != reply {
            let got = String::from_utf8_lossy(&answer);
            return Err(io::Error::other(format!("{addr} answered {got:?}")));
        }
        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        requests.fetch_add(1, Relaxed);
    }
    Ok(latencies)
}

/// Redraws `elapsed, requests, req/s` on stderr every `PROGRESS_EVERY`
/// until `deadline`.
async fn show_progress(start: Instant, deadline: Instant, requests: Arc<AtomicU64>) {
    let mut ticks = interval(PROGRESS_EVERY);
    ticks.tick().await; // the first tick is immediate
    let (mut last_at, mut last_count) = (start, 0);
    while Instant::now() < deadline {
        ticks.tick().await;
        let (now, count) = (Instant::now(), requests.load(Relaxed));
        let rate = (count - last_count) as f64 / (now - last_at).as_secs_f64();
        eprint!(
            "\r{:5.2} s  {count:>9} requests  {rate:>9.0} req/s",
            (now - start).as_secs_f64()
        );
        let _ = io::stderr().flush();
        (last_at, last_count) = (now, count);
    }
}

/// The `p`th percentile of sorted `values` (0 when empty).
fn percentile(sorted: &[u32], p: usize) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[(sorted.len() - 1) * p / 100]
}

/// The run length `--seconds` asks for (default 3 s).
fn run_length(seconds: Option<&str>) -> Option<Duration> {
    match seconds {
        None => Some(Duration::from_secs(3)),
        Some(value) => Duration::try_from_secs_f64(value.parse().ok()?).ok(),
    }
}
