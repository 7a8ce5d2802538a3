//! The mini_redis example: its parser on its own, then the server, run in
//! process on every executor flavor and driven over loopback by a blocking
//! client, as `redis-cli` would drive it.
//!
//! Every test runs under a watchdog and every read has a timeout, so a
//! server that stops answering fails the test instead of hanging it.

mod util;

#[path = "../examples/mini_redis/cmd.rs"]
mod cmd;
#[path = "../examples/mini_redis/db.rs"]
mod db;
#[path = "../examples/mini_redis/resp.rs"]
mod resp;
#[path = "../examples/mini_redis/server.rs"]
mod server;
#[path = "../examples/common/shutdown.rs"]
mod shutdown;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use corium::net::TcpListener;
use corium::sync::oneshot;
use resp::{Parser, ProtocolError};
use util::{bounded, for_each_flavor, Flavor};

/// No grace period: the tests' servers are stopped by aborting them.
const ZERO: Duration = Duration::ZERO;

/// The watchdog on each test (per flavor).
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// How long a client waits for any one reply.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a key given a 50 ms lifetime may take to disappear: generous,
/// so a loaded machine does not fail the test; only "never" does.
const EXPIRY_LIMIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// The parser on its own.

/// Parses every frame in `input`, fed one byte at a time (as the worst
/// network would), returning each frame's arguments.
fn parse_bytewise(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
    let mut parser = Parser::new();
    let mut frames = Vec::new();
    let (mut start, mut end) = (0, 0);
    while end < input.len() {
        end += 1;
        while let Some(frame) = parser.next_frame(&input[start..end])? {
            frames.push(frame.args_from(0).map(<[u8]>::to_vec).collect());
            start += frame.encoded_len();
        }
    }
    Ok(frames)
}

fn words(text: &str) -> Vec<Vec<u8>> {
    text.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

#[test]
fn parser_resumes_frames_split_anywhere() {
    let input =
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nv!\r\nPING\r\n*1\r\n$4\r\nPING\r\nECHO  a\tb\n";
    let frames = parse_bytewise(input).expect("valid input");
    assert_eq!(
        frames,
        vec![
            vec![b"SET".to_vec(), b"k".to_vec(), b"v\r\nv!".to_vec()],
            words("PING"),
            words("PING"),
            words("ECHO a b"),
        ]
    );
}

#[test]
fn parser_treats_empty_requests_as_frames_without_arguments() {
    let frames = parse_bytewise(b"*0\r\n*-1\r\n\r\n   \r\nPING\r\n").expect("valid input");
    assert_eq!(frames, vec![vec![], vec![], vec![], vec![], words("PING")]);
}

#[test]
fn parser_rejects_bad_lengths_before_their_bytes_arrive() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"*abc\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*1x\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*+1\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*2000000\r\n", ProtocolError::InvalidMultibulkLength),
        (
            b"*99999999999999999999\r\n",
            ProtocolError::InvalidMultibulkLength,
        ),
        (
            b"*11111111111111111111111111111111111111",
            ProtocolError::InvalidMultibulkLength,
        ),
        (b"*1\r\n$99999999999\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$600000000\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$-1\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$4\r\nPINGxx", ProtocolError::ExpectedCrlf),
        (b"*1\r\n$4\rx", ProtocolError::ExpectedCrlf),
        (b"*1\r\nPING\r\n", ProtocolError::ExpectedBulk(b'P')),
    ];
    for (input, expected) in cases {
        let shown = String::from_utf8_lossy(input);
        assert_eq!(parse_bytewise(input), Err(*expected), "input {shown:?}");
    }
    let long_line = vec![b'a'; resp::MAX_INLINE_LEN + 1];
    assert_eq!(
        parse_bytewise(&long_line),
        Err(ProtocolError::InlineTooLong)
    );
}

