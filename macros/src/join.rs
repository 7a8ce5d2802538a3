//! `join!` and `try_join!`: to be written.
use proc_macro2::TokenStream;

#[derive(Clone, Copy)]
pub(crate) enum Mode {
    Join,
    TryJoin,
}

pub(crate) fn expand(_input: TokenStream, _mode: Mode) -> TokenStream {
    quote::quote!(compile_error!("join! is not written yet"))
}
