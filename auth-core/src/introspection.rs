//! Opaque tokens, checked with their issuer by RFC 7662 introspection: Zitadel's default "Bearer
//! Token" type, Okta's org authorization server, Auth0 tokens issued without an audience.
//!
//! The API authenticates to the introspection endpoint as a client of the issuer
//! (`client_secret_basic`, `client_secret_post`, or `private_key_jwt` per RFC 7523, which is how a
//! Zitadel API application with a JSON key file signs in). Only `active: true` grants access; the
//! response's `iss`, `aud`, `exp`, `nbf` and scopes are then checked as a JWT's claims would be,
//! and roles and identity come from the same claim mapping.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::error::{AuthError, ConfigError};
use crate::fetch::{self, FetchError};
use crate::key_store::KeyStore;

/// Largest introspection response read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Introspection requests in flight at once per provider; more wait their turn, within the timeout.
/// A flood of made-up opaque tokens can thus cost the issuer this much concurrency, not more.
const MAX_IN_FLIGHT: usize = 16;

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
            crate::issuer_url::checked(&format!("{provider}: introspection endpoint"), endpoint)?;
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
    Ok(Introspection::private_key_jwt(client_id, key))
}

/// One provider's introspection at run time: where to ask, how to authenticate, how many at once.
pub(crate) struct Introspector {
    pub(crate) config: Introspection,
    client: reqwest::Client,
    keys: Arc<KeyStore>,
    /// The issuer, the audience of client assertions.
    issuer: String,
    timeout: Duration,
    gate: Semaphore,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the issuer said of a token.
pub(crate) enum Answer {
    /// Active, with the response's claims.
    Active(Map<String, Value>),
    /// Not active: revoked, expired, unknown, or not for this client.
    Inactive,
}

impl Introspector {
    pub(crate) fn new(
        config: Introspection,
        client: reqwest::Client,
        keys: Arc<KeyStore>,
        issuer: String,
        timeout: Duration,
    ) -> Introspector {
        Introspector {
            config,
            client,
            keys,
            issuer,
            timeout,
            gate: Semaphore::new(MAX_IN_FLIGHT),
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

    /// Asks the issuer about `token`.
    pub(crate) async fn introspect(&self, token: &str) -> Result<Answer, AuthError> {
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
                // 401 here means this API's client credentials are wrong: the operator must act.
                return Err(unavailable(format!("POST {endpoint}: HTTP {status}")));
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
        answer
    }

    async fn endpoint(&self) -> Result<String, FetchError> {
        if let Some(endpoint) = &self.config.endpoint {
            return Ok(endpoint.clone());
        }
        self.keys.introspection_endpoint().await
    }
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
