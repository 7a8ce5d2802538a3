//! TCP faults on loopback: resets, half-closes, writes to a closed peer
//! (never a `SIGPIPE`), refused connections and ports in use, unresolvable
//! and malformed names, a full fd table, fds that are close-on-exec and
//! closed exactly once, and sockets that outlive their runtime.
//!
//! Tests that change process-wide state (the `SIGPIPE` disposition, the fd
//! limit) or that must not race other threads for fd numbers run in a child
//! process: the parent re-runs this test binary on one ignored `*_child`
//! test, with [`CHILD_MODE`] set, and checks how it exited.

mod util;

use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::process::{Command, Output};
use std::time::Duration;

use corium::net::{lookup_host, TcpListener, TcpSocket, TcpStream};
use corium::time::sleep;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use futures_util::StreamExt;
use util::net::{ipv6_loopback_available, pair, pattern};
use util::{bounded, build, expect_panic, for_each_flavor, on_every_flavor, poll_once, run};

/// Far beyond what any test here needs: a hang fails instead of blocking.
const LIMIT: Duration = Duration::from_secs(60);

/// The watchdog inside a child process: shorter than the parent's, so a
/// hung child reports its own failure before the parent gives up on it.
const CHILD_LIMIT: Duration = Duration::from_secs(30);

/// The environment variable that makes a `*_child` test do its work (and
/// names the variant); without it those tests return at once.
const CHILD_MODE: &str = "CORIUM_TCP_FAULTS_CHILD";

/// How long to wait before trying again for a peer's RST to arrive: a
/// pause between attempts, not a deadline (`bounded` is the deadline).
const RETRY: Duration = Duration::from_millis(1);

/// Awaits the write expression `$write` (re-evaluated each time) until it
/// fails and gives the error: after the peer is gone, writes succeed only
/// until its RST has arrived.
macro_rules! write_until_error {
    ($write:expr) => {
        loop {
            match $write.await {
                Ok(_) => sleep(RETRY).await,
                Err(e) => break e,
            }
        }
    };
}

/// A write to a peer that is gone fails with one of these two.
#[track_caller]
fn assert_peer_gone(err: &io::Error) {
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "want BrokenPipe or ConnectionReset, got {:?}: {err}",
        err.kind()
    );
}

/// How the peer of [`gone_peer`] goes away.
#[derive(Debug, Clone, Copy)]
enum Gone {
    /// `SO_LINGER` 0 and close: an RST.
    Reset,
    /// A plain close: a FIN, and an RST for whatever arrives after it.
    Closed,
}

/// A connected stream whose peer has gone away as `how` says.
async fn gone_peer(how: Gone) -> TcpStream {
    let (client, server) = pair().await;
    if let Gone::Reset = how {
        server.set_linger(Some(Duration::ZERO)).unwrap();
    }
    drop(server);
    client
}

// ---------------------------------------------------------------------------
// Child processes

/// This process's [`CHILD_MODE`], if it is a child.
fn child_mode() -> Option<String> {
    let mode = std::env::var(CHILD_MODE).ok();
    if mode.is_none() {
        eprintln!("not a child process ({CHILD_MODE} unset): nothing to do");
    }
    mode
}

/// Runs the ignored test `test` of this binary alone in a child process
/// with [`CHILD_MODE`] set to `mode`.
fn run_child(test: &'static str, mode: &'static str) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    bounded(LIMIT, move || {
        Command::new(exe)
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_MODE, mode)
            .output()
            .expect("the child process runs")
    })
}

/// What a child printed, for failure messages.
fn describe(output: &Output) -> String {
    format!(
        "status {:?} (signal {:?})\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        output.status.signal(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `test` in a child and asserts that it ran and passed.
#[track_caller]
fn assert_child_passes(test: &'static str, mode: &'static str) {
    let output = run_child(test, mode);
    assert_ne!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "{test} ({mode}) was killed by SIGPIPE\n{}",
        describe(&output)
    );
    assert!(
        output.status.success(),
        "{test} ({mode}) failed\n{}",
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test\n{}",
        describe(&output)
    );
}

/// Whether `fd` is an open descriptor (`F_GETFD` succeeds; `EBADF` if not).
fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; any number may be
    // passed, and a closed one gives EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags != -1 {
        return true;
    }
    let err = io::Error::last_os_error();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EBADF),
        "F_GETFD({fd}): {err}"
    );
    false
}

