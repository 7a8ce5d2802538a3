//! smol's stack behind the benchmarks' [`Rt`] trait: an
//! `async_executor::LocalExecutor` driven by `async_io::block_on` (what
//! `smol::block_on` is), with `async_io::Timer` for timers and
//! `futures_lite::future::yield_now`.
//!
//! `async_io::block_on` rather than `futures_lite::future::block_on`: with
//! the latter no thread of ours drives async-io's reactor, so timers would
//! be fired by async-io's fallback thread and every expiry would be a
//! cross-thread wake, which is not how smol programs run.
//!
//! smol has no ambient "current executor", so the executor running
//! `block_on` is kept in a thread-local for `spawn` to find, as tokio and
//! Corium keep theirs.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use async_executor::{LocalExecutor, Task};
use async_io::Timer;

use crate::rt::{Flavor, Rt};

thread_local! {
    /// The executor of the `Smol::block_on` running on this thread.
    static CURRENT: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
}

/// A single-thread smol executor.
pub struct Smol(Rc<LocalExecutor<'static>>);

impl Smol {
    /// Spawns on the executor of the enclosing `block_on`.
    fn spawn_task<F>(fut: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        CURRENT.with(|current| {
            current
                .borrow()
                .as_ref()
                .expect("smol spawn outside Smol::block_on")
                .spawn(fut)
        })
    }
}

impl Rt for Smol {
    const NAME: &'static str = "smol";
    const FLAVOR: Flavor = Flavor::CurrentThread;
    const SUBJECT: bool = false;

    fn build() -> Self {
        Smol(Rc::new(LocalExecutor::new()))
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        /// Clears the thread-local executor even if `fut` panics.
        struct Exit;
        impl Drop for Exit {
            fn drop(&mut self) {
                CURRENT.with(|current| current.borrow_mut().take());
            }
        }
        CURRENT.with(|current| *current.borrow_mut() = Some(Rc::clone(&self.0)));
        let _exit = Exit;
        async_io::block_on(self.0.run(fut))
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Smol::spawn_task(fut)
    }

    fn spawn_detached<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Smol::spawn_task(fut).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        futures_lite::future::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        let timer = Timer::after(duration);
        async move {
            timer.await;
        }
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        let timer = Timer::at(deadline);
        async move {
            timer.await;
        }
    }
}
