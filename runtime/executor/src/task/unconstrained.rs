//! `unconstrained`: opt a future out of the cooperative budget.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corium_reactor::coop;
use pin_project_lite::pin_project;

pin_project! {
    /// The future of [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

/// Runs `inner` without the cooperative budget: its operations never force
/// it to yield. Use with care: a future that is always ready will then
/// starve the other tasks on its thread.
pub fn unconstrained<F: Future>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        coop::unconstrained(|| inner.poll(cx))
    }
}