#[test]
fn parser_waits_for_the_rest_of_a_bulk() {
    let mut input = b"*2\r\n$4\r\nECHO\r\n$100000\r\nabc".to_vec();
    let mut parser = Parser::new();
    assert!(parser.next_frame(&input).expect("valid so far").is_none());
    input.resize(input.len() + 100_000 - 3, b'x');
    assert!(parser.next_frame(&input).expect("valid so far").is_none());
    input.extend_from_slice(b"\r\n");
    let frame = parser.next_frame(&input).expect("valid").expect("complete");
    assert_eq!(frame.encoded_len(), input.len());
    assert_eq!(frame.arg(1).map(<[u8]>::len), Some(100_000));
}

#[test]
fn integers_parse_as_strictly_as_redis() {
    for (text, value) in [
        ("0", Some(0)),
        ("-7", Some(-7)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-0", None),
        ("007", None),
        ("+1", None),
        (" 1", None),
        ("1.5", None),
        ("", None),
        ("-", None),
    ] {
        assert_eq!(resp::parse_i64(text.as_bytes()), value, "{text:?}");
    }
}

// ---------------------------------------------------------------------------
// A server on a runtime of its own, and a blocking client.

/// A mini_redis server on a loopback port, on a runtime of one flavor in a
/// thread of its own; dropping it stops the server and its tasks.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(flavor: Flavor) -> Server {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runtime = util::build(flavor);
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let _ = ready_tx.send(listener.local_addr().unwrap());
                let forever = std::future::pending();
                let db = db::SharedDb::new();
                let serving = corium::spawn(server::serve_until(listener, db, forever, ZERO));
                let _ = stop_rx.await;
                serving.abort();
            });
        });
        let addr = ready_rx
            .recv_timeout(READ_TIMEOUT)
            .expect("the server binds a loopback port");
        Server {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `test` against a fresh server on every executor flavor, under the
/// watchdog.
fn with_server(test: fn(SocketAddr)) {
    for_each_flavor(|flavor| {
        bounded(TEST_LIMIT, move || {
            let server = Server::start(flavor);
            test(server.addr);
        })
    });
}

/// A reply, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    Array(Vec<Reply>),
}

use Reply::{Array, Bulk, Integer, Null, Simple};

fn bulk(text: &str) -> Reply {
    Bulk(text.as_bytes().to_vec())
}

fn ok() -> Reply {
    Simple("OK".into())
}

/// A blocking RESP client; every read times out after [`READ_TIMEOUT`].
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the server");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("set a read timeout");
        let writer = stream.try_clone().expect("clone the stream");
        Client {
            reader: BufReader::new(stream),
            writer,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send to the server");
    }

    /// Sends one command, its arguments as bulk strings; its reply.
    fn call(&mut self, args: &[&[u8]]) -> Reply {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Sends a command given as space-separated words; its reply.
    fn run(&mut self, command: &str) -> Reply {
        let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        self.call(&args)
    }

    fn read_line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("a reply within the read timeout");
        assert!(
            line.ends_with(b"\r\n"),
            "reply line {:?} lacks its CRLF (connection closed?)",
            String::from_utf8_lossy(&line)
        );
        line.truncate(line.len() - 2);
        String::from_utf8(line).expect("reply line is UTF-8")
    }

    fn read_reply(&mut self) -> Reply {
        let line = self.read_line();
        let (kind, rest) = line.split_at(1);
        let number = || rest.parse::<i64>().expect("a number");
        match kind {
            "+" => Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Integer(number()),
            "$" if number() < 0 => Null,
            "$" => {
                let mut data = vec![0; number() as usize + 2];
                self.reader.read_exact(&mut data).expect("bulk data");
                assert_eq!(&data[data.len() - 2..], b"\r\n", "bulk ends in CRLF");
                data.truncate(data.len() - 2);
                Bulk(data)
            }
            "*" => Array((0..number()).map(|_| self.read_reply()).collect()),
            _ => panic!("not a RESP reply: {line:?}"),
        }
    }

    /// Reads the next reply and checks that it is an error starting with
    /// `prefix`.
    fn expect_error(&mut self, prefix: &str) {
        match self.read_reply() {
            Reply::Error(message) => assert!(
                message.starts_with(prefix),
                "error {message:?} should start with {prefix:?}"
            ),
            other => panic!("expected an error starting with {prefix:?}, got {other:?}"),
        }
    }

    /// Checks that the server closed the connection (it reads end of
    /// stream, or a reset) rather than leaving it open.
    fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "unexpected bytes {rest:?}"),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("the server left the connection open: {e}"),
        }
    }
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Polls `check` until it holds, failing after `limit`.
fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The server answers a new client: the check after every abuse.
fn assert_alive(addr: SocketAddr) {
    assert_eq!(Client::connect(addr).run("PING"), Simple("PONG".into()));
}

