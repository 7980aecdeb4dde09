//! The loopback issuer: discovery and JWKS over real HTTP, with switches for the failures keys must
//! survive.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
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

use super::signing_key::SigningKey;
use super::token_builder::TokenBuilder;
use crate::algorithm::Algorithm;
use crate::introspection::Introspection;
use crate::key_settings::KeySettings;
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
    _shutdown: oneshot::Sender<()>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

struct Shared {
    state: Mutex<State>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    introspections: AtomicUsize,
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
    /// Size of `opaque` at which expired tokens are next forgotten: twice what a sweep leaves,
    /// so minting stays amortised O(1) while a million tokens are all still valid.
    opaque_sweep_at: usize,
}

/// Issued tokens kept before the first sweep of expired ones.
const OPAQUE_SWEEP_MIN: usize = 10_000;

/// A change to the introspection answer for one token.
type Shape = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// The start of opaque tokens unless [`TestIssuer::set_opaque_prefix`] says otherwise.
const DEFAULT_OPAQUE_PREFIX: &str = "ot_";

impl State {
    fn jwks(&self) -> String {
        let keys: Vec<&Value> = self
            .current
            .iter()
            .chain(&self.previous)
            .chain(&self.next)
            .map(|key| &key.jwk)
            .collect();
        json!({ "keys": keys }).to_string()
    }

    fn discovery(&self, prefix: &str) -> String {
        let own = format!("{}{prefix}", self.issuer);
        let issuer = self.discovery_issuer.as_deref().unwrap_or(&own);
        let algorithms: Vec<&str> = self.algorithms.iter().map(|alg| alg.as_str()).collect();
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{own}/jwks"),
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
            state: Mutex::new(State {
                issuer: issuer.clone(),
                algorithms: algorithms.to_vec(),
                current,
                previous: Vec::new(),
                next: Vec::new(),
                generation: 0,
                outage: false,
                delay: Duration::ZERO,
                jwks_body: None,
                max_age: Some(300),
                discovery_issuer: None,
                opaque: HashMap::new(),
                shapes: HashMap::new(),
                opaque_prefix: DEFAULT_OPAQUE_PREFIX.to_owned(),
                opaque_sweep_at: OPAQUE_SWEEP_MIN,
            }),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            introspections: AtomicUsize::new(0),
        });
        let (shutdown, stopped) = oneshot::channel();
        tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        tracing::debug!(target: "auth", %addr, "test issuer listening");
        Ok(TestIssuer {
            shared,
            issuer,
            audience: "test-api".to_owned(),
            _shutdown: shutdown,
        })
    }

    /// The issuer URL, `http://127.0.0.1:<port>`, as tokens carry it in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
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
    pub fn adopt(&self, provider: Provider) -> Provider {
        provider
            .relocate(&self.issuer)
            .key_settings(TestIssuer::fast_key_settings())
    }

    /// Starts a token shaped for `provider` (one from [`TestIssuer::adopt`], or configured with
    /// this issuer's URL): the issuer, audience and claim values it requires, roles and scopes
    /// where it reads them. See [`TokenBuilder`] for the rest.
    pub fn token_for(&self, provider: &Provider) -> TokenBuilder<'_> {
        TokenBuilder::shaped_for(self, provider)
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
        TokenBuilder::new(self)
    }

    /// The current `kid` for an algorithm.
    pub fn kid(&self, algorithm: Algorithm) -> Option<String> {
        self.current_key(algorithm).map(|key| key.kid.clone())
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

    pub(crate) fn opaque_prefix(&self) -> String {
        self.lock().opaque_prefix.clone()
    }

    pub(crate) fn register_opaque(&self, token: String, claims: Map<String, Value>) {
        let mut state = self.lock();
        // Benchmarks and load tests mint many tokens: forget the expired ones now and then.
        if state.opaque.len() >= state.opaque_sweep_at {
            let now = crate::validation::now();
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

    /// How many times the discovery document has been requested.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// While on, discovery and JWKS answer 503.
    pub fn set_outage(&self, outage: bool) {
        self.lock().outage = outage;
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

    pub(crate) fn algorithms(&self) -> Vec<Algorithm> {
        self.lock().algorithms.clone()
    }

    pub(crate) fn default_algorithm(&self) -> Algorithm {
        self.lock()
            .algorithms
            .first()
            .copied()
            .unwrap_or(Algorithm::RS256)
    }

    pub(crate) fn current_key(&self, algorithm: Algorithm) -> Option<Arc<SigningKey>> {
        self.lock()
            .current
            .iter()
            .find(|key| key.alg == algorithm)
            .cloned()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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
        let body = match (is_jwks, &state.jwks_body) {
            (true, Some(body)) => body.clone(),
            (true, None) => state.jwks(),
            (false, _) => state.discovery(discovery_prefix.unwrap_or_default()),
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
    let (delay, outage) = {
        let state = shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (state.delay, state.outage)
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
    let (client, secret) = INTROSPECTION_CLIENT;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"));
    let by_form = form.get("client_id").map(String::as_str) == Some(client)
        && form.get("client_secret").map(String::as_str) == Some(secret);
    if basic.as_deref() != Some(expected.as_str()) && !by_form {
        return reply(
            StatusCode::UNAUTHORIZED,
            None,
            r#"{"error":"invalid_client"}"#.into(),
        );
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
    let now = super::token_builder::now();
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

fn reply(status: StatusCode, max_age: Option<u64>, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(max_age) = max_age
        && let Ok(value) =
            hyper::header::HeaderValue::from_str(&format!("public, max-age={max_age}"))
    {
        headers.insert(hyper::header::CACHE_CONTROL, value);
    }
    response
}

#[cfg(test)]
mod tests {
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
}
