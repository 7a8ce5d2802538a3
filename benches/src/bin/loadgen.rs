//! `loadgen`: the load generator of the network suite, the same program for
//! every server measured. One thread, raw `epoll` (level-triggered),
//! non-blocking sockets, no runtime: it is written on none of the runtimes
//! it measures.
//!
//! Four modes:
//! - echo (default): `--conns N` connections, each doing request/response
//!   round trips of `--size` bytes (send, wait for the whole echo, repeat),
//!   every round trip's latency recorded;
//! - `--stream`: each connection writes 64 KiB chunks (`--size`)
//!   continuously and reads the echo back; reports MiB/s echoed;
//! - `--accept-churn N`: N sequential connect / send `--size` bytes /
//!   receive the echo / close cycles; reports connections per second;
//! - `--idle N`: N connections, each echoing one `--size`-byte message (so
//!   the server has accepted it and set up whatever a connection costs it),
//!   then held open, idle, for `--hold` seconds or until SIGTERM; the
//!   summary is printed as soon as all N are established, for a script to
//!   measure the server's memory while they are held.
//!
//! Echo and stream run `--warmup` seconds unmeasured, then `--duration`
//! seconds measured. With `--perf-ctl FIFO [--perf-ack FIFO]` it writes
//! `enable` / `disable` to a `perf stat --control fifo:CTL,ACK` control
//! fifo at the exact edges of the measured window (and waits for perf's
//! `ack`), so that a `perf stat -D -1 -p <server>` counts the server over
//! the same window the request count covers.
//!
//! Prints a one-line summary, or with `--json` one JSON object.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

const USAGE: &str = "\
usage: loadgen --addr HOST:PORT [--conns N] [--size BYTES] [--duration SECS]
               [--warmup SECS] [--stream | --accept-churn N | --idle N]
               [--hold SECS] [--json] [--perf-ctl FIFO [--perf-ack FIFO]]

  --addr HOST:PORT    the echo server (required)
  --conns N           connections (default 1; echo and stream modes)
  --size BYTES        bytes per request (default 64; with --stream the chunk
                      written at a time, default 65536)
  --duration SECS     measured seconds (default 5; echo and stream modes)
  --warmup SECS       unmeasured seconds first (default 1; 0 with
                      --accept-churn, where the warm-up is time-based cycles)
  --stream            write chunks continuously, read the echo back: MiB/s
  --accept-churn N    N sequential connect/send/recv/close cycles: conns/s
  --idle N            open N connections, echo one message on each, print the
                      summary, then hold them idle (until --hold or SIGTERM)
  --hold SECS         how long --idle holds its connections (default 60)
  --json              print one JSON object instead of the summary line
  --perf-ctl FIFO     write `enable`/`disable` there at the measured window's
                      edges (a `perf stat --control fifo:CTL,ACK` fifo)
  --perf-ack FIFO     and wait for perf's `ack` on this one

Echo mode records every round trip's latency (send to the last byte of the
echo) and reports round trips, req/s, MiB/s of payload (one direction) and
RTT p50/p99/p99.9/max in microseconds.";

/// What to do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Echo,
    Stream,
    Churn(u64),
    /// `conns` connections, established and then held idle.
    Idle,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Stream => "stream",
            Mode::Churn(_) => "accept-churn",
            Mode::Idle => "idle",
        }
    }
}

/// The parsed command line.
struct Options {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    duration: Duration,
    warmup: Duration,
    mode: Mode,
    /// How long `--idle` holds its connections after the summary.
    hold: Duration,
    json: bool,
    perf_ctl: Option<PathBuf>,
    perf_ack: Option<PathBuf>,
}

