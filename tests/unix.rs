//! Unix sockets: stream round trips on both kinds of halves, half-close,
//! connect errors and a full accept queue, writes to a closed peer (an
//! error, never a `SIGPIPE`), and datagrams between bound paths.

mod util;

use std::future::{poll_fn, Future};
use std::io::{ErrorKind, IoSlice};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use corium::io::AsyncWrite;
use corium::net::unix::{OwnedReadHalf, ReadHalf};
use corium::net::{UnixDatagram, UnixListener, UnixStream};
use corium::time::timeout;
use futures_util::future::join;
use util::{bounded, build, for_each_flavor, run};

/// Far beyond what any test here needs: a hang fails, it never blocks CI.
const LIMIT: Duration = Duration::from_secs(30);

/// How long a wait that must not complete is given to prove it.
const QUIET: Duration = Duration::from_millis(50);

/// How long an operation that must finish "promptly" may take.
const PROMPT: Duration = Duration::from_secs(2);

/// Runs the async test on a runtime of every flavor, under the watchdog.
fn check<F: Future<Output = ()> + 'static>(test: fn() -> F) {
    for_each_flavor(|flavor| bounded(LIMIT, move || run(build(flavor), test())));
}

/// A fresh directory under the system temp dir, removed on drop (also when
/// the test panics).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "corium-unix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Test data whose every byte depends on its position.
fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

const SIZES: [usize; 5] = [1, 1000, 64 * 1024, 300_000, 1 << 20];

/// Writes back everything `stream` reads; at end-of-stream shuts down its
/// write side.
async fn echo(mut stream: UnixStream) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await.expect("echo reads") {
            0 => break,
            n => stream.write_all(&buf[..n]).await.expect("echo writes"),
        }
    }
    stream.shutdown(Shutdown::Write).expect("echo shuts down");
}

async fn read_to_end_borrowed(half: &mut ReadHalf<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match half.read(&mut buf).await.expect("reads") {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

async fn read_to_end_owned(half: &mut OwnedReadHalf) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match half.read(&mut buf).await.expect("reads") {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn round_trips_from_one_byte_to_one_mib_on_borrowed_halves() {
    check(|| async {
        for len in SIZES {
            let (mut client, server) = UnixStream::pair().unwrap();
            corium::spawn(echo(server));
            let sent = data(len);
            let (mut reader, mut writer) = client.split();
            let write = async {
                writer.write_all(&sent).await.unwrap();
                writer.shutdown().unwrap();
            };
            let ((), echoed) = join(write, read_to_end_borrowed(&mut reader)).await;
            assert_eq!(echoed.len(), len);
            assert!(echoed == sent, "echo of {len} bytes differs");
        }
    });
}

#[test]
fn round_trips_from_one_byte_to_one_mib_on_owned_halves_over_a_path() {
    check(|| async {
        let dir = TempDir::new();
        let path = dir.join("echo.sock");
        let listener = UnixListener::bind(&path).unwrap();
        corium::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.expect("accepts");
                corium::spawn(echo(stream));
            }
        });
        for len in SIZES {
            let client = UnixStream::connect(&path).await.unwrap();
            let (mut reader, mut writer) = client.into_split();
            let sent = data(len);
            let expected = sent.clone();
            // Dropping the owned write half shuts down the write side.
            let writer = corium::spawn(async move { writer.write_all(&sent).await });
            let echoed = read_to_end_owned(&mut reader).await;
            writer.await.unwrap().unwrap();
            assert_eq!(echoed.len(), len);
            assert!(echoed == expected, "echo of {len} bytes differs");
        }
    });
}

#[test]
fn pair_is_connected_both_ways_with_unnamed_addresses() {
    check(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let mut buf = [0; 8];
        a.write_all(b"to b").await.unwrap();
        b.read_exact(&mut buf[..4]).await.unwrap();
        assert_eq!(&buf[..4], b"to b");
        let bufs = [IoSlice::new(b"to"), IoSlice::new(b" a")];
        assert_eq!(b.write_vectored(&bufs).await.unwrap(), 4);
        assert_eq!(a.peek(&mut buf).await.unwrap(), 4);
        a.read_exact(&mut buf[..4]).await.unwrap();
        assert_eq!(&buf[..4], b"to a");
        assert!(a.peer_addr().unwrap().is_unnamed());
        assert!(b.local_addr().unwrap().is_unnamed());
        assert!(format!("{a:?}").contains("UnixStream"));
    });
}

