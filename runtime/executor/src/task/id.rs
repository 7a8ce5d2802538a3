//! Task ids, and the id of the task running on this thread.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A task's id, unique among the tasks of the process for its lifetime.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id. Each thread takes ids from the global counter a block
    /// at a time, so workers spawning at once do not all hit one atomic on
    /// every spawn. Ids are unique, not ordered by spawn time.
    pub(crate) fn next() -> Id {
        const BLOCK: u64 = 1024;
        static NEXT: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            /// The next id of this thread's block, and the block's end.
            static OWN: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        let id = OWN
            .try_with(|own| {
                let (next, end) = own.get();
                if next < end {
                    own.set((next + 1, end));
                    next
                } else {
                    let start = NEXT.fetch_add(BLOCK, Relaxed);
                    own.set((start + 1, start + BLOCK));
                    start
                }
            })
            // During thread teardown: one id straight from the counter.
            .unwrap_or_else(|_| NEXT.fetch_add(1, Relaxed));
        Id(NonZeroU64::new(id).expect("task ids do not wrap in 2^64 spawns"))
    }

    /// The id as a number (the multi-thread owned list shards by it).
    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// The id of the task being polled on this thread.
///
/// # Panics
/// Outside a task.
#[track_caller]
pub fn id() -> Id {
    try_id().expect("task::id called outside a task; use task::try_id to get None there")
}

/// The id of the task being polled on this thread, if any.
pub fn try_id() -> Option<Id> {
    CURRENT.with(Cell::get)
}

pub(crate) struct IdGuard(Option<Id>);

pub(crate) fn enter(id: Id) -> IdGuard {
    IdGuard(CURRENT.with(|c| c.replace(Some(id))))
}

impl Drop for IdGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}
