//! Why a request was refused, and how that maps onto the public error table.

use std::time::Duration;

/// The public outcome of a refusal: one row of the error table, safe to show to any client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No token was sent (401).
    Unauthorized,
    /// A token was sent but is not acceptable (401).
    InvalidToken,
    /// The token's `exp` has passed, leeway included (401).
    TokenExpired,
    /// The caller is authenticated but lacks a role or scope (403).
    Forbidden,
    /// No verification keys can be obtained from the issuer, or roles cannot be resolved (503).
    AuthUnavailable,
    /// The DPoP proof is missing, malformed, or not for this request (401).
    InvalidDpopProof,
    /// The DPoP proof lacks the server nonce this API requires, or carries a stale one; the
    /// response's `DPoP-Nonce` header holds a fresh one (401).
    UseDpopNonce,
    /// The token's authentication is not strong or recent enough for the route: its `acr` is not
    /// one the route accepts, or its `auth_time` is older than the route's `max_age` (RFC 9470
    /// §3); the challenge names what would do (401).
    InsufficientAuthentication,
    /// The server is misconfigured or an internal step failed (500).
    Internal,
}

impl ErrorCode {
    /// The machine-readable code in the JSON body, e.g. `INVALID_TOKEN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::InvalidToken => "INVALID_TOKEN",
            ErrorCode::TokenExpired => "TOKEN_EXPIRED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::AuthUnavailable => "AUTH_UNAVAILABLE",
            ErrorCode::InvalidDpopProof => "INVALID_DPOP_PROOF",
            ErrorCode::UseDpopNonce => "USE_DPOP_NONCE",
            ErrorCode::InsufficientAuthentication => "INSUFFICIENT_USER_AUTHENTICATION",
            ErrorCode::Internal => "INTERNAL_ERROR",
        }
    }

    /// The message shown to the client: fixed text that never echoes the token or an internal
    /// cause.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "Authentication required",
            ErrorCode::InvalidToken => "The access token is invalid",
            ErrorCode::TokenExpired => "The access token has expired",
            ErrorCode::Forbidden => "You do not have permission to access this resource",
            ErrorCode::AuthUnavailable => "Authentication is temporarily unavailable",
            ErrorCode::InvalidDpopProof => "The DPoP proof is invalid",
            ErrorCode::UseDpopNonce => "Retry with the DPoP nonce this response carries",
            ErrorCode::InsufficientAuthentication => {
                "A stronger or more recent sign-in is required"
            }
            ErrorCode::Internal => "Internal server error",
        }
    }
}

/// A token segment or header that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not exactly three dot-separated segments (JWE and unsecured JWS included).
    Segments,
    /// A segment is empty or holds characters outside the base64url alphabet.
    Base64,
    /// The header is not a JSON object of the expected shape.
    Header,
    /// The payload is not a JSON object.
    Payload,
}

