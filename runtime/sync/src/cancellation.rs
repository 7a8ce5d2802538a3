//! [`CancellationToken`]: a tree of "stop now" flags for graceful shutdown.
//!
//! # Protocol
//!
//! Each token is a node: a `cancelled` flag, the waiters of `cancelled()`,
//! its children, and a link to its parent. Locks are always taken parent
//! first, then child, so two threads never wait on each other.
//!
//! 1. `cancelled` is set once, under the node's lock; a child created
//!    under the parent's lock after that is born cancelled, so a child can
//!    never miss its parent's cancellation.
//! 2. Cancelling marks the node's whole subtree under the node's lock
//!    (flattening it as it goes: no recursion, at most two locks held),
//!    sets the node's own flag last, and wakes the waiters of the subtree
//!    only after that: a task woken by a cancellation sees every
//!    descendant cancelled.
//! 3. When the last handle of a node is dropped, its children move up to
//!    its parent (or become roots), and it leaves the tree. So a
//!    long-lived parent with a child per connection does not grow, and the
//!    parent/child links never form a cycle that outlives the handles.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWakerVTable, Waker};

use slab::Slab;

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex};
use crate::waiters::{WaitList, WakeList};

/// A token that can be cancelled once; tasks wait on it with
/// [`cancelled`](CancellationToken::cancelled). Clones share the state;
/// [`child_token`](CancellationToken::child_token)s are cancelled with it
/// (but cancelling a child leaves the parent alone).
///
/// ```
/// use corium_sync::CancellationToken;
///
/// let shutdown = CancellationToken::new();
/// let connection = shutdown.child_token();
/// shutdown.cancel();
/// assert!(connection.is_cancelled());
/// ```
pub struct CancellationToken {
    node: Arc<Node>,
}

struct Node {
    cancelled: AtomicBool,
    handles: AtomicUsize,
    inner: Mutex<Inner>,
}

struct Inner {
    parent: Option<(Arc<Node>, usize)>,
    children: Slab<Arc<Node>>,
    waiters: WaitList<()>,
}

impl Node {
    fn new(parent: Option<(Arc<Node>, usize)>, cancelled: bool) -> Node {
        Node {
            cancelled: AtomicBool::new(cancelled),
            handles: AtomicUsize::new(1),
            inner: Mutex::new(Inner {
                parent,
                children: Slab::new(),
                waiters: WaitList::new(),
            }),
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Rule 2: cancels this node's whole subtree under this node's lock,
    /// then wakes every waiter of it, so a task woken by the cancellation
    /// already sees every descendant cancelled. Returns the parent link to
    /// cut.
    fn cancel_subtree(&self, wakers: &mut WakeList) -> Option<(Arc<Node>, usize)> {
        let mut inner = self.inner.lock();
        if self.is_cancelled() {
            return None;
        }
        // Flatten as we go: a child's children move up into our list, so at
        // most two locks are held at once (ours and a child's) and the depth
        // of the tree costs no stack. A moved grandchild keeps its stale
        // parent link until it is popped here; a concurrent `detach` of it
        // sees that parent cancelled and leaves the rest to us (rule 3).
        while let Some(key) = inner.children.iter().next().map(|(key, _)| key) {
            let child = inner.children.remove(key);
            let mut child_inner = child.inner.lock();
            child_inner.parent = None;
            if child.is_cancelled() {
                continue;
            }
            child.cancelled.store(true, Ordering::Release);
            child_inner.waiters.drain_into(wakers, |_| {});
            for grandchild in child_inner.children.drain() {
                inner.children.insert(grandchild);
            }
        }
        self.cancelled.store(true, Ordering::Release);
        inner.waiters.drain_into(wakers, |_| {});
        inner.parent.take()
    }

    /// Removes `child` from this node's children if it is still there.
    fn unlink_child(&self, key: usize, child: &Arc<Node>) {
        let mut inner = self.inner.lock();
        if inner
            .children
            .get(key)
            .is_some_and(|c| Arc::ptr_eq(c, child))
        {
            inner.children.remove(key);
        }
    }

    /// Rule 3: the last handle is gone.
    fn detach(self: &Arc<Self>) {
        loop {
            let parent = self.inner.lock().parent.as_ref().map(|(p, _)| p.clone());
            match parent {
                None => return self.orphan_children(),
                Some(parent) => {
                    if self.move_children_to(&parent) {
                        return;
                    }
                }
            }
        }
    }

    /// Rule 3 for a root: its children become roots.
    fn orphan_children(&self) {
        let children: Vec<Arc<Node>> = {
            let mut inner = self.inner.lock();
            inner.children.drain().collect()
        };
        for child in children {
            child.inner.lock().parent = None;
        }
    }

    /// Rule 3 under both locks: hands this node's children to `parent` and
    /// leaves it. Returns false if the node moved meanwhile (retry).
    fn move_children_to(self: &Arc<Self>, parent: &Arc<Node>) -> bool {
        let mut parent_inner = parent.inner.lock();
        let mut inner = self.inner.lock();
        let Some((current, key)) = &inner.parent else {
            return false;
        };
        if !Arc::ptr_eq(current, parent) {
            return false;
        }
        let key = *key;
        inner.parent = None;
        if parent.is_cancelled() {
            // The parent's cancellation holds us and will cancel our
            // children through us.
            return true;
        }
        parent_inner.children.try_remove(key);
        for child in inner.children.drain() {
            let new_key = parent_inner.children.insert(child.clone());
            child.inner.lock().parent = Some((parent.clone(), new_key));
        }
        true
    }
}

impl CancellationToken {
    /// A new root token, not cancelled.
    pub fn new() -> CancellationToken {
        CancellationToken {
            node: Arc::new(Node::new(None, false)),
        }
    }

    /// A token cancelled when this one is (or at once, if this one already
    /// is). Cancelling the child does not cancel this one.
    pub fn child_token(&self) -> CancellationToken {
        let mut inner = self.node.inner.lock();
        if self.node.is_cancelled() {
            return CancellationToken {
                node: Arc::new(Node::new(None, true)),
            };
        }
        let key = inner.children.vacant_key();
        let child = Arc::new(Node::new(Some((self.node.clone(), key)), false));
        inner.children.insert(child.clone());
        CancellationToken { node: child }
    }

    /// Cancels this token and every token derived from it, waking all
    /// their waiters. Later calls do nothing.
    pub fn cancel(&self) {
        let mut wakers = WakeList::new();
        let parent = self.node.cancel_subtree(&mut wakers);
        if let Some((parent, key)) = parent {
            parent.unlink_child(key, &self.node);
        }
        wakers.wake_all();
    }

    /// True once this token (or an ancestor) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// Waits until the token is cancelled.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        WaitForCancellationFuture {
            node: &self.node,
            wait: Waiting::default(),
        }
    }

