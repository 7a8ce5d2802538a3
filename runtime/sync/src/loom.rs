//! The one place that chooses between `std`/`parking_lot` and `loom`.
//!
//! Every concurrent structure in this crate takes its atomics, `Arc`,
//! `Mutex` and `UnsafeCell` from here, so that `RUSTFLAGS="--cfg loom"`
//! model-checks the very code that ships (tokio's `loom` facade, in small).

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Mutex, MutexGuard};
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::Arc;

    /// `std::cell::UnsafeCell` with loom's closure-based accessors.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic;
    // `std`'s `Arc`, not loom's: the public API takes `self: Arc<Self>`
    // (`Semaphore::acquire_owned`, `Mutex::lock_owned`, ...), which only a
    // `std::sync::Arc` allows on stable Rust, and callers hand in a std
    // `Arc` anyway. Reference counts are not what the models check; every
    // atomic, lock and cell behind the `Arc` is still loom's.
    pub(crate) use std::sync::Arc;

    /// loom's `UnsafeCell` with the `std`-side extras the crate uses
    /// (`const`-less `new`, `into_inner`, and a `get_mut` that returns a
    /// plain `&mut T`).
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T: ?Sized>(loom::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[track_caller]
        pub(crate) fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(loom::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        #[track_caller]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            self.0.with(f)
        }

        #[track_caller]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            self.0.with_mut(f)
        }

        /// Recorded by loom as a write access at the moment of the call;
        /// `&mut self` keeps every other access out while the borrow lives.
        #[track_caller]
        pub(crate) fn get_mut(&mut self) -> &mut T {
            // SAFETY: `&mut self` is exclusive, so no other access to the
            // cell can overlap the returned borrow.
            self.0.with_mut(|ptr| unsafe { &mut *ptr })
        }
    }

    impl<T: Default> Default for UnsafeCell<T> {
        fn default() -> UnsafeCell<T> {
            UnsafeCell::new(T::default())
        }
    }

    /// loom's mutex behind `parking_lot`'s poison-free signature.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }

        #[allow(dead_code)] // mirrors `parking_lot::Mutex::get_mut`
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap()
        }
    }
}

pub(crate) use imp::*;
