//! The loopback issuer: discovery and JWKS over real HTTP, with switches for the failures keys must
//! survive.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::json_reply::reply;
use super::mint::Mint;
use super::signing_key::SigningKey;
use super::token_builder::TokenBuilder;
use super::token_endpoint::{
    self, AUTHORIZE_SUFFIX, DEMO_CLIENT, Issuer, METADATA_PREFIX, TOKEN_SUFFIX,
};
use crate::introspection::Introspection;
use crate::keys::algorithm::{Algorithm, AlgorithmPolicy};
use crate::keys::settings::KeySettings;
use crate::keys::source::KeySource;
use crate::provider::Provider;

/// The algorithms the test issuer holds a key for unless told otherwise.
const DEFAULT_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Path endings the JWKS is served at, under any prefix: the generic one and each hosted
/// provider's, so provider-shaped settings (moved here with `Provider::relocate`) work against the
/// test issuer unchanged.
const JWKS_SUFFIXES: [&str; 10] = [
    "/jwks",
    "/.well-known/jwks.json",
    "/cdn-cgi/access/certs",
    "/oauth/v2/keys",
    "/protocol/openid-connect/certs",
    "/v1/keys",
    "/discovery/v2.0/keys",
    "/discovery/keys",
    "/jwk/securetoken@system.gserviceaccount.com",
    "/oauth2/v3/certs",
];

/// Introspection (RFC 7662) is served under any prefix, for the client of
/// [`TestIssuer::introspection`].
const INTROSPECTION_SUFFIX: &str = "/introspect";

/// The client the test issuer lets introspect.
const INTROSPECTION_CLIENT: (&str, &str) = ("test-introspector", "test-secret");

/// RFC 7523's `client_assertion_type` for `private_key_jwt`.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How old a client assertion's `iat` may be, and the clock offset allowed, as Zitadel checks
/// (`NewJWTProfileVerifierKeySet(keys, issuer, time.Hour, time.Second)` in its `introspect.go`).
const ASSERTION_MAX_AGE: i64 = 3600;
const ASSERTION_OFFSET: i64 = 1;

/// Discovery is served under any prefix; the document names `<origin><prefix>` as its issuer, so an
/// issuer with a path (`/realms/demo`, `/oauth2/default`) discovers itself.
const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// An identity provider on 127.0.0.1 for tests. Stops when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{AuthError, StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let verifier = Verifier::new(issuer.provider())?;
/// let before = issuer.token().sign();
/// assert!(verifier.verify::<StandardClaims>(&before).await.is_ok());
/// issuer.rotate();
/// issuer.drop_previous_keys();
/// // A token naming the new key makes the verifier fetch the keys again, once.
/// let after = issuer.token().sign();
/// assert!(verifier.verify::<StandardClaims>(&after).await.is_ok());
/// assert_eq!(issuer.jwks_fetches(), 2);
/// // The retired key is gone, and so is every token it signed.
/// let refused = verifier.verify::<StandardClaims>(&before).await.unwrap_err();
/// assert_eq!(refused, AuthError::UnknownKey);
/// # Ok(()) }
/// ```
pub struct TestIssuer {
    shared: Arc<Shared>,
    issuer: String,
    audience: String,
    /// Key files written by [`TestIssuer::zitadel_key_file`], deleted when the issuer drops.
    key_files: Mutex<Vec<tempfile::TempPath>>,
    _shutdown: oneshot::Sender<()>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// What the server task and the handle share; it mints the tokens of both (the token endpoint's
/// and [`TestIssuer::token`]'s).
struct Shared {
    /// The `iss` of tokens shaped for the issuer's own provider.
    issuer: String,
    /// The `aud` of those tokens, unless a token request names a resource.
    audience: String,
    state: Mutex<State>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    introspections: AtomicUsize,
    token_requests: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct State {
    issuer: String,
    algorithms: Vec<Algorithm>,
    current: Vec<Arc<SigningKey>>,
    previous: Vec<Arc<SigningKey>>,
    /// Published ahead of use by `publish_next_keys`; `rotate` signs with them next.
    next: Vec<Arc<SigningKey>>,
    generation: usize,
    outage: bool,
    /// Introspection refuses every client (`refuse_introspection_clients`).
    refuse_clients: bool,
    delay: Duration,
    jwks_body: Option<String>,
    max_age: Option<u64>,
    discovery_issuer: Option<String>,
    /// Tokens issued, with the claims introspection answers for them.
    opaque: HashMap<String, Map<String, Value>>,
    /// Changes made to the introspection answers for some tokens (`shape_introspection`).
    shapes: HashMap<String, Shape>,
    /// The start of every opaque token minted.
    opaque_prefix: String,
    /// API application keys clients may introspect with (`private_key_jwt`).
    application_keys: Vec<ApplicationKey>,
    /// Size of `opaque` at which expired tokens are next forgotten: twice what a sweep leaves,
    /// so minting stays amortised O(1) while a million tokens are all still valid.
    opaque_sweep_at: usize,
    /// The resources the token endpoint issues tokens for (RFC 8707), each with the scopes a
    /// token for it may carry ([`TestIssuer::add_resource`]).
    resources: BTreeMap<String, Vec<String>>,
}

/// A Zitadel API application's key, as the issuer registered it.
struct ApplicationKey {
    key_id: String,
    client_id: String,
    /// DER `RSAPublicKey`.
    public_key: Vec<u8>,
}

/// Issued tokens kept before the first sweep of expired ones.
const OPAQUE_SWEEP_MIN: usize = 10_000;

/// A change to the introspection answer for one token.
type Shape = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// The `aud` of tokens unless the test (or a token request's `resource`) names another.
const DEFAULT_AUDIENCE: &str = "test-api";

/// The start of opaque tokens unless [`TestIssuer::set_opaque_prefix`] says otherwise.
const DEFAULT_OPAQUE_PREFIX: &str = "ot_";

impl State {
    /// The keys, or only those of the `algs` an adopted provider takes when it takes any of them
    /// (else all, so a key it cannot use is still skipped, with a warning).
    fn jwks(&self, algs: Option<&str>) -> String {
        let all = || self.current.iter().chain(&self.previous).chain(&self.next);
        let taken = algs.map(|algs| algs.split(' ').collect::<Vec<_>>());
        let fits = |key: &&Arc<SigningKey>| {
            taken
                .as_ref()
                .is_none_or(|taken| taken.contains(&key.alg.as_str()))
        };
        let keys: Vec<&Value> = if all().any(|key| fits(&key)) {
            all().filter(fits).map(|key| &key.jwk).collect()
        } else {
            all().map(|key| &key.jwk).collect()
        };
        json!({ "keys": keys }).to_string()
    }