    /// [`cancelled`](CancellationToken::cancelled) that owns a clone of
    /// the token, so it is `'static`.
    pub fn cancelled_owned(self) -> WaitForCancellationFutureOwned {
        WaitForCancellationFutureOwned {
            token: self,
            wait: Waiting::default(),
        }
    }

    /// Runs `future` unless the token is cancelled first: `Some(output)`
    /// if it finished, `None` if the token was cancelled (the future is
    /// dropped then). Cancellation is checked first on every poll.
    pub async fn run_until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        let mut future = std::pin::pin!(future);
        let mut cancelled = self.cancelled();
        std::future::poll_fn(|cx| {
            if Pin::new(&mut cancelled).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// A guard that cancels the token when dropped.
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

/// A cancellation future's place on its node's waiter list, and which
/// waker it left there.
#[derive(Debug, Default)]
struct Waiting {
    key: Option<usize>,
    /// `(data, vtable)` of the waker in the slot, as addresses (so the
    /// futures stay `Send`): the pair `Waker::will_wake` compares.
    waker: (usize, usize),
}

/// The `(data, vtable)` pair of `waker`, as [`Waiting::waker`] keeps it.
fn identity(waker: &Waker) -> (usize, usize) {
    (
        waker.data() as usize,
        waker.vtable() as *const RawWakerVTable as usize,
    )
}

/// Registers or checks a waiter on `node`.
fn poll_cancelled(node: &Node, wait: &mut Waiting, cx: &mut Context<'_>) -> Poll<()> {
    if node.is_cancelled() {
        if let Some(key) = wait.key.take() {
            node.inner.lock().waiters.remove(key);
        }
        return Poll::Ready(());
    }
    // Already queued with a waker that wakes this same task: nothing to
    // change, so no lock (a graceful-shutdown `select!` polls this once per
    // request). Sound because only the cancel takes that waker out, after
    // it sets the flag read above: if the cancel woke it before this poll,
    // the wake orders the flag before the load and the load saw it; if
    // not, the wake is still to come and reaches this task. The slot holds
    // its waker until then, so no other task's waker can share its
    // address.
    if wait.key.is_some() && wait.waker == identity(cx.waker()) {
        return Poll::Pending;
    }
    let mut inner = node.inner.lock();
    if node.is_cancelled() {
        if let Some(key) = wait.key.take() {
            inner.waiters.remove(key);
        }
        return Poll::Ready(());
    }
    match wait.key {
        Some(k) => inner.waiters.set_waker(k, cx.waker()),
        None => wait.key = Some(inner.waiters.push_back(Some(cx.waker().clone()), ())),
    }
    wait.waker = identity(cx.waker());
    Poll::Pending
}

fn cancel_wait(node: &Node, wait: &Waiting) {
    if let Some(key) = wait.key {
        node.inner.lock().waiters.remove(key);
    }
}

/// The future of [`CancellationToken::cancelled`].
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFuture<'a> {
    node: &'a Arc<Node>,
    wait: Waiting,
}

/// The future of [`CancellationToken::cancelled_owned`].
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFutureOwned {
    token: CancellationToken,
    wait: Waiting,
}

impl Future for WaitForCancellationFuture<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        poll_cancelled(this.node, &mut this.wait, cx)
    }
}

impl Drop for WaitForCancellationFuture<'_> {
    fn drop(&mut self) {
        cancel_wait(self.node, &self.wait);
    }
}

impl Future for WaitForCancellationFutureOwned {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        poll_cancelled(&this.token.node, &mut this.wait, cx)
    }
}

impl Drop for WaitForCancellationFutureOwned {
    fn drop(&mut self) {
        cancel_wait(&self.token.node, &self.wait);
    }
}

/// Cancels its token when dropped, unless [`disarm`](DropGuard::disarm)ed.
#[must_use = "the token is cancelled as soon as the guard is dropped"]
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a guard holds its token until dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            token.cancel();
        }
    }
}

impl Clone for CancellationToken {
    fn clone(&self) -> Self {
        self.node.handles.fetch_add(1, Ordering::Relaxed);
        CancellationToken {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        if self.node.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.node.detach();
        }
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        CancellationToken::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

impl fmt::Debug for WaitForCancellationFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFuture")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for WaitForCancellationFutureOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFutureOwned")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
