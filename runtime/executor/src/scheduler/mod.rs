//! Schedulers: the loops that run tasks and turn the reactor.
//!
//! Only the current-thread flavor exists yet; `Handle` is an enum so the
//! multi-thread flavor slots in beside it without changing callers.

pub(crate) mod current_thread;

use std::future::Future;
use std::sync::Arc;

use crate::blocking;
use crate::task::JoinHandle;

/// A scheduler of any flavor.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn(future, None),
        }
    }

    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn_local(future),
        }
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::CurrentThread(shared) => shared.block_on(future),
        }
    }

    pub(crate) fn reactor(&self) -> &corium_reactor::Handle {
        match self {
            Handle::CurrentThread(shared) => &shared.reactor,
        }
    }

    pub(crate) fn blocking(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(shared) => &shared.blocking,
        }
    }

    pub(crate) fn shutdown(&self) {
        match self {
            Handle::CurrentThread(shared) => shared.shutdown(),
        }
    }
}