/// Why a token or request was refused. Each variant maps onto one [`ErrorCode`].
///
/// `Display` gives the reason for logs; it names claims and settings but never holds the token or
/// its signature. Clients see [`ErrorCode::message`] instead.
///
/// Match on the variant to tell reasons apart, and on [`AuthError::code`] to answer: the code
/// decides the status and the client's message. New reasons may come (`#[non_exhaustive]`), so a
/// match on the variant ends with an arm for the rest; a new reason still maps onto a code.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{AuthError, ErrorCode, StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let verifier = Verifier::new(issuer.provider())?;
/// let token = issuer.token().audience("another-api").sign();
/// let refusal = verifier.verify::<StandardClaims>(&token).await.unwrap_err();
///
/// // The reason, for logs: a token minted for another API.
/// match &refusal {
///     AuthError::InvalidAudience { received, .. } => assert!(received.contains("another-api")),
///     other => panic!("expected a wrong audience, got {other}"),
/// }
/// // The answer, for the client: a status, a code and a fixed message.
/// let status = match refusal.code() {
///     ErrorCode::Unauthorized
///     | ErrorCode::InvalidToken
///     | ErrorCode::TokenExpired
///     | ErrorCode::InvalidDpopProof
///     | ErrorCode::UseDpopNonce
///     | ErrorCode::InsufficientAuthentication => 401,
///     ErrorCode::Forbidden => 403,
///     ErrorCode::AuthUnavailable => 503,
///     ErrorCode::Internal => 500,
/// };
/// assert_eq!((status, refusal.code().as_str()), (401, "INVALID_TOKEN"));
/// assert_eq!(refusal.code().message(), "The access token is invalid");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token was found in any configured source.
    #[error("no token in the request")]
    MissingToken,
    /// The token is longer than the configured limit.
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the token sent.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {0:?}")]
    Malformed(Malformed),
    /// The token is no JWT but looks opaque (one segment, or five: an encrypted JWE, as Auth0's
    /// opaque tokens are), and no configured provider introspects it. The hint says how to get a
    /// token this API can verify.
    #[error("not a JWT: an opaque token; {0}")]
    OpaqueToken(&'static str),
    /// The header names an algorithm that is unknown, `none`, HMAC, or outside the allow-list or
    /// the key's.
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// The header carries a key or key reference (`jwk`, `jku`, `x5u`, `x5c`), which is never
    /// trusted.
    #[error("forbidden header parameter `{0}`")]
    ForbiddenHeader(&'static str),
    /// The header lists `crit` extensions, none of which this verifier implements.
    #[error("unsupported critical header parameter")]
    UnknownCritical,
    /// The token's `iss` is not one of the configured issuers.
    #[error("issuer {iss:?} is not configured; accepted: {accepted}")]
    UnknownIssuer {
        /// The unverified `iss` the token claims (at most 200 bytes of it).
        iss: String,
        /// The issuers the verifier accepts.
        accepted: String,
    },
    /// No key in the issuer's key set matches the token's `kid` (or, without a `kid`, its
    /// algorithm).
    #[error("no matching key")]
    UnknownKey,
    /// A multi-tenant (template) provider's signing key names its issuer in the JWKS, as Entra's
    /// shared key set does, and that issuer, with `{tenantid}` filled in from the token, is not the
    /// token's `iss`.
    #[error("signing key belongs to another issuer")]
    KeyIssuerMismatch,
    /// The token is of another kind than the provider accepts here: an ID token, a refresh or
    /// logout token, a DPoP proof, a Clerk JWT template token the API did not opt into, a pending
    /// session.
    #[error("not an access token this API accepts: {0}")]
    WrongTokenKind(String),
    /// The token has no `kid` and several keys could verify it.
    #[error("token has no kid and several keys fit")]
    AmbiguousKey,
    /// The issuer says the (opaque) token is not active: revoked, expired, unknown to it, or issued
    /// to another client.
    #[error("token is not active")]
    InactiveToken,
    /// The token was revoked (by `jti`, or all of its subject's tokens issued before a time).
    #[error("token revoked")]
    Revoked,
    /// The introspection endpoint cannot answer for now.
    #[error("introspection unavailable: {reason}")]
    IntrospectionUnavailable {
        /// What went wrong, for logs (URL and cause, never a token).
        reason: String,
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// The introspection endpoint refuses this API's own client credentials (HTTP 401, or 400
    /// `invalid_client` / `unauthorized_client`): a wrong or unregistered key file or secret, which
    /// the operator must fix, not an outage that passes.
    #[error("introspection refuses this API's client credentials ({setting}): {reason}")]
    IntrospectionUnauthorized {
        /// The setting holding the credentials: the Zitadel key file's path, or the client ID.
        setting: String,
        /// The endpoint, the issuer's answer, and what to check.
        reason: String,
        /// When a retry may succeed (once the credentials are fixed).
        retry_after: Duration,
    },
    /// The issuer does not introspect this kind of token (HTTP 400 `unsupported_token_type`), as
    /// some refuse signed JWTs that [`Introspection::all_tokens`](crate::Introspection::all_tokens)
    /// sends them: a configuration that cannot work, not an outage that passes.
    #[error("introspection does not take this kind of token: {reason}")]
    IntrospectionUnsupportedToken {
        /// The endpoint, the issuer's answer, and what to change.
        reason: String,
        /// When a retry may succeed (once the configuration is fixed).
        retry_after: Duration,
    },
    /// A store cannot vouch for the request: the shared revocation list is not loaded (yet, or
    /// any more: silent past its heartbeat bound, or a revocation did not fit), so a token revoked
    /// elsewhere cannot be told apart; or a DPoP proof cannot be remembered (Redis unreachable, the
    /// in-memory replay store full, or the client's key over its share), so its replay could not
    /// be refused later.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// The DPoP proof is missing, malformed, signed badly, or not for this request, token or
    /// time (a replayed proof is [`AuthError::DpopReplay`]).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(String),
    /// A DPoP proof cannot be checked for this request: without a public origin, only requests
    /// from this machine or to listed hosts are taken, as the URL would come from the client's
    /// `Host` header.
    #[error("DPoP not accepted for this host: {0}")]
    DpopHostNotAllowed(String),
    /// A token read from a cookie was sent with a request from another site (or an origin the
    /// API does not list), so it counts for nothing: browsers attach cookies to any site's
    /// requests.
    #[error("cookie token not accepted: {0}")]
    CrossSiteCookie(String),
    /// The DPoP proof was used before (within its acceptance window, on any instance sharing the
    /// replay store).
    #[error("DPoP proof replayed")]
    DpopReplay,
    /// The DPoP proof lacks the server nonce this API requires, or carries a stale one.
    #[error("DPoP nonce required")]
    UseDpopNonce,
    /// The token's binding does not hold: a DPoP-bound token sent as a bearer token, a token sent
    /// with the DPoP scheme that is not bound, a proof by another key, or a bearer token where the
    /// provider requires DPoP.
    #[error("token binding: {0}")]
    DpopBinding(String),
    /// The signature does not verify.
    #[error("signature does not verify")]
    InvalidSignature,
    /// `aud` does not hold a configured audience (or, for a provider that names its audience in
    /// another claim, as Cognito's `client_id`, that claim holds none).
    #[error("audience mismatch: the token carries {received}; accepted: {expected}")]
    InvalidAudience {
        /// The audiences the provider accepts (at most 200 bytes of them).
        expected: String,
        /// What the token carries, unverified, with the claim's name: `aud ["other-api"]`, `no
        /// aud` (at most 200 bytes).
        received: String,
    },
    /// The token verified, but is not for the protected resource the request addresses (RFC 8707
    /// §2): its provider does not serve that resource, or its `aud` names another resource of the
    /// same server; or, outside every resource's path, a token bound to a resource rather than to
    /// one of its provider's other audiences. See
    /// [`Verifier::check_resource`](crate::Verifier::check_resource).
    #[error("token is not for {}", resource_named(.resource.as_deref()))]
    WrongResource {
        /// The canonical URL of the resource the request's path belongs to; `None` for a path
        /// outside every resource.
        resource: Option<String>,
    },
    /// `azp` is missing or not an authorized party.
    #[error("authorized party mismatch: the token carries {received}; accepted: {expected}")]
    InvalidAuthorizedParty {
        /// The authorized parties the provider accepts (at most 200 bytes of them).
        expected: String,
        /// What the token carries, unverified: `azp "https://elsewhere.example.com"` or `no azp`
        /// (at most 200 bytes).
        received: String,
    },
    /// `exp` has passed (leeway included).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (leeway included).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (leeway included).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// A required claim is absent.
    #[error("missing required claim `{0}`")]
    MissingClaim(String),
    /// A claim has the wrong type or a value that is not accepted.
    #[error("invalid claim `{0}`")]
    InvalidClaim(String),
    /// The token names an organisation the provider's settings do not accept: one outside
    /// [`Provider::accept_organizations`](crate::Provider::accept_organizations), or an Auth0
    /// `org_id` while the API has not said which organisations it accepts.
    #[error("organisation not accepted: {0}")]
    OrganizationNotAccepted(String),
    /// The payload verified but does not deserialise into the application's claims type.
    #[error("claims do not match the expected type: {0}")]
    ClaimsType(String),
    /// No keys can be obtained for the issuer (fetch failing and nothing usable cached).
    #[error("verification keys unavailable: {reason}")]
    KeysUnavailable {
        /// What went wrong, for logs (URL and cause, never a token).
        reason: String,
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// The token's authentication does not meet the route's (RFC 9470 §3): its `acr` is not one
    /// the route accepts, or its `auth_time` is older than the route's `max_age` (leeway
    /// included) or in the future, or the claim the route checks is missing or malformed.
    #[error("insufficient user authentication: {reason}")]
    InsufficientAuthentication {
        /// The authentication context classes the route accepts, in the order it lists them
        /// (empty when it checks recency only): the challenge's `acr_values`.
        acr_values: Vec<String>,
        /// The most seconds since the user authenticated that the route accepts: the challenge's
        /// `max_age`.
        max_age: Option<u64>,
        /// What the token carries against what was required, for logs (at most 200 bytes of the
        /// token's `acr`).
        reason: String,
    },
    /// The caller is authenticated but lacks what the route requires.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Request-scoped roles could not be resolved for now (e.g. the database is down).
    #[error("roles unavailable: {0}")]
    RolesUnavailable(String),
    /// The application is misconfigured or an internal step failed; the reason names the fix.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    /// The public error-table row for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::MissingToken | AuthError::CrossSiteCookie(_) => ErrorCode::Unauthorized,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::Forbidden(_) => ErrorCode::Forbidden,
            AuthError::KeysUnavailable { .. }
            | AuthError::IntrospectionUnavailable { .. }
            | AuthError::IntrospectionUnauthorized { .. }
            | AuthError::IntrospectionUnsupportedToken { .. }
            | AuthError::StoreUnavailable(_)
            | AuthError::RolesUnavailable(_) => ErrorCode::AuthUnavailable,
            AuthError::Internal(_) => ErrorCode::Internal,
            AuthError::InvalidDpopProof(_)
            | AuthError::DpopReplay
            | AuthError::DpopHostNotAllowed(_) => ErrorCode::InvalidDpopProof,
            AuthError::UseDpopNonce => ErrorCode::UseDpopNonce,
            AuthError::InsufficientAuthentication { .. } => ErrorCode::InsufficientAuthentication,
            _ => ErrorCode::InvalidToken,
        }
    }

    /// A short, fixed description for `WWW-Authenticate`'s `error_description` (RFC 6750 §3).
    pub fn description(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "no token",
            AuthError::TooLarge { .. } => "token too large",
            AuthError::Malformed(_) => "malformed token",
            AuthError::OpaqueToken(_) => "opaque token not accepted",
            AuthError::AlgorithmNotAllowed => "algorithm not allowed",
            AuthError::ForbiddenHeader(_) | AuthError::UnknownCritical => "header not accepted",
            AuthError::UnknownIssuer { .. } => "issuer not accepted",
            AuthError::UnknownKey | AuthError::AmbiguousKey | AuthError::KeyIssuerMismatch => {
                "signing key not recognised"
            }
            AuthError::InvalidSignature => "invalid signature",
            AuthError::InactiveToken => "token not active",
            AuthError::Revoked => "token revoked",
            AuthError::IntrospectionUnavailable { .. }
            | AuthError::IntrospectionUnauthorized { .. }
            | AuthError::IntrospectionUnsupportedToken { .. } => "introspection unavailable",
            AuthError::StoreUnavailable(_) => "store unavailable",
            AuthError::InvalidDpopProof(_) => "invalid DPoP proof",
            AuthError::DpopReplay => "DPoP proof replayed",
            AuthError::DpopHostNotAllowed(_) => "DPoP not accepted for this host",
            AuthError::CrossSiteCookie(_) => "cookie not accepted from another site",
            AuthError::UseDpopNonce => "DPoP nonce required",
            AuthError::DpopBinding(_) => "token binding not satisfied",
            AuthError::InvalidAudience { .. } => "audience not accepted",
            AuthError::WrongResource { .. } => "token not issued for this resource",
            AuthError::InvalidAuthorizedParty { .. } => "authorized party not accepted",
            AuthError::Expired => "token expired",
            AuthError::NotYetValid | AuthError::IssuedInFuture => "token not yet valid",
            AuthError::WrongTokenKind(_) => "token kind not accepted",
            AuthError::MissingClaim(_) | AuthError::InvalidClaim(_) | AuthError::ClaimsType(_) => {
                "claims not accepted"
            }
            AuthError::OrganizationNotAccepted(_) => "organization not accepted",
            AuthError::KeysUnavailable { .. } => "keys unavailable",
            AuthError::RolesUnavailable(_) => "roles unavailable",
            AuthError::Internal(_) => "internal error",
            AuthError::Forbidden(_) => "insufficient scope",
            AuthError::InsufficientAuthentication { .. } => {
                "a stronger or more recent authentication is required"
            }
        }
    }

    /// A short, fixed word for metrics and dashboards (a bounded label set): `expired`,
    /// `bad_signature`, `bad_audience`, `unknown_key`, `dpop_replay`, `inactive`, ...
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing",
            AuthError::TooLarge { .. } => "too_large",
            AuthError::Malformed(_) => "malformed",
            AuthError::OpaqueToken(_) => "opaque_token",
            AuthError::AlgorithmNotAllowed => "algorithm",
            AuthError::ForbiddenHeader(_) | AuthError::UnknownCritical => "header",
            AuthError::UnknownIssuer { .. } => "unknown_issuer",
            AuthError::UnknownKey | AuthError::AmbiguousKey => "unknown_key",
            AuthError::KeyIssuerMismatch => "key_issuer",
            AuthError::WrongTokenKind(_) => "wrong_kind",
            AuthError::InactiveToken => "inactive",
            AuthError::Revoked => "revoked",
            AuthError::IntrospectionUnavailable { .. } => "introspection_unavailable",
            AuthError::IntrospectionUnauthorized { .. } => "introspection_unauthorized",
            AuthError::IntrospectionUnsupportedToken { .. } => "introspection_unsupported_token",
            AuthError::StoreUnavailable(_) => "store_unavailable",
            AuthError::InvalidDpopProof(_) => "dpop_proof",
            AuthError::DpopReplay => "dpop_replay",
            AuthError::DpopHostNotAllowed(_) => "dpop_host",
            AuthError::CrossSiteCookie(_) => "cross_site_cookie",
            AuthError::UseDpopNonce => "dpop_nonce",
            AuthError::DpopBinding(_) => "dpop_binding",
            AuthError::InvalidSignature => "bad_signature",
            AuthError::InvalidAudience { .. } => "bad_audience",
            AuthError::WrongResource { .. } => "wrong_resource",
            AuthError::InvalidAuthorizedParty { .. } => "bad_azp",
            AuthError::Expired => "expired",
            AuthError::NotYetValid | AuthError::IssuedInFuture => "not_yet_valid",
            AuthError::MissingClaim(_) | AuthError::InvalidClaim(_) | AuthError::ClaimsType(_) => {
                "claims"
            }
            AuthError::OrganizationNotAccepted(_) => "organization",
            AuthError::KeysUnavailable { .. } => "keys_unavailable",
            AuthError::Forbidden(_) => "forbidden",
            AuthError::InsufficientAuthentication { .. } => "insufficient_authentication",
            AuthError::RolesUnavailable(_) => "roles_unavailable",
            AuthError::Internal(_) => "internal",
        }
    }

    /// For 503 refusals, how long a client should wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AuthError::KeysUnavailable { retry_after, .. }
            | AuthError::IntrospectionUnavailable { retry_after, .. }
            | AuthError::IntrospectionUnauthorized { retry_after, .. }
            | AuthError::IntrospectionUnsupportedToken { retry_after, .. } => Some(*retry_after),
            AuthError::RolesUnavailable(_) | AuthError::StoreUnavailable(_) => {
                Some(Duration::from_secs(1))
            }
            _ => None,
        }
    }
}

