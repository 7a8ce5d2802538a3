//! Corium's synchronisation primitives for async tasks.
//!
//! Channels ([`oneshot`], [`mpsc`], [`broadcast`], [`watch`]), [`Notify`],
//! a fair [`Semaphore`] and the locks built on it ([`Mutex`], [`RwLock`]),
//! [`Barrier`], [`OnceCell`] and [`CancellationToken`]. Names and
//! signatures follow `tokio::sync`, so code moves over unchanged.
//!
//! Everything here is runtime-agnostic: a primitive needs nothing but the
//! [`Waker`](std::task::Waker) of the task that waits, so it works under
//! Corium's executors, under another runtime, and between plain threads
//! (the `blocking_*` methods).
//!
//! Every primitive parks its futures on one small FIFO waiter list
//! (`waiters.rs`), kept under a short `parking_lot` lock; the uncontended
//! paths of [`Semaphore`] (and so [`Mutex`]) and [`oneshot`] take no lock
//! at all. Every waiting future is cancel safe in the sense each method
//! documents: dropping it gives back its place in line and anything it had
//! already been handed (a permit, a message slot, a notification).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]

mod barrier;
mod blocking;
pub mod broadcast;
mod cancellation;
mod coop;
mod loom;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use cancellation::{
    CancellationToken, DropGuard, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
