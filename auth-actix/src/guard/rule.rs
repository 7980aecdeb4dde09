//! What a guard asks of a caller (roles or scopes, any or all of a list), checked without
//! allocating, and how a request is admitted against it: the one check behind
//! [`Require`](crate::Require), [`Authorize`](crate::Authorize) and the guard attributes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use auth_core::{AuthError, Identity, IdentityKind, is_challenge_name};

use crate::guard::role_resolver::decoded;
use crate::guard::step_up::admit_step_up;
use crate::response::rejection::AuthRejection;
use crate::state::Authenticated;
use crate::state::refusal::{RouteScopes, refuse_anonymous, refuse_request};

/// What a guard asks of the caller: roles, organisation roles or scopes, any or all of a list;
/// that the caller be a person or a machine; or a step-up authentication ([`Rule::acr`],
/// [`Rule::authenticated_within`]). The names are `'static`,
/// so a rule lives in a constant; an empty list does not compile in one (and panics elsewhere),
/// since a rule that names nothing would admit everyone.
///
/// An organisation rule checks the caller's own organisation unless bound to the path parameter
/// naming the organisation a request addresses, with [`Rule::in_path_param`]:
///
/// ```
/// use auth_actix::Rule;
///
/// // POST /orgs/{org}/invoices: an admin of the organisation in the path.
/// const INVOICE_ADMINS: Rule = Rule::any_org_role(&["admin"]).in_path_param("org");
/// const MEMBERS: Rule = Rule::org_member().in_path_param("org");
/// assert_eq!(INVOICE_ADMINS.org_param(), Some("org"));
/// ```
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
///
/// A rule is one requirement: a route that needs a scope and a step-up authentication stacks two
/// guards (`Require<Writers>` and `Require<Recent>`, or `#[require_scope]` and
/// `#[require_acr]`), each refusing with its own answer (403 `insufficient_scope`, 401
/// `insufficient_user_authentication`).
///
/// ```compile_fail
/// use auth_actix::Rule;
///
/// // error: application roles belong to no organisation
/// const ADMINS: Rule = Rule::any_role(&["admin"]).in_path_param("org");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    kind: RuleKind,
    names: &'static [&'static str],
    /// The path parameter naming the organisation the request addresses.
    org_param: Option<&'static str>,
    /// A step-up rule's `max_age`: the most seconds since the user authenticated.
    max_age: Option<u64>,
}

/// The one vocabulary of requirements, shared by [`Rule`], [`Authorize`](crate::Authorize) and the
/// guard attributes: which names are checked, and whether one of them is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleKind {
    AnyRole,
    AllRoles,
    AnyOrgRole,
    AllOrgRoles,
    /// A member of an organisation, whatever its roles there; the rule names nothing, and is
    /// always bound to a path parameter.
    OrgMember,
    AnyScope,
    AllScopes,
    /// A person; the rule names nothing.
    User,
    /// A machine credential; the rule names nothing.
    Service,
    /// A step-up authentication (RFC 9470): the names are the acceptable `acr` values (none when
    /// only recency counts), checked with a `max_age` against the request's provider and clock
    /// ([`admit_step_up`]), never from the identity alone.
    StepUp,
}

impl RuleKind {
    /// Whether the rule asks about the caller's organisation, and may be bound to the organisation
    /// a request addresses.
    pub(crate) const fn is_org(self) -> bool {
        matches!(
            self,
            RuleKind::AnyOrgRole | RuleKind::AllOrgRoles | RuleKind::OrgMember
        )
    }

