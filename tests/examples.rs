//! The examples run: each server is started on a port the OS picks, spoken
//! to over TCP the way its doc comment describes, and killed; the demo runs
//! for a second and must print its summary.
//!
//! The example binaries are built once by `cargo build --examples` into
//! the target directory this test runs from, then run directly. Every wait
//! is bounded, and every child is killed by a guard, also on failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print `listening on ADDR`.
const STARTUP: Duration = Duration::from_secs(20);

/// How long any one read from a server may take.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `demo --seconds 1` may take from start to exit.
const DEMO_LIMIT: Duration = Duration::from_secs(30);

/// How long `cargo build --examples` may take.
const BUILD_LIMIT: Duration = Duration::from_secs(600);

#[test]
fn echo_sends_back_what_it_gets() {
    let server = Server::start("echo");
    let mut client = server.connect();
    for message in [&b"hello"[..], b"corium\n", &[7u8; 40_000]] {
        client.write_all(message).unwrap();
        let mut echoed = vec![0; message.len()];
        client.read_exact(&mut echoed).unwrap();
        assert!(echoed == message, "echo returned different bytes");
    }
}

#[test]
fn chat_relays_lines_with_the_sender_name() {
    let server = Server::start("chat");
    let mut alice = Lines::new(server.connect());
    let alice_name = name_in_welcome(&alice.next());
    // Once bob has read his welcome he is subscribed to the room.
    let mut bob = Lines::new(server.connect());
    let bob_welcome = bob.next();
    assert!(bob_welcome.contains("; 1 other"), "{bob_welcome:?}");
    let bob_name = name_in_welcome(&bob_welcome);
    assert_eq!(alice.next(), format!("*** {bob_name} joined"));

    alice.stream.write_all(b"hello\n").unwrap();
    assert_eq!(bob.next(), format!("{alice_name}: hello"));

    drop(alice);
    assert_eq!(bob.next(), format!("*** {alice_name} left"));
}

/// The name in chat's `*** welcome, NAME; ...` line.
fn name_in_welcome(welcome: &str) -> String {
    welcome
        .strip_prefix("*** welcome, ")
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("unexpected welcome: {welcome:?}"))
        .to_owned()
}

#[test]
fn http_hello_answers_pipelined_requests_and_closes_on_request() {
    let server = Server::start("http_hello");
    let mut client = server.connect();
    let get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    client.write_all(format!("{get}{get}").as_bytes()).unwrap();
    let mut responses = Responses::new(client);
    for _ in 0..2 {
        let (head, body) = responses.next().expect("a response");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head:?}");
        assert_eq!(body, "Hello, world!");
    }

    let close = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    responses.stream.write_all(close.as_bytes()).unwrap();
    let (head, body) = responses.next().expect("a response");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head:?}");
    assert_eq!(body, "Hello, world!");
    assert!(
        responses.next().is_none(),
        "the server closed the connection"
    );
}

#[test]
fn http_hello_rejects_an_oversized_header() {
    let server = Server::start("http_hello");
    let mut client = server.connect();
    let header = format!("GET / HTTP/1.1\r\nX-Filler: {}\r\n\r\n", "a".repeat(9000));
    client.write_all(header.as_bytes()).unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 431 "), "{response:?}");
}

