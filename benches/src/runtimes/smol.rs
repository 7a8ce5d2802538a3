//! smol's stack behind the benchmarks' [`Rt`] trait, in two flavors:
//! `smol`, an `async_executor::LocalExecutor` driven by `async_io::block_on`
//! (what `smol::block_on` is), and `smol-mt`, an `async_executor::Executor`
//! run by 2 threads of its own, each in `async_io::block_on` (what smol's
//! global executor does), while the calling thread only `block_on`s the
//! future it is given (as tokio's multi_thread `block_on` does). Both use
//! `async_io::Timer` for timers and `futures_lite::future::yield_now`.
//!
//! `async_io::block_on` rather than `futures_lite::future::block_on`: with
//! the latter no thread of ours drives async-io's reactor, so timers would
//! be fired by async-io's fallback thread and every expiry would be a
//! cross-thread wake, which is not how smol programs run.
//!
//! smol has no ambient "current executor", so the executor running
//! `block_on` (and, for `smol-mt`, the one each worker runs) is kept in a
//! thread-local for `spawn` to find, as tokio and Corium keep theirs.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_executor::{Executor, LocalExecutor, Task};
use async_io::Timer;

use crate::rt::{Flavor, Rt};

/// Threads running the `smol-mt` executor: 2, as tokio-mt's and corium-mt's
/// workers.
const MT_WORKERS: usize = 2;

thread_local! {
    /// The executor of the `Smol::block_on` running on this thread.
    static CURRENT: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
    /// The `smol-mt` executor this thread runs, or whose `block_on` it is in.
    static SHARED: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
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

/// smol on 2 threads: one `async_executor::Executor` run by [`MT_WORKERS`]
/// threads of its own; dropping it stops and joins them.
pub struct SmolMt {
    executor: Arc<Executor<'static>>,
    /// Dropped to stop the workers: each one's `run` returns when its
    /// receiver sees the channel closed.
    stop: Option<async_channel::Sender<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl SmolMt {
    /// Spawns on the executor this thread runs or `block_on`s for.
    fn spawn_task<F>(fut: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SHARED.with(|shared| {
            shared
                .borrow()
                .as_ref()
                .expect("smol-mt spawn outside SmolMt::block_on and its workers")
                .spawn(fut)
        })
    }

    /// Starts worker `index`: it runs `executor` until `stop` is closed.
    fn start_worker(
        index: usize,
        executor: &Arc<Executor<'static>>,
        stop: async_channel::Receiver<()>,
    ) -> JoinHandle<()> {
        let executor = Arc::clone(executor);
        std::thread::Builder::new()
            .name(format!("smol-mt-worker-{index}"))
            .spawn(move || {
                SHARED.with(|shared| *shared.borrow_mut() = Some(Arc::clone(&executor)));
                async_io::block_on(executor.run(async move {
                    // Err once the sender is dropped: time to stop.
                    let _ = stop.recv().await;
                }));
                SHARED.with(|shared| shared.borrow_mut().take());
            })
            .expect("start a smol-mt worker thread")
    }
}

impl Drop for SmolMt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for worker in self.workers.drain(..) {
            worker.join().expect("smol-mt worker panicked");
        }
    }
}

impl Rt for SmolMt {
    const NAME: &'static str = "smol-mt";
    const FLAVOR: Flavor = Flavor::MultiThread;
    const SUBJECT: bool = false;

    fn build() -> Self {
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = async_channel::bounded(1);
        let workers = (1..=MT_WORKERS)
            .map(|index| SmolMt::start_worker(index, &executor, stopped.clone()))
            .collect();
        SmolMt {
            executor,
            stop: Some(stop),
            workers,
        }
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        /// Clears the thread-local executor even if `fut` panics.
        struct Exit;
        impl Drop for Exit {
            fn drop(&mut self) {
                SHARED.with(|shared| shared.borrow_mut().take());
            }
        }
        SHARED.with(|shared| *shared.borrow_mut() = Some(Arc::clone(&self.executor)));
        let _exit = Exit;
        async_io::block_on(fut)
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolMt::spawn_task(fut)
    }

    fn spawn_detached<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SmolMt::spawn_task(fut).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        futures_lite::future::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        Smol::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        Smol::sleep_until(deadline)
    }
}
