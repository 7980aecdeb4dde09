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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::error::{AuthError, ConfigError};
use crate::health::{IntrospectionHealth, IntrospectionStatus};
use crate::keys::fetch::{self, FetchError};
use crate::keys::store::KeyStore;

/// Largest introspection response read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Introspection requests in flight at once per provider; more wait their turn, within the timeout.
/// A flood of made-up opaque tokens can thus cost the issuer this much concurrency, not more.
const MAX_IN_FLIGHT: usize = 16;

/// Default lifetime of a cached answer for an active token (bounded by the token's own `exp`).
pub const DEFAULT_INTROSPECTION_TTL: Duration = Duration::from_secs(60);

/// `Retry-After` of a refusal an operator must fix (refused credentials, a token type the issuer
/// does not introspect): retrying sooner cannot help.
const MISCONFIGURED_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Most of an issuer's `error_description` kept for logs.
const MAX_DESCRIPTION_LEN: usize = 200;

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

/// A client's private key for `private_key_jwt`: RSA (signing RS256) or P-256 EC (ES256).
#[derive(Clone)]
pub struct ClientKey {
    pair: Arc<KeyPair>,
    kid: Option<String>,
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.pair {
            KeyPair::Rsa(_) => "RSA",
            KeyPair::Ec(_) => "EC P-256",
        };
        f.debug_struct("ClientKey")
            .field("kind", &kind)
            .field("kid", &self.kid)
            .finish()
    }
}

impl ClientKey {
    /// Reads a PEM private key (PKCS#1 `RSA PRIVATE KEY`, SEC 1 `EC PRIVATE KEY`, or PKCS#8), with
    /// the key ID the issuer registered it under, if any (sent as the assertion's `kid`).
    pub fn from_pem(pem: &str, kid: Option<&str>) -> Result<ClientKey, ConfigError> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;

        let bad = |problem: &str| ConfigError::new("client key", problem.to_owned());
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| {
            bad("not a PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)")
        })?;
        let p256 = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pair = match &der {
            PrivateKeyDer::Pkcs1(key) => {
                RsaKeyPair::from_der(key.secret_pkcs1_der()).map(KeyPair::Rsa)
            }
            PrivateKeyDer::Sec1(key) => {
                EcdsaKeyPair::from_private_key_der(p256, key.secret_sec1_der()).map(KeyPair::Ec)
            }
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der())
                .map(KeyPair::Rsa)
                .or_else(|_| {
                    EcdsaKeyPair::from_pkcs8(p256, key.secret_pkcs8_der()).map(KeyPair::Ec)
                }),
            _ => return Err(bad("unsupported private key format")),
        }
        .map_err(|_| bad("the key is not an RSA (2048 bits or more) or P-256 EC private key"))?;
        Ok(ClientKey {
            pair: Arc::new(pair),
            kid: kid.map(str::to_owned),
        })
    }

    /// A client assertion (RFC 7523 §2.2) for `client_id`, addressed to `audience`.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let rng = SystemRandom::new();
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce)
            .map_err(|_| "no randomness for the assertion's jti")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let alg = match *self.pair {
            KeyPair::Rsa(_) => "RS256",
            KeyPair::Ec(_) => "ES256",
        };
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = kid.as_str().into();
        }
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": URL_SAFE_NO_PAD.encode(nonce),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &*self.pair {
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| "cannot sign the client assertion")?;
                signature
            }
            KeyPair::Ec(pair) => pair
                .sign(&rng, input.as_bytes())
                .map_err(|_| "cannot sign the client assertion")?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
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

