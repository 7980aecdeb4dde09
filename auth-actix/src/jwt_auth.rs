//! `JwtAuth`: the configured verifier plus how requests are authenticated, as middleware and as app
//! data.

use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{Error, HttpResponse, ResponseError};
use auth_core::{
    AuthError, ConfigError, Dpop, PrefetchError, Provider, Revocations, TokenSource, Verifier,
};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::audit::DecisionMeters;
use crate::path_rules::{self, Access, PathRules};
use crate::rejection::{AuthRejection, DpopChallenge, ErrorHandler};
use crate::request_origin::{self, PublicOrigin};
use crate::request_state::{AuthState, RequestAuth, verify_request};
use crate::role_resolver::{RoleResolver, SharedResolver};
use crate::{cors_preflight, token_lookup};

/// The `realm` of `WWW-Authenticate` unless [`JwtAuth::realm`] sets another.
pub(crate) const DEFAULT_REALM: &str = "api";

/// JWT authentication for an Actix Web app. Cheap to clone (two reference counts).
///
/// As middleware (`App::new().wrap(auth.clone())`) it verifies every request's token once, before
/// any handler runs, and refuses requests without a valid token, except on the paths given to
/// [`JwtAuth::public`] (anonymous callers welcome, tokens that are sent still checked) and
/// [`JwtAuth::skip`] (not looked at). Registered as app data (`App::new().app_data(auth.clone())`)
/// instead, it lets extractors verify on demand; both may be used together.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{Identity, JwtAuth, Optional, Verified};
///
/// async fn items(caller: Optional<Identity>) -> String {
///     caller.as_ref().map_or("hello stranger".to_owned(), |id| format!("hello {}", id.subject))
/// }
///
/// async fn me(id: Verified<Identity>) -> String {
///     id.subject.clone()
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let auth = JwtAuth::new(issuer.provider()).unwrap().public(["/items"]).skip(["/health"]);
/// let app = test::init_service(
///     App::new()
///         .wrap(auth)
///         .route("/health", web::get().to(|| async { "ok" }))
///         .route("/items", web::get().to(items))
///         .route("/me", web::get().to(me)),
/// )
/// .await;
/// let get = |uri: &str| test::TestRequest::get().uri(uri);
/// assert_eq!(test::call_service(&app, get("/me").to_request()).await.status(), 401);
/// assert_eq!(test::call_and_read_body(&app, get("/items").to_request()).await, "hello stranger");
/// let bad = get("/items").bearer("not.a.token").to_request();
/// // Public, but a bad token is refused.
/// assert_eq!(test::call_service(&app, bad).await.status(), 401);
/// let token = issuer.token().subject("ada").sign();
/// assert_eq!(test::call_and_read_body(&app, get("/me").bearer(&token).to_request()).await, "ada");
/// let skipped = get("/health").bearer("junk").to_request();
/// assert_eq!(test::call_service(&app, skipped).await.status(), 200);
/// # }
/// ```
#[derive(Clone)]
pub struct JwtAuth {
    pub(crate) verifier: Verifier,
    pub(crate) config: Arc<Config>,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) sources: Vec<TokenSource>,
    pub(crate) paths: PathRules,
    pub(crate) resolver: Option<Arc<dyn SharedResolver>>,
    pub(crate) error_handler: Option<ErrorHandler>,
    pub(crate) realm: Arc<str>,
    /// The `algs` of the `DPoP` challenge.
    pub(crate) dpop_algs: Arc<str>,
    /// Scheme, host and path prefix clients address the API by, for DPoP's `htu` and cookies.
    pub(crate) public_origin: Option<PublicOrigin>,
    /// Take scheme and host from `Forwarded` / `X-Forwarded-*` headers (a trusted proxy sets them).
    pub(crate) trust_forwarded: bool,
    /// `Host` values DPoP proofs are taken for without a public origin, lowercased.
    pub(crate) allowed_hosts: Vec<Box<str>>,
    /// Other origins whose requests a cookie token counts for.
    pub(crate) cookie_origins: Vec<url::Origin>,
    pub(crate) meters: Arc<DecisionMeters>,
    /// The application's CORS layer, wrapped outside authentication.
    #[cfg(feature = "cors")]
    pub(crate) cors: Option<cors_preflight::CorsFactory>,
    /// Whether a preflight answered without CORS headers was warned about yet.
    pub(crate) preflight_warning: cors_preflight::PreflightWarning,
}

