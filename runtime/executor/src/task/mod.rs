//! Tasks: spawning, joining, aborting, and the task cell protocol.
//!
//! # Protocol
//!
//! A task is one allocation (`raw.rs`) shared by several owners, each
//! holding one counted reference: the scheduler's owned list (`Task`), a run
//! queue entry (`Notified`), the `JoinHandle`, `AbortHandle`s and wakers.
//! The state word (`state.rs`) holds the lifecycle bits and the count, and
//! every rule below is one compare-and-swap on it.
//!
//! 1. A task is freed when its last reference is dropped, never before.
//! 2. Only the thread that sets RUNNING (from a `Notified`, or by claiming an
//!    idle task at shutdown) touches the future; it clears NOTIFIED as it
//!    sets RUNNING, so a wake during the poll sets NOTIFIED again.
//! 3. After a `Pending` poll the runner clears RUNNING; if NOTIFIED was set
//!    meanwhile it submits the task again with the reference it holds, so a
//!    wake during a poll is never lost and never doubles the task in a queue.
//!    If CANCELLED was set meanwhile it cancels instead.
//! 4. Completion stores the output, then sets COMPLETE. From then on the
//!    output belongs to the `JoinHandle` if JOIN_INTEREST was set at that
//!    moment, else it is dropped by the runtime at once.
//! 5. The join waker slot is owned by the `JoinHandle` while JOIN_WAKER is
//!    clear and by the runtime side while it is set; each side hands it over
//!    with a compare-and-swap that fails once COMPLETE is set.
//! 6. Dropping the `JoinHandle` clears JOIN_INTEREST (and JOIN_WAKER unless
//!    complete); if the task was complete it drops the output itself.
//! 7. Abort sets CANCELLED and, if the task was idle, NOTIFIED with a new
//!    reference, so the runtime that owns the future drops it on its own
//!    thread. A panicking future or a panicking drop becomes a
//!    `JoinError::Panic`; it never unwinds into a scheduler.

mod id;
mod join;
mod join_set;
pub(crate) mod local;
pub(crate) mod raw;
mod state;
mod unconstrained;
mod yield_now;

pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::{AccessError, LocalKey, TaskLocalFuture};
pub use unconstrained::{unconstrained, Unconstrained};
pub use yield_now::yield_now;

pub use crate::blocking::spawn_blocking;
pub use crate::runtime::{spawn, spawn_local};

use raw::{Header, RawTask};

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues a task that was woken (consumes the queue's reference).
    fn schedule(&self, task: Notified);

    /// Removes a completing task from the owned list. Returns true if it was
    /// there, handing the list's reference to the caller to drop.
    fn release(&self, task: &Header) -> bool;
}

/// The run queue's reference to a task: running it consumes it.
pub(crate) struct Notified(pub(crate) RawTask);

impl Notified {
    pub(crate) fn run(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.poll();
    }

    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }
}

impl Drop for Notified {
    /// A queue dropped with tasks in it (shutdown): only the reference goes;
    /// the owned list cancels the future.
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

/// The owned list's reference to a task.
pub(crate) struct Task(pub(crate) RawTask);

impl Task {
    /// Cancels the task if idle; consumes the list's reference.
    pub(crate) fn shutdown(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.shutdown();
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}
