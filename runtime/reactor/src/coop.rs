//! The cooperative budget: how many ready operations a task may complete
//! before it must yield.
//!
//! An always-ready socket or channel would otherwise let one task run
//! forever and starve timers, I/O and every other task. The executor gives a
//! task [`BUDGET`] units per poll ([`budget`]); every readiness-driven
//! operation (socket I/O, timers, joins, channel receives) takes one unit
//! through [`poll_proceed`] and, when none are left, wakes the task and
//! returns `Pending` so the scheduler can run the rest. It lives in the
//! reactor crate because socket readiness must see it.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete per poll before it must yield, so one
/// busy socket cannot starve the rest (tokio's figure, which measures well).
pub const BUDGET: u8 = 128;

thread_local! {
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` (a task's poll) with a fresh budget.
pub fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget(Some(BUDGET), f)
}

/// Runs `f` with no budget: its operations never force a yield.
pub fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(None, f)
}

fn with_budget<R>(budget: Option<u8>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|cell| cell.set(self.0));
        }
    }
    let previous = CURRENT.with(|cell| cell.replace(budget));
    let _reset = Reset(previous);
    f()
}

/// Whether the current task may still complete an operation.
pub fn has_budget_remaining() -> bool {
    CURRENT.with(|cell| cell.get() != Some(0))
}

/// Takes one unit of budget, or wakes the task and returns `Pending` when
/// it has none left.
///
/// The unit is given back when the returned guard drops, unless
/// [`RestoreOnPending::made_progress`] was called: an operation that ended
/// `Pending` did no work and costs nothing.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|cell| match cell.get() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            cell.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Cell::new(Some(n))))
        }
        None => Poll::Ready(RestoreOnPending(Cell::new(None))),
    })
}

/// Gives a unit of budget back on drop unless the operation made progress.
#[derive(Debug)]
pub struct RestoreOnPending(Cell<Option<u8>>);

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    pub fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(before) = self.0.get() {
            CURRENT.with(|cell| cell.set(Some(before)));
        }
    }
}
