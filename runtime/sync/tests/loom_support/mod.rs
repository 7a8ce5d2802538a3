//! Shared helpers of the loom models (`tests/loom_*.rs`).
//!
//! Two ways to drive a future on a loom thread:
//!
//! * [`loom::future::block_on`] parks the loom thread until the future's
//!   waker fires. A lost wakeup leaves every thread parked, which loom
//!   reports as a deadlock: the model fails.
//! * [`poll_with`] polls once with a [`WakeFlag`] waker that records
//!   wakes. A model that saw `Pending` joins whatever had to wake the
//!   future and then asserts [`WakeFlag::woken`] *before* polling again.
//!   [`poll_once`] polls once inside `block_on`, so the future keeps a real
//!   loom waker (a different one on every call).
#![allow(dead_code)] // every model file uses a different subset

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` under loom with the preemption bound `bound` (`None`:
/// exhaustive), unless `LOOM_MAX_PREEMPTIONS` is set (loom reads it in
/// `Builder::new`), and prints how many interleavings it explored.
pub fn model_with_bound<F>(bound: Option<usize>, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = bound;
    }
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = runs.clone();
    let start = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    // Shown with `--nocapture` (loom.sh passes it).
    eprintln!(
        "{}: {} interleavings, preemption bound {:?}, {:.2?}",
        thread_name(),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound,
        start.elapsed()
    );
}

/// Models with three threads: preemption bound 3 (exhaustive takes
/// minutes for them).
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_with_bound(Some(3), f);
}

/// Models with two threads: every interleaving, in milliseconds.
pub fn model_exhaustive<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_with_bound(None, f);
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("model").to_string()
}

/// A waker that counts its wakes in a loom atomic.
#[derive(Debug)]
pub struct WakeFlag(AtomicUsize);

impl WakeFlag {
    pub fn new() -> (std::sync::Arc<WakeFlag>, Waker) {
        let flag = std::sync::Arc::new(WakeFlag(AtomicUsize::new(0)));
        let waker = Waker::from(flag.clone());
        (flag, waker)
    }

    pub fn woken(&self) -> bool {
        self.wakes() > 0
    }

    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Wake for WakeFlag {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_with<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once inside [`loom::future::block_on`], so it registers a
/// loom waker of its own.
pub fn poll_once<F: Future + ?Sized>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    loom::future::block_on(std::future::poll_fn(|cx| {
        Poll::Ready(fut.as_mut().poll(cx))
    }))
}

/// Drives `fut` to completion with [`loom::future::block_on`].
pub fn block_on<F: Future>(fut: F) -> F::Output {
    loom::future::block_on(fut)
}