/// The `algs` of a `DPoP` challenge: the accepted proof algorithms, space-separated.
fn dpop_algs(verifier: &Verifier) -> Arc<str> {
    let algs: Vec<&str> = verifier
        .dpop_settings()
        .accepted_algorithms()
        .iter()
        .map(|alg| alg.as_str())
        .collect();
    Arc::from(algs.join(" "))
}

impl std::fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuth")
            .field("sources", &self.config.sources)
            .field("paths", &self.config.paths)
            .field("resolver", &self.config.resolver.is_some())
            .field("cors", &self.cors_layer_configured())
            .finish_non_exhaustive()
    }
}

impl JwtAuth {
    /// Authentication against one provider. Checks every setting now; fetches nothing.
    pub fn new(provider: Provider) -> Result<JwtAuth, ConfigError> {
        Verifier::new(provider).map(JwtAuth::from_verifier)
    }

    /// Authentication against several providers; the token's `iss` picks one, and an unknown issuer
    /// is refused without any network call.
    pub fn any_of(providers: impl IntoIterator<Item = Provider>) -> Result<JwtAuth, ConfigError> {
        Verifier::any_of(providers).map(JwtAuth::from_verifier)
    }

    /// Authentication with an existing verifier (sharing its keys and caches).
    pub fn from_verifier(verifier: Verifier) -> JwtAuth {
        let config = Config {
            sources: verifier.token_sources().to_vec(),
            paths: PathRules::default(),
            resolver: None,
            error_handler: None,
            realm: Arc::from(DEFAULT_REALM),
            dpop_algs: dpop_algs(&verifier),
            public_origin: None,
            trust_forwarded: false,
            allowed_hosts: Vec::new(),
            cookie_origins: Vec::new(),
            meters: Arc::new(DecisionMeters::new(&verifier)),
            #[cfg(feature = "cors")]
            cors: None,
            preflight_warning: cors_preflight::PreflightWarning::default(),
        };
        JwtAuth {
            verifier,
            config: Arc::new(config),
        }
    }

