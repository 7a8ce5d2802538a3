//! TCP behaviour on loopback: binding and resolving, round trips on the
//! stream and on both kinds of halves, reunite, the futures-io adapters,
//! readiness-driven `try_*` calls, socket options, std conversions,
//! `SO_REUSEPORT`, and a thousand connections at once. Faults (resets,
//! closed ports, a full fd table, a dead runtime) are in `tcp_faults.rs`.

mod util;

use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use corium::net::{lookup_host, TcpListener, TcpSocket, TcpStream};
use corium::task::spawn_blocking;
use futures_util::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures_util::StreamExt;
use util::net::{
    assert_same_bytes, echo, ipv6_loopback_available, pair, pair_on, pattern, raise_fd_limit,
    spawn_echo_server,
};
use util::{bounded, build, for_each_flavor, on_every_flavor, poll_once, run};

/// Far beyond what any test here needs on a loaded CI machine: a hang
/// fails instead of blocking the job.
const LIMIT: Duration = Duration::from_secs(60);

/// Round-trip sizes: one byte, less than a segment, about a socket buffer,
/// and several times what the kernel buffers, so writers must wait for
/// readers.
const SIZES: [usize; 5] = [1, 1024, 64 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/// Reads until end-of-stream with the inherent `read`, in odd-sized
/// chunks so that reads straddle the writer's chunks.
async fn read_until_eof(read: &mut (impl AsyncReadExt + Unpin)) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0; 7919];
    loop {
        match read.read(&mut buf).await.expect("read") {
            0 => return got,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the socket's file status flags include `O_NONBLOCK`.
fn is_nonblocking(fd: impl AsFd) -> bool {
    rustix::fs::fcntl_getfl(fd)
        .expect("F_GETFL")
        .contains(rustix::fs::OFlags::NONBLOCK)
}

/// `send(2)` straight on a descriptor, bypassing the stream type (to probe
/// whether its write side is open).
fn raw_send(fd: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(
        fd,
        bytes,
        rustix::net::SendFlags::NOSIGNAL,
    )?)
}

// ---------------------------------------------------------------------------
// Binding and addresses

#[test]
fn binding_port_zero_reports_the_chosen_port() {
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_ne!(addr.port(), 0, "the OS chose a port");

        let (client, accepted) =
            futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
        let client = client.unwrap();
        let (server, peer) = accepted.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(server.peer_addr().unwrap(), peer);
    });
}

#[test]
fn binding_every_address_form() {
    on_every_flavor(LIMIT, || async {
        let forms = [
            TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await,
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await,
            TcpListener::bind(([127, 0, 0, 1], 0)).await,
            TcpListener::bind(("127.0.0.1", 0)).await,
            TcpListener::bind(String::from("127.0.0.1:0")).await,
            TcpListener::bind(&[SocketAddr::from(([127, 0, 0, 1], 0))][..]).await,
        ];
        for listener in forms {
            let addr = listener.unwrap().local_addr().unwrap();
            assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
        }
    });
}

#[test]
fn binding_a_host_name_resolves_it_on_the_blocking_pool() {
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_ne!(addr.port(), 0);

        // A host name to connect to goes the same way; every address
        // "localhost" names is tried until one answers.
        let (client, accepted) = futures_util::future::join(
            TcpStream::connect(("localhost".to_string(), addr.port())),
            listener.accept(),
        )
        .await;
        assert_eq!(client.unwrap().peer_addr().unwrap(), addr);
        accepted.unwrap();

        let listener = TcpListener::bind("localhost:0").await.unwrap();
        assert!(listener.local_addr().unwrap().ip().is_loopback());
    });
}

