//! Parsing `#[require_acr]`'s arguments: `"<acr>"`, `any("a", "b")` and `max_age = <seconds>`, in
//! any combination that names something, with every misuse reported at the offending token.

use std::collections::HashSet;

use proc_macro2::Span;

use crate::rule_args::challenge_value;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprAssign, ExprCall, ExprLit, ExprPath, Lit, Token};

/// Longest acr value a literal may hold (kept in step with `auth_actix::macro_support`).
const MAX_LITERAL_LEN: usize = 128;

const USAGE: &str = "write #[require_acr(\"urn:okta:loa:2fa:any\")], #[require_acr(any(\"a\", \
                     \"b\"))], #[require_acr(\"a\", max_age = 300)] or #[require_acr(max_age = \
                     300)]";

/// A parsed step-up requirement: acceptable `acr` values (possibly none) and `max_age`.
pub(crate) struct AcrArgs {
    pub(crate) values: Vec<syn::LitStr>,
    pub(crate) max_age: Option<syn::LitInt>,
}

impl AcrArgs {
    pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<AcrArgs> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("#[require_acr] needs an acr value or max_age: {USAGE}"),
            ));
        }
        let mut max_age = None;
        let mut exprs = Vec::new();
        for expr in Punctuated::<Expr, Token![,]>::parse_terminated(input)? {
            match expr {
                Expr::Assign(assign) => {
                    let value = max_age_option(assign)?;
                    if max_age.is_some() {
                        return Err(syn::Error::new(
                            value.span(),
                            "max_age is given twice: give the one most seconds since the user \
                             authenticated",
                        ));
                    }
                    max_age = Some(value);
                }
                other => exprs.push(other),
            }
        }
        if let Some(second) = exprs.get(1) {
            return Err(syn::Error::new_spanned(
                second,
                "several acr values need any(...): write any(\"a\", \"b\") to accept any of them",
            ));
        }
        let items: Vec<Expr> = match exprs.into_iter().next() {
            None => Vec::new(),
            Some(Expr::Call(call)) => {
                combinator(&call)?;
                if call.args.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &call,
                        "empty acr list: name at least one, e.g. any(\"urn:okta:loa:2fa:any\"), \
                         or write max_age = <seconds> alone for recency",
                    ));
                }
                call.args.into_iter().collect()
            }
            Some(other) => vec![other],
        };
        let mut seen = HashSet::new();
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let value = acr_value(item)?;
            if !seen.insert(value.value()) {
                return Err(syn::Error::new(
                    value.span(),
                    format!("duplicate acr value {:?}: list each once", value.value()),
                ));
            }
            values.push(value);
        }
        if values.is_empty() && max_age.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("#[require_acr] needs an acr value or max_age: {USAGE}"),
            ));
        }
        Ok(AcrArgs { values, max_age })
    }
}

/// `max_age = <seconds>`: the literal, or the error.
fn max_age_option(assign: ExprAssign) -> syn::Result<syn::LitInt> {
    let key = match assign.left.as_ref() {
        Expr::Path(ExprPath {
            path, qself: None, ..
        }) => path.get_ident().cloned(),
        _ => None,
    };
    match key {
        Some(key) if key == "max_age" => {}
        Some(key) => {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown option `{key}`: #[require_acr] takes max_age = <seconds> only"),
            ));
        }
        None => {
            return Err(syn::Error::new_spanned(
                &assign.left,
                "expected an option name: max_age = <seconds>",
            ));
        }
    }
    let not_seconds = |span| {
        syn::Error::new(
            span,
            "max_age takes whole seconds as an integer literal, e.g. max_age = 300",
        )
    };
    let Expr::Lit(ExprLit {
        lit: Lit::Int(seconds),
        ..
    }) = *assign.right
    else {
        return Err(not_seconds(syn::spanned::Spanned::span(&assign.right)));
    };
    let suffix = seconds.suffix();
    if !matches!(suffix, "" | "u64") || seconds.base10_parse::<u64>().is_err() {
        return Err(not_seconds(seconds.span()));
    }
    Ok(seconds)
}

fn combinator(call: &ExprCall) -> syn::Result<()> {
    let name = match call.func.as_ref() {
        Expr::Path(ExprPath { path, .. }) => path.get_ident().map(ToString::to_string),
        _ => None,
    };
    match name.as_deref() {
        Some("any") => Ok(()),
        Some("all") => Err(syn::Error::new_spanned(
            &call.func,
            "a token carries one acr value: write any(...) to accept any of several",
        )),
        _ => Err(syn::Error::new_spanned(
            &call.func,
            "expected any(...) listing the acceptable acr values",
        )),
    }
}

/// One acr value: a string literal the challenge's quoted, space-separated `acr_values` can carry.
fn acr_value(expr: Expr) -> syn::Result<syn::LitStr> {
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = expr
    else {
        let message = match &expr {
            Expr::Call(_) => "combinators cannot be nested: list the values in one any(...)",
            _ => "expected an acr value as a string literal, e.g. \"urn:okta:loa:2fa:any\"",
        };
        return Err(syn::Error::new_spanned(expr, message));
    };
    let value = lit.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "empty acr value: write the value, e.g. \"urn:okta:loa:2fa:any\"",
        ));
    }
    if !challenge_value(&value) {
        return Err(syn::Error::new(
            lit.span(),
            "an acr value is visible ASCII without spaces, quotes, backslashes, commas or equals \
             signs (the challenge lists them space-separated in quotes)",
        ));
    }
    if value.len() > MAX_LITERAL_LEN {
        return Err(syn::Error::new(
            lit.span(),
            format!("acr value longer than {MAX_LITERAL_LEN} bytes"),
        ));
    }
    Ok(lit)
}
