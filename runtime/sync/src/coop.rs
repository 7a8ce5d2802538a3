//! The cooperative budget, applied to waits that complete.
//!
//! A receive from a channel that is never empty, or a lock that is always
//! free, would let one task run forever and starve the others on its
//! thread. Like socket I/O, every completing receive and acquire takes a
//! unit of Corium's budget (`corium_reactor::coop`); with none left the
//! task is woken and yields. Outside a Corium task there is no budget and
//! this costs one thread-local read.

use std::task::{Context, Poll};

/// Polls `poll` under the budget: `Pending` (after waking the task) when
/// the budget is spent, and a unit is kept only if `poll` completed.
#[cfg(not(loom))]
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = std::task::ready!(corium_reactor::coop::poll_proceed(cx));
    let polled = poll(cx);
    if polled.is_ready() {
        coop.made_progress();
    }
    polled
}

/// Under loom the budget is left out: it is per-thread state the models
/// do not explore.
#[cfg(loom)]
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    poll(cx)
}