#[test]
fn lookup_host_resolves_names_and_literals() {
    on_every_flavor(LIMIT, || async {
        let addrs: Vec<_> = lookup_host("localhost:80").await.unwrap().collect();
        assert!(!addrs.is_empty(), "localhost names an address");
        for addr in &addrs {
            assert!(addr.ip().is_loopback(), "{addr}");
            assert_eq!(addr.port(), 80);
        }

        let v4: Vec<_> = lookup_host("127.0.0.1:8080").await.unwrap().collect();
        assert_eq!(v4, ["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
        // Literals are parsed, so IPv6 ones resolve even without IPv6.
        let v6: Vec<_> = lookup_host("[::1]:443").await.unwrap().collect();
        assert_eq!(v6, [SocketAddr::from((Ipv6Addr::LOCALHOST, 443))]);
        let pair: Vec<_> = lookup_host(("10.1.2.3", 9)).await.unwrap().collect();
        assert_eq!(pair, [SocketAddr::from(([10, 1, 2, 3], 9))]);
        let typed: Vec<_> = lookup_host(SocketAddr::from(([127, 0, 0, 1], 7)))
            .await
            .unwrap()
            .collect();
        assert_eq!(typed, [SocketAddr::from(([127, 0, 0, 1], 7))]);
    });
}

#[test]
fn connect_tries_each_address_until_one_answers() {
    on_every_flavor(LIMIT, || async {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live = listener.local_addr().unwrap();
        let addrs = [closed, live];
        let (client, accepted) =
            futures_util::future::join(TcpStream::connect(&addrs[..]), listener.accept()).await;
        assert_eq!(client.unwrap().peer_addr().unwrap(), live);
        accepted.unwrap();
    });
}

// ---------------------------------------------------------------------------
// Round trips

#[test]
fn round_trips_on_borrowed_halves() {
    on_every_flavor(LIMIT, || async {
        for size in SIZES {
            let (mut client, server) = pair().await;
            corium::spawn(echo(server));
            let data = pattern(size);
            // Called by path: with `AsyncReadExt` in scope, `client.split()`
            // resolves to futures-util's by-value `split` (a `BiLock`), whose
            // by-value receiver wins over the inherent `&mut self` method.
            let (mut read, mut write) = TcpStream::split(&mut client);
            // The writer and reader run at once (in one task, as borrowed
            // halves must): 4 MiB does not fit in the socket buffers.
            let writer = async {
                write.write_all(&data).await.unwrap();
                write.shutdown().unwrap();
            };
            let (_, got) = futures_util::future::join(writer, read_until_eof(&mut read)).await;
            assert_same_bytes(&got, &data);
        }
    });
}

#[test]
fn round_trips_on_owned_halves_in_separate_tasks() {
    on_every_flavor(LIMIT, || async {
        for size in SIZES {
            let (client, server) = pair().await;
            corium::spawn(echo(server));
            let (mut read, mut write) = client.into_split();
            let writer = corium::spawn(async move {
                let data = pattern(size);
                // Uneven writes, so segment boundaries move around.
                for chunk in data.chunks(65_521) {
                    write.write_all(chunk).await.unwrap();
                }
                // Dropping the write half sends the FIN the echo waits for.
            });
            let reader = corium::spawn(async move { read_until_eof(&mut read).await });
            writer.await.unwrap();
            let got = reader.await.unwrap();
            assert_same_bytes(&got, &pattern(size));
        }
    });
}

#[test]
fn round_trips_on_the_stream_itself_in_both_directions() {
    on_every_flavor(LIMIT, || async {
        let (mut client, mut server) = pair().await;
        for size in SIZES {
            let data = pattern(size);
            let mut got = vec![0; size];
            // The server reads what the client writes; then roles swap.
            let (written, read) =
                futures_util::future::join(client.write_all(&data), server.read_exact(&mut got))
                    .await;
            written.unwrap();
            read.unwrap();
            assert_same_bytes(&got, &data);
            let (written, read) =
                futures_util::future::join(server.write_all(&data), client.read_exact(&mut got))
                    .await;
            written.unwrap();
            read.unwrap();
            assert_same_bytes(&got, &data);
        }
    });
}

#[test]
fn round_trips_over_ipv6_loopback() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: ::1 cannot be bound here");
        return;
    }
    on_every_flavor(LIMIT, || async {
        let (mut client, server) = pair_on("[::1]:0").await;
        assert_eq!(client.peer_addr().unwrap().ip(), Ipv6Addr::LOCALHOST);
        corium::spawn(echo(server));
        let data = pattern(1024 * 1024);
        let (mut read, mut write) = TcpStream::split(&mut client);
        let writer = async {
            write.write_all(&data).await.unwrap();
            write.shutdown().unwrap();
        };
        let (_, got) = futures_util::future::join(writer, read_until_eof(&mut read)).await;
        assert_same_bytes(&got, &data);

        let socket = TcpSocket::new_v6().unwrap();
        socket.bind("[::1]:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
        assert_eq!(accepted.unwrap().1, client.unwrap().local_addr().unwrap());
    });
}

#[test]
fn halves_report_the_streams_addresses() {
    on_every_flavor(LIMIT, || async {
        let (mut client, _server) = pair().await;
        let (local, peer) = (client.local_addr().unwrap(), client.peer_addr().unwrap());
        let (read, _write) = TcpStream::split(&mut client);
        assert_eq!(read.local_addr().unwrap(), local);
        assert_eq!(read.peer_addr().unwrap(), peer);
        let (read, _write) = client.into_split();
        assert_eq!(read.local_addr().unwrap(), local);
        assert_eq!(read.peer_addr().unwrap(), peer);
    });
}

#[test]
fn every_reactor_backend_round_trips_and_sees_eof() {
    use corium::runtime::Backend;
    let backends = [
        Backend::Auto,
        #[cfg(target_os = "linux")]
        Backend::Epoll,
        Backend::Polling,
        // Oneshot re-arms after every event: the mode most likely to lose
        // a wakeup when a reader and a writer wait at once.
        Backend::PollingOneshot,
    ];
    for_each_flavor(|flavor| {
        for backend in backends {
            eprintln!("--- backend: {backend:?}");
            bounded(LIMIT, move || {
                let runtime = flavor().reactor_backend(backend).build().unwrap();
                run(runtime, async {
                    let (client, server) = pair().await;
                    corium::spawn(echo(server));
                    let data = pattern(1024 * 1024);
                    let (mut read, mut write) = client.into_split();
                    let writer = corium::spawn({
                        let data = data.clone();
                        async move { write.write_all(&data).await.unwrap() }
                    });
                    let got = read_until_eof(&mut read).await;
                    writer.await.unwrap();
                    assert_same_bytes(&got, &data);

                    // Data and FIN together: the short read that takes the
                    // data must not lose the end-of-stream behind it.
                    let (mut client, mut server) = pair().await;
                    server.write_all(b"last words").await.unwrap();
                    drop(server);
                    let mut buf = [0; 64];
                    let mut got = Vec::new();
                    loop {
                        match client.read(&mut buf).await.unwrap() {
                            0 => break,
                            n => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    assert_eq!(got, b"last words");
                })
            });
        }
    });
}

// ---------------------------------------------------------------------------
// Owned halves: reunite, drop, forget

#[test]
fn reuniting_matching_halves_gives_the_stream_back() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let addr = client.local_addr().unwrap();
        let (read, write) = client.into_split();
        let mut client = read.reunite(write).expect("halves of one stream");
        assert_eq!(client.local_addr().unwrap(), addr);
        // Reuniting did not shut the write side down.
        client.write_all(b"still writable").await.unwrap();
        let mut buf = [0; 14];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still writable");

        // And from the other half.
        let (read, write) = client.into_split();
        let mut client = write.reunite(read).expect("halves of one stream");
        client.write_all(b"again").await.unwrap();
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    });
}

