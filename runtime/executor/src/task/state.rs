//! The task state word: lifecycle bits and the reference count, in one
//! atomic so that every transition is a single compare-and-swap.
//!
//! See the numbered rules in `task/mod.rs`; the transitions here implement
//! them.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

/// The future is being polled (or cancelled) by the thread that set this.
const RUNNING: usize = 1 << 0;
/// The future finished: the stage holds the output, or nothing.
const COMPLETE: usize = 1 << 1;
/// A `Notified` reference to the task is in a run queue (or about to be).
const NOTIFIED: usize = 1 << 2;
/// The `JoinHandle` exists and will want the output.
const JOIN_INTEREST: usize = 1 << 3;
/// The join waker slot is owned by the runtime side (rule 5).
const JOIN_WAKER: usize = 1 << 4;
/// The task was aborted or the runtime is shutting down.
const CANCELLED: usize = 1 << 5;

const REF_ONE: usize = 1 << 6;

/// A new task is notified (it is about to be queued) and joinable.
const INITIAL_FLAGS: usize = NOTIFIED | JOIN_INTEREST;

pub(crate) struct State(AtomicUsize);

/// A copy of the state word.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_ONE.trailing_zeros()
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

pub(crate) enum ToRunning {
    /// Poll the future.
    Success,
    /// Cancel the future instead of polling it.
    Cancelled,
    /// Someone else runs it or it is complete; our reference was dropped.
    Failed,
    /// As `Failed`, and ours was the last reference.
    Dealloc,
}

pub(crate) enum ToIdle {
    /// Idle; our (the run queue's) reference was dropped.
    Ok,
    /// Woken while running: submit again, reusing our reference.
    OkNotified,
    /// Idle and ours was the last reference.
    OkDealloc,
    /// Aborted while running: cancel now, still RUNNING.
    Cancelled,
}

pub(crate) enum ToNotified {
    DoNothing,
    Submit,
    Dealloc,
}

impl State {
    /// A new task with `refs` references: the run queue's, the
    /// `JoinHandle`'s, and the owned list's when the task has one.
    pub(crate) fn new(refs: usize) -> State {
        State(AtomicUsize::new((refs * REF_ONE) | INITIAL_FLAGS))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    fn update<T>(&self, mut f: impl FnMut(usize) -> (T, Option<usize>)) -> T {
        let mut current = self.0.load(Acquire);
        loop {
            let (result, next) = f(current);
            let Some(next) = next else {
                return result;
            };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// Rule 2: a run queue's reference becomes the running one.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(Snapshot(s).is_notified(), "running an unnotified task");
            if !Snapshot(s).is_idle() {
                let next = s - REF_ONE;
                let action = if Snapshot(next).ref_count() == 0 {
                    ToRunning::Dealloc
                } else {
                    ToRunning::Failed
                };
                return (action, Some(next));
            }
            let next = (s | RUNNING) & !NOTIFIED;
            let action = if Snapshot(s).is_cancelled() {
                ToRunning::Cancelled
            } else {
                ToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Rule 3: after a `Pending` poll.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(Snapshot(s).is_running());
            if Snapshot(s).is_cancelled() {
                return (ToIdle::Cancelled, None);
            }
            let next = s & !RUNNING;
            if Snapshot(s).is_notified() {
                return (ToIdle::OkNotified, Some(next));
            }
            let next = next - REF_ONE;
            if Snapshot(next).ref_count() == 0 {
                (ToIdle::OkDealloc, Some(next))
            } else {
                (ToIdle::Ok, Some(next))
            }
        })
    }

    /// Rule 4: the output (or cancellation) is stored. Returns the state
    /// just after.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// A waker consumed by `wake`: its reference moves to the run queue
    /// (`Submit`) or is dropped.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            let snap = Snapshot(s);
            if snap.is_running() {
                // The runner will see NOTIFIED and submit again; it holds a
                // reference, so ours cannot be the last.
                return (ToNotified::DoNothing, Some((s | NOTIFIED) - REF_ONE));
            }
            if snap.is_complete() || snap.is_notified() {
                let next = s - REF_ONE;
                let action = if Snapshot(next).ref_count() == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::DoNothing
                };
                return (action, Some(next));
            }
            (ToNotified::Submit, Some(s | NOTIFIED))
        })
    }

    /// `wake_by_ref`: on `Submit` a new reference was taken for the queue.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            let snap = Snapshot(s);
            if snap.is_complete() || snap.is_notified() {
                return (ToNotified::DoNothing, None);
            }
            if snap.is_running() {
                return (ToNotified::DoNothing, Some(s | NOTIFIED));
            }
            (ToNotified::Submit, Some((s | NOTIFIED) + REF_ONE))
        })
    }

    /// Abort: returns true when the caller must submit the task (a new
    /// reference was taken) so that its runtime cancels it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.update(|s| {
            let snap = Snapshot(s);
            if snap.is_cancelled() || snap.is_complete() {
                return (false, None);
            }
            if snap.is_running() || snap.is_notified() {
                return (false, Some(s | NOTIFIED | CANCELLED));
            }
            (true, Some((s | NOTIFIED | CANCELLED) + REF_ONE))
        })
    }

    /// Shutdown: marks the task cancelled and returns true when the caller
    /// claimed it (it was idle, it is now RUNNING) and must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            let claimed = Snapshot(s).is_idle();
            let next = if claimed {
                s | CANCELLED | RUNNING
            } else {
                s | CANCELLED
            };
            (claimed, Some(next))
        })
    }

    /// Rule 6: the `JoinHandle` is dropped. Returns `(drop_output,
    /// drop_waker)`: whether the handle must drop the output (the task
    /// completed with interest set) and the waker (it owns the slot again).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        self.update(|s| {
            let snap = Snapshot(s);
            debug_assert!(snap.is_join_interested());
            let mut next = s & !JOIN_INTEREST;
            if !snap.is_complete() {
                next &= !JOIN_WAKER;
            }
            ((snap.is_complete(), !snap.is_complete()), Some(next))
        })
    }

    /// Rule 5: hands the join waker slot to the runtime side. Fails (and
    /// leaves the slot with the handle) when the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            let snap = Snapshot(s);
            debug_assert!(snap.is_join_interested() && !snap.is_join_waker_set());
            if snap.is_complete() {
                return (Err(snap), None);
            }
            (Ok(Snapshot(s | JOIN_WAKER)), Some(s | JOIN_WAKER))
        })
    }

    /// Rule 5: takes the join waker slot back to replace the waker. Fails
    /// when the task completed (the runtime side may be reading it).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            let snap = Snapshot(s);
            debug_assert!(snap.is_join_interested() && snap.is_join_waker_set());
            if snap.is_complete() {
                return (Err(snap), None);
            }
            (Ok(Snapshot(s & !JOIN_WAKER)), Some(s & !JOIN_WAKER))
        })
    }

    /// Rule 5: after waking the joiner, the runtime side gives the slot back.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self
            .0
            .fetch_add(REF_ONE, std::sync::atomic::Ordering::Relaxed);
        // A count this high means references leak; stop before it wraps.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; true when it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// Drops `n` references at once; true when they were the last.
    pub(crate) fn ref_dec_n(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= n);
        prev.ref_count() == n
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}
