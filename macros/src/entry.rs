//! `#[corium::main]` and `#[corium::test]`: an `async fn` becomes a plain
//! `fn` that builds a runtime and blocks on the body.
//!
//! Both read the same arguments (`flavor`, `worker_threads`, `start_paused`,
//! `crate`) and differ in one default: with no `flavor`, `main` asks the
//! environment (`CORIUM_FLAVOR`, `CORIUM_WORKER_THREADS`) and `test` runs on
//! the current-thread flavor, so a test suite does not change meaning with a
//! variable. Every mistake is a compile error spanned to the user's tokens,
//! saying what to write instead.
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Path, ReturnType, Token};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq)]
enum Entry {
    Main,
    Test,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Main => "corium::main",
            Entry::Test => "corium::test",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The attribute's arguments, each with the span of what the user wrote.
struct Config {
    flavor: Option<(Flavor, Span)>,
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<(bool, Span)>,
    krate: Option<Path>,
}

pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Entry::Main, args, item)
}

pub(crate) fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Entry::Test, args, item)
}

fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            return quote!(#item)
                .into_iter()
                .chain(e.to_compile_error())
                .collect()
        }
    };
    let expanded = parse_config(args)
        .and_then(|config| check(entry, &config, &function).map(|()| config))
        .map(|config| rewrite(entry, &config, function.clone()));
    match expanded {
        Ok(tokens) => tokens,
        Err(e) => error_with(e, function),
    }
}

/// The error, beside the function made plain (`async` dropped, the body
/// replaced), so the user sees one message, not a cascade of "`main` is not
/// allowed to be `async`" and type errors in a body that never compiled.
fn error_with(error: syn::Error, mut function: ItemFn) -> TokenStream {
    let error = error.to_compile_error();
    function.sig.asyncness = None;
    function.sig.inputs.clear();
    *function.block = syn::parse_quote!({ ::core::unreachable!() });
    quote! { #error #function }
}

fn parse_config(args: TokenStream) -> syn::Result<Config> {
    let mut config = Config {
        flavor: None,
        worker_threads: None,
        start_paused: None,
        krate: None,
    };
    let args = Punctuated::<MetaNameValue, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `name = value` arguments, e.g. \
                 `flavor = \"multi_thread\", worker_threads = 2`",
            )
        })?;
    for arg in args {
        let name = arg.path.to_token_stream().to_string();
        let span = arg.value.span();
        match name.as_str() {
            "flavor" => config.flavor = Some((parse_flavor(&arg.value)?, span)),
            "worker_threads" => {
                config.worker_threads = Some((parse_worker_threads(&arg.value)?, span))
            }
            "start_paused" => config.start_paused = Some((parse_bool(&arg.value)?, span)),
            "crate" => config.krate = Some(parse_crate(&arg.value)?),
            _ => {
                return Err(syn::Error::new(
                    arg.path.span(),
                    format!(
                        "unknown argument `{name}`; expected `flavor`, `worker_threads`, \
                         `start_paused` or `crate`"
                    ),
                ))
            }
        }
    }
    Ok(config)
}

fn string_literal(value: &Expr) -> Option<String> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    match string_literal(value).as_deref() {
        Some("current_thread") => Ok(Flavor::CurrentThread),
        Some("multi_thread") => Ok(Flavor::MultiThread),
        _ => Err(syn::Error::new(
            value.span(),
            "`flavor` is `\"current_thread\"` or `\"multi_thread\"`",
        )),
    }
}

fn parse_worker_threads(value: &Expr) -> syn::Result<usize> {
    let parsed = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse::<usize>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n > 0 => Ok(n),
        _ => Err(syn::Error::new(
            value.span(),
            "`worker_threads` is a whole number of at least 1, e.g. `worker_threads = 4`",
        )),
    }
}

fn parse_bool(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(syn::Error::new(
            value.span(),
            "`start_paused` is `true` or `false`",
        )),
    }
}

