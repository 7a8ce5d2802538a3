//! The three primitive families behind two small traits, so that every
//! sync benchmark body is written once and only the primitive differs
//! between the columns of a row: [`Channels`] (a bounded mpsc and a
//! oneshot) and [`Locks`] (an async `Mutex` and a `Semaphore`).
//!
//! - [`CoriumSync`]: `corium::sync`, the subject.
//! - [`TokioSync`]: `tokio::sync`, the API it follows.
//! - [`SmolRs`]: smol-rs's primitives, `async-channel` (its mpmc
//!   `bounded`, used as an mpsc; `bounded(1)` as the oneshot) and
//!   `async-lock` (`Mutex`, `Semaphore`).
//!
//! All three are runtime-agnostic (they need only wakers), which is what
//! lets any of them run on any executor of the suite.

use std::future::Future;
use std::ops::DerefMut;

/// A bounded multi-producer channel and a oneshot, from one family.
pub trait Channels: 'static {
    /// Column name of the family for the channel benchmarks.
    const CHANNELS: &'static str;

    /// The sending half of the bounded channel.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The receiving half of the bounded channel.
    type Rx<T: Send + 'static>: Send + 'static;
    /// The sending half of a oneshot.
    type OnceTx<T: Send + 'static>: Send + 'static;
    /// The receiving half of a oneshot.
    type OnceRx<T: Send + 'static>: Send + 'static;

    /// A bounded channel holding at most `capacity` messages.
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `value`, waiting for room; panics if the receiver is gone.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) -> impl Future<Output = ()> + Send + '_;
    /// The next message, or `None` once every sender is gone and the
    /// channel is empty.
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>)
        -> impl Future<Output = Option<T>> + Send + '_;

    /// A oneshot channel.
    fn oneshot<T: Send + 'static>() -> (Self::OnceTx<T>, Self::OnceRx<T>);
    /// Completes the oneshot (never waits); panics if the receiver is gone.
    fn reply<T: Send + 'static>(tx: Self::OnceTx<T>, value: T);
    /// Waits for the oneshot's value; panics if the sender was dropped.
    fn wait<T: Send + 'static>(rx: Self::OnceRx<T>) -> impl Future<Output = T> + Send;
}

/// An async mutex over a counter and a semaphore, from one family.
pub trait Locks: 'static {
    /// Column name of the family for the lock benchmarks.
    const LOCKS: &'static str;

    /// A mutex holding a `u64`.
    type Mutex: Send + Sync + 'static;
    /// Its guard: may be held across an `.await` on a multi-thread runtime.
    type Guard<'a>: DerefMut<Target = u64> + Send + 'a;
    /// A counting semaphore.
    type Semaphore: Send + Sync + 'static;
    /// A permit of it, given back when dropped.
    type Permit<'a>: Send + 'a;

    /// A mutex holding `value`.
    fn mutex(value: u64) -> Self::Mutex;
    /// Waits for the lock.
    fn lock(mutex: &Self::Mutex) -> impl Future<Output = Self::Guard<'_>> + Send + '_;
    /// A semaphore with `permits` permits.
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Waits for one permit.
    fn acquire(semaphore: &Self::Semaphore) -> impl Future<Output = Self::Permit<'_>> + Send + '_;
}

/// `corium::sync`.
#[derive(Debug)]
pub struct CoriumSync;

/// `tokio::sync`.
#[derive(Debug)]
pub struct TokioSync;

/// smol-rs: `async-channel` and `async-lock`.
#[derive(Debug)]
pub struct SmolRs;

