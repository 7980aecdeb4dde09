//! Opaque tokens, checked with their issuer by RFC 7662 introspection: Zitadel's default "Bearer
//! Token" type, Okta's org authorization server, oidc-provider's `opaque` format. (Auth0 has no
//! introspection endpoint: its opaque tokens are for its own `/userinfo` alone.)
//!
//! The API authenticates to the introspection endpoint as a client of the issuer
//! (`client_secret_basic`, `client_secret_post`, or `private_key_jwt` per RFC 7523, which is how a
//! Zitadel API application with a JSON key file signs in). Only `active: true` grants access; the
//! response's `iss`, `aud`, `exp`, `nbf` and scopes are then checked as a JWT's claims would be,
//! and roles and identity come from the same claim mapping.
//!
//! Credentials the issuer refuses are a setting to fix, not an outage: the startup probe
//! ([`Verifier::warm_up`](crate::Verifier::warm_up)) stops on them, and at request time they are
//! their own refusal ([`AuthError::IntrospectionUnauthorized`]), counted and reported in readiness
//! apart from an unreachable endpoint.

pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod client_key;
pub(crate) mod path;
pub(crate) mod signed;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::ConfigError;
use client_key::ClientKey;

/// Default lifetime of a cached answer for an active token (bounded by the token's own `exp`).
pub const DEFAULT_INTROSPECTION_TTL: Duration = Duration::from_secs(60);

/// How a provider's opaque tokens are introspected. Give it to
/// [`Provider::introspection`](crate::Provider::introspection).
///
/// ```
/// use std::time::Duration;
///
/// use auth_core::{Introspection, Provider, Verifier};
///
/// let provider = Provider::oidc("https://issuer.example.com")
///     .audience("orders-api")
///     .introspection(
///         Introspection::client_secret_basic("orders-api", "secret")
///             .cache_ttl(Duration::from_secs(30)),
///     );
/// assert!(Verifier::new(provider).is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Introspection {
    pub(crate) endpoint: Option<String>,
    pub(crate) client: ClientAuth,
    pub(crate) cache_ttl: Duration,
    pub(crate) inactive_ttl: Duration,
    pub(crate) all_tokens: bool,
    /// The start of every opaque token this provider issues, which routes them here alone.
    pub(crate) token_prefix: Option<String>,
    /// Clients whose tokens' answers may leave out `aud`
    /// ([`Introspection::accept_missing_audience_for_clients`]).
    pub(crate) audience_less_clients: Vec<String>,
    /// The setting the credentials came from, when not the constructor (a Zitadel key file).
    pub(crate) credentials_source: Option<String>,
}

/// How the API authenticates to the introspection endpoint.
#[derive(Clone, Debug)]
pub(crate) enum ClientAuth {
    Basic { client_id: String, secret: Secret },
    Post { client_id: String, secret: Secret },
    PrivateKeyJwt { client_id: String, key: ClientKey },
}