// ---------------------------------------------------------------------------
// Commands.

#[test]
fn ping_and_echo() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(client.run("PING"), Simple("PONG".into()));
        assert_eq!(client.run("ping hello"), bulk("hello"));
        assert_eq!(client.run("ECHO hi"), bulk("hi"));
        assert_eq!(client.call(&[b"ECHO", b""]), bulk(""));
    });
}

#[test]
fn set_get_del_exists() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(client.run("SET a 1"), ok());
        assert_eq!(client.run("SET b 2"), ok());
        assert_eq!(client.run("GET a"), bulk("1"));
        assert_eq!(client.run("SET a 11"), ok());
        assert_eq!(client.run("GET a"), bulk("11"));
        assert_eq!(client.run("EXISTS a b nope a"), Integer(3));
        assert_eq!(client.run("DBSIZE"), Integer(2));
        assert_eq!(client.run("DEL a b nope"), Integer(2));
        assert_eq!(client.run("DEL a"), Integer(0));
        assert_eq!(client.run("EXISTS a b"), Integer(0));
        assert_eq!(client.run("GET a"), Null);
    });
}

#[test]
fn get_of_a_missing_key_is_the_null_bulk() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        client.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n");
        let mut reply = [0; 5];
        client.reader.read_exact(&mut reply).expect("a reply");
        assert_eq!(&reply, b"$-1\r\n");
    });
}

#[test]
fn incr_counts_from_zero_and_refuses_non_integers() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(client.run("INCR n"), Integer(1));
        assert_eq!(client.run("INCR n"), Integer(2));
        assert_eq!(client.run("GET n"), bulk("2"));
        assert_eq!(client.run("SET n -5"), ok());
        assert_eq!(client.run("INCR n"), Integer(-4));
        assert_eq!(client.run("SET s abc"), ok());
        assert_eq!(
            client.run("INCR s"),
            Reply::Error("ERR value is not an integer or out of range".into())
        );
        assert_eq!(client.run("SET s 1.5"), ok());
        client.run("INCR s");
        assert_eq!(client.run("GET s"), bulk("1.5"));
        assert_eq!(client.run("SET max 9223372036854775807"), ok());
        assert_eq!(
            client.run("INCR max"),
            Reply::Error("ERR increment or decrement would overflow".into())
        );
    });
}

