//! The facade's side of `select!`, `join!` and `try_join!`: the
//! `macro_rules!` wrappers users call, and the support code their
//! expansions name. Hidden: only the macros are public API.
//!
//! Each wrapper hands its input to a proc macro of `corium-macros`, with
//! `$crate` in front (`select_internal! { $crate; ... }`), so the expansion
//! names this module as `$crate::macros::...` however the caller imports or
//! renames corium, and the caller's crate needs no other dependency.

pub use corium_macros::{join_internal, select_internal, try_join_internal};
pub use std::future::{poll_fn, Future};
pub use std::pin::pin;
pub use std::result::Result;
pub use std::task::Poll;

pub use maybe_done::{maybe_done, maybe_done_ok, MaybeDone, TryOutput};
pub use rng::thread_rng_n;

/// Waits on several futures at once and runs the handler of the first one
/// to complete with an output that matches its pattern, as
/// `tokio::select!`.
///
/// ```text
/// corium::select! {
///     [biased;]
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// 1. Every `if` condition is evaluated, in order; a false one disables its
///    branch.
/// 2. Every future expression is evaluated, in order (disabled branches'
///    too), and pinned inside the select's own future, so the futures need
///    be neither `Unpin` nor fused. Anything `IntoFuture` will do.
/// 3. The enabled futures are polled, starting at a random branch each time
///    for fairness, or at the first with `biased;`. A future that completes
///    disables its branch; if its output matches the branch's pattern, that
///    branch wins. A refutable pattern that does not match (`Some(v)` against
///    `None`) leaves the other branches running.
/// 4. All the futures are dropped (the losers are cancelled), then the
///    winner's handler runs with the pattern's bindings, as the value of the
///    whole `select!`. Handlers are the caller's own code: `break`,
///    `continue`, `return` and `?` act on the code around the `select!`.
///
/// When every branch is disabled, `else` runs; without an `else`, the
/// select panics with "all branches are disabled and there is no else
/// branch". A select takes at most 64 branches.
///
/// # Examples
///
/// The first of two channels to deliver, within a deadline:
///
/// ```
/// use std::time::Duration;
/// use corium::sync::mpsc;
/// use corium::time::sleep;
///
/// let rt = corium::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u32>(1);
///     corium::spawn(async move { tx.send(7).await.unwrap() });
///     let got = corium::select! {
///         Some(n) = rx.recv() => n,
///         _ = sleep(Duration::from_secs(5)) => panic!("nothing arrived"),
///     };
///     assert_eq!(got, 7);
/// });
/// ```
///
/// In a loop, until a channel closes: once `recv` yields `None`, its
/// branch is disabled and `else` ends the loop.
///
/// ```
/// use corium::sync::mpsc;
///
/// let rt = corium::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u32>(8);
///     for n in 1..=3 {
///         tx.send(n).await.unwrap();
///     }
///     drop(tx);
///     let mut sum = 0;
///     loop {
///         corium::select! {
///             biased;
///             Some(n) = rx.recv() => sum += n,
///             else => break,
///         }
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::macros::select_internal! { $crate; $($input)* }
    };
}

/// Runs several futures concurrently on the calling task and waits for all
/// of them, as `tokio::join!`: `join!(a, b, c)` is the tuple of their
/// outputs, `join!()` is `()`.
///
/// Each future is polled once per wake-up of the task, the first one polled
/// rotating between wake-ups (`join!(biased; a, b)` always starts at `a`).
/// The futures share one task, so they run concurrently but never in
/// parallel: spawn them for that. Anything `IntoFuture` will do.
///
/// # Examples
///
/// Two futures that each wait for the other, which only works if they run
/// at the same time:
///
/// ```
/// use corium::sync::oneshot;
///
/// let rt = corium::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (ping_tx, ping_rx) = oneshot::channel();
///     let (pong_tx, pong_rx) = oneshot::channel();
///     let (a, b) = corium::join!(
///         async move {
///             ping_tx.send("ping").unwrap();
///             pong_rx.await.unwrap()
///         },
///         async move {
///             let ping = ping_rx.await.unwrap();
///             pong_tx.send("pong").unwrap();
///             ping
///         },
///     );
///     assert_eq!((a, b), ("pong", "ping"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($input:tt)*) => {
        $crate::macros::join_internal! { $crate; $($input)* }
    };
}