/// How [`AuthError::WrongResource`] names the resource in its message.
fn resource_named(resource: Option<&str>) -> String {
    match resource {
        Some(resource) => format!("the resource {resource}"),
        None => "this path, which belongs to no protected resource (the token is bound to one)"
            .to_owned(),
    }
}

/// A setting that cannot work, found when a verifier is built or first reaches its issuer.
///
/// The message names the setting and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    /// The setting at fault, e.g. `Provider::oidc(issuer)` or `audience`.
    pub setting: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(setting: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// Why [`Verifier::prefetch`](crate::Verifier::prefetch) could not load an issuer's keys: an outage
/// the application may start through, or a misconfiguration it should stop on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefetchError {
    /// The issuer did not answer usefully for now (no connection, timeout, 5xx, 429). Requests get
    /// 503 `AUTH_UNAVAILABLE` with `Retry-After` until keys arrive, which the verifier keeps
    /// trying.
    #[error("issuer {issuer} is unreachable for now: {reason}")]
    Unreachable {
        /// The configured issuer.
        issuer: String,
        /// The URL and cause.
        reason: String,
    },
    /// The issuer answered, and the answer cannot work: discovery not found, discovery naming
    /// another issuer, a key set with no usable key, a URL the fetch policy refuses.
    #[error(transparent)]
    Misconfigured(#[from] ConfigError),
}

impl PrefetchError {
    /// Whether the settings, not the network, are at fault: an application should stop rather than
    /// serve.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(self, PrefetchError::Misconfigured(_))
    }
}