#[test]
fn listener_accepts_and_reports_addresses() {
    check(|| async {
        let dir = TempDir::new();
        let path = dir.join("listener.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, from) = listener.accept().await.unwrap();
        assert!(from.is_unnamed(), "an unbound client is unnamed");
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&*path));
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(&*path));
        assert_eq!(
            UnixListener::bind(&path).unwrap_err().kind(),
            ErrorKind::AddrInUse
        );

        let std_listener = listener.into_std().unwrap();
        let flags = rustix::fs::fcntl_getfl(&std_listener).unwrap();
        assert!(!flags.contains(rustix::fs::OFlags::NONBLOCK));
        let listener = UnixListener::from_std(std_listener).unwrap();
        let _client = UnixStream::connect(&path).await.unwrap();
        poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    });
}

#[test]
fn half_close_lets_the_peer_read_eof_and_still_write_back() {
    check(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"last words").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0; 32];
        b.read_exact(&mut buf[..10]).await.unwrap();
        assert_eq!(&buf[..10], b"last words");
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "end-of-stream");
        b.write_all(b"still here").await.unwrap();
        a.read_exact(&mut buf[..10]).await.unwrap();
        assert_eq!(&buf[..10], b"still here");

        // `AsyncWrite::poll_close` is the same half-close.
        let (mut c, mut d) = UnixStream::pair().unwrap();
        poll_fn(|cx| Pin::new(&mut c).poll_close(cx)).await.unwrap();
        assert_eq!(d.read(&mut buf).await.unwrap(), 0);
        d.write_all(b"ok").await.unwrap();
        c.read_exact(&mut buf[..2]).await.unwrap();
        assert_eq!(&buf[..2], b"ok");
    });
}

#[test]
fn peer_close_reads_as_eof() {
    check(|| async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let reader = corium::spawn(async move {
            let mut buf = [0; 8];
            a.read(&mut buf).await
        });
        corium::time::sleep(Duration::from_millis(10)).await;
        drop(b);
        let n = timeout(PROMPT, reader).await.expect("woken by the close");
        assert_eq!(n.unwrap().unwrap(), 0);
    });
}

#[test]
fn connect_to_a_missing_path_is_not_found_promptly() {
    check(|| async {
        let dir = TempDir::new();
        let connect = UnixStream::connect(dir.join("missing.sock"));
        let err = timeout(PROMPT, connect).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn connect_without_a_listener_is_refused_promptly() {
    check(|| async {
        let dir = TempDir::new();
        let path = dir.join("closed.sock");
        drop(UnixListener::bind(&path).unwrap()); // the socket file stays
        let err = timeout(PROMPT, UnixStream::connect(&path))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

/// A non-blocking connect to a listener whose accept queue is full fails
/// with `EAGAIN` on Linux; `connect` waits for room instead.
#[test]
fn connect_waits_while_the_accept_queue_is_full() {
    check(|| async {
        let dir = TempDir::new();
        let path = dir.join("full.sock");
        let listener = UnixListener::bind(&path).unwrap();
        rustix::net::listen(&listener, 0).unwrap();
        let queued = fill_accept_queue(&path);

        let mut connect = pin!(UnixStream::connect(&path));
        assert!(
            timeout(QUIET, connect.as_mut()).await.is_err(),
            "connect waits while the queue is full"
        );
        listener.accept().await.unwrap();
        let stream = timeout(PROMPT, connect)
            .await
            .expect("connects once there is room");
        stream.unwrap();
        drop(queued);
    });
}

/// Connects raw non-blocking sockets to `path` until the listener's queue
/// refuses one; returns them (they hold their places in the queue).
fn fill_accept_queue(path: &Path) -> Vec<std::os::fd::OwnedFd> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let addr = SocketAddrUnix::new(path).unwrap();
    let mut queued = Vec::new();
    for _ in 0..1000 {
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => queued.push(fd),
            Err(rustix::io::Errno::AGAIN) => return queued,
            Err(e) => panic!("connect while filling the queue: {e}"),
        }
    }
    panic!("the accept queue never filled");
}

#[test]
fn owned_halves_reunite_only_with_their_own() {
    check(|| async {
        let (a, _peer_a) = UnixStream::pair().unwrap();
        let (b, _peer_b) = UnixStream::pair().unwrap();
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let err = a_read.reunite(b_write).unwrap_err();
        let (a_read, b_write) = (err.0, err.1);
        let mut a = a_read.reunite(a_write).unwrap();
        let _b = b_write.reunite(b_read).unwrap();
        // Reuniting did not shut down the write side.
        a.write_all(b"x").await.unwrap();
    });
}

#[test]
fn try_read_and_try_write_follow_readiness() {
    check(|| async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0; 8];
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"hey").unwrap(), 3);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 3);
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert!(
            timeout(QUIET, b.readable()).await.is_err(),
            "readiness cleared"
        );
        let ready = b.ready(corium::io::Interest::Writable).await.unwrap();
        assert!(ready.is_writable());
    });
}

