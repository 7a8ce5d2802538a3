//! Shared helpers for the behaviour tests: runtimes of every flavor, drop
//! and poll probes, futures polled by hand with a counting waker, and a
//! watchdog that turns a hang into a failure.
#![allow(dead_code)] // each test binary uses its own subset

mod manual;

#[allow(unused_imports)] // each test binary uses its own subset
pub use manual::{Manual, TestWaker};

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;

use corium::runtime::{Builder, Runtime};
use corium::task::yield_now;

pub mod net;

/// How a test builds a runtime of one flavor.
pub type Flavor = fn() -> Builder;

/// Every executor flavor, by name. A new flavor is one line here, and every
/// test written with [`for_each_flavor`] runs on it.
pub const FLAVORS: &[(&str, Flavor)] = &[
    ("current_thread", Builder::new_current_thread),
    ("multi_thread", Builder::new_multi_thread),
    (
        "multi_thread, a reactor per worker",
        multi_thread_per_worker,
    ),
];

/// The multi-thread flavor with its other reactor topology (the default
/// shares one I/O reactor between the workers).
fn multi_thread_per_worker() -> Builder {
    let mut builder = Builder::new_multi_thread();
    builder.reactor_topology(corium::runtime::ReactorTopology::PerWorker);
    builder
}

/// Runs `test` once per executor flavor. The flavor's name is printed first,
/// so a failure's captured output says which flavor failed.
pub fn for_each_flavor(mut test: impl FnMut(Flavor)) {
    for (name, flavor) in FLAVORS {
        eprintln!("--- flavor: {name}");
        test(*flavor);
    }
}

/// The flavors with a paused clock: current-thread only. A paused clock
/// jumps to the next timer when the one thread running tasks is idle; the
/// multi-thread flavor refuses it at build, as tokio's does (see
/// `multi_thread_refuses_a_paused_clock` in timers.rs).
pub const PAUSED_FLAVORS: &[(&str, Flavor)] = &[("current_thread", Builder::new_current_thread)];

/// [`for_each_flavor`] for tests that need a paused clock.
pub fn for_each_paused_flavor(mut test: impl FnMut(Flavor)) {
    for (name, flavor) in PAUSED_FLAVORS {
        eprintln!("--- flavor: {name} (paused clock)");
        test(*flavor);
    }
}

/// [`for_each_flavor_within`] for tests that need a paused clock.
pub fn for_each_paused_flavor_within(limit: Duration, test: impl FnMut(Flavor) + Send + 'static) {
    bounded(limit, move || for_each_paused_flavor(test));
}

/// Runs `test` on the current-thread flavor only: for a test of an
/// interleaving that only one thread running every task guarantees (the
/// exact order of two yielding tasks, say). Its caller says why.
pub fn on_current_thread_only(test: impl FnOnce(Flavor)) {
    eprintln!("--- flavor: current_thread (only)");
    test(Builder::new_current_thread);
}

/// A runtime of `flavor` on the real clock.
pub fn build(flavor: Flavor) -> Runtime {
    flavor().build().expect("runtime builds")
}

/// A runtime of `flavor` whose clock starts paused (timers are exact and
/// take no wall time).
pub fn build_paused(flavor: Flavor) -> Runtime {
    flavor().start_paused(true).build().expect("runtime builds")
}

/// Runs `future` to completion on `runtime`, then drops the runtime (a
/// panic in the future unwinds through `block_on`, and the runtime still
/// drops cleanly: see `panic.rs`).
#[track_caller]
pub fn run<F: Future>(runtime: Runtime, future: F) -> F::Output {
    let output = runtime.block_on(future);
    drop(runtime);
    output
}

/// A current-thread runtime on the real clock.
pub fn rt() -> Runtime {
    build(Builder::new_current_thread)
}

/// A current-thread runtime whose clock starts paused.
pub fn paused_rt() -> Runtime {
    build_paused(Builder::new_current_thread)
}

/// Counts how many of its probes were dropped: give a probe to a future and
/// the count says whether the runtime dropped that future.
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A probe that adds one to this counter when dropped.
    pub fn probe(&self) -> OnDrop {
        OnDrop(self.0.clone())
    }

    /// Probes dropped so far.
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A probe that adds one to its [`DropCounter`] when dropped.
#[derive(Debug)]
pub struct OnDrop(Arc<AtomicUsize>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A probe dropped into `counter` (shorthand for `counter.probe()`).
pub fn on_drop(counter: &DropCounter) -> OnDrop {
    counter.probe()
}

/// A future that counts how often it is polled, around an inner future.
#[derive(Debug)]
pub struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

/// Not a future itself, but `IntoFuture`: what `.await` and the macros
/// accept besides futures. Resolves to its number at once.
pub struct Deferred(pub u32);

impl std::future::IntoFuture for Deferred {
    type Output = u32;
    type IntoFuture = std::future::Ready<u32>;

    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self.0)
    }
}

