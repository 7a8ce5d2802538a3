//! `AsyncFd` on a pipe: readiness guards, `try_io` and what it clears,
//! waking a waiting task, and what drop and `into_inner` do with the fd.

mod util;

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corium::io::unix::AsyncFd;
use corium::io::{Interest, Ready};
use corium::time::timeout;
use rustix::pipe::{pipe_with, PipeFlags};
use util::{bounded, build, for_each_flavor, run};

/// Far beyond what any test here needs: a hang fails, it never blocks CI.
const LIMIT: Duration = Duration::from_secs(20);

/// How long a wait that must not complete is given to prove it.
const QUIET: Duration = Duration::from_millis(50);

/// Runs the async test on a runtime of every flavor, under the watchdog.
fn check<F: Future<Output = ()> + 'static>(test: fn() -> F) {
    for_each_flavor(|flavor| bounded(LIMIT, move || run(build(flavor), test())));
}

/// A non-blocking pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).expect("pipe")
}

fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(fd, buf)?)
}

fn write(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::io::write(fd, buf)?)
}

/// Reads until `WouldBlock`; returns how much.
fn drain(fd: impl AsFd) -> usize {
    let mut buf = [0; 64 * 1024];
    let mut total = 0;
    loop {
        match read(fd.as_fd(), &mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("drain: {e}"),
        }
    }
}

#[test]
fn readable_guard_try_io_reads_then_clears_on_would_block() {
    check(|| async {
        let (reader, writer) = pipe();
        let reader = AsyncFd::new(reader).unwrap();
        assert!(
            timeout(QUIET, reader.readable()).await.is_err(),
            "empty pipe"
        );

        write(&writer, b"abc").unwrap();
        let mut guard = reader.readable().await.unwrap();
        assert!(guard.ready().is_readable());
        let mut buf = [0; 8];
        let n = guard.try_io(|fd| read(fd, &mut buf)).unwrap().unwrap();
        assert_eq!(&buf[..n], b"abc");
        assert!(guard.try_io(|fd| read(fd, &mut buf)).is_err(), "WouldBlock");
        assert_eq!(guard.ready(), Ready::EMPTY, "cleared");
        drop(guard);
        assert!(
            timeout(QUIET, reader.readable()).await.is_err(),
            "waits again"
        );

        write(&writer, b"d").unwrap();
        let mut guard = timeout(LIMIT, reader.readable()).await.unwrap().unwrap();
        assert_eq!(guard.try_io(|fd| read(fd, &mut buf)).unwrap().unwrap(), 1);
    });
}

#[test]
fn a_waiting_task_is_woken_by_a_write_from_another_thread() {
    check(|| async {
        let (reader, writer) = pipe();
        let reader = AsyncFd::new(reader).unwrap();
        let task = corium::spawn(async move {
            let mut buf = [0; 8];
            reader
                .async_io(Interest::Readable, |fd| read(fd, &mut buf))
                .await
                .map(|n| buf[..n].to_vec())
        });
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            write(&writer, b"wake").unwrap();
            writer
        });
        let read = timeout(LIMIT, task).await.unwrap().unwrap().unwrap();
        assert_eq!(read, b"wake");
        drop(thread.join().unwrap());
    });
}

#[test]
fn writable_until_full_then_writable_again_once_drained() {
    check(|| async {
        let (reader, writer) = pipe();
        let writer = AsyncFd::new(writer).unwrap();
        let chunk = [7u8; 16 * 1024];
        let mut written = 0;
        loop {
            let mut guard = writer.writable().await.unwrap();
            assert!(guard.ready().is_writable());
            match guard.try_io(|fd| write(fd, &chunk)) {
                Ok(result) => written += result.unwrap(),
                Err(_would_block) => break,
            }
        }
        assert!(written > 0);
        assert!(
            timeout(QUIET, writer.writable()).await.is_err(),
            "pipe full"
        );
        assert_eq!(drain(&reader), written);
        let _guard = timeout(LIMIT, writer.writable()).await.unwrap().unwrap();
    });
}