#[test]
fn set_with_ex_or_px_expires() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(client.run("SET long v EX 100"), ok());
        let Integer(ttl) = client.run("TTL long") else {
            panic!("TTL is an integer")
        };
        assert!((99..=100).contains(&ttl), "TTL {ttl}");
        let Integer(pttl) = client.run("PTTL long") else {
            panic!("PTTL is an integer")
        };
        assert!((90_000..=100_000).contains(&pttl), "PTTL {pttl}");

        assert_eq!(client.run("SET short v px 50"), ok());
        eventually(EXPIRY_LIMIT, "a 50 ms key expires", || {
            client.run("GET short") == Null
        });
        assert_eq!(client.run("TTL short"), Integer(-2));
        assert_eq!(client.run("EXISTS short"), Integer(0));

        // A plain SET drops the deadline.
        assert_eq!(client.run("SET long v"), ok());
        assert_eq!(client.run("TTL long"), Integer(-1));

        for bad in [
            "SET k v EX 0",
            "SET k v PX -1",
            "SET k v EX 99999999999999999",
        ] {
            assert_eq!(
                client.run(bad),
                Reply::Error("ERR invalid expire time in 'set' command".into()),
                "{bad}"
            );
        }
        for bad in ["SET k v EX", "SET k v EX 1 PX 1", "SET k v NOPE 1"] {
            assert_eq!(
                client.run(bad),
                Reply::Error("ERR syntax error".into()),
                "{bad}"
            );
        }
        assert_eq!(
            client.run("SET k v EX ten"),
            Reply::Error("ERR value is not an integer or out of range".into())
        );
        assert_eq!(client.run("EXISTS k"), Integer(0));
    });
}

#[test]
fn expire_and_ttl() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(client.run("TTL k"), Integer(-2));
        assert_eq!(client.run("EXPIRE k 10"), Integer(0));
        assert_eq!(client.run("SET k v"), ok());
        assert_eq!(client.run("TTL k"), Integer(-1));
        assert_eq!(client.run("EXPIRE k 100"), Integer(1));
        let Integer(ttl) = client.run("TTL k") else {
            panic!("TTL is an integer")
        };
        assert!((99..=100).contains(&ttl), "TTL {ttl}");
        // A new deadline replaces the old one; INCR keeps it.
        assert_eq!(client.run("SET n 1"), ok());
        assert_eq!(client.run("EXPIRE n 1000"), Integer(1));
        assert_eq!(client.run("INCR n"), Integer(2));
        let Integer(ttl) = client.run("TTL n") else {
            panic!("TTL is an integer")
        };
        assert!((999..=1000).contains(&ttl), "TTL {ttl}");
        // A deadline in the past deletes the key.
        assert_eq!(client.run("EXPIRE k 0"), Integer(1));
        assert_eq!(client.run("GET k"), Null);
        assert_eq!(client.run("TTL k"), Integer(-2));
        assert_eq!(
            client.run("EXPIRE n soon"),
            Reply::Error("ERR value is not an integer or out of range".into())
        );
    });
}

#[test]
fn the_sweep_removes_expired_keys_nobody_reads() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        let mut batch = Vec::new();
        for i in 0..100 {
            batch.extend(encode(&[
                b"SET",
                format!("k{i}").as_bytes(),
                b"v",
                b"PX",
                b"50",
            ]));
        }
        batch.extend(encode(&[b"SET", b"keeper", b"v"]));
        client.send(&batch);
        for _ in 0..101 {
            assert_eq!(client.read_reply(), ok());
        }
        // DBSIZE reads no key, so only the sweep can bring it down.
        eventually(EXPIRY_LIMIT, "the sweep removes 100 expired keys", || {
            client.run("DBSIZE") == Integer(1)
        });
        assert_eq!(client.run("GET keeper"), bulk("v"));
    });
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        let mut batch = Vec::new();
        let mut expected = Vec::new();
        for i in 0..100 {
            let key = format!("key{}", i % 10);
            let value = i.to_string();
            let (command, reply) = match i % 4 {
                0 => (vec!["SET", &key, &value], ok()),
                1 => (vec!["INCR", "counter"], Integer(i / 4 + 1)),
                2 => (vec!["ECHO", &value], bulk(&value)),
                _ => (vec!["PING"], Simple("PONG".into())),
            };
            let args: Vec<&[u8]> = command.iter().map(|s| s.as_bytes()).collect();
            batch.extend(encode(&args));
            expected.push(reply);
        }
        client.send(&batch);
        for (i, reply) in expected.into_iter().enumerate() {
            assert_eq!(client.read_reply(), reply, "reply {i}");
        }
        assert_eq!(client.run("GET key8"), bulk("88"));
    });
}

