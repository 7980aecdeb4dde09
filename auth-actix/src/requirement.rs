//! Role and scope requirements, checked against the caller's identity without allocating.

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use auth_core::AuthError;

use crate::identity::{Extraction, Identity, extract, required};
use crate::rejection::AuthRejection;
use crate::request_auth;

/// What a guard asks of the caller. Names are `'static` so a rule lives in a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// At least one of these roles.
    AnyRole(&'static [&'static str]),
    /// Every one of these roles.
    AllRoles(&'static [&'static str]),
    /// At least one of these scopes.
    AnyScope(&'static [&'static str]),
    /// Every one of these scopes.
    AllScopes(&'static [&'static str]),
}

/// How a list of names is matched; shared by [`Rule`] and [`Authorize`](crate::Authorize).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    AnyRole,
    AllRoles,
    AnyScope,
    AllScopes,
}

impl Mode {
    pub(crate) fn allows<'a>(self, identity: &auth_core::Identity, names: impl IntoIterator<Item = &'a str>) -> bool {
        let mut names = names.into_iter();
        match self {
            Mode::AnyRole => names.any(|role| identity.has_role(role)),
            Mode::AllRoles => names.all(|role| identity.has_role(role)),
            Mode::AnyScope => names.any(|scope| identity.has_scope(scope)),
            Mode::AllScopes => names.all(|scope| identity.has_scope(scope)),
        }
    }

    pub(crate) fn describe<'a>(self, names: impl IntoIterator<Item = &'a str>) -> String {
        let (what, how) = match self {
            Mode::AnyRole => ("role", "any of"),
            Mode::AllRoles => ("role", "all of"),
            Mode::AnyScope => ("scope", "any of"),
            Mode::AllScopes => ("scope", "all of"),
        };
        format!("requires {what} {how} {}", names.into_iter().collect::<Vec<_>>().join(", "))
    }
}

impl Rule {
    /// Whether `identity` satisfies the rule.
    pub fn allows(&self, identity: &auth_core::Identity) -> bool {
        self.mode().allows(identity, self.names().iter().copied())
    }

    fn mode(&self) -> Mode {
        match self {
            Rule::AnyRole(_) => Mode::AnyRole,
            Rule::AllRoles(_) => Mode::AllRoles,
            Rule::AnyScope(_) => Mode::AnyScope,
            Rule::AllScopes(_) => Mode::AllScopes,
        }
    }

    /// The names the rule lists.
    pub fn names(&self) -> &'static [&'static str] {
        match *self {
            Rule::AnyRole(names) | Rule::AllRoles(names) | Rule::AnyScope(names) | Rule::AllScopes(names) => names,
        }
    }

    /// Whether the rule is about scopes rather than roles.
    pub fn is_scope(&self) -> bool {
        matches!(self, Rule::AnyScope(_) | Rule::AllScopes(_))
    }

    pub(crate) fn describe(&self) -> String {
        self.mode().describe(self.names().iter().copied())
    }
}

/// A type that names a [`Rule`], for use with [`Require`].
///
/// `#[require_role]` and `#[require_scope]` generate these; by hand:
///
/// ```
/// use auth_actix::{Require, Requirement, Rule};
///
/// struct Admins;
/// impl Requirement for Admins {
///     const RULE: Rule = Rule::AnyRole(&["admin"]);
/// }
///
/// async fn purge(_: Require<Admins>) -> &'static str { "purged" }
/// ```
pub trait Requirement: 'static {
    /// The rule the caller must satisfy.
    const RULE: Rule;
}

/// An extractor that admits only callers satisfying `R`'s rule: 401 without a valid token, 403 without
/// the role or scope. Dereferences to the caller's [`Identity`].
pub struct Require<R: Requirement> {
    identity: Identity,
    _rule: PhantomData<fn() -> R>,
}

impl<R: Requirement> Require<R> {
    /// The admitted caller.
    pub fn into_identity(self) -> Identity {
        self.identity
    }
}

impl<R: Requirement> Deref for Require<R> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl<R: Requirement> std::fmt::Debug for Require<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Require").field("rule", &R::RULE).field("identity", &self.identity).finish()
    }
}

/// Checks `rule` for a verified caller, with the 403 and its log line when it fails.
pub(crate) fn check(req: &HttpRequest, identity: &auth_core::Identity, rule: &Rule) -> Result<(), AuthRejection> {
    if rule.allows(identity) { Ok(()) } else { Err(refuse(req, identity, rule.describe())) }
}

/// The 403 for a verified caller who lacks `requirement` (a description such as "role any of admin"),
/// logged; shared by guards, extractors and [`Authorize`](crate::Authorize).
pub(crate) fn refuse(req: &HttpRequest, identity: &auth_core::Identity, requirement: String) -> AuthRejection {
    let error = AuthError::Forbidden(requirement);
    crate::audit::forbidden(req.path(), identity, &error);
    request_auth::forbid(req, error)
}

impl<R: Requirement> FromRequest for Require<R> {
    type Error = AuthRejection;
    type Future = Extraction<Require<R>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, authenticated| {
            let authenticated = required(req, authenticated)?;
            check(req, authenticated.identity(), &R::RULE)?;
            Ok(Require { identity: Identity(authenticated), _rule: PhantomData })
        })
    }
}
