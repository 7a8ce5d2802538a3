//! `CancellationToken`: waking every waiter, the parent/child tree (deep
//! chains, a dropped middle token, children born cancelled),
//! `cancelled_owned`, `run_until_cancelled`, `DropGuard`, cancel safety of
//! `cancelled()`, memory of a long-lived parent, and cancelling while
//! other threads add and drop children.

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{pending, Future};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier as StdBarrier};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use corium::sync::CancellationToken;
use corium::task::yield_now;
use corium::time::sleep;
use util::{bounded, count_polls, for_each_flavor, on_runtime, yield_until, DropCounter, Manual};

/// How long any one test may take before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// The system allocator, counting per thread the bytes allocated and not
/// yet freed, so a test can see whether a long-lived token grows.
struct CountingAlloc;

thread_local! {
    /// Bytes this thread allocated minus the bytes it freed.
    static NET_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn add_net_bytes(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = NET_BYTES.try_with(|net| net.set(net.get() + delta));
}

// SAFETY: every call is forwarded to `System` unchanged; the counting
// touches only a `Cell` in a const-initialised thread-local, which neither
// allocates nor registers a destructor.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add_net_bytes(layout.size() as isize);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_net_bytes(-(layout.size() as isize));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add_net_bytes(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Bytes the calling thread holds (allocated and not freed) so far.
fn net_bytes() -> isize {
    NET_BYTES.with(Cell::get)
}

#[test]
fn cancel_wakes_every_waiting_task() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let token = CancellationToken::new();
            let waiting = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    let (token, waiting) = (token.clone(), waiting.clone());
                    corium::spawn(async move {
                        let mut wait = std::pin::pin!(token.cancelled());
                        assert!(util::poll_once(wait.as_mut()).await.is_pending());
                        waiting.fetch_add(1, SeqCst);
                        wait.await;
                        assert!(token.is_cancelled());
                    })
                })
                .collect();
            let counted = waiting.clone();
            yield_until(move || counted.load(SeqCst) == 10).await;
            assert!(!token.is_cancelled());
            token.cancel();
            assert!(token.is_cancelled());
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}

#[test]
fn cancel_wakes_every_registered_waiter_once() {
    let token = CancellationToken::new();
    let mut waiters: Vec<_> = (0..20).map(|_| Manual::new(token.cancelled())).collect();
    for waiter in &mut waiters {
        waiter.pending();
    }
    token.cancel();
    token.cancel(); // a second cancel changes nothing
    for waiter in &mut waiters {
        assert_eq!(waiter.wakes(), 1);
        waiter.ready();
    }
}

#[test]
fn cancelled_completes_at_once_on_a_cancelled_token() {
    let token = CancellationToken::new();
    let clone = token.clone();
    clone.cancel();
    assert!(token.is_cancelled(), "clones share one state");
    Manual::new(token.cancelled()).ready();
    Manual::new(token.clone().cancelled_owned()).ready();
}

#[test]
fn a_child_is_cancelled_with_its_parent_but_not_the_reverse() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let sibling = parent.child_token();
    let mut child_wait = Manual::new(child.cancelled());
    let mut parent_wait = Manual::new(parent.cancelled());
    child_wait.pending();
    parent_wait.pending();

    let other = parent.child_token();
    other.cancel();
    assert!(other.is_cancelled());
    assert!(
        !parent.is_cancelled(),
        "cancelling a child reached its parent"
    );
    assert!(
        !sibling.is_cancelled(),
        "cancelling a child reached its sibling"
    );
    assert_eq!(parent_wait.wakes(), 0);

    parent.cancel();
    assert!(child.is_cancelled() && sibling.is_cancelled());
    assert_eq!(child_wait.wakes(), 1, "a waiter on the child must wake");
    child_wait.ready();
    parent_wait.ready();
}

