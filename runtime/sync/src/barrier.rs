//! [`Barrier`]: `n` tasks wait until all of them have arrived.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{WaitList, WakeList};

/// Lets `n` tasks wait for each other; the `n`th arrival releases them all
/// and is told it is the leader. The barrier then starts over.
///
/// Unlike tokio's, a task whose `wait` is dropped before the barrier
/// releases is no longer counted: a cancelled participant cannot make the
/// others start early.
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    /// `true` in a slot once its round was released.
    waiters: WaitList<bool>,
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one task per round: the one whose arrival released
    /// the others.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (0 behaves as 1).
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives and waits until all `n` have arrived.
    ///
    /// # Cancel safety
    /// Cancel safe: a `wait` dropped before its round is released is taken
    /// off the count, as if it had never arrived.
    pub async fn wait(&self) -> BarrierWaitResult {
        Wait {
            barrier: self,
            key: None,
        }
        .await
    }
}

struct Wait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let barrier = self.barrier;
        let mut state = barrier.state.lock();
        if let Some(key) = self.key {
            if *state.waiters.state(key) {
                state.waiters.remove(key);
                self.key = None;
                return Poll::Ready(BarrierWaitResult(false));
            }
            state.waiters.set_waker(key, cx.waker());
            return Poll::Pending;
        }
        state.arrived += 1;
        if state.arrived < barrier.n {
            self.key = Some(state.waiters.push_back(Some(cx.waker().clone()), false));
            return Poll::Pending;
        }
        state.arrived = 0;
        let mut wakers = WakeList::new();
        state
            .waiters
            .drain_into(&mut wakers, |released| *released = true);
        drop(state);
        wakers.wake_all();
        Poll::Ready(BarrierWaitResult(true))
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.barrier.state.lock();
        if !state.waiters.remove(key) {
            state.arrived -= 1;
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &self.state.lock().arrived)
            .finish()
    }
}