#[test]
fn the_flags_then_the_environment_then_the_default_pick_the_runtime() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let plural = |n: usize| if n == 1 { "worker" } else { "workers" };
    /// Flags, environment, and the runtime line expected.
    type Case = (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        String,
    );
    let cases: &[Case] = &[
        (
            &[],
            &[],
            format!("multi_thread ({cores} {}, shared reactor)", plural(cores)),
        ),
        (
            &["--flavor", "current"],
            &[],
            "current_thread (1 worker)".into(),
        ),
        (
            &["--flavor", "multi", "--workers", "3"],
            &[],
            "multi_thread (3 workers, shared reactor)".into(),
        ),
        (
            &[],
            &[("CORIUM_FLAVOR", "current")],
            "current_thread (1 worker)".into(),
        ),
        (
            &[],
            &[
                ("CORIUM_FLAVOR", "multi_thread"),
                ("CORIUM_WORKER_THREADS", "3"),
            ],
            "multi_thread (3 workers, shared reactor)".into(),
        ),
        (
            &["--workers", "2"],
            &[("CORIUM_REACTOR_TOPOLOGY", "per_worker")],
            "multi_thread (2 workers, reactor per worker)".into(),
        ),
        // What the command line says wins over the environment.
        (
            &["--flavor", "current"],
            &[("CORIUM_FLAVOR", "multi")],
            "current_thread (1 worker)".into(),
        ),
        (
            &["--workers", "2"],
            &[("CORIUM_WORKER_THREADS", "3")],
            "multi_thread (2 workers, shared reactor)".into(),
        ),
    ];
    for (args, env, expected) in cases {
        let (server, runtime) = Server::start_with("echo", args, env);
        assert_eq!(runtime, format!("runtime: {expected}"), "{args:?} {env:?}");
        // It serves on that runtime.
        let mut client = server.connect();
        client.write_all(b"ping").unwrap();
        let mut reply = [0; 4];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"ping");
    }
}

#[test]
fn an_invalid_flavor_is_a_startup_error_that_names_the_variable() {
    let cases = [
        ("CORIUM_FLAVOR", "threaded", "must be `current_thread`"),
        (
            "CORIUM_WORKER_THREADS",
            "zero",
            "a whole number of worker threads",
        ),
        ("CORIUM_WORKER_THREADS", "0", "at least 1"),
    ];
    // `echo` builds its runtime from its flags; `graceful` is
    // `#[corium::main]`, whose startup error is exit status 1.
    for ((name, value, hint), example) in cases
        .into_iter()
        .flat_map(|case| [(case, "echo"), (case, "graceful")])
    {
        let output = Command::new(example_binary(example))
            .args(["--addr", "127.0.0.1:0"])
            .env_remove("CORIUM_FLAVOR")
            .env_remove("CORIUM_WORKER_THREADS")
            .env_remove("CORIUM_REACTOR_TOPOLOGY")
            .env(name, value)
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "{example}: {name}={value} started anyway"
        );
        if example == "graceful" {
            assert_eq!(output.status.code(), Some(1), "{name}={value}");
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{name}={value:?} is not valid")) && stderr.contains(hint),
            "{name}={value}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "it never listened");
    }
    let output = Command::new(example_binary("echo"))
        .args(["--flavor", "sideways"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--flavor \"sideways\" is not valid"));
}

#[test]
fn logging_server_prints_records_with_the_client_address() {
    let server = Server::start("logging_server");
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    for record in ["first record", "second record"] {
        let len = u32::try_from(record.len()).unwrap();
        client.write_all(&len.to_be_bytes()).unwrap();
        client.write_all(record.as_bytes()).unwrap();
    }
    assert_eq!(server.next_line(), format!("{peer}: first record"));
    assert_eq!(server.next_line(), format!("{peer}: second record"));
}

#[test]
fn mini_redis_answers_ping_set_and_get() {
    let server = Server::start("mini_redis");
    let mut client = Lines::new(server.connect());
    let requests = concat!(
        "*1\r\n$4\r\nPING\r\n",
        "*3\r\n$3\r\nSET\r\n$8\r\nexamples\r\n$2\r\nok\r\n",
        "*2\r\n$3\r\nGET\r\n$8\r\nexamples\r\n",
    );
    client.stream.write_all(requests.as_bytes()).unwrap();
    for expected in ["+PONG", "+OK", "$2", "ok"] {
        assert_eq!(client.next(), expected);
    }
}