#[test]
fn reuniting_halves_of_two_streams_gives_both_back() {
    on_every_flavor(LIMIT, || async {
        let (a, mut a_peer) = pair().await;
        let (b, mut b_peer) = pair().await;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();

        let err = a_read.reunite(b_write).expect_err("halves of two streams");
        assert!(!err.to_string().is_empty());
        let _: &dyn std::error::Error = &err;
        let corium::net::tcp::ReuniteError(a_read, b_write) = err;

        // Both halves came back intact: each pairs with its own partner,
        // and the failed attempt shut nothing down.
        let mut a = a_read.reunite(a_write).unwrap();
        let mut b = b_write.reunite(b_read).unwrap();
        a.write_all(b"a").await.unwrap();
        b.write_all(b"b").await.unwrap();
        let mut buf = [0; 1];
        a_peer.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"a");
        b_peer.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"b");
    });
}

#[test]
fn dropping_the_owned_write_half_shuts_down_the_write_side() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let fd = client.as_raw_fd();
        let (mut read, write) = client.into_split();
        drop(write);

        let mut buf = [0; 16];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "the peer sees EOF");
        // SAFETY: `read` owns the stream and so keeps `fd` open.
        let err = raw_send(unsafe { BorrowedFd::borrow_raw(fd) }, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");

        // Only writing was shut down: the read half still reads.
        server.write_all(b"reply").await.unwrap();
        let mut buf = [0; 5];
        read.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"reply");
    });
}