    /// Paths where anonymous callers are welcome: exact (`/items`) or prefix (`/docs/*`; `/*` for
    /// every path). A token that is sent is still verified, and a bad one refused (401), so a
    /// client learns its token needs refreshing instead of being served as a stranger. Handlers
    /// take [`Optional<Identity>`](crate::Optional) to see who, if anyone, called.
    ///
    /// # Panics
    /// If a pattern does not start with `/` or holds `*` anywhere but a trailing `/*`: a typo must
    /// stop the application at startup rather than leave a route open or closed by accident.
    pub fn public<I, S>(mut self, patterns: I) -> JwtAuth
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = path_rules::parse_all("public", patterns);
        Arc::make_mut(&mut self.config)
            .paths
            .public
            .extend(patterns);
        self
    }

    /// Paths the middleware leaves alone: no token is looked for or checked (health checks,
    /// metrics, static assets). Patterns as for [`JwtAuth::public`]. An extractor on such a path
    /// still verifies on demand.
    ///
    /// # Panics
    /// As [`JwtAuth::public`].
    pub fn skip<I, S>(mut self, patterns: I) -> JwtAuth
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = path_rules::parse_all("skip", patterns);
        Arc::make_mut(&mut self.config)
            .paths
            .skipped
            .extend(patterns);
        self
    }

    /// Where tokens are looked for (default: the providers' own sources). Header sources come
    /// first, in the order given, then cookies, whatever the order here: a token in a header
    /// decides alone.
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> JwtAuth {
        Arc::make_mut(&mut self.config).sources = sources.into_iter().collect();
        self
    }

    /// Adds request-scoped roles; see [`RoleResolver`].
    pub fn role_resolver(mut self, resolver: impl RoleResolver) -> JwtAuth {
        Arc::make_mut(&mut self.config).resolver = Some(Arc::new(resolver));
        self
    }

    /// Renders refusals with the application's own body format. `WWW-Authenticate` and
    /// `Retry-After` are still added when the handler's response lacks them.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use auth_actix::{AuthRejection, JwtAuth};
    ///
    /// # fn setup(auth: JwtAuth) -> JwtAuth {
    /// auth.error_handler(|rejection: &AuthRejection| {
    ///     let body = serde_json::json!({ "ok": false, "reason": rejection.code().as_str() });
    ///     HttpResponse::build(rejection.status()).json(body)
    /// })
    /// # }
    /// ```
    pub fn error_handler<F>(mut self, handler: F) -> JwtAuth
    where
        F: Fn(&AuthRejection) -> HttpResponse + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).error_handler = Some(Arc::new(handler));
        self
    }

    /// Sizes the verified-token cache: about `capacity` typical (1 KiB) tokens, `0` to turn it off.
    /// On by default; see [`Verifier::verified_cache`].
    pub fn verified_cache(mut self, capacity: usize) -> JwtAuth {
        self.verifier = self.verifier.verified_cache(capacity);
        self
    }

    /// Refuses tokens revoked in `revocations` (401 `INVALID_TOKEN`, "token revoked"); see
    /// [`Verifier::revocations`]. Keep a clone to revoke through, e.g. in a sign-out handler.
    pub fn revocations(mut self, revocations: Revocations) -> JwtAuth {
        self.verifier = self.verifier.revocations(revocations);
        self
    }

    /// Checks DPoP proofs as `dpop` says instead of [`Dpop::default`] (replays shared through
    /// Redis, server nonces, other algorithms or proof ages); see [`Verifier::dpop`].
    pub fn dpop(mut self, dpop: Dpop) -> Result<JwtAuth, ConfigError> {
        self.verifier = self.verifier.dpop(dpop)?;
        Arc::make_mut(&mut self.config).dpop_algs = dpop_algs(&self.verifier);
        Ok(self)
    }

    /// The origin (and path prefix, if a proxy strips one) clients address the API by, e.g.
    /// `https://api.example.com`: a DPoP proof's `htu` must name it, and a browser request whose
    /// `Origin` is its scheme, host and port is same-origin for cookie tokens.
    ///
    /// Without it, the origin comes from the request's `Host` header, which the client chooses: a
    /// DPoP proof is then accepted only on a request to a loopback address naming a loopback host
    /// (a client on this machine), or to a host given to [`JwtAuth::allowed_hosts`]; elsewhere it
    /// is refused (401 `INVALID_DPOP_PROOF`), since a proof captured at one host would replay
    /// against every instance accepting the same audience.
    pub fn public_origin(mut self, origin: &str) -> Result<JwtAuth, ConfigError> {
        let origin = PublicOrigin::parse(origin)?;
        Arc::make_mut(&mut self.config).public_origin = Some(origin);
        Ok(self)
    }

    /// Hosts (as clients send them in `Host`: `api.example.com`, `api.example.com:8443`) a DPoP
    /// proof is accepted for when no [`JwtAuth::public_origin`] is set; the proof's `htu` is then
    /// checked against the request's `Host`, or, with [`JwtAuth::trust_forwarded_headers`], the
    /// forwarded host, which must be listed here too (a proxy forwards whatever `Host` a client
    /// sent to its catch-all server). For an API addressed by several names; prefer
    /// `public_origin` where there is one.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Result<JwtAuth, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let hosts = hosts
            .into_iter()
            .map(|host| request_origin::parse_host("JwtAuth::allowed_hosts", host.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::make_mut(&mut self.config).allowed_hosts.extend(hosts);
        Ok(self)
    }

    /// Other origins (`https://app.example.com`: scheme, host and port) whose requests a token
    /// read from a cookie counts for, beside this service's own origin.
    ///
    /// A browser sends cookies with requests any site makes, so a cookie token counts only for
    /// same-site requests: it is ignored when `Sec-Fetch-Site` is `cross-site`, when it is
    /// `same-site` and `Origin` is not listed here, and when `Origin` is neither this service's
    /// origin ([`JwtAuth::public_origin`], else the `Host` header) nor listed here. Requests with
    /// neither header (navigations typed in, non-browser clients) and same-origin requests keep
    /// working. An ignored cookie authenticates nothing: a public path serves the request as
    /// anonymous, a protected one refuses it (401 `UNAUTHORIZED`, logged with the rule). Tokens in
    /// headers are not ambient credentials and are not checked this way.
    ///
    /// List the front end's origin when it runs on a sibling of the API's host
    /// (`https://app.example.com` calling `https://api.example.com`).
    pub fn cookie_origins<I, S>(mut self, origins: I) -> Result<JwtAuth, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let origins = origins
            .into_iter()
            .map(|origin| request_origin::parse_origin("JwtAuth::cookie_origins", origin.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::make_mut(&mut self.config)
            .cookie_origins
            .extend(origins);
        Ok(self)
    }

    /// Reads the request's scheme and host from `Forwarded` / `X-Forwarded-Proto` /
    /// `X-Forwarded-Host`, for DPoP's `htu`. Only behind a proxy that sets them and strips what
    /// clients send: otherwise a client chooses the URL its proof is checked against. A DPoP proof
    /// is then taken only when the forwarded host is listed with [`JwtAuth::allowed_hosts`]
    /// (otherwise 401 `INVALID_DPOP_PROOF`). Prefer [`JwtAuth::public_origin`] where the origin is
    /// known.
    pub fn trust_forwarded_headers(mut self) -> JwtAuth {
        Arc::make_mut(&mut self.config).trust_forwarded = true;
        self
    }

    /// Wraps the application's CORS layer around authentication, so one `.wrap(auth)` does both:
    /// the CORS layer answers preflights with its headers (they never reach authentication or the
    /// application) and adds its headers to every answer, refusals (401, 403, 503) included, so a
    /// browser can read why it was refused. `cors` builds the layer; it is called once per worker
    /// (actix-cors's `Cors` cannot be shared between threads).
    ///
    /// Without it, wrap actix-cors outside `JwtAuth` (`.wrap(auth).wrap(cors)`: the last wrap is
    /// the outermost). A CORS layer wrapped inside `JwtAuth` never sees a preflight: `JwtAuth`
    /// answers every preflight that reaches it with an empty `204` and no CORS headers, and logs a
    /// warning naming this method.
    ///
    /// A `Cors` that cannot work (an unparsable origin, credentials with every origin) stops the
    /// application as it starts, with an error logged for this setting.
    ///
    /// ```
    /// use actix_cors::Cors;
    /// use actix_web::{test, web, App};
    /// use auth_actix::testing::TestIssuer;
    /// use auth_actix::JwtAuth;
    ///
    /// # #[actix_web::main] async fn main() {
    /// let issuer = TestIssuer::start().await;
    /// let auth = JwtAuth::new(issuer.provider()).unwrap().cors(|| {
    ///     Cors::default()
    ///         .allowed_origin("https://app.example.com")
    ///         .allowed_methods(["GET", "POST"])
    ///         .allowed_headers(["authorization", "content-type"])
    /// });
    /// let app = test::init_service(
    ///     App::new().wrap(auth).route("/items", web::get().to(|| async { "items" })),
    /// )
    /// .await;
    /// let preflight = test::TestRequest::default()
    ///     .method(actix_web::http::Method::OPTIONS)
    ///     .uri("/items")
    ///     .insert_header(("origin", "https://app.example.com"))
    ///     .insert_header(("access-control-request-method", "GET"))
    ///     .to_request();
    /// let answer = test::call_service(&app, preflight).await;
    /// assert_eq!(answer.status(), 200);
    /// assert!(answer.headers().contains_key("access-control-allow-origin"));
    /// let refused = test::TestRequest::get()
    ///     .uri("/items")
    ///     .insert_header(("origin", "https://app.example.com"))
    ///     .to_request();
    /// let refused = test::call_service(&app, refused).await;
    /// assert_eq!(refused.status(), 401);
    /// assert!(refused.headers().contains_key("access-control-allow-origin"));
    /// # }
    /// ```
    #[cfg(feature = "cors")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cors")))]
    pub fn cors<F>(mut self, cors: F) -> JwtAuth
    where
        F: Fn() -> actix_cors::Cors + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).cors = Some(Arc::new(cors));
        self
    }

    /// Whether [`JwtAuth::cors`] gave this configuration a CORS layer.
    pub(crate) fn cors_layer_configured(&self) -> bool {
        #[cfg(feature = "cors")]
        return self.config.cors.is_some();
        #[cfg(not(feature = "cors"))]
        return false;
    }

    /// The realm named in `WWW-Authenticate` (default `api`).
    pub fn realm(mut self, realm: &str) -> JwtAuth {
        let realm: String = realm
            .chars()
            .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
            .collect();
        Arc::make_mut(&mut self.config).realm = Arc::from(realm);
        self
    }

    /// The underlying verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Fetches every provider's keys now and probes its introspection endpoint; see
    /// [`Verifier::prefetch`] for which failures to stop on.
    pub async fn prefetch(&self) -> Result<(), PrefetchError> {
        self.verifier.prefetch().await
    }

    /// Whether requests can be decided now (keys usable, introspection credentials accepted, shared
    /// revocations loaded), for `/readyz`; see [`Verifier::readiness`].
    pub fn readiness(&self) -> auth_core::Readiness {
        self.verifier.readiness()
    }

    /// Fetches keys and probes introspection at startup, failing only on a misconfiguration (such
    /// as introspection credentials the issuer refuses); see [`Verifier::warm_up`]. Says so, once,
    /// when DPoP proofs will be taken only from this machine because no public origin is set.
    pub async fn warm_up(&self) -> Result<(), ConfigError> {
        if self.config.public_origin.is_none() && !self.config.trust_forwarded {
            tracing::info!(
                target: crate::audit::TARGET,
                allowed_hosts = ?self.config.allowed_hosts,
                "DPoP proofs are accepted only on requests to a loopback address naming a loopback \
                 host (or to JwtAuth::allowed_hosts), because no public origin is set; set \
                 JwtAuth::public_origin (AUTH_PUBLIC_ORIGIN in the examples) to accept them from \
                 other machines"
            );
        }
        self.verifier.warm_up().await
    }

    /// A refusal rendered as this configuration says.
    pub(crate) fn rejection(&self, error: AuthError) -> AuthRejection {
        self.rejection_for(error, false)
    }

    /// A refusal of a token sent with the DPoP scheme (`dpop`) or another way. It offers the
    /// `DPoP` challenge only where a configured provider can issue DPoP-bound tokens.
    pub(crate) fn rejection_for(&self, error: AuthError, dpop: bool) -> AuthRejection {
        let nonce = matches!(error, AuthError::UseDpopNonce)
            .then(|| self.verifier.dpop_settings().current_nonce())
            .flatten();
        let rejection = AuthRejection::new(
            error,
            Arc::clone(&self.config.realm),
            self.config.error_handler.clone(),
        );
        if !self.verifier.offers_dpop() {
            return rejection;
        }
        rejection.with_dpop(DpopChallenge {
            algs: Arc::clone(&self.config.dpop_algs),
            presented: dpop,
            nonce,
        })
    }
}

