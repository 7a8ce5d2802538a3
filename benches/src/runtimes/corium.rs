//! Corium, the runtime under test, behind the benchmarks' [`Rt`] trait.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::rt::{Flavor, Rt};

/// Corium's current-thread runtime.
pub struct CoriumCt(corium::runtime::Runtime);

impl Rt for CoriumCt {
    const NAME: &'static str = "corium-ct";
    const FLAVOR: Flavor = Flavor::CurrentThread;
    const SUBJECT: bool = true;

    fn build() -> Self {
        CoriumCt(
            corium::runtime::Builder::new_current_thread()
                .build()
                .expect("build corium current-thread runtime"),
        )
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = corium::spawn(fut);
        async move { handle.await.expect("corium task failed") }
    }

    fn spawn_detached<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(corium::spawn(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        corium::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        corium::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        corium::time::sleep_until(corium::time::Instant::from_std(deadline))
    }
}