    /// Whether `identity` satisfies the requirement for `names`. An empty list satisfies nothing.
    /// For an organisation rule, the organisation is the caller's; which one the request addresses
    /// is [`addressed`]'s to check.
    pub(crate) fn allows<'a>(
        self,
        identity: &Identity,
        names: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        let mut names = names.into_iter().peekable();
        match self {
            RuleKind::User => return identity.kind == IdentityKind::User,
            RuleKind::Service => return identity.kind == IdentityKind::Service,
            RuleKind::OrgMember => return identity.organization.is_some(),
            RuleKind::StepUp => return false,
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
            RuleKind::User | RuleKind::Service | RuleKind::OrgMember | RuleKind::StepUp => false,
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
            IdentityKind::Unknown => "either",
        };
        let no_roles = BTreeSet::new();
        let org_roles = identity
            .organization
            .as_ref()
            .map_or(&no_roles, |org| &org.roles);
        let (what, how, held) = match self {
            RuleKind::OrgMember => {
                return "requires membership of the organisation; the caller acts in none".into();
            }
            // Refused by `admit_step_up`, whose error says what the token carries.
            RuleKind::StepUp => return "requires a step-up authentication".into(),
            RuleKind::User | RuleKind::Service => {
                let wanted = if self == RuleKind::User {
                    IdentityKind::User
                } else {
                    IdentityKind::Service
                };
                if identity.kind == IdentityKind::Unknown {
                    return format!(
                        "requires {}; the provider's tokens do not say whether a person or a \
                         machine holds this one (Zitadel: a service user can shape its token like \
                         a person's, and a token of an unlisted client stays unknown): list the \
                         client ID of every application people sign in through with \
                         Provider::zitadel_user_clients([..])",
                        caller(wanted)
                    );
                }
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
        let mut line = format!(
            "requires {what} {how} [{}]; the caller has [{}]",
            required.join(", "),
            held.join(", ")
        );
        // An organisation's (an Entra tenant's) roles are not the application's: say so where
        // the caller holds a required role there, or the refusal looks like a missing role.
        if let (RuleKind::AnyRole | RuleKind::AllRoles, Some(org)) = (self, &identity.organization)
        {
            let as_org: Vec<&str> = required
                .iter()
                .copied()
                .filter(|role| org.has_role(role))
                .collect();
            if !as_org.is_empty() {
                line.push_str(&format!(
                    "; the caller holds [{}] as roles of its organisation (tenant) {:?}, not of \
                     the application: guard with require_org_role bound to the organisation the \
                     path names (org = \"<param>\"), or trust that organisation with \
                     Provider::trusted_organizations",
                    as_org.join(", "),
                    // Signed by the issuer, but chosen by whoever names organisations there.
                    org.id.chars().take(100).collect::<String>()
                ));
            }
        }
        line
    }
}

impl Rule {
    const fn new(kind: RuleKind, names: &'static [&'static str]) -> Rule {
        assert!(
            !names.is_empty(),
            "a rule needs at least one name: an empty list would admit every caller"
        );
        Rule {
            kind,
            names,
            org_param: None,
            max_age: None,
        }
    }

    const fn unnamed(kind: RuleKind) -> Rule {
        Rule {
            kind,
            names: &[],
            org_param: None,
            max_age: None,
        }
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

    /// At least one of these roles, granted by the caller's own active organisation
    /// ([`Identity::organization`]).
    ///
    /// **Which organisation.** As it stands, the one the caller acts in, whatever organisation the
    /// request addresses: on `POST /orgs/{org}/invoices` an admin of organisation A would pass for
    /// organisation B's invoices. On any route that names an organisation, bind the rule to that
    /// path parameter with [`Rule::in_path_param`]; the caller's organisation must then be the one
    /// addressed.
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn any_org_role(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AnyOrgRole, roles)
    }