/// The descriptors this process has open.
fn open_fds() -> Vec<RawFd> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .map(|entry| {
            entry
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        // The directory's own descriptor is open while it is listed.
        .filter(|&fd| fd_is_open(fd))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

// ---------------------------------------------------------------------------
// Resets and half-closes

#[test]
fn a_reset_peer_fails_the_next_read() {
    on_every_flavor(LIMIT, || async {
        let mut client = gone_peer(Gone::Reset).await;
        let mut buf = [0; 16];
        match client.read(&mut buf).await {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
            // A stack may report the RST as end-of-stream; then the next
            // write must fail.
            Ok(0) => {
                eprintln!("the reset read as EOF");
                let err = write_until_error!(client.write(b"x"));
                assert_peer_gone(&err);
            }
            Ok(n) => panic!("read {n} bytes from a reset peer"),
        }
        // The error is reported once; afterwards the socket reads EOF or
        // errors, and writes fail: it never hangs or yields data.
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("read {n} bytes after a reset"),
        }
        assert_peer_gone(&write_until_error!(client.write(b"x")));
    });
}

#[test]
fn a_reset_wakes_a_waiting_reader() {
    on_every_flavor(LIMIT, || async {
        let (mut client, server) = pair().await;
        let mut buf = [0; 16];
        let mut read = pin!(client.read(&mut buf));
        assert!(poll_once(read.as_mut()).await.is_pending(), "nothing sent");
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        match read.await {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => assert_eq!(n, 0, "a reset peer sent data"),
        }

        // The same for an owned read half in its own task.
        let (client, server) = pair().await;
        let (mut read, _write) = client.into_split();
        let (started_tx, started_rx) = futures_channel::oneshot::channel();
        let reader = corium::spawn(async move {
            let mut buf = [0; 16];
            let mut read = pin!(read.read(&mut buf));
            assert!(poll_once(read.as_mut()).await.is_pending());
            started_tx.send(()).unwrap();
            read.await
        });
        started_rx.await.unwrap();
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        match reader.await.unwrap() {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => assert_eq!(n, 0, "a reset peer sent data"),
        }
    });
}

#[test]
fn a_reset_wakes_a_writer_waiting_on_a_full_buffer() {
    on_every_flavor(LIMIT, || async {
        // Far more than loopback buffers hold, so the writer must wait.
        const SIZE: usize = 64 * 1024 * 1024;
        let (mut client, server) = pair().await;
        let data = vec![7; SIZE];
        let mut write = pin!(client.write_all(&data));
        // Poll until the buffers are full (or the task's budget is spent):
        // the peer reads nothing, so this cannot finish.
        assert!(poll_once(write.as_mut()).await.is_pending());
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        assert_peer_gone(&write.await.expect_err("the peer reset"));
    });
}

#[test]
fn a_read_after_the_peer_half_closed_is_eof_and_writing_back_still_works() {
    on_every_flavor(LIMIT, || async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        assert_eq!(request, b"request");
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "EOF stays EOF");
        // The half-closed side cannot write, and says so.
        assert_peer_gone(&client.write(b"more").await.unwrap_err());

        // The other direction is open: the server answers, the client reads.
        let response = pattern(256 * 1024);
        let (written, read) = futures_util::future::join(
            async {
                server.write_all(&response).await?;
                server.shutdown(Shutdown::Write)
            },
            async {
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.map(|_| got)
            },
        )
        .await;
        written.unwrap();
        assert_eq!(read.unwrap(), response);
    });
}

