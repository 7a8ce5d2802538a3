//! The blocking pool's job queue: shards, so that submitters on different
//! threads do not contend on one lock.
//!
//! Each shard is a short-held lock around a `VecDeque`. A submitter pushes
//! to the shard of its thread (an index handed out round-robin the first
//! time a thread submits); a pool thread pops starting from a cursor that
//! begins at its own shard and moves one past every shard it takes from,
//! so it drains all shards in turn and no shard starves while others stay
//! busy. Order is first-in first-out within a shard, not across shards.
//!
//! `len` counts jobs in all shards. It changes under the shard's lock, in
//! the same critical section as the push or pop, so it never runs ahead of
//! or behind the shards by more than the pushes and pops in progress, and
//! it is zero only when every completed push has been popped. Its
//! `SeqCst` operations are one half of the pool's lost-wakeup argument
//! (see the module doc of `blocking`).

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};

use parking_lot::Mutex;

use crate::task::Notified;

/// Shards per available core: twice as many as threads that can submit at
/// once, so two submitters rarely share a shard by chance.
const SHARDS_PER_CORE: usize = 2;

/// Hands each thread its shard hint, round-robin across threads.
static NEXT_HINT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard hint (reduced modulo the shard count by each
    /// queue), fixed for the thread's life.
    static HINT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// This thread's shard hint, assigned on first use.
fn thread_hint() -> usize {
    // A thread in its TLS destructors gets a fresh hint each time; any
    // shard is correct, the hint only spreads contention.
    HINT.try_with(|hint| match hint.get() {
        Some(h) => h,
        None => {
            let h = NEXT_HINT.fetch_add(1, Relaxed);
            hint.set(Some(h));
            h
        }
    })
    .unwrap_or_else(|_| NEXT_HINT.fetch_add(1, Relaxed))
}

/// One shard, alone on its cache lines so that two shards' locks do not
/// bounce one line between cores.
#[repr(align(128))]
struct Shard(Mutex<VecDeque<Notified>>);

/// The sharded job queue.
pub(super) struct Queue {
    /// A power of two long, so a hint maps to a shard with a mask.
    shards: Box<[Shard]>,
    /// Jobs in all shards (see the module doc).
    len: AtomicUsize,
}

impl Queue {
    /// A queue with the next power of two ≥ `SHARDS_PER_CORE` × the
    /// available parallelism shards.
    pub(super) fn new() -> Queue {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let count = (SHARDS_PER_CORE * cores).next_power_of_two();
        Queue {
            shards: (0..count)
                .map(|_| Shard(Mutex::new(VecDeque::new())))
                .collect(),
            len: AtomicUsize::new(0),
        }
    }

    /// Jobs queued now (exact only while no push or pop is in progress).
    pub(super) fn len(&self) -> usize {
        self.len.load(SeqCst)
    }

    /// The shard index for this thread, a starting cursor for `pop`.
    pub(super) fn home(&self) -> usize {
        thread_hint() & (self.shards.len() - 1)
    }

    /// Queues `task` on this thread's shard.
    pub(super) fn push(&self, task: Notified) {
        let mut shard = self.shards[self.home()].0.lock();
        shard.push_back(task);
        self.len.fetch_add(1, SeqCst);
    }

    /// Takes a job, looking at the shard under `cursor` first and then at
    /// the others in order; moves `cursor` past the shard it took from.
    pub(super) fn pop(&self, cursor: &mut usize) -> Option<Notified> {
        if self.len() == 0 {
            return None;
        }
        let mask = self.shards.len() - 1;
        for i in 0..self.shards.len() {
            let index = (*cursor + i) & mask;
            if let Some(task) = self.pop_shard(index) {
                *cursor = (index + 1) & mask;
                return Some(task);
            }
        }
        None
    }

    fn pop_shard(&self, index: usize) -> Option<Notified> {
        let mut shard = self.shards[index].0.lock();
        let task = shard.pop_front()?;
        self.len.fetch_sub(1, SeqCst);
        Some(task)
    }

    /// Takes every job queued now.
    pub(super) fn drain(&self) -> Vec<Notified> {
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.0.lock();
            self.len.fetch_sub(shard.len(), SeqCst);
            tasks.extend(shard.drain(..));
        }
        tasks
    }
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("shards", &self.shards.len())
            .field("len", &self.len())
            .finish()
    }
}
