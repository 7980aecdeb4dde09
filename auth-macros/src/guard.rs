//! Expanding `#[require_role]`, `#[require_org_role]`, `#[require_org_member]`, `#[require_scope]`,
//! `#[require_user]`, `#[require_service]` and `#[require_acr]`: the handler stays as written, plus
//! one guard argument.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat};

use crate::acr_args::AcrArgs;
use crate::rule_args::{Combinator, Name, Noun, OrgOption, RuleArgs};

/// Handlers take at most this many extractors (actix implements `FromRequest` for tuples up to 16).
const MAX_EXTRACTORS: usize = 16;

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Role,
    OrgRole,
    /// A member of the organisation the request addresses: no names, `org` required.
    OrgMember,
    Scope,
    /// The caller is a person, not a machine: no names.
    User,
    /// The caller is a machine credential: no names.
    Service,
    /// A step-up authentication: `acr` values and `max_age`, parsed by [`AcrArgs`].
    Acr,
}

impl Kind {
    fn noun(self) -> Noun {
        let (attribute, noun, example, org) = match self {
            Kind::Role => ("require_role", "role", "admin", OrgOption::Refused),
            Kind::OrgRole => (
                "require_org_role",
                "organisation role",
                "org:admin",
                OrgOption::Optional,
            ),
            Kind::OrgMember => ("require_org_member", "", "", OrgOption::Only),
            Kind::Scope => ("require_scope", "scope", "read:items", OrgOption::Refused),
            Kind::User => ("require_user", "", "", OrgOption::Refused),
            Kind::Service => ("require_service", "", "", OrgOption::Refused),
            Kind::Acr => (
                "require_acr",
                "acr value",
                "urn:okta:loa:2fa:any",
                OrgOption::Refused,
            ),
        };
        Noun {
            attribute,
            noun,
            example,
            org,
        }
    }

    /// The `auth_actix::macro_support` requirement type, named after the `Rule` constructor (with
    /// `In` when bound to the organisation a path parameter names).
    fn requirement(self, combinator: Combinator, bound: bool) -> &'static str {
        match (self, combinator, bound) {
            (Kind::Role, Combinator::Any, _) => "AnyRole",
            (Kind::Role, Combinator::All, _) => "AllRoles",
            (Kind::OrgRole, Combinator::Any, false) => "AnyOrgRole",
            (Kind::OrgRole, Combinator::All, false) => "AllOrgRoles",
            (Kind::OrgRole, Combinator::Any, true) => "AnyOrgRoleIn",
            (Kind::OrgRole, Combinator::All, true) => "AllOrgRolesIn",
            (Kind::OrgMember, _, _) => "OrgMemberIn",
            (Kind::Scope, Combinator::Any, _) => "AnyScope",
            (Kind::Scope, Combinator::All, _) => "AllScopes",
            (Kind::User, _, _) => "User",
            (Kind::Service, _, _) => "Service",
            (Kind::Acr, _, _) => "Acr",
        }
    }

    /// Whether the attribute takes no names.
    fn takes_no_names(self) -> bool {
        matches!(self, Kind::User | Kind::Service)
    }
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(kind, args, item.clone()) {
        Ok(expanded) => expanded,
        // The handler is kept as written beside the error, so only this error shows and the IDE
        // keeps working on the function.
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

fn try_expand(kind: Kind, args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let noun = kind.noun();
    let step_up = match kind {
        Kind::Acr => Some(AcrArgs::parse.parse2(args.clone())?),
        _ => None,
    };
    let rule = if kind.takes_no_names() || step_up.is_some() {
        if let (None, Some(first)) = (&step_up, args.clone().into_iter().next()) {
            return Err(syn::Error::new(
                first.span(),
                format!(
                    "#[{}] takes no arguments: write #[{}] alone",
                    noun.attribute, noun.attribute
                ),
            ));
        }
        RuleArgs {
            combinator: Combinator::Any,
            names: Vec::new(),
            org: None,
        }
    } else {
        (|input: syn::parse::ParseStream<'_>| RuleArgs::parse(input, noun)).parse2(args)?
    };
    let mut function: ItemFn = syn::parse2(item).map_err(|err| {
        syn::Error::new(
            err.span(),
            format!("#[{}] goes on an async handler function", noun.attribute),
        )
    })?;

    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            function.sig.fn_token.span,
            format!(
                "#[{}] needs an async handler: write `async fn {}(...)`",
                noun.attribute, function.sig.ident
            ),
        ));
    }
    let receiver = function
        .sig
        .inputs
        .iter()
        .any(|arg| matches!(arg, FnArg::Receiver(_)));
    if receiver {
        return Err(syn::Error::new(
            function.sig.inputs.span(),
            format!(
                "#[{}] handlers take no `self`: actix calls them as plain functions; make it an \
                 associated fn and register `Type::{}`",
                noun.attribute, function.sig.ident
            ),
        ));
    }
    let extractors = function.sig.inputs.len();
    if extractors >= MAX_EXTRACTORS {
        return Err(syn::Error::new(
            function.sig.inputs.span(),
            format!(
                "this handler already takes {extractors} extractors and #[{}] adds one, past \
                 actix's limit of {MAX_EXTRACTORS}; group some into a tuple or a struct that \
                 implements FromRequest",
                noun.attribute
            ),
        ));
    }

    let guard_type = match &step_up {
        // OpenAPI has no step-up requirement to write: the security requirement stays the
        // other guards'.
        Some(step_up) => step_up_type(step_up),
        None => {
            document(&mut function, kind, &rule);
            guard_type(kind, &rule)
        }
    };
    let name = format_ident!(
        "__auth_guard_{}",
        taken_guards(&function),
        span = Span::mixed_site()
    );
    let argument: FnArg = syn::parse_quote!(#name: #guard_type);
    function.sig.inputs.insert(0, argument);
    if kind == Kind::Scope {
        // RFC 9728 `scopes_supported` lists the scopes registered guards ask for: submitted here,
        // where the attribute is (an item inside the body works in an `impl` block too).
        let submit: syn::Stmt = syn::parse_quote! {
            ::auth_actix::macro_support::inventory::submit! {
                ::auth_actix::macro_support::RegisteredScopes(
                    <#guard_type as ::auth_actix::macro_support::GuardRule>::SCOPES
                )
            }
        };
        function.block.stmts.insert(0, submit);
    }
    Ok(function.into_token_stream())
}