/// The scenarios of the `SIGPIPE` tests run in a child process (this test
/// binary again, selected by this variable) with `SIGPIPE` at its default
/// action, which kills: Rust programs ignore `SIGPIPE`, which would hide a
/// missing `MSG_NOSIGNAL`.
const SIGPIPE_CHILD: &str = "CORIUM_TEST_SIGPIPE_CHILD";
const SIGPIPE_DONE: &str = "sigpipe scenario finished";

/// Runs `scenario` in a child with `SIGPIPE` at its default action when
/// this is the child; in the parent, runs the child on test `name` and
/// returns its exit status and stderr.
fn in_sigpipe_child(
    name: &str,
    scenario: impl FnOnce() + Send + 'static,
) -> Option<(std::process::ExitStatus, String)> {
    if std::env::var_os(SIGPIPE_CHILD).is_some() {
        sigpipe::restore_default();
        bounded(LIMIT, scenario);
        eprintln!("{SIGPIPE_DONE}");
        return None;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(SIGPIPE_CHILD, "1")
        .output()
        .expect("runs the test binary");
    Some((
        output.status,
        String::from_utf8_lossy(&output.stderr).into(),
    ))
}

/// Writes to a closed peer through every write path are `BrokenPipe`
/// errors, and no `SIGPIPE` kills the child.
#[test]
fn write_to_a_closed_peer_is_broken_pipe_not_sigpipe() {
    let Some((status, stderr)) =
        in_sigpipe_child("write_to_a_closed_peer_is_broken_pipe_not_sigpipe", || {
            run(
                build(corium::runtime::Builder::new_current_thread),
                broken_pipe_writes(),
            )
        })
    else {
        return;
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        None,
        "the child was killed by a signal (SIGPIPE is 13); stderr:\n{stderr}"
    );
    assert!(status.success(), "the child failed; stderr:\n{stderr}");
    assert!(
        stderr.contains(SIGPIPE_DONE),
        "the scenario did not run; stderr:\n{stderr}"
    );
}

/// The check above can fail: a send without `MSG_NOSIGNAL` kills the child.
#[test]
fn the_sigpipe_check_catches_a_send_without_nosignal() {
    let Some((status, stderr)) =
        in_sigpipe_child("the_sigpipe_check_catches_a_send_without_nosignal", || {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            drop(b);
            let _ = rustix::net::send(&a, b"x", rustix::net::SendFlags::empty());
        })
    else {
        return;
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(13),
        "not killed by SIGPIPE; stderr:\n{stderr}"
    );
    assert!(!stderr.contains(SIGPIPE_DONE));
}

async fn broken_pipe_writes() {
    fn is_broken_pipe(result: std::io::Result<impl std::fmt::Debug>) {
        let err = result.expect_err("a write to a closed peer fails");
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
    }
    let (mut a, b) = UnixStream::pair().unwrap();
    drop(b);
    is_broken_pipe(a.write(b"x").await);
    is_broken_pipe(a.write_all(b"x").await);
    is_broken_pipe(a.write_vectored(&[IoSlice::new(b"x")]).await);
    a.writable().await.unwrap();
    is_broken_pipe(a.try_write(b"x"));
    is_broken_pipe(poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"x")).await);
    {
        let (_, mut writer) = a.split();
        is_broken_pipe(writer.write(b"x").await);
        is_broken_pipe(writer.write_vectored(&[IoSlice::new(b"x")]).await);
    }
    let (_, mut writer) = a.into_split();
    is_broken_pipe(writer.write_all(b"x").await);

    // Datagram sockets never raise `SIGPIPE`, but the error is the same.
    let (a, _b) = UnixDatagram::pair().unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    is_broken_pipe(a.send(b"x").await);
}

/// Restoring `SIGPIPE`'s default action, through libc's `signal`, which
/// every Rust program on Linux links.
mod sigpipe {
    use std::ffi::c_int;

    /// `SIGPIPE` on Linux, on every architecture.
    const SIGPIPE: c_int = 13;
    /// `SIG_DFL`: the default action.
    const SIG_DFL: usize = 0;

    extern "C" {
        fn signal(signum: c_int, handler: usize) -> usize;
    }

