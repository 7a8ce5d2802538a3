//! Polling by hand: a waker that counts its wakes, and a future wrapper
//! that polls with one, so a test can put a waiter into an exact state
//! (queued, chosen, cancelled) and see whom an event woke.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

/// A waker that counts its wakes: poll a future by hand with it, then ask
/// whether (and how often) it was woken. It is `Send` and `Sync`, so the
/// race tests share one across threads.
#[derive(Debug)]
pub struct TestWaker {
    wakes: Arc<WakeCount>,
    waker: Waker,
}

/// The count behind a [`TestWaker`].
#[derive(Debug, Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl Default for TestWaker {
    fn default() -> TestWaker {
        TestWaker::new()
    }
}

impl TestWaker {
    pub fn new() -> TestWaker {
        let wakes = Arc::new(WakeCount::default());
        let waker = Waker::from(wakes.clone());
        TestWaker { wakes, waker }
    }

    /// The waker itself.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// A context of this waker, for `poll_*` methods.
    pub fn context(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }

    /// Polls `future` once with this waker.
    pub fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut self.context())
    }

    /// Wakes so far.
    pub fn wakes(&self) -> usize {
        self.wakes.0.load(SeqCst)
    }

    /// True once the poller was woken since the waker was made.
    pub fn woken(&self) -> bool {
        self.wakes() > 0
    }

    /// Spins until woken: a lost wakeup turns into a hang, which the
    /// caller's `bounded` turns into a failure.
    pub fn wait(&self) {
        while !self.woken() {
            thread::yield_now();
        }
    }
}

/// A future polled by hand with its own [`TestWaker`].
pub struct Manual<F> {
    future: Pin<Box<F>>,
    waker: TestWaker,
}

impl<F: Future> Manual<F> {
    pub fn new(future: F) -> Manual<F> {
        Manual {
            future: Box::pin(future),
            waker: TestWaker::new(),
        }
    }

    /// Polls the future once.
    pub fn poll(&mut self) -> Poll<F::Output> {
        self.waker.poll(self.future.as_mut())
    }

    /// Polls the future once; it must be ready.
    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    /// Polls the future once; it must wait.
    #[track_caller]
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected the future to wait");
    }

    /// How often the future was woken so far.
    pub fn wakes(&self) -> usize {
        self.waker.wakes()
    }

    /// The future itself, for calls beyond `poll` (`Notified::enable`).
    pub fn future(&mut self) -> Pin<&mut F> {
        self.future.as_mut()
    }
}