/// A client secret, kept out of `Debug` output.
#[derive(Clone)]
pub(crate) struct Secret(Arc<str>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Introspection {
    fn new(client: ClientAuth) -> Introspection {
        Introspection {
            endpoint: None,
            client,
            cache_ttl: DEFAULT_INTROSPECTION_TTL,
            inactive_ttl: Duration::from_secs(5),
            all_tokens: false,
            token_prefix: None,
            audience_less_clients: Vec::new(),
            credentials_source: None,
        }
    }

    /// Authenticates with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1).
    pub fn client_secret_basic(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        let secret = Secret(Arc::from(secret.into()));
        Introspection::new(ClientAuth::Basic {
            client_id: client_id.into(),
            secret,
        })
    }

    /// Authenticates with the secret in the form (`client_secret_post`).
    pub fn client_secret_post(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        let secret = Secret(Arc::from(secret.into()));
        Introspection::new(ClientAuth::Post {
            client_id: client_id.into(),
            secret,
        })
    }

    /// Authenticates with a JWT signed by the client's own key (`private_key_jwt`, RFC 7523): `iss`
    /// and `sub` the client ID, `aud` the issuer, a minute's lifetime and a fresh `jti`.
    pub fn private_key_jwt(client_id: impl Into<String>, key: ClientKey) -> Self {
        Introspection::new(ClientAuth::PrivateKeyJwt {
            client_id: client_id.into(),
            key,
        })
    }

    /// Uses this endpoint instead of discovery's `introspection_endpoint`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// How long an answer for an active token is reused before asking again (default 60 s; never
    /// past the token's `exp`). A token revoked at the issuer stops working within this time.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How long a token found inactive (revoked, expired, unknown) is refused without asking again
    /// (default 5 s), so one bad token replayed cannot make every request an introspection call.
    pub fn inactive_ttl(mut self, ttl: Duration) -> Self {
        self.inactive_ttl = ttl;
        self
    }

    /// Introspects this provider's JWTs too, after their signature verifies: every token is then
    /// checked with the issuer (within [`Introspection::cache_ttl`]), so one revoked there stops
    /// working even before it expires. Opaque tokens are introspected either way.
    ///
    /// The answer decides whether the token still stands and may add claims the token leaves out
    /// (roles, which Keycloak's lightweight access tokens omit), but it never takes away what the
    /// signed token says of itself:
    /// - `cnf` (its DPoP key), `aud`, `azp`, `sub`, `iss` and `jti`: where the answer leaves one
    ///   out, the token's applies; where both carry one, they must agree, or the token is refused
    ///   ([`AuthError::InvalidClaim`](crate::AuthError::InvalidClaim) naming the claim and the
    ///   contradiction). `cnf` agrees when both name the same `jkt` (or neither names one); `aud`
    ///   when both hold the same set of audiences, a string counting as a set of one, order and
    ///   repeats aside; the others when equal. So an answer without `cnf` never turns a DPoP-bound
    ///   token into a bearer token.
    /// - `exp` and `iat`: the earlier of the two, so an answer can neither lengthen the token's
    ///   life nor make it look issued after a [revocation](crate::Revocations::revoke_subject).
    pub fn all_tokens(mut self) -> Self {
        self.all_tokens = true;
        self
    }

    /// Sends this provider only the opaque tokens that start with `prefix` (Zitadel's, Okta's or
    /// your own issuer's token format), so that with several introspecting providers
    /// ([`Verifier::any_of`](crate::Verifier::any_of)) none is ever sent another's tokens.
    ///
    /// An opaque token goes to one provider only: the one whose prefix it starts with, else the
    /// one introspecting provider without a prefix (which takes the tokens no prefix claims),
    /// else none: it is refused as malformed without any network call. With two or more
    /// introspecting providers, a verifier will not start unless their tokens can be told apart:
    /// at most one of them goes without a prefix, and no prefix starts another. A single
    /// introspecting provider needs none; given one, it is still only sent tokens that carry it.
    /// JWTs go by their `iss` (to the provider whose keys verify them), whatever the prefix.
    ///
    /// ```
    /// use auth_core::{Introspection, Provider, Verifier};
    ///
    /// let zitadel = Provider::oidc("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .introspection(Introspection::client_secret_basic("orders-api", "s1").token_prefix("zt_"));
    /// let partner = Provider::oidc("https://sso.partner.example")
    ///     .audience("orders-api")
    ///     .introspection(Introspection::client_secret_basic("orders-api", "s2"));
    /// assert!(Verifier::any_of([zitadel, partner.clone()]).is_ok());
    ///
    /// // Two providers that would both be sent every opaque token: refused at startup.
    /// let unprefixed = Provider::oidc("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .introspection(Introspection::client_secret_basic("orders-api", "s1"));
    /// let error = Verifier::any_of([unprefixed, partner]).unwrap_err();
    /// assert_eq!(error.setting, "Introspection::token_prefix");
    /// ```
    pub fn token_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.token_prefix = Some(prefix.into());
        self
    }

    /// Accepts an answer that carries no `aud` when its `client_id` is one of `clients`: for
    /// issuers whose introspection answers never name an audience (RFC 7662 makes `aud` optional),
    /// such as LemonLDAP::NG, whose answers name the relying party that obtained the token in
    /// `client_id` instead. Without it, such answers are refused whenever the provider checks an
    /// audience (401, logged as "the introspection answer carries no `aud`"), since nothing would
    /// say the token was meant for this API.
    ///
    /// Name only the clients that obtain tokens for this API: a token another client obtained
    /// for another API of the same issuer would be accepted here too. Answers that carry `aud` are
    /// checked against the audience as always, and signed JWTs (under
    /// [`Introspection::all_tokens`]) keep their own `aud`, whatever this says.
    ///
    /// ```
    /// use auth_core::{Introspection, Provider, Verifier};
    ///
    /// // LemonLDAP::NG: the API's own relying party and the web app's obtain its tokens.
    /// let provider = Provider::oidc("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .introspection(
    ///         Introspection::client_secret_basic("orders-api", "secret")
    ///             .accept_missing_audience_for_clients(["orders-web", "orders-api"]),
    ///     );
    /// assert!(Verifier::new(provider).is_ok());
    /// ```
    pub fn accept_missing_audience_for_clients<I, S>(mut self, clients: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience_less_clients = clients.into_iter().map(Into::into).collect();
        self
    }

    /// The setting holding the client credentials, for errors and logs: the Zitadel key file, or
    /// the constructor with the client ID (never the secret).
    pub(crate) fn credentials(&self) -> String {
        if let Some(source) = &self.credentials_source {
            return source.clone();
        }
        match &self.client {
            ClientAuth::Basic { client_id, .. } => {
                format!("Introspection::client_secret_basic({client_id:?}, ..)")
            }
            ClientAuth::Post { client_id, .. } => {
                format!("Introspection::client_secret_post({client_id:?}, ..)")
            }
            ClientAuth::PrivateKeyJwt { client_id, .. } => {
                format!("Introspection::private_key_jwt({client_id:?}, ..)")
            }
        }
    }

    /// What to check when the issuer refuses the credentials.
    fn credentials_hint(&self) -> String {
        match &self.client {
            ClientAuth::PrivateKeyJwt { client_id, key } if self.credentials_source.is_some() => {
                let kid = key.kid.as_deref().unwrap_or_default();
                format!(
                    "check that this key (keyId {kid}) is still listed under the API \
                     application's Keys in the Zitadel console (a deleted or expired key is \
                     refused), that the application (client ID {client_id}) authenticates with \
                     JWT (Private Key JWT), and that the file comes from this issuer's instance"
                )
            }
            ClientAuth::PrivateKeyJwt { client_id, key } => {
                let kid = key.kid.as_deref().unwrap_or("none");
                format!(
                    "check that the issuer holds this key's public key (kid {kid}) for client \
                     {client_id:?}, which must authenticate with private_key_jwt"
                )
            }
            ClientAuth::Basic { client_id, .. } | ClientAuth::Post { client_id, .. } => {
                let method = match self.client {
                    ClientAuth::Post { .. } => "client_secret_post",
                    _ => "client_secret_basic",
                };
                format!(
                    "check that client {client_id:?} exists at the issuer, authenticates with \
                     {method}, and that the secret is the one the issuer holds for it now (a \
                     rotated secret is refused)"
                )
            }
        }
    }

    /// Whether an opaque token may be sent to this provider by its prefix: `Some(true)` if it
    /// carries the configured prefix, `Some(false)` if not, `None` without a prefix configured.
    pub(crate) fn claims_token(&self, token: &str) -> Option<bool> {
        self.token_prefix
            .as_deref()
            .map(|prefix| token.starts_with(prefix))
    }

    pub(crate) fn client_id(&self) -> &str {
        match &self.client {
            ClientAuth::Basic { client_id, .. }
            | ClientAuth::Post { client_id, .. }
            | ClientAuth::PrivateKeyJwt { client_id, .. } => client_id,
        }
    }

    pub(crate) fn validate(&self, provider: &str) -> Result<(), ConfigError> {
        let setting = format!("{provider}: introspection");
        if self.client_id().trim().is_empty() {
            return Err(ConfigError::new(setting, "the client ID is empty"));
        }
        if let ClientAuth::Basic { secret, .. } | ClientAuth::Post { secret, .. } = &self.client
            && secret.0.is_empty()
        {
            return Err(ConfigError::new(setting, "the client secret is empty"));
        }
        let hour = Duration::from_secs(3600);
        if self.cache_ttl > hour || self.inactive_ttl > hour {
            return Err(ConfigError::new(
                setting,
                "cache_ttl and inactive_ttl are at most an hour: a revoked token must stop working",
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            crate::keys::issuer_url::checked(
                &format!("{provider}: introspection endpoint"),
                endpoint,
            )?;
        }
        if self
            .audience_less_clients
            .iter()
            .any(|client| client.trim().is_empty())
        {
            return Err(ConfigError::new(
                format!("{provider}: Introspection::accept_missing_audience_for_clients"),
                "a client ID is empty: name the clients whose tokens this API accepts",
            ));
        }
        if self.token_prefix.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::new(
                format!("{provider}: Introspection::token_prefix"),
                "the prefix is empty, which every token starts with: give the start of this \
                 issuer's opaque tokens, or no prefix at all",
            ));
        }
        Ok(())
    }
}

