//! Writing `select!`'s expansion: the steps numbered in `select.rs`.
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::parse::{Branch, Select};
use super::pattern;

/// The expansion's own names, spanned with `Span::mixed_site()` so that the
/// caller's code neither sees nor shadows them.
struct Names {
    /// The enum of outputs, one variant per branch.
    out: Ident,
    /// The `u64` mask of disabled branches.
    disabled: Ident,
    /// The tagged output of the poll.
    output: Ident,
    /// The poll's `Context`.
    cx: Ident,
    /// Whether some branch was still pending in this poll.
    pending: Ident,
    /// The output of the future just polled.
    value: Ident,
    /// The first branch polled.
    start: Ident,
    /// The count of branches polled so far.
    i: Ident,
}

impl Names {
    fn new() -> Names {
        let hidden = |name| Ident::new(name, Span::mixed_site());
        Names {
            out: hidden("__CoriumSelectOut"),
            disabled: hidden("__corium_disabled"),
            output: hidden("__corium_output"),
            cx: hidden("__corium_cx"),
            pending: hidden("__corium_pending"),
            value: hidden("__corium_value"),
            start: hidden("__corium_start"),
            i: hidden("__corium_i"),
        }
    }
}

/// The future of branch `index`, pinned. Hidden from the caller, but
/// located at the user's future expression, so that a type error about it
/// points there rather than at the whole macro.
fn future_name(select: &Select, index: usize) -> Ident {
    let span = located(&select.branches[index]);
    format_ident!("__corium_future_{}", index, span = span)
}

/// The location of `branch`'s future expression, with the expansion's
/// hygiene.
fn located(branch: &Branch) -> Span {
    branch.future.span().resolved_at(Span::mixed_site())
}

/// The output enum's variant for branch `index`.
fn variant(index: usize) -> Ident {
    format_ident!("_{}", index, span = Span::mixed_site())
}

pub(crate) fn select(select: &Select) -> TokenStream {
    if select.branches.is_empty() {
        // tokio's `select! { else => x }`: nothing to wait for.
        let otherwise = &select.otherwise;
        return quote!({ #otherwise });
    }
    let names = Names::new();
    let declare = declare_output(&names, select.branches.len());
    let guards = guards(&names, select);
    let poll = poll(&names, select);
    let handle = handle(&names, select);
    let Names {
        disabled, output, ..
    } = &names;
    quote_spanned! {Span::mixed_site()=>
        {
            #declare
            let mut #disabled: u64 = 0;
            #guards
            #[allow(unused_mut)] // `ref mut` in a pattern needs it
            let mut #output = #poll;
            #handle
        }
    }
}

/// An enum with one variant per branch, generic over its output, and
/// `Disabled` for "every branch is disabled".
fn declare_output(names: &Names, count: usize) -> TokenStream {
    let out = &names.out;
    let params: Vec<Ident> = (0..count)
        .map(|i| format_ident!("T{}", i, span = Span::mixed_site()))
        .collect();
    let variants = (0..count).map(variant);
    quote_spanned! {Span::mixed_site()=>
        #[allow(non_camel_case_types)]
        enum #out<#(#params),*> {
            #(#variants(#params),)*
            Disabled,
        }
    }
}

/// Step 1: every guard, in order; a false one disables its branch.
fn guards(names: &Names, select: &Select) -> TokenStream {
    let disabled = &names.disabled;
    let each = select
        .branches
        .iter()
        .enumerate()
        .filter_map(|(index, branch)| {
            let guard = branch.guard.as_ref()?;
            let bit = Literal::u64_suffixed(1 << index);
            Some(quote_spanned! {Span::mixed_site()=>
                if !(#guard) {
                    #disabled |= #bit;
                }
            })
        });
    quote!(#(#each)*)
}

/// Steps 2 and 3: the futures, evaluated and pinned, polled to the first
/// matching output or to `Disabled`. The block that holds them ends (and so
/// drops them) as soon as the `.await` is done.
fn poll(names: &Names, select: &Select) -> TokenStream {
    let facade = &select.facade.0;
    let count = select.branches.len();
    let futures = evaluate_futures(select);
    let start = if select.biased || count == 1 {
        quote!(0)
    } else {
        let count = Literal::u32_suffixed(count as u32);
        quote!(#facade::macros::thread_rng_n(#count))
    };
    let arms = select
        .branches
        .iter()
        .enumerate()
        .map(|(i, b)| poll_arm(names, select, i, b));
    let Names {
        out,
        cx,
        pending,
        start: first,
        i,
        ..
    } = names;
    let rotated = super::rotate(first, i, count);
    let count = Literal::u32_suffixed(count as u32);
    quote_spanned! {Span::mixed_site()=>
        {
            #futures
            #facade::macros::poll_fn(|#cx| {
                let mut #pending = false;
                let #first: u32 = #start;
                for #i in 0..#count {
                    match #rotated {
                        #(#arms)*
                        _ => #facade::macros::unreachable_branch(),
                    }
                }
                if #pending {
                    #facade::macros::Poll::Pending
                } else {
                    #facade::macros::Poll::Ready(#out::Disabled)
                }
            })
            .await
        }
    }
}

