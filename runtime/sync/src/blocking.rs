//! Waiting on a future from a plain thread, for the `blocking_*` methods.
//!
//! The thread parks until the future's waker unparks it. It must not be a
//! thread that drives an async runtime, or that runtime stalls.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the calling thread, parking between polls.
///
/// # Panics
/// On a thread that drives a Corium runtime: parking it would stall every
/// task of that runtime, and hang for good if the value comes from one.
#[track_caller]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    #[cfg(not(loom))]
    assert!(
        !corium_reactor::is_driving_thread(),
        "a `blocking_*` method of corium::sync was called on a thread that runs a Corium \
         runtime's tasks; parking it would stall them all: use `.await` here, or move the \
         blocking call into `corium::task::spawn_blocking` or a plain thread"
    );
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}
