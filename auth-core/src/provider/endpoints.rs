//! Where clients obtain tokens for a provider: for API documentation (OpenAPI security schemes),
//! never for verification.
//!
//! It lives in the framework-free core because it is provider knowledge, like the issuer and key
//! locations beside it: a preset knows where Keycloak's or Entra's authorize and token endpoints
//! are, and the web layer only renders it. Otherwise the core holds no HTTP concern: no status
//! codes, which are `auth-actix`'s rendering of the error table.

/// Where a provider's clients get tokens, as far as the preset knows it (how they send them is
/// the provider's [`TokenSource`](crate::TokenSource) list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TokenEndpoints {
    /// The OpenID Connect discovery document.
    pub openid_connect_url: Option<String>,
    /// The OAuth 2.0 authorization endpoint (authorization code flow with PKCE).
    pub authorization_url: Option<String>,
    /// The OAuth 2.0 token endpoint.
    pub token_url: Option<String>,
}

impl TokenEndpoints {
    pub(crate) fn oauth(discovery: String, authorization: String, token: String) -> TokenEndpoints {
        TokenEndpoints {
            openid_connect_url: Some(discovery),
            authorization_url: Some(authorization),
            token_url: Some(token),
        }
    }

    pub(crate) fn map_urls(self, moved: impl Fn(&str) -> String) -> TokenEndpoints {
        TokenEndpoints {
            openid_connect_url: self.openid_connect_url.as_deref().map(&moved),
            authorization_url: self.authorization_url.as_deref().map(&moved),
            token_url: self.token_url.as_deref().map(&moved),
        }
    }
}
