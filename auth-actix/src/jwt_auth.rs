//! `JwtAuth`: the configured verifier plus how requests are authenticated, built once and cloned
//! into the middleware ([`middleware`](crate::middleware) handles the requests) or app data.

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::HttpResponse;
use auth_core::{
    ConfigError, Dpop, PrefetchError, Provider, Revocations, TokenSource, Verifier,
    is_challenge_name,
};

use crate::guard::role_resolver::{RoleResolver, SharedResolver};
use crate::request::origin::{self, OriginConfig, PublicOrigin};
use crate::request::paths::{self, PathAccess};
use crate::request::preflight;
use crate::response::TARGET;
use crate::response::audit::DecisionMeters;
use crate::response::rejection::{AuthRejection, DEFAULT_REALM, ErrorHandler};

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
    pub(crate) paths: PathAccess,
    pub(crate) resolver: Option<Arc<dyn SharedResolver>>,
    pub(crate) error_handler: Option<ErrorHandler>,
    pub(crate) realm: Arc<str>,
    /// The `algs` of the `DPoP` challenge.
    pub(crate) dpop_algs: Arc<str>,
    /// This service's origin and the other origins that count: what requests' origins are judged
    /// by.
    pub(crate) origins: OriginConfig,
    pub(crate) meters: Arc<DecisionMeters>,
    /// The application's CORS layer, wrapped outside authentication.
    #[cfg(feature = "cors")]
    pub(crate) cors: Option<preflight::CorsFactory>,
    /// Whether a preflight answered without CORS headers was warned about yet.
    pub(crate) preflight_warning: preflight::PreflightWarning,
    /// RFC 9728 `resource_name`.
    pub(crate) resource_name: Option<String>,
    /// RFC 9728 `resource_documentation`.
    pub(crate) resource_documentation: Option<String>,
    /// RFC 9728 `authorization_servers` for every resource, when the application names them.
    pub(crate) authorization_servers: Option<Vec<String>>,
    /// The exact `scopes_supported` list, when the application names it; else the scopes of
    /// every guard registered in the binary.
    pub(crate) scopes_supported: Option<BTreeSet<String>>,
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
            paths: PathAccess::default(),
            resolver: None,
            error_handler: None,
            realm: Arc::from(DEFAULT_REALM),
            dpop_algs: dpop_algs(&verifier),
            origins: OriginConfig::default(),
            meters: Arc::new(DecisionMeters::new(&verifier)),
            #[cfg(feature = "cors")]
            cors: None,
            preflight_warning: preflight::PreflightWarning::default(),
            resource_name: None,
            resource_documentation: None,
            authorization_servers: None,
            scopes_supported: None,
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
        let patterns = paths::parse_all("public", patterns);
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
        let patterns = paths::parse_all("skip", patterns);
        Arc::make_mut(&mut self.config)
            .paths
            .skipped
            .extend(patterns);
        self
    }

    /// Where tokens are looked for (default: the providers' own sources). Header sources come
    /// first, in the order given, then cookies, whatever the order here: a token in a header
    /// decides alone. WebSocket upgrades carry theirs in the subprotocol: list
    /// [`TokenSource::WebSocketProtocol`] (the providers' defaults have it right after
    /// [`TokenSource::Bearer`]). The same list gives the OpenAPI security schemes.
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
        Arc::make_mut(&mut self.config).origins.public_origin = Some(origin);
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
            .map(|host| origin::parse_host("JwtAuth::allowed_hosts", host.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::make_mut(&mut self.config)
            .origins
            .allowed_hosts
            .extend(hosts);
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
            .map(|origin| origin::parse_origin("JwtAuth::cookie_origins", origin.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::make_mut(&mut self.config)
            .origins
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
        Arc::make_mut(&mut self.config).origins.trust_forwarded = true;
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

    /// A human-readable name for the protected resources' metadata (RFC 9728 §2 `resource_name`),
    /// e.g. `"Orders MCP server"`. Metadata is served for every resource given to
    /// [`Provider::resource`]: at `/.well-known/oauth-protected-resource` followed by the
    /// resource's path (§3.1), before any authentication and whatever [`JwtAuth::skip`] and
    /// [`JwtAuth::public`] say (a `GET` or `HEAD`; `Cache-Control: public, max-age=3600`).
    ///
    /// ```
    /// use actix_web::{test, web, App};
    /// use auth_actix::testing::TestIssuer;
    /// use auth_actix::JwtAuth;
    ///
    /// # #[actix_web::main] async fn main() {
    /// let issuer = TestIssuer::start().await;
    /// let provider = issuer.provider().resource("https://api.example.com/mcp");
    /// let auth = JwtAuth::new(provider).unwrap().resource_name("Orders MCP server");
    /// let app = App::new().wrap(auth).route("/mcp", web::post().to(|| async { "" }));
    /// let app = test::init_service(app).await;
    /// let req = test::TestRequest::get().uri("/.well-known/oauth-protected-resource/mcp");
    /// let doc: serde_json::Value = test::call_and_read_body_json(&app, req.to_request()).await;
    /// assert_eq!(doc["resource"], "https://api.example.com/mcp");
    /// assert_eq!(doc["authorization_servers"][0], issuer.issuer());
    /// assert_eq!(doc["resource_name"], "Orders MCP server");
    /// # }
    /// ```
    pub fn resource_name(mut self, name: &str) -> JwtAuth {
        Arc::make_mut(&mut self.config).resource_name = Some(name.to_owned());
        self
    }

    /// A page documenting the protected resources, for their metadata (RFC 9728 §2
    /// `resource_documentation`): an absolute `https://` URL (`http://` on loopback).
    pub fn resource_documentation(mut self, url: &str) -> Result<JwtAuth, ConfigError> {
        let bad = |problem: String| ConfigError {
            setting: "JwtAuth::resource_documentation".to_owned(),
            problem,
        };
        let parsed = url::Url::parse(url)
            .map_err(|err| bad(format!("{url:?} is not an absolute URL ({err})")))?;
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(bad(format!(
                "{url:?}: write an https:// URL, e.g. https://docs.example.com/api"
            )));
        }
        Arc::make_mut(&mut self.config).resource_documentation = Some(url.to_owned());
        Ok(self)
    }

    /// The authorization servers every protected resource's metadata lists (RFC 9728 §2
    /// `authorization_servers`), in this order, instead of the providers' issuers: each an
    /// issuer identifier as clients compare it (absolute `https://`, `http://` on loopback only,
    /// with a host, no credentials, query or fragment), published exactly as written. A later
    /// call adds to the list.
    ///
    /// By default each resource lists the issuers of the providers serving it, except a
    /// multi-tenant template's ([`Provider::entra_multi_tenant`](auth_core::Provider::entra_multi_tenant)): its
    /// tenants are the service's customers, which public metadata should not enumerate. A
    /// resource left with none omits the member, which RFC 9728 allows but MCP clients need to
    /// find where to get a token: name the servers to publish here (e.g. one customer-neutral
    /// authority, or only the tenants that may be named).
    ///
    /// ```
    /// use auth_actix::JwtAuth;
    /// use auth_core::Provider;
    ///
    /// let provider = Provider::entra_multi_tenant("6e74172b-be56-4843-9ff4-e66a39bb12e3", [
    ///     "72f988bf-86f1-41af-91ab-2d7cd011db47",
    /// ])
    /// .resource("https://api.example.com/mcp");
    /// let auth = JwtAuth::new(provider)
    ///     .unwrap()
    ///     .authorization_servers(["https://login.microsoftonline.com/organizations/v2.0"])
    ///     .unwrap();
    /// let err = JwtAuth::new(Provider::oidc("https://i.example.com").resource("https://a.example.com"))
    ///     .unwrap()
    ///     .authorization_servers(["http://i.example.com"])
    ///     .unwrap_err();
    /// assert_eq!(err.setting, "JwtAuth::authorization_servers");
    /// ```
    pub fn authorization_servers<I, S>(mut self, servers: I) -> Result<JwtAuth, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        const SETTING: &str = "JwtAuth::authorization_servers";
        let mut checked = Vec::new();
        for server in servers {
            let server: String = server.into();
            let url = auth_core::checked_issuer_url(SETTING, &server)?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(ConfigError {
                    setting: SETTING.to_owned(),
                    problem: format!(
                        "{server:?} has a query or fragment, which an issuer identifier never \
                         has (RFC 8414 §2): write e.g. https://issuer.example.com"
                    ),
                });
            }
            checked.push(server);
        }
        let list = Arc::make_mut(&mut self.config)
            .authorization_servers
            .get_or_insert_with(Vec::new);
        for server in checked {
            if !list.contains(&server) {
                list.push(server);
            }
        }
        Ok(self)
    }

    /// The exact scopes the protected-resource metadata lists in `scopes_supported` (RFC 9728
    /// §2) and a 401's challenge names where the route names none: these, sorted, without
    /// repeats (a later call adds to the list), whatever guards are registered.
    ///
    /// Without it, the list is every scope guard compiled into the binary: every
    /// `#[require_scope]` (and attribute naming scopes), and every
    /// [`Authorize::any_scope`](crate::Authorize::any_scope) or `all_scopes` built so far in the
    /// process, whichever application it guards. Name the list to publish exactly when one binary
    /// serves several applications (an internal listener's scopes would otherwise be published on
    /// the public one), or to add the scopes of hand-written rules
    /// ([`Require<R>`](crate::Require) with your own [`NamedRule`](crate::NamedRule),
    /// [`authorize`](crate::authorize) calls), which no registry sees. The member is left out
    /// when the list is empty.
    ///
    /// Each scope must be one the challenges' quoted `scope` can carry: an RFC 6749 §3.3
    /// scope-token of at most 256 bytes without commas or equals signs (visible ASCII without
    /// spaces, quotes, backslashes, commas or equals signs); anything else is a [`ConfigError`]
    /// naming `JwtAuth::scopes_supported`.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Result<JwtAuth, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        if let Some(bad) = scopes.iter().find(|scope| !is_challenge_name(scope)) {
            return Err(ConfigError {
                setting: "JwtAuth::scopes_supported".to_owned(),
                problem: format!(
                    "{bad:?} is not a scope a challenge can carry: an RFC 6749 scope-token of at \
                     most 256 bytes without commas or equals signs (visible ASCII without \
                     spaces, quotes, backslashes, commas or equals signs), e.g. \"mcp:tools\""
                ),
            });
        }
        Arc::make_mut(&mut self.config)
            .scopes_supported
            .get_or_insert_with(BTreeSet::new)
            .extend(scopes);
        Ok(self)
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
        if self.config.origins.public_origin.is_none() && !self.config.origins.trust_forwarded {
            tracing::info!(
                target: TARGET,
                allowed_hosts = ?self.config.origins.allowed_hosts,
                "DPoP proofs are accepted only on requests to a loopback address naming a loopback \
                 host (or to JwtAuth::allowed_hosts), because no public origin is set; set \
                 JwtAuth::public_origin (AUTH_PUBLIC_ORIGIN in the examples) to accept them from \
                 other machines"
            );
        }
        self.verifier.warm_up().await
    }
}