    pub fn restore_default() {
        // SAFETY: installing the default action for one signal; no handler
        // code of ours runs, and the test process is ours.
        let previous = unsafe { signal(SIGPIPE, SIG_DFL) };
        assert_ne!(previous, usize::MAX, "signal(SIGPIPE, SIG_DFL) failed");
    }
}

#[test]
fn datagrams_round_trip_between_bound_paths() {
    check(|| async {
        let dir = TempDir::new();
        let (a_path, b_path) = (dir.join("a.sock"), dir.join("b.sock"));
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        assert_eq!(a.local_addr().unwrap().as_pathname(), Some(&*a_path));
        let mut buf = vec![0; 65_536];
        for len in [1, 100, 4096, 60_000] {
            let sent = data(len);
            assert_eq!(a.send_to(&sent, &b_path).await.unwrap(), len);
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(from.as_pathname(), Some(&*a_path));
            assert!(n == len && buf[..n] == sent[..], "datagram of {len} bytes");
            let reply_to = from.as_pathname().unwrap();
            assert_eq!(b.send_to(&buf[..n], reply_to).await.unwrap(), len);
            let n = a.recv(&mut buf).await.unwrap();
            assert!(n == len && buf[..n] == sent[..], "reply of {len} bytes");
        }
        let err = a.send_to(b"x", dir.join("missing.sock")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn connected_datagrams_send_and_recv() {
    check(|| async {
        let dir = TempDir::new();
        let server_path = dir.join("server.sock");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        assert_eq!(
            client.peer_addr().unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        client.connect(&server_path).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(&*server_path)
        );
        client.send(b"hello").await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert!(from.is_unnamed(), "an unbound sender is unnamed");

        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        a.send(b"two").await.unwrap();
        // A datagram shorter than the buffer keeps the socket readable.
        for expected in [&b"one"[..], b"two"] {
            let n = timeout(PROMPT, b.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], expected);
        }
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert!(
            timeout(QUIET, b.readable()).await.is_err(),
            "nothing to read"
        );
        a.writable().await.unwrap();
        assert_eq!(a.try_send(b"now").unwrap(), 3);
        b.readable().await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
        assert!(format!("{a:?}").contains("UnixDatagram"));
        let fd = a.as_fd();
        assert!(rustix::fs::fcntl_getfl(fd)
            .unwrap()
            .contains(rustix::fs::OFlags::NONBLOCK));
    });
}

/// Losing `Send`, `Sync` or `Unpin` fails here, not in a user's build.
#[test]
fn unix_types_and_their_futures_are_send() {
    use corium::net::unix::{OwnedWriteHalf, ReuniteError, WriteHalf};
    fn assert_send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync_unpin::<UnixStream>();
    assert_send_sync_unpin::<UnixListener>();
    assert_send_sync_unpin::<UnixDatagram>();
    assert_send_sync_unpin::<OwnedReadHalf>();
    assert_send_sync_unpin::<OwnedWriteHalf>();
    assert_send_sync_unpin::<ReadHalf<'static>>();
    assert_send_sync_unpin::<WriteHalf<'static>>();
    assert_send_sync_unpin::<ReuniteError>();
    assert_send(&UnixStream::connect("/nonexistent"));
    bounded(LIMIT, || {
        run(build(corium::runtime::Builder::new_current_thread), async {
            let (mut a, _b) = UnixStream::pair().unwrap();
            assert_send(&a.write_all(b"x"));
            let (d, _e) = UnixDatagram::pair().unwrap();
            assert_send(&d.send_to(b"x", "/nonexistent"));
        })
    });
}

/// `accept` names the peer by its bound path, also when the peer has
/// closed before the accept.
#[test]
fn accept_names_a_bound_peer_even_after_it_closed() {
    check(|| async {
        use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
        let dir = TempDir::new();
        let (path, client_path) = (dir.join("server.sock"), dir.join("client.sock"));
        let listener = UnixListener::bind(&path).unwrap();
        let client = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::net::bind(&client, &SocketAddrUnix::new(&client_path).unwrap()).unwrap();
        rustix::net::connect(&client, &SocketAddrUnix::new(&path).unwrap()).unwrap();
        drop(client);
        let accepted = timeout(PROMPT, listener.accept()).await.unwrap();
        let (mut server, from) = accepted.unwrap();
        assert_eq!(from.as_pathname(), Some(&*client_path));
        assert_eq!(
            server.peer_addr().unwrap().as_pathname(),
            Some(&*client_path)
        );
        assert_eq!(server.read(&mut [0; 4]).await.unwrap(), 0);
    });
}
