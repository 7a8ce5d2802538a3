//! tokio, the reference peer, in its two flavors behind the benchmarks'
//! [`Rt`] trait: `current_thread` and `multi_thread` with 2 workers (the
//! default `#[tokio::main]` on this 2-core machine).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::rt::{Flavor, Rt};

/// tokio's `current_thread` runtime, all drivers enabled.
pub struct TokioCt(tokio::runtime::Runtime);

/// tokio's `multi_thread` runtime with 2 workers, all drivers enabled.
pub struct TokioMt(tokio::runtime::Runtime);

/// Implements [`Rt`] for a tokio runtime type; only building differs
/// between the flavors.
macro_rules! tokio_rt {
    ($ty:ident, $name:literal, $flavor:expr, $builder:expr) => {
        impl Rt for $ty {
            const NAME: &'static str = $name;
            const FLAVOR: Flavor = $flavor;
            const SUBJECT: bool = false;

            fn build() -> Self {
                $ty($builder.enable_all().build().expect("build tokio runtime"))
            }

            fn block_on<F: Future>(&self, fut: F) -> F::Output {
                self.0.block_on(fut)
            }

            fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                spawn(fut)
            }

            fn spawn_detached<F>(fut: F)
            where
                F: Future<Output = ()> + Send + 'static,
            {
                drop(tokio::spawn(fut));
            }

            fn yield_now() -> impl Future<Output = ()> + Send + 'static {
                tokio::task::yield_now()
            }

            fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
                tokio::time::sleep(duration)
            }

            fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
                tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
            }
        }
    };
}

tokio_rt!(
    TokioCt,
    "tokio-ct",
    Flavor::CurrentThread,
    tokio::runtime::Builder::new_current_thread()
);
tokio_rt!(
    TokioMt,
    "tokio-mt",
    Flavor::MultiThread,
    tokio::runtime::Builder::new_multi_thread().worker_threads(2)
);

/// `tokio::spawn`, joined without the `Result` (a panicked task aborts).
fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = tokio::spawn(fut);
    async move { handle.await.expect("tokio task failed") }
}