    /// Every one of these roles, granted by the caller's own active organisation; bind it to the
    /// organisation a request addresses with [`Rule::in_path_param`], as for
    /// [`Rule::any_org_role`].
    ///
    /// # Panics
    /// If `roles` is empty (at compile time in a constant).
    pub const fn all_org_roles(roles: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AllOrgRoles, roles)
    }

    /// A member of the organisation a request addresses, whatever its roles there: for providers
    /// whose organisations grant no roles in tokens (Keycloak). It must be bound to the path
    /// parameter naming the organisation, `Rule::org_member().in_path_param("org")`; `Require`
    /// with an unbound one does not compile:
    ///
    /// ```compile_fail
    /// use auth_actix::{Require, NamedRule, Rule};
    ///
    /// struct Members;
    /// impl NamedRule for Members {
    ///     const RULE: Rule = Rule::org_member(); // error: names no organisation
    /// }
    ///
    /// async fn projects(_: Require<Members>) -> &'static str {
    ///     "projects"
    /// }
    ///
    /// let _ = actix_web::App::new().route("/projects", actix_web::web::get().to(projects));
    /// ```
    pub const fn org_member() -> Rule {
        Rule::unnamed(RuleKind::OrgMember)
    }

    /// Binds an organisation rule to the organisation a request addresses: the path parameter
    /// `param` (decoded as `web::Path` decodes it) must equal the caller's
    /// [`Organization::id`](auth_core::Organization::id), else 403, and the roles are then checked
    /// there. A route where routing has not matched the parameter (an `Authorize` on a scope whose
    /// own path lacks it) answers 500, with a log line naming the fix.
    ///
    /// # Panics
    /// For a rule that is not about organisations ([`Rule::any_org_role`],
    /// [`Rule::all_org_roles`], [`Rule::org_member`]), or an empty parameter name (at compile time
    /// in a constant).
    pub const fn in_path_param(self, param: &'static str) -> Rule {
        assert!(
            self.kind.is_org(),
            "in_path_param binds organisation rules (any_org_role, all_org_roles, org_member) to \
             the organisation a request addresses; application roles and scopes belong to no \
             organisation"
        );
        assert!(
            !param.is_empty(),
            "in_path_param: give the name of the path parameter naming the organisation, e.g. \
             \"org\" for /orgs/{{org}}"
        );
        let bytes = param.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i] != b'{' && bytes[i] != b'}',
                "in_path_param: write the parameter's name without braces, e.g. \"org\""
            );
            i += 1;
        }
        Rule {
            org_param: Some(param),
            ..self
        }
    }

    /// A person, not a machine credential ([`IdentityKind::User`]). A caller whose token does not
    /// say ([`IdentityKind::Unknown`]: Zitadel without
    /// [`Provider::zitadel_user_clients`](auth_core::Provider::zitadel_user_clients)) is refused
    /// (403), the log naming that setting.
    pub const fn user() -> Rule {
        Rule::unnamed(RuleKind::User)
    }

    /// A machine credential ([`IdentityKind::Service`]): a service token, a client-credentials or
    /// app-only token. [`IdentityKind::Unknown`] is refused, as by [`Rule::user`].
    pub const fn service() -> Rule {
        Rule::unnamed(RuleKind::Service)
    }

    /// At least one of these scopes.
    ///
    /// ```compile_fail
    /// use auth_actix::Rule;
    ///
    /// // error: the quote would end the challenge's `scope` value and start another parameter
    /// const READ: Rule = Rule::any_scope(&["read\", error=\"x"]);
    /// ```
    ///
    /// # Panics
    /// If `scopes` is empty, or a scope is not one the challenge's `scope` can carry: an RFC 6749
    /// §3.3 scope-token (visible ASCII without spaces, quotes or backslashes) of at most 256
    /// bytes without commas or equals signs (at compile time in a constant).
    pub const fn any_scope(scopes: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AnyScope, checked_scopes(scopes))
    }

    /// Every one of these scopes.
    ///
    /// # Panics
    /// As [`Rule::any_scope`].
    pub const fn all_scopes(scopes: &'static [&'static str]) -> Rule {
        Rule::new(RuleKind::AllScopes, checked_scopes(scopes))
    }

    /// A step-up authentication (RFC 9470): the token's `acr`
    /// ([`Authentication::acr`](auth_core::Authentication::acr)) must be one of `values`, which
    /// the refusal's challenge lists in this order (`acr_values="a b"`). Add recency with
    /// [`Rule::max_age`]. A token without `acr`, or with another, is refused 401
    /// `INSUFFICIENT_USER_AUTHENTICATION`.
    ///
    /// ```
    /// use auth_actix::{NamedRule, Require, Rule};
    ///
    /// struct TwoFactor;
    /// impl NamedRule for TwoFactor {
    ///     // Okta's second factor, at most 5 minutes ago (plus the provider's leeway).
    ///     const RULE: Rule = Rule::acr(&["urn:okta:loa:2fa:any"]).max_age(300);
    /// }
    ///
    /// async fn transfer(_: Require<TwoFactor>) -> &'static str { "sent" }
    /// ```
    ///
    /// ```compile_fail
    /// use auth_actix::Rule;
    ///
    /// const LEVELS: Rule = Rule::acr(&["silver gold"]); // error: the challenge cannot carry it
    /// ```
    ///
    /// ```compile_fail
    /// use auth_actix::Rule;
    ///
    /// // error: a role rule and a step-up are two guards
    /// const RECENT_ADMINS: Rule = Rule::any_role(&["admin"]).max_age(300);
    /// ```
    ///
    /// # Panics
    /// If `values` is empty, or a value is longer than 256 bytes or holds a space, a quote, a
    /// backslash, a comma, an equals sign or a character outside visible ASCII, which the
    /// challenge cannot carry (at compile time in a constant).
    pub const fn acr(values: &'static [&'static str]) -> Rule {
        let rule = Rule::new(RuleKind::StepUp, values);
        let mut i = 0;
        while i < values.len() {
            assert!(
                is_challenge_name(values[i]),
                "Rule::acr: an acr value is at most 256 bytes of visible ASCII without spaces, \
                 quotes, backslashes, commas or equals signs (the challenge lists them \
                 space-separated in quotes), e.g. \"urn:okta:loa:2fa:any\""
            );
            i += 1;
        }
        rule
    }

    /// A step-up authentication on recency alone: the token's `auth_time`
    /// ([`Authentication::time`](auth_core::Authentication::time)) no more than `seconds` ago,
    /// plus the provider's leeway; the same as [`Rule::max_age`] on a rule without `acr` values.
    /// A token without `auth_time`, or one in the future beyond the leeway, is refused 401
    /// `INSUFFICIENT_USER_AUTHENTICATION`, the challenge saying `max_age="<seconds>"`.
    ///
    /// ```
    /// use auth_actix::Rule;
    ///
    /// const RECENT: Rule = Rule::authenticated_within(600);
    /// assert_eq!(RECENT.max_age_seconds(), Some(600));
    /// assert!(RECENT.names().is_empty());
    /// ```
    pub const fn authenticated_within(seconds: u64) -> Rule {
        Rule {
            max_age: Some(seconds),
            ..Rule::unnamed(RuleKind::StepUp)
        }
    }

    /// Adds recency to a step-up rule ([`Rule::acr`]): the user authenticated no more than
    /// `seconds` ago (`auth_time`, plus the provider's leeway), as the challenge's `max_age`
    /// says.
    ///
    /// # Panics
    /// On a rule that is not a step-up rule (at compile time in a constant): a role or scope
    /// rule stacks with a separate step-up guard instead.
    pub const fn max_age(self, seconds: u64) -> Rule {
        assert!(
            matches!(self.kind, RuleKind::StepUp),
            "Rule::max_age applies to step-up rules: Rule::acr(&[..]).max_age(300), or \
             Rule::authenticated_within(300) for recency alone; guard roles or scopes with a \
             separate rule"
        );
        Rule {
            max_age: Some(seconds),
            ..self
        }
    }

    /// A step-up rule's `max_age` in seconds ([`Rule::max_age`], [`Rule::authenticated_within`]).
    pub const fn max_age_seconds(&self) -> Option<u64> {
        self.max_age
    }

    /// Whether the rule asks for a step-up authentication ([`Rule::acr`],
    /// [`Rule::authenticated_within`]); its [`Rule::names`] are then the acceptable `acr` values.
    pub const fn is_step_up(&self) -> bool {
        matches!(self.kind, RuleKind::StepUp)
    }

    /// Whether `identity` satisfies the rule. A rule bound to a path parameter
    /// ([`Rule::in_path_param`]) holds only for a request, so this is `false` for it
    /// ([`Require`](crate::Require) checks it against the request), as for an unbound
    /// [`Rule::org_member`] and a step-up rule (checked against the request's provider, whose
    /// leeway counts, and the clock).
    pub fn allows(&self, identity: &Identity) -> bool {
        self.is_complete()
            && self.org_param.is_none()
            && self.kind.allows(identity, self.names.iter().copied())
    }

    /// The names the rule lists (none for [`Rule::user`], [`Rule::service`],
    /// [`Rule::org_member`] and [`Rule::authenticated_within`]; the `acr` values for
    /// [`Rule::acr`]).
    pub const fn names(&self) -> &'static [&'static str] {
        self.names
    }

    /// The path parameter naming the organisation a request addresses, for a rule bound with
    /// [`Rule::in_path_param`].
    pub const fn org_param(&self) -> Option<&'static str> {
        self.org_param
    }

    /// Whether the rule can be checked: an organisation membership rule must name the
    /// organisation.
    pub(crate) const fn is_complete(&self) -> bool {
        !matches!(self.kind, RuleKind::OrgMember) || self.org_param.is_some()
    }

    /// Whether the rule is about scopes rather than roles.
    pub const fn is_scope(&self) -> bool {
        matches!(self.kind, RuleKind::AnyScope | RuleKind::AllScopes)
    }

    fn describe(&self, identity: &Identity) -> String {
        self.kind.describe(identity, self.names.iter().copied())
    }

    /// Admits `caller` if the rule holds for it on `req` (the organisation a bound rule names is
    /// the request's), else refuses (401 without a caller, 403 without the role or scope).
    pub(crate) fn admit(
        &self,
        req: &HttpRequest,
        caller: Option<Authenticated>,
    ) -> Result<Arc<Identity>, AuthRejection> {
        if self.is_step_up() {
            let max_age = self.max_age.map(Duration::from_secs);
            return admit_step_up(req, caller, self.names, max_age);
        }
        // A refusal's challenge names the scopes this rule asks for (RFC 6750 §3, RFC 9728 §5.1).
        let scopes = self.is_scope().then_some(|| self.names.join(" "));
        RouteScopes::around(req, scopes, || {
            admit(
                req,
                caller,
                self.org_param,
                |identity| self.kind.allows(identity, self.names.iter().copied()),
                |identity| self.describe(identity),
            )
        })
    }
}