impl<S, B> Transform<S, ServiceRequest> for JwtAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<EitherBody<B>>>;
    type Error = Error;
    type Transform = JwtAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let auth = AuthService {
            service: Rc::new(service),
            auth: self.clone(),
        };
        #[cfg(feature = "cors")]
        if let Some(cors) = &self.config.cors {
            // CORS outermost: it answers preflights before authentication and adds its headers to
            // refusals too.
            let layers = match cors().new_transform(auth).into_inner() {
                Ok(cors) => Ok(JwtAuthMiddleware {
                    layers: Layers::Cors(cors, self.clone()),
                }),
                Err(()) => {
                    tracing::error!(
                        target: crate::audit::TARGET,
                        "JwtAuth::cors: the CORS layer cannot start (actix-cors logged why: an \
                         origin that does not parse, or credentials allowed with every origin \
                         and send_wildcard)"
                    );
                    Err(())
                }
            };
            return ready(layers);
        }
        ready(Ok(JwtAuthMiddleware {
            layers: Layers::Auth(auth),
        }))
    }
}

/// The service [`JwtAuth`] wraps around an app or scope: authentication, inside the CORS layer
/// given to [`JwtAuth::cors`] if any. One response type either way (the body of a response
/// without a CORS layer is the left one, moved, not copied).
pub struct JwtAuthMiddleware<S> {
    layers: Layers<S>,
}