#[test]
fn a_dropped_guard_keeps_readiness_and_clear_ready_forgets_it() {
    check(|| async {
        let (reader, writer) = pipe();
        let reader = AsyncFd::new(reader).unwrap();
        write(&writer, b"x").unwrap();
        let mut guard = reader.readable().await.unwrap();
        assert_eq!(drain(guard.get_inner()), 1);
        guard.retain_ready();
        drop(guard);
        // Retained: the next wait returns at once, though the pipe is empty.
        let mut guard = timeout(QUIET, reader.readable()).await.unwrap().unwrap();
        guard.clear_ready();
        assert!(guard.ready().is_empty());
        drop(guard);
        assert!(timeout(QUIET, reader.readable()).await.is_err(), "cleared");
        assert_eq!(
            reader
                .try_io(Interest::Readable, |fd| read(fd, &mut [0; 1]))
                .unwrap_err()
                .kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn closed_states_survive_clear_ready_matching() {
    check(|| async {
        let (reader, writer) = pipe();
        let reader = AsyncFd::new(reader).unwrap();
        drop(writer);
        let mut guard = reader.readable().await.unwrap();
        assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
        guard.clear_ready_matching(Ready::READABLE);
        assert!(!guard.ready().is_readable());
        assert!(guard.ready().is_read_closed());
        guard.clear_ready();
        drop(guard);
        // Read-closed is sticky: waiting never sleeps on a closed pipe.
        let guard = timeout(QUIET, reader.readable()).await.unwrap().unwrap();
        assert!(guard.ready().is_read_closed());
        assert_eq!(read(guard.get_inner(), &mut [0; 1]).unwrap(), 0);
    });
}

#[test]
fn mut_guards_give_mutable_access() {
    check(|| async {
        let (reader, writer) = pipe();
        let mut reader = AsyncFd::new(reader).unwrap();
        let mut writer = AsyncFd::new(writer).unwrap();
        {
            let mut guard = writer.writable_mut().await.unwrap();
            let n = guard.try_io(|fd| write(fd.get_mut(), b"mut")).unwrap();
            assert_eq!(n.unwrap(), 3);
        }
        let mut guard = reader.readable_mut().await.unwrap();
        let mut buf = [0; 8];
        let n = guard
            .try_io(|fd| read(fd.get_mut(), &mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"mut");
        assert!(guard.try_io(|fd| read(fd.get_ref(), &mut buf)).is_err());
        assert!(guard.ready().is_empty());
        let _: &mut OwnedFd = guard.get_inner_mut();
        drop(guard);
        assert!(timeout(QUIET, reader.ready_mut(Interest::Readable))
            .await
            .is_err());
    });
}

/// An fd number far above what the rest of this binary opens, so that a
/// closed number is not reused by another test before it is checked.
fn high_fd(fd: OwnedFd, floor: RawFd) -> OwnedFd {
    rustix::io::fcntl_dupfd_cloexec(&fd, floor).expect("dup above the floor")
}

/// An inner value that counts its drops.
#[derive(Debug)]
struct Tracked {
    fd: OwnedFd,
    drops: Arc<AtomicUsize>,
}

impl AsFd for Tracked {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

#[test]
fn drop_deregisters_and_closes_the_fd_once() {
    check(|| async {
        let (reader, _writer) = pipe();
        let drops = Arc::new(AtomicUsize::new(0));
        let fd = high_fd(reader, 1000);
        let raw = fd.as_raw_fd();
        let async_fd = AsyncFd::new(Tracked {
            fd,
            drops: drops.clone(),
        })
        .unwrap();
        assert_eq!(async_fd.as_raw_fd(), raw);
        assert!(format!("{async_fd:?}").contains("AsyncFd"));
        assert!(fd::is_open(raw));
        drop(async_fd);
        assert_eq!(drops.load(SeqCst), 1, "the inner value dropped once");
        assert!(!fd::is_open(raw), "the fd is closed");
    });
}

#[test]
fn into_inner_deregisters_and_keeps_the_fd_open() {
    check(|| async {
        let (reader, writer) = pipe();
        let fd = high_fd(reader, 1100);
        let raw = fd.as_raw_fd();
        let async_fd = AsyncFd::new(fd).unwrap();
        // An fd can be registered once: a second registration is `EEXIST`.
        let twice = AsyncFd::new(async_fd.get_ref().as_fd()).unwrap_err();
        assert_eq!(twice.kind(), io::ErrorKind::AlreadyExists);
        let inner = async_fd.into_inner();
        assert!(fd::is_open(raw));
        // So registering again succeeds only if `into_inner` removed it.
        let again = AsyncFd::new(inner).expect("registers again");
        write(&writer, b"x").unwrap();
        let mut guard = timeout(LIMIT, again.readable()).await.unwrap().unwrap();
        assert_eq!(
            guard.try_io(|fd| read(fd, &mut [0; 4])).unwrap().unwrap(),
            1
        );
        drop(guard);
        drop(again);
        assert!(!fd::is_open(raw));
    });
}

/// Whether a raw fd number is open, through libc's `fcntl`, which every
/// Rust program on Linux links (a `BorrowedFd` of a closed fd would break
/// I/O safety, so rustix's wrapper cannot ask).
mod fd {
    use std::ffi::c_int;
    use std::os::fd::RawFd;

    /// `F_GETFD` on Linux.
    const F_GETFD: c_int = 1;

    extern "C" {
        fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    }

    pub fn is_open(fd: RawFd) -> bool {
        // SAFETY: `F_GETFD` only reads the fd's flags; on a closed fd it
        // fails with `EBADF` and touches nothing.
        unsafe { fcntl(fd, F_GETFD) != -1 }
    }
}

/// Losing `Send`, `Sync` or `Unpin` fails here, not in a user's build.
#[test]
fn async_fd_and_its_guards_are_send() {
    use corium::io::unix::{AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
    fn assert_send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync_unpin::<AsyncFd<OwnedFd>>();
    assert_send_sync_unpin::<AsyncFdReadyGuard<'static, OwnedFd>>();
    assert_send_sync_unpin::<AsyncFdReadyMutGuard<'static, OwnedFd>>();
    assert_send_sync_unpin::<TryIoError>();
    bounded(LIMIT, || {
        run(build(corium::runtime::Builder::new_current_thread), async {
            let (reader, _writer) = pipe();
            let reader = AsyncFd::new(reader).unwrap();
            assert_send(&reader.readable());
            assert_send(&reader.async_io(Interest::Readable, |fd| read(fd, &mut [0; 1])));
        })
    });
}
