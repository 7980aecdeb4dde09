//! What a guard asks of a caller (roles or scopes, any or all of a list), checked without
//! allocating; and `Require<R>`, the extractor that enforces it.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::collections::BTreeSet;

use auth_core::{AuthError, Identity, IdentityKind};

use crate::rejection::AuthRejection;
use crate::request_state::{self, Authenticated};
use crate::verified::{Extraction, extract};

/// What a guard asks of the caller: roles, organisation roles or scopes, any or all of a list; or
/// that the caller be a person or a machine. The names are `'static`,
/// so a rule lives in a constant; an empty list does not compile in one (and panics elsewhere),
/// since a rule that names nothing would admit everyone.
///
/// ```
/// use auth_actix::Rule;
///
/// const EDITORS: Rule = Rule::all_roles(&["editor", "verified"]);
/// const READERS: Rule = Rule::any_scope(&["read:items", "admin:items"]);
/// assert_eq!(EDITORS.names(), ["editor", "verified"]);
/// assert!(READERS.is_scope());
/// ```
///
/// ```compile_fail
/// use auth_actix::Rule;
///
/// const EVERYONE: Rule = Rule::all_roles(&[]); // error: a rule needs at least one name
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    kind: RuleKind,
    names: &'static [&'static str],
}

/// The one vocabulary of requirements, shared by [`Rule`], [`Authorize`](crate::Authorize) and the
/// guard attributes: which names are checked, and whether one of them is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleKind {
    AnyRole,
    AllRoles,
    AnyOrgRole,
    AllOrgRoles,
    AnyScope,
    AllScopes,
    /// A person; the rule names nothing.
    User,
    /// A machine credential; the rule names nothing.
    Service,
}

impl RuleKind {
    /// Whether `identity` satisfies the requirement for `names`. An empty list satisfies nothing.
    pub(crate) fn allows<'a>(
        self,
        identity: &Identity,
        names: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        let mut names = names.into_iter().peekable();
        match self {
            RuleKind::User => return identity.kind == IdentityKind::User,
            RuleKind::Service => return identity.kind == IdentityKind::Service,
            _ if names.peek().is_none() => return false,
            _ => {}
        }
        match self {
            RuleKind::AnyRole => names.any(|role| identity.has_role(role)),
            RuleKind::AllRoles => names.all(|role| identity.has_role(role)),
            RuleKind::AnyOrgRole => names.any(|role| identity.has_org_role(role)),
            RuleKind::AllOrgRoles => names.all(|role| identity.has_org_role(role)),
            RuleKind::AnyScope => names.any(|scope| identity.has_scope(scope)),
            RuleKind::AllScopes => names.all(|scope| identity.has_scope(scope)),
            RuleKind::User | RuleKind::Service => false,
        }
    }

    /// For the log line of a refusal: what was required, and what the caller had.
    pub(crate) fn describe<'a>(
        self,
        identity: &Identity,
        names: impl IntoIterator<Item = &'a str>,
    ) -> String {
        let caller = |kind: IdentityKind| match kind {
            IdentityKind::User => "a person",
            IdentityKind::Service => "a machine credential",
        };
        let no_roles = BTreeSet::new();
        let org_roles = identity
            .organization
            .as_ref()
            .map_or(&no_roles, |org| &org.roles);
        let (what, how, held) = match self {
            RuleKind::User | RuleKind::Service => {
                let wanted = if self == RuleKind::User {
                    IdentityKind::User
                } else {
                    IdentityKind::Service
                };
                return format!(
                    "requires {}; the caller is {}",
                    caller(wanted),
                    caller(identity.kind)
                );
            }
            RuleKind::AnyRole => ("role", "any of", &identity.roles),
            RuleKind::AllRoles => ("role", "all of", &identity.roles),
            RuleKind::AnyOrgRole => ("organisation role", "any of", org_roles),
            RuleKind::AllOrgRoles => ("organisation role", "all of", org_roles),
            RuleKind::AnyScope => ("scope", "any of", &identity.scopes),
            RuleKind::AllScopes => ("scope", "all of", &identity.scopes),
        };
        let required: Vec<&str> = names.into_iter().collect();
        let held: Vec<&str> = held.iter().map(String::as_str).collect();
        format!(
            "requires {what} {how} [{}]; the caller has [{}]",
            required.join(", "),
            held.join(", ")
        )
    }
}

