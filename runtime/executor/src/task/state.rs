//! The task state word: lifecycle bits and the reference count, in one
//! atomic so that every transition is a single compare-and-swap.
//!
//! See the numbered rules in `task/mod.rs`; the transitions here implement
//! them.

use std::fmt;

use crate::loom::AtomicUsize;
use crate::loom::Ordering::{AcqRel, Acquire, Relaxed};

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
        let prev = self.0.fetch_add(REF_ONE, Relaxed);
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

/// Model checks of the transitions (`RUSTFLAGS="--cfg loom"`; see
/// `runtime/executor/loom.sh`), one rule of `task/mod.rs` each. They drive
/// the state word alone, as `raw.rs` does: a returned action stands for
/// what the caller then does (submit, cancel, drop the output), and a loom
/// `UnsafeCell` stands for a slot the word guards (the stage, the join
/// waker, the allocation), so loom also checks that the orderings hand the
/// slot from one thread to the next.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::model;
    use crate::loom::{thread, Arc, UnsafeCell};

    /// A task being polled: the run queue's reference became the running
    /// one. `refs` counts it with the others (the `JoinHandle`'s, wakers').
    fn running(refs: usize) -> Arc<State> {
        let state = State::new(refs);
        assert!(matches!(state.transition_to_running(), ToRunning::Success));
        Arc::new(state)
    }

    /// The runner finishes the task (the output or the cancellation is
    /// stored) and gives up its reference, which is never the last here.
    fn complete(state: &State) {
        state.transition_to_complete();
        assert!(!state.ref_dec(), "the JoinHandle still holds a reference");
    }

    #[derive(Clone, Copy, Debug)]
    enum Wake {
        ByRef,
        ByVal,
    }

    fn wake(state: &State, how: Wake) -> ToNotified {
        match how {
            Wake::ByRef => state.transition_to_notified_by_ref(),
            Wake::ByVal => state.transition_to_notified_by_val(),
        }
    }

    /// Rule 3: a wake during a poll that returns `Pending`. The task goes
    /// back to a run queue exactly once: the waker submits it, or the
    /// runner sees NOTIFIED and resubmits it with its own reference.
    fn wake_racing_a_pending_poll(how: Wake) {
        model(None, move || {
            // The running reference, the `JoinHandle`'s and the waker's.
            let state = running(3);
            let waker = {
                let state = state.clone();
                thread::spawn(move || wake(&state, how))
            };
            let resubmitted = match state.transition_to_idle() {
                ToIdle::OkNotified => true,
                ToIdle::Ok => false,
                ToIdle::OkDealloc | ToIdle::Cancelled => unreachable!(),
            };
            let submitted = matches!(waker.join().unwrap(), ToNotified::Submit);
            assert_eq!(
                usize::from(resubmitted) + usize::from(submitted),
                1,
                "a wake by {how:?} during a poll queued the task {} times",
                usize::from(resubmitted) + usize::from(submitted),
            );
            let end = state.load();
            assert!(end.is_notified() && !end.is_running(), "{end:?}");
            // The queue's and the handle's; a waker woken by ref keeps its own.
            let refs = match how {
                Wake::ByRef => 3,
                Wake::ByVal => 2,
            };
            assert_eq!(end.ref_count(), refs, "{end:?}");
        });
    }

    #[test]
    fn wake_by_ref_racing_a_pending_poll_queues_the_task_once() {
        wake_racing_a_pending_poll(Wake::ByRef);
    }

    #[test]
    fn wake_by_val_racing_a_pending_poll_queues_the_task_once() {
        wake_racing_a_pending_poll(Wake::ByVal);
    }

    /// Rule 3: both kinds of wake during one poll that returns `Pending`:
    /// still exactly one of the three threads queues the task.
    #[test]
    fn wakes_by_ref_and_by_val_racing_a_pending_poll_queue_the_task_once() {
        model(None, || {
            // The running reference, the `JoinHandle`'s, two wakers'.
            let state = running(4);
            let wakers: Vec<_> = [Wake::ByRef, Wake::ByVal]
                .into_iter()
                .map(|how| {
                    let state = state.clone();
                    thread::spawn(move || wake(&state, how))
                })
                .collect();
            let idle = state.transition_to_idle();
            let mut submits = usize::from(matches!(idle, ToIdle::OkNotified));
            for waker in wakers {
                let woken = waker.join().unwrap();
                submits += usize::from(matches!(woken, ToNotified::Submit));
            }
            assert_eq!(submits, 1, "two wakes queued the task {submits} times");
            let end = state.load();
            assert!(end.is_notified() && !end.is_running(), "{end:?}");
            // The queue's, the handle's, and the by-ref waker's.
            assert_eq!(end.ref_count(), 3, "{end:?}");
        });
    }

    /// Rule 3: two wakers (by ref, by value) wake an idle task at once:
    /// exactly one of them submits it.
    #[test]
    fn two_wakes_of_an_idle_task_queue_it_once() {
        model(None, || {
            // The running reference, the `JoinHandle`'s, two wakers'.
            let state = running(4);
            assert!(matches!(state.transition_to_idle(), ToIdle::Ok));
            let by_val = {
                let state = state.clone();
                thread::spawn(move || wake(&state, Wake::ByVal))
            };
            let by_ref = wake(&state, Wake::ByRef);
            let by_val = by_val.join().unwrap();
            let submits = [by_ref, by_val]
                .iter()
                .filter(|action| matches!(action, ToNotified::Submit))
                .count();
            assert_eq!(submits, 1, "two wakes queued the task {submits} times");
            let end = state.load();
            assert!(end.is_notified(), "{end:?}");
            // The queue's, the handle's, and the by-ref waker's.
            assert_eq!(end.ref_count(), 3, "{end:?}");
        });
    }

    /// Rule 7: `abort` during a poll that returns `Pending`. The
    /// cancellation is acted on exactly once: the runner cancels at once
    /// (`ToIdle::Cancelled`), or the abort submits the task and the run
    /// that follows cancels it.
    #[test]
    fn abort_racing_a_pending_poll_cancels_the_task_once() {
        model(None, || {
            // The running reference and the `JoinHandle`'s, which aborts.
            let state = running(2);
            let abort = {
                let state = state.clone();
                thread::spawn(move || state.transition_to_notified_and_cancel())
            };
            let mut cancels = 0;
            let mut queued = 0;
            match state.transition_to_idle() {
                ToIdle::Cancelled => {
                    cancels += 1;
                    complete(&state);
                }
                ToIdle::OkNotified => queued += 1,
                ToIdle::Ok => {}
                ToIdle::OkDealloc => unreachable!("the JoinHandle holds a reference"),
            }
            if abort.join().unwrap() {
                queued += 1;
            }
            // A worker runs what was queued.
            for _ in 0..queued {
                match state.transition_to_running() {
                    ToRunning::Cancelled => {
                        cancels += 1;
                        complete(&state);
                    }
                    ToRunning::Success => panic!("an aborted task was polled again"),
                    ToRunning::Failed => {}
                    ToRunning::Dealloc => unreachable!("the JoinHandle holds a reference"),
                }
            }
            assert_eq!(cancels, 1, "the abort was acted on {cancels} times");
            let end = state.load();
            assert!(end.is_complete() && end.is_cancelled(), "{end:?}");
            assert_eq!(end.ref_count(), 1, "{end:?}");
        });
    }

    /// Stands for the task's output: counts its drops.
    struct Output(Arc<crate::loom::AtomicUsize>);

    impl Drop for Output {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// Rules 4 and 6: the task completes while its `JoinHandle` is
    /// dropped. The output is dropped exactly once: by the runner if the
    /// handle was gone at COMPLETE, else by the handle, after the store.
    #[test]
    fn completion_racing_join_handle_drop_drops_the_output_once() {
        model(None, || {
            // The running reference and the `JoinHandle`'s.
            let state = running(2);
            let stage = Arc::new(UnsafeCell::new(None::<Output>));
            let drops = Arc::new(crate::loom::AtomicUsize::new(0));
            let drop_output = |stage: &UnsafeCell<Option<Output>>| {
                // SAFETY: the caller owns the stage (rule 4 or 6), which
                // is what this model checks.
                let output = stage.with_mut(|slot| unsafe { (*slot).take() });
                assert!(output.is_some(), "the output was dropped before");
            };
            let handle = {
                let (state, stage) = (state.clone(), stage.clone());
                thread::spawn(move || {
                    let (owns_output, _) = state.transition_to_join_handle_dropped();
                    if owns_output {
                        drop_output(&stage);
                    }
                    state.ref_dec()
                })
            };
            let output = Output(drops.clone());
            // SAFETY: RUNNING is ours, so is the stage (rule 2).
            stage.with_mut(|slot| unsafe { *slot = Some(output) });
            if !state.transition_to_complete().is_join_interested() {
                drop_output(&stage);
            }
            let runner_was_last = state.ref_dec();
            let handle_was_last = handle.join().unwrap();
            let drops = drops.load(Relaxed);
            assert_eq!(drops, 1, "the output was dropped {drops} times");
            assert!(runner_was_last != handle_was_last);
        });
    }

    /// The `JoinHandle`'s side of rule 5 (`raw.rs`, `can_read_output`):
    /// registers the waker numbered `waker`, or finds the task complete.
    fn register_join_waker(
        state: &State,
        slot: &UnsafeCell<Option<usize>>,
        waker: usize,
    ) -> Result<(), Snapshot> {
        let snapshot = state.load();
        if snapshot.is_complete() {
            return Err(snapshot);
        }
        // SAFETY: JOIN_WAKER is clear: the slot is the handle's.
        slot.with_mut(|slot| unsafe { *slot = Some(waker) });
        state.set_join_waker().map(drop).inspect_err(|_| {
            // SAFETY: the bit was not set: the slot is still the handle's.
            slot.with_mut(|slot| unsafe { *slot = None });
        })
    }

    /// Rule 5: the `JoinHandle` registers a waker, then replaces it (it is
    /// polled from another task) while the task completes. Either the
    /// handle finds it complete and reads the output, or the runner wakes
    /// the waker the handle registered last: never neither, never a stale
    /// waker.
    #[test]
    fn join_waker_registration_racing_completion_is_never_lost() {
        model(None, || {
            // The running reference and the `JoinHandle`'s.
            let state = running(2);
            let stage = Arc::new(UnsafeCell::new(None::<usize>));
            let slot = Arc::new(UnsafeCell::new(None::<usize>));
            let handle = {
                let (state, stage, slot) = (state.clone(), stage.clone(), slot.clone());
                thread::spawn(move || {
                    let registered = register_join_waker(&state, &slot, 1)
                        .and_then(|()| state.unset_join_waker())
                        // The slot is the handle's again: replace the waker.
                        .and_then(|_| register_join_waker(&state, &slot, 2));
                    match registered {
                        Ok(()) => Some(2),
                        Err(snapshot) => {
                            assert!(snapshot.is_complete());
                            // SAFETY: COMPLETE with JOIN_INTEREST: the
                            // stage is the handle's (rule 4).
                            let output = stage.with(|stage| unsafe { *stage });
                            assert_eq!(output, Some(7), "read before the store");
                            None
                        }
                    }
                })
            };
            // SAFETY: RUNNING is ours, so is the stage (rule 2).
            stage.with_mut(|stage| unsafe { *stage = Some(7) });
            let completed = state.transition_to_complete();
            let woken = if completed.is_join_waker_set() {
                // SAFETY: JOIN_WAKER is set: the runtime side owns the slot.
                let waker = slot.with(|slot| unsafe { *slot });
                assert!(waker.is_some());
                state.unset_waker_after_complete();
                waker
            } else {
                None
            };
            if let Some(registered) = handle.join().unwrap() {
                assert_eq!(
                    woken,
                    Some(registered),
                    "the handle waits on waker {registered}, the runner woke {woken:?}"
                );
            }
        });
    }

    /// Rule 1: three owners drop their references at once. Exactly one
    /// sees the last, and frees the task after the others stopped using it.
    #[test]
    fn exactly_one_of_three_ref_decs_is_the_last() {
        /// Uses the task, then drops the reference; frees it if last.
        fn release(state: &State, memory: &UnsafeCell<usize>) -> bool {
            // SAFETY: the reference held keeps the task alive.
            memory.with(|memory| assert_eq!(unsafe { *memory }, 0));
            let last = state.ref_dec();
            if last {
                // SAFETY: the last reference: nobody else uses the task.
                memory.with_mut(|memory| unsafe { *memory = usize::MAX });
            }
            last
        }
        model(None, || {
            let state = Arc::new(State::new(3));
            let memory = Arc::new(UnsafeCell::new(0_usize));
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let (state, memory) = (state.clone(), memory.clone());
                    thread::spawn(move || release(&state, &memory))
                })
                .collect();
            let mut lasts = usize::from(release(&state, &memory));
            for other in others {
                lasts += usize::from(other.join().unwrap());
            }
            assert_eq!(lasts, 1, "{lasts} owners saw the last reference");
        });
    }
}
