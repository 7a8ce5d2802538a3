//! An async readers-writer lock: a [`Semaphore`] of `MAX_READS` permits.
//!
//! A reader takes one permit, a writer takes all of them. Because the
//! semaphore is FIFO, a queued writer holds back readers that come after
//! it: writers never starve, and the lock is fair both ways.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::loom::{Arc, UnsafeCell};
use crate::mutex::TryLockError;
use crate::semaphore::Semaphore;

/// How many readers may hold the lock at once.
const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// An async readers-writer lock whose guards may be held across `.await`.
pub struct RwLock<T: ?Sized> {
    sem: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`) and a writer
// may get `&mut T` on any thread (needs `T: Send`), as `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: the lock owns its `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

/// Shared access to a [`RwLock`]'s value; releases on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Exclusive access to a [`RwLock`]'s value; releases on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// A read guard that owns an `Arc` of its lock, so it is `'static`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

/// A write guard that owns an `Arc` of its lock, so it is `'static`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

// SAFETY: a read guard only gives `&T`; sharing or sending it shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T> {}
// SAFETY: as above; the `Arc` needs the lock to be `Send + Sync`.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockReadGuard<T> {}
// SAFETY: sharing a write guard shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: sending a write guard moves `&mut T` to another thread.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}

impl<T> RwLock<T> {
    /// An unlocked `RwLock` holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READS),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `read` leaves the queue and gives back
    /// anything already handed to it.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard { lock: self }
    }

    /// Waits for exclusive access.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`read`](RwLock::read).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(MAX_READS).await;
        RwLockWriteGuard { lock: self }
    }

    /// [`read`](RwLock::read) for an `Arc<RwLock>`; the guard is `'static`.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`read`](RwLock::read).
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        OwnedRwLockReadGuard { lock: self }
    }

    /// [`write`](RwLock::write) for an `Arc<RwLock>`; the guard is `'static`.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`read`](RwLock::read).
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(MAX_READS).await;
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Shared access if available now and no writer queued first.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(RwLockReadGuard { lock: self })
    }

    /// Exclusive access if available now and nobody queued first.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_acquire(MAX_READS)?;
        Ok(RwLockWriteGuard { lock: self })
    }

    /// [`try_read`](RwLock::try_read) for an `Arc<RwLock>`.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// [`try_write`](RwLock::try_write) for an `Arc<RwLock>`.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_acquire(MAX_READS)?;
        Ok(OwnedRwLockWriteGuard { lock: self })
    }

    /// Shared access from a thread outside any async runtime, parking it.
    ///
    /// # Panics
    /// On a thread that runs a Corium runtime's tasks (a `block_on` thread
    /// or a worker), where parking would stall them all; blocking-pool
    /// threads are fine.
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::blocking::block_on(self.read())
    }

    /// Exclusive access from a thread outside any async runtime, parking it.
    ///
    /// # Panics
    /// On a thread that runs a Corium runtime's tasks (a `block_on` thread
    /// or a worker), where parking would stall them all; blocking-pool
    /// threads are fine.
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::blocking::block_on(self.write())
    }

    /// The value, through `&mut self`: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    async fn acquire(&self, permits: usize) {
        let acquired = match permits {
            MAX_READS => self.sem.acquire_all(MAX_READS).await,
            _ => self.sem.acquire_raw(permits).await,
        };
        if let Err(e) = acquired {
            unreachable!("a RwLock never closes its semaphore, yet: {e}");
        }
    }

    fn try_acquire(&self, permits: usize) -> Result<(), TryLockError> {
        self.sem.try_take(permits).map_err(|_| TryLockError(()))
    }

    fn value_ptr(&self) -> *mut T {
        self.value.with_mut(|ptr| ptr)
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.sem.release(MAX_READS - 1);
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the `Arc` is moved out once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.sem.release(MAX_READS - 1);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

/// Deref for read guards: `&T` while the guard lives.
macro_rules! read_access {
    ($($guard:ty),*) => {$(
        impl<T: ?Sized> Deref for $guard {
            type Target = T;

            fn deref(&self) -> &T {
                // SAFETY: the guard holds at least one permit, so no writer
                // (who needs all of them) can hold the lock.
                unsafe { &*self.lock.value_ptr() }
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

/// DerefMut for write guards: `&mut T` while the guard lives.
macro_rules! write_access {
    ($($guard:ty),*) => {$(
        impl<T: ?Sized> DerefMut for $guard {
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: the guard holds every permit, and `&mut self`
                // makes this access unique.
                unsafe { &mut *self.lock.value_ptr() }
            }
        }
    )*};
}

/// Drop for guards: give back the permits they hold.
macro_rules! release_on_drop {
    ($($guard:ty => $permits:expr),*) => {$(
        impl<T: ?Sized> Drop for $guard {
            fn drop(&mut self) {
                self.lock.sem.release($permits);
            }
        }
    )*};
}

read_access!(
    RwLockReadGuard<'_, T>,
    RwLockWriteGuard<'_, T>,
    OwnedRwLockReadGuard<T>,
    OwnedRwLockWriteGuard<T>
);
write_access!(RwLockWriteGuard<'_, T>, OwnedRwLockWriteGuard<T>);
release_on_drop!(
    RwLockReadGuard<'_, T> => 1,
    OwnedRwLockReadGuard<T> => 1,
    RwLockWriteGuard<'_, T> => MAX_READS,
    OwnedRwLockWriteGuard<T> => MAX_READS
);

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}