#[test]
fn half_close_through_owned_halves() {
    on_every_flavor(LIMIT, || async {
        let (client, server) = pair().await;
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        client_write.write_all(b"ping").await.unwrap();
        client_write.shutdown().unwrap();

        let mut got = Vec::new();
        server_read.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ping");
        server_write.write_all(b"pong").await.unwrap();
        drop(server_write);
        let mut got = Vec::new();
        client_read.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"pong");
        // The client's write half was shut down explicitly; dropping it now
        // shuts down again, harmlessly.
        drop(client_write);
    });
}

// ---------------------------------------------------------------------------
// SIGPIPE

#[test]
fn writes_to_a_closed_peer_fail_without_sigpipe() {
    assert_child_passes("sigpipe_child", "send");
}

#[test]
fn vectored_writes_to_a_closed_peer_fail_without_sigpipe() {
    assert_child_passes("sigpipe_child", "sendmsg");
}

#[test]
fn the_sigpipe_check_sees_a_sigpipe_death() {
    // The control: a plain `write(2)` in the same setup is killed, so the
    // tests above would see it if the sends raised SIGPIPE.
    let output = run_child("sigpipe_child", "control");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "the control was not killed by SIGPIPE\n{}",
        describe(&output)
    );
}

#[test]
#[ignore = "a child process of the SIGPIPE tests: run by them"]
fn sigpipe_child() {
    let Some(mode) = child_mode() else { return };
    // Rust programs start with SIGPIPE ignored; a host program (or a C
    // caller) may have restored the default, which kills the process.
    // SAFETY: SIG_DFL is a valid disposition, and nothing in this process
    // relies on SIGPIPE being ignored except what is under test.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);

    for_each_flavor(|flavor| {
        let mode = mode.clone();
        bounded(CHILD_LIMIT, move || {
            run(build(flavor), async move {
                for how in [Gone::Reset, Gone::Closed] {
                    eprintln!("peer {how:?}, mode {mode}");
                    match mode.as_str() {
                        "send" => sends_to_a_gone_peer(how).await,
                        "sendmsg" => vectored_sends_to_a_gone_peer(how).await,
                        "control" => raw_writes_to_a_gone_peer(how).await,
                        other => panic!("unknown mode {other}"),
                    }
                }
            })
        })
    });
}

/// Every plain-send path: `write`, `write_all`, `try_write`, the owned
/// half, and `AsyncWrite::poll_write`.
async fn sends_to_a_gone_peer(how: Gone) {
    let chunk = [1; 1024];
    let mut stream = gone_peer(how).await;
    let err = write_until_error!(stream.write(&chunk));
    assert_peer_gone(&err);
    // Every later write fails too (EPIPE, the one that raises SIGPIPE).
    for _ in 0..3 {
        assert_peer_gone(&stream.write(&chunk).await.unwrap_err());
        assert_peer_gone(&stream.write_all(&chunk).await.unwrap_err());
    }

    let stream = gone_peer(how).await;
    let err = loop {
        stream.writable().await.unwrap();
        match stream.try_write(&chunk) {
            Ok(_) => sleep(RETRY).await,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => break e,
        }
    };
    assert_peer_gone(&err);
    assert_peer_gone(&stream.try_write(&chunk).unwrap_err());

    let (_read, mut write) = gone_peer(how).await.into_split();
    assert_peer_gone(&write_until_error!(write.write(&chunk)));
    assert_peer_gone(&write.write_all(&chunk).await.unwrap_err());

    let mut stream = gone_peer(how).await;
    assert_peer_gone(&write_until_error!(AsyncWriteExt::write(
        &mut stream,
        &chunk
    )));
    assert_peer_gone(
        &AsyncWriteExt::write_all(&mut stream, &chunk)
            .await
            .unwrap_err(),
    );
}