enum Layers<S> {
    Auth(AuthService<S>),
    /// The CORS layer around authentication, and the configuration, to record the preflights it
    /// answers.
    #[cfg(feature = "cors")]
    Cors(actix_cors::CorsMiddleware<AuthService<S>>, JwtAuth),
}

impl<S, B> Service<ServiceRequest> for JwtAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<EitherBody<B>>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match &self.layers {
            Layers::Auth(auth) => auth.poll_ready(cx),
            #[cfg(feature = "cors")]
            Layers::Cors(cors, _) => cors.poll_ready(cx),
        }
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match &self.layers {
            Layers::Auth(auth) => {
                let response = auth.authenticate(req);
                Box::pin(async move { Ok(response.await?.map_into_left_body()) })
            }
            #[cfg(feature = "cors")]
            Layers::Cors(cors, auth) => {
                // The CORS layer answers preflights without calling further in: the decision
                // log still gets the request's one `preflight` decision.
                if cors_preflight::is_preflight(req.request())
                    && auth.config.paths.access(req.path()) != Access::Skipped
                {
                    RequestAuth::install(req.request(), auth.clone(), AuthState::Preflight);
                }
                cors.call(req)
            }
        }
    }
}

/// Authentication itself: decides the request, then calls the application or answers for it.
pub(crate) struct AuthService<S> {
    service: Rc<S>,
    auth: JwtAuth,
}