#[test]
fn demo_runs_and_prints_a_summary() {
    let mut demo = Guard(
        Command::new(example_binary("demo"))
            .args(["--seconds", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the demo"),
    );
    let stdout = read_to_end_in_thread(demo.0.stdout.take().unwrap());
    let stderr = read_to_end_in_thread(demo.0.stderr.take().unwrap());
    let status = demo.wait_for_exit(DEMO_LIMIT);
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        status.success(),
        "demo failed: {status}\n{stdout}\n{stderr}"
    );
    let summary = stdout
        .lines()
        .find(|line| line.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let total: u64 = summary["summary: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {summary:?}"));
    assert!(total > 0, "{summary}");
}

/// A running example server, killed when dropped.
struct Server {
    child: Guard,
    addr: SocketAddr,
    stdout: Receiver<String>,
}

impl Server {
    /// Starts example `name` on a port the OS picks and waits until it
    /// says where it listens and on which runtime.
    fn start(name: &str) -> Server {
        Server::start_with(name, &[], &[]).0
    }

    /// [`start`](Self::start) with extra arguments and environment; also
    /// returns the runtime line (`runtime: FLAVOR (N workers[, TOPOLOGY])`).
    fn start_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Server, String) {
        let mut command = Command::new(example_binary(name));
        command.args(["--addr", "127.0.0.1:0"]).args(args);
        command
            .env_remove("CORIUM_FLAVOR")
            .env_remove("CORIUM_WORKER_THREADS")
            .env_remove("CORIUM_REACTOR_TOPOLOGY");
        command.envs(env.iter().copied());
        let mut child = Guard(
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("start example {name}: {e}")),
        );
        let stdout = lines_in_thread(child.0.stdout.take().unwrap());
        forward_stderr(name, child.0.stderr.take().unwrap());
        let first = stdout
            .recv_timeout(STARTUP)
            .unwrap_or_else(|e| panic!("{name} printed no `listening on` line: {e}"));
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("{name} said {first:?}, not `listening on ADDR`"));
        let runtime = stdout
            .recv_timeout(STARTUP)
            .unwrap_or_else(|e| panic!("{name} printed no `runtime:` line: {e}"));
        assert!(runtime.starts_with("runtime: "), "{name} said {runtime:?}");
        let server = Server {
            child,
            addr,
            stdout,
        };
        (server, runtime)
    }

    /// A blocking client connection with bounded reads and writes.
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
    }

    /// The server's next line on stdout.
    fn next_line(&self) -> String {
        self.stdout.recv_timeout(IO_TIMEOUT).unwrap_or_else(|e| {
            let pid = self.child.0.id();
            panic!("no line from the server (pid {pid}): {e}")
        })
    }
}

/// Kills and reaps its child when dropped, so no test leaves one behind.
struct Guard(Child);

impl Guard {
    /// Waits for the child to exit by itself, at most `limit`.
    fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("wait for the child") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {limit:?}");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // It may have exited already; either way it must be reaped.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client reading a server's replies line by line.
struct Lines {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Lines {
    fn new(stream: TcpStream) -> Lines {
        let reader = BufReader::new(stream.try_clone().unwrap());
        Lines { stream, reader }
    }

    /// The next line, without its newline.
    fn next(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read a line");
        assert!(n > 0, "the server closed the connection");
        line.trim_end().to_owned()
    }
}

/// A client reading HTTP responses with a `Content-Length` body.
struct Responses {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl Responses {
    fn new(stream: TcpStream) -> Responses {
        Responses {
            stream,
            buffered: Vec::new(),
        }
    }

    /// The next response's head and body, or `None` at a clean close.
    fn next(&mut self) -> Option<(String, String)> {
        let head_len = loop {
            if let Some(at) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if !self.fill() {
                assert!(self.buffered.is_empty(), "the server closed mid-response");
                return None;
            }
        };
        let head = String::from_utf8(self.buffered[..head_len].to_vec()).unwrap();
        let body_len: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .and_then(|len| len.parse().ok())
            .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
        while self.buffered.len() < head_len + body_len {
            assert!(self.fill(), "the server closed mid-body");
        }
        let body = self.buffered[head_len..head_len + body_len].to_vec();
        self.buffered.drain(..head_len + body_len);
        Some((head, String::from_utf8(body).unwrap()))
    }

    /// Reads more; false at end-of-stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0; 4096];
        let n = self.stream.read(&mut chunk).expect("read a response");
        self.buffered.extend_from_slice(&chunk[..n]);
        n > 0
    }
}

/// The path of example `name`'s binary, building every example the first
/// time it is asked for.
fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_examples).join(name)
}

