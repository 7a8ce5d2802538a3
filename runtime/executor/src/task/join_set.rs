//! `JoinSet`: a collection of spawned tasks whose outputs come back in the
//! order the tasks finish.
//!
//! # Protocol
//!
//! Joining costs O(1) amortized per finished task, however many tasks the
//! set holds: the set never polls a handle that has not been woken.
//!
//! 1. Each task is an [`Entry`] in a slab, keyed by its slot index and its
//!    task [`Id`]. Ids are unique for the life of the process, so a key left
//!    behind by a removed entry never names the task that reuses its slot.
//! 2. Each entry has its own waker ([`EntryWaker`]), registered as the join
//!    waker of its `JoinHandle`. Waking it pushes the entry's key onto the
//!    shared `woken` queue and wakes the task that awaits the set.
//! 3. An entry's `queued` flag keeps it in the queue at most once. The flag
//!    is only read or written with the queue's lock held: the set clears it
//!    under the lock before polling the handle, and a completing task wakes
//!    the entry (taking the lock) only after it has marked itself complete.
//!    So either that poll sees the task complete or the wake sees the flag
//!    clear and queues the entry again; no completion is lost.
//! 4. A new entry starts queued, so the first join polls its handle and
//!    thereby registers the entry's waker.
//! 5. The set registers its own waker and pops keys under the same lock, so
//!    a wake that comes after the set found the queue empty finds the set's
//!    waker.
//! 6. Joining one task takes one unit of the cooperative budget, taken by
//!    the set itself; the handles are polled unconstrained. A handle polled
//!    without budget would wake its entry at once and requeue it, and the
//!    set would pop it again in the same poll, forever.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{ready, Context, Poll, Wake, Waker};

use corium_reactor::coop;
use parking_lot::Mutex;
use slab::Slab;

use super::{AbortHandle, Id, JoinError, JoinHandle};
use crate::runtime::Handle;

/// A collection of tasks spawned on a Corium runtime, joined in the order
/// they finish.
///
/// All tasks must have the same output type `T`. Dropping the set aborts
/// every task still in it; [`detach_all`](JoinSet::detach_all) lets them
/// run on instead.
///
/// ```
/// use corium_executor::task::JoinSet;
///
/// # let rt = corium_executor::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let mut set = JoinSet::new();
/// for i in 0..3 {
///     set.spawn(async move { i * 10 });
/// }
/// let mut outputs = Vec::new();
/// while let Some(output) = set.join_next().await {
///     outputs.push(output.unwrap());
/// }
/// outputs.sort();
/// assert_eq!(outputs, [0, 10, 20]);
/// # });
/// ```
pub struct JoinSet<T> {
    entries: Slab<Entry<T>>,
    shared: Arc<Shared>,
}

/// One task of the set: its handle and the waker its handle wakes.
struct Entry<T> {
    handle: JoinHandle<T>,
    /// The flag and key behind `waker` (rule 3).
    signal: Arc<EntryWaker>,
    /// Built once from `signal`, so the task's join waker slot sees the
    /// same waker on every poll and is not rewritten.
    waker: Waker,
}

/// A slab slot and the task that was put in it (rule 1).
#[derive(Clone, Copy)]
struct Key {
    index: usize,
    id: Id,
}

/// The half of the set that the entries' wakers reach.
struct Shared {
    woken: Mutex<Woken>,
}

/// Entries waiting to be polled, and who to tell when one arrives.
struct Woken {
    keys: VecDeque<Key>,
    /// The waker of the task awaiting the set, if it is waiting.
    waker: Option<Waker>,
}

/// The join waker of one entry (rule 2).
struct EntryWaker {
    shared: Arc<Shared>,
    key: Key,
    /// Whether `key` is in the `woken` queue; guarded by its lock (rule 3),
    /// atomic only so that the waker is `Sync` without unsafe code.
    queued: AtomicBool,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(waker) = self.enqueue() {
            waker.wake();
        }
    }
}

impl EntryWaker {
    /// Queues the entry unless it is queued already; returns the set's
    /// waker to wake once the lock is released.
    fn enqueue(&self) -> Option<Waker> {
        let mut woken = self.shared.woken.lock();
        if self.queued.swap(true, Relaxed) {
            return None;
        }
        woken.keys.push_back(self.key);
        woken.waker.take()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        let woken = Woken {
            keys: VecDeque::new(),
            waker: None,
        };
        JoinSet {
            entries: Slab::new(),
            shared: Arc::new(Shared {
                woken: Mutex::new(woken),
            }),
        }
    }

