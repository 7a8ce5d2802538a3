//! `join!` and `try_join!`: run several futures concurrently on the calling
//! task and wait for all of their outputs (or, for `try_join!`, for the
//! first error).
//!
//! The facade's wrapper calls `join_internal! { $crate; [biased;] a, b, .. }`.
//! The expansion follows tokio's:
//!
//! 1. Each expression is evaluated in order, passed through `IntoFuture` and
//!    wrapped in a `MaybeDone` (which holds the future, then its output),
//!    pinned in place with `pin!`.
//! 2. One `poll_fn` polls every `MaybeDone` once per wake-up. The first one
//!    polled rotates from one poll to the next, so a future that spends the
//!    task's budget cannot starve the ones after it; `biased;` keeps the
//!    declared order.
//! 3. `join!` is ready when every future is, with the tuple of outputs.
//!    `try_join!` is ready with `Err(e)` as soon as one future's output is
//!    `Err(e)`, or with `Ok(tuple)` once every one is `Ok`. The block
//!    holding the futures ends with the `.await`, so the ones still running
//!    are dropped before the caller sees the result.
//!
//! No `unsafe` and no allocation in the expansion; `MaybeDone` keeps the
//! pin projection in the facade.
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::select::Facade;

#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// `join!`: all outputs.
    Join,
    /// `try_join!`: all `Ok` outputs, or the first `Err`.
    TryJoin,
}

/// A `join!` or `try_join!` invocation.
struct Join {
    facade: Facade,
    biased: bool,
    futures: Vec<Expr>,
}

pub(crate) fn expand(input: TokenStream, mode: Mode) -> TokenStream {
    match syn::parse2::<Join>(input) {
        Ok(join) => expand_join(&join, mode),
        Err(error) => error.to_compile_error(),
    }
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Join> {
        let facade = input.parse()?;
        let biased = input.peek(syn::Ident) && input.peek2(Token![;]) && {
            let keyword: Ident = input.fork().parse()?;
            keyword == "biased"
        };
        if biased {
            input.parse::<Ident>()?;
            input.parse::<Token![;]>()?;
        }
        let futures = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join {
            facade,
            biased,
            futures: futures.into_iter().collect(),
        })
    }
}

/// The `MaybeDone` of future `index`, pinned. Hidden from the caller, but
/// located at the user's expression, so that a type error about this future
/// points there rather than at the whole macro.
fn future_name(join: &Join, index: usize) -> Ident {
    format_ident!(
        "__corium_future_{}",
        index,
        span = located(&join.futures[index])
    )
}

/// `expr`'s location with the expansion's hygiene.
fn located(expr: &Expr) -> Span {
    expr.span().resolved_at(Span::mixed_site())
}

fn hidden(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

fn expand_join(join: &Join, mode: Mode) -> TokenStream {
    let facade = &join.facade.0;
    if join.futures.is_empty() {
        return match mode {
            Mode::Join => quote!(async {}.await),
            Mode::TryJoin => quote!(async { #facade::macros::Result::Ok(()) }.await),
        };
    }
    let futures = wrap_futures(join, mode);
    let poll = poll(join, mode);
    quote_spanned! {Span::mixed_site()=>
        {
            #futures
            #poll.await
        }
    }
}

/// Step 1: each future, evaluated, wrapped in `MaybeDone` and pinned.
fn wrap_futures(join: &Join, mode: Mode) -> TokenStream {
    let facade = &join.facade.0;
    let wrap = match mode {
        Mode::Join => quote!(maybe_done),
        Mode::TryJoin => quote!(maybe_done_ok),
    };
    let each = join.futures.iter().enumerate().map(|(index, expr)| {
        let name = future_name(join, index);
        quote_spanned! {located(expr)=>
            let mut #name = #facade::macros::pin!(#facade::macros::#wrap(#expr));
        }
    });
    quote!(#(#each)*)
}

/// Steps 2 and 3: the `poll_fn` that polls every future once per wake-up,
/// from a rotating start.
fn poll(join: &Join, mode: Mode) -> TokenStream {
    let facade = &join.facade.0;
    let count = Literal::u32_suffixed(join.futures.len() as u32);
    let (cx, pending, i) = (
        hidden("__corium_cx"),
        hidden("__corium_pending"),
        hidden("__corium_i"),
    );
    let (rotation, start) = (hidden("__corium_rotation"), hidden("__corium_start"));
    let arms = (0..join.futures.len()).map(|index| poll_arm(join, mode, index));
    let ready = ready(join, mode);
    let rotated = crate::select::rotate(&start, &i, join.futures.len());
    // One future: always first, and no `% 1` (clippy's `modulo_one`).
    let advance = if join.biased || join.futures.len() == 1 {
        quote!()
    } else {
        quote_spanned!(Span::mixed_site()=> #rotation = (#rotation + 1) % #count;)
    };
    quote_spanned! {Span::mixed_site()=>
        {
            let mut #rotation: u32 = 0;
            #facade::macros::poll_fn(move |#cx| {
                let mut #pending = false;
                let #start = #rotation;
                #advance
                for #i in 0..#count {
                    match #rotated {
                        #(#arms)*
                        _ => #facade::macros::unreachable_branch(),
                    }
                }
                if #pending {
                    return #facade::macros::Poll::Pending;
                }
                #ready
            })
        }
    }
}

/// Step 2 for one future: poll it (a done one returns at once); for
/// `try_join!`, return its error.
fn poll_arm(join: &Join, mode: Mode, index: usize) -> TokenStream {
    let facade = &join.facade.0;
    let (cx, pending) = (hidden("__corium_cx"), hidden("__corium_pending"));
    let future = future_name(join, index);
    let error = Ident::new("__corium_error", located(&join.futures[index]));
    let body = match mode {
        Mode::Join => quote_spanned! {Span::mixed_site()=>
            if #facade::macros::Future::poll(#future.as_mut(), #cx).is_pending() {
                #pending = true;
            }
        },
        Mode::TryJoin => {
            quote_spanned! {located(&join.futures[index])=>
                #[allow(unreachable_code, unreachable_patterns)]
                match #facade::macros::MaybeDone::poll_ok(#future.as_mut(), #cx) {
                    #facade::macros::Poll::Pending => #pending = true,
                    #facade::macros::Poll::Ready(#facade::macros::Result::Ok(())) => {}
                    #facade::macros::Poll::Ready(#facade::macros::Result::Err(#error)) => {
                        return #facade::macros::Poll::Ready(#facade::macros::Result::Err(#error));
                    }
                }
            }
        }
    };
    let index = Literal::u32_suffixed(index as u32);
    quote_spanned!(Span::mixed_site()=> #index => { #body })
}

/// Step 3: every future is done; the tuple of their outputs.
fn ready(join: &Join, mode: Mode) -> TokenStream {
    let facade = &join.facade.0;
    let names = (0..join.futures.len()).map(|index| future_name(join, index));
    let tuple = match mode {
        Mode::Join => quote_spanned! {Span::mixed_site()=>
            (#(#facade::macros::MaybeDone::take_done(#names.as_mut()),)*)
        },
        Mode::TryJoin => quote_spanned! {Span::mixed_site()=>
            #facade::macros::Result::Ok((#(#facade::macros::MaybeDone::take_ok(#names.as_mut()),)*))
        },
    };
    quote_spanned! {Span::mixed_site()=>
        // An uninhabited output makes this unreachable.
        #[allow(unreachable_code)]
        #facade::macros::Poll::Ready(#tuple)
    }
}
