//! A fair, async counting semaphore; the lock under [`Mutex`](crate::Mutex),
//! [`RwLock`](crate::RwLock) and [`OnceCell`](crate::OnceCell).
//!
//! # Protocol
//!
//! The state word holds `permits << 2 | WAITING | CLOSED`. The waiter list
//! sits under its own mutex.
//!
//! 1. Acquiring without waiting is one compare-and-swap that takes `n`
//!    permits when at least `n` are free. Releasing without waiters is one
//!    compare-and-swap that adds them. Neither takes the lock.
//! 2. WAITING is set and cleared only under the lock: set when the first
//!    waiter queues (in the same compare-and-swap that takes every free
//!    permit for it), cleared when the last waiter leaves the queue.
//! 3. While WAITING is set the word holds no free permits: a release takes
//!    the lock and assigns its permits to the waiters in queue order, and
//!    adds to the word only what is left once the queue is empty. So a
//!    newcomer can never overtake a waiter (fairness), and a waiter that
//!    needs many permits collects them as they come.
//! 4. A waiter whose future is dropped leaves the queue and releases the
//!    permits already assigned to it, by rule 3: nothing is lost.
//! 5. A queued waiter's slot points at the outcome word inside its pinned
//!    future. Whoever ends the wait (the release that completes its
//!    permits, or `close`) does it under the lock: it writes the outcome
//!    with Release, frees the slot and takes the waker. The future reads
//!    the outcome without the lock, so a granted waiter completes with no
//!    lock at all; once the outcome is set, the slot is gone and the future
//!    owns nothing in the list. A future dropped while still WAITING frees
//!    its slot under the lock in `Drop`, which `Pin` guarantees runs before
//!    its memory is reused: the pointer never dangles.

use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex};
use crate::waiters::{WaitList, WakeList};

const WAITING: usize = 1;
const CLOSED: usize = 2;
const SHIFT: usize = 2;

/// A queued waiter's account: permits it still lacks, permits already
/// assigned to it, and where to publish the outcome (rule 5).
#[derive(Debug)]
struct Want {
    missing: usize,
    assigned: usize,
    outcome: OutcomeRef,
}

/// The outcome word of a queued `Acquire`, as the waiter list sees it.
#[derive(Debug)]
struct OutcomeRef(NonNull<AtomicUsize>);

// SAFETY: the pointer is dereferenced only under the waiter lock, while the
// slot exists, and rule 5 keeps the pointee alive for that long; the
// pointee is an atomic, safe to use from any thread.
unsafe impl Send for OutcomeRef {}

impl OutcomeRef {
    /// Publishes the end of the wait (rule 5).
    fn publish(&self, outcome: usize) {
        // SAFETY: called under the lock while the slot is still in the
        // list, so the future has not finished dropping (rule 5). The
        // future may free itself as soon as the store lands, while this
        // `store` call is formally still running: the same pattern as
        // `Arc::drop`'s final decrement, sound for atomics.
        unsafe { self.0.as_ref() }.store(outcome, Ordering::Release);
    }
}

/// Outcomes of a queued acquire.
const PENDING: usize = 0;
const GRANTED: usize = 1;
const SHUT: usize = 2;

/// A counting semaphore that hands out permits in strict FIFO order.
///
/// ```
/// use corium_sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.try_acquire().unwrap();
/// let _b = sem.try_acquire().unwrap();
/// assert!(sem.try_acquire().is_err());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Want>>,
}

/// The semaphore was closed while (or before) acquiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

/// Why [`Semaphore::try_acquire`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free right now (or others queued first).
    NoPermits,
}

/// Permits borrowed from a [`Semaphore`]; they return to it on drop.
#[must_use = "the permits are released as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