/// Step 2: every future expression in order, then each one's
/// `into_future()`, pinned where it lies.
fn evaluate_futures(select: &Select) -> TokenStream {
    let facade = &select.facade.0;
    let exprs = select.branches.iter().map(|b| &b.future);
    let raw: Vec<Ident> = (select.branches.iter().enumerate())
        .map(|(i, branch)| format_ident!("__corium_expr_{}", i, span = located(branch)))
        .collect();
    let pinned = select.branches.iter().enumerate().map(|(index, branch)| {
        let (name, raw) = (future_name(select, index), &raw[index]);
        // `::core`, not the facade: a call whose every token is located at
        // the user's expression gets "`X` is not a future" pointed there.
        quote_spanned! {located(branch)=>
            let mut #name = #facade::macros::pin!(::core::future::IntoFuture::into_future(#raw));
        }
    });
    quote_spanned! {Span::mixed_site()=>
        let (#(#raw,)*) = (#(#exprs,)*);
        #(#pinned)*
    }
}

/// Step 3 for one branch: skip it if disabled, else poll it; on completion
/// disable it and, if its output matches the pattern, return the output.
fn poll_arm(names: &Names, select: &Select, index: usize, branch: &Branch) -> TokenStream {
    let facade = &select.facade.0;
    let (future, variant) = (future_name(select, index), variant(index));
    let Names {
        out,
        disabled,
        cx,
        pending,
        value,
        ..
    } = names;
    let bit = Literal::u64_suffixed(1 << index);
    let test = pattern::without_bindings(&branch.pattern);
    let index = Literal::u32_suffixed(index as u32);
    quote_spanned! {Span::mixed_site()=>
        #[allow(unreachable_code)]
        #index => {
            if #disabled & #bit != 0 {
                continue;
            }
            let #value = match #facade::macros::Future::poll(#future.as_mut(), #cx) {
                #facade::macros::Poll::Ready(#value) => #value,
                #facade::macros::Poll::Pending => {
                    #pending = true;
                    continue;
                }
            };
            #disabled |= #bit;
            #[allow(unreachable_patterns)]
            match #value {
                #test => {}
                _ => continue,
            }
            return #facade::macros::Poll::Ready(#out::#variant(#value));
        }
    }
}

/// Step 4: the winning output, matched by value, runs its handler; or
/// `Disabled` runs `else` (or panics, with tokio's message).
fn handle(names: &Names, select: &Select) -> TokenStream {
    let facade = &select.facade.0;
    let Names { out, output, .. } = names;
    let arms = select.branches.iter().enumerate().map(|(index, branch)| {
        let (variant, pattern, handler) = (variant(index), &branch.pattern, &branch.handler);
        quote_spanned!(Span::mixed_site()=> #out::#variant(#pattern) => #handler,)
    });
    let otherwise = match &select.otherwise {
        Some(handler) => quote!(#handler),
        None => quote!(#facade::macros::all_branches_disabled()),
    };
    quote_spanned! {Span::mixed_site()=>
        match #output {
            #(#arms)*
            #out::Disabled => #otherwise,
            #[allow(unreachable_patterns)]
            _ => #facade::macros::unreachable_branch(),
        }
    }
}
