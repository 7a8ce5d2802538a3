//! The thread-local "current reactor", set while a runtime is entered.
//!
//! `sleep`, `Instant::now` and socket constructors find their reactor here.
//! Outside a runtime they fail with a message saying what to do, never hang
//! and never start a hidden global reactor.

use std::cell::{Cell, RefCell};
use std::fmt;

use crate::reactor::Handle;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as one that polls a runtime's tasks (a `block_on`
/// thread, a worker) until the guard drops. Blocking on such a thread
/// stalls every task of its runtime, so the `blocking_*` methods of
/// `corium::sync` check [`is_driving_thread`] and panic with advice
/// instead of hanging. Blocking-pool threads are not marked.
pub fn enter_driving() -> DrivingGuard {
    set_driving(true)
}

/// Clears the "driving" mark until the guard drops: for a worker thread
/// that handed its run queue to another thread to block
/// (`task::block_in_place`).
pub fn exit_driving() -> DrivingGuard {
    set_driving(false)
}

fn set_driving(driving: bool) -> DrivingGuard {
    DrivingGuard {
        previous: DRIVING.with(|mark| mark.replace(driving)),
        _not_send: std::marker::PhantomData,
    }
}

/// True on a thread that is polling a runtime's tasks right now.
pub fn is_driving_thread() -> bool {
    DRIVING.try_with(Cell::get).unwrap_or(false)
}

/// Restores the previous "driving" mark when dropped.
#[must_use = "the thread counts as driving only while the guard lives"]
#[derive(Debug)]
pub struct DrivingGuard {
    previous: bool,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|driving| driving.set(self.previous));
    }
}

/// The message every "no runtime" panic and error carries.
pub(crate) const NO_RUNTIME: &str = "there is no Corium runtime on this thread: \
call this inside `Runtime::block_on`, a task spawned on a runtime, or \
`#[corium::main]`; from a plain thread, enter one first with `Handle::enter`";

/// The error of `Handle::try_current` outside a runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl TryCurrentError {
    /// The error for "no runtime entered on this thread"; the executor's
    /// `Handle::try_current` returns it too, so both say the same thing.
    pub fn outside_runtime() -> TryCurrentError {
        TryCurrentError(())
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NO_RUNTIME)
    }
}

impl std::error::Error for TryCurrentError {}

pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Result<R, TryCurrentError> {
    CURRENT.with(|current| match &*current.borrow() {
        Some(handle) => Ok(f(handle)),
        None => Err(TryCurrentError(())),
    })
}

/// Makes `handle` the current reactor until the guard drops.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(handle));
    EnterGuard {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the previous current reactor when dropped.
#[must_use = "the reactor is current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<Handle>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The thread-local may already be gone when a guard drops during
        // thread teardown; then there is nothing to restore.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}