/// A type that names a [`Rule`], for use with [`Require`](crate::Require).
///
/// `#[require_role]` and `#[require_scope]` generate these; by hand:
///
/// ```
/// use auth_actix::{Require, NamedRule, Rule};
///
/// struct Admins;
/// impl NamedRule for Admins {
///     const RULE: Rule = Rule::any_role(&["admin"]);
/// }
///
/// async fn purge(_: Require<Admins>) -> &'static str { "purged" }
/// ```
pub trait NamedRule: 'static {
    /// The rule the caller must satisfy.
    const RULE: Rule;
}

/// Admits `caller` if the organisation `org_param` names is theirs (when given) and `allows`, else
/// refuses with 403 and the requirement (`describe`) in the log.
pub(crate) fn admit(
    req: &HttpRequest,
    caller: Option<Authenticated>,
    org_param: Option<&str>,
    allows: impl FnOnce(&Identity) -> bool,
    describe: impl FnOnce(&Identity) -> String,
) -> Result<Arc<Identity>, AuthRejection> {
    let Some(caller) = caller else {
        return Err(refuse_anonymous(req));
    };
    if let Some(param) = org_param
        && let Err(error) = addressed(req, param, &caller.identity)
    {
        return Err(refuse_request(req, error, Some(caller)));
    }
    if allows(&caller.identity) {
        return Ok(caller.identity);
    }
    let error = AuthError::Forbidden(describe(&caller.identity));
    Err(refuse_request(req, error, Some(caller)))
}