#[test]
fn inline_commands() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        client.send(b"PING\r\n");
        assert_eq!(client.read_reply(), Simple("PONG".into()));
        client.send(b"SET greeting hello\r\n  GET\t greeting  \r\n\r\nEXISTS greeting\n");
        assert_eq!(client.read_reply(), ok());
        assert_eq!(client.read_reply(), bulk("hello"));
        assert_eq!(client.read_reply(), Integer(1));
        // Inline and multibulk mix in one stream.
        client.send(b"ECHO a\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n");
        assert_eq!(client.read_reply(), bulk("a"));
        assert_eq!(client.read_reply(), bulk("b"));
    });
}

#[test]
fn requests_split_across_writes() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        let request = encode(&[b"SET", b"split", b"across many segments"]);
        for byte in &request {
            client.send(std::slice::from_ref(byte));
        }
        assert_eq!(client.read_reply(), ok());
        client.send(b"*2\r\n$3\r\nGET\r\n$5\r\nspl");
        thread::sleep(Duration::from_millis(20));
        client.send(b"it\r\n");
        assert_eq!(client.read_reply(), bulk("across many segments"));
    });
}

#[test]
fn large_values_and_large_pipelines() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        let value: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        assert_eq!(client.call(&[b"SET", b"big", &value]), ok());
        // Twenty 1 MiB replies: more than the server buffers before writing.
        let mut batch = Vec::new();
        for _ in 0..20 {
            batch.extend(encode(&[b"GET", b"big"]));
        }
        client.send(&batch);
        for _ in 0..20 {
            assert_eq!(client.read_reply(), Bulk(value.clone()));
        }
        assert_eq!(client.run("PING"), Simple("PONG".into()));
    });
}

#[test]
fn keys_and_values_are_binary_safe() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        let every_byte: Vec<u8> = (0..=255).collect();
        let key = b"\0key\r\n with CRLF\xff";
        assert_eq!(client.call(&[b"SET", key, &every_byte]), ok());
        assert_eq!(client.call(&[b"GET", key]), Bulk(every_byte.clone()));
        assert_eq!(client.call(&[b"ECHO", &every_byte]), Bulk(every_byte));
        assert_eq!(client.call(&[b"EXISTS", key]), Integer(1));
    });
}

#[test]
fn unknown_commands_and_wrong_arity_get_errors_and_the_connection_goes_on() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        client.send(&encode(&[b"FLY", b"me"]));
        client.expect_error("ERR unknown command 'FLY', with args beginning with: 'me'");
        client.send(&encode(&[b"A\r\nVERY-LONG-COMMAND-NAME\r\n"]));
        client.expect_error("ERR unknown command 'A  VERY-LONG-COMMAND-NAME  '");
        client.send(&encode(&[b"GET"]));
        client.expect_error("ERR wrong number of arguments for 'get' command");
        client.send(&encode(&[b"ECHO", b"a", b"b"]));
        client.expect_error("ERR wrong number of arguments for 'echo' command");
        // A `$` line outside an array is an inline command, unknown.
        client.send(b"$99999999999\r\n");
        client.expect_error("ERR unknown command '$99999999999'");
        assert_eq!(client.run("PING"), Simple("PONG".into()));
    });
}

#[test]
fn what_redis_cli_and_redis_benchmark_ask_at_startup() {
    with_server(|addr| {
        let mut client = Client::connect(addr);
        assert_eq!(
            client.run("CONFIG GET save"),
            Array(vec![bulk("save"), bulk("")])
        );
        assert_eq!(
            client.run("CONFIG GET appendonly"),
            Array(vec![bulk("appendonly"), bulk("no")])
        );
        assert_eq!(client.run("CONFIG GET maxmemory"), Array(vec![]));
        assert_eq!(client.run("COMMAND DOCS"), Array(vec![]));
        assert_eq!(client.run("COMMAND"), Array(vec![]));
        assert_eq!(client.run("CLIENT SETNAME bench"), ok());
        assert_eq!(client.run("SELECT 0"), ok());
        assert_eq!(
            client.run("SELECT 1"),
            Reply::Error("ERR DB index is out of range".into())
        );
        assert!(matches!(client.run("INFO"), Bulk(_)));
        assert_eq!(client.run("QUIT"), ok());
        client.expect_closed();
    });
}

