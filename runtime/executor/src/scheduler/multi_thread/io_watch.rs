//! Who watches the I/O reactor the workers share (`SharedIo` in `mod.rs`).
//!
//! The worker that waits on the shared reactor leaves it when it has tasks
//! to run. If one of them blocks the thread while the other workers sleep
//! apart, no thread waits for I/O, and every connection waits for that
//! poll to end (tokio's driver works that way). So a worker sleeping apart
//! sleeps a bounded time (`IO_RECHECK` in `worker.rs`) the first time,
//! then tries the shared reactor again. It sleeps with no bound only
//! *deeply*: while a worker waits on the shared reactor, after saying so
//! ([`IoWatch::sleep_deep`]), and that worker wakes it when it stops
//! waiting ([`IoWatch::end_wait`]).
//!
//! The two sides store their own flag, then (after a `SeqCst` fence each)
//! read the other's, so at least one sees the other: either the sleeper
//! sees no waiter and does not sleep deeply, or the waiter, on leaving,
//! sees the sleeper and wakes it (the loom models below check this; loom
//! does not model `SeqCst` loads and stores as a total order, and the
//! fences are what the C++ memory model needs for this pattern anyway).
//! Under load a worker seldom sleeps a whole recheck, so the protocol
//! costs a wakeup per recheck at most; an idle runtime sleeps with no
//! timer.

use crate::loom::{fence, AtomicBool, Ordering::SeqCst};

/// The flags of the protocol: whether a worker waits on the shared
/// reactor, and which workers sleep deeply apart from it.
pub(super) struct IoWatch {
    waiting: AtomicBool,
    deep: Box<[AtomicBool]>,
}

impl IoWatch {
    pub(super) fn new(workers: usize) -> IoWatch {
        IoWatch {
            waiting: AtomicBool::new(false),
            deep: (0..workers).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// A worker is about to wait on the shared reactor (not for a look
    /// without waiting: a look ends at once, and nobody need count on it).
    pub(super) fn begin_wait(&self) {
        self.waiting.store(true, SeqCst);
    }

    /// The worker stopped waiting on the shared reactor: `wake` is called
    /// for every worker sleeping deeply, whose flag is cleared.
    pub(super) fn end_wait(&self, mut wake: impl FnMut(usize)) {
        self.waiting.store(false, SeqCst);
        fence(SeqCst);
        for (index, deep) in self.deep.iter().enumerate() {
            if deep.load(SeqCst) && deep.swap(false, SeqCst) {
                wake(index);
            }
        }
    }

    /// Worker `me`, about to sleep apart from the shared reactor, asks to
    /// sleep with no bound. True if it may: a worker waits there, and will
    /// wake it when it stops.
    pub(super) fn sleep_deep(&self, me: usize) -> bool {
        self.deep[me].store(true, SeqCst);
        fence(SeqCst);
        if self.waiting.load(SeqCst) {
            return true;
        }
        self.deep[me].store(false, SeqCst);
        false
    }

    /// Worker `me` woke from its sleep, for whatever reason.
    pub(super) fn woke(&self, me: usize) {
        self.deep[me].store(false, SeqCst);
    }
}

/// Model checks of the protocol (`RUSTFLAGS="--cfg loom"`; see
/// `runtime/executor/loom.sh`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::IoWatch;
    use crate::loom::{thread, Arc};

    /// The waiter leaves the shared reactor while a worker decides to
    /// sleep deeply: a deep sleeper is always woken.
    #[test]
    fn a_deep_sleeper_is_woken_when_the_waiter_leaves() {
        loom::model(|| {
            let watch = Arc::new(IoWatch::new(2));
            watch.begin_wait();
            let sleeper = {
                let watch = watch.clone();
                thread::spawn(move || watch.sleep_deep(1))
            };
            let mut woken = Vec::new();
            watch.end_wait(|index| woken.push(index));
            let deep = sleeper.join().unwrap();
            assert!(!deep || woken == [1], "a deep sleeper is never woken");
        });
    }

    /// A second waiter takes the reactor while the first leaves it and a
    /// worker goes to sleep: whoever the sleeper counted on wakes it.
    #[test]
    fn a_deep_sleeper_is_woken_by_whichever_waiter_it_counted_on() {
        loom::model(|| {
            let watch = Arc::new(IoWatch::new(3));
            watch.begin_wait();
            let sleeper = {
                let watch = watch.clone();
                thread::spawn(move || watch.sleep_deep(2))
            };
            let next = {
                let watch = watch.clone();
                thread::spawn(move || {
                    watch.begin_wait();
                    let mut woken = Vec::new();
                    watch.end_wait(|index| woken.push(index));
                    woken
                })
            };
            let mut woken = Vec::new();
            watch.end_wait(|index| woken.push(index));
            let deep = sleeper.join().unwrap();
            woken.extend(next.join().unwrap());
            assert!(!deep || woken == [2], "woken {woken:?} times");
        });
    }
}
