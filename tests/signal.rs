//! Signals: the self-pipe wakes every listener, in every runtime, once per
//! delivery.
//!
//! The tests share one process and so its signal handlers; each test uses
//! its own signal so that parallel tests do not see each other's.
mod util;

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corium::signal::unix::{signal, Signal, SignalKind};
use corium::time::timeout;
use util::for_each_flavor;

const LIMIT: Duration = Duration::from_secs(10);

fn raise(kind: SignalKind) {
    // SAFETY: `raise` is safe to call with any signal number; the signals
    // these tests raise have handlers installed by `signal` first, so none
    // ends the process.
    let rc = unsafe { libc::raise(kind.as_raw_value()) };
    assert_eq!(rc, 0, "raise failed");
}

/// Polls `future` once, so that a listener created on first poll exists.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx))).await
}

/// `future`'s output, or `None` if `limit` passes first. Unlike `timeout`,
/// the future is not polled once more when the limit passes, so a lost
/// wakeup shows as `None` instead of being covered up by that last poll.
async fn woken_within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut deadline = pin!(corium::time::sleep(limit));
    std::future::poll_fn(|cx| {
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}

async fn expect_delivery(listener: &mut Signal) {
    let got = woken_within(LIMIT, listener.recv()).await;
    assert_eq!(got, Some(Some(())), "the signal did not arrive");
}

async fn expect_nothing(listener: &mut Signal) {
    let got = timeout(Duration::from_millis(50), listener.recv()).await;
    assert!(got.is_err(), "a delivery that never happened: {got:?}");
}

#[test]
fn a_raised_signal_completes_recv() {
    for_each_flavor(|flavor| {
        util::run(util::build(flavor), async {
            let mut hangup = signal(SignalKind::hangup()).unwrap();
            raise(SignalKind::hangup());
            expect_delivery(&mut hangup).await;
            expect_nothing(&mut hangup).await;
        })
    });
}

#[test]
fn a_signal_from_another_thread_wakes_a_waiting_runtime() {
    for_each_flavor(|flavor| {
        util::run(util::build(flavor), async {
            let kind = SignalKind::user_defined1();
            let mut listener = signal(kind).unwrap();
            // The runtime is asleep in its reactor when the signal comes.
            let sender = thread::spawn(move || {
                thread::sleep(Duration::from_millis(30));
                raise(kind);
            });
            expect_delivery(&mut listener).await;
            sender.join().unwrap();
        })
    });
}

#[test]
fn a_burst_before_the_task_runs_is_not_lost() {
    for_each_flavor(|flavor| {
        util::run(util::build(flavor), async {
            let kind = SignalKind::user_defined2();
            let mut listener = signal(kind).unwrap();
            // `raise` runs the handler before it returns, so these are three
            // deliveries, all before the listener is polled.
            for _ in 0..3 {
                raise(kind);
            }
            for _ in 0..3 {
                expect_delivery(&mut listener).await;
            }
            expect_nothing(&mut listener).await;
        })
    });
}

#[test]
fn every_listener_in_every_runtime_is_woken() {
    let kind = SignalKind::window_change();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    // Two runtimes of each flavor, each on its own thread.
    let runtimes: Vec<_> = util::FLAVORS
        .iter()
        .chain(util::FLAVORS)
        .map(|&(_, flavor)| {
            let ready = ready_tx.clone();
            thread::spawn(move || {
                util::run(util::build(flavor), async move {
                    let mut first = signal(kind).unwrap();
                    let mut second = signal(kind).unwrap();
                    ready.send(()).unwrap();
                    expect_delivery(&mut first).await;
                    expect_delivery(&mut second).await;
                })
            })
        })
        .collect();
    for _ in 0..runtimes.len() {
        ready_rx.recv_timeout(LIMIT).unwrap();
    }
    raise(kind);
    for runtime in runtimes {
        runtime.join().expect("a listener missed the signal");
    }
}

#[test]
fn a_listener_created_after_a_delivery_does_not_see_it() {
    util::run(util::rt(), async {
        let kind = SignalKind::alarm();
        let mut early = signal(kind).unwrap();
        raise(kind);
        let mut late = signal(kind).unwrap();
        expect_delivery(&mut early).await;
        expect_nothing(&mut late).await;
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    util::run(util::rt(), async {
        let mut interrupted = pin!(corium::signal::ctrl_c());
        assert!(poll_once(&mut interrupted).await.is_pending());
        raise(SignalKind::interrupt());
        let got = woken_within(LIMIT, interrupted).await;
        assert!(matches!(got, Some(Ok(()))), "{got:?}");
    });
}

#[test]
fn uncatchable_and_invalid_signals_are_refused() {
    util::run(util::rt(), async {
        for raw in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 1000] {
            let e = signal(SignalKind::from_raw(raw)).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{raw}: {e}");
            assert!(e.to_string().contains(&raw.to_string()), "{e}");
        }
    });
}

#[test]
fn outside_a_runtime_signal_is_an_error_that_says_so() {
    let e = signal(SignalKind::quit()).unwrap_err();
    assert!(e.to_string().contains("no Corium runtime"), "{e}");
}

#[test]
fn recv_returns_none_once_the_runtime_is_gone() {
    let runtime = util::rt();
    let mut listener = runtime.block_on(async { signal(SignalKind::pipe()).unwrap() });
    drop(runtime);
    let got = util::run(util::rt(), async move {
        woken_within(LIMIT, listener.recv()).await
    });
    assert_eq!(got, Some(None));
}

#[test]
fn a_storm_from_many_threads_is_counted_exactly() {
    // `raise` runs the handler on the raising thread before it returns, so
    // every call is one delivery, however many threads raise at once.
    const THREADS: usize = 4;
    const EACH: usize = 2_000;
    let kind = SignalKind::from_raw(libc::SIGURG);
    for_each_flavor(|flavor| {
        util::run(util::build(flavor), async move {
            let mut listener = signal(kind).unwrap();
            let raisers: Vec<_> = (0..THREADS)
                .map(|_| thread::spawn(move || (0..EACH).for_each(|_| raise(kind))))
                .collect();
            for _ in 0..THREADS * EACH {
                expect_delivery(&mut listener).await;
            }
            for raiser in raisers {
                raiser.join().unwrap();
            }
            expect_nothing(&mut listener).await;
        })
    });
}
