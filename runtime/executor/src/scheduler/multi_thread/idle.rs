//! Which workers sleep, and the protocol that wakes them one at a time.
//!
//! One word counts the workers that are awake (`unparked`) and those of
//! them looking for work to steal (`searching`); a list holds the sleepers.
//! The rules, which together mean no queued task is left behind while every
//! worker sleeps, and no burst of work wakes every worker at once:
//!
//! 1. Work made visible to other workers (a push to a local queue, the
//!    inject queue or a displaced LIFO task) asks [`Idle::worker_to_notify`]
//!    for a sleeper to wake. It gets one only if nobody is searching: a
//!    searcher will find the work, so waking more would be a thundering
//!    herd. The woken worker is counted searching before it wakes.
//! 2. At most half the workers search at once
//!    ([`Idle::transition_worker_to_searching`]).
//! 3. A searcher that finds work stops searching; if it was the last one,
//!    it wakes a sleeper to keep looking (rule 1), so work that arrived
//!    while it searched is not stranded.
//! 4. A searcher that finds nothing and parks as the last searcher looks at
//!    every queue once more after it is counted asleep
//!    ([`Idle::transition_worker_to_parked`] returns true). A pusher either
//!    saw it searching (and it now sees the push), or saw it asleep (and
//!    wakes it): the counter is read and written with `SeqCst` on both sides.
//!
//! The sleeper list's lock is taken only to park and unpark, never to run
//! or queue a task.

use crate::loom::{AtomicUsize, Mutex, Ordering::SeqCst};

/// `searching` is the low half of the word, `unparked` the high half.
const UNPARKED_SHIFT: u32 = usize::BITS / 2;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;
const SEARCHING_MASK: usize = UNPARKED_ONE - 1;

/// On cache lines of its own: its word is written at every park and
/// unpark, and must not slow down reads of the fields beside it.
#[repr(align(128))]
pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    /// Every worker starts awake and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Rule 1: the index of a sleeper to wake, now counted awake and
    /// searching, or `None` when waking one is not needed.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake_one() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_wake_one() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add(1 | UNPARKED_ONE, SeqCst);
        Some(index)
    }

    fn should_wake_one(&self) -> bool {
        // A read-modify-write, not a load: it takes part in the single
        // total order of rule 4 with the parking worker's decrement.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Rule 2: whether this worker may start searching.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Rule 3: the worker found work. True if it was the last searcher.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let previous = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(previous) > 0);
        searching(previous) == 1
    }

    /// Rule 4: the worker goes to sleep. True if it was the last searcher:
    /// it must then look at every queue once more.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let previous = self
            .state
            .fetch_sub(UNPARKED_ONE + usize::from(is_searching), SeqCst);
        sleepers.push(index);
        is_searching && searching(previous) == 1
    }

    /// A sleeping worker woke by itself (its own I/O, a timer): it leaves
    /// the sleepers, counted awake and not searching. False if it had been
    /// woken by rule 1 already, and so is counted searching.
    pub(crate) fn unpark_worker_by_id(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(position) = sleepers.iter().position(|&i| i == index) else {
            return false;
        };
        sleepers.swap_remove(position);
        self.state.fetch_add(UNPARKED_ONE, SeqCst);
        true
    }

    /// A sleeping worker, if any (to poke, not to count as woken).
    pub(crate) fn any_sleeper(&self) -> Option<usize> {
        self.sleepers.lock().last().copied()
    }

    /// Whether some worker is awake (called by a sleeper, which does not
    /// count itself).
    pub(crate) fn others_awake(&self) -> bool {
        unparked(self.state.load(SeqCst)) > 0
    }

    /// Whether the worker is still among the sleepers (not woken by rule 1).
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.sleepers.lock().contains(&index)
    }
}

/// Model checks of the idle protocol (`RUSTFLAGS="--cfg loom"`; see
/// `runtime/executor/loom.sh`). A flag stands for a run queue: its owner
/// publishes a task with `Release`, a searcher looks with `Acquire`, as the
/// queue does.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::Idle;
    use crate::loom::{
        thread, Arc, AtomicUsize,
        Ordering::{Acquire, Release},
    };

    fn queue() -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(0))
    }

    /// Rule 4: the last searcher goes to sleep while another thread queues
    /// a task. Either the sleeper's last look sees the task, or the
    /// pusher wakes the sleeper.
    #[test]
    fn the_last_searcher_never_sleeps_through_new_work() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            assert!(idle.transition_worker_to_searching());
            let work = queue();
            let pusher = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || {
                    work.store(1, Release);
                    idle.worker_to_notify()
                })
            };
            let last = idle.transition_worker_to_parked(0, true);
            let saw_work = last && work.load(Acquire) == 1;
            let woken = pusher.join().unwrap();
            assert!(saw_work || woken == Some(0), "the task is stranded");
        });
    }

    /// Rules 1 and 3: a searcher finds work and stops searching while
    /// the other worker goes to sleep and a third thread queues more. The
    /// last searcher wakes the sleeper to look on, and the pusher, seeing
    /// that searcher, wakes nobody more: no thundering herd.
    #[test]
    fn one_burst_of_work_wakes_at_most_one_sleeper() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            assert!(idle.transition_worker_to_searching());
            let pusher = {
                let idle = idle.clone();
                thread::spawn(move || idle.worker_to_notify())
            };
            let sleeper = {
                let idle = idle.clone();
                // Worker 1 was not allowed to search (rule 2).
                thread::spawn(move || idle.transition_worker_to_parked(1, false))
            };
            let woken_by_searcher = if idle.transition_worker_from_searching() {
                idle.worker_to_notify()
            } else {
                None
            };
            assert!(!sleeper.join().unwrap(), "worker 1 was not searching");
            let woken_by_pusher = pusher.join().unwrap();
            assert!(
                woken_by_searcher.is_none() || woken_by_pusher.is_none(),
                "two wakes for one sleeper"
            );
        });
    }

    /// A sleeper that wakes by itself (its own I/O) and a notifier racing
    /// for it: it ends up counted once, searching if the notifier won.
    #[test]
    fn a_sleeper_woken_twice_is_counted_once() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            idle.transition_worker_to_parked(0, false);
            let notifier = {
                let idle = idle.clone();
                thread::spawn(move || idle.worker_to_notify())
            };
            let by_itself = idle.unpark_worker_by_id(0);
            let notified = notifier.join().unwrap();
            assert!(
                by_itself != (notified == Some(0)),
                "exactly one wake counts"
            );
            assert!(!idle.is_parked(0));
            // Back to one worker awake; searching only if notified.
            let searching = usize::from(notified.is_some());
            let state = idle.state.load(Acquire);
            assert_eq!(state, (1 << super::UNPARKED_SHIFT) | searching);
        });
    }
}