/// One provider's introspection at run time: where to ask, how to authenticate, how many at once,
/// and how the endpoint answered last.
pub(crate) struct Introspector {
    pub(crate) config: Introspection,
    client: reqwest::Client,
    keys: Arc<KeyStore>,
    /// The issuer, the audience of client assertions.
    issuer: String,
    timeout: Duration,
    gate: Semaphore,
    /// How long an endpoint that refused this API waits before readiness probes it again.
    recheck_after: Duration,
    state: Mutex<EndpointState>,
    /// A background probe is running (at most one).
    probing: AtomicBool,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How the endpoint answered its last call, for readiness.
struct EndpointState {
    endpoint: Option<String>,
    status: IntrospectionStatus,
    refuses_jwts: bool,
    at: Option<Instant>,
    last_error: Option<String>,
}

/// What the issuer said of a token.
pub(crate) enum Answer {
    /// Active, with the response's claims.
    Active(Map<String, Value>),
    /// Not active: revoked, expired, unknown, or not for this client.
    Inactive,
}

/// Why the startup probe of an endpoint failed.
pub(crate) enum ProbeFailure {
    /// The issuer answered, and the settings cannot work: refused credentials, no endpoint, JWTs
    /// refused under `all_tokens`.
    Misconfigured(ConfigError),
    /// No usable answer for now (URL and cause).
    Unreachable(String),
}

/// A change in how the endpoint stands that an operator must hear of once, not per request.
enum Turn {
    Refused(String),
    Readmitted,
    JwtsRefused(String),
    JwtsTaken,
}

impl Introspector {
    pub(crate) fn new(
        config: Introspection,
        client: reqwest::Client,
        keys: Arc<KeyStore>,
        issuer: String,
        timeout: Duration,
        recheck_after: Duration,
    ) -> Introspector {
        Introspector {
            config,
            client,
            keys,
            issuer,
            timeout,
            gate: Semaphore::new(MAX_IN_FLIGHT),
            recheck_after,
            state: Mutex::new(EndpointState {
                endpoint: None,
                status: IntrospectionStatus::Unchecked,
                refuses_jwts: false,
                at: None,
                last_error: None,
            }),
            probing: AtomicBool::new(false),
        }
    }