#[test]
fn a_forgotten_owned_write_half_leaves_the_write_side_open() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let fd = client.as_raw_fd();
        let (read, write) = client.into_split();
        write.forget();

        // SAFETY: `read` owns the stream and so keeps `fd` open.
        let sent = raw_send(unsafe { BorrowedFd::borrow_raw(fd) }, b"after forget").unwrap();
        assert_eq!(sent, 12);
        let mut buf = [0; 12];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"after forget", "data, not EOF, follows a forget");

        // The socket closes when its last half goes.
        drop(read);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}

// ---------------------------------------------------------------------------
// The futures-io traits, through futures-util

#[test]
fn futures_write_all_then_close_and_read_to_end() {
    on_every_flavor(LIMIT, || async {
        let (mut client, mut server) = pair().await;
        let data = pattern(256 * 1024);
        let writer = async {
            AsyncWriteExt::write_all(&mut client, &data).await.unwrap();
            AsyncWriteExt::flush(&mut client).await.unwrap();
            // `poll_close` shuts down the write side: `read_to_end` ends.
            client.close().await.unwrap();
        };
        let mut got = Vec::new();
        let (_, n) = futures_util::future::join(writer, server.read_to_end(&mut got)).await;
        assert_eq!(n.unwrap(), data.len());
        assert_same_bytes(&got, &data);

        // The same through the halves, server to client.
        let (mut server_read, mut server_write) = server.into_split();
        let (mut client_read, _client_write) = TcpStream::split(&mut client);
        let writer = async {
            AsyncWriteExt::write_all(&mut server_write, &data)
                .await
                .unwrap();
            server_write.close().await.unwrap();
        };
        let mut got = Vec::new();
        let (_, n) = futures_util::future::join(writer, client_read.read_to_end(&mut got)).await;
        assert_eq!(n.unwrap(), data.len());
        assert_same_bytes(&got, &data);
        // Half-closed: the server still reads (EOF, as the client closed).
        assert_eq!(
            AsyncReadExt::read(&mut server_read, &mut [0; 1])
                .await
                .unwrap(),
            0
        );
    });
}

#[test]
fn futures_io_copy_echoes() {
    on_every_flavor(LIMIT, || async {
        let (client, server) = pair().await;
        let echo = corium::spawn(async move {
            let (read, mut write) = server.into_split();
            let copied = futures_util::io::copy(read, &mut write).await.unwrap();
            write.close().await.unwrap();
            copied
        });
        let data = pattern(1024 * 1024 + 3);
        let (mut read, mut write) = client.into_split();
        let writer = corium::spawn({
            let data = data.clone();
            async move {
                AsyncWriteExt::write_all(&mut write, &data).await.unwrap();
                write.close().await.unwrap();
            }
        });
        let mut got = Vec::new();
        read.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(echo.await.unwrap(), data.len() as u64);
        assert_same_bytes(&got, &data);
    });
}

