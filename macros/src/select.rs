//! `select!`: to be written.
use proc_macro2::TokenStream;

pub(crate) fn expand(_input: TokenStream) -> TokenStream {
    quote::quote!(compile_error!("select! is not written yet"))
}