    /// The introspection request for `token`: authenticated as the client is configured to be.
    fn request(
        &self,
        endpoint: &str,
        token: &str,
    ) -> Result<(reqwest::RequestBuilder, String), String> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        let mut request = self.client.post(endpoint);
        match &self.config.client {
            ClientAuth::Basic { client_id, secret } => {
                request =
                    request.header(reqwest::header::AUTHORIZATION, basic(client_id, &secret.0));
            }
            ClientAuth::Post { client_id, secret } => {
                form.append_pair("client_id", client_id)
                    .append_pair("client_secret", &secret.0);
            }
            ClientAuth::PrivateKeyJwt { client_id, key } => {
                let assertion = key.assertion(client_id, &self.issuer)?;
                form.append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &assertion)
                .append_pair("client_id", client_id);
            }
        }
        Ok((request, form.finish()))
    }

    /// Asks the issuer about `token`; `signed` says it is a JWT whose signature verified (sent
    /// because of [`Introspection::all_tokens`]). Records how the endpoint answered.
    pub(crate) async fn introspect(&self, token: &str, signed: bool) -> Result<Answer, AuthError> {
        let started = std::time::Instant::now();
        let unavailable = |reason: String| AuthError::IntrospectionUnavailable {
            reason,
            retry_after: Duration::from_secs(5),
        };
        let work = async {
            let _turn = self
                .gate
                .acquire()
                .await
                .map_err(|_| unavailable("closed".into()))?;
            let endpoint = self
                .endpoint()
                .await
                .map_err(|err| unavailable(err.reason))?;
            let (request, body) = self.request(&endpoint, token).map_err(unavailable)?;
            let response = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|err| unavailable(format!("POST {endpoint}: {err}")))?;
            let status = response.status();
            let body = fetch::read_body(response, MAX_RESPONSE_BYTES)
                .await
                .map_err(|err| unavailable(format!("POST {endpoint}: {err}")))?;
            if !status.is_success() {
                return Err(self.refusal(&endpoint, status, &body, signed));
            }
            let mut document: Map<String, Value> = serde_json::from_slice(&body)
                .map_err(|_| unavailable(format!("POST {endpoint}: not a JSON object")))?;
            if document.get("active") != Some(&Value::Bool(true)) {
                return Ok(Answer::Inactive);
            }
            document.remove("active");
            Ok(Answer::Active(document))
        };
        let answer = tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(unavailable(format!(
                    "no introspection answer within {:?}",
                    self.timeout
                )))
            });
        tracing::debug!(
            target: "auth",
            elapsed = ?started.elapsed(),
            active = matches!(answer, Ok(Answer::Active(_))),
            "token introspected"
        );
        self.record(&answer, signed);
        answer
    }

    /// The refusal of a non-2xx answer: refused credentials and a refused token type are settings
    /// to fix, told apart from an outage by the issuer's status and OAuth `error` code.
    fn refusal(
        &self,
        endpoint: &str,
        status: reqwest::StatusCode,
        body: &[u8],
        signed: bool,
    ) -> AuthError {
        let error: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
        let text = |name: &str| {
            error
                .as_ref()
                .and_then(|error| error.get(name))
                .and_then(Value::as_str)
        };
        let code = text("error");
        let mut answer = format!("HTTP {}", status.as_u16());
        if let Some(code) = code {
            answer = format!("{answer} {}", clipped(code));
        }
        if let Some(description) = text("error_description") {
            answer = format!("{answer} ({})", clipped(description));
        }
        let client_error = status.is_client_error();
        if status == reqwest::StatusCode::UNAUTHORIZED
            || (client_error && matches!(code, Some("invalid_client" | "unauthorized_client")))
        {
            return AuthError::IntrospectionUnauthorized {
                setting: self.config.credentials(),
                reason: format!(
                    "POST {endpoint}: {answer}; {}",
                    self.config.credentials_hint()
                ),
                retry_after: MISCONFIGURED_RETRY_AFTER,
            };
        }
        if client_error && code == Some("unsupported_token_type") {
            let reason = if signed {
                format!(
                    "POST {endpoint}: {answer}: the issuer does not introspect signed JWTs, which \
                     Introspection::all_tokens sends it, so every JWT of this issuer is refused; \
                     remove .all_tokens() for it (its JWTs are then verified here alone, and a \
                     revocation at the issuer waits for their exp: keep their lifetime short)"
                )
            } else {
                format!("POST {endpoint}: {answer}: the issuer does not introspect this token")
            };
            return AuthError::IntrospectionUnsupportedToken {
                reason,
                retry_after: MISCONFIGURED_RETRY_AFTER,
            };
        }
        AuthError::IntrospectionUnavailable {
            reason: format!("POST {endpoint}: {answer}"),
            retry_after: Duration::from_secs(5),
        }
    }

    /// Keeps how the endpoint answered, and tells the operator once when it starts or stops
    /// refusing this API.
    fn record(&self, answer: &Result<Answer, AuthError>, signed: bool) {
        let turn = {
            let mut state = self.state();
            state.at = Some(Instant::now());
            let was_refused = state.status == IntrospectionStatus::Unauthorized;
            let mut turn = None;
            match answer {
                Ok(_) => {
                    state.status = IntrospectionStatus::Ok;
                    state.last_error = None;
                    if was_refused {
                        turn = Some(Turn::Readmitted);
                    }
                    if signed && std::mem::take(&mut state.refuses_jwts) {
                        turn = Some(Turn::JwtsTaken);
                    }
                }
                Err(error @ AuthError::IntrospectionUnauthorized { .. }) => {
                    state.status = IntrospectionStatus::Unauthorized;
                    state.last_error = Some(error.to_string());
                    if !was_refused {
                        turn = Some(Turn::Refused(error.to_string()));
                    }
                }
                Err(error @ AuthError::IntrospectionUnsupportedToken { .. }) => {
                    // The issuer took the credentials to answer that.
                    state.status = IntrospectionStatus::Ok;
                    state.last_error = Some(error.to_string());
                    if signed && !std::mem::replace(&mut state.refuses_jwts, true) {
                        turn = Some(Turn::JwtsRefused(error.to_string()));
                    }
                }
                Err(error) => {
                    state.status = IntrospectionStatus::Unreachable;
                    state.last_error = Some(error.to_string());
                }
            }
            turn
        };
        let issuer = &self.issuer;
        match turn {
            Some(Turn::Refused(reason)) => tracing::error!(
                target: "auth",
                %issuer,
                setting = %self.config.credentials(),
                %reason,
                "the introspection endpoint refuses this API's client credentials: opaque tokens \
                 are refused with 503 and readiness fails until they are fixed"
            ),
            Some(Turn::JwtsRefused(reason)) => tracing::error!(
                target: "auth",
                %issuer,
                setting = "Introspection::all_tokens",
                %reason,
                "the issuer does not introspect signed JWTs: every JWT is refused with 503 and \
                 readiness fails while Introspection::all_tokens stays on"
            ),
            Some(Turn::Readmitted) => tracing::info!(
                target: "auth",
                %issuer,
                "the introspection endpoint accepts this API's client credentials again"
            ),
            Some(Turn::JwtsTaken) => tracing::info!(
                target: "auth",
                %issuer,
                "the issuer introspects signed JWTs again"
            ),
            None => {}
        }
    }

    /// Asks the endpoint about tokens that cannot be active, to learn whether the settings work:
    /// a random opaque value proves the credentials (the issuer answers `active: false`); under
    /// [`Introspection::all_tokens`], a JWT-shaped one shows whether it introspects JWTs at all.
    pub(crate) async fn probe(&self) -> Result<(), ProbeFailure> {
        if let Err(err) = self.endpoint().await {
            let failure = if err.definite {
                ProbeFailure::Misconfigured(ConfigError::new("Introspection::endpoint", err.reason))
            } else {
                ProbeFailure::Unreachable(err.reason)
            };
            return Err(failure);
        }
        let mut probes = vec![(random_value(), false)];
        if self.config.all_tokens {
            probes.push((self.jwt_probe(), true));
        }
        for (token, signed) in probes {
            match self.introspect(&token, signed).await {
                Ok(_) => {}
                Err(AuthError::IntrospectionUnauthorized {
                    setting, reason, ..
                }) => {
                    return Err(ProbeFailure::Misconfigured(ConfigError::new(
                        setting,
                        format!(
                            "the introspection endpoint refuses this API's client credentials: \
                             {reason}"
                        ),
                    )));
                }
                Err(AuthError::IntrospectionUnsupportedToken { reason, .. }) if signed => {
                    return Err(ProbeFailure::Misconfigured(ConfigError::new(
                        "Introspection::all_tokens",
                        reason,
                    )));
                }
                Err(other) => return Err(ProbeFailure::Unreachable(other.to_string())),
            }
        }
        Ok(())
    }

    /// A JWT no issuer can call active: made-up signature, long expired. Never verified here.
    fn jwt_probe(&self) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "introspection-probe"});
        let claims = json!({"iss": self.issuer, "jti": random_value(), "iat": 1, "exp": 2});
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            random_value()
        )
    }

    /// How the endpoint stands, for readiness.
    pub(crate) fn health(&self) -> IntrospectionHealth {
        let state = self.state();
        IntrospectionHealth {
            endpoint: state
                .endpoint
                .clone()
                .or_else(|| self.config.endpoint.clone()),
            status: state.status,
            refuses_jwts: state.refuses_jwts,
            age: state.at.map(|at| at.elapsed()),
            last_error: state.last_error.clone(),
        }
    }

    /// Probes again in the background, when the endpoint refused this API and has not been asked
    /// for `recheck_after`: an instance that readiness takes out of service gets no requests
    /// whose answers could bring it back. Needs a Tokio runtime; without one, does nothing.
    pub(crate) fn recheck_if_due(self: &Arc<Self>) {
        let due = {
            let state = self.state();
            (state.status == IntrospectionStatus::Unauthorized || state.refuses_jwts)
                && state.at.is_none_or(|at| at.elapsed() >= self.recheck_after)
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !due || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        runtime.spawn(async move {
            let _done = ProbeDone(&this.probing);
            // The outcome is recorded in the state, and logged on a change.
            let _ = this.probe().await;
        });
    }

    fn state(&self) -> MutexGuard<'_, EndpointState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn endpoint(&self) -> Result<String, FetchError> {
        let endpoint = match &self.config.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => self.keys.introspection_endpoint().await?,
        };
        let mut state = self.state();
        if state.endpoint.as_deref() != Some(endpoint.as_str()) {
            state.endpoint = Some(endpoint.clone());
        }
        Ok(endpoint)
    }
}