#[test]
fn buf_reader_reads_lines() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        server
            .write_all(b"first line\nsecond\n\nno newline at the end")
            .await
            .unwrap();
        server.shutdown(Shutdown::Write).unwrap();

        let mut reader = BufReader::new(client);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        assert_eq!(
            lines,
            ["first line\n", "second\n", "\n", "no newline at the end"]
        );
    });
}

#[test]
fn write_vectored_sends_every_slice() {
    on_every_flavor(LIMIT, || async {
        let big = pattern(300 * 1024);
        let parts: [&[u8]; 5] = [b"alpha ", b"", b"beta ", &big, b" omega"];
        let want = parts.concat();

        // Each writer loops, advancing past what each call took: a call may
        // take less than all (300 KiB can exceed the socket buffer).
        async fn send_all<W: AsyncWriteExt + Unpin>(write: &mut W, parts: &[&[u8]]) {
            let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
            let mut slices = &mut slices[..];
            while !slices.is_empty() {
                let n = write.write_vectored(slices).await.unwrap();
                assert_ne!(n, 0, "a vectored write made no progress");
                IoSlice::advance_slices(&mut slices, n);
            }
        }

        // The inherent method on the stream.
        let (mut client, mut server) = pair().await;
        let writer = async {
            let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
            let mut slices = &mut slices[..];
            while !slices.is_empty() {
                let n = client.write_vectored(slices).await.unwrap();
                IoSlice::advance_slices(&mut slices, n);
            }
            client.shutdown(Shutdown::Write).unwrap();
        };
        let mut got = Vec::new();
        let (_, read) = futures_util::future::join(writer, server.read_to_end(&mut got)).await;
        read.unwrap();
        assert_same_bytes(&got, &want);

        // The inherent method on an owned half, and `poll_write_vectored`
        // through `AsyncWriteExt` on a borrowed half.
        let (client, mut server) = pair().await;
        let (_read, mut write) = client.into_split();
        let writer = async {
            let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
            let mut slices = &mut slices[..];
            while !slices.is_empty() {
                let n = write.write_vectored(slices).await.unwrap();
                IoSlice::advance_slices(&mut slices, n);
            }
            write.shutdown().unwrap();
        };
        let mut got = Vec::new();
        let (_, read) = futures_util::future::join(writer, server.read_to_end(&mut got)).await;
        read.unwrap();
        assert_same_bytes(&got, &want);

        let (mut client, mut server) = pair().await;
        let (_read, mut write) = TcpStream::split(&mut client);
        let writer = async {
            send_all(&mut write, &parts).await;
            write.close().await.unwrap();
        };
        let mut got = Vec::new();
        let (_, read) = futures_util::future::join(writer, server.read_to_end(&mut got)).await;
        read.unwrap();
        assert_same_bytes(&got, &want);
    });
}

#[test]
fn peek_leaves_the_data_for_the_next_read() {
    on_every_flavor(LIMIT, || async {
        let (mut client, mut server) = pair().await;
        server.write_all(b"peekaboo").await.unwrap();

        let mut peeked = [0; 8];
        let mut n = 0;
        // Loopback may deliver the bytes in more than one step.
        while n < peeked.len() {
            n = client.peek(&mut peeked).await.unwrap();
            assert_eq!(&peeked[..n], &b"peekaboo"[..n]);
        }
        // Peeking again sees the same bytes: nothing was consumed.
        assert_eq!(client.peek(&mut peeked).await.unwrap(), 8);
        let mut got = [0; 8];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"peekaboo");

        // The halves peek too.
        server.write_all(b"halves").await.unwrap();
        let (mut read, _write) = TcpStream::split(&mut client);
        let mut peeked = [0; 6];
        while read.peek(&mut peeked).await.unwrap() < 6 {}
        assert_eq!(&peeked, b"halves");
        let (mut read, _write) = client.into_split();
        assert_eq!(read.peek(&mut peeked).await.unwrap(), 6);
        let mut got = [0; 6];
        read.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"halves");
    });
}

