//! Corium, the runtime under test, in its two flavors behind the
//! benchmarks' [`Rt`] trait: current-thread, and multi-thread with 2
//! workers (the same worker count as the tokio-mt and smol-mt columns).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::rt::{Flavor, Rt};

/// Corium's current-thread runtime.
pub struct CoriumCt(corium::runtime::Runtime);

/// Corium's multi-thread runtime with 2 workers.
pub struct CoriumMt(corium::runtime::Runtime);

/// Implements [`Rt`] for a Corium runtime type; only building differs
/// between the flavors.
macro_rules! corium_rt {
    ($ty:ident, $name:literal, $flavor:expr, $builder:expr) => {
        impl Rt for $ty {
            const NAME: &'static str = $name;
            const FLAVOR: Flavor = $flavor;
            const SUBJECT: bool = true;

            fn build() -> Self {
                $ty($builder
                    .build()
                    .expect(concat!("build the ", $name, " runtime")))
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
    };
}

corium_rt!(
    CoriumCt,
    "corium-ct",
    Flavor::CurrentThread,
    corium::runtime::Builder::new_current_thread()
);
corium_rt!(
    CoriumMt,
    "corium-mt",
    Flavor::MultiThread,
    corium::runtime::Builder::new_multi_thread().worker_threads(2)
);
