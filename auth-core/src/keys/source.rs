//! Where a provider's keys are published: a discovery document or a JWKS URL.

/// Where the provider publishes its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// Read `jwks_uri` from this OpenID Connect discovery document.
    Discovery(String),
    /// Fetch this JWKS URL directly.
    Jwks(String),
}

impl KeySource {
    pub(crate) fn url(&self) -> &str {
        match self {
            KeySource::Discovery(url) | KeySource::Jwks(url) => url,
        }
    }
}