    /// The discovery document under `prefix`; `query` is what an adopted provider's URL carries:
    /// the `issuer` its own document names, and the `algs` its keys' URL is to pass on.
    fn discovery(&self, prefix: &str, query: &Query) -> String {
        let own = format!("{}{prefix}", self.issuer);
        let issuer = self
            .discovery_issuer
            .as_deref()
            .or(query.issuer.as_deref())
            .unwrap_or(&own);
        let keys = match &query.algs {
            Some(algs) => format!("{own}/jwks?{}", adopted_query(None, Some(algs))),
            None => format!("{own}/jwks"),
        };
        let algorithms: Vec<&str> = self.algorithms.iter().map(|alg| alg.as_str()).collect();
        json!({
            "issuer": issuer,
            "jwks_uri": keys,
            "introspection_endpoint": format!("{own}{INTROSPECTION_SUFFIX}"),
            // No authorization or token endpoint: it signs no one in, and API documentation
            // would offer a sign-in page that is not there.
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
        })
        .to_string()
    }
}

impl Mint for Shared {
    fn algorithms(&self) -> Vec<Algorithm> {
        self.lock().algorithms.clone()
    }

    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn audience(&self) -> &str {
        &self.audience
    }

    fn opaque_prefix(&self) -> String {
        self.lock().opaque_prefix.clone()
    }

    fn register_opaque(&self, token: String, claims: Map<String, Value>) {
        let mut state = self.lock();
        // Benchmarks and load tests mint many tokens: forget the expired ones now and then.
        if state.opaque.len() >= state.opaque_sweep_at {
            let now = crate::token::date::now();
            state.opaque.retain(|_, claims| {
                claims
                    .get("exp")
                    .and_then(Value::as_i64)
                    .is_none_or(|exp| exp > now)
            });
            let State { opaque, shapes, .. } = &mut *state;
            shapes.retain(|token, _| opaque.contains_key(token));
            state.opaque_sweep_at = OPAQUE_SWEEP_MIN.max(2 * state.opaque.len());
        }
        state.opaque.insert(token, claims);
    }

    fn default_algorithm(&self) -> Algorithm {
        self.lock()
            .algorithms
            .first()
            .copied()
            .unwrap_or(Algorithm::RS256)
    }

    fn current_key(&self, algorithm: Algorithm) -> Option<Arc<SigningKey>> {
        self.lock()
            .current
            .iter()
            .find(|key| key.alg == algorithm)
            .cloned()
    }
}

impl Issuer for Shared {
    fn count_token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
    }

    fn delay_and_outage(&self) -> (Duration, bool) {
        let state = self.lock();
        (state.delay, state.outage)
    }

    fn resource_scopes(&self, resource: &str) -> Option<Vec<String>> {
        self.lock().resources.get(resource).cloned()
    }
}

impl TestIssuer {
    /// Starts an issuer on a free port of 127.0.0.1 with fresh RS256, ES256 and EdDSA keys.
    ///
    /// # Panics
    /// If no loopback port can be bound or keys cannot be generated; use [`TestIssuer::try_start`]
    /// to handle that instead.
    pub async fn start() -> TestIssuer {
        match TestIssuer::try_start().await {
            Ok(issuer) => issuer,
            Err(err) => panic!("TestIssuer::start: {err}"),
        }
    }

    /// Like [`TestIssuer::start`], returning failures.
    pub async fn try_start() -> Result<TestIssuer, String> {
        TestIssuer::try_start_with(&DEFAULT_ALGORITHMS).await
    }

    /// Starts an issuer holding one key for each of `algorithms` (any [`Algorithm`]).
    ///
    /// # Panics
    /// As [`TestIssuer::start`].
    pub async fn start_with(algorithms: &[Algorithm]) -> TestIssuer {
        match TestIssuer::try_start_with(algorithms).await {
            Ok(issuer) => issuer,
            Err(err) => panic!("TestIssuer::start_with: {err}"),
        }
    }