/// Implements [`Channels`] and [`Locks`] for `corium::sync` and
/// `tokio::sync`, whose APIs are the same by design.
macro_rules! tokio_like {
    ($family:ident, $sync:path, $channels:literal, $locks:literal) => {
        const _: () = {
            use $sync as sync;

            impl Channels for $family {
                const CHANNELS: &'static str = $channels;

                type Tx<T: Send + 'static> = sync::mpsc::Sender<T>;
                type Rx<T: Send + 'static> = sync::mpsc::Receiver<T>;
                type OnceTx<T: Send + 'static> = sync::oneshot::Sender<T>;
                type OnceRx<T: Send + 'static> = sync::oneshot::Receiver<T>;

                fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>) {
                    sync::mpsc::channel(capacity)
                }

                async fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) {
                    if tx.send(value).await.is_err() {
                        panic!("mpsc receiver dropped");
                    }
                }

                fn recv<T: Send + 'static>(
                    rx: &mut Self::Rx<T>,
                ) -> impl Future<Output = Option<T>> + Send + '_ {
                    rx.recv()
                }

                fn oneshot<T: Send + 'static>() -> (Self::OnceTx<T>, Self::OnceRx<T>) {
                    sync::oneshot::channel()
                }

                fn reply<T: Send + 'static>(tx: Self::OnceTx<T>, value: T) {
                    if tx.send(value).is_err() {
                        panic!("oneshot receiver dropped");
                    }
                }

                async fn wait<T: Send + 'static>(rx: Self::OnceRx<T>) -> T {
                    rx.await.expect("oneshot sender dropped")
                }
            }

            impl Locks for $family {
                const LOCKS: &'static str = $locks;

                type Mutex = sync::Mutex<u64>;
                type Guard<'a> = sync::MutexGuard<'a, u64>;
                type Semaphore = sync::Semaphore;
                type Permit<'a> = sync::SemaphorePermit<'a>;

                fn mutex(value: u64) -> Self::Mutex {
                    sync::Mutex::new(value)
                }

                fn lock(mutex: &Self::Mutex) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
                    mutex.lock()
                }

                fn semaphore(permits: usize) -> Self::Semaphore {
                    sync::Semaphore::new(permits)
                }

                async fn acquire(semaphore: &Self::Semaphore) -> Self::Permit<'_> {
                    semaphore.acquire().await.expect("semaphore closed")
                }
            }
        };
    };
}

tokio_like!(CoriumSync, corium::sync, "corium::sync", "corium::sync");
tokio_like!(TokioSync, tokio::sync, "tokio::sync", "tokio::sync");

impl Channels for SmolRs {
    const CHANNELS: &'static str = "async-channel";

    type Tx<T: Send + 'static> = async_channel::Sender<T>;
    type Rx<T: Send + 'static> = async_channel::Receiver<T>;
    type OnceTx<T: Send + 'static> = async_channel::Sender<T>;
    type OnceRx<T: Send + 'static> = async_channel::Receiver<T>;

    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        async_channel::bounded(capacity)
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) {
        if tx.send(value).await.is_err() {
            panic!("async-channel receiver dropped");
        }
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }

    /// async-channel has no oneshot: `bounded(1)` is what its users take.
    fn oneshot<T: Send + 'static>() -> (Self::OnceTx<T>, Self::OnceRx<T>) {
        async_channel::bounded(1)
    }

    fn reply<T: Send + 'static>(tx: Self::OnceTx<T>, value: T) {
        if tx.try_send(value).is_err() {
            panic!("async-channel oneshot full or receiver dropped");
        }
    }

    async fn wait<T: Send + 'static>(rx: Self::OnceRx<T>) -> T {
        rx.recv()
            .await
            .expect("async-channel oneshot sender dropped")
    }
}

impl Locks for SmolRs {
    const LOCKS: &'static str = "async-lock";

    type Mutex = async_lock::Mutex<u64>;
    type Guard<'a> = async_lock::MutexGuard<'a, u64>;
    type Semaphore = async_lock::Semaphore;
    type Permit<'a> = async_lock::SemaphoreGuard<'a>;

    fn mutex(value: u64) -> Self::Mutex {
        async_lock::Mutex::new(value)
    }

    fn lock(mutex: &Self::Mutex) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        mutex.lock()
    }

    fn semaphore(permits: usize) -> Self::Semaphore {
        async_lock::Semaphore::new(permits)
    }

    fn acquire(semaphore: &Self::Semaphore) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        semaphore.acquire()
    }
}
