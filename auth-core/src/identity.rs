//! The provider-normalised caller: who, from where, with which roles and scopes.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::claim_path::{ClaimPath, Separator};
use crate::error::AuthError;
use crate::json::{Json, Object};
use crate::organization::{OrgAcceptance, OrgMapping, Organization};

/// Whether the caller is a person or a machine, or the token does not say.
///
/// Serialised `"user"`, `"service"`, `"unknown"`. Match it exhaustively: a new kind is a decision
/// each application makes, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person signed in through the provider.
    #[default]
    User,
    /// A machine credential: a Cloudflare Access service token, a client-credentials token (Auth0,
    /// Okta, Cognito, RFC 9068), an Entra app-only token, a Keycloak service account, a Zitadel
    /// service user, a Google service account's ID token.
    Service,
    /// The provider's tokens do not say whether a person or a machine holds this one: a Zitadel
    /// token shaped like a person's, which a service user can shape so too, while
    /// [`Provider::zitadel_user_clients`](crate::Provider::zitadel_user_clients) is not set.
    /// Neither a person's guard (`#[require_user]`) nor a machine's (`#[require_service]`) admits
    /// it; other guards (roles, scopes) do as for any caller.
    Unknown,
}

/// Who the verified token speaks for, normalised across providers.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{IdentityKind, Provider, StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let okta = Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default");
/// let okta = issuer.adopt(okta);
/// let token = issuer
///     .token_for(&okta)
///     .subject("ada@example.com")
///     .roles(["admin"])
///     .scopes(["items:read"])
///     .sign();
/// let claims = Verifier::new(okta)?.verify::<StandardClaims>(&token).await?;
/// let identity = claims.identity();
/// assert_eq!(identity.subject, "ada@example.com");
/// assert!(identity.has_role("admin"), "Okta's groups claim");
/// assert!(identity.has_scope("items:read"), "Okta's scp claim");
/// assert_eq!(identity.kind, IdentityKind::User);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Identity {
    /// Stable identifier of the caller within its issuer (`sub`, or the service's client id).
    pub subject: String,
    /// The token's issuer.
    pub issuer: String,
    /// E-mail address, when the provider includes one.
    pub email: Option<String>,
    /// Application roles: from the provider's role claims, roles a trusted organisation granted,
    /// and any a role resolver added for this request. For providers that say which organisation
    /// granted a role (Clerk, Zitadel, an Entra tenant, an Auth0 token issued in an organisation's
    /// context), the roles an untrusted organisation granted are in [`Identity::organization`]
    /// instead. Elsewhere this holds whatever the provider's role claims hold, whoever assigned it.
    pub roles: BTreeSet<String>,
    /// Scopes or permissions granted to the token (for an Auth0 token issued in an organisation's
    /// context, not the organisation's permissions: those are in [`Identity::organization`]).
    pub scopes: BTreeSet<String>,
    /// Person or machine, or [`IdentityKind::Unknown`] where the token does not say.
    pub kind: IdentityKind,
    /// The organisation or tenant the caller acts in, with the roles it granted: Clerk's active
    /// organisation, Auth0's `org_id`, the Zitadel organisation the user belongs to, the Entra
    /// tenant (`tid`), the one Keycloak organisation the token names. `None` when the token names
    /// none, or several without saying which one the caller acts in.
    ///
    /// This is the caller's organisation, not necessarily the one a request addresses: a guard
    /// that asks for an organisation role only checks the request's organisation when bound to
    /// the path parameter naming it (`#[require_org_role("admin", org = "org")]`).
    pub organization: Option<Organization>,
}

impl Identity {
    /// Whether the caller has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// Whether the caller has `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether the caller has at least one of `roles`.
    pub fn has_any_role(&self, roles: &[&str]) -> bool {
        roles.iter().any(|role| self.has_role(role))
    }

    /// Whether the caller has every one of `roles`.
    pub fn has_all_roles(&self, roles: &[&str]) -> bool {
        roles.iter().all(|role| self.has_role(role))
    }