impl Rule {
    const fn new(kind: RuleKind, names: &'static [&'static str]) -> Rule {
        assert!(
            !names.is_empty(),
            "a rule needs at least one name: an empty list would admit every caller"
        );
        Rule { kind, names }
    }

    /// At least one of these roles.
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn any_role(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AnyRole, roles)
    }

    /// Every one of these roles.
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn all_roles(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AllRoles, roles)
    }

    /// At least one of these roles granted by the caller's organisation (see
    /// [`Identity::organization`]).
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn any_org_role(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AnyOrgRole, roles)
    }

    /// Every one of these roles granted by the caller's organisation.
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn all_org_roles(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AllOrgRoles, roles)
    }

    /// A person, not a machine credential ([`IdentityKind::User`]).
    pub const fn user() -> Rule {
        Rule {
            kind: RuleKind::User,
            names: &[],
        }
    }

    /// A machine credential ([`IdentityKind::Service`]): a service token, a client-credentials or
    /// app-only token.
    pub const fn service() -> Rule {
        Rule {
            kind: RuleKind::Service,
            names: &[],
        }
    }

    /// At least one of these scopes.
    ///
    /// # Panics
    /// If `scopes` is empty (at compile time in a constant).
    pub const fn any_scope(scopes: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AnyScope, scopes)
    }

    /// Every one of these scopes.
    ///
    /// # Panics
    /// If `scopes` is empty (at compile time in a constant).
    pub const fn all_scopes(scopes: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AllScopes, scopes)
    }

    /// Whether `identity` satisfies the rule.
    pub fn allows(&self, identity: &Identity) -> bool {
        self.kind.allows(identity, self.names.iter().copied())
    }

    /// The names the rule lists (none for [`Rule::user`] and [`Rule::service`]).
    pub const fn names(&self) -> &'static [&'static str] {
        self.names
    }

    /// Whether the rule is about scopes rather than roles.
    pub const fn is_scope(&self) -> bool {
        matches!(self.kind, RuleKind::AnyScope | RuleKind::AllScopes)
    }

    fn describe(&self, identity: &Identity) -> String {
        self.kind.describe(identity, self.names.iter().copied())
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
///     const RULE: Rule = Rule::any_role(&["admin"]);
/// }
///
/// async fn purge(_: Require<Admins>) -> &'static str { "purged" }
/// ```
pub trait Requirement: 'static {
    /// The rule the caller must satisfy.
    const RULE: Rule;
}

/// An extractor that admits only callers satisfying `R`'s rule: 401 without a valid token, 403
/// without the role or scope. Dereferences to the caller's [`Identity`].
///
/// ```
/// use actix_web::{test, web, App};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{JwtAuth, Require, Requirement, Rule};
///
/// struct Editors;
/// impl Requirement for Editors {
///     const RULE: Rule = Rule::all_roles(&["editor", "verified"]);
/// }
///
/// async fn edit(caller: Require<Editors>) -> String {
///     format!("{} may edit", caller.subject)
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let app = test::init_service(
///     App::new()
///         .wrap(JwtAuth::new(issuer.provider()).unwrap())
///         .route("/edit", web::post().to(edit)),
/// )
/// .await;
/// let call = |token: &str| test::TestRequest::post().uri("/edit").bearer(token).to_request();
/// let editor = issuer.token().subject("ada").roles(["editor", "verified"]).sign();
/// assert_eq!(test::call_and_read_body(&app, call(&editor)).await, "ada may edit");
/// let half = issuer.token().roles(["editor"]).sign();
/// assert_eq!(test::call_service(&app, call(&half)).await.status(), 403);
/// # }
/// ```
pub struct Require<R: Requirement> {
    identity: Arc<Identity>,
    _rule: PhantomData<fn() -> R>,
}

impl<R: Requirement> Require<R> {
    /// The admitted caller.
    pub fn into_identity(self) -> Identity {
        Arc::unwrap_or_clone(self.identity)
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
        f.debug_struct("Require")
            .field("rule", &R::RULE)
            .field("identity", &self.identity)
            .finish()
    }
}

/// Admits `caller` if `allows`, else refuses with 403 and the requirement (`describe`) in the log.
pub(crate) fn admit(
    req: &HttpRequest,
    caller: Option<Authenticated>,
    allows: impl FnOnce(&Identity) -> bool,
    describe: impl FnOnce(&Identity) -> String,
) -> Result<Arc<Identity>, AuthRejection> {
    let Some(caller) = caller else {
        return Err(request_state::refuse_anonymous(req));
    };
    if allows(&caller.identity) {
        return Ok(caller.identity);
    }
    let error = AuthError::Forbidden(describe(&caller.identity));
    Err(request_state::refuse(req, error, Some(caller.identity)))
}

impl<R: Requirement> FromRequest for Require<R> {
    type Error = AuthRejection;
    type Future = Extraction<Require<R>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, caller| {
            let identity = admit(
                req,
                caller,
                |identity| R::RULE.allows(identity),
                |identity| R::RULE.describe(identity),
            )?;
            Ok(Require {
                identity,
                _rule: PhantomData,
            })
        })
    }
}