    /// Like [`TestIssuer::start_with`], returning failures.
    pub async fn try_start_with(algorithms: &[Algorithm]) -> Result<TestIssuer, String> {
        if algorithms.is_empty() {
            return Err("no algorithms given".to_owned());
        }
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|err| format!("bind 127.0.0.1: {err}"))?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let issuer = format!("http://{addr}");
        let current = generate_keys(algorithms, 0)?;
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            state: Mutex::new(State {
                issuer: issuer.clone(),
                algorithms: algorithms.to_vec(),
                current,
                previous: Vec::new(),
                next: Vec::new(),
                generation: 0,
                outage: false,
                refuse_clients: false,
                delay: Duration::ZERO,
                jwks_body: None,
                max_age: Some(300),
                discovery_issuer: None,
                opaque: HashMap::new(),
                shapes: HashMap::new(),
                opaque_prefix: DEFAULT_OPAQUE_PREFIX.to_owned(),
                application_keys: Vec::new(),
                opaque_sweep_at: OPAQUE_SWEEP_MIN,
                resources: BTreeMap::new(),
            }),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            introspections: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
        });
        let (shutdown, stopped) = oneshot::channel();
        tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        tracing::debug!(target: "auth", %addr, "test issuer listening");
        Ok(TestIssuer {
            shared,
            issuer,
            audience: DEFAULT_AUDIENCE.to_owned(),
            key_files: Mutex::new(Vec::new()),
            _shutdown: shutdown,
        })
    }

    /// The issuer's origin, `http://127.0.0.1:<port>`: the `iss` of tokens from
    /// [`TestIssuer::token`], for [`TestIssuer::provider`]. A preset served here with
    /// [`TestIssuer::adopt`] keeps the path its issuer has (an Auth0 issuer's trailing slash,
    /// Keycloak's `/realms/<realm>`, Okta's `/oauth2/<server>`): its tokens' `iss` is
    /// [`TestIssuer::issuer_for`].
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `iss` of tokens shaped for `provider` ([`TestIssuer::token_for`]): for an adopted
    /// preset, this issuer's origin followed by the path the provider's issuer has; for a
    /// multi-tenant one, its first tenant's.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use auth_core::Provider;
    /// use auth_core::testing::TestIssuer;
    ///
    /// let issuer = TestIssuer::start().await;
    /// let auth0 = issuer.adopt(Provider::auth0("my-tenant.us.auth0.com", "https://api.example"));
    /// assert_eq!(issuer.issuer_for(&auth0), format!("{}/", issuer.issuer()));
    /// # }
    /// ```
    pub fn issuer_for(&self, provider: &Provider) -> String {
        let claims = self.token_for(provider).claims();
        claims
            .get("iss")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(&self.issuer)
            .to_owned()
    }

    /// The audience tokens carry by default and [`TestIssuer::provider`] expects.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    /// The address the issuer listens on.
    pub fn addr(&self) -> SocketAddr {
        let authority = self.issuer.trim_start_matches("http://");
        authority
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// A provider for this issuer: discovery, its audience, its algorithms, roles from `roles`,
    /// scopes from `scope`. Key settings are shortened (1 s minimum lifetime, 1 s cooldown, 2 s
    /// timeout) so key-handling tests run in seconds.
    pub fn provider(&self) -> Provider {
        Provider::oidc(self.issuer.clone())
            .audience(self.audience.clone())
            .algorithms(self.lock().algorithms.clone())
            .key_settings(TestIssuer::fast_key_settings())
    }

    /// `provider` served by this issuer: its URLs moved to this issuer's origin, keeping their
    /// paths (see [`Provider::relocate`]), with [`TestIssuer::fast_key_settings`]. Mint tokens for
    /// it with [`TestIssuer::token_for`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{Provider, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let keycloak = Provider::keycloak("https://sso.example.com", "demo", "orders-api");
    /// let keycloak = issuer.adopt(keycloak);
    /// let token = issuer.token_for(&keycloak).subject("ada").roles(["admin"]).sign();
    /// let verifier = Verifier::new(keycloak).unwrap();
    /// let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    /// // Written to realm_access.roles, where Keycloak keeps them.
    /// assert!(claims.identity().has_role("admin"));
    /// # }
    /// ```
    ///
    /// The issuer then serves what that provider would: its discovery document (where the preset
    /// reads one) names the issuer the provider's tokens carry, and its key set holds only keys of
    /// the algorithms the provider takes (when it holds any), so none is skipped with a warning.
    /// Both are said in the query of the URLs the returned provider fetches, so one issuer serves
    /// any number of adopted providers side by side.
    pub fn adopt(&self, provider: Provider) -> Provider {
        let mut provider = provider
            .relocate(&self.issuer)
            .key_settings(TestIssuer::fast_key_settings());
        let algs = match provider.algorithms {
            AlgorithmPolicy::Only(algorithms) => {
                let names: Vec<&str> = algorithms.iter().map(|alg| alg.as_str()).collect();
                Some(names.join(" "))
            }
            AlgorithmPolicy::Advertised => None,
        };
        if let Some(algs) = &algs {
            provider.keys = match provider.keys {
                KeySource::Jwks(url) => KeySource::Jwks(with_query(&url, None, Some(algs))),
                KeySource::Discovery(url) => {
                    KeySource::Discovery(with_query(&url, None, Some(algs)))
                }
            };
        }
        // A discovery document the keys come through names `<origin><path>`, the relocated issuer;
        // one read only to check the issuer may name another (Auth0's ends in a slash).
        let issuer = provider.issuer.discovery_issuer();
        provider.issuer_document = provider
            .issuer_document
            .map(|url| with_query(&url, Some(&issuer), None));
        provider
    }

    /// Starts a token shaped for `provider` (one from [`TestIssuer::adopt`], or configured with
    /// this issuer's URL): the issuer, audience and claim values it requires, roles and scopes
    /// where it reads them. See [`TokenBuilder`] for the rest.
    pub fn token_for(&self, provider: &Provider) -> TokenBuilder<'_> {
        TokenBuilder::shaped_for(&*self.shared, provider)
    }

    /// Key settings with short timings for tests over loopback.
    pub fn fast_key_settings() -> KeySettings {
        KeySettings {
            min_max_age: Duration::from_secs(1),
            unknown_kid_cooldown: Duration::from_secs(1),
            fetch_timeout: Duration::from_secs(2),
            failure_backoff: Duration::from_secs(1),
            ..KeySettings::default()
        }
    }

    /// Starts a token; see [`TokenBuilder`].
    pub fn token(&self) -> TokenBuilder<'_> {
        TokenBuilder::new(&*self.shared)
    }

    /// The current `kid` for an algorithm.
    pub fn kid(&self, algorithm: Algorithm) -> Option<String> {
        self.shared
            .current_key(algorithm)
            .map(|key| key.kid.clone())
    }

    /// Generates new keys; new tokens are signed with them. The previous keys stay published (as
    /// real providers keep them for a while) until [`TestIssuer::drop_previous_keys`]. Keys
    /// published by [`TestIssuer::publish_next_keys`] are used instead of new ones.
    pub fn rotate(&self) {
        let mut state = self.lock();
        let keys = if state.next.is_empty() {
            let generation = state.generation + 1;
            match generate_keys(&state.algorithms, generation) {
                Ok(keys) => {
                    state.generation = generation;
                    keys
                }
                Err(err) => {
                    tracing::error!(target: "auth", %err, "test issuer: rotation failed");
                    return;
                }
            }
        } else {
            std::mem::take(&mut state.next)
        };
        let old = std::mem::replace(&mut state.current, keys);
        state.previous = old;
    }

    /// Publishes the keys the next [`TestIssuer::rotate`] will sign with, without signing with
    /// them yet: what Okta, Auth0 and Entra do, so verifiers learn a key before its first token.
    pub fn publish_next_keys(&self) {
        let mut state = self.lock();
        if !state.next.is_empty() {
            return;
        }
        let generation = state.generation + 1;
        match generate_keys(&state.algorithms, generation) {
            Ok(keys) => {
                state.next = keys;
                state.generation = generation;
            }
            Err(err) => tracing::error!(target: "auth", %err, "test issuer: key generation failed"),
        }
    }

    /// Stops publishing the keys replaced by the last rotation.
    pub fn drop_previous_keys(&self) {
        self.lock().previous.clear();
    }

    /// How many times the JWKS has been requested.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many introspection requests the issuer has answered.
    pub fn introspections(&self) -> usize {
        self.shared.introspections.load(Ordering::SeqCst)
    }

    /// The client credentials this issuer accepts at its introspection endpoint (from discovery),
    /// for [`Provider::introspection`](crate::Provider::introspection). Mint opaque tokens with
    /// [`TokenBuilder::opaque`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{AuthError, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let verifier = Verifier::new(issuer.provider().introspection(issuer.introspection()))?;
    /// let token = issuer.token().subject("ada").roles(["admin"]).opaque();
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin"));
    /// issuer.revoke(&token);
    /// let fresh = Verifier::new(issuer.provider().introspection(issuer.introspection()))?;
    /// let refused = fresh.verify::<StandardClaims>(&token).await.unwrap_err();
    /// assert_eq!(refused, AuthError::InactiveToken);
    /// # Ok(()) }
    /// ```
    pub fn introspection(&self) -> Introspection {
        let (client, secret) = INTROSPECTION_CLIENT;
        Introspection::client_secret_basic(client, secret).cache_ttl(Duration::from_secs(1))
    }

    /// The one client of the issuer's token endpoint, `(client_id, client_secret)`: it
    /// authenticates with `client_secret_basic` or `client_secret_post` and may have every scope of
    /// the resource it asks a token for. Test-only, as the whole issuer: the secret is public.
    ///
    /// The issuer is then an OAuth authorization server for machine clients: RFC 8414 metadata at
    /// `/.well-known/oauth-authorization-server` (grant `client_credentials` only, no sign-in:
    /// `response_types_supported` is empty and the authorization endpoint refuses every request),
    /// and the token endpoint ([`TestIssuer::token_endpoint`]) issuing RFC 9068 JWT access tokens
    /// (`typ: at+jwt`, `sub` and `client_id` the client, lifetime an hour). A token request may
    /// name one `resource` the issuer was told about with [`TestIssuer::add_resource`] (RFC 8707:
    /// the token's `aud` is it, byte for byte; any other answers 400 `invalid_target`), or none
    /// (the token's `aud` is [`TestIssuer::audience`]); its `scope` may hold only that
    /// resource's scopes (without a resource, none), else 400 `invalid_scope`; no
    /// `scope`, a token without one. Wrong credentials answer 401 `invalid_client`, any grant but
    /// `client_credentials` 400 `unsupported_grant_type`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{Provider, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// issuer.add_resource(resource, ["mcp:tools", "mcp:admin"]);
    /// let (client, secret) = TestIssuer::demo_client();
    /// let response = reqwest::Client::new()
    ///     .post(issuer.token_endpoint())
    ///     .basic_auth(client, Some(secret))
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(format!("grant_type=client_credentials&scope=mcp%3Atools&resource={resource}"))
    ///     .send()
    ///     .await?;
    /// let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    /// let token = answer["access_token"].as_str().unwrap();
    /// let verifier = Verifier::new(Provider::oidc(issuer.issuer()).audience(resource))?;
    /// let claims = verifier.verify::<StandardClaims>(token).await?;
    /// assert_eq!(claims.sub, client);
    /// assert!(claims.identity().has_scope("mcp:tools"));
    /// # Ok(()) }
    /// ```
    pub fn demo_client() -> (&'static str, &'static str) {
        DEMO_CLIENT
    }

    /// Tells the token endpoint about a protected resource (RFC 8707): tokens may be asked for
    /// it, carrying any of `scopes`. `resource` is the exact string clients send (the URL they
    /// call, e.g. `http://127.0.0.1:8080/mcp`); calling again for it replaces its scopes. See
    /// [`TestIssuer::demo_client`].
    pub fn add_resource<I, S>(&self, resource: &str, scopes: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.lock().resources.insert(resource.to_owned(), scopes);
    }

    /// The token endpoint's URL (see [`TestIssuer::demo_client`]).
    pub fn token_endpoint(&self) -> String {
        format!("{}{TOKEN_SUFFIX}", self.issuer)
    }

    /// How many requests the token endpoint has answered, refused ones included.
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// Writes a Zitadel API application key file, as the console downloads it for an API
    /// application with authentication method "JWT" (`{"type": "application", "keyId", "key",
    /// "appId", "clientId"}`, the key a 2048-bit `RSA PRIVATE KEY`), to a temporary file deleted
    /// when the issuer drops, and trusts it: the introspection endpoint then accepts
    /// `private_key_jwt` client assertions signed with it, checked as Zitadel checks them
    /// (`client_assertion_type` jwt-bearer; `iss` = `sub` = the `clientId`; `aud` holding the
    /// issuer; `iat` at most an hour old; `exp` still ahead; header `kid` the `keyId`; an RS256
    /// signature by this key). Any other assertion is answered HTTP 400
    /// `{"error":"unauthorized_client"}`, as Zitadel's code does (its documentation says 401
    /// `invalid_client`). Each call registers a new key for a new client.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{Provider, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let key_file = issuer.zitadel_key_file();
    /// let zitadel = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
    ///     .zitadel_key_file(&key_file.to_string_lossy());
    /// let zitadel = issuer.adopt(zitadel);
    /// let token = issuer.token_for(&zitadel).subject("ada").opaque();
    /// let claims = Verifier::new(zitadel)?.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.sub, "ada");
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// If the key cannot be generated or the file cannot be written.
    pub fn zitadel_key_file(&self) -> PathBuf {
        match self.try_zitadel_key_file() {
            Ok(path) => path,
            Err(err) => panic!("TestIssuer::zitadel_key_file: {err}"),
        }
    }

    fn try_zitadel_key_file(&self) -> Result<PathBuf, String> {
        use std::io::Write;

        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        use aws_lc_rs::rsa::KeySize;
        use aws_lc_rs::signature::{KeyPair, RsaKeyPair};

        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate a key")?;
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| "cannot encode the key")?;
        let pkcs1 = pkcs1_of_pkcs8(pkcs8.as_ref()).ok_or("cannot encode the key as PKCS #1")?;
        let public_key = pair.public_key().as_ref().to_vec();
        let mut state = self.lock();
        // Numeric IDs, as Zitadel's; the client ID in its `<id>@<project name>` form.
        let n = 263_514_598_346_790_000 + 2 * state.application_keys.len() as u64;
        let (key_id, app_id) = (n.to_string(), (n + 1).to_string());
        let client_id = format!("{app_id}@test-api");
        let file = json!({
            "type": "application",
            "keyId": key_id,
            "key": pem("RSA PRIVATE KEY", pkcs1),
            "appId": app_id,
            "clientId": client_id,
        });
        let mut temp = tempfile::Builder::new()
            .prefix("zitadel-key-")
            .suffix(".json")
            .tempfile()
            .map_err(|err| format!("cannot create a temporary file: {err}"))?;
        temp.write_all(file.to_string().as_bytes())
            .map_err(|err| format!("cannot write {:?}: {err}", temp.path()))?;
        let temp = temp.into_temp_path();
        let path = temp.to_path_buf();
        state.application_keys.push(ApplicationKey {
            key_id,
            client_id,
            public_key,
        });
        drop(state);
        self.key_files
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(temp);
        Ok(path)
    }

    /// Ends a token it issued, opaque or signed: introspection calls it inactive from now on.
    pub fn revoke(&self, token: &str) {
        let mut state = self.lock();
        state.opaque.remove(token);
        state.shapes.remove(token);
    }

    /// Changes what introspection answers for a token it issued, until it is revoked: `shape` is
    /// given the answer as the issuer would send it (the token's claims, `active` and
    /// `token_type`) and may add, change or remove members; the `exp` it leaves decides whether
    /// the token is still active. For playing an issuer whose answers leave out or contradict
    /// what a signed token says (see
    /// [`Introspection::all_tokens`](crate::Introspection::all_tokens)), or carry claims the token
    /// lacks. Replaces any earlier shape for that token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let provider = issuer.provider().introspection(issuer.introspection().all_tokens());
    /// let verifier = Verifier::new(provider)?;
    /// // A lightweight token: no roles in it, the issuer names them when asked.
    /// let token = issuer.token().subject("ada").sign();
    /// issuer.shape_introspection(&token, |answer| {
    ///     answer.insert("roles".into(), serde_json::json!(["admin"]));
    /// });
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin"));
    /// # Ok(()) }
    /// ```
    pub fn shape_introspection(
        &self,
        token: &str,
        shape: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static,
    ) {
        self.lock().shapes.insert(token.to_owned(), Arc::new(shape));
    }

    /// Opaque tokens minted from now on ([`TokenBuilder::opaque`]) start with `prefix` instead of
    /// `ot_`: an issuer's token format, to route them with
    /// [`Introspection::token_prefix`](crate::Introspection::token_prefix).
    pub fn set_opaque_prefix(&self, prefix: &str) {
        self.lock().opaque_prefix = prefix.to_owned();
    }

    /// How many times the discovery document has been requested.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// While on, discovery and JWKS answer 503.
    pub fn set_outage(&self, outage: bool) {
        self.lock().outage = outage;
    }

    /// While on, the introspection endpoint refuses every client as Zitadel refuses a deleted key
    /// or a rotated secret: HTTP 400 `{"error":"unauthorized_client"}` (Zitadel's docs say 401
    /// `invalid_client`; wrong credentials get that answer here).
    pub fn refuse_introspection_clients(&self, refuse: bool) {
        self.lock().refuse_clients = refuse;
    }

    /// Delays discovery and JWKS responses (to exceed a fetch timeout).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Serves this body as the JWKS instead of the keys (`None` restores them).
    pub fn set_jwks_body(&self, body: Option<String>) {
        self.lock().jwks_body = body;
    }

    /// The `Cache-Control: max-age` sent with the JWKS (`None` sends no header). Default 300.
    pub fn set_max_age(&self, max_age: Option<u64>) {
        self.lock().max_age = max_age;
    }

    /// Makes discovery name a different issuer (`None` restores the real one).
    pub fn set_discovery_issuer(&self, issuer: Option<String>) {
        self.lock().discovery_issuer = issuer;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What an adopted provider's URL asks of the issuer (see [`TestIssuer::adopt`]).
#[derive(Default)]
struct Query {
    /// The issuer a discovery document is to name.
    issuer: Option<String>,
    /// The algorithms, space-separated, whose keys the key set is to hold.
    algs: Option<String>,
}

impl Query {
    fn of(query: Option<&str>) -> Query {
        let mut parsed = Query::default();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*name {
                "issuer" => parsed.issuer = Some(value.into_owned()),
                "algs" => parsed.algs = Some(value.into_owned()),
                _ => {}
            }
        }
        parsed
    }
}