    /// Whether the caller's organisation granted them `role`.
    pub fn has_org_role(&self, role: &str) -> bool {
        self.organization
            .as_ref()
            .is_some_and(|org| org.has_role(role))
    }
}

/// When a token stands for a machine rather than a person: conditions on the verified payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRule {
    /// The claim is a non-empty string, e.g. Cloudflare's `common_name` on service tokens.
    ClaimPresent(ClaimPath),
    /// The claim is absent, e.g. Okta's `uid` on client-credentials tokens.
    ClaimAbsent(ClaimPath),
    /// The claim equals the value, e.g. Entra's `idtyp` = `app`.
    ClaimEquals(ClaimPath, String),
    /// The claim is the JSON boolean `true`, e.g. Google's `email_verified`.
    ClaimIsTrue(ClaimPath),
    /// The claim is a string ending with the value, e.g. a Google service account's `email`
    /// (`….gserviceaccount.com`). Never a test of an identifier someone else chooses the end of:
    /// an Auth0 enterprise login's `sub` can end with `@clients` too (see
    /// [`ServiceRule::ClaimIsClaimWithSuffix`]).
    ClaimEndsWith(ClaimPath, String),
    /// The claim is a string starting with the value, e.g. Keycloak's `service-account-`.
    ClaimStartsWith(ClaimPath, String),
    /// Two claims hold the same non-empty string, e.g. RFC 9068's `sub` = `client_id`.
    ClaimsEqual(ClaimPath, ClaimPath),
    /// The first claim is exactly the second (a non-empty string) followed by the suffix, e.g.
    /// Auth0's `sub` = `<azp>@clients`.
    ClaimIsClaimWithSuffix(ClaimPath, ClaimPath, String),
    /// The first claim is a non-empty string that the second holds: equal to it, or one of its
    /// items when it is an array, e.g. Zitadel's `client_id` among `aud`.
    ClaimIn(ClaimPath, ClaimPath),
    /// The rule does not hold, e.g. Zitadel's "not a person's token" (a person's names an
    /// application in `client_id`).
    Not(Box<ServiceRule>),
    /// Every rule holds.
    All(Vec<ServiceRule>),
    /// At least one rule holds.
    Any(Vec<ServiceRule>),
}

impl ServiceRule {
    /// Whether the payload satisfies the rule.
    pub(crate) fn holds(&self, payload: &Object<'_>) -> bool {
        let text = |path: &ClaimPath| {
            path.find(payload)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        match self {
            ServiceRule::ClaimPresent(path) => text(path).is_some(),
            ServiceRule::ClaimAbsent(path) => path.find(payload).is_none_or(Json::is_null),
            ServiceRule::ClaimEquals(path, value) => text(path) == Some(value.as_str()),
            ServiceRule::ClaimIsTrue(path) => matches!(path.find(payload), Some(Json::Bool(true))),
            ServiceRule::ClaimEndsWith(path, end) => {
                text(path).is_some_and(|v| v.ends_with(&**end))
            }
            ServiceRule::ClaimStartsWith(path, start) => {
                text(path).is_some_and(|v| v.starts_with(&**start))
            }
            ServiceRule::ClaimsEqual(a, b) => text(a).is_some() && text(a) == text(b),
            ServiceRule::ClaimIsClaimWithSuffix(a, b, suffix) => text(a)
                .zip(text(b))
                .is_some_and(|(a, b)| a.strip_suffix(&**suffix) == Some(b)),
            ServiceRule::ClaimIn(a, b) => text(a).is_some_and(|a| match b.find(payload) {
                Some(Json::String(b)) => a == &**b,
                Some(Json::Array(items)) => items.iter().any(|item| item.as_str() == Some(a)),
                _ => false,
            }),
            ServiceRule::Not(rule) => !rule.holds(payload),
            ServiceRule::All(rules) => rules.iter().all(|rule| rule.holds(payload)),
            ServiceRule::Any(rules) => rules.iter().any(|rule| rule.holds(payload)),
        }
    }
}

/// A claim that holds names (roles or scopes), and how a string value there lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameClaim {
    pub(crate) path: ClaimPath,
    pub(crate) separator: Separator,
}