/// Runs `cargo build --examples` for this package into the target
/// directory this test binary lives in (`<target>/<profile>/deps/`), and
/// returns `<target>/<profile>/examples`.
fn build_examples() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("a target directory");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let mut cargo = Guard(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "--profile", profile])
            .arg("--manifest-path")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .args(["--package", env!("CARGO_PKG_NAME")])
            .env("CARGO_TARGET_DIR", target_dir)
            .spawn()
            .expect("run cargo"),
    );
    let status = cargo.wait_for_exit(BUILD_LIMIT);
    assert!(status.success(), "cargo build --examples failed: {status}");
    profile_dir.join("examples")
}

/// Sends each line of `output` down a channel, from a thread of its own.
fn lines_in_thread(output: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Copies a server's stderr into this test's (captured) output.
fn forward_stderr(name: &str, stderr: impl Read + Send + 'static) {
    let name = name.to_owned();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[{name}] {line}");
        }
    });
}

/// Reads all of `output` (as text) on a thread of its own.
fn read_to_end_in_thread(mut output: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = output.read_to_string(&mut text);
        text
    })
}

/// With its fd table full, the echo server's accept loop reports the
/// error and backs off instead of spinning on the queued connection, and
/// serves again once descriptors free up.
#[test]
fn echo_backs_off_when_the_fd_table_is_full_and_recovers() {
    use std::os::unix::process::CommandExt;

    let mut command = Command::new(example_binary("echo"));
    command
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: `setrlimit` is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let limit = rustix::process::Rlimit {
                current: Some(24),
                maximum: None,
            };
            let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
            rustix::process::setrlimit(
                rustix::process::Resource::Nofile,
                rustix::process::Rlimit {
                    maximum: hard,
                    ..limit
                },
            )
            .map_err(std::io::Error::from)
        });
    }
    let mut child = Guard(command.spawn().expect("start echo"));
    let stdout = lines_in_thread(child.0.stdout.take().unwrap());
    let stderr = lines_in_thread(child.0.stderr.take().unwrap());
    let addr: SocketAddr = stdout
        .recv_timeout(STARTUP)
        .expect("a `listening on` line")
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok())
        .expect("an address");

    // More clients than descriptors: the kernel queues them all, the
    // server runs out of fds part way.
    let clients: Vec<TcpStream> = (0..32)
        .map(|_| TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect"))
        .collect();
    let first = stderr
        .recv_timeout(IO_TIMEOUT)
        .expect("the server reports the failed accept");
    assert!(
        first.contains("accept failed"),
        "unexpected stderr: {first}"
    );
    // A spinning loop would print thousands of lines a second; a backing
    // off one prints about ten.
    let window = Instant::now() + Duration::from_secs(1);
    let mut reports = 1;
    while let Some(left) = window.checked_duration_since(Instant::now()) {
        if stderr.recv_timeout(left).is_ok() {
            reports += 1;
        }
    }
    assert!(
        reports <= 50,
        "{reports} accept errors in a second: a busy loop"
    );

    drop(clients);
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(b"back").unwrap();
    let mut reply = [0; 4];
    stream
        .read_exact(&mut reply)
        .expect("served again after fds free up");
    assert_eq!(&reply, b"back");
}

/// Sends `SIGTERM` to a running example.
fn terminate(server: &Server) {
    let pid = libc::pid_t::try_from(server.child.0.id()).expect("a pid fits pid_t");
    // SAFETY: `kill` has no memory-safety preconditions; the pid is our
    // child's, which the guard has not reaped yet.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill -TERM {pid}");
}

/// One request and its reply, in the protocol of example `name`.
fn round_trip(name: &str, stream: &mut TcpStream) {
    let (request, reply): (&[u8], &[u8]) = match name {
        "mini_redis" => (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
        _ => (b"hello\n", b"hello\n"),
    };
    stream.write_all(request).unwrap();
    let mut got = vec![0; reply.len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, reply, "{name}");
}

/// Reads until the server closes the connection; what came before.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("a clean close");
    text
}

