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

use crate::scheduler::multi_thread::{hand_off_core, HandOff};

/// Runs blocking code `f` right here, on a worker of the multi-thread
/// runtime, without stalling the other tasks: the worker first hands its
/// run queue and reactor to a new thread, and this thread stops being a
/// worker once the current task's poll returns. Prefer
/// [`spawn_blocking`] when the work need not borrow from the task.
///
/// Inside `f`, `Handle::block_on` may wait for a future (the worker no
/// longer runs the queue, so nothing stalls). Outside a runtime (a plain
/// thread, the blocking pool) it just runs `f`.
///
/// ```
/// let rt = corium_executor::runtime::Builder::new_multi_thread()
///     .worker_threads(1)
///     .build()
///     .unwrap();
/// let n = rt.block_on(async {
///     corium_executor::spawn(async {
///         corium_executor::task::block_in_place(|| std::thread::sleep(std::time::Duration::from_millis(5)));
///         7
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(n, 7);
/// ```
///
/// # Panics
/// On the current-thread flavor's thread, which has no other thread to
/// hand its tasks to.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    let _handed_off = match hand_off_core() {
        HandOff::Done(not_driving, may_block_on) => Some((not_driving, may_block_on)),
        HandOff::Failed => None,
        HandOff::NotAWorker => {
            assert!(
                !corium_reactor::is_driving_thread(),
                "block_in_place: the current-thread runtime has no other thread to hand its \
                 tasks to, so blocking here would stall them all; use `task::spawn_blocking`, \
                 or a multi-thread runtime (`Builder::new_multi_thread`)"
            );
            None
        }
    };
    corium_reactor::coop::unconstrained(f)
}

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues a task that was woken (consumes the queue's reference).
    fn schedule(&self, task: Notified);

    /// Queues a task that was woken while it ran (it yielded, or was woken
    /// during its poll): behind the others, never first.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// A task's poll panicked (the panic is in its `JoinHandle`); a runtime
    /// built with `UnhandledPanic::ShutdownRuntime` stops.
    fn unhandled_panic(&self) {}

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

    /// The pointer, owning this reference (for a slot that stores tasks
    /// as pointers: the multi-thread LIFO slot).
    pub(crate) fn into_raw(self) -> std::ptr::NonNull<Header> {
        let ptr = self.0.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// Takes back a reference given out by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    /// `ptr` must come from `into_raw`, and each such pointer be taken back
    /// once.
    pub(crate) unsafe fn from_raw(ptr: std::ptr::NonNull<Header>) -> Notified {
        // SAFETY: forwarded from the caller: the pointer owns a reference.
        Notified(unsafe { RawTask::from_ptr(ptr) })
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