#[test]
fn a_child_of_a_cancelled_token_is_born_cancelled() {
    let parent = CancellationToken::new();
    parent.cancel();
    let child = parent.child_token();
    assert!(child.is_cancelled());
    assert!(child.child_token().is_cancelled());
    Manual::new(child.cancelled()).ready();
}

#[test]
fn grandchildren_are_cancelled_with_the_root() {
    let root = CancellationToken::new();
    let children: Vec<_> = (0..3).map(|_| root.child_token()).collect();
    let grandchildren: Vec<_> = children.iter().map(|c| c.child_token()).collect();
    let mut waits: Vec<_> = grandchildren
        .iter()
        .map(|g| Manual::new(g.cancelled()))
        .collect();
    for wait in &mut waits {
        wait.pending();
    }
    root.cancel();
    assert!(children.iter().all(CancellationToken::is_cancelled));
    assert!(grandchildren.iter().all(CancellationToken::is_cancelled));
    for wait in &mut waits {
        assert_eq!(wait.wakes(), 1);
        wait.ready();
    }
}

/// A root token and `depth` generations below it, each token the child of
/// the one before: the root first, the leaf last.
fn token_chain(depth: usize) -> Vec<CancellationToken> {
    let mut chain = vec![CancellationToken::new()];
    for _ in 0..depth {
        let next = chain.last().unwrap().child_token();
        chain.push(next);
    }
    chain
}

#[test]
fn a_very_deep_chain_cancels_and_drops_without_recursion() {
    // Run on a thread with a small stack: recursion per level would
    // overflow it.
    const DEPTH: usize = 100_000;
    bounded(WATCHDOG, || {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                for drop_leaf_first in [false, true] {
                    let mut chain = token_chain(DEPTH);
                    let root = chain[0].clone();
                    let leaf = chain.last().unwrap().clone();
                    root.cancel();
                    assert!(leaf.is_cancelled());
                    if drop_leaf_first {
                        chain.reverse();
                    }
                    drop(chain);
                }
                // And dropped without being cancelled.
                for drop_leaf_first in [false, true] {
                    let mut chain = token_chain(DEPTH);
                    let root = chain[0].clone();
                    let leaf = chain.pop().unwrap();
                    if drop_leaf_first {
                        chain.reverse();
                    }
                    drop(chain);
                    // The dropped middle tokens handed the leaf up to the root.
                    root.cancel();
                    assert!(leaf.is_cancelled(), "leaf-first: {drop_leaf_first}");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    });
}

#[test]
fn dropping_a_middle_token_keeps_its_children_linked_to_the_grandparent() {
    let grandparent = CancellationToken::new();
    let middle = grandparent.child_token();
    let child = middle.child_token();
    let grandchild = child.child_token();
    let mut wait = Manual::new(grandchild.cancelled());
    wait.pending();
    drop(middle);
    drop(child);
    assert!(!grandchild.is_cancelled());
    grandparent.cancel();
    assert!(grandchild.is_cancelled(), "the dropped middle cut the link");
    assert_eq!(wait.wakes(), 1);
    wait.ready();
}

#[test]
fn dropping_one_clone_of_a_middle_token_keeps_it_in_the_tree() {
    let grandparent = CancellationToken::new();
    let middle = grandparent.child_token();
    let middle_clone = middle.clone();
    let child = middle.child_token();
    drop(middle);
    grandparent.cancel();
    assert!(middle_clone.is_cancelled());
    assert!(child.is_cancelled());
}

#[test]
fn dropping_the_root_leaves_its_children_alive_and_independent() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    drop(root);
    assert!(!child.is_cancelled(), "dropping is not cancelling");
    child.cancel();
    assert!(grandchild.is_cancelled());
}

#[test]
fn a_waiting_task_on_a_grandchild_wakes_after_the_middle_is_dropped() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let root = CancellationToken::new();
            let middle = root.child_token();
            let leaf = middle.child_token();
            let waiter = corium::spawn(leaf.cancelled_owned());
            yield_now().await;
            drop(middle);
            yield_now().await;
            assert!(!waiter.is_finished());
            root.cancel();
            waiter.await.unwrap();
        });
    });
}