impl Options {
    /// Parses the arguments; `Ok(None)` on `--help`.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        fn value<T: std::str::FromStr>(
            flag: &str,
            args: &mut impl Iterator<Item = String>,
        ) -> Result<T, String> {
            let text = args.next().ok_or(format!("{flag} needs a value"))?;
            text.parse()
                .map_err(|_| format!("{flag}: not a valid value: {text}"))
        }
        fn seconds(
            flag: &str,
            args: &mut impl Iterator<Item = String>,
        ) -> Result<Duration, String> {
            let secs: f64 = value(flag, args)?;
            Duration::try_from_secs_f64(secs).map_err(|_| format!("{flag}: not a duration: {secs}"))
        }
        let mut addr = None;
        let mut conns = None;
        let mut size = None;
        let mut duration = Duration::from_secs(5);
        let mut warmup = None;
        let mut stream = false;
        let mut churn = None;
        let mut idle = None;
        let mut hold = Duration::from_secs(60);
        let mut json = false;
        let mut perf_ctl = None;
        let mut perf_ack = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => addr = Some(value::<SocketAddr>("--addr", &mut args)?),
                "--conns" => conns = Some(value("--conns", &mut args)?),
                "--size" => size = Some(value("--size", &mut args)?),
                "--duration" => duration = seconds("--duration", &mut args)?,
                "--warmup" => warmup = Some(seconds("--warmup", &mut args)?),
                "--stream" => stream = true,
                "--accept-churn" => churn = Some(value::<u64>("--accept-churn", &mut args)?),
                "--idle" => idle = Some(value::<usize>("--idle", &mut args)?),
                "--hold" => hold = seconds("--hold", &mut args)?,
                "--json" => json = true,
                "--perf-ctl" => perf_ctl = Some(value::<PathBuf>("--perf-ctl", &mut args)?),
                "--perf-ack" => perf_ack = Some(value::<PathBuf>("--perf-ack", &mut args)?),
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument: {other}")),
            }
        }
        let addr = addr.ok_or("--addr is required")?;
        let mode = match (stream, churn, idle) {
            (true, None, None) => Mode::Stream,
            (false, Some(0), None) => return Err("--accept-churn needs at least 1 cycle".into()),
            (false, Some(n), None) => Mode::Churn(n),
            (false, None, Some(_)) if conns.is_some() => {
                return Err("--idle N sets the connections: leave out --conns".into())
            }
            (false, None, Some(_)) => Mode::Idle,
            (false, None, None) => Mode::Echo,
            _ => return Err("--stream, --accept-churn and --idle exclude each other".into()),
        };
        let conns = idle.or(conns).unwrap_or(1);
        let size = size.unwrap_or(if mode == Mode::Stream { 64 * 1024 } else { 64 });
        if size == 0 {
            return Err("--size must be at least 1".into());
        }
        if conns == 0 {
            return Err("--conns must be at least 1".into());
        }
        if duration.is_zero() && !matches!(mode, Mode::Churn(_)) {
            return Err("--duration must be above 0".into());
        }
        if perf_ack.is_some() && perf_ctl.is_none() {
            return Err("--perf-ack needs --perf-ctl".into());
        }
        let warmup = warmup.unwrap_or(if matches!(mode, Mode::Churn(_)) {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        });
        Ok(Some(Options {
            addr,
            conns,
            size,
            duration,
            warmup,
            mode,
            hold,
            json,
            perf_ctl,
            perf_ack,
        }))
    }
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            // `let _`: a closed stdout (`loadgen --help | head`) is no error.
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("loadgen: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = PerfControl::open(&options).and_then(|mut perf| match options.mode {
        Mode::Echo => run_echo(&options, &mut perf),
        Mode::Stream => run_stream(&options, &mut perf),
        Mode::Churn(cycles) => run_churn(&options, cycles, &mut perf),
        Mode::Idle => run_idle(&options),
    });
    match result {
        Ok(report) => {
            let summary = if options.json {
                report.json(&options)
            } else {
                report.line(&options)
            };
            // (Stdout is line-buffered: the line is out before the hold.)
            if writeln!(io::stdout(), "{summary}").is_err() {
                return ExitCode::FAILURE;
            }
            if !report.held.is_empty() {
                // SIGTERM's default action ends the hold early; exiting
                // closes the connections either way.
                std::thread::sleep(options.hold);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What a run measured.
struct Report {
    /// Length of the measured window.
    elapsed: Duration,
    /// Round trips (echo), cycles (churn) or chunks' worth of bytes (stream).
    ops: u64,
    /// Payload bytes echoed back in the window (one direction).
    bytes: u64,
    /// Latencies in nanoseconds (echo: round trips; churn: whole cycles;
    /// idle: connect to echo of each connection); empty for stream.
    latencies: Vec<u64>,
    /// The connections `--idle` holds open after the summary.
    held: Vec<OwnedFd>,
}

impl Report {
    fn secs(&self) -> f64 {
        self.elapsed.as_secs_f64()
    }

    fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.secs()
    }

    fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / self.secs() / (1024.0 * 1024.0)
    }

    /// The `p`-th percentile of the latencies in microseconds (nearest
    /// rank), `latencies` being sorted; 0 when there are none.
    fn percentile_us(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let n = self.latencies.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.latencies[rank.clamp(1, n) - 1] as f64 / 1000.0
    }

    /// The one-line summary.
    fn line(&self, o: &Options) -> String {
        let secs = self.secs();
        match o.mode {
            Mode::Echo => format!(
                "echo {addr}: {conns} conns x {size} B, {secs:.2} s: {ops} round trips, \
                 {rps:.0} req/s, {mib:.2} MiB/s, RTT p50 {p50:.1} us, p99 {p99:.1} us, \
                 p99.9 {p999:.1} us, max {max:.1} us",
                addr = o.addr,
                conns = o.conns,
                size = o.size,
                ops = self.ops,
                rps = self.ops_per_sec(),
                mib = self.mib_per_sec(),
                p50 = self.percentile_us(50.0),
                p99 = self.percentile_us(99.0),
                p999 = self.percentile_us(99.9),
                max = self.percentile_us(100.0),
            ),
            Mode::Stream => format!(
                "stream {addr}: {conns} conns x {size} B chunks, {secs:.2} s: {bytes} bytes \
                 echoed, {mib:.1} MiB/s",
                addr = o.addr,
                conns = o.conns,
                size = o.size,
                bytes = self.bytes,
                mib = self.mib_per_sec(),
            ),
            Mode::Churn(_) => format!(
                "accept-churn {addr}: {ops} connect/send {size} B/recv/close cycles in \
                 {secs:.2} s: {cps:.0} conns/s, cycle p50 {p50:.1} us, p99 {p99:.1} us",
                addr = o.addr,
                size = o.size,
                ops = self.ops,
                cps = self.ops_per_sec(),
                p50 = self.percentile_us(50.0),
                p99 = self.percentile_us(99.0),
            ),
            Mode::Idle => format!(
                "idle {addr}: {conns} connections established (one {size} B echo each) in \
                 {secs:.2} s, connect-to-echo p50 {p50:.1} us, p99 {p99:.1} us; holding them \
                 for {hold:?}",
                addr = o.addr,
                conns = self.ops,
                size = o.size,
                p50 = self.percentile_us(50.0),
                p99 = self.percentile_us(99.0),
                hold = o.hold,
            ),
        }
    }

    /// The summary as one JSON object (flat; numbers and two strings).
    fn json(&self, o: &Options) -> String {
        let mut out = String::from("{");
        let _ = write!(
            out,
            "\"mode\":\"{}\",\"addr\":\"{}\",\"conns\":{},\"size\":{},\"duration_s\":{:.6}",
            o.mode.name(),
            o.addr,
            if matches!(o.mode, Mode::Churn(_)) {
                1
            } else {
                o.conns
            },
            o.size,
            self.secs(),
        );
        let _ = write!(
            out,
            ",\"ops\":{},\"ops_per_s\":{:.3},\"bytes\":{},\"mib_per_s\":{:.6}",
            self.ops,
            self.ops_per_sec(),
            self.bytes,
            self.mib_per_sec(),
        );
        match o.mode {
            Mode::Echo => {
                let _ = write!(
                    out,
                    ",\"round_trips\":{},\"req_per_s\":{:.3}",
                    self.ops,
                    self.ops_per_sec()
                );
            }
            Mode::Stream => {}
            Mode::Churn(_) => {
                let _ = write!(
                    out,
                    ",\"cycles\":{},\"conns_per_s\":{:.3}",
                    self.ops,
                    self.ops_per_sec()
                );
            }
            Mode::Idle => {
                let _ = write!(
                    out,
                    ",\"idle_conns\":{},\"setup_s\":{:.6},\"hold_s\":{:.3}",
                    self.held.len(),
                    self.secs(),
                    o.hold.as_secs_f64()
                );
            }
        }
        if !self.latencies.is_empty() {
            let _ = write!(
                out,
                ",\"lat_p50_us\":{:.3},\"lat_p99_us\":{:.3},\"lat_p999_us\":{:.3},\"lat_max_us\":{:.3}",
                self.percentile_us(50.0),
                self.percentile_us(99.0),
                self.percentile_us(99.9),
                self.percentile_us(100.0),
            );
        }
        out.push('}');
        out
    }
}

/// The `perf stat --control` fifos, if any.
struct PerfControl {
    ctl: Option<File>,
    ack: Option<File>,
}

impl PerfControl {
    fn open(options: &Options) -> io::Result<PerfControl> {
        let ctl = match &options.perf_ctl {
            Some(path) => Some(
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| with_context(e, &format!("--perf-ctl {}", path.display())))?,
            ),
            None => None,
        };
        let ack = match &options.perf_ack {
            Some(path) => Some(
                File::open(path)
                    .map_err(|e| with_context(e, &format!("--perf-ack {}", path.display())))?,
            ),
            None => None,
        };
        Ok(PerfControl { ctl, ack })
    }

    /// Sends `command` (`enable` / `disable`) and waits up to 5 s for the
    /// `ack`.
    fn send(&mut self, command: &str) -> io::Result<()> {
        let Some(ctl) = &mut self.ctl else {
            return Ok(());
        };
        ctl.write_all(format!("{command}\n").as_bytes())?;
        let Some(ack) = &mut self.ack else {
            return Ok(());
        };
        let mut fds = [PollFd::new(&*ack, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        if rustix::event::poll(&mut fds, Some(&timeout))? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("perf did not acknowledge `{command}` within 5 s"),
            ));
        }
        let mut buf = [0u8; 64];
        let _ = ack.read(&mut buf)?;
        Ok(())
    }
}