/// Every vectored path (`sendmsg`): the stream, both halves, and
/// `AsyncWrite::poll_write_vectored`.
async fn vectored_sends_to_a_gone_peer(how: Gone) {
    let (a, b) = ([1; 512], [2; 512]);
    let slices = [IoSlice::new(&a), IoSlice::new(&b)];

    let mut stream = gone_peer(how).await;
    assert_peer_gone(&write_until_error!(stream.write_vectored(&slices)));
    for _ in 0..3 {
        assert_peer_gone(&stream.write_vectored(&slices).await.unwrap_err());
    }

    let mut stream = gone_peer(how).await;
    let (_read, mut write) = TcpStream::split(&mut stream);
    assert_peer_gone(&write_until_error!(write.write_vectored(&slices)));
    assert_peer_gone(&write.write_vectored(&slices).await.unwrap_err());

    let (_read, mut write) = gone_peer(how).await.into_split();
    assert_peer_gone(&write_until_error!(write.write_vectored(&slices)));
    assert_peer_gone(&write.write_vectored(&slices).await.unwrap_err());

    let mut stream = gone_peer(how).await;
    assert_peer_gone(&write_until_error!(AsyncWriteExt::write_vectored(
        &mut stream,
        &slices
    )));
    assert_peer_gone(
        &AsyncWriteExt::write_vectored(&mut stream, &slices)
            .await
            .unwrap_err(),
    );
}

/// The control: `write(2)`, which has no `MSG_NOSIGNAL`, on the same kind
/// of socket. With SIGPIPE at its default this kills the process.
async fn raw_writes_to_a_gone_peer(how: Gone) {
    let stream = gone_peer(how).await;
    let fd = stream.as_raw_fd();
    loop {
        // SAFETY: `stream` keeps `fd` open; the buffer is valid for 1 byte.
        let n = unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
        if n == -1 {
            // EPIPE without a SIGPIPE would mean the control proves nothing.
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::ConnectionReset {
                continue; // the RST itself; the next write is the EPIPE
            }
            panic!("write(2) failed without killing the process: {err}");
        }
        sleep(RETRY).await;
    }
}

// ---------------------------------------------------------------------------
// Refused and unresolvable