#[test]
fn cancelled_owned_moves_into_a_spawned_task() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let token = CancellationToken::new();
            let waiter = corium::spawn(token.clone().cancelled_owned());
            let canceller = corium::spawn({
                let token = token.clone();
                async move {
                    sleep(Duration::from_millis(10)).await;
                    token.cancel();
                }
            });
            waiter.await.unwrap();
            assert!(token.is_cancelled());
            canceller.await.unwrap();
        });
    });
}

#[test]
fn run_until_cancelled_returns_the_output_when_the_future_wins() {
    let token = CancellationToken::new();
    let output = Manual::new(token.run_until_cancelled(async { 7 })).ready();
    assert_eq!(output, Some(7));
}

#[test]
fn run_until_cancelled_drops_the_future_when_the_token_wins() {
    let drops = DropCounter::new();
    let token = CancellationToken::new();
    let probe = drops.probe();
    let mut run = Manual::new(token.run_until_cancelled(async move {
        let _probe = probe;
        pending::<u32>().await
    }));
    run.pending();
    token.cancel();
    assert_eq!(run.wakes(), 1);
    assert_eq!(run.ready(), None);
    drop(run);
    assert_eq!(drops.count(), 1);
}

#[test]
fn run_until_cancelled_on_a_cancelled_token_never_polls_the_future() {
    let token = CancellationToken::new();
    token.cancel();
    let (future, polls) = count_polls(async { 1 });
    assert_eq!(Manual::new(token.run_until_cancelled(future)).ready(), None);
    assert_eq!(polls.load(SeqCst), 0);
}

#[test]
fn run_until_cancelled_checks_the_token_before_the_future() {
    // The future would finish on this poll, but the token was cancelled
    // while it waited: cancellation wins.
    let token = CancellationToken::new();
    let go = Arc::new(AtomicBool::new(false));
    let flag = go.clone();
    let future = std::future::poll_fn(move |_| {
        if flag.load(SeqCst) {
            Poll::Ready(5)
        } else {
            Poll::Pending
        }
    });
    let mut run = Manual::new(token.run_until_cancelled(future));
    run.pending();
    go.store(true, SeqCst);
    token.cancel();
    assert_eq!(run.ready(), None);
}

#[test]
fn run_until_cancelled_in_tasks() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, true, || async {
            let token = CancellationToken::new();
            let quick = token
                .run_until_cancelled(sleep(Duration::from_millis(1)))
                .await;
            assert_eq!(quick, Some(()));
            let canceller = corium::spawn({
                let token = token.clone();
                async move {
                    sleep(Duration::from_millis(5)).await;
                    token.cancel();
                }
            });
            let slow = token
                .run_until_cancelled(sleep(Duration::from_secs(3600)))
                .await;
            assert_eq!(slow, None);
            canceller.await.unwrap();
        });
    });
}

#[test]
fn a_drop_guard_cancels_and_a_disarmed_one_does_not() {
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    assert!(!token.is_cancelled());
    let disarmed = guard.disarm();
    assert!(!token.is_cancelled(), "disarm must not cancel");
    drop(disarmed);
    assert!(!token.is_cancelled());

    let child = token.child_token();
    let guard = token.clone().drop_guard();
    let mut wait = Manual::new(child.cancelled());
    wait.pending();
    drop(guard);
    assert!(token.is_cancelled() && child.is_cancelled());
    assert_eq!(wait.wakes(), 1);
}

#[test]
fn a_drop_guard_cancels_when_its_task_is_aborted() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let token = CancellationToken::new();
            let guard = token.clone().drop_guard();
            let task = corium::spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            yield_now().await;
            assert!(!token.is_cancelled());
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(token.is_cancelled());
        });
    });
}

/// A waker that, at the moment it is woken, looks at a set of tokens: the
/// only way to observe, without racing, what another thread's task would
/// see the instant its `cancelled()` completes.
struct LookOnWake {
    tokens: Vec<CancellationToken>,
    woken: AtomicBool,
    saw_live: AtomicUsize,
}