/// Writes the guard into a `#[utoipa::path(...)]` below this attribute, as a `security`
/// requirement: the bearer scheme with the roles or scopes (one alternative per name for `any`),
/// plus the OAuth 2.0 scheme for scopes. `auth_actix::openapi::SecurityDocs` completes it for the
/// provider's other schemes. A `security` already written is left alone.
fn document(function: &mut ItemFn, kind: Kind, rule: &RuleArgs) {
    for attr in &mut function.attrs {
        let segments: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segments != ["utoipa", "path"] {
            continue;
        }
        let syn::Meta::List(list) = &mut attr.meta else {
            continue;
        };
        let has_security = list
            .tokens
            .clone()
            .into_iter()
            .any(|token| matches!(&token, proc_macro2::TokenTree::Ident(i) if i == "security"));
        if has_security {
            continue;
        }
        let names: Vec<String> = rule
            .names
            .iter()
            .map(|name| match name {
                Name::Literal(lit) => lit.value(),
                // Resolved to the role's name by `SecurityDocs::role_enum`.
                Name::Variant(path) => {
                    let tail: Vec<String> = path
                        .segments
                        .iter()
                        .rev()
                        .take(2)
                        .map(|s| s.ident.to_string())
                        .collect();
                    format!("{}::{}", tail[1], tail[0])
                }
            })
            .collect();
        let groups: Vec<Vec<&String>> = match rule.combinator {
            // A user or service guard names nothing: any token of the kind will do.
            _ if names.is_empty() => vec![Vec::new()],
            Combinator::Any => names.iter().map(|name| vec![name]).collect(),
            Combinator::All => vec![names.iter().collect()],
        };
        let alternatives = groups.iter().flat_map(|group| {
            let bearer = quote!(("bearer" = [#(#group),*]));
            let oauth = matches!(kind, Kind::Scope).then(|| quote!(("oauth2" = [#(#group),*])));
            std::iter::once(bearer).chain(oauth)
        });
        let tokens = std::mem::take(&mut list.tokens);
        let last = tokens.clone().into_iter().last();
        let ends_with_comma =
            matches!(last, Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ',');
        let separator = if tokens.is_empty() || ends_with_comma {
            quote!()
        } else {
            quote!(,)
        };
        list.tokens = quote!(#tokens #separator security(#(#alternatives),*));
    }
}

/// How many guard arguments earlier attributes added, so stacked attributes get distinct names.
fn taken_guards(function: &ItemFn) -> usize {
    function
        .sig
        .inputs
        .iter()
        .filter(|arg| match arg {
            FnArg::Typed(typed) => {
                let Pat::Ident(pat) = typed.pat.as_ref() else {
                    return false;
                };
                pat.ident.to_string().starts_with("__auth_guard_")
            }
            FnArg::Receiver(_) => false,
        })
        .count()
}

fn guard_type(kind: Kind, rule: &RuleArgs) -> TokenStream {
    let requirement = format_ident!("{}", kind.requirement(rule.combinator, rule.org.is_some()));
    if kind.takes_no_names() {
        return quote!(::auth_actix::Require<::auth_actix::macro_support::#requirement>);
    }
    let param = rule
        .org
        .as_ref()
        .map(|org| name_type(&Name::Literal(org.clone())));
    if kind == Kind::OrgMember {
        return quote!(::auth_actix::Require<::auth_actix::macro_support::#requirement<#param>>);
    }
    let names = rule.names.iter().map(name_type);
    match param {
        Some(param) => quote! {
            ::auth_actix::Require<
                ::auth_actix::macro_support::#requirement<(#(#names,)*), #param>
            >
        },
        None => quote! {
            ::auth_actix::Require<::auth_actix::macro_support::#requirement<(#(#names,)*)>>
        },
    }
}

/// The guard type of `#[require_acr]`: `Acr`, `AcrMaxAge` or `MaxAge`.
fn step_up_type(step_up: &AcrArgs) -> TokenStream {
    let values = step_up
        .values
        .iter()
        .map(|value| name_type(&Name::Literal(value.clone())));
    let seconds = step_up
        .max_age
        .as_ref()
        .map(|seconds| proc_macro2::Literal::u64_unsuffixed(seconds.base10_parse().unwrap_or(0)));
    let support = quote!(::auth_actix::macro_support);
    match (step_up.values.is_empty(), seconds) {
        (false, None) => quote!(::auth_actix::Require<#support::Acr<(#(#values,)*)>>),
        (false, Some(seconds)) => {
            quote!(::auth_actix::Require<#support::AcrMaxAge<(#(#values,)*), #seconds>>)
        }
        (true, Some(seconds)) => quote!(::auth_actix::Require<#support::MaxAge<#seconds>>),
        // `AcrArgs::parse` refuses a requirement that names nothing.
        (true, None) => quote!(::core::compile_error!("#[require_acr] names nothing")),
    }
}

/// A name as a type: a literal's bytes in const parameters, or an enum variant's index.
fn name_type(name: &Name) -> TokenStream {
    match name {
        Name::Literal(lit) => {
            let value = lit.value();
            let bytes = value.as_bytes();
            let len = bytes.len();
            let chunks = (0..8).map(|chunk| {
                let word = bytes
                    .iter()
                    .skip(chunk * 16)
                    .take(16)
                    .enumerate()
                    .fold(0u128, |word, (i, byte)| {
                        word | (u128::from(*byte) << (i * 8))
                    });
                proc_macro2::Literal::u128_unsuffixed(word)
            });
            quote_spanned!(lit.span()=> ::auth_actix::macro_support::Lit<#len, #(#chunks),*>)
        }
        Name::Variant(path) => {
            let mut enum_path = path.clone();
            enum_path.segments.pop();
            enum_path.segments.pop_punct();
            // The variant is spelled in the user's tokens, so a misspelling is reported right
            // there.
            let index = quote_spanned!(path.span()=> { #path.__auth_role_index() });
            quote_spanned!(path.span()=> ::auth_actix::macro_support::Variant<#enum_path, #index>)
        }
    }
}