/// The address of a port nobody listens on (a listener's, after it closed).
fn closed_port(bind: &str) -> SocketAddr {
    let listener = std::net::TcpListener::bind(bind).unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    on_every_flavor(LIMIT, || async {
        let addr = closed_port("127.0.0.1:0");
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

        // With every address refused, the last error is the one returned.
        let err = TcpStream::connect(&[addr, closed_port("127.0.0.1:0")][..])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

        if ipv6_loopback_available() {
            let err = TcpStream::connect(closed_port("[::1]:0"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        }
    });
}

#[test]
fn binding_a_port_with_a_listener_is_refused() {
    on_every_flavor(LIMIT, || async {
        // `bind` sets SO_REUSEADDR, which on Linux still refuses a second
        // listener on a port (that takes SO_REUSEPORT on both).
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        let socket = TcpSocket::new_v4().unwrap();
        let err = socket.bind(addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn an_unresolvable_host_name_is_an_error() {
    on_every_flavor(LIMIT, || async {
        // `.invalid` is reserved never to resolve (RFC 2606). The three
        // run at once, so a slow resolver costs one timeout, not three.
        const HOST: &str = "nonexistent.invalid";
        let (lookup, connect, bind) = futures_util::future::join3(
            lookup_host((HOST, 80)),
            TcpStream::connect((HOST, 80)),
            TcpListener::bind((HOST, 0)),
        )
        .await;
        if let Ok(addrs) = lookup {
            // Some resolvers answer for every name (NXDOMAIN rewriting).
            let addrs: Vec<_> = addrs.collect();
            eprintln!("skipped: this resolver answers for {HOST}: {addrs:?}");
            return;
        }
        let err = connect.expect_err("no address to connect to");
        eprintln!("connect: {err}");
        bind.expect_err("no address to bind");
    });
}

#[test]
fn malformed_and_empty_addresses_are_errors() {
    on_every_flavor(LIMIT, || async {
        // No port: the resolver rejects it.
        let err = lookup_host("localhost").await.err().expect("no port");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // No addresses at all.
        let none: &[SocketAddr] = &[];
        let err = TcpStream::connect(none).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let err = TcpListener::bind(none).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    });
}

// ---------------------------------------------------------------------------
// A full fd table

#[test]
fn accept_with_a_full_fd_table_fails_then_recovers() {
    assert_child_passes("accept_emfile_child", "emfile");
}

#[test]
#[ignore = "a child process of accept_with_a_full_fd_table_fails_then_recovers"]
fn accept_emfile_child() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    use std::io::Write;

    if child_mode().is_none() {
        return;
    }
    for_each_flavor(|flavor| {
        bounded(CHILD_LIMIT, move || {
            run(build(flavor), async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // Queued before the table fills: a loopback connect
                // completes in the kernel's accept queue.
                let mut queued = std::net::TcpStream::connect(addr).unwrap();
                queued.write_all(b"q").unwrap();

                // Lower the limit to just above the highest open fd, then
                // take every number left.
                let saved = getrlimit(Resource::Nofile);
                let highest = *open_fds().iter().max().unwrap() as u64;
                let mut lowered = saved;
                lowered.current = Some(highest + 1 + 8);
                setrlimit(Resource::Nofile, lowered).unwrap();
                let mut filler = Vec::new();
                let full = loop {
                    match std::fs::File::open("/dev/null") {
                        Ok(file) => filler.push(file),
                        Err(e) => break e,
                    }
                };
                assert_eq!(full.raw_os_error(), Some(libc::EMFILE), "{full}");

                let is_fd_table_full =
                    |e: &io::Error| matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                let err = listener.accept().await.expect_err("no fd for it");
                assert!(is_fd_table_full(&err), "{err}");
                // Asking again fails again at once: the error is not turned
                // into a wait that never ends.
                let err = listener.accept().await.expect_err("no fd for it");
                assert!(is_fd_table_full(&err), "{err}");
                let err = TcpStream::connect(addr).await.expect_err("no fd for it");
                assert!(is_fd_table_full(&err), "{err}");
                // `incoming` yields the error rather than ending or waiting.
                let next = listener.incoming().next().await;
                let err = next.expect("never ends").expect_err("no fd for it");
                assert!(is_fd_table_full(&err), "{err}");

                // Room again: the queued connection is accepted, intact.
                filler.truncate(filler.len() - 2);
                let (mut stream, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, queued.local_addr().unwrap());
                let mut byte = [0; 1];
                stream.read_exact(&mut byte).await.unwrap();
                assert_eq!(&byte, b"q");

                drop(filler);
                setrlimit(Resource::Nofile, saved).unwrap();
            })
        })
    });
}

// ---------------------------------------------------------------------------
// Closing fds

#[test]
fn every_socket_is_close_on_exec() {
    // A child process (these tests spawn some) must not inherit sockets:
    // an inherited socket keeps a connection open after its owner closed
    // it, so the peer never sees EOF.
    fn cloexec(fd: &impl AsFd) -> bool {
        rustix::io::fcntl_getfd(fd)
            .expect("F_GETFD")
            .contains(rustix::io::FdFlags::CLOEXEC)
    }
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert!(cloexec(&listener), "a bound listener");
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
        assert!(cloexec(&client.unwrap()), "a connected stream");
        assert!(cloexec(&accepted.unwrap().0), "an accepted stream");
        let socket = TcpSocket::new_v4().unwrap();
        assert!(cloexec(&socket), "a new TcpSocket");
        let stream = socket.connect(addr).await.unwrap();
        assert!(cloexec(&stream), "a stream made by TcpSocket");
        if ipv6_loopback_available() {
            assert!(cloexec(&TcpSocket::new_v6().unwrap()), "a v6 TcpSocket");
        }
    });
}

#[test]
fn every_socket_closes_its_fd_exactly_once() {
    assert_child_passes("fd_close_child", "close");
}

#[test]
#[ignore = "a child process of every_socket_closes_its_fd_exactly_once"]
fn fd_close_child() {
    if child_mode().is_none() {
        return;
    }
    // This child runs one test on one thread, and the runtimes below open
    // no descriptors on other threads, so no one else can take a closed
    // fd's number between a drop and the check.
    for_each_flavor(|flavor| {
        let before = open_fds();
        // A descriptor opened after each close: if the number is reused and
        // anything closes the old fd a second time later, it closes this.
        let mut sentinels = Vec::new();
        let mut check_closed = |fd: RawFd, what: &str| {
            assert!(!fd_is_open(fd), "{what}: fd {fd} still open");
            sentinels.push(std::fs::File::open("/dev/null").unwrap());
        };
        let runtime = build(flavor);
        runtime.block_on(async {
            let (client, _server) = pair().await;
            let fd = client.as_raw_fd();
            assert!(fd_is_open(fd));
            drop(client);
            check_closed(fd, "a dropped stream");

            let (client, _server) = pair().await;
            let fd = client.as_raw_fd();
            let (read, write) = client.into_split();
            drop(write);
            assert!(fd_is_open(fd), "the read half still owns the fd");
            drop(read);
            check_closed(fd, "both owned halves dropped, write first");

            let (client, _server) = pair().await;
            let fd = client.as_raw_fd();
            let (read, write) = client.into_split();
            drop(read);
            assert!(fd_is_open(fd), "the write half still owns the fd");
            drop(write);
            check_closed(fd, "both owned halves dropped, read first");

            let (client, _server) = pair().await;
            let fd = client.as_raw_fd();
            let (read, write) = client.into_split();
            let client = read.reunite(write).unwrap();
            assert_eq!(client.as_raw_fd(), fd);
            drop(client);
            check_closed(fd, "a reunited stream");

            let (a, _a_peer) = pair().await;
            let (b, _b_peer) = pair().await;
            let (a_fd, b_fd) = (a.as_raw_fd(), b.as_raw_fd());
            let (a_read, _a_write) = a.into_split();
            let (_b_read, b_write) = b.into_split();
            let err = a_read.reunite(b_write).unwrap_err();
            drop(err);
            assert!(
                fd_is_open(a_fd) && fd_is_open(b_fd),
                "other halves own them"
            );

            let (client, _server) = pair().await;
            let fd = client.as_raw_fd();
            let std_stream = client.into_std().unwrap();
            assert_eq!(std_stream.as_raw_fd(), fd);
            assert!(fd_is_open(fd), "into_std hands the fd over");
            drop(std_stream);
            check_closed(fd, "a stream given to std");

            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let fd = listener.as_raw_fd();
            drop(listener);
            check_closed(fd, "a dropped listener");

            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let fd = listener.as_raw_fd();
            let std_listener = listener.into_std().unwrap();
            assert!(fd_is_open(fd), "into_std hands the fd over");
            drop(std_listener);
            check_closed(fd, "a listener given to std");

            let socket = TcpSocket::new_v4().unwrap();
            let fd = socket.as_raw_fd();
            drop(socket);
            check_closed(fd, "a dropped TcpSocket");

            let socket = TcpSocket::new_v4().unwrap();
            let fd = socket.as_raw_fd();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let listener = socket.listen(16).unwrap();
            assert_eq!(listener.as_raw_fd(), fd, "listen keeps the socket");
            drop(listener);
            check_closed(fd, "a listener made by TcpSocket");

            // Failures close what they opened.
            for _ in 0..8 {
                let refused = closed_port("127.0.0.1:0");
                TcpStream::connect(refused).await.unwrap_err();
                TcpSocket::new_v4()
                    .unwrap()
                    .connect(refused)
                    .await
                    .unwrap_err();
            }
        });
        drop(runtime);
        for sentinel in &sentinels {
            assert!(
                fd_is_open(sentinel.as_raw_fd()),
                "a closed fd's number was closed again later"
            );
        }
        drop(sentinels);
        assert_eq!(open_fds(), before, "no fd leaked");
    });
}

// ---------------------------------------------------------------------------
// The runtime is gone

#[test]
fn io_after_the_runtime_is_gone_is_an_error() {
    for_each_flavor(|flavor| {
        bounded(LIMIT, move || {
            let runtime = build(flavor);
            let (mut client, server, listener) = runtime.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let (client, server) = pair().await;
                (client, server, listener)
            });
            let (split_client, _peer) = runtime.block_on(pair());
            let (mut read, mut write) = split_client.into_split();
            drop(runtime);

            let other = build(flavor);
            other.block_on(async {
                let is_gone = |e: &io::Error| e.to_string().contains("shut down");
                let mut buf = [0; 8];
                let err = client.read(&mut buf).await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.write(b"x").await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.write_all(b"x").await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.peek(&mut buf).await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.readable().await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.writable().await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = client.try_read(&mut buf).unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = AsyncReadExt::read(&mut client, &mut buf).await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = listener.accept().await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = read.read(&mut buf).await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                let err = write.write_all(b"x").await.unwrap_err();
                assert!(is_gone(&err), "{err}");
                // Plain socket calls need no reactor.
                assert!(client.local_addr().is_ok());
                client.set_nodelay(true).unwrap();
            });
            // Dropping them now deregisters from a gone reactor: no panic.
            drop((client, server, listener, read, write));
            drop(other);
        });
    });
}