#[test]
fn try_read_would_block_until_data_arrives() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let mut buf = [0; 16];
        let err = client.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "nothing sent yet");

        server.write_all(b"ready").await.unwrap();
        let mut got = Vec::new();
        while got.len() < 5 {
            client.readable().await.unwrap();
            match client.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // Readiness can be stale; `readable` waits again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_read: {e}"),
            }
        }
        assert_eq!(got, b"ready");
        let err = client.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "all was read");

        // The same through `try_io` with any operation.
        server.write_all(b"io").await.unwrap();
        loop {
            client.readable().await.unwrap();
            let read = client.try_io(corium::net::Interest::Readable, || {
                let fd = client.as_fd();
                Ok(rustix::net::recv(fd, &mut buf, rustix::net::RecvFlags::empty())?.0)
            });
            match read {
                Ok(n) => {
                    assert_eq!(&buf[..n], b"io");
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_io: {e}"),
            }
        }
    });
}

#[test]
fn try_write_would_block_when_the_buffer_is_full_and_works_after_writable() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let chunk = vec![0x5a; 64 * 1024];
        let mut sent = 0;
        client.writable().await.unwrap();
        // Nobody reads: the socket buffers fill and `try_write` says so.
        loop {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
        }
        assert!(sent > 0);
        let err = client.try_write(&chunk).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "still full");

        // The server drains; `writable` then lets `try_write` through.
        let drain = corium::spawn(async move {
            let mut total = 0;
            let mut buf = vec![0; 64 * 1024];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => return total,
                    n => {
                        assert!(buf[..n].iter().all(|&b| b == 0x5a));
                        total += n;
                    }
                }
            }
        });
        let more = loop {
            client.writable().await.unwrap();
            match client.try_write(&chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_write: {e}"),
            }
        };
        assert!(more > 0);
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(drain.await.unwrap(), sent + more, "every byte arrived once");
    });
}

#[test]
fn halves_try_read_and_try_write() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let (read, write) = client.into_split();
        let mut buf = [0; 8];
        assert_eq!(
            read.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let n = loop {
            write.writable().await.unwrap();
            match write.try_write(b"hi") {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_write: {e}"),
            }
        };
        assert_eq!(n, 2);
        let mut got = [0; 2];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hi");

        server.write_all(b"yo").await.unwrap();
        let n = loop {
            read.readable().await.unwrap();
            match read.try_read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_read: {e}"),
            }
        };
        assert_eq!(&buf[..n], &b"yo"[..n]);
    });
}

#[test]
fn ready_reports_the_direction_asked_for() {
    on_every_flavor(LIMIT, || async {
        let (client, mut server) = pair().await;
        let ready = client.ready(corium::net::Interest::Writable).await.unwrap();
        assert!(ready.is_writable(), "{ready:?}");
        server.write_all(b"x").await.unwrap();
        let ready = client.ready(corium::net::Interest::Readable).await.unwrap();
        assert!(ready.is_readable(), "{ready:?}");
    });
}

// ---------------------------------------------------------------------------
// Cancel safety

#[test]
fn a_dropped_accept_or_read_takes_nothing() {
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        {
            let accept = std::pin::pin!(listener.accept());
            assert!(poll_once(accept).await.is_pending(), "no client yet");
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());

        let mut buf = [0; 4];
        {
            let read = std::pin::pin!(server.read(&mut buf));
            assert!(poll_once(read).await.is_pending(), "nothing sent yet");
        }
        client.write_all(b"kept").await.unwrap();
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"kept");
    });
}

// ---------------------------------------------------------------------------
// Options and conversions