/// Runs several futures that return `Result<_, E>` concurrently on the
/// calling task, as `tokio::try_join!`: `Ok` with the tuple of their `Ok`
/// values once all succeed, or the first `Err` as soon as one fails, the
/// others being dropped (cancelled) at once. `try_join!()` is `Ok(())`.
///
/// The futures are polled as [`join!`] polls them; they must share one
/// error type.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corium::time::sleep;
///
/// async fn parse(text: &str) -> Result<u32, String> {
///     text.parse().map_err(|_| format!("not a number: {text}"))
/// }
///
/// let rt = corium::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     assert_eq!(corium::try_join!(parse("1"), parse("2")), Ok((1, 2)));
///
///     // The error ends the wait: the hour-long sleep is dropped.
///     let slow = async {
///         sleep(Duration::from_secs(3600)).await;
///         Ok(0)
///     };
///     let failed = corium::try_join!(slow, parse("x"));
///     assert_eq!(failed, Err("not a number: x".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($input:tt)*) => {
        $crate::macros::try_join_internal! { $crate; $($input)* }
    };
}

/// `select!` without an `else` found every branch disabled.
#[cold]
#[track_caller]
pub fn all_branches_disabled() -> ! {
    panic!("all branches are disabled and there is no else branch")
}

/// A branch index past the last: a bug in the expansion, not the caller's.
#[cold]
#[track_caller]
pub fn unreachable_branch() -> ! {
    unreachable!("corium's select!/join! expansion reached a branch it does not have")
}

mod maybe_done {
    //! `MaybeDone`: a future of `join!`, then its output once it has one.
    //!
    //! # Pinning
    //!
    //! A `MaybeDone` is only used pinned. The future in `Future` is pinned
    //! structurally: it is never moved out, only dropped in place (by
    //! `Pin::set` when it completes, or with the `MaybeDone`). The output in
    //! `Done` is not pinned: it is moved out by `take_output`.

    use std::future::{Future, IntoFuture};
    use std::mem;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    /// A future, then its output `T` (the future's `Output`), then nothing
    /// once the output is taken.
    ///
    /// `T` is a parameter rather than `F::Output` so that the type carries
    /// no `F: Future` bound: a `join!` of something that is not a future is
    /// then one error, at the user's expression, not one per use.
    #[derive(Debug)]
    // No niche-packed discriminant inside the future's bytes, which a
    // self-referential future may be borrowing (tokio #6729).
    #[repr(C)]
    pub enum MaybeDone<F, T> {
        /// Still running.
        Future(F),
        /// Finished with this output.
        Done(T),
        /// The output was taken.
        Gone,
    }

    /// `future` (anything `IntoFuture`), not yet polled.
    pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture, F::Output> {
        MaybeDone::Future(future.into_future())
    }

    /// [`maybe_done`] for `try_join!`, whose futures output a `Result`:
    /// checked here, where the error can point at the user's expression.
    pub fn maybe_done_ok<F>(future: F) -> MaybeDone<F::IntoFuture, F::Output>
    where
        F: IntoFuture,
        F::Output: TryOutput,
    {
        maybe_done(future)
    }

    impl<F: Future<Output = T>, T> MaybeDone<F, T> {
        /// The output, if the future is done and it was not taken yet.
        pub fn output_mut(self: Pin<&mut Self>) -> Option<&mut T> {
            // SAFETY: nothing is moved; the reference handed out is to the
            // output, which is not pinned (see the module's doc).
            match unsafe { self.get_unchecked_mut() } {
                MaybeDone::Done(output) => Some(output),
                _ => None,
            }
        }

        /// Takes the output out, if the future is done; `Gone` after.
        pub fn take_output(self: Pin<&mut Self>) -> Option<T> {
            // SAFETY: the value is replaced only when it is `Done`, whose
            // output is not pinned; a pinned future is never moved out.
            let this = unsafe { self.get_unchecked_mut() };
            if !matches!(this, MaybeDone::Done(_)) {
                return None;
            }
            match mem::replace(this, MaybeDone::Gone) {
                MaybeDone::Done(output) => Some(output),
                _ => None,
            }
        }

