//! Loopback helpers for the socket tests: an echo server, connected pairs,
//! test data whose every byte depends on its position, and the fd limit.

use std::net::SocketAddr;

use corium::net::{TcpListener, TcpStream};

/// Starts an echo server on `127.0.0.1` in the current runtime and returns
/// its address. Every connection gets its own task, which writes back what
/// it reads and shuts down its write side at end-of-stream, so a client can
/// `read_to_end` the echo. The server lives as long as the runtime.
///
/// # Panics
/// Outside a Corium runtime.
pub async fn spawn_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("echo server binds");
    let addr = listener.local_addr().expect("echo server has an address");
    corium::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // A failing accept (a full fd table) would spin here; the
                // test that caused it sees its connections go unanswered.
                Err(e) => {
                    eprintln!("echo server: accept failed, stopping: {e}");
                    return;
                }
            };
            corium::spawn(echo(stream));
        }
    });
    addr
}

/// Writes back everything `stream` reads; at end-of-stream shuts down the
/// write side. I/O errors end the echo (the test on the other end reports).
pub async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// A connected loopback pair, `(client, server)`, on `127.0.0.1`.
pub async fn pair() -> (TcpStream, TcpStream) {
    pair_on("127.0.0.1:0").await
}

/// A connected pair, `(client, server)`, on a listener bound to `bind`.
pub async fn pair_on(bind: &str) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(bind).await.expect("listener binds");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) =
        futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
    let client = client.expect("connects");
    let (server, peer) = accepted.expect("accepts");
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// `len` bytes in which every byte depends on its index, so a lost,
/// repeated or reordered chunk shows up as a mismatch at a known offset.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect()
}

/// Panics at the first byte where `got` differs from `want`, naming the
/// offset (comparing megabytes with `assert_eq!` would print them all).
#[track_caller]
pub fn assert_same_bytes(got: &[u8], want: &[u8]) {
    if let Some(i) = got.iter().zip(want).position(|(g, w)| g != w) {
        panic!(
            "byte {i} differs: got {:#04x}, want {:#04x} (of {} bytes)",
            got[i],
            want[i],
            want.len()
        );
    }
    assert_eq!(got.len(), want.len(), "lengths differ");
}

/// Raises this process's `RLIMIT_NOFILE` soft limit to the hard limit and
/// returns the new soft limit (`u64::MAX` for unlimited).
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit).expect("raising the soft fd limit");
    }
    limit.current.unwrap_or(u64::MAX)
}

/// Whether `::1` can be bound here (containers often have no IPv6).
pub fn ipv6_loopback_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}