#[test]
fn socket_options_round_trip() {
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(33).unwrap();
        assert_eq!(listener.ttl().unwrap(), 33);

        let (client, _server) = pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());

        client.set_linger(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(5)));
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);

        client.set_ttl(42).unwrap();
        assert_eq!(client.ttl().unwrap(), 42);
        assert!(client.take_error().unwrap().is_none());

        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        assert!(socket.reuseaddr().unwrap());
        socket.set_reuseaddr(false).unwrap();
        assert!(!socket.reuseaddr().unwrap());
        socket.set_reuseport(true).unwrap();
        assert!(socket.reuseport().unwrap());
        socket.set_reuseport(false).unwrap();
        assert!(!socket.reuseport().unwrap());
    });
}

#[test]
fn tcp_socket_connects_with_its_options() {
    on_every_flavor(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_nodelay(true).unwrap();
        socket.set_send_buffer_size(128 * 1024).unwrap();
        socket.set_recv_buffer_size(128 * 1024).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let local = socket.local_addr().unwrap();
        assert_ne!(local.port(), 0);

        let (client, accepted) =
            futures_util::future::join(socket.connect(addr), listener.accept()).await;
        let mut client = client.unwrap();
        let (mut server, peer) = accepted.unwrap();
        assert_eq!(client.local_addr().unwrap(), local, "the bound address");
        assert_eq!(peer, local);
        assert!(client.nodelay().unwrap(), "set before connecting");
        client.write_all(b"ok").await.unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    });
}

#[test]
fn std_conversions_both_ways() {
    on_every_flavor(LIMIT, || async {
        // std listener and stream in, both switched to non-blocking.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert!(is_nonblocking(&listener));
        // A loopback connect completes in the kernel's accept queue, so a
        // blocking connect here returns at once.
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        assert!(is_nonblocking(&client));

        // The stream out, blocking again; used from a blocking thread.
        let std_server = server.into_std().unwrap();
        assert!(!is_nonblocking(&std_server));
        let peer = spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut std_server = std_server;
            let mut buf = [0; 6];
            std_server.read_exact(&mut buf).unwrap();
            std_server.write_all(b"from std").unwrap();
            buf
        });
        client.write_all(b"to std").await.unwrap();
        let mut buf = [0; 8];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from std");
        assert_eq!(&peer.await.unwrap(), b"to std");

        // The listener out, blocking again.
        let std_listener = listener.into_std().unwrap();
        assert!(!is_nonblocking(&std_listener));
        let acceptor = spawn_blocking(move || {
            use std::io::Write;
            let (mut stream, _) = std_listener.accept().unwrap();
            stream.write_all(b"accepted").unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0; 8];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"accepted");
        acceptor.await.unwrap();
    });
}

// ---------------------------------------------------------------------------
// Many connections