        /// The output of a future `join!` saw complete.
        #[track_caller]
        pub fn take_done(self: Pin<&mut Self>) -> T {
            match self.take_output() {
                Some(output) => output,
                None => panic!("join!: a future's output was taken before it was done"),
            }
        }
    }

    impl<F: Future<Output = T>, T> Future for MaybeDone<F, T> {
        type Output = ();

        /// Polls the future until it is done; ready at once after.
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            // SAFETY: the future is only re-pinned, never moved (structural
            // pinning, see the module's doc).
            let output = match unsafe { self.as_mut().get_unchecked_mut() } {
                // SAFETY: as above, `future` stays where it is.
                MaybeDone::Future(future) => ready!(unsafe { Pin::new_unchecked(future) }.poll(cx)),
                MaybeDone::Done(_) => return Poll::Ready(()),
                MaybeDone::Gone => panic!("join!: a future was polled after its output was taken"),
            };
            // Drops the finished future in place, as pinning allows.
            self.set(MaybeDone::Done(output));
            Poll::Ready(())
        }
    }

    /// The output of a `try_join!` future: a `Result`. A trait rather than
    /// `Result<T, E>` in the bounds only for its message, so that a future
    /// with another output is told so plainly.
    #[diagnostic::on_unimplemented(
        message = "try_join! needs futures that output a `Result`, but this one outputs `{Self}`",
        label = "outputs `{Self}`, not a `Result`"
    )]
    pub trait TryOutput {
        /// The success type.
        type Ok;
        /// The error type.
        type Err;

        /// `self`, as the `Result` it is.
        fn into_result(self) -> Result<Self::Ok, Self::Err>;

        /// Whether `self` is an error.
        fn is_err(&self) -> bool;
    }

    impl<T, E> TryOutput for Result<T, E> {
        type Ok = T;
        type Err = E;

        fn into_result(self) -> Result<T, E> {
            self
        }

        fn is_err(&self) -> bool {
            Result::is_err(self)
        }
    }

    impl<F: Future<Output = O>, O: TryOutput> MaybeDone<F, O> {
        /// Polls for `try_join!`: ready with `Err(e)` (taking the output)
        /// if the future failed, with `Ok(())` if it succeeded.
        pub fn poll_ok(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), O::Err>> {
            ready!(self.as_mut().poll(cx));
            if self
                .as_mut()
                .output_mut()
                .is_some_and(|output| output.is_err())
            {
                if let Some(Err(error)) = self.take_output().map(O::into_result) {
                    return Poll::Ready(Err(error));
                }
            }
            Poll::Ready(Ok(()))
        }

        /// The `Ok` value of a future `try_join!` saw succeed.
        #[track_caller]
        pub fn take_ok(self: Pin<&mut Self>) -> O::Ok {
            match self.take_output().map(O::into_result) {
                Some(Ok(value)) => value,
                _ => panic!("try_join!: a future's output was taken before it succeeded"),
            }
        }
    }
}

mod rng {
    //! A cheap per-thread random number, for `select!`'s first branch.

    use std::cell::Cell;
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hash, Hasher};
    use std::time::SystemTime;

    thread_local! {
        /// The xorshift state; 0 until the thread's first draw seeds it.
        static STATE: Cell<u64> = const { Cell::new(0) };
    }

    /// A number in `0..n` (`n` > 0), uniform enough to spread `select!`'s
    /// first poll over its branches. Not for anything that needs secrecy.
    pub fn thread_rng_n(n: u32) -> u32 {
        STATE.with(|state| {
            let mut x = state.get();
            if x == 0 {
                x = seed();
            }
            // xorshift64* (Marsaglia; Vigna's multiplier).
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            state.set(x);
            let draw = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32;
            // Lemire's multiply-shift: `draw` scaled into `0..n`.
            ((u64::from(draw) * u64::from(n)) >> 32) as u32
        })
    }

    /// A non-zero seed from std's per-thread random hash keys, the thread
    /// and the time.
    fn seed() -> u64 {
        let mut hasher = RandomState::new().build_hasher();
        std::thread::current().id().hash(&mut hasher);
        SystemTime::now().hash(&mut hasher);
        hasher.finish() | 1
    }
}