/// Permits from an `Arc<Semaphore>`; they return to it on drop. `'static`,
/// so it can move into a spawned task.
#[must_use = "the permits are released as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> SHIFT;

    /// A semaphore with `permits` free permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "a semaphore holds at most Semaphore::MAX_PERMITS ({}) permits, not {permits}",
            Semaphore::MAX_PERMITS
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// The number of permits free right now.
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Adds `n` permits, handing them to queued waiters first.
    ///
    /// # Panics
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` free permits for good and returns how many it took.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let taken = n.min(state >> SHIFT);
            let new = state - (taken << SHIFT);
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return taken,
                Err(actual) => state = actual,
            }
        }
    }

    /// Closes the semaphore: every queued and future acquire fails with
    /// [`AcquireError`]. Permits already held stay valid.
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            let mut returned = 0;
            while let Some((key, waker)) = waiters.pop_front() {
                let want = waiters.remove(key);
                returned += want.assigned;
                want.outcome.publish(SHUT);
                wakers.extend(waker);
            }
            self.settle_idle(returned);
        }
        wakers.wake_all();
    }

    /// Waits for one permit.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `acquire` leaves the queue, and any permits
    /// already assigned to it go to the next waiter.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once (FIFO: a large request holds back
    /// smaller ones behind it).
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Semaphore::acquire).
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permits = n as usize;
        self.acquire_raw(permits).await?;
        Ok(SemaphorePermit { sem: self, permits })
    }

    /// Takes one permit if one is free and nobody queued first.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody queued first.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let permits = n as usize;
        self.try_take(permits)?;
        Ok(SemaphorePermit { sem: self, permits })
    }

    /// [`acquire`](Semaphore::acquire) for an `Arc<Semaphore>`: the permit
    /// owns a reference and can move into a task.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Semaphore::acquire).
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Semaphore::acquire_many) for an `Arc<Semaphore>`.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Semaphore::acquire).
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = n as usize;
        self.acquire_raw(permits).await?;
        Ok(OwnedSemaphorePermit { sem: self, permits })
    }

    /// [`try_acquire`](Semaphore::try_acquire) for an `Arc<Semaphore>`.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for an
    /// `Arc<Semaphore>`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permits = n as usize;
        self.try_take(permits)?;
        Ok(OwnedSemaphorePermit { sem: self, permits })
    }

    /// Waits for `n` permits without wrapping them in a permit guard; the
    /// caller releases them with [`release`](Semaphore::release).
    pub(crate) fn acquire_raw(
        &self,
        n: usize,
    ) -> impl Future<Output = Result<(), AcquireError>> + '_ {
        Acquire::new(self, n, false)
    }

    /// [`acquire_raw`](Self::acquire_raw) of all `n` permits of a semaphore
    /// of `n` (a `Mutex` lock, a `RwLock` write): tries the one-step
    /// [`try_take_all`](Self::try_take_all) first.
    pub(crate) fn acquire_all(
        &self,
        n: usize,
    ) -> impl Future<Output = Result<(), AcquireError>> + '_ {
        Acquire::new(self, n, true)
    }

    /// Takes all `n` permits of a semaphore of `n` (a free `Mutex`, a
    /// `RwLock` with no reader) with one compare-and-swap and no load.
    pub(crate) fn try_take_all(&self, n: usize) -> bool {
        self.state
            .compare_exchange(n << SHIFT, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Gives back all `n` permits of a semaphore of `n` that nobody waits
    /// on with one compare-and-swap; otherwise as [`release`](Self::release).
    pub(crate) fn release_all(&self, n: usize) {
        if self
            .state
            .compare_exchange(0, n << SHIFT, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            self.release(n);
        }
    }

    /// Rule 1: take `n` free permits with one compare-and-swap, or fail.
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            let new = state - (n << SHIFT);
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Returns `n` permits: to the word if nobody waits (rule 1), else to
    /// the waiters in order (rule 3).
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Acquire);
        while state & WAITING == 0 {
            let new = state + checked_shift(n, state);
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        let mut wakers = WakeList::new();
        self.assign_locked(n, &mut self.waiters.lock(), &mut wakers);
        wakers.wake_all();
    }

    /// Rule 3: hands `n` permits to the queue front first; whatever is left
    /// once the queue is empty goes back to the word, clearing WAITING.
    fn assign_locked(&self, mut n: usize, waiters: &mut WaitList<Want>, wakers: &mut WakeList) {
        while n > 0 {
            let Some(key) = waiters.front() else { break };
            let want = waiters.state_mut(key);
            let given = want.missing.min(n);
            want.missing -= given;
            want.assigned += given;
            n -= given;
            if want.missing == 0 {
                wakers.extend(waiters.dequeue(key));
                waiters.remove(key).outcome.publish(GRANTED);
            }
        }
        if waiters.is_empty() {
            self.settle_idle(n);
        }
    }

    /// With the lock held and the queue empty: clears WAITING and adds the
    /// leftover permits to the word in one step.
    fn settle_idle(&self, leftover: usize) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let new = (state & !WAITING) + checked_shift(leftover, state);
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// The slow path of an acquire, under the lock: takes what is free and
    /// queues for the rest (rule 2). Returns the waiter key, or `None` if
    /// all `n` were free.
    fn enqueue(
        &self,
        n: usize,
        waker: &Waker,
        outcome: &AtomicUsize,
    ) -> Result<Option<usize>, AcquireError> {
        let mut waiters = self.waiters.lock();
        let mut state = self.state.load(Ordering::Acquire);
        let taken = loop {
            if state & CLOSED != 0 {
                return Err(AcquireError(()));
            }
            let taken = (state >> SHIFT).min(n);
            let new = if taken == n {
                state - (n << SHIFT)
            } else {
                WAITING
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break taken,
                Err(actual) => state = actual,
            }
        };
        if taken == n {
            return Ok(None);
        }
        let want = Want {
            missing: n - taken,
            assigned: taken,
            outcome: OutcomeRef(NonNull::from(outcome)),
        };
        Ok(Some(waiters.push_back(Some(waker.clone()), want)))
    }

    /// Polls a queued waiter: lock-free once the outcome is published
    /// (rule 5); otherwise refreshes its waker under the lock.
    fn poll_queued(&self, key: usize, outcome: &AtomicUsize, waker: &Waker) -> Poll<usize> {
        match outcome.load(Ordering::Acquire) {
            PENDING => {}
            done => return Poll::Ready(done),
        }
        let mut waiters = self.waiters.lock();
        match outcome.load(Ordering::Acquire) {
            PENDING => {
                waiters.set_waker(key, waker);
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }

    /// Rule 4: a dropped waiter leaves and gives back what it was given.
    fn cancel(&self, key: usize, n: usize, outcome: &AtomicUsize) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            let returned = match outcome.load(Ordering::Acquire) {
                PENDING => waiters.remove(key).assigned,
                GRANTED => n,
                _ => 0,
            };
            if returned > 0 || waiters.is_empty() {
                self.assign_locked(returned, &mut waiters, &mut wakers);
            }
        }
        wakers.wake_all();
    }
}

/// `n << SHIFT`, checked against [`Semaphore::MAX_PERMITS`].
fn checked_shift(n: usize, state: usize) -> usize {
    let total = (state >> SHIFT).checked_add(n);
    assert!(
        total.is_some_and(|t| t <= Semaphore::MAX_PERMITS),
        "a semaphore holds at most Semaphore::MAX_PERMITS ({}) permits",
        Semaphore::MAX_PERMITS
    );
    n << SHIFT
}

/// The future of an acquire: fast path first, then a place in the queue.
///
/// `!Unpin`: once queued, its waiter slot points at `outcome` (rule 5).
struct Acquire<'a> {
    sem: &'a Semaphore,
    permits: usize,
    /// `permits` is the semaphore's whole count (a `Mutex`, a `RwLock`
    /// write): try the one-step fast path first.
    all: bool,
    key: Option<usize>,
    outcome: AtomicUsize,
    _pinned: PhantomPinned,
}

impl<'a> Acquire<'a> {
    fn new(sem: &'a Semaphore, permits: usize, all: bool) -> Acquire<'a> {
        Acquire {
            sem,
            permits,
            all,
            key: None,
            outcome: AtomicUsize::new(PENDING),
            _pinned: PhantomPinned,
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of `this`; `outcome` stays where the
        // waiter slot points (rule 5).
        let this = unsafe { self.get_unchecked_mut() };
        crate::coop::poll_budgeted(cx, |cx| this.poll_acquire(cx))
    }
}

impl Acquire<'_> {
    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let this = self;
        let (sem, n) = (this.sem, this.permits);
        if let Some(key) = this.key {
            let done = std::task::ready!(sem.poll_queued(key, &this.outcome, cx.waker()));
            this.key = None;
            return Poll::Ready(match done {
                GRANTED => Ok(()),
                _ => Err(AcquireError(())),
            });
        }
        if this.all && sem.try_take_all(n) {
            return Poll::Ready(Ok(()));
        }
        match sem.try_take(n) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TryAcquireError::Closed) => Poll::Ready(Err(AcquireError(()))),
            Err(TryAcquireError::NoPermits) => match sem.enqueue(n, cx.waker(), &this.outcome) {
                Ok(None) => Poll::Ready(Ok(())),
                Ok(Some(key)) => {
                    this.key = Some(key);
                    Poll::Pending
                }
                Err(closed) => Poll::Ready(Err(closed)),
            },
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.sem.cancel(key, self.permits, &self.outcome);
        }
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If the two come from different semaphores.
    pub fn merge(&mut self, mut other: SemaphorePermit<'_>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merge: the permits come from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds
    /// fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If the two come from different semaphores.
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merge: the permits come from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds
    /// fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "the semaphore is closed",
            TryAcquireError::NoPermits => "no permits are free right now",
        })
    }
}

impl std::error::Error for TryAcquireError {}