#[test]
fn incoming_yields_each_connection() {
    on_every_flavor(LIMIT, || async {
        const CLIENTS: u8 = 5;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for i in 0..CLIENTS {
            corium::spawn(async move {
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(&[i]).await.unwrap();
                // Stay connected until the server has read.
                let _ = client.read(&mut [0; 1]).await;
            });
        }
        let mut incoming = listener.incoming();
        let mut seen = Vec::new();
        for _ in 0..CLIENTS {
            let mut stream = incoming.next().await.expect("never ends").unwrap();
            let mut id = [0; 1];
            stream.read_exact(&mut id).await.unwrap();
            seen.push(id[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..CLIENTS).collect::<Vec<_>>());
    });
}

#[test]
fn reuseport_listeners_share_a_port_and_both_accept() {
    on_every_flavor(LIMIT, || async {
        // With this many connections the kernel's 4-tuple hash leaves one
        // listener empty with probability 2^-63.
        const CONNECTIONS: usize = 64;
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second
            .bind(addr)
            .expect("a second SO_REUSEPORT bind of one port");
        let listeners = [first.listen(128).unwrap(), second.listen(128).unwrap()];
        assert_eq!(listeners[1].local_addr().unwrap(), addr);

        let (tx, mut rx) = futures_channel::mpsc::unbounded();
        for (which, listener) in listeners.into_iter().enumerate() {
            let tx = tx.clone();
            corium::spawn(async move {
                loop {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut id = [0; 1];
                    stream.read_exact(&mut id).await.unwrap();
                    if tx.unbounded_send((which, id[0])).is_err() {
                        return;
                    }
                }
            });
        }
        let mut clients = Vec::new();
        for i in 0..CONNECTIONS {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(&[i as u8]).await.unwrap();
            clients.push(client);
        }
        let mut per_listener = [0; 2];
        let mut ids = Vec::new();
        for _ in 0..CONNECTIONS {
            let (which, id) = rx.next().await.unwrap();
            per_listener[which] += 1;
            ids.push(id as usize);
        }
        ids.sort_unstable();
        assert_eq!(ids, (0..CONNECTIONS).collect::<Vec<_>>(), "each once");
        assert!(
            per_listener.iter().all(|&n| n > 0),
            "both listeners accept: {per_listener:?}"
        );
    });
}

#[test]
fn a_thousand_concurrent_connections_each_round_trip() {
    /// Round trips per connection.
    const ROUNDS: usize = 4;
    // Each connection holds two fds (client and server side), plus ~100
    // for the runtime, the test harness and other tests in this binary.
    let limit = raise_fd_limit();
    let connections = 1000.min((limit.saturating_sub(100) / 2) as usize);
    if connections < 1000 {
        eprintln!("the fd hard limit is {limit}: testing {connections} connections, not 1000");
    }
    assert!(connections >= 100, "fd hard limit {limit} is too low");
    for_each_flavor(|flavor| {
        bounded(LIMIT, move || {
            run(build(flavor), async move {
                let addr = spawn_echo_server().await;
                let clients: Vec<_> = (0..connections)
                    .map(|id| {
                        corium::spawn(async move {
                            let mut stream = TcpStream::connect(addr).await.unwrap();
                            for round in 0..ROUNDS {
                                let message = format!("connection {id} round {round}");
                                stream.write_all(message.as_bytes()).await.unwrap();
                                let mut echo = vec![0; message.len()];
                                stream.read_exact(&mut echo).await.unwrap();
                                assert_eq!(echo, message.as_bytes());
                            }
                            stream.shutdown(Shutdown::Write).unwrap();
                            let mut rest = Vec::new();
                            stream.read_to_end(&mut rest).await.unwrap();
                            assert!(rest.is_empty(), "the echo sent nothing extra");
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
            })
        });
    });
}

// ---------------------------------------------------------------------------
// Debug

#[test]
fn every_type_has_debug_output() {
    on_every_flavor(LIMIT, || async {
        let socket = TcpSocket::new_v4().unwrap();
        assert!(format!("{socket:?}").contains("TcpSocket"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert!(format!("{listener:?}").contains("TcpListener"));
        assert!(!format!("{:?}", listener.incoming()).is_empty());

        let (mut a, _a_peer) = pair().await;
        let debug = format!("{a:?}");
        assert!(debug.contains("TcpStream"), "{debug}");
        assert!(
            debug.contains(&a.peer_addr().unwrap().to_string()),
            "{debug}"
        );
        let (read, write) = TcpStream::split(&mut a);
        assert!(!format!("{read:?}").is_empty());
        assert!(!format!("{write:?}").is_empty());

        let (read, write) = a.into_split();
        assert!(!format!("{read:?}").is_empty());
        assert!(!format!("{write:?}").is_empty());
        let (b, _b_peer) = pair().await;
        let (b_read, b_write) = b.into_split();
        let err = read.reunite(b_write).unwrap_err();
        assert!(!format!("{err:?}").is_empty());
        drop((err, write, b_read));
    });
}
