//! Parsing `"admin"`, `Role::Admin`, `any(...)`, `all(...)` and `org = "<path parameter>"` into a
//! rule, with every misuse reported at the offending token with what to write instead.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprAssign, ExprCall, ExprLit, ExprPath, Lit, Token};

/// Longest name a string literal may hold (kept in step with `auth_actix::macro_support`).
const MAX_LITERAL_LEN: usize = 128;

/// How the listed names combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combinator {
    Any,
    All,
}

/// One name: a string literal or an enum variant path.
pub(crate) enum Name {
    Literal(syn::LitStr),
    Variant(syn::Path),
}

/// A parsed rule.
pub(crate) struct RuleArgs {
    pub(crate) combinator: Combinator,
    pub(crate) names: Vec<Name>,
    /// `org = "<path parameter>"`: the parameter naming the organisation the request addresses.
    pub(crate) org: Option<syn::LitStr>,
}

/// Whether an attribute takes `org = "<path parameter>"`, and names beside it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgOption {
    /// Application roles and scopes belong to no organisation.
    Refused,
    /// Organisation roles: bound to the request's organisation when given.
    Optional,
    /// Organisation membership: `org` only, no names.
    Only,
}

/// Wording of errors, which differs between roles and scopes.
#[derive(Clone, Copy)]
pub(crate) struct Noun {
    pub(crate) attribute: &'static str,
    pub(crate) noun: &'static str,
    pub(crate) example: &'static str,
    pub(crate) org: OrgOption,
}

impl RuleArgs {
    pub(crate) fn parse(input: ParseStream<'_>, noun: Noun) -> syn::Result<RuleArgs> {
        let Noun {
            attribute,
            noun: what,
            example,
            ..
        } = noun;
        let missing_org = || {
            syn::Error::new(
                Span::call_site(),
                format!(
                    "#[{attribute}] needs the path parameter naming the organisation: write \
                     #[{attribute}(org = \"org\")] for /orgs/{{org}}"
                ),
            )
        };
        if input.is_empty() {
            if noun.org == OrgOption::Only {
                return Err(missing_org());
            }
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "#[{attribute}] needs a {what}: write #[{attribute}(\"{example}\")] or \
                     #[{attribute}(any(\"a\", \"b\"))]"
                ),
            ));
        }
        let mut org = None;
        let mut exprs = Vec::new();
        for expr in Punctuated::<Expr, Token![,]>::parse_terminated(input)? {
            match expr {
                Expr::Assign(assign) => {
                    let value = org_option(assign, noun)?;
                    if org.is_some() {
                        return Err(syn::Error::new(
                            value.span(),
                            "org is given twice: name the one path parameter naming the \
                             organisation",
                        ));
                    }
                    org = Some(value);
                }
                other => exprs.push(other),
            }
        }
        if noun.org == OrgOption::Only {
            if let Some(first) = exprs.first() {
                return Err(syn::Error::new_spanned(
                    first,
                    format!(
                        "#[{attribute}] takes no role: it admits members of the organisation the \
                         request addresses; for a role there write \
                         #[require_org_role(\"admin\", org = \"org\")]"
                    ),
                ));
            }
            return match org {
                Some(org) => Ok(RuleArgs {
                    combinator: Combinator::Any,
                    names: Vec::new(),
                    org: Some(org),
                }),
                None => Err(missing_org()),
            };
        }
        if exprs.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "#[{attribute}] needs the {what} to check beside org: write \
                     #[{attribute}(\"{example}\", org = \"org\")], or \
                     #[require_org_member(org = \"org\")] to admit any member"
                ),
            ));
        }
        if exprs.len() > 1 {
            let second = exprs
                .get(1)
                .map_or(Span::call_site(), syn::spanned::Spanned::span);
            return Err(syn::Error::new(
                second,
                format!(
                    "several {what}s need a combinator: write any(...) to admit any of them, or \
                     all(...) to require each"
                ),
            ));
        }
        let Some(expr) = exprs.into_iter().next() else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("#[{attribute}] needs a {what}"),
            ));
        };
        let (combinator, items) = match expr {
            Expr::Call(call) => {
                let combinator = combinator(&call, noun)?;
                if call.args.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &call,
                        format!("empty {what} list: name at least one, e.g. any(\"{example}\")"),
                    ));
                }
                (combinator, call.args.into_iter().collect())
            }
            other => (Combinator::Any, vec![other]),
        };
        let mut seen = HashSet::new();
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            let name = name(item, noun)?;
            let key = match &name {
                Name::Literal(lit) => format!("\"{}\"", lit.value()),
                Name::Variant(path) => quote::ToTokens::to_token_stream(path).to_string(),
            };
            if !seen.insert(key.clone()) {
                let span = match &name {
                    Name::Literal(lit) => lit.span(),
                    Name::Variant(path) => syn::spanned::Spanned::span(path),
                };
                return Err(syn::Error::new(
                    span,
                    format!("duplicate {what} {key}: list each {what} once"),
                ));
            }
            names.push(name);
        }
        Ok(RuleArgs {
            combinator,
            names,
            org,
        })
    }
}

