//! Reading `select!`'s input: `[biased;] (pat = fut [, if cond] => handler,)*
//! [else => handler]`, with every mistake reported at the user's token.
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Block, Expr, ExprBlock, Pat, Token};

use super::{Facade, MAX_BRANCHES};

/// A whole `select!` invocation.
pub(crate) struct Select {
    pub(crate) facade: Facade,
    /// `biased;` was written: poll in declared order.
    pub(crate) biased: bool,
    pub(crate) branches: Vec<Branch>,
    /// The handler of `else => handler`, if any.
    pub(crate) otherwise: Option<Expr>,
}

/// One `pattern = future, if guard => handler` branch.
pub(crate) struct Branch {
    pub(crate) pattern: Pat,
    pub(crate) future: Expr,
    pub(crate) guard: Option<Expr>,
    pub(crate) handler: Expr,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Select> {
        let facade = input.parse()?;
        let biased = parse_biased(input)?;
        let mut select = Select {
            facade,
            biased,
            branches: Vec::new(),
            otherwise: None,
        };
        while !input.is_empty() {
            select.parse_one(input)?;
        }
        if select.branches.is_empty() && select.otherwise.is_none() {
            let message = "select! requires at least one branch.";
            return Err(syn::Error::new(Span::call_site(), message));
        }
        Ok(select)
    }
}

impl Select {
    /// Reads the next branch, `else` or not, and its separating comma.
    fn parse_one(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        if input.peek(Token![else]) {
            return self.parse_else(input);
        }
        let branch: Branch = input.parse()?;
        if self.branches.len() == MAX_BRANCHES {
            let message = format!("select! takes at most {MAX_BRANCHES} branches");
            return Err(syn::Error::new(branch.pattern.span(), message));
        }
        self.branches.push(branch);
        Ok(())
    }

    fn parse_else(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        let keyword: Token![else] = input.parse()?;
        if self.otherwise.is_some() {
            let message = "select! takes one `else` branch at most";
            return Err(syn::Error::new(keyword.span, message));
        }
        expect_fat_arrow(input, "after `else`")?;
        self.otherwise = Some(parse_handler(input)?);
        Ok(())
    }
}

/// Reads a leading `biased;`. `biased` followed by `=`, `@` or `|` is a
/// pattern binding a variable of that name, as in tokio.
fn parse_biased(input: ParseStream<'_>) -> syn::Result<bool> {
    let is_biased = input
        .fork()
        .parse::<syn::Ident>()
        .is_ok_and(|i| i == "biased");
    if !is_biased || input.peek2(Token![=]) || input.peek2(Token![@]) || input.peek2(Token![|]) {
        return Ok(false);
    }
    let keyword: syn::Ident = input.parse()?;
    if !input.peek(Token![;]) {
        let message = "expected `;` after `biased`: write `biased;` before the branches";
        return Err(syn::Error::new(keyword.span(), message));
    }
    input.parse::<Token![;]>()?;
    Ok(true)
}

impl Parse for Branch {
    fn parse(input: ParseStream<'_>) -> syn::Result<Branch> {
        let pattern = Pat::parse_multi_with_leading_vert(input)?;
        if !input.peek(Token![=]) {
            return Err(
                input.error("expected `=` after the pattern: `pattern = future => handler`")
            );
        }
        input.parse::<Token![=]>()?;
        let future = input.parse()?;
        let guard = parse_guard(input)?;
        expect_fat_arrow(input, "after the future")?;
        let handler = parse_handler(input)?;
        Ok(Branch {
            pattern,
            future,
            guard,
            handler,
        })
    }
}

/// Reads an optional `, if condition` after a branch's future.
fn parse_guard(input: ParseStream<'_>) -> syn::Result<Option<Expr>> {
    if !input.peek(Token![,]) {
        return Ok(None);
    }
    input.parse::<Token![,]>()?;
    if !input.peek(Token![if]) {
        let message = "expected `if condition` or `=>`: a guard is written `pattern = future, if condition => handler`";
        return Err(input.error(message));
    }
    input.parse::<Token![if]>()?;
    if input.peek(Token![=>]) {
        return Err(input.error("expected a condition after `if`"));
    }
    Ok(Some(input.parse()?))
}

fn expect_fat_arrow(input: ParseStream<'_>, after: &str) -> syn::Result<()> {
    if !input.peek(Token![=>]) {
        return Err(input.error(format!("expected `=>` {after}")));
    }
    input.parse::<Token![=>]>()?;
    Ok(())
}

/// Reads a handler and the comma after it: optional after a block, as in a
/// `match`, required after any other expression unless it ends the input.
fn parse_handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    if input.peek(syn::token::Brace) {
        let block: Block = input.parse()?;
        input.parse::<Option<Token![,]>>()?;
        return Ok(Expr::Block(ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        }));
    }
    let handler = input.parse()?;
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error("expected `,` after the handler"));
    }
    input.parse::<Option<Token![,]>>()?;
    Ok(handler)
}