/// Refuses introspecting providers whose opaque tokens cannot be told apart, so that each token is
/// sent to one issuer only and never shown to another: at most one goes without a token prefix,
/// and no prefix starts another. `providers` are those that introspect, each a name for the message
/// and its prefix.
pub(crate) fn check_routing(providers: &[(String, Option<String>)]) -> Result<(), ConfigError> {
    if providers.len() < 2 {
        return Ok(());
    }
    let setting = "Introspection::token_prefix";
    let unprefixed: Vec<&str> = providers
        .iter()
        .filter(|(_, prefix)| prefix.is_none())
        .map(|(name, _)| name.as_str())
        .collect();
    if let [first, second, ..] = unprefixed[..] {
        return Err(ConfigError::new(
            setting,
            format!(
                "{first} and {second} both introspect opaque tokens and neither names a token \
                 prefix, so nothing tells whose an opaque token is and one issuer would be sent \
                 the other's tokens: give each issuer's opaque tokens their prefix with \
                 Introspection::token_prefix(\"..\") (one provider may go without, and takes the \
                 tokens no prefix claims)"
            ),
        ));
    }
    for (i, (name, prefix)) in providers.iter().enumerate() {
        for (other_name, other) in &providers[i + 1..] {
            let (Some(prefix), Some(other)) = (prefix, other) else {
                continue;
            };
            if prefix.starts_with(other) || other.starts_with(prefix) {
                return Err(ConfigError::new(
                    setting,
                    format!(
                        "{name}'s token prefix {prefix:?} and {other_name}'s {other:?} overlap \
                         (one starts the other), so a token could be either's: give prefixes \
                         that do not start one another"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A Zitadel key file, as the console downloads it for an API application with "JWT (Private Key
/// JWT)" authentication: `{"type": "application", "keyId", "key", "appId", "clientId"}`.
pub(crate) fn zitadel_key_file(path_or_contents: &str) -> Result<Introspection, ConfigError> {
    let setting = "Provider::zitadel_key_file";
    let contents = if path_or_contents.trim_start().starts_with('{') {
        path_or_contents.to_owned()
    } else {
        std::fs::read_to_string(path_or_contents).map_err(|err| {
            ConfigError::new(setting, format!("cannot read {path_or_contents:?}: {err}"))
        })?
    };
    let file: Value = serde_json::from_str(&contents).map_err(|err| {
        ConfigError::new(
            setting,
            format!("not a Zitadel key file (JSON expected): {err}"),
        )
    })?;
    let text = |name: &str| {
        file.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let (Some(key_id), Some(key), Some(client_id)) = (text("keyId"), text("key"), text("clientId"))
    else {
        return Err(ConfigError::new(
            setting,
            "the key file needs keyId, key and clientId: download it from the API application's \
             Keys section (authentication method JWT, Private Key JWT)",
        ));
    };
    let key = ClientKey::from_pem(key, Some(key_id))
        .map_err(|err| ConfigError::new(setting, format!("the key file's key: {}", err.problem)))?;
    let mut introspection = Introspection::private_key_jwt(client_id, key);
    introspection.credentials_source = Some(if contents == path_or_contents {
        format!("Provider::zitadel_key_file(<contents of client {client_id}>)")
    } else {
        format!("Provider::zitadel_key_file({path_or_contents:?})")
    });
    Ok(introspection)
}