    /// How many tasks are in the set, finished or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no tasks.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Spawns `task` on the current runtime and adds it to the set.
    ///
    /// The returned [`AbortHandle`] can abort the task; its output still
    /// comes back through the set.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::runtime::spawn(task))
    }

    /// Spawns `task` on the runtime of `handle` and adds it to the set.
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(handle.spawn(task))
    }

    /// Spawns the `!Send` future `task` on the current-thread runtime driven
    /// by this thread and adds it to the set.
    ///
    /// # Panics
    /// Outside the `block_on` of a current-thread runtime on this thread.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(crate::runtime::spawn_local(task))
    }

    /// Runs `f` on the current runtime's blocking pool and adds it to the
    /// set. Aborting it only stops it if it has not started yet.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::blocking::spawn_blocking(f))
    }

    /// Runs `f` on the blocking pool of `handle`'s runtime and adds it to
    /// the set.
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }

    /// Waits for one of the tasks to finish and returns its output, or
    /// `None` if the set is empty. Tasks come back in the order they finish.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes (say in a
    /// `select!`), no output is lost. Every output stays in its task until a
    /// later call returns it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](Self::join_next), also giving the id of the task
    /// that finished (a [`JoinError`] carries its own).
    ///
    /// # Cancel safety
    /// Cancel safe, as `join_next`.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns the output of a task that has already finished, without
    /// waiting; `None` if no task has finished (or the set is empty).
    ///
    /// A task is joinable once its completion has woken the set: on the
    /// multi-thread flavor that may be a moment after its handle's
    /// `is_finished()` turns true, as in tokio.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(without_id)
    }

    /// Like [`try_join_next`](Self::try_join_next), also giving the id of
    /// the task.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        while let Some(index) = self.pop_woken(None) {
            if let Poll::Ready(result) = self.poll_entry(index) {
                return Some(result);
            }
        }
        None
    }

    /// Polls for the next task to finish.
    ///
    /// Returns `Poll::Pending` if no task has finished yet (`cx`'s waker is
    /// woken when one does), `Poll::Ready(Some(_))` with a finished task's
    /// output, and `Poll::Ready(None)` if the set is empty. Only the waker
    /// of the latest call is woken.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(without_id))
    }

    /// Like [`poll_join_next`](Self::poll_join_next), also giving the id of
    /// the task.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.is_empty() {
            return Poll::Ready(None);
        }
        let coop = ready!(coop::poll_proceed(cx));
        while let Some(index) = self.pop_woken(Some(cx.waker())) {
            if let Poll::Ready(result) = self.poll_entry(index) {
                coop.made_progress();
                return Poll::Ready(Some(result));
            }
        }
        Poll::Pending
    }

    /// Waits for every task and returns their outputs, in the order the
    /// tasks finished.
    ///
    /// # Panics
    /// If a task panicked, with its panic payload (after aborting the rest:
    /// the set is dropped as the panic unwinds); if a task was aborted, with
    /// the `JoinError`'s message.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(error) if error.is_panic() => panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("JoinSet::join_all: {error}"),
            }
        }
        outputs
    }

    /// Aborts every task in the set. They stay in the set: joining them
    /// gives cancelled errors, or the output of those that finished first.
    pub fn abort_all(&mut self) {
        for (_, entry) in &self.entries {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting them: they run on
    /// in the background and their outputs are dropped.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.shared.woken.lock().keys.clear();
    }

    /// Aborts every task and waits until all have finished, dropping their
    /// outputs. The set is empty afterwards.
    ///
    /// A blocking task that has started cannot be aborted; this waits for
    /// it to return.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Adds a spawned task, queued for its first poll (rule 4).
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let slot = self.entries.vacant_entry();
        let key = Key {
            index: slot.key(),
            id: handle.id(),
        };
        let signal = Arc::new(EntryWaker {
            shared: self.shared.clone(),
            key,
            queued: AtomicBool::new(true),
        });
        let waker = Waker::from(signal.clone());
        slot.insert(Entry {
            handle,
            signal,
            waker,
        });
        self.shared.woken.lock().keys.push_back(key);
        abort
    }

    /// Pops the next woken entry still in the set and clears its flag
    /// (rule 3); registers `waker` first if given (rule 5).
    fn pop_woken(&self, waker: Option<&Waker>) -> Option<usize> {
        let mut woken = self.shared.woken.lock();
        if let Some(waker) = waker {
            register(&mut woken.waker, waker);
        }
        while let Some(key) = woken.keys.pop_front() {
            if let Some(entry) = self.live_entry(key) {
                entry.signal.queued.store(false, Relaxed);
                return Some(key.index);
            }
        }
        None
    }

    /// The entry `key` names, unless that task has left the set (rule 1).
    fn live_entry(&self, key: Key) -> Option<&Entry<T>> {
        self.entries
            .get(key.index)
            .filter(|entry| entry.signal.key.id == key.id)
    }

    /// Polls one entry's handle with the entry's waker; removes the entry
    /// if its task has finished.
    fn poll_entry(&mut self, index: usize) -> Poll<Result<(Id, T), JoinError>> {
        let entry = &mut self.entries[index];
        let mut cx = Context::from_waker(&entry.waker);
        let handle = Pin::new(&mut entry.handle);
        let result = ready!(coop::unconstrained(|| handle.poll(&mut cx)));
        let entry = self.entries.remove(index);
        Poll::Ready(result.map(|output| (entry.signal.key.id, output)))
    }
}

/// Stores `waker` in `slot` unless it already holds one that wakes the same
/// task.
fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(current) if current.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

fn without_id<T>(result: Result<(Id, T), JoinError>) -> Result<T, JoinError> {
    result.map(|(_, output)| output)
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Spawns every future on the current runtime into a new set.
///
/// # Panics
/// Outside a runtime.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}

/// Spawns every future on the current runtime into the set.
///
/// # Panics
/// Outside a runtime.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}
