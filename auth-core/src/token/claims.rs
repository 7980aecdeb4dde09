//! The verified payload: registered claims, the application's own type, and the identity beside
//! them.

use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::identity::Identity;

/// The `aud` claim: absent, one audience, or several (RFC 7519 §4.1.3 allows both shapes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// No `aud` claim.
    #[default]
    None,
    /// `"aud": "x"`.
    One(String),
    /// `"aud": ["x", "y"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Whether the claim names `audience`.
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|aud| aud == audience)
    }

    /// The audiences, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&String>, &[String]) = match self {
            Audience::None => (None, &[]),
            Audience::One(aud) => (Some(aud), &[]),
            Audience::Many(auds) => (None, auds),
        };
        one.into_iter().chain(many).map(String::as_str)
    }

    fn is_none(&self) -> bool {
        matches!(self, Audience::None)
    }
}

/// The registered claims every provider sends, with everything else in [`StandardClaims::extra`].
///
/// Dates are seconds since the Unix epoch. By the time an application sees this type, `exp`, `nbf`
/// and `iat` have been checked and hold plain integers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StandardClaims {
    /// Issuer.
    #[serde(default)]
    pub iss: String,
    /// Subject; empty when the token has none (as in Cloudflare service tokens).
    #[serde(default)]
    pub sub: String,
    /// Audience.
    #[serde(default, skip_serializing_if = "Audience::is_none")]
    pub aud: Audience,
    /// Expiry.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub exp: Option<i64>,
    /// Not before.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<i64>,
    /// Issued at.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<i64>,
    /// Token identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Authorized party: the client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// E-mail address, when the provider includes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a date that validation has already accepted, truncating a fractional part.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    value
        .map(|value| {
            value
                .as_number()
                .and_then(crate::token::date::numeric_date)
                .ok_or_else(|| serde::de::Error::custom("not a non-negative NumericDate"))
        })
        .transpose()
}

/// A verified token: the payload as the application's type `T`, plus the provider-normalised
/// [`Identity`].
///
/// Dereferences to `T`, so `claims.sub` reads a field of [`StandardClaims`] or of the application's
/// own struct. The identity is shared, not copied, with the verified token it came from.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{Claims, Verifier};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct OrderClaims {
///     sub: String,
///     tenant: String,
/// }
///
/// let issuer = TestIssuer::start().await;
/// let token = issuer.token().subject("ada").claim("tenant", "acme").roles(["admin"]).sign();
/// let claims: Claims<OrderClaims> = Verifier::new(issuer.provider())?.verify(&token).await?;
/// assert_eq!((claims.sub.as_str(), claims.tenant.as_str()), ("ada", "acme"));
/// assert!(claims.identity().has_role("admin"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Claims<T = StandardClaims> {
    claims: T,
    identity: Arc<Identity>,
}

impl<T> Claims<T> {
    /// Pairs a payload with the identity it belongs to.
    pub fn new(claims: T, identity: Arc<Identity>) -> Claims<T> {
        Claims { claims, identity }
    }

    /// The provider-normalised identity of the caller.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The typed payload, giving up the identity.
    pub fn into_inner(self) -> T {
        self.claims
    }

    /// Both parts.
    pub fn into_parts(self) -> (T, Arc<Identity>) {
        (self.claims, self.identity)
    }
}

impl<T> Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn audience_accepts_both_shapes() {
        let one: StandardClaims = serde_json::from_value(json!({"aud": "a"})).unwrap();
        assert!(one.aud.contains("a") && !one.aud.contains("b"));
        let many: StandardClaims = serde_json::from_value(json!({"aud": ["a", "b"]})).unwrap();
        assert!(many.aud.contains("b"));
        let none: StandardClaims = serde_json::from_value(json!({})).unwrap();
        assert_eq!(none.aud.iter().count(), 0);
    }

    #[test]
    fn standard_claims_keep_the_rest() {
        let claims: StandardClaims = serde_json::from_value(json!({
            "iss": "i", "sub": "s", "exp": 10, "iat": 5.9, "org": {"id": 1}
        }))
        .unwrap();
        assert_eq!((claims.exp, claims.iat), (Some(10), Some(5)));
        assert_eq!(claims.extra["org"]["id"], 1);
        let back = serde_json::to_value(&claims).unwrap();
        assert_eq!(back["org"], json!({"id": 1}));
        assert!(back.get("aud").is_none());
    }
}