/// At most this many bytes of each value a refusal names for the logs.
const MAX_LOGGED: usize = 200;

/// At most [`MAX_LOGGED`] bytes of `value` (a client's, for a refusal's log line), cut at a
/// character boundary.
pub(crate) fn truncated(value: &str) -> String {
    let mut end = value.len().min(MAX_LOGGED);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_onto_the_error_table() {
        assert_eq!(AuthError::MissingToken.code(), ErrorCode::Unauthorized);
        assert_eq!(AuthError::MissingToken.code().as_str(), "UNAUTHORIZED");
        assert_eq!(AuthError::InvalidSignature.code().as_str(), "INVALID_TOKEN");
        assert_eq!(AuthError::Expired.code().as_str(), "TOKEN_EXPIRED");
        assert_eq!(
            AuthError::KeyIssuerMismatch.code().as_str(),
            "INVALID_TOKEN"
        );
        assert_eq!(
            AuthError::Forbidden("role admin".into()).code(),
            ErrorCode::Forbidden
        );
        let down = AuthError::KeysUnavailable {
            reason: "x".into(),
            retry_after: Duration::from_secs(5),
        };
        assert_eq!(down.code(), ErrorCode::AuthUnavailable);
        assert_eq!(down.retry_after(), Some(Duration::from_secs(5)));
    }
}