impl NameClaim {
    pub(crate) fn new(path: ClaimPath, separator: Separator) -> NameClaim {
        NameClaim { path, separator }
    }
}

/// Where a provider keeps roles, scopes, e-mail, organisations and the machine marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityMapping {
    pub(crate) roles: Vec<NameClaim>,
    pub(crate) scopes: Vec<NameClaim>,
    /// Where a person's scopes come from, when not from `scopes` (Auth0's `permissions` alone:
    /// with RBAC off, its `scope` holds what the application asked for).
    pub(crate) user_scopes: Option<Vec<NameClaim>>,
    pub(crate) email: ClaimPath,
    pub(crate) service: Option<ServiceRule>,
    /// Tokens the service rule does not mark and this rule does are a person's, whatever
    /// `unmarked` says (Zitadel's listed user clients).
    pub(crate) person: Option<ServiceRule>,
    /// The kind of a token neither rule marks: a person's, except where the provider's people
    /// and machines can look alike (Zitadel, whose unlisted clients stay `Unknown`).
    pub(crate) unmarked: IdentityKind,
    /// The subject when `sub` is empty (Cloudflare service tokens: `common_name`).
    pub(crate) subject_fallback: Option<ClaimPath>,
    pub(crate) organization: Option<OrgMapping>,
    /// Organisations whose roles count as application roles too.
    pub(crate) trusted_organizations: Vec<String>,
    /// Organisations whose tokens are accepted at all.
    pub(crate) accepted_organizations: OrgAcceptance,
}

impl Default for IdentityMapping {
    fn default() -> Self {
        IdentityMapping {
            roles: vec![NameClaim::new(ClaimPath::claim("roles"), Separator::None)],
            scopes: vec![
                NameClaim::new(ClaimPath::claim("scope"), Separator::Space),
                NameClaim::new(ClaimPath::claim("scp"), Separator::Space),
            ],
            user_scopes: None,
            email: ClaimPath::claim("email"),
            service: None,
            person: None,
            unmarked: IdentityKind::User,
            subject_fallback: None,
            organization: None,
            trusted_organizations: Vec::new(),
            accepted_organizations: OrgAcceptance::Unset,
        }
    }
}

