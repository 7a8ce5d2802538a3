//! `select!`: wait on several futures at once, run the handler of the first
//! whose output matches its pattern, and drop the rest.
//!
//! The facade's wrapper calls `select_internal! { $crate; <branches> }`;
//! `parse` reads the branches and `expand` writes the code. The expansion
//! follows tokio's, step by step, so that a program moved over keeps its
//! meaning:
//!
//! 1. Every guard (`, if cond`) is evaluated, in order; a false one disables
//!    its branch (bit `i` of a `u64` mask, hence at most 64 branches).
//! 2. Every future expression is evaluated, in order, disabled branches
//!    included; then each goes through `IntoFuture::into_future` and is
//!    pinned in place with `pin!`, in the select's own future.
//! 3. One `poll_fn` polls the enabled futures, starting at a random branch
//!    (`thread_rng_n`) or, after `biased;`, at the first. A future that
//!    completes disables its branch; if its output matches the branch's
//!    pattern (tested with its bindings replaced by `_`, so nothing is moved
//!    out: see `pattern`) the poll returns it, tagged with the branch's
//!    index. When no branch is
//!    pending and none matched, the poll returns `Disabled`.
//! 4. The futures are dropped (the block holding them ends), and only then
//!    is the tagged output matched against the patterns again, by value, and
//!    the handler run: in the caller's own code, so `break`, `continue`,
//!    `return` and `?` mean what they mean around the `select!`.
//!    `Disabled` runs the `else` branch, or panics without one.
//!
//! The expansion holds no `unsafe` and allocates nothing. Its own names are
//! spanned with `Span::mixed_site()`, so they neither see nor shadow the
//! caller's variables.
use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, Token};

mod expand;
mod parse;
mod pattern;

/// At most this many branches: one bit each in the `u64` disabled mask, as
/// tokio's limit.
pub(crate) const MAX_BRANCHES: usize = 64;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::Select>(input) {
        Ok(select) => expand::select(&select),
        Err(error) => error.to_compile_error(),
    }
}

/// The path of the `corium` facade as the caller's crate names it: the
/// wrapper's `$crate`, passed in ahead of the macro's own input as
/// `$crate;`. Every support item is named through it.
pub(crate) struct Facade(pub(crate) TokenStream);

impl Parse for Facade {
    fn parse(input: ParseStream<'_>) -> syn::Result<Facade> {
        let path: TokenTree = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok(Facade(path.into()))
    }
}

/// The index of the `i`th branch polled from `start`: `(start + i) % count`,
/// or just `i` for one branch (`% 1` is clippy's `modulo_one` in the
/// caller's crate).
pub(crate) fn rotate(start: &Ident, i: &Ident, count: usize) -> TokenStream {
    if count == 1 {
        return quote_spanned!(Span::mixed_site()=> #i);
    }
    let count = Literal::u32_suffixed(count as u32);
    quote_spanned!(Span::mixed_site()=> (#start + #i) % #count)
}
