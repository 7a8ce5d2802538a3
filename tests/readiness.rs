//! The readiness protocol under stress: lost wakeups, lost FINs, and every
//! reactor backend (epoll driven directly, `polling` edge-triggered, and
//! `polling` oneshot with re-arm).

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use corium::runtime::{Backend, Builder, Runtime};
use corium::time::timeout;
use corium_reactor::Registration;

const BACKENDS: [Backend; 3] = [Backend::Auto, Backend::Polling, Backend::PollingOneshot];

/// Far beyond what any round trip here needs: a hang fails, it never blocks CI.
const HANG: Duration = Duration::from_secs(60);

fn runtime(backend: Backend) -> Runtime {
    Builder::new_current_thread()
        .reactor_backend(backend)
        .build()
        .unwrap()
}

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

async fn read(reg: &Registration<UnixStream>, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len();
    poll_fn(|cx| reg.poll_read_io(cx, len, |s| (&*s).read(buf))).await
}

async fn write(reg: &Registration<UnixStream>, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| reg.poll_write_io(cx, buf.len(), |s| (&*s).write(buf))).await
}

/// Two tasks bounce one byte 100,000 times through a socket pair: every
/// round needs a readiness event, a clear after `WouldBlock` and a wake; a
/// single lost wakeup hangs (and the timeout reports it).
#[test]
fn ping_pong_between_tasks_loses_no_wakeup() {
    const ROUNDS: u32 = 100_000;
    for backend in BACKENDS {
        let rt = runtime(backend);
        rt.block_on(async {
            let (a, b) = nonblocking_pair();
            let a = Registration::new(a).unwrap();
            let b = Registration::new(b).unwrap();
            let echo = corium::spawn(async move {
                let mut byte = [0u8; 1];
                for _ in 0..ROUNDS {
                    assert_eq!(read(&b, &mut byte).await.unwrap(), 1);
                    assert_eq!(write(&b, &byte).await.unwrap(), 1);
                }
            });
            let rounds = timeout(HANG, async {
                let mut byte = [0u8; 1];
                for round in 0..ROUNDS {
                    write(&a, &[round as u8]).await.unwrap();
                    assert_eq!(read(&a, &mut byte).await.unwrap(), 1);
                    assert_eq!(byte[0], round as u8);
                }
                ROUNDS
            })
            .await;
            assert_eq!(rounds, Ok(ROUNDS), "hung on backend {backend:?}");
            echo.await.unwrap();
        });
    }
}

/// The peer is a plain thread doing blocking I/O, so every round parks the
/// runtime in the reactor and is woken by the kernel.
#[test]
fn ping_pong_with_a_thread_loses_no_wakeup() {
    const ROUNDS: u32 = 20_000;
    for backend in BACKENDS {
        let rt = runtime(backend);
        let (a, mut b) = nonblocking_pair();
        b.set_nonblocking(false).unwrap();
        let peer = std::thread::spawn(move || {
            let mut byte = [0u8; 1];
            for _ in 0..ROUNDS {
                b.read_exact(&mut byte).unwrap();
                b.write_all(&byte).unwrap();
            }
        });
        let done = rt.block_on(async {
            let a = Registration::new(a).unwrap();
            timeout(HANG, async {
                let mut byte = [0u8; 1];
                for round in 0..ROUNDS {
                    write(&a, &[round as u8]).await.unwrap();
                    assert_eq!(read(&a, &mut byte).await.unwrap(), 1);
                }
            })
            .await
        });
        assert!(done.is_ok(), "hung on backend {backend:?}");
        peer.join().unwrap();
    }
}

/// Data and FIN in one edge: the short read clears readiness, but the FIN
/// must stay recorded so the next read returns end-of-file instead of
/// waiting for an edge that never comes.
#[test]
fn a_fin_that_came_with_the_data_is_not_lost() {
    for backend in BACKENDS {
        let rt = runtime(backend);
        rt.block_on(async {
            let (a, mut b) = nonblocking_pair();
            let a = Registration::new(a).unwrap();
            b.write_all(b"hello").unwrap();
            b.shutdown(Shutdown::Write).unwrap();
            // Let the reactor see the one edge before the first read.
            corium::time::sleep(Duration::from_millis(5)).await;
            let mut buf = [0u8; 1024];
            let n = timeout(HANG, read(&a, &mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"hello");
            let eof = timeout(HANG, read(&a, &mut buf)).await;
            assert_eq!(
                eof.expect("hung after a short read").unwrap(),
                0,
                "{backend:?}"
            );
        });
    }
}

/// Readiness that arrives while a task is between its `WouldBlock` and its
/// clear is never erased (the tick guard): many writers, one reader, every
/// byte accounted for.
#[test]
fn bursts_from_many_threads_are_all_read() {
    const WRITERS: usize = 4;
    const BYTES_EACH: usize = 20_000;
    let rt = runtime(Backend::Auto);
    let (a, b) = nonblocking_pair();
    b.set_nonblocking(false).unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let mut b = b.try_clone().unwrap();
            std::thread::spawn(move || {
                for chunk in [[7u8; 100]; BYTES_EACH / 100] {
                    b.write_all(&chunk).unwrap();
                }
            })
        })
        .collect();
    drop(b);
    let total = rt.block_on(async {
        let a = Registration::new(a).unwrap();
        timeout(HANG, async {
            let mut total = 0;
            let mut buf = [0u8; 333];
            loop {
                match read(&a, &mut buf).await.unwrap() {
                    0 => break total,
                    n => total += n,
                }
            }
        })
        .await
    });
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(total, Ok(WRITERS * BYTES_EACH));
}

/// A registration outliving its runtime reports an error, never hangs.
#[test]
fn io_after_the_runtime_is_gone_is_an_error() {
    let rt = runtime(Backend::Auto);
    let (a, _b) = nonblocking_pair();
    let reg = rt.block_on(async { Registration::new(a).unwrap() });
    drop(rt);
    let other = runtime(Backend::Auto);
    let err = other.block_on(async {
        let mut buf = [0u8; 8];
        read(&reg, &mut buf).await.unwrap_err()
    });
    assert!(err.to_string().contains("shut down"), "{err}");
}
