//! `UdpSocket` on loopback: echo round trips, addressed and connected
//! sends, peeking, the `try_*` calls and the readiness they leave behind.

mod util;

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use corium::net::UdpSocket;
use corium::time::timeout;
use util::{bounded, build, for_each_flavor, run};

/// Far beyond what any test here needs: a hang fails, it never blocks CI.
const LIMIT: Duration = Duration::from_secs(20);

/// How long a wait that must not complete is given to prove it.
const QUIET: Duration = Duration::from_millis(50);

/// Runs the async test on a runtime of every flavor, under the watchdog.
fn check<F: Future<Output = ()> + 'static>(test: fn() -> F) {
    for_each_flavor(|flavor| bounded(LIMIT, move || run(build(flavor), test())));
}

async fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("binds on loopback")
}

/// A datagram whose every byte depends on its length and position.
fn datagram(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + len) as u8).collect()
}

/// Sends every datagram it receives back to its sender.
async fn echo(socket: UdpSocket) {
    let mut buf = vec![0; 65_536];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await.expect("echo receives");
        socket.send_to(&buf[..n], from).await.expect("echo sends");
    }
}

#[test]
fn echo_round_trips_from_one_byte_to_64_kib() {
    check(|| async {
        let server = bind().await;
        let server_addr = server.local_addr().unwrap();
        corium::spawn(echo(server));
        let client = bind().await;
        let mut buf = vec![0; 65_536];
        for len in [1, 512, 1472, 9000, 65_000] {
            let sent = datagram(len);
            assert_eq!(client.send_to(&sent, server_addr).await.unwrap(), len);
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(n, len, "echo of {len} bytes");
            assert!(buf[..n] == sent[..], "echo of {len} bytes differs");
        }
    });
}

#[test]
fn send_to_takes_any_address_form_and_recv_from_names_the_sender() {
    check(|| async {
        let a = bind().await;
        let b = bind().await;
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let port = b_addr.port();
        let mut buf = [0; 16];

        a.send_to(b"addr", b_addr).await.unwrap();
        a.send_to(b"str", format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        a.send_to(b"tuple", ("127.0.0.1", port)).await.unwrap();
        for expected in [&b"addr"[..], b"str", b"tuple"] {
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (expected, a_addr));
        }

        b.send_to(b"reply", a_addr).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"reply"[..], b_addr));

        let none: &[SocketAddr] = &[];
        let err = a.send_to(b"nowhere", none).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn connected_sockets_send_and_recv_and_ignore_strangers() {
    check(|| async {
        let a = bind().await;
        let b = bind().await;
        let stranger = bind().await;
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        a.connect(b_addr).await.unwrap();
        b.connect(format!("127.0.0.1:{}", a_addr.port()))
            .await
            .unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        assert_eq!(b.peer_addr().unwrap(), a_addr);

        let mut buf = [0; 16];
        assert_eq!(a.send(b"ping").await.unwrap(), 4);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");

        // The kernel drops a datagram from anyone but the connected peer.
        stranger.send_to(b"stranger", a_addr).await.unwrap();
        b.send(b"pong").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
        assert_eq!(
            a.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn peek_from_leaves_the_datagram_queued() {
    check(|| async {
        let a = bind().await;
        let b = bind().await;
        let a_addr = a.local_addr().unwrap();
        a.send_to(b"first", b.local_addr().unwrap()).await.unwrap();
        a.send_to(b"second", b.local_addr().unwrap()).await.unwrap();

        let mut buf = [0; 16];
        for _ in 0..2 {
            let (n, from) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"first"[..], a_addr));
        }
        let (n, _) = b.try_peek_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"first");
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");
    });
}

/// A datagram shorter than the buffer says nothing about the queue: the
/// next `recv` must not wait for an edge that already came.
#[test]
fn short_datagrams_keep_the_socket_readable() {
    check(|| async {
        let a = bind().await;
        let b = bind().await;
        let b_addr = b.local_addr().unwrap();
        for byte in 0..3u8 {
            a.send_to(&[byte], b_addr).await.unwrap();
        }
        let mut buf = [0; 1024];
        for byte in 0..3u8 {
            let received = timeout(Duration::from_secs(5), b.recv(&mut buf)).await;
            let n = received
                .expect("a queued datagram is received without a new event")
                .unwrap();
            assert_eq!(&buf[..n], &[byte]);
        }
    });
}

#[test]
fn try_calls_would_block_on_an_empty_socket_and_readiness_is_cleared() {
    check(|| async {
        let a = bind().await;
        let b = bind().await;
        let b_addr = b.local_addr().unwrap();
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(
            b.try_peek_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert!(
            timeout(QUIET, b.readable()).await.is_err(),
            "nothing to read"
        );

        a.writable().await.unwrap();
        assert_eq!(a.try_send_to(b"now", b_addr).unwrap(), 3);
        b.readable().await.unwrap();
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"now"[..], a.local_addr().unwrap()));
        // The `WouldBlock` clears readiness: the next wait sleeps.
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert!(
            timeout(QUIET, b.readable()).await.is_err(),
            "readiness cleared"
        );

        a.connect(b_addr).await.unwrap();
        assert_eq!(a.try_send(b"again").unwrap(), 5);
        timeout(LIMIT, b.readable()).await.unwrap().unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 5);
    });
}

#[test]
fn options_and_std_conversions() {
    check(|| async {
        let socket = bind().await;
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_broadcast(false).unwrap();
        assert!(!socket.broadcast().unwrap());
        socket.set_ttl(42).unwrap();
        assert_eq!(socket.ttl().unwrap(), 42);
        assert!(socket.take_error().unwrap().is_none());
        assert!(format!("{socket:?}").contains("UdpSocket"));
        assert_eq!(socket.as_raw_fd(), socket.as_fd().as_raw_fd());

        let addr = socket.local_addr().unwrap();
        let std_socket = socket.into_std().unwrap();
        let flags = rustix::fs::fcntl_getfl(&std_socket).unwrap();
        assert!(
            !flags.contains(rustix::fs::OFlags::NONBLOCK),
            "into_std blocks"
        );
        assert_eq!(std_socket.local_addr().unwrap(), addr);

        let socket = UdpSocket::from_std(std_socket).unwrap();
        let flags = rustix::fs::fcntl_getfl(&socket).unwrap();
        assert!(
            flags.contains(rustix::fs::OFlags::NONBLOCK),
            "from_std does not"
        );
        let peer = bind().await;
        peer.send_to(b"still works", addr).await.unwrap();
        let mut buf = [0; 16];
        let n = socket.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"still works");
    });
}

/// Losing `Send`, `Sync` or `Unpin` fails here, not in a user's build.
#[test]
fn udp_socket_and_its_futures_are_send() {
    fn assert_send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync_unpin::<UdpSocket>();
    assert_send(&UdpSocket::bind("127.0.0.1:0"));
    bounded(LIMIT, || {
        run(build(corium::runtime::Builder::new_current_thread), async {
            let socket = bind().await;
            let mut buf = [0; 4];
            assert_send(&socket.send_to(b"x", ("localhost", 9)));
            assert_send(&socket.recv_from(&mut buf));
            assert_send(&socket.connect("127.0.0.1:9"));
        })
    });
}
