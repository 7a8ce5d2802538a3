//! The thread-local current runtime, for `spawn` and `Handle::current`.
//!
//! Entering a runtime sets both this and the reactor's current handle (in
//! corium-reactor), so `sleep` and sockets find their reactor too.

use std::cell::RefCell;

use crate::scheduler;

thread_local! {
    static CURRENT: RefCell<Option<scheduler::Handle>> = const { RefCell::new(None) };
}

pub(crate) fn current() -> Option<scheduler::Handle> {
    CURRENT.with(|current| current.borrow().clone())
}

pub(crate) fn with_current<R>(f: impl FnOnce(&scheduler::Handle) -> R) -> Option<R> {
    CURRENT.with(|current| current.borrow().as_ref().map(f))
}

/// Sets `handle` as current; returns the previous one.
pub(crate) fn replace(handle: Option<scheduler::Handle>) -> Option<scheduler::Handle> {
    CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), handle))
}

/// Like `replace`, for guards that may run during thread teardown.
pub(crate) fn try_replace(handle: Option<scheduler::Handle>) {
    let _ = CURRENT.try_with(|current| *current.borrow_mut() = handle);
}