/// `org = "<path parameter>"`: the parameter's name, or the error for this attribute.
fn org_option(assign: ExprAssign, noun: Noun) -> syn::Result<syn::LitStr> {
    let attribute = noun.attribute;
    let key = match assign.left.as_ref() {
        Expr::Path(ExprPath {
            path, qself: None, ..
        }) => path.get_ident().cloned(),
        _ => None,
    };
    let Some(key) = key else {
        return Err(syn::Error::new_spanned(
            &assign.left,
            "expected an option name: org = \"<path parameter naming the organisation>\"",
        ));
    };
    match (key.to_string().as_str(), noun.org) {
        ("org", OrgOption::Refused) => {
            let what = if noun.noun == "scope" {
                "the token's scopes"
            } else {
                "application roles"
            };
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "#[{attribute}] checks {what}, which belong to no organisation; for an \
                     organisation's roles in the organisation the path names write \
                     #[require_org_role(\"admin\", org = \"org\")]"
                ),
            ));
        }
        ("org", _) => {}
        (_, OrgOption::Refused) => {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown option `{key}`: #[{attribute}] takes {} names only",
                    noun.noun
                ),
            ));
        }
        _ => {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown option `{key}`: #[{attribute}] takes org = \"<path parameter naming \
                     the organisation>\""
                ),
            ));
        }
    }
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = *assign.right
    else {
        return Err(syn::Error::new_spanned(
            &assign.right,
            "org takes the path parameter's name as a string literal, e.g. org = \"org\" for \
             /orgs/{org}",
        ));
    };
    let value = lit.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "empty path parameter name: name the parameter naming the organisation, e.g. org = \
             \"org\" for /orgs/{org}",
        ));
    }
    if value.contains(['{', '}', '/']) {
        return Err(syn::Error::new(
            lit.span(),
            "write the path parameter's name alone, without braces or slashes: org = \"org\"",
        ));
    }
    if value.len() > MAX_LITERAL_LEN {
        return Err(syn::Error::new(
            lit.span(),
            format!("path parameter name longer than {MAX_LITERAL_LEN} bytes"),
        ));
    }
    Ok(lit)
}

fn combinator(call: &ExprCall, noun: Noun) -> syn::Result<Combinator> {
    let Expr::Path(ExprPath { path, .. }) = call.func.as_ref() else {
        return Err(syn::Error::new_spanned(
            &call.func,
            "expected any(...) or all(...)",
        ));
    };
    match path.get_ident().map(ToString::to_string).as_deref() {
        Some("any") => Ok(Combinator::Any),
        Some("all") => Ok(Combinator::All),
        _ => Err(syn::Error::new_spanned(
            path,
            format!(
                "unknown combinator `{}`: use any(...) to admit any listed {}, or all(...) to \
                 require each",
                quote::ToTokens::to_token_stream(path)
                    .to_string()
                    .replace(' ', ""),
                noun.noun
            ),
        )),
    }
}

fn name(expr: Expr, noun: Noun) -> syn::Result<Name> {
    let Noun {
        noun: what,
        example,
        ..
    } = noun;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            let value = lit.value();
            if value.trim().is_empty() {
                return Err(syn::Error::new(
                    lit.span(),
                    format!("empty {what} name: write the {what}, e.g. \"{example}\""),
                ));
            }
            if what == "scope" && !challenge_value(&value) {
                return Err(syn::Error::new(
                    lit.span(),
                    "a scope is an RFC 6749 scope-token without commas or equals signs: visible \
                     ASCII without spaces, quotes, backslashes, commas or equals signs (the \
                     challenge lists scopes space-separated in quotes), e.g. \"mcp:tools\"",
                ));
            }
            if value.len() > MAX_LITERAL_LEN {
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "{what} name longer than {MAX_LITERAL_LEN} bytes; use a #[derive(Role)] \
                         enum or a shorter name"
                    ),
                ));
            }
            Ok(Name::Literal(lit))
        }
        Expr::Path(ExprPath {
            path, qself: None, ..
        }) if path.segments.len() >= 2 => Ok(Name::Variant(path)),
        Expr::Call(call) => Err(syn::Error::new_spanned(
            &call.func,
            "combinators cannot be nested: list names directly in one any(...) or all(...), or \
             stack two attributes",
        )),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "expected a {what} name as a string literal (\"{example}\") or an enum variant \
                 path (Role::Admin)"
            ),
        )),
    }
}

/// Whether a challenge's quoted parameter can carry `value`: the rule of
/// `auth_core::is_challenge_value` (bytes `0x21`, `0x23-0x2B`, `0x2D-0x3C`, `0x3E-0x5B`,
/// `0x5D-0x7E`), kept in step with it here since a proc-macro crate does not depend on the
/// engine.
pub(crate) fn challenge_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\\' | b',' | b'='))
}

#[cfg(test)]
mod tests {
    use super::challenge_value;

    #[test]
    fn the_challenge_value_rule_is_the_engines() {
        for byte in 0u8..=127 {
            let value = char::from(byte).to_string();
            assert_eq!(
                challenge_value(&value),
                auth_actix::core::is_challenge_value(&value),
                "{byte:#04x}"
            );
        }
        assert!(!challenge_value("") && !challenge_value("é"));
    }
}