/// The query string of an adopted provider's URL.
fn adopted_query(issuer: Option<&str>, algs: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(issuer) = issuer {
        query.append_pair("issuer", issuer);
    }
    if let Some(algs) = algs {
        query.append_pair("algs", algs);
    }
    query.finish()
}

/// `url` with the adopted query appended.
fn with_query(url: &str, issuer: Option<&str>, algs: Option<&str>) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", adopted_query(issuer, algs))
}

fn generate_keys(
    algorithms: &[Algorithm],
    generation: usize,
) -> Result<Vec<Arc<SigningKey>>, String> {
    algorithms
        .iter()
        .map(|alg| {
            let kid = format!("{}-{generation}", alg.as_str().to_ascii_lowercase());
            SigningKey::generate(*alg, kid).map(Arc::new)
        })
        .collect()
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut stopped => return,
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(Arc::clone(&shared), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path().ends_with(INTROSPECTION_SUFFIX) {
        return Ok(introspect(&shared, request).await);
    }
    let path = request.uri().path();
    if path.ends_with(TOKEN_SUFFIX) {
        return Ok(token_endpoint::token(&*shared, request).await);
    }
    if path.ends_with(AUTHORIZE_SUFFIX) {
        return Ok(token_endpoint::authorize());
    }
    // RFC 8414 §3.1: the issuer's path follows the well-known prefix.
    if let Some(issuer_path) = path.strip_prefix(METADATA_PREFIX)
        && (issuer_path.is_empty() || issuer_path.starts_with('/'))
    {
        shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
        let (outage, body) = {
            let state = shared.lock();
            let scopes = state.resources.values().flatten().map(String::as_str);
            let document = token_endpoint::metadata(&state.issuer, issuer_path, scopes);
            (state.outage, document)
        };
        if outage {
            let down = "issuer unavailable".to_owned();
            return Ok(reply(StatusCode::SERVICE_UNAVAILABLE, None, down));
        }
        return Ok(reply(StatusCode::OK, None, body));
    }
    let discovery_prefix = path.strip_suffix(DISCOVERY_SUFFIX);
    let is_jwks = JWKS_SUFFIXES.iter().any(|suffix| path.ends_with(suffix));
    let is_discovery = discovery_prefix.is_some();
    if !is_discovery && !is_jwks {
        return Ok(reply(StatusCode::NOT_FOUND, None, "not found".into()));
    }
    let counter = if is_jwks {
        &shared.jwks_fetches
    } else {
        &shared.discovery_fetches
    };
    counter.fetch_add(1, Ordering::SeqCst);

    let (delay, outage, body, max_age) = {
        let state = shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let query = Query::of(request.uri().query());
        let body = match (is_jwks, &state.jwks_body) {
            (true, Some(body)) => body.clone(),
            (true, None) => state.jwks(query.algs.as_deref()),
            (false, _) => state.discovery(discovery_prefix.unwrap_or_default(), &query),
        };
        (state.delay, state.outage, body, state.max_age)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if outage {
        return Ok(reply(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "issuer unavailable".into(),
        ));
    }
    Ok(reply(StatusCode::OK, max_age, body))
}

/// RFC 7662: the form's `token`, from a client authenticated with Basic or the form.
async fn introspect(
    shared: &Shared,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    use http_body_util::BodyExt;

    shared.introspections.fetch_add(1, Ordering::SeqCst);
    let basic = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .map(str::to_owned);
    let Ok(body) = request.into_body().collect().await else {
        return reply(
            StatusCode::BAD_REQUEST,
            None,
            r#"{"error":"invalid_request"}"#.into(),
        );
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body.to_bytes())
        .into_owned()
        .collect();
    let (delay, outage, refuse_clients) = {
        let state = shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (state.delay, state.outage, state.refuse_clients)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if outage {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "issuer unavailable".into(),
        );
    }
    if refuse_clients {
        return reply(
            StatusCode::BAD_REQUEST,
            None,
            r#"{"error":"unauthorized_client","error_description":"client not found"}"#.into(),
        );
    }
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        let checked = {
            let state = shared
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            check_client_assertion(&state, &form, crate::token::date::now())
        };
        if let Err(reason) = checked {
            tracing::debug!(target: "auth", %reason, "test issuer: client assertion refused");
            return reply(
                StatusCode::BAD_REQUEST,
                None,
                r#"{"error":"unauthorized_client"}"#.into(),
            );
        }
    } else {
        let (client, secret) = INTROSPECTION_CLIENT;
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"));
        let by_form = form.get("client_id").map(String::as_str) == Some(client)
            && form.get("client_secret").map(String::as_str) == Some(secret);
        if basic.as_deref() != Some(expected.as_str()) && !by_form {
            return reply(
                StatusCode::UNAUTHORIZED,
                None,
                r#"{"error":"invalid_client"}"#.into(),
            );
        }
    }
    let (claims, shape) = {
        let state = shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let token = form.get("token");
        (
            token.and_then(|token| state.opaque.get(token)).cloned(),
            token.and_then(|token| state.shapes.get(token)).cloned(),
        )
    };
    let now = crate::token::date::now();
    let answer = claims.map(|mut claims| {
        claims.insert("active".into(), true.into());
        let bound = claims
            .get("cnf")
            .is_some_and(|cnf| cnf.get("jkt").is_some());
        let kind = if bound { "DPoP" } else { "Bearer" };
        claims.insert("token_type".into(), kind.into());
        if let Some(shape) = shape {
            shape(&mut claims);
        }
        claims
    });
    // The answer's own `exp`, as shaped, says whether the token is still active.
    let live = answer.filter(|answer| {
        answer
            .get("exp")
            .and_then(Value::as_i64)
            .is_none_or(|exp| exp > now)
    });
    let answer = match live {
        Some(answer) => Value::Object(answer),
        None => json!({"active": false}),
    };
    reply(StatusCode::OK, None, answer.to_string())
}

/// Checks a `private_key_jwt` client assertion as Zitadel does (zitadel/oidc's
/// `VerifyJWTAssertion`): audience, expiry, issue time, `iss` = `sub`, then the signature by the
/// key its `kid` names for that client.
fn check_client_assertion(
    state: &State,
    form: &HashMap<String, String>,
    now: i64,
) -> Result<(), String> {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return Err(format!("client_assertion_type is not {JWT_BEARER}"));
    }
    let assertion = form.get("client_assertion").ok_or("no client_assertion")?;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_part, payload_part, signature_part] = parts[..] else {
        return Err("the assertion is not a JWS".into());
    };
    let json = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
    };
    let (Some(header), Some(claims)) = (json(header_part), json(payload_part)) else {
        return Err("the assertion's header or payload is not a JSON object".into());
    };
    let text = |map: &Map<String, Value>, name: &str| {
        map.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud == &state.issuer,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(&state.issuer)),
        _ => false,
    };
    if !audience {
        return Err(format!("aud does not hold the issuer {}", state.issuer));
    }
    if number("exp").is_none_or(|exp| exp <= now + ASSERTION_OFFSET) {
        return Err("exp missing or past".into());
    }
    match number("iat") {
        Some(iat) if iat > now + ASSERTION_OFFSET => return Err("iat in the future".into()),
        Some(iat) if iat < now - ASSERTION_MAX_AGE => return Err("iat over an hour old".into()),
        Some(_) => {}
        None => return Err("no iat".into()),
    }
    let client = text(&claims, "iss").filter(|iss| Some(iss) == text(&claims, "sub").as_ref());
    let Some(client) = client else {
        return Err("iss and sub must both be the client ID".into());
    };
    if form.get("client_id").is_some_and(|id| *id != client) {
        return Err("the form's client_id is not the assertion's".into());
    }
    if text(&header, "alg").as_deref() != Some("RS256") {
        return Err("alg is not RS256".into());
    }
    let kid = text(&header, "kid");
    let key = state
        .application_keys
        .iter()
        .find(|key| Some(&key.key_id) == kid.as_ref() && key.client_id == client)
        .ok_or_else(|| format!("no key {kid:?} registered for client {client:?}"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| "the signature is not base64url")?;
    let signed = format!("{header_part}.{payload_part}");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify".into())
}

