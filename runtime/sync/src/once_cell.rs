//! [`OnceCell`]: a value set once, possibly by an async initialiser.
//!
//! # Protocol
//!
//! 1. The value slot is written once, by the holder of the cell's one
//!    semaphore permit, before `ready` is set with Release; readers load
//!    `ready` with Acquire before reading the slot.
//! 2. After writing, the holder closes the semaphore instead of releasing
//!    its permit: every waiting initialiser wakes with "closed", which
//!    means "the value is there".
//! 3. An initialiser that fails or is cancelled releases the permit: the
//!    next waiter in line runs its own initialiser.

use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::UnsafeCell;
use crate::semaphore::{Semaphore, TryAcquireError};

/// A cell written at most once, readable without locking afterwards.
///
/// ```
/// use corium_sync::OnceCell;
///
/// static CONFIG: std::sync::OnceLock<OnceCell<String>> = std::sync::OnceLock::new();
/// # futures_util::FutureExt::now_or_never(async {
/// let cell = CONFIG.get_or_init(OnceCell::new);
/// let value = cell.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(value, "loaded");
/// # }).unwrap();
/// ```
pub struct OnceCell<T> {
    ready: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    sem: Semaphore,
}

// SAFETY: readers share `&T` across threads (`T: Sync`) and the value may
// be written on one thread and dropped on another (`T: Send`).
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: the cell owns its `T`.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Why [`OnceCell::set`] did not set; the value comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// An initialiser is running right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// True if the cell already held a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// True if an initialiser was running.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

/// Rule 3: gives the permit back unless the value was written.
struct InitGuard<'a> {
    sem: &'a Semaphore,
}

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell {
            ready: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            sem: Semaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            if cell.set(value).is_err() {
                unreachable!("a new cell is empty and has its permit");
            }
        }
        cell
    }

    /// True once the value is set.
    pub fn initialized(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: rule 1: `ready` was loaded with Acquire.
        self.initialized().then(|| unsafe { self.value_ref() })
    }

    /// The value through `&mut self`, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if !self.initialized() {
            return None;
        }
        // SAFETY: rule 1, and `&mut self` excludes every reader.
        Some(
            self.value
                .with_mut(|slot| unsafe { (*slot).assume_init_mut() }),
        )
    }

    /// Sets the value if the cell is empty and no initialiser is running.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        match self.sem.try_take(1) {
            Ok(()) => {
                self.store(value);
                Ok(())
            }
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
            Err(TryAcquireError::NoPermits) if self.initialized() => {
                Err(SetError::AlreadyInitializedError(value))
            }
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, running `init` first if the cell is empty. Concurrent
    /// callers wait for the one initialiser instead of running their own.
    ///
    /// # Cancel safety
    /// Cancel safe: if the running initialiser is dropped, the next waiter
    /// runs its own (rule 3).
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let result: Result<&T, std::convert::Infallible> =
            self.get_or_try_init(|| async { Ok(init().await) }).await;
        match result {
            Ok(value) => value,
        }
    }

    /// As [`get_or_init`](OnceCell::get_or_init), but `init` may fail; the
    /// error is returned and the cell stays empty for the next caller.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`get_or_init`](OnceCell::get_or_init).
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        if self.sem.acquire_raw(1).await.is_err() {
            return Ok(self.get().expect("rule 2: closed means initialised"));
        }
        let guard = InitGuard { sem: &self.sem };
        let value = init().await?;
        std::mem::forget(guard);
        self.store(value);
        Ok(self.get().expect("stored just now"))
    }

    /// The value, consuming the cell.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.ready.store(false, Ordering::Relaxed);
        self.sem = Semaphore::new(1);
        // SAFETY: rule 1; `&mut self` excludes readers and `ready` is now
        // false, so the value is moved out exactly once.
        Some(
            self.value
                .with_mut(|slot| unsafe { (*slot).assume_init_read() }),
        )
    }

    /// Rules 1 and 2: write, publish, wake waiting initialisers.
    fn store(&self, value: T) {
        // SAFETY: rule 1: we hold the permit and `ready` is false, so no
        // one reads or writes the slot.
        self.value.with_mut(|slot| unsafe { (*slot).write(value) });
        self.ready.store(true, Ordering::Release);
        self.sem.close();
    }

    /// # Safety
    /// `ready` must have been seen true with Acquire.
    unsafe fn value_ref(&self) -> &T {
        // SAFETY: by the caller: the slot was written and is never written
        // again while shared.
        self.value.with(|slot| unsafe { (*slot).assume_init_ref() })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetError::AlreadyInitializedError(_) => "the cell already holds a value",
            SetError::InitializingError(_) => "the cell is being initialised right now",
        })
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}
