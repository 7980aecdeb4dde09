//! The provider-normalised caller: who, from where, with which roles and scopes.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claim_path::{ClaimPath, Separator};

/// Whether the caller is a person or a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person signed in through the provider.
    #[default]
    User,
    /// A machine credential, such as a Cloudflare Access service token.
    Service,
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
    /// Roles from the provider's role claims, plus any a role resolver added for this request.
    pub roles: BTreeSet<String>,
    /// Scopes or permissions granted to the token.
    pub scopes: BTreeSet<String>,
    /// Person or machine.
    pub kind: IdentityKind,
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
}

/// When a token stands for a machine rather than a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRule {
    /// The claim is a non-empty string, e.g. Cloudflare's `common_name` on service tokens. When
    /// `sub` is empty the claim's value becomes the subject.
    ClaimPresent(ClaimPath),
    /// The claim equals the value, e.g. Entra's `idtyp` = `app`.
    ClaimEquals(ClaimPath, String),
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

/// Where a provider keeps roles, scopes, e-mail and the machine marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMapping {
    pub(crate) roles: Vec<NameClaim>,
    pub(crate) scopes: Vec<NameClaim>,
    pub(crate) email: ClaimPath,
    pub(crate) service: Option<ServiceRule>,
}

impl Default for IdentityMapping {
    fn default() -> Self {
        IdentityMapping {
            roles: vec![NameClaim::new(ClaimPath::claim("roles"), Separator::None)],
            scopes: vec![
                NameClaim::new(ClaimPath::claim("scope"), Separator::Space),
                NameClaim::new(ClaimPath::claim("scp"), Separator::Space),
            ],
            email: ClaimPath::claim("email"),
            service: None,
        }
    }
}

impl IdentityMapping {
    /// Builds the identity of a verified payload.
    pub(crate) fn identity(&self, payload: &Map<String, Value>, issuer: &str) -> Identity {
        let collect = |claims: &[NameClaim]| {
            claims
                .iter()
                .flat_map(|claim| claim.path.names_split(payload, claim.separator))
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
        };
        let text = |path: &ClaimPath| {
            path.lookup(payload)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let sub = payload
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();

        let (kind, fallback_subject) = match &self.service {
            Some(ServiceRule::ClaimPresent(path)) => match text(path) {
                Some(value) => (IdentityKind::Service, Some(value)),
                None => (IdentityKind::User, None),
            },
            Some(ServiceRule::ClaimEquals(path, expected)) => {
                if text(path) == Some(expected.as_str()) {
                    (IdentityKind::Service, None)
                } else {
                    (IdentityKind::User, None)
                }
            }
            None => (IdentityKind::User, None),
        };
        let subject = match (sub, fallback_subject) {
            ("", Some(fallback)) => fallback,
            (sub, _) => sub,
        };

        Identity {
            subject: subject.to_owned(),
            issuer: issuer.to_owned(),
            email: text(&self.email).map(str::to_owned),
            roles: collect(&self.roles),
            scopes: collect(&self.scopes),
            kind,
        }
    }
}
