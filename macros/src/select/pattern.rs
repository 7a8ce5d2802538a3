//! The pattern `select!` tests a completed future's output against, inside
//! the poll, before deciding that its branch won.
//!
//! The output must stay whole there: it is moved out to the handler later,
//! whose pattern binds it. So the test uses the branch's pattern with every
//! binding replaced by `_` (`Some(ref mut x)` becomes `Some(_)`, `n @ 1..=9`
//! becomes `1..=9`, `Point { x, .. }` becomes `Point { x: _, .. }`), and a
//! pattern that binds nothing moves nothing out of the value it tests. It
//! matches exactly the values the original does.
//!
//! Matching the value itself, rather than a reference to it as tokio does,
//! keeps `&` and `&mut` patterns meaning what they mean in the handler, in
//! every edition.
//!
//! A lone identifier is a binding or a constant, unit struct or unit variant
//! (`None`, `MAX`), which only name resolution can tell apart. It is read by
//! Rust's naming conventions: a lower-case one (`x`, `_rest`) is a binding,
//! anything else is kept as written. A `ref` or `mut` one, or one with
//! `@`, is a binding whatever its case.
use proc_macro2::Span;
use syn::{Pat, PatWild, Token};

/// `pattern` with every binding replaced by `_`.
pub(crate) fn without_bindings(pattern: &Pat) -> Pat {
    let mut pattern = pattern.clone();
    strip(&mut pattern);
    pattern
}

fn strip(pattern: &mut Pat) {
    match pattern {
        Pat::Ident(ident) => {
            if let Some((_, sub)) = &mut ident.subpat {
                let mut sub = (**sub).clone();
                strip(&mut sub);
                *pattern = sub;
            } else if is_binding(ident) {
                *pattern = wildcard();
            }
        }
        Pat::Reference(reference) => strip(&mut reference.pat),
        Pat::Or(or) => or.cases.iter_mut().for_each(strip),
        Pat::Slice(slice) => slice.elems.iter_mut().for_each(strip),
        Pat::Tuple(tuple) => tuple.elems.iter_mut().for_each(strip),
        Pat::TupleStruct(tuple) => tuple.elems.iter_mut().for_each(strip),
        Pat::Struct(strukt) => strukt.fields.iter_mut().for_each(strip_field),
        Pat::Paren(paren) => strip(&mut paren.pat),
        Pat::Type(typed) => strip(&mut typed.pat),
        // Literals, paths, ranges, `..`, `_` and macros bind nothing.
        _ => {}
    }
}

/// A field of a struct pattern. The shorthand `Point { x }` always binds
/// `x`: it becomes `Point { x: _ }`.
fn strip_field(field: &mut syn::FieldPat) {
    if field.colon_token.is_none() {
        field.colon_token = Some(<Token![:]>::default());
        *field.pat = wildcard();
    } else {
        strip(&mut field.pat);
    }
}

/// Whether a lone identifier pattern binds a variable (see the module's
/// doc for the naming convention this relies on).
fn is_binding(ident: &syn::PatIdent) -> bool {
    let name = ident.ident.to_string();
    let first = name.trim_start_matches("r#").chars().next();
    ident.by_ref.is_some()
        || ident.mutability.is_some()
        || first.is_some_and(|c| c == '_' || c.is_lowercase())
}

fn wildcard() -> Pat {
    Pat::Wild(PatWild {
        attrs: Vec::new(),
        underscore_token: Token![_](Span::mixed_site()),
    })
}