/// `error` with `what` in front.
fn with_context(error: io::Error, what: &str) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// The epoll instance of a run and its event buffer.
struct Epoll {
    fd: OwnedFd,
    events: Vec<Event>,
}

impl Epoll {
    fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: epoll::create(CreateFlags::CLOEXEC)?,
            events: Vec::with_capacity(1024),
        })
    }

    fn add(&self, fd: impl AsFd, key: usize, flags: EventFlags) -> io::Result<()> {
        epoll::add(&self.fd, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    fn modify(&self, fd: impl AsFd, key: usize, flags: EventFlags) -> io::Result<()> {
        epoll::modify(&self.fd, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    fn delete(&self, fd: impl AsFd) -> io::Result<()> {
        epoll::delete(&self.fd, fd)?;
        Ok(())
    }

    /// Waits up to `timeout`; the events are then in `self.events`.
    fn wait(&mut self, timeout: Duration) -> io::Result<()> {
        self.events.clear();
        let timeout = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        match epoll::wait(&self.fd, spare_capacity(&mut self.events), Some(&timeout)) {
            Ok(_) | Err(Errno::INTR) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// Readable: data, end of stream or error (a read tells which).
const READABLE: EventFlags = EventFlags::IN
    .union(EventFlags::HUP)
    .union(EventFlags::ERR)
    .union(EventFlags::RDHUP);
/// Writable, or hung up / in error (a write tells which).
const WRITABLE: EventFlags = EventFlags::OUT
    .union(EventFlags::HUP)
    .union(EventFlags::ERR);

/// How often the loops look at the clock when nothing is ready.
const TICK: Duration = Duration::from_millis(10);

/// The warm-up, then the measured window, with the perf control at its
/// edges.
struct Window {
    warmup_end: Instant,
    duration: Duration,
    start: Option<Instant>,
}

impl Window {
    fn new(options: &Options) -> Window {
        Window {
            warmup_end: Instant::now() + options.warmup,
            duration: options.duration,
            start: None,
        }
    }

    fn measuring(&self) -> bool {
        self.start.is_some()
    }

    /// Called every loop turn: `Some(true)` when the measured window has
    /// just begun (reset the counters), `None` when it is over.
    fn tick(&mut self, perf: &mut PerfControl) -> io::Result<Option<bool>> {
        let now = Instant::now();
        match self.start {
            None if now >= self.warmup_end => {
                perf.send("enable")?;
                self.start = Some(Instant::now());
                Ok(Some(true))
            }
            Some(start) if now >= start + self.duration => Ok(None),
            _ => Ok(Some(false)),
        }
    }

    /// Closes the window and returns its length.
    fn finish(&self, perf: &mut PerfControl) -> io::Result<Duration> {
        let elapsed = self.start.map_or(Duration::ZERO, |start| start.elapsed());
        perf.send("disable")?;
        Ok(elapsed)
    }
}

/// Connects `n` non-blocking, `TCP_NODELAY` streams to `addr`.
fn connect_all(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpStream>> {
    (0..n)
        .map(|i| {
            let stream = TcpStream::connect(addr)
                .map_err(|e| with_context(e, &format!("connect #{i} to {addr}")))?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        })
        .collect()
}

/// An error for a server that closed or misbehaved.
fn protocol(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// One echo connection.
struct EchoConn {
    stream: TcpStream,
    /// Bytes of the current request written.
    written: usize,
    /// Bytes of its echo received.
    received: usize,
    /// When the current request's first byte was sent.
    started: Instant,
    /// Registered for writability too (a short write).
    want_write: bool,
}

impl EchoConn {
    /// Writes what is left of the request; registers for writability while
    /// some of it is.
    fn write_more(&mut self, message: &[u8], epoll: &Epoll, key: usize) -> io::Result<()> {
        match rustix::io::write(&self.stream, &message[self.written..]) {
            Ok(n) => self.written += n,
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(error) => return Err(with_context(error.into(), "write")),
        }
        let want_write = self.written < message.len();
        if want_write != self.want_write {
            let flags = if want_write {
                EventFlags::IN | EventFlags::OUT
            } else {
                EventFlags::IN
            };
            epoll.modify(&self.stream, key, flags)?;
            self.want_write = want_write;
        }
        Ok(())
    }
}

fn run_echo(options: &Options, perf: &mut PerfControl) -> io::Result<Report> {
    let message = vec![b'x'; options.size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut epoll = Epoll::new()?;
    let mut conns = Vec::with_capacity(options.conns);
    let mut window = Window::new(options);
    for (key, stream) in connect_all(options.addr, options.conns)?
        .into_iter()
        .enumerate()
    {
        epoll.add(&stream, key, EventFlags::IN)?;
        let mut conn = EchoConn {
            stream,
            written: 0,
            received: 0,
            started: Instant::now(),
            want_write: false,
        };
        conn.write_more(&message, &epoll, key)?;
        conns.push(conn);
    }
    let mut latencies: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut round_trips = 0u64;
    while let Some(begun) = window.tick(perf)? {
        if begun {
            latencies.clear();
            round_trips = 0;
        }
        epoll.wait(TICK)?;
        let measuring = window.measuring();
        for event in &epoll.events {
            // `Event` is packed: copy the fields out before using them.
            let (flags, data) = (event.flags, event.data);
            let key = data.u64() as usize;
            let conn = &mut conns[key];
            if flags.intersects(WRITABLE) && conn.written < message.len() {
                conn.write_more(&message, &epoll, key)?;
            }
            if !flags.intersects(READABLE) {
                continue;
            }
            let n = match rustix::io::read(&conn.stream, &mut buf[..]) {
                Ok(0) => return Err(protocol(format!("connection #{key}: server closed"))),
                Ok(n) => n,
                Err(Errno::AGAIN | Errno::INTR) => continue,
                Err(error) => return Err(with_context(error.into(), "read")),
            };
            conn.received += n;
            if conn.received < message.len() {
                continue;
            }
            if conn.received > message.len() || conn.written < message.len() {
                return Err(protocol(format!(
                    "connection #{key}: {} bytes echoed for {} sent",
                    conn.received, conn.written
                )));
            }
            let now = Instant::now();
            if measuring {
                latencies.push(now.duration_since(conn.started).as_nanos() as u64);
                round_trips += 1;
            }
            conn.started = now;
            conn.written = 0;
            conn.received = 0;
            conn.write_more(&message, &epoll, key)?;
        }
    }
    let elapsed = window.finish(perf)?;
    latencies.sort_unstable();
    Ok(Report {
        elapsed,
        ops: round_trips,
        bytes: round_trips * options.size as u64,
        latencies,
        held: Vec::new(),
    })
}

fn run_stream(options: &Options, perf: &mut PerfControl) -> io::Result<Report> {
    let chunk = vec![b'x'; options.size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut epoll = Epoll::new()?;
    let mut window = Window::new(options);
    let streams = connect_all(options.addr, options.conns)?;
    // Per connection: how far into the current chunk the writes are.
    let mut offsets = vec![0usize; streams.len()];
    for (key, stream) in streams.iter().enumerate() {
        epoll.add(stream, key, EventFlags::IN | EventFlags::OUT)?;
    }
    let mut bytes = 0u64;
    while let Some(begun) = window.tick(perf)? {
        if begun {
            bytes = 0;
        }
        epoll.wait(TICK)?;
        let measuring = window.measuring();
        for event in &epoll.events {
            let (flags, data) = (event.flags, event.data);
            let key = data.u64() as usize;
            let stream = &streams[key];
            if flags.intersects(READABLE) {
                match rustix::io::read(stream, &mut buf[..]) {
                    Ok(0) => return Err(protocol(format!("connection #{key}: server closed"))),
                    Ok(n) => {
                        if measuring {
                            bytes += n as u64;
                        }
                    }
                    Err(Errno::AGAIN | Errno::INTR) => {}
                    Err(error) => return Err(with_context(error.into(), "read")),
                }
            }
            if flags.intersects(WRITABLE) {
                match rustix::io::write(stream, &chunk[offsets[key]..]) {
                    Ok(n) => offsets[key] = (offsets[key] + n) % chunk.len(),
                    Err(Errno::AGAIN | Errno::INTR) => {}
                    Err(error) => return Err(with_context(error.into(), "write")),
                }
            }
        }
    }
    let elapsed = window.finish(perf)?;
    Ok(Report {
        elapsed,
        ops: bytes / options.size as u64,
        bytes,
        latencies: Vec::new(),
        held: Vec::new(),
    })
}

/// How long one step of a churn cycle may take before the run fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

fn run_churn(options: &Options, cycles: u64, perf: &mut PerfControl) -> io::Result<Report> {
    let message = vec![b'x'; options.size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut epoll = Epoll::new()?;
    let warmup_end = Instant::now() + options.warmup;
    while Instant::now() < warmup_end {
        churn_cycle(options.addr, &message, &mut buf, &mut epoll)?;
    }
    let mut latencies = Vec::with_capacity(cycles as usize);
    perf.send("enable")?;
    let start = Instant::now();
    for _ in 0..cycles {
        let began = Instant::now();
        churn_cycle(options.addr, &message, &mut buf, &mut epoll)?;
        latencies.push(began.elapsed().as_nanos() as u64);
    }
    let elapsed = start.elapsed();
    perf.send("disable")?;
    latencies.sort_unstable();
    Ok(Report {
        elapsed,
        ops: cycles,
        bytes: cycles * options.size as u64,
        latencies,
        held: Vec::new(),
    })
}

/// One non-blocking connect, send, receive of the whole echo, close.
fn churn_cycle(
    addr: SocketAddr,
    message: &[u8],
    buf: &mut [u8],
    epoll: &mut Epoll,
) -> io::Result<()> {
    let (socket, mut connected) = connect_nonblocking(addr)?;
    epoll.add(&socket, 0, EventFlags::OUT)?;
    let mut written = 0;
    let mut received = 0;
    let mut reading = false;
    loop {
        if !connected {
            wait_for(epoll, "connect")?;
            if let Err(error) = rustix::net::sockopt::socket_error(&socket)? {
                return Err(with_context(error.into(), &format!("connect to {addr}")));
            }
            connected = true;
        }
        if written < message.len() {
            match rustix::io::write(&socket, &message[written..]) {
                Ok(n) => written += n,
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(error) => return Err(with_context(error.into(), "write")),
            }
            if written < message.len() {
                wait_for(epoll, "write")?;
                continue;
            }
        }
        if !reading {
            epoll.modify(&socket, 0, EventFlags::IN)?;
            reading = true;
        }
        match rustix::io::read(&socket, &mut *buf) {
            Ok(0) => {
                return Err(protocol(
                    "accept-churn: server closed before echoing".into(),
                ))
            }
            Ok(n) => received += n,
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(error) => return Err(with_context(error.into(), "read")),
        }
        if received >= message.len() {
            // Closing the socket takes it out of the epoll set.
            drop(socket);
            return Ok(());
        }
        wait_for(epoll, "echo")?;
    }
}

/// A non-blocking socket connecting to `addr`, and whether the connect is
/// already done (else the socket turns writable when it is).
fn connect_nonblocking(addr: SocketAddr) -> io::Result<(OwnedFd, bool)> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let socket = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&socket, &addr) {
        Ok(()) => Ok((socket, true)),
        Err(Errno::INPROGRESS) => Ok((socket, false)),
        Err(error) => Err(with_context(error.into(), &format!("connect to {addr}"))),
    }
}

/// Waits for the one socket of a churn cycle, failing after
/// [`STEP_TIMEOUT`].
fn wait_for(epoll: &mut Epoll, what: &str) -> io::Result<()> {
    epoll.wait(STEP_TIMEOUT)?;
    if epoll.events.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("accept-churn: no {what} readiness within {STEP_TIMEOUT:?}"),
        ));
    }
    Ok(())
}

/// How many `--idle` connections may be connecting or waiting for their
/// echo at once: few enough that the server's accept queue (128 for a
/// `std` listener, whose backlog smol keeps) never overflows, so no SYN is
/// dropped and retried a second later.
const IDLE_IN_FLIGHT: usize = 64;

/// How long establishing every `--idle` connection may take.
const IDLE_SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// An `--idle` connection on its way to being established.
struct IdleConn {
    socket: OwnedFd,
    /// When its connect began.
    started: Instant,
    /// Bytes of the message written.
    written: usize,
    /// Bytes of its echo received.
    received: usize,
}

fn run_idle(options: &Options) -> io::Result<Report> {
    let n = options.conns;
    raise_fd_limit(n)?;
    let message = vec![b'x'; options.size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut epoll = Epoll::new()?;
    // Indexed by key (the order of the connects); `None` once established.
    let mut pending: Vec<Option<IdleConn>> = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    while held.len() < n {
        while pending.len() - held.len() < IDLE_IN_FLIGHT && pending.len() < n {
            let key = pending.len();
            let (socket, _) = connect_nonblocking(options.addr)
                .map_err(|e| with_context(e, &format!("idle connection #{key}")))?;
            rustix::net::sockopt::set_tcp_nodelay(&socket, true)?;
            // Writable once connected (or failed): then the message goes.
            epoll.add(&socket, key, EventFlags::OUT)?;
            pending.push(Some(IdleConn {
                socket,
                started: Instant::now(),
                written: 0,
                received: 0,
            }));
        }
        if start.elapsed() > IDLE_SETUP_TIMEOUT {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "idle: only {} of {n} connections echoed within {IDLE_SETUP_TIMEOUT:?} \
                     ({} opened); is the server out of file descriptors (ulimit -n)?",
                    held.len(),
                    pending.len()
                ),
            ));
        }
        epoll.wait(TICK)?;
        for event in &epoll.events {
            let (flags, data) = (event.flags, event.data);
            let key = data.u64() as usize;
            let Some(conn) = &mut pending[key] else {
                continue;
            };
            if conn.written < message.len() && flags.intersects(WRITABLE) {
                idle_write(conn, &message, &epoll, key)?;
            }
            if conn.written == message.len()
                && flags.intersects(READABLE)
                && idle_read(conn, &mut buf, message.len(), key)?
            {
                epoll.delete(&conn.socket)?;
                latencies.push(conn.started.elapsed().as_nanos() as u64);
                if let Some(conn) = pending[key].take() {
                    held.push(conn.socket);
                }
            }
        }
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(Report {
        elapsed,
        ops: n as u64,
        bytes: (n * options.size) as u64,
        latencies,
        held,
    })
}

/// Writes what is left of an idle connection's message, once its connect
/// is done; then waits for the echo instead.
fn idle_write(conn: &mut IdleConn, message: &[u8], epoll: &Epoll, key: usize) -> io::Result<()> {
    if conn.written == 0 {
        if let Err(error) = rustix::net::sockopt::socket_error(&conn.socket)? {
            return Err(with_context(
                error.into(),
                &format!("idle connection #{key}: connect"),
            ));
        }
    }
    match rustix::io::write(&conn.socket, &message[conn.written..]) {
        Ok(n) => conn.written += n,
        Err(Errno::AGAIN | Errno::INTR) => {}
        Err(error) => {
            let what = format!("idle connection #{key}: write");
            return Err(with_context(error.into(), &what));
        }
    }
    if conn.written == message.len() {
        epoll.modify(&conn.socket, key, EventFlags::IN)?;
    }
    Ok(())
}

/// Reads an idle connection's echo; `true` once all of it is in.
fn idle_read(conn: &mut IdleConn, buf: &mut [u8], size: usize, key: usize) -> io::Result<bool> {
    match rustix::io::read(&conn.socket, buf) {
        Ok(0) => {
            return Err(protocol(format!(
                "idle connection #{key}: server closed before echoing"
            )))
        }
        Ok(n) => conn.received += n,
        Err(Errno::AGAIN | Errno::INTR) => return Ok(false),
        Err(error) => {
            let what = format!("idle connection #{key}: read");
            return Err(with_context(error.into(), &what));
        }
    }
    if conn.received > size {
        return Err(protocol(format!(
            "idle connection #{key}: {} bytes echoed for {size} sent",
            conn.received
        )));
    }
    Ok(conn.received == size)
}

/// Raises the soft limit on open files to the hard limit, and fails with
/// what to do when even that is too low for `conns` connections.
fn raise_fd_limit(conns: usize) -> io::Result<()> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    // (rustix's `process` feature: `polling` turns it on.)
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    // stdin/stdout/stderr, the epoll fd and some slack.
    let needed = conns as u64 + 16;
    match limit.current {
        Some(max) if max < needed => Err(io::Error::other(format!(
            "--idle {conns} needs about {needed} file descriptors, but the hard limit \
             (RLIMIT_NOFILE) is {max}: raise it (`ulimit -Hn`, as root) first"
        ))),
        _ => Ok(()),
    }
}