/// Wraps `inner` in a poll-counting probe; the counter reads the polls.
pub fn count_polls<F: Future>(inner: F) -> (CountPolls<F>, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let probe = CountPolls {
        inner: Box::pin(inner),
        polls: polls.clone(),
    };
    (probe, polls)
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// Polls `future` exactly once (to register a timer, say) and reports the
/// result.
pub async fn poll_once<F: Future + ?Sized>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Runs `f` on its own thread and fails the test if it has not returned
/// within `limit`: a hang becomes a failure instead of a stuck CI job. The
/// thread of a hung `f` is leaked. A panic in `f` is re-raised here.
#[track_caller]
pub fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("did not finish within {limit:?} (hung?)"),
    }
}

/// Runs the future `test` makes on a runtime of every flavor, failing if
/// it does not finish within `limit` on each.
pub fn on_every_flavor<F, Fut>(limit: Duration, test: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()>,
{
    for_each_flavor(|flavor| {
        let test = test.clone();
        bounded(limit, move || run(build(flavor), test()));
    });
}

/// [`for_each_flavor`] under one watchdog: fails if all the flavors
/// together take longer than `limit`.
pub fn for_each_flavor_within(limit: Duration, test: impl FnMut(Flavor) + Send + 'static) {
    bounded(limit, move || for_each_flavor(test));
}

/// Runs `test` as a task on a runtime of `flavor` (so `yield_now` lets the
/// other tasks run), its clock paused if `paused`, failing if it does not
/// finish within `limit`; a panic in it fails the test with its own
/// message.
pub fn on_runtime<F>(
    limit: Duration,
    flavor: Flavor,
    paused: bool,
    test: impl FnOnce() -> F + Send + 'static,
) where
    F: Future<Output = ()> + Send + 'static,
{
    bounded(limit, move || {
        let runtime = match flavor().start_paused(paused).build() {
            Ok(runtime) => runtime,
            Err(e) if paused => {
                // The multi-thread flavor has no paused clock (see
                // `PAUSED_FLAVORS`): this test runs on the others only.
                eprintln!("--- skipped on this flavor: {e}");
                return;
            }
            Err(e) => panic!("runtime builds: {e}"),
        };
        run(runtime, async move {
            if let Err(e) = corium::spawn(test()).await {
                std::panic::resume_unwind(e.into_panic());
            }
        })
    });
}

/// Yields until `done` says so; fails after [`YIELD_UNTIL_LIMIT`] rather
/// than spinning forever. Call it from a spawned task: `yield_now` in a
/// `block_on` future does not let tasks run (see wakeups.rs).
///
/// The limit is a time, not a number of yields: on the multi-thread flavor
/// the task that makes `done` true may sit on another worker whose thread
/// the OS has not scheduled, and a thousand yields pass in well under a
/// millisecond.
pub async fn yield_until(done: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < YIELD_UNTIL_LIMIT,
            "not done after {YIELD_UNTIL_LIMIT:?} of yields"
        );
        yield_now().await;
    }
}

/// How long [`yield_until`] yields before it fails.
pub const YIELD_UNTIL_LIMIT: Duration = Duration::from_secs(10);

/// A small deterministic generator, so a failing sequence repeats.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number, below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The text of a panic payload (`&str` or `String`), or "" for others.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The panic message of `f`, which must panic.
#[track_caller]
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_message(&*payload),
    }
}

/// A latch that threads (blocking closures, tasks that hold a worker) wait
/// on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    /// Lets every waiter through, now and later.
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    /// Blocks until the gate is open; gives up after `limit` with a panic,
    /// so a failed test does not leave the thread stuck.
    pub fn wait(&self, limit: Duration) {
        let (open, opened) = &*self.0;
        let guard = open.lock().unwrap();
        let (guard, _) = opened
            .wait_timeout_while(guard, limit, |open| !*open)
            .unwrap();
        assert!(*guard, "the gate was never opened");
    }
}

/// How long [`hold_workers`] waits for the workers to take its blockers,
/// and how long a blocker holds its worker at most.
const HOLD_LIMIT: Duration = Duration::from_secs(30);

/// Keeps every worker of the runtime behind `handle` busy until dropped, so
/// no task spawned meanwhile can be polled: what a test of "X happens before
/// the task's first poll" needs on the multi-thread flavor, where a spawned
/// task may otherwise run on another worker at once. On the current-thread
/// flavor it holds nothing: tasks run there only when the caller awaits.
///
/// Call it from outside the workers (a `block_on` future, or the thread that
/// built the runtime): it blocks until every worker has taken a blocker.
#[must_use = "the workers are released when this is dropped"]
pub fn hold_workers(handle: &corium::runtime::Handle) -> HeldWorkers {
    let gate = Gate::default();
    if handle.runtime_flavor() == corium::runtime::RuntimeFlavor::CurrentThread {
        return HeldWorkers(gate);
    }
    let workers = handle.metrics().num_workers();
    let (started, taken) = mpsc::channel();
    for _ in 0..workers {
        let gate = gate.clone();
        let started = started.clone();
        drop(handle.spawn(async move {
            started.send(()).unwrap();
            gate.wait(HOLD_LIMIT);
        }));
    }
    for _ in 0..workers {
        taken
            .recv_timeout(HOLD_LIMIT)
            .expect("every worker takes a blocker within 30 s");
    }
    HeldWorkers(gate)
}

/// Returned by [`hold_workers`]; dropping it lets the workers go.
pub struct HeldWorkers(Gate);

impl Drop for HeldWorkers {
    fn drop(&mut self) {
        self.0.open();
    }
}