fn parse_crate(value: &Expr) -> syn::Result<Path> {
    string_literal(value)
        .and_then(|s| syn::parse_str::<Path>(&s).ok())
        .ok_or_else(|| {
            syn::Error::new(
                value.span(),
                "`crate` is the path corium is imported as, in a string: `crate = \"my_corium\"`",
            )
        })
}

/// The rules that are about the arguments together and about the function.
fn check(entry: Entry, config: &Config, function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let name = entry.name();
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "#[{name}] goes on an `async fn`: write `async fn {}`",
                sig.ident
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!(
                "#[{name}] functions take no parameters: read arguments inside the body \
                 (`std::env::args()`) instead"
            ),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("#[{name}] functions cannot be generic"),
        ));
    }
    if entry == Entry::Test {
        if let Some(attr) = function.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new(
                attr.span(),
                "#[corium::test] already makes this a test: remove `#[test]`",
            ));
        }
    }
    let flavor = flavor(entry, config);
    if let Some((_, span)) = config.worker_threads {
        if flavor == Some(Flavor::CurrentThread) {
            return Err(syn::Error::new(
                span,
                "`worker_threads` needs the multi-thread flavor: add \
                 `flavor = \"multi_thread\"` or remove `worker_threads`",
            ));
        }
    }
    if let Some((true, span)) = config.start_paused {
        if flavor != Some(Flavor::CurrentThread) {
            return Err(syn::Error::new(
                span,
                "`start_paused = true` needs the current-thread flavor (the paused clock is \
                 one thread's): use `flavor = \"current_thread\"`",
            ));
        }
    }
    Ok(())
}

/// The function again, no longer `async`, its body run by a runtime.
fn rewrite(entry: Entry, config: &Config, mut function: ItemFn) -> TokenStream {
    let krate = config
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::corium));
    let output = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let builder = builder(entry, config, &krate);
    let build = match entry {
        Entry::Main => quote!(main_runtime),
        Entry::Test => quote!(test_runtime),
    };
    let body = &function.block;
    // Spanned to the body so that a type error in it points there.
    let new_body = quote_spanned! {body.span()=>
        {
            let body = async move #body;
            let runtime = #krate::__entry::#build(#builder);
            #[allow(clippy::needless_return)]
            return runtime.block_on(#krate::__entry::with_output::<#output, _>(body));
        }
    };
    function.sig.asyncness = None;
    *function.block = syn::parse2(new_body).expect("the rewritten body parses");
    let test_attr = match entry {
        Entry::Test => quote!(#[::core::prelude::v1::test]),
        Entry::Main => quote!(),
    };
    quote! {
        #test_attr
        #function
    }
}

/// The expression that makes the `io::Result<Builder>` the arguments ask for.
/// The flavor the arguments ask for; `None` (only for `main`): the
/// environment's. `test` without a flavor is current-thread whatever the
/// environment says; on `main`, `worker_threads` alone can only mean the
/// multi-thread flavor.
fn flavor(entry: Entry, config: &Config) -> Option<Flavor> {
    match (config.flavor, entry, config.worker_threads) {
        (Some((flavor, _)), _, _) => Some(flavor),
        (None, Entry::Test, _) => Some(Flavor::CurrentThread),
        (None, Entry::Main, Some(_)) => Some(Flavor::MultiThread),
        (None, Entry::Main, None) => None,
    }
}

fn builder(entry: Entry, config: &Config, krate: &Path) -> TokenStream {
    let mut builder = match flavor(entry, config) {
        None => quote!(#krate::runtime::Builder::from_env()),
        Some(Flavor::CurrentThread) => {
            quote!(::core::result::Result::Ok(#krate::runtime::Builder::new_current_thread()))
        }
        Some(Flavor::MultiThread) => {
            quote!(::core::result::Result::Ok(#krate::runtime::Builder::new_multi_thread()))
        }
    };
    if let Some((n, _)) = config.worker_threads {
        builder = quote!(#builder.map(|mut b| { b.worker_threads(#n); b }));
    }
    if let Some((paused, _)) = config.start_paused {
        builder = quote!(#builder.map(|mut b| { b.start_paused(#paused); b }));
    }
    builder
}