/// Clears the probing flag however the probe ends (a runtime shutting down drops it midway).
struct ProbeDone<'a>(&'a AtomicBool);

impl Drop for ProbeDone<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// 32 random bytes, base64url: a token value no issuer has issued.
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    // Randomness failing is next to impossible; the fixed value is as unissued.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        return "introspection-probe".to_owned();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// At most `MAX_DESCRIPTION_LEN` bytes of an issuer's text, cut at a character boundary.
fn clipped(text: &str) -> &str {
    let mut end = text.len().min(MAX_DESCRIPTION_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `Authorization: Basic`, each part form-encoded first as RFC 6749 §2.3.1 asks.
fn basic(client_id: &str, secret: &str) -> String {
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rsa::KeySize;

    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(
            basic("api", "s3cret"),
            format!("Basic {}", STANDARD.encode("api:s3cret"))
        );
        assert_eq!(
            basic("a b", "x:y"),
            format!("Basic {}", STANDARD.encode("a+b:x%3Ay"))
        );
    }

    #[test]
    fn opaque_tokens_must_be_routable_to_one_provider() {
        let named = |list: &[(&str, Option<&str>)]| -> Vec<(String, Option<String>)> {
            list.iter()
                .map(|(name, prefix)| ((*name).to_owned(), prefix.map(str::to_owned)))
                .collect()
        };
        assert!(check_routing(&named(&[("a", None)])).is_ok());
        assert!(check_routing(&named(&[("a", Some("a_")), ("b", None)])).is_ok());
        assert!(check_routing(&named(&[("a", Some("a_")), ("b", Some("b_"))])).is_ok());
        let both =
            check_routing(&named(&[("a", None), ("b", Some("b_")), ("c", None)])).unwrap_err();
        assert_eq!(both.setting, "Introspection::token_prefix");
        assert!(both.problem.contains("a and c"), "{both}");
        for (first, second) in [("at_", "at_x"), ("at_x", "at_"), ("at_", "at_")] {
            let overlap =
                check_routing(&named(&[("a", Some(first)), ("b", Some(second))])).unwrap_err();
            assert!(overlap.problem.contains("overlap"), "{overlap}");
        }
        let empty = Introspection::client_secret_basic("api", "s")
            .token_prefix("")
            .validate("Provider::oidc(issuer)")
            .unwrap_err();
        assert!(empty.setting.ends_with("token_prefix"), "{empty}");
    }

    #[test]
    fn zitadel_key_files_are_read_and_explained() {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der<'_> = pair.as_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let file = json!({
            "type": "application", "keyId": "k1", "key": pem, "appId": "a1", "clientId": "c1@p",
        });
        let introspection = zitadel_key_file(&file.to_string()).unwrap();
        assert_eq!(introspection.client_id(), "c1@p");
        let ClientAuth::PrivateKeyJwt { key, .. } = &introspection.client else {
            panic!()
        };
        let assertion = key.assertion("c1@p", "https://issuer").unwrap();
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(assertion.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (payload["iss"].as_str(), payload["aud"].as_str()),
            (Some("c1@p"), Some("https://issuer"))
        );
        let missing = zitadel_key_file(r#"{"keyId": "k1"}"#).unwrap_err();
        assert!(
            missing.problem.contains("keyId, key and clientId"),
            "{missing}"
        );
        let unreadable = zitadel_key_file("/no/such/file.json").unwrap_err();
        assert!(unreadable.problem.contains("cannot read"), "{unreadable}");
        assert!(ClientKey::from_pem("not pem", None).is_err());
    }
}