#[test]
fn dropping_the_runtime_closes_the_sockets_its_tasks_own() {
    use std::io::Read;
    for_each_flavor(|flavor| {
        bounded(LIMIT, move || {
            let peer_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let runtime = build(flavor);
            let listening = runtime.block_on(async {
                let stream = TcpStream::connect(peer_listener.local_addr().unwrap())
                    .await
                    .unwrap();
                // One task waits in a read the peer never answers, another
                // in an accept nobody connects to.
                corium::spawn(async move {
                    let mut stream = stream;
                    let _ = stream.read(&mut [0; 1]).await;
                });
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let listening = listener.local_addr().unwrap();
                corium::spawn(async move {
                    let _ = listener.accept().await;
                });
                corium::task::yield_now().await;
                listening
            });
            let (mut peer, _) = peer_listener.accept().unwrap();
            drop(runtime);

            // The tasks were dropped with the runtime, their sockets too.
            let mut buf = [0; 1];
            assert_eq!(peer.read(&mut buf).unwrap(), 0, "the peer sees EOF");
            let err = std::net::TcpStream::connect(listening).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        });
    });
}

#[test]
fn shutting_down_the_read_side_ends_a_waiting_read() {
    on_every_flavor(LIMIT, || async {
        let (client, _server) = pair().await;
        let fd = client.as_raw_fd();
        let (mut read, _write) = client.into_split();
        let (waiting_tx, waiting_rx) = futures_channel::oneshot::channel();
        let reader = corium::spawn(async move {
            let mut buf = [0; 8];
            let mut read = pin!(read.read(&mut buf));
            assert!(poll_once(read.as_mut()).await.is_pending(), "nothing sent");
            waiting_tx.send(()).unwrap();
            read.await
        });
        waiting_rx.await.unwrap();
        // The halves have no `shutdown(Read)`; the socket is the same one.
        // SAFETY: `_write` owns the stream and so keeps `fd` open.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        rustix::net::shutdown(fd, rustix::net::Shutdown::Read).unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), 0, "EOF after SHUT_RD");
    });
}

#[test]
fn sockets_made_outside_a_runtime_panic_with_directions() {
    let message = expect_panic(|| {
        let std_stream = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap()
        };
        TcpStream::from_std(std_stream)
    });
    assert!(message.contains("no Corium runtime"), "{message}");
    let message = expect_panic(|| {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        TcpListener::from_std(std_listener)
    });
    assert!(message.contains("no Corium runtime"), "{message}");
}