/// Whether the request addresses the caller's organisation: the path parameter `param`, decoded
/// as `web::Path` decodes it, equals [`Organization::id`](auth_core::Organization::id).
fn addressed(req: &HttpRequest, param: &str, identity: &Identity) -> Result<(), AuthError> {
    let info = req.match_info();
    let Some(raw) = info.get(param) else {
        let reason = if info.unprocessed().is_empty() {
            format!(
                "an organisation guard reads path parameter `{param}`, which this route does not \
                 have: name the parameter as the route's path spells it (org = \"{param}\" needs \
                 /orgs/{{{param}}})"
            )
        } else {
            format!(
                "an organisation guard read path parameter `{param}` before routing matched it: \
                 an Authorize on a scope runs before the scope's routes; name the parameter in \
                 the scope's own path (web::scope(\"/orgs/{{{param}}}\")) or guard the handler \
                 with #[require_org_role(.., org = \"{param}\")] or Require"
            )
        };
        return Err(AuthError::Internal(reason));
    };
    let addressed = decoded(raw);
    match &identity.organization {
        Some(org) if org.id == *addressed => Ok(()),
        Some(org) => Err(AuthError::Forbidden(format!(
            "the caller acts in organisation {:?}; the request addresses organisation \
             {addressed:?} (path parameter `{param}`)",
            org.id
        ))),
        None => Err(AuthError::Forbidden(format!(
            "the caller acts in no organisation; the request addresses organisation \
             {addressed:?} (path parameter `{param}`)"
        ))),
    }
}

/// `scopes`, each checked as a name the challenge's quoted `scope` can carry (RFC 6750 §3).
const fn checked_scopes(scopes: &'static [&'static str]) -> &'static [&'static str] {
    let mut i = 0;
    while i < scopes.len() {
        assert!(
            is_challenge_name(scopes[i]),
            "Rule::any_scope / Rule::all_scopes: a scope is an RFC 6749 scope-token of at most \
             256 bytes without commas or equals signs (visible ASCII without spaces, quotes, \
             backslashes, commas or equals signs: the challenge lists scopes space-separated in \
             quotes), e.g. \"mcp:tools\""
        );
        i += 1;
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller whose token does not say whether a person or a machine holds it satisfies neither
    /// kind, and the refusal names the setting that decides.
    #[test]
    fn an_unknown_kind_is_neither_a_person_nor_a_machine() {
        let mut identity = Identity::default();
        for (kind, user, service) in [
            (IdentityKind::User, true, false),
            (IdentityKind::Service, false, true),
            (IdentityKind::Unknown, false, false),
        ] {
            identity.kind = kind;
            assert_eq!(Rule::user().allows(&identity), user, "{kind:?}");
            assert_eq!(Rule::service().allows(&identity), service, "{kind:?}");
        }
        for rule in [RuleKind::User, RuleKind::Service] {
            let why = rule.describe(&identity, []);
            assert!(why.contains("Provider::zitadel_user_clients"), "{why}");
        }
        identity.kind = IdentityKind::Service;
        let why = RuleKind::User.describe(&identity, []);
        assert_eq!(why, "requires a person; the caller is a machine credential");
    }
}