impl Wake for LookOnWake {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, SeqCst);
        let live = self.tokens.iter().filter(|t| !t.is_cancelled()).count();
        self.saw_live.store(live, SeqCst);
    }
}

#[test]
fn a_waiter_of_the_parent_wakes_only_after_the_children_are_cancelled() {
    let parent = CancellationToken::new();
    let children: Vec<_> = (0..3).map(|_| parent.child_token()).collect();
    let look = Arc::new(LookOnWake {
        tokens: children.clone(),
        woken: AtomicBool::new(false),
        saw_live: AtomicUsize::new(0),
    });
    let waker = Waker::from(look.clone());
    let mut wait = Box::pin(parent.cancelled());
    assert!(wait
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    parent.cancel();
    assert!(look.woken.load(SeqCst));
    assert_eq!(
        look.saw_live.load(SeqCst),
        0,
        "the parent's waiter was woken while children were not yet cancelled"
    );
    assert!(children.iter().all(CancellationToken::is_cancelled));
}

#[test]
fn a_dropped_cancelled_future_leaves_the_other_waiters_fine() {
    let token = CancellationToken::new();
    let mut a = Manual::new(token.cancelled());
    let mut b = Manual::new(token.cancelled());
    let mut c = Manual::new(token.cancelled());
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    let unpolled = token.cancelled();
    drop(unpolled);
    token.cancel();
    assert_eq!((a.wakes(), c.wakes()), (1, 1));
    a.ready();
    c.ready();
}

#[test]
fn a_woken_cancelled_future_dropped_before_it_looks_is_fine() {
    let token = CancellationToken::new();
    let mut a = Manual::new(token.cancelled());
    let mut b = Manual::new(token.clone().cancelled_owned());
    a.pending();
    b.pending();
    token.cancel();
    drop(a);
    drop(b);
    Manual::new(token.cancelled()).ready();
}

#[test]
fn waiting_and_giving_up_many_times_keeps_the_token_working() {
    let token = CancellationToken::new();
    for _ in 0..10_000 {
        let mut wait = Manual::new(token.cancelled());
        wait.pending();
    }
    let mut last = Manual::new(token.cancelled());
    last.pending();
    token.cancel();
    assert_eq!(last.wakes(), 1);
    last.ready();
}

#[test]
fn a_long_lived_parent_does_not_grow_with_short_lived_children() {
    const CHILDREN: usize = 100_000;
    // `bounded` runs this on a fresh thread, so the per-thread count sees
    // only this test's allocations.
    bounded(WATCHDOG, || {
        {
            let parent = CancellationToken::new();
            let live = parent.child_token();
            // Warm up: let the parent's child list reach its steady size.
            for _ in 0..100 {
                drop(parent.child_token());
            }
            let before = net_bytes();
            for i in 0..CHILDREN {
                let child = parent.child_token();
                if i % 2 == 0 {
                    let grandchild = child.child_token();
                    drop(child); // the grandchild moves up to the parent
                    drop(grandchild);
                } else {
                    let mut wait = Manual::new(child.cancelled());
                    wait.pending();
                }
            }
            let grown = net_bytes() - before;
            // A leak of even a few bytes per child would be megabytes.
            assert!(
                grown < 64 * 1024,
                "{CHILDREN} short-lived children left {grown} bytes behind"
            );
            parent.cancel();
            assert!(live.is_cancelled());
        }
    });
}

#[test]
fn children_added_and_dropped_while_the_parent_is_cancelled_all_end_cancelled() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_000;
    bounded(WATCHDOG, || {
        for round in 0..20 {
            let parent = CancellationToken::new();
            let made = Arc::new(AtomicUsize::new(0));
            let start = Arc::new(StdBarrier::new(THREADS + 1));
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (parent, made, start) = (parent.clone(), made.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let mut kept = Vec::new();
                        for i in 0..PER_THREAD {
                            made.fetch_add(1, SeqCst);
                            let child = parent.child_token();
                            match (i + t) % 4 {
                                // Kept: must end cancelled.
                                0 => kept.push(child),
                                // A grandchild kept, its parent dropped:
                                // it must move up and still be cancelled.
                                1 => kept.push(child.child_token()),
                                // A clone kept, the original dropped.
                                2 => kept.push(child.clone()),
                                // Dropped at once.
                                _ => {}
                            }
                        }
                        kept
                    })
                })
                .collect();
            start.wait();
            // Cancel somewhere in the middle of the churn.
            let target = round * THREADS * PER_THREAD / 20;
            while made.load(SeqCst) < target {
                std::thread::yield_now();
            }
            parent.cancel();
            for thread in threads {
                let kept = thread.join().unwrap();
                let live = kept.iter().filter(|c| !c.is_cancelled()).count();
                assert_eq!(live, 0, "round {round}: {live} children escaped the cancel");
            }
            assert!(parent.child_token().is_cancelled());
        }
    });
}