impl IdentityMapping {
    /// Builds the identity of a verified payload; fails on an organisation the provider's
    /// settings refuse, or an organisation claim that does not read as the provider documents it.
    pub(crate) fn identity(
        &self,
        payload: &Object<'_>,
        issuer: &str,
    ) -> Result<Identity, AuthError> {
        // `extend` inserts one by one; `collect` would first gather the names into a vector (one
        // more allocation) and sort it, for the handful of names a token carries.
        let collect = |claims: &[NameClaim]| {
            let mut names = BTreeSet::new();
            names.extend(
                claims
                    .iter()
                    .flat_map(|claim| claim.path.names_split(payload, claim.separator))
                    .map(str::to_owned),
            );
            names
        };
        let text = |path: &ClaimPath| {
            path.find(payload)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        let sub = payload
            .get("sub")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let subject = match (sub, self.subject_fallback.as_ref().and_then(text)) {
            ("", Some(fallback)) => fallback,
            (sub, _) => sub,
        };
        let kind = match (&self.service, &self.person) {
            (Some(rule), _) if rule.holds(payload) => IdentityKind::Service,
            (_, Some(rule)) if rule.holds(payload) => IdentityKind::User,
            _ => self.unmarked,
        };
        let mut roles = collect(&self.roles);
        let mut scopes = match (&self.user_scopes, kind) {
            (Some(user_scopes), IdentityKind::User) => collect(user_scopes),
            _ => collect(&self.scopes),
        };
        let organization = match &self.organization {
            None => None,
            Some(mapping) => {
                let trusted = &self.trusted_organizations;
                let granted = mapping.read(payload, &mut roles, &mut scopes, trusted)?;
                let org = granted.organization.as_ref();
                self.accepted_organizations
                    .admit(mapping, payload, org, trusted)?;
                roles.extend(granted.app_roles);
                scopes.extend(granted.app_scopes);
                granted.organization
            }
        };

        Ok(Identity {
            subject: subject.to_owned(),
            issuer: issuer.to_owned(),
            email: text(&self.email).map(str::to_owned),
            roles,
            scopes,
            kind,
            organization,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A token the service rule does not mark takes the mapping's `unmarked` kind: a person's by
    /// default, `Unknown` where the provider's people and machines look alike.
    #[test]
    fn the_unmarked_kind_is_the_mappings() {
        let machine = json!({"sub": "s", "client_id": "s"});
        let other = json!({"sub": "u", "client_id": "c"});
        let mut mapping = IdentityMapping {
            service: Some(ServiceRule::ClaimsEqual(
                ClaimPath::claim("sub"),
                ClaimPath::claim("client_id"),
            )),
            ..IdentityMapping::default()
        };
        let kind = |mapping: &IdentityMapping, payload: &serde_json::Value| {
            let payload = Object::borrow(payload.as_object().unwrap());
            mapping.identity(&payload, "iss").unwrap().kind
        };
        assert_eq!(kind(&mapping, &machine), IdentityKind::Service);
        assert_eq!(kind(&mapping, &other), IdentityKind::User);
        mapping.unmarked = IdentityKind::Unknown;
        assert_eq!(kind(&mapping, &machine), IdentityKind::Service);
        assert_eq!(kind(&mapping, &other), IdentityKind::Unknown);
        let serialised = serde_json::to_value(IdentityKind::Unknown).unwrap();
        assert_eq!(serialised, json!("unknown"));
    }

    #[test]
    fn claim_in_and_not() {
        let holds = |rule: &ServiceRule, payload: serde_json::Value| {
            rule.holds(&Object::borrow(payload.as_object().unwrap()))
        };
        let among = ServiceRule::ClaimIn(ClaimPath::claim("client_id"), ClaimPath::claim("aud"));
        assert!(holds(&among, json!({"client_id": "c", "aud": ["p", "c"]})));
        assert!(holds(&among, json!({"client_id": "c", "aud": "c"})));
        for not_among in [
            json!({"client_id": "c", "aud": ["p"]}),
            json!({"client_id": "c", "aud": "p"}),
            json!({"client_id": "c"}),
            json!({"client_id": "", "aud": [""]}),
            json!({"client_id": 1, "aud": [1]}),
            json!({"aud": ["c"]}),
        ] {
            assert!(!holds(&among, not_among.clone()), "{not_among}");
        }
        let auth0_machine = ServiceRule::ClaimIsClaimWithSuffix(
            ClaimPath::claim("sub"),
            ClaimPath::claim("azp"),
            "@clients".to_owned(),
        );
        assert!(holds(
            &auth0_machine,
            json!({"sub": "abc@clients", "azp": "abc"})
        ));
        for person in [
            json!({"sub": "samlp|acme-corp|ops@clients", "azp": "abc"}),
            json!({"sub": "xabc@clients", "azp": "abc"}),
            json!({"sub": "abc@clients"}),
            json!({"sub": "@clients", "azp": ""}),
            json!({"sub": "abc", "azp": "abc"}),
        ] {
            assert!(!holds(&auth0_machine, person.clone()), "{person}");
        }
        let verified = ServiceRule::ClaimIsTrue(ClaimPath::claim("email_verified"));
        assert!(holds(&verified, json!({"email_verified": true})));
        for not_true in [
            json!({"email_verified": "true"}),
            json!({"email_verified": false}),
            json!({}),
        ] {
            assert!(!holds(&verified, not_true.clone()), "{not_true}");
        }
        let not = ServiceRule::Not(Box::new(among));
        assert!(holds(&not, json!({"client_id": "c", "aud": ["p"]})));
        assert!(!holds(&not, json!({"client_id": "c", "aud": ["c"]})));
    }
}