/// SIGTERM in the middle of requests: one being processed (`wait`), one
/// half sent, one idle. Both begun requests are answered, the idle
/// connection is closed, new connections are refused, and the process
/// exits 0 within the grace period, on either flavor (chosen through the
/// environment, which `#[corium::main]` follows).
#[test]
fn graceful_answers_every_begun_request_then_exits_0() {
    for flavor in ["current_thread", "multi_thread"] {
        let env = [("CORIUM_FLAVOR", flavor)];
        let (mut server, runtime) = Server::start_with("graceful", &["--grace", "5"], &env);
        assert!(
            runtime.starts_with(&format!("runtime: {flavor}")),
            "{runtime}"
        );
        let mut answered = Lines::new(server.connect());
        answered.stream.write_all(b"hello\n").unwrap();
        assert_eq!(answered.next(), "hello");
        let mut slow = Lines::new(server.connect());
        slow.stream.write_all(b"wait 300\n").unwrap();
        let mut half = Lines::new(server.connect());
        half.stream.write_all(b"wait 5").unwrap();
        let mut idle = server.connect();
        // Let the server read the first bytes it was sent.
        thread::sleep(Duration::from_millis(100));
        terminate(&server);
        half.stream.write_all(b"0\n").unwrap();
        assert_eq!(slow.next(), "done 300");
        assert_eq!(half.next(), "done 50");
        assert_eq!(read_until_closed(&mut idle), "");
        assert_eq!(read_until_closed(&mut answered.stream), "");
        let status = server.child.wait_for_exit(Duration::from_secs(5));
        assert!(status.success(), "{flavor}: exit status {status}");
        let refused = TcpStream::connect_timeout(&server.addr, IO_TIMEOUT);
        assert!(
            refused.is_err(),
            "{flavor}: a connection after the shutdown"
        );
    }
}

/// With nothing in flight, SIGTERM (even the moment the port answers) ends
/// the process at once with status 0, not after the grace period: an idle
/// connection is closed, not waited for.
#[test]
fn graceful_exits_at_once_with_nothing_in_flight() {
    for name in ["graceful", "echo", "mini_redis"] {
        let (mut server, _) = Server::start_with(name, &["--grace", "60"], &[]);
        terminate(&server);
        let status = server.child.wait_for_exit(Duration::from_secs(20));
        assert!(status.success(), "{name}: exit status {status}");

        let (mut server, _) = Server::start_with(name, &["--grace", "60"], &[]);
        let mut idle = server.connect();
        round_trip(name, &mut idle); // so it is accepted, and now idle
        terminate(&server);
        assert_eq!(read_until_closed(&mut idle), "", "{name}");
        let status = server.child.wait_for_exit(Duration::from_secs(20));
        assert!(status.success(), "{name}: exit status {status}");
    }
}

/// A request that outlasts the grace period is cut off, and the process
/// still exits 0 (having said so on stderr).
#[test]
fn graceful_cuts_off_what_outlasts_the_grace_period() {
    let (mut server, _) = Server::start_with("graceful", &["--grace", "0.2"], &[]);
    let mut slow = server.connect();
    slow.write_all(b"wait 60000\n").unwrap();
    thread::sleep(Duration::from_millis(100));
    terminate(&server);
    assert_eq!(read_until_closed(&mut slow), "");
    let status = server.child.wait_for_exit(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
}

/// The echo and mini_redis servers shut down the same way: what was asked
/// before the signal is answered, then the connection closes and the
/// process exits 0.
#[test]
fn echo_and_mini_redis_shut_down_gracefully() {
    for name in ["echo", "mini_redis"] {
        let (mut server, _) = Server::start_with(name, &[], &[]);
        let mut client = server.connect();
        round_trip(name, &mut client);
        terminate(&server);
        assert_eq!(read_until_closed(&mut client), "", "{name}");
        let status = server.child.wait_for_exit(Duration::from_secs(20));
        assert!(status.success(), "{name}: exit status {status}");
    }
}