impl<S, B> AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    fn authenticate(
        &self,
        req: ServiceRequest,
    ) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>> + 'static {
        let service = Rc::clone(&self.service);
        let auth = self.auth.clone();
        async move {
            let access = auth.config.paths.access(req.path());
            // Nothing reaches the application unauthenticated because of its shape: a preflight
            // is answered here unless the path is skipped (the application then sees everything).
            if access != Access::Skipped && cors_preflight::is_preflight(req.request()) {
                return Ok(cors_preflight::answer(req, &auth).map_into_right_body());
            }
            let state = match access {
                // Extractors on a skipped path may still verify on demand, with this configuration.
                Access::Skipped => AuthState::Unverified,
                Access::Public => verify_request(req.request(), &auth, true).await,
                Access::Protected => verify_request(req.request(), &auth, false).await,
            };
            let refused = state.rejection().map(ResponseError::error_response);
            // With server nonces, every answer to a DPoP request carries the current one, so
            // clients keep up with rotation without a refusal (RFC 9449 §8.2).
            let nonce = req
                .headers()
                .contains_key("dpop")
                .then(|| auth.verifier.dpop_settings().current_nonce())
                .flatten();
            let token_protocol = token_lookup::is_websocket_upgrade(req.headers())
                && token_lookup::offers_token_protocol(req.headers());
            RequestAuth::install(req.request(), auth, state);
            let mut response = match refused {
                Some(response) => req.into_response(response).map_into_right_body(),
                None => service.call(req).await?.map_into_left_body(),
            };
            // A browser drops a WebSocket whose handshake answer names none of the subprotocols
            // it offered: name the marker, never the token.
            if token_protocol
                && response.status() == actix_web::http::StatusCode::SWITCHING_PROTOCOLS
                && !response
                    .headers()
                    .contains_key(header::SEC_WEBSOCKET_PROTOCOL)
            {
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    header::HeaderValue::from_static(token_lookup::WEBSOCKET_PROTOCOL),
                );
            }
            if let Some(nonce) = nonce
                && let Ok(value) = header::HeaderValue::from_str(&nonce)
            {
                let name = header::HeaderName::from_static("dpop-nonce");
                if !response.headers().contains_key(&name) {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response)
        }
    }
}

impl<S, B> Service<ServiceRequest> for AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        Box::pin(self.authenticate(req))
    }
}