#[test]
fn clients_share_one_keyspace() {
    with_server(|addr| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                thread::spawn(move || {
                    let mut client = Client::connect(addr);
                    for _ in 0..100 {
                        assert!(matches!(client.run("INCR shared"), Integer(_)));
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker succeeded");
        }
        assert_eq!(Client::connect(addr).run("GET shared"), bulk("800"));
    });
}

// ---------------------------------------------------------------------------
// Abuse: the server answers with an error or closes, and lives on.

#[test]
fn malformed_requests_get_a_protocol_error_then_the_connection_closes() {
    with_server(|addr| {
        let cases: &[&[u8]] = &[
            b"*abc\r\n",
            b"*1\r\n$99999999999\r\n",
            b"*1\r\n$600000000\r\n",
            b"*2000000\r\n",
            b"*1\r\n$4\r\nPINGxx",
            b"*1\r\nPING\r\n",
            b"*1\r\n$4x\r\nPING\r\n",
            b"*1\r\n$4\rPING",
        ];
        for case in cases {
            let mut client = Client::connect(addr);
            client.send(case);
            client.expect_error("ERR Protocol error");
            client.expect_closed();
            assert_alive(addr);
        }
        let mut client = Client::connect(addr);
        client.send(&vec![b'x'; 100 * 1024]);
        client.expect_error("ERR Protocol error: too big inline request");
        client.expect_closed();
        assert_alive(addr);
    });
}

#[test]
fn a_client_leaving_mid_request_harms_no_one() {
    with_server(|addr| {
        let mut watcher = Client::connect(addr);
        for partial in [
            &b"*2\r\n$3\r\nGET\r\n"[..],
            b"*2\r\n$3\r\nGET\r\n$5\r\nab",
            b"PIN",
        ] {
            let mut client = Client::connect(addr);
            client.send(partial);
            client
                .writer
                .shutdown(Shutdown::Both)
                .expect("close mid-frame");
            drop(client);
            assert_eq!(watcher.run("PING"), Simple("PONG".into()));
            assert_alive(addr);
        }
    });
}

/// This process's peak virtual size and peak resident size, in bytes, from
/// `/proc/self/status` (Linux only).
fn peak_memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some((field("VmPeak:")?, field("VmHWM:")?))
}

#[test]
fn claimed_lengths_are_not_allocated_before_the_bytes_arrive() {
    const CLIENTS: usize = 16;
    const GIB: u64 = 1024 * 1024 * 1024;
    with_server(|addr| {
        // Each client claims a 500 MB value (within the limit) and sends a
        // few bytes of it. A server that reserved what they claim would
        // map 8 GB, and touch it if it zeroed its buffers.
        let clients: Vec<Client> = (0..CLIENTS)
            .map(|_| {
                let mut client = Client::connect(addr);
                client.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n");
                client.send(&[b'v'; 1000]);
                client
            })
            .collect();
        // Time for the server to read the claims (were it too short, the
        // check would only be weaker, never flaky).
        assert_alive(addr);
        thread::sleep(Duration::from_millis(100));
        if let Some((peak_virtual, peak_resident)) = peak_memory() {
            assert!(
                peak_virtual < 4 * GIB && peak_resident < GIB / 4,
                "peak virtual {} MiB, resident {} MiB: the claimed lengths were allocated",
                peak_virtual >> 20,
                peak_resident >> 20
            );
        }
        drop(clients);
        assert_eq!(Client::connect(addr).run("EXISTS k"), Integer(0));
    });
}
