//! Corium's procedural macros, re-exported by the `corium` facade.
//!
//! - `#[corium::main]` and `#[corium::test]` turn an `async fn` into a plain
//!   one that builds a runtime and blocks on the body (`entry`).
//! - `select!`, `join!` and `try_join!` are expanded here (`select`, `join`);
//!   users call them through the facade's `macro_rules!` wrappers, which pass
//!   `$crate` in so the expansion names the facade however it is imported.
//!
//! Nothing here is meant to be named directly: use the facade.
#![warn(missing_docs, rust_2018_idioms)]

use proc_macro::TokenStream;

mod entry;
mod join;
mod select;

/// Runs `async fn main` on a Corium runtime.
///
/// ```
/// #[corium::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = corium::net::TcpListener::bind("127.0.0.1:0").await?;
///     println!("listening on {}", listener.local_addr()?);
///     Ok(())
/// }
/// ```
///
/// With no argument the runtime is what the environment asks for, so the
/// same binary runs on either flavor: `CORIUM_FLAVOR=current_thread` (or
/// `current`), `multi_thread` (or `multi`), and `CORIUM_WORKER_THREADS=n`;
/// with nothing set it is multi-thread with one worker per core, as tokio's.
/// An invalid value stops the program at startup with a message naming the
/// variable (exit status 1).
///
/// Arguments, which win over the environment:
/// - `flavor = "current_thread"` or `"multi_thread"`;
/// - `worker_threads = n` (multi-thread only; alone, it implies that flavor);
/// - `start_paused = true`: the test clock, paused (current-thread only);
/// - `crate = "path"`: where corium is, if it is imported under another name.
///
/// ```
/// #[corium::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() {
///     let answer = corium::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// ```
///
/// `main` may return a `Result`, and `?` converts into its error type. The
/// function must be `async` and take no parameters; a mistake in the
/// arguments is a compile error that says what to write instead.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::main(args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own runtime.
///
/// ```
/// #[corium::test]
/// async fn a_spawned_task_answers() {
///     let answer = corium::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// # fn main() {}
/// ```
///
/// The runtime is current-thread unless the arguments say otherwise,
/// whatever `CORIUM_FLAVOR` says: a test suite must not change meaning with
/// a variable. The arguments are `#[corium::main]`'s; `start_paused = true`
/// pauses the clock, so timers fire as soon as every task waits
/// (current-thread only). Other attributes (`#[should_panic]`, `#[ignore]`)
/// are kept; a test may return a `Result`.
///
/// ```
/// #[corium::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     corium::time::sleep(std::time::Duration::from_secs(3600)).await;
/// }
///
/// #[corium::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn on_two_workers() {
///     let handle = corium::runtime::Handle::current();
///     assert_eq!(handle.metrics().num_workers(), 2);
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::test(args.into(), item.into()).into()
}

/// `corium::select!`'s expansion; call it through the facade.
#[doc(hidden)]
#[proc_macro]
pub fn select_internal(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// `corium::join!`'s expansion; call it through the facade.
#[doc(hidden)]
#[proc_macro]
pub fn join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), join::Mode::Join).into()
}

/// `corium::try_join!`'s expansion; call it through the facade.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), join::Mode::TryJoin).into()
}