/// The `RSAPrivateKey` (PKCS #1) a PKCS #8 `PrivateKeyInfo` wraps: the contents of its third
/// member, an OCTET STRING. Zitadel's key files hold PKCS #1, which aws-lc-rs does not write.
fn pkcs1_of_pkcs8(der: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = der_element(der)? else {
        return None;
    };
    let (_, _, rest) = der_element(info)?; // version
    let (_, _, rest) = der_element(rest)?; // privateKeyAlgorithm
    match der_element(rest)? {
        (0x04, key, _) => Some(key),
        _ => None,
    }
}

/// One DER element: its tag, contents and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len, rest) = rest.split_at(count);
        let len = len
            .iter()
            .fold(0, |len, byte| len << 8 | usize::from(*byte));
        (len, rest)
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// PEM text: `label`, base64 in 64-column lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::super::signing_key::b64;
    use super::*;

    #[tokio::test]
    async fn issued_tokens_are_forgotten_when_expired_and_kept_while_valid() {
        let issuer = TestIssuer::start().await;
        let expired: Vec<String> = (0..OPAQUE_SWEEP_MIN)
            .map(|_| issuer.token().expired().opaque())
            .collect();
        let valid = issuer.token().opaque();
        // That token crossed the threshold: the expired ones went, and the next sweep waits
        // for the map to double again rather than rescanning on every token.
        let state = issuer.lock();
        assert_eq!(state.opaque.len(), 1);
        assert!(state.opaque.contains_key(&valid));
        assert!(!state.opaque.contains_key(&expired[0]));
        assert_eq!(state.opaque_sweep_at, OPAQUE_SWEEP_MIN);
        drop(state);

        let still_valid: Vec<String> = (0..OPAQUE_SWEEP_MIN)
            .map(|_| issuer.token().opaque())
            .collect();
        let state = issuer.lock();
        assert_eq!(state.opaque.len(), OPAQUE_SWEEP_MIN + 1);
        assert_eq!(state.opaque_sweep_at, 2 * OPAQUE_SWEEP_MIN);
        assert!(
            still_valid
                .iter()
                .all(|token| state.opaque.contains_key(token))
        );
    }

    /// Every way a client assertion can fail Zitadel's checks is answered 400
    /// `unauthorized_client`; the key file holds PKCS #1 and is deleted with the issuer.
    #[tokio::test]
    async fn client_assertions_are_checked_as_zitadel_checks_them() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{self, RsaKeyPair};
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;

        let issuer = TestIssuer::start().await;
        let path = issuer.zitadel_key_file();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(file["type"], "application");
        let pem_text = file["key"].as_str().unwrap();
        assert!(pem_text.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let PrivateKeyDer::Pkcs1(der) = PrivateKeyDer::from_pem_slice(pem_text.as_bytes()).unwrap()
        else {
            panic!("PKCS #1 expected");
        };
        let pair = RsaKeyPair::from_der(der.secret_pkcs1_der()).unwrap();
        let other = issuer.zitadel_key_file();
        let other: Value = serde_json::from_str(&std::fs::read_to_string(&other).unwrap()).unwrap();
        let (kid, client) = (
            file["keyId"].as_str().unwrap(),
            file["clientId"].as_str().unwrap(),
        );
        let sign = |header: Value, claims: Value, padding: &'static dyn signature::RsaEncoding| {
            let input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
            let mut sig = vec![0; pair.public_modulus_len()];
            pair.sign(padding, &SystemRandom::new(), input.as_bytes(), &mut sig)
                .unwrap();
            format!("{input}.{}", b64(&sig))
        };
        let now = crate::token::date::now();
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        let claims = json!({
            "iss": client, "sub": client, "aud": issuer.issuer(), "iat": now, "exp": now + 60,
        });
        let with = |name: &str, value: Value| {
            let mut changed = claims.clone();
            changed[name] = value;
            changed
        };
        let token = issuer.token().opaque();
        let client_http = reqwest::Client::new();
        let introspect = |kind: &str, assertion: String| {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", &token)
                .append_pair("client_assertion_type", kind)
                .append_pair("client_assertion", &assertion)
                .finish();
            let request = client_http
                .post(format!("{}/oauth/v2/introspect", issuer.issuer()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
        };
        let sha256 = &signature::RSA_PKCS1_SHA256;
        let good = sign(header.clone(), claims.clone(), sha256);
        let (status, body) = introspect(JWT_BEARER, good.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""active":true"#), "{body}");
        let aud_list = with("aud", json!(["https://other.example", issuer.issuer()]));
        let (status, _) = introspect(JWT_BEARER, sign(header.clone(), aud_list, sha256)).await;
        assert_eq!(status, 200, "aud holding the issuer among others");

        let mut other_kid = header.clone();
        other_kid["kid"] = other["keyId"].clone();
        let mut rs384 = header.clone();
        rs384["alg"] = "RS384".into();
        let tampered = format!("{}x", &good[..good.len() - 1]);
        let refused = [
            (
                "type",
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
                good.clone(),
            ),
            ("not a JWS", JWT_BEARER, "a.b".to_owned()),
            ("tampered", JWT_BEARER, tampered),
            (
                "kid of another client",
                JWT_BEARER,
                sign(other_kid, claims.clone(), sha256),
            ),
            (
                "alg",
                JWT_BEARER,
                sign(rs384, claims.clone(), &signature::RSA_PKCS1_SHA384),
            ),
            (
                "sub",
                JWT_BEARER,
                sign(header.clone(), with("sub", json!("x")), sha256),
            ),
            (
                "iss",
                JWT_BEARER,
                sign(header.clone(), with("iss", json!("x")), sha256),
            ),
            (
                "aud",
                JWT_BEARER,
                sign(header.clone(), with("aud", json!("https://x")), sha256),
            ),
            (
                "no exp",
                JWT_BEARER,
                sign(header.clone(), with("exp", Value::Null), sha256),
            ),
            (
                "exp",
                JWT_BEARER,
                sign(header.clone(), with("exp", json!(now - 5)), sha256),
            ),
            (
                "old iat",
                JWT_BEARER,
                sign(header.clone(), with("iat", json!(now - 3700)), sha256),
            ),
            (
                "future iat",
                JWT_BEARER,
                sign(header.clone(), with("iat", json!(now + 60)), sha256),
            ),
            (
                "no iat",
                JWT_BEARER,
                sign(header.clone(), with("iat", Value::Null), sha256),
            ),
        ];
        for (case, kind, assertion) in refused {
            let (status, body) = introspect(kind, assertion).await;
            assert_eq!(
                (status, body.as_str()),
                (400, r#"{"error":"unauthorized_client"}"#),
                "{case}"
            );
        }
        drop(issuer);
        assert!(!path.exists(), "the key file goes with the issuer");
    }
}