#[test]
fn cancelling_from_another_thread_wakes_a_parked_task() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let token = CancellationToken::new();
            let child = token.child_token();
            let canceller = std::thread::spawn(move || token.cancel());
            child.cancelled().await;
            corium::task::spawn_blocking(move || canceller.join().unwrap())
                .await
                .unwrap();
        });
    });
}

/// The wait a graceful-shutdown `select!` keeps across requests: one
/// `cancelled_owned` future, polled once per request with the same waker
/// (the poll that takes no lock), while the requests come from another
/// thread and the cancel from a third, at a random moment. A cancel that
/// slips past the lock-free poll leaves a task asleep on a channel that
/// sends nothing more: the watchdog fails the test.
#[test]
fn a_kept_wait_polled_between_requests_always_sees_a_cancel_from_another_thread() {
    const TASKS: usize = 8;
    const ROUNDS: u64 = 100;
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let mut rng = util::Lcg(7);
            for _ in 0..ROUNDS {
                let token = CancellationToken::new();
                let mut senders = Vec::new();
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let (tx, mut rx) = corium::sync::mpsc::unbounded_channel::<()>();
                    senders.push(tx);
                    let stop = token.child_token();
                    tasks.push(corium::spawn(async move {
                        let mut cancelled = std::pin::pin!(stop.cancelled_owned());
                        let mut served = 0u32;
                        loop {
                            corium::select! {
                                biased;
                                () = cancelled.as_mut() => return served,
                                request = rx.recv() => {
                                    request.expect("the test keeps its senders");
                                    served += 1;
                                }
                            }
                        }
                    }));
                }
                let requests = rng.below(200);
                let cancel_after = rng.below(requests + 1);
                let feeder = std::thread::spawn(move || {
                    for i in 0..requests {
                        let _ = senders[i % TASKS].send(());
                    }
                    senders // kept alive until joined below
                });
                let canceller = std::thread::spawn(move || {
                    for _ in 0..cancel_after * 50 {
                        std::hint::spin_loop();
                    }
                    token.cancel();
                });
                for task in tasks {
                    task.await.unwrap();
                }
                let (feeder, canceller) =
                    corium::task::spawn_blocking(move || (feeder.join(), canceller.join()))
                        .await
                        .unwrap();
                drop(feeder.unwrap());
                canceller.unwrap();
            }
        });
    });
}

#[test]
fn tokens_and_their_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send_future<F: Future + Send>(_: F) {}
    assert_send_sync::<CancellationToken>();
    assert_send_sync::<corium::sync::DropGuard>();
    assert_send_sync::<corium::sync::WaitForCancellationFutureOwned>();
    assert_send_sync::<corium::sync::WaitForCancellationFuture<'static>>();
    let token = CancellationToken::new();
    assert_send_future(token.cancelled());
    assert_send_future(token.run_until_cancelled(async {}));
}
