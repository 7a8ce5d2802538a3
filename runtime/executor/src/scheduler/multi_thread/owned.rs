//! The multi-thread runtime's list of live tasks, so that shutdown can
//! cancel every one of them.
//!
//! Sharded by task id: a spawn and a completion each lock one shard of many,
//! so workers spawning at once rarely meet on a lock (one `Mutex<Slab>`
//! would be taken by every worker on every spawn).

use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use parking_lot::Mutex;
use slab::Slab;

use crate::task::raw::{Header, RawTask};
use crate::task::Task;

pub(crate) struct OwnedTasks {
    shards: Box<[PaddedShard]>,
    /// Tasks in the list, for `num_alive_tasks`.
    len: AtomicUsize,
}

/// A shard on cache lines of its own, so that locking one does not slow
/// down a worker locking its neighbour.
#[derive(Default)]
#[repr(align(128))]
struct PaddedShard(Mutex<Shard>);

#[derive(Default)]
struct Shard {
    tasks: Slab<RawTask>,
    closed: bool,
}

impl OwnedTasks {
    pub(crate) fn new(num_workers: usize) -> OwnedTasks {
        let shards = (4 * num_workers).next_power_of_two();
        OwnedTasks {
            shards: (0..shards).map(|_| PaddedShard::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }

    fn shard(&self, task: &Header) -> &Mutex<Shard> {
        let index = task.id.as_u64() as usize & (self.shards.len() - 1);
        &self.shards[index].0
    }

    /// Adds a new task, with the reference it was created with for the
    /// list. When the list is closed (shutdown), hands that reference back.
    pub(crate) fn insert(&self, task: RawTask) -> Result<(), Task> {
        let mut shard = self.shard(task.header()).lock();
        if shard.closed {
            return Err(Task(task));
        }
        let slot = shard.tasks.insert(task);
        // SAFETY: `owned_index` is guarded by the lock of the shard that
        // holds the task (`Header`'s invariant); we hold it.
        unsafe { *task.header().owned_index.get() = slot };
        self.len.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Removes a completing task; true if it was listed (its reference then
    /// belongs to the caller).
    pub(crate) fn remove(&self, task: &Header) -> bool {
        let mut shard = self.shard(task).lock();
        // SAFETY: as in `insert`, we hold the shard's lock.
        let slot = unsafe { *task.owned_index.get() };
        let listed = shard
            .tasks
            .get(slot)
            .is_some_and(|listed| ptr::eq(listed.header(), task));
        if listed {
            shard.tasks.remove(slot);
            self.len.fetch_sub(1, Relaxed);
        }
        listed
    }

    /// Closes the list and cancels every task in it: each future is dropped
    /// (a running task drops its own when its poll returns).
    pub(crate) fn close_and_shutdown_all(&self) {
        for PaddedShard(shard) in self.shards.iter() {
            let tasks: Vec<RawTask> = {
                let mut shard = shard.lock();
                shard.closed = true;
                shard.tasks.drain().collect()
            };
            self.len.fetch_sub(tasks.len(), Relaxed);
            // Outside the lock: a cancelled task's completion looks itself
            // up in the shard (and finds nothing, as it was drained).
            for task in tasks {
                Task(task).shutdown();
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }
}
