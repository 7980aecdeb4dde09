//! Who the token speaks for: the provider-normalised caller (who, from where, with which roles and
//! scopes), the mapping that reads it from a provider's claims, the machine test, the
//! organisation the caller acts in, and how the caller authenticated.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub(crate) mod authentication;
pub(crate) mod mapping;
pub(crate) mod organization;
pub(crate) mod service_marker;

use authentication::Authentication;
use organization::Organization;

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
    /// How and when the caller authenticated (`acr`, `amr`, `auth_time`; RFC 9470 §6), from the
    /// token or the introspection answer; `None` when it says none of them. Step-up guards
    /// (`Rule::acr`, `#[require_acr]`) check it. Serialised only when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
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
