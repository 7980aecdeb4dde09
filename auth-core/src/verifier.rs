//! The verification pipeline: token, header, issuer, key, signature, claims, identity.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use crate::dpop::{Dpop, DpopRequest};
use crate::error::truncated;
use crate::error::{AuthError, ConfigError, Malformed, PrefetchError};
use crate::health::{IssuerHealth, Readiness};
use crate::identity::authentication::check_step_up;
use crate::introspection;
use crate::introspection::cache::IntrospectionCache;
use crate::introspection::path::IntrospectionPath;
use crate::metrics::VerifierMeters;
use crate::provider::Provider;
use crate::provider::compiled::CompiledProvider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::{self, ProtectedResource};
use crate::revocation::Revocations;
use crate::token::claims::Claims;
use crate::token::compact::{self, MAX_TOKEN_LEN};
use crate::token::date;
use crate::token::json::{Json, Object};
use crate::token::source::TokenSource;
use crate::token::verified::VerifiedToken;
use crate::verified_cache::{CachedToken, DEFAULT_CACHE_CAPACITY, VerifiedCache};

/// Verifies tokens from one or more configured providers. Cheap to clone; clones share keys and
/// caches.
///
/// Construction checks every setting without touching the network; keys are fetched on first use,
/// or up front with [`Verifier::prefetch`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{AuthError, ErrorCode, StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let verifier = Verifier::new(issuer.provider())?;
/// verifier.prefetch().await?;
///
/// let token = issuer.token().subject("ada").roles(["admin"]).sign();
/// let claims = verifier.verify::<StandardClaims>(&token).await?;
/// assert_eq!(claims.identity().subject, "ada");
///
/// let expired = issuer.token().expired().sign();
/// let refusal = verifier.verify::<StandardClaims>(&expired).await.unwrap_err();
/// assert_eq!(refusal, AuthError::Expired);
/// assert_eq!(refusal.code(), ErrorCode::TokenExpired);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    providers: Arc<[CompiledProvider]>,
    token_sources: Arc<[TokenSource]>,
    endpoints: Arc<[TokenEndpoints]>,
    cache: Option<VerifiedCache>,
    /// Answers of introspection, when a provider introspects.
    introspections: Option<Arc<IntrospectionCache>>,
    revocations: Option<Revocations>,
    dpop: Dpop,
    /// Whether any provider refuses bearer tokens, so others pay nothing for the check.
    dpop_required: bool,
    /// Whether any provider can issue DPoP-bound tokens at all.
    dpop_offered: bool,
    /// The protected resources the providers' tokens are for (RFC 8707), for the web layer.
    resources: Arc<[ProtectedResource]>,
    meters: Arc<VerifierMeters>,
}

impl Verifier {
    /// A verifier for one provider.
    pub fn new(provider: Provider) -> Result<Verifier, ConfigError> {
        Verifier::any_of([provider])
    }

    /// A verifier for several providers (multi-tenant, or two identity providers at once). The
    /// token's unverified `iss` picks the provider; an `iss` no provider accepts is refused without
    /// any fetch. An opaque token goes to one introspecting provider only, picked by
    /// [`Introspection::token_prefix`](crate::Introspection::token_prefix); two introspecting
    /// providers whose tokens cannot be told apart that way are refused here.
    pub fn any_of(providers: impl IntoIterator<Item = Provider>) -> Result<Verifier, ConfigError> {
        let mut providers_compiled = Vec::new();
        let mut token_sources: Vec<TokenSource> = Vec::new();
        let mut endpoints = Vec::new();
        let mut introspecting = Vec::new();
        for provider in providers {
            if let Some(introspection) = &provider.introspection {
                let name = format!("{} ({})", provider.name, provider.issuer.discovery_issuer());
                introspecting.push((name, introspection.token_prefix.clone()));
            }
            endpoints.push(provider.endpoints.clone());
            for source in &provider.token_sources {
                if !token_sources.contains(source) {
                    token_sources.push(source.clone());
                }
            }
            providers_compiled.push(CompiledProvider::compile(provider)?);
        }
        let providers = providers_compiled;
        if providers.is_empty() {
            return Err(ConfigError::new(
                "providers",
                "no provider given; pass at least one Provider",
            ));
        }
        introspection::check_routing(&introspecting)?;
        let cache = Some(VerifiedCache::new(DEFAULT_CACHE_CAPACITY));
        let dpop_required = providers.iter().any(|provider| provider.dpop_required);
        let dpop_offered = providers
            .iter()
            .any(|issuer| issuer.issues_dpop || issuer.dpop_required);
        let resources = protected_resources(&providers)?;
        let introspections = providers
            .iter()
            .any(|provider| provider.introspection.is_some())
            .then(|| Arc::new(IntrospectionCache::new(DEFAULT_CACHE_CAPACITY)));
        Ok(Verifier {
            inner: Arc::new(Inner {
                providers: providers.into(),
                token_sources: token_sources.into(),
                endpoints: endpoints.into(),
                cache,
                introspections,
                revocations: None,
                dpop: Dpop::default(),
                dpop_required,
                dpop_offered,
                resources: resources.into(),
                meters: Arc::new(VerifierMeters::new()),
            }),
        })
    }

    /// The protected resources the providers' tokens are for ([`Provider::resource`]), in the order
    /// first given, each with the providers' issuers (RFC 9728 §2 `authorization_servers`): what
    /// the web layer publishes as protected-resource metadata.
    pub fn protected_resources(&self) -> &[ProtectedResource] {
        &self.inner.resources
    }

    /// The same verifier (sharing keys) with a verified-token cache of about `capacity` typical (1
    /// KiB) tokens; `0` turns the cache off. On by default with
    /// [`DEFAULT_CACHE_CAPACITY`](crate::limits::DEFAULT_CACHE_CAPACITY).
    ///
    /// A repeated token skips the signature check; its claims (expiry with leeway included) are
    /// still checked, entries live no longer than the token's `exp`, and an entry whose key has
    /// left the key set is dropped.
    pub fn verified_cache(self, capacity: usize) -> Verifier {
        self.rebuilt(|inner| inner.cache = (capacity > 0).then(|| VerifiedCache::new(capacity)))
    }

    /// The same verifier (sharing keys and caches) refusing tokens revoked in `revocations`, which
    /// is checked on every verification, cache hits and introspected tokens included.
    pub fn revocations(self, revocations: Revocations) -> Verifier {
        self.rebuilt(|inner| inner.revocations = Some(revocations))
    }

    /// The same verifier (sharing keys and caches) checking DPoP proofs as `dpop` says, instead
    /// of [`Dpop::default`]. Fails on a setting that cannot work, naming it.
    pub fn dpop(self, dpop: Dpop) -> Result<Verifier, ConfigError> {
        dpop.validate()?;
        Ok(self.rebuilt(|inner| inner.dpop = dpop))
    }

    /// How DPoP proofs are checked (for challenges and nonces).
    pub fn dpop_settings(&self) -> &Dpop {
        &self.inner.dpop
    }

    /// Whether any configured provider can issue DPoP-bound tokens (RFC 9449): a generic OIDC
    /// issuer, Okta, Auth0, Keycloak, or one that [requires DPoP](Provider::require_dpop). The web
    /// layer offers the `DPoP` challenge only then; Entra, Zitadel, Google, Firebase, Cognito,
    /// Clerk and Cloudflare Access issue bearer tokens alone.
    pub fn offers_dpop(&self) -> bool {
        self.inner.dpop_offered
    }

    /// The step-up check (RFC 9470 §3) of a token this verifier verified: its
    /// [`Authentication::acr`](crate::Authentication::acr) must be one of `acr_values` (when any
    /// are given), and its [`Authentication::time`](crate::Authentication::time) (`auth_time`) no
    /// older than `max_age` (when given), both with the accepting provider's leeway for its
    /// clock. A missing or malformed claim refuses, with
    /// [`AuthError::InsufficientAuthentication`] naming what the challenge asks for. The web
    /// layer's step-up guards call this on every request (a cached token ages too).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{ErrorCode, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let verifier = Verifier::new(issuer.provider())?;
    /// let token = issuer.token().claim("acr", "urn:okta:loa:1fa:any").sign();
    /// let token = verifier.verify_token(&token).await?;
    /// let refusal = verifier
    ///     .check_authentication(&token, &["urn:okta:loa:2fa:any"], Some(Duration::from_secs(300)))
    ///     .unwrap_err();
    /// assert_eq!(refusal.code(), ErrorCode::InsufficientAuthentication);
    /// verifier.check_authentication(&token, &["urn:okta:loa:1fa:any"], None)?;
    /// # Ok(()) }
    /// ```
    pub fn check_authentication<S: AsRef<str>>(
        &self,
        token: &VerifiedToken,
        acr_values: &[S],
        max_age: Option<Duration>,
    ) -> Result<(), AuthError> {
        // Without the provider (a token of another verifier), no leeway: the stricter reading.
        let leeway = self
            .inner
            .providers
            .get(token.provider())
            .map_or(0, |provider| provider.checks.leeway.as_secs());
        check_step_up(
            token.identity().authentication.as_ref(),
            acr_values,
            max_age.map(|max_age| max_age.as_secs()),
            leeway,
            date::now(),
        )
    }

    /// The resource check (RFC 8707 §2; MCP: servers accept only tokens "issued specifically for
    /// them") of a token this verifier verified, for a request to `resource`: the canonical URL of
    /// the protected resource whose path holds the request's ([`ProtectedResource::path`]), or
    /// `None` for a path outside every resource. The web layer calls it on every request after
    /// verification (a cached token included).
    ///
    /// - No provider names a resource ([`Provider::resource`]): every token passes.
    /// - `Some(resource)`: the accepting provider must serve `resource`, and the token's `aud`
    ///   must hold `resource` or one of that provider's audiences that name no resource (its
    ///   [`Provider::audience`]s, a preset's own identifier: Entra v2's client ID, Keycloak's
    ///   client ID, Auth0's API identifier). A token for another resource of the same server is
    ///   refused, as is a token of a provider that does not serve `resource`.
    /// - `None`: a provider with resources accepts only tokens whose `aud` holds one of its
    ///   audiences that name no resource; a provider without resources, any token it verified.
    ///
    /// A refusal is [`AuthError::WrongResource`] (401 `INVALID_TOKEN`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{AuthError, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let mcp = "https://api.example.com/mcp";
    /// let admin = "https://api.example.com/admin";
    /// let verifier = Verifier::new(issuer.provider().resource(mcp).resource(admin))?;
    /// let token = verifier.verify_token(&issuer.token().audience(admin).sign()).await?;
    /// verifier.check_resource(&token, Some(admin))?;
    /// let refusal = verifier.check_resource(&token, Some(mcp)).unwrap_err();
    /// assert!(matches!(refusal, AuthError::WrongResource { .. }));
    /// # Ok(()) }
    /// ```
    pub fn check_resource(
        &self,
        token: &VerifiedToken,
        resource: Option<&str>,
    ) -> Result<(), AuthError> {
        if self.inner.resources.is_empty() {
            return Ok(());
        }
        let refused = || AuthError::WrongResource {
            resource: resource.map(str::to_owned),
        };
        // A token of another verifier: no provider here vouches for its resources.
        let Some(provider) = self.inner.providers.get(token.provider()) else {
            return Err(refused());
        };
        let plain = |aud: &str| provider.plain_audiences.iter().any(|a| a == aud);
        let admitted = match resource {
            Some(resource) => {
                provider.resources.iter().any(|r| r == resource)
                    && aud_holds(token.payload(), |aud| aud == resource || plain(aud))
            }
            None => provider.resources.is_empty() || aud_holds(token.payload(), plain),
        };
        if admitted { Ok(()) } else { Err(refused()) }
    }

    fn rebuilt(&self, change: impl FnOnce(&mut Inner)) -> Verifier {
        let mut inner = Inner::clone(&self.inner);
        change(&mut inner);
        Verifier {
            inner: Arc::new(inner),
        }
    }

    /// Entries in the verified-token cache now, including any past their time that a hit, an
    /// eviction or the next sweep (at most once a minute, on an insert) has not dropped yet.
    pub fn cached_tokens(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, VerifiedCache::len)
    }

    /// Where each configured provider's clients obtain tokens (for API documentation), in the
    /// order the providers were given: as the preset names them, and where a preset names no
    /// authorization and token endpoints, the ones the provider's discovery document names once
    /// it has been read ([`Verifier::warm_up`], [`Verifier::prefetch`] or the first token).
    pub fn token_endpoints(&self) -> Vec<TokenEndpoints> {
        self.inner
            .endpoints
            .iter()
            .zip(self.inner.providers.iter())
            .map(|(endpoints, provider)| {
                let mut endpoints = endpoints.clone();
                if endpoints.authorization_url.is_none()
                    && endpoints.token_url.is_none()
                    && let Some(sign_in) = provider.keys.sign_in()
                {
                    endpoints.authorization_url = Some(sign_in.authorization_endpoint.clone());
                    endpoints.token_url = Some(sign_in.token_endpoint.clone());
                }
                endpoints
            })
            .collect()
    }

    /// Every token source any provider uses, in order of first mention.
    pub fn token_sources(&self) -> &[TokenSource] {
        &self.inner.token_sources
    }

    /// Whether the verifier can decide requests now: every provider's keys usable, no
    /// introspection endpoint refusing this API's credentials (or, under
    /// [`Introspection::all_tokens`](crate::Introspection::all_tokens), its JWTs), shared
    /// revocations loaded. Serve it at `/readyz`; never tie liveness to it.
    ///
    /// Each introspecting provider's entry says how its endpoint answered last (the startup
    /// probe, or a request's call). An endpoint that refused this API is probed again in the
    /// background when readiness is asked (at most once per key `failure_backoff`), so an
    /// instance taken out of service comes back once the issuer accepts it again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::Verifier;
    /// use auth_core::testing::TestIssuer;
    ///
    /// let issuer = TestIssuer::start().await;
    /// let verifier = Verifier::new(issuer.provider())?;
    /// assert!(!verifier.readiness().ready, "no keys yet");
    /// verifier.prefetch().await?;
    /// let readiness = verifier.readiness();
    /// assert!(readiness.ready);
    /// assert_eq!(readiness.issuers[0].issuer, issuer.issuer());
    /// # Ok(()) }
    /// ```
    pub fn readiness(&self) -> Readiness {
        let issuers: Vec<IssuerHealth> = self
            .inner
            .providers
            .iter()
            .map(|provider| {
                let mut health = provider.keys.health();
                if let Some(introspection) = &provider.introspection {
                    introspection.recheck_if_due();
                    health.introspection = Some(introspection.health());
                }
                health
            })
            .collect();
        let revocations_loaded = self.inner.revocations.as_ref().map(Revocations::is_ready);
        let serviceable = |issuer: &IssuerHealth| {
            issuer.usable
                && issuer
                    .introspection
                    .as_ref()
                    .is_none_or(|introspection| introspection.serviceable())
        };
        Readiness {
            ready: issuers.iter().all(serviceable) && revocations_loaded != Some(false),
            issuers,
            revocations_loaded,
        }
    }

    /// Fetches every provider's keys now, and probes each introspection endpoint once; fails with
    /// the URL and the cause if any cannot be loaded or reached.
    ///
    /// Call it at startup. [`PrefetchError::Misconfigured`] (discovery not found or naming another
    /// issuer, no usable key, introspection credentials the issuer refuses) will not mend itself:
    /// stop. [`PrefetchError::Unreachable`] is an outage of the identity provider: an API may start
    /// anyway, serve its public routes, answer 503 on protected ones, and recover when the keys
    /// arrive, which the verifier keeps trying.
    ///
    /// The probe asks about a random value no issuer has issued, authenticated as configured:
    /// `active: false` proves the credentials; HTTP 401, or 400 `invalid_client` /
    /// `unauthorized_client`, is a [`ConfigError`] naming the credentials' setting (the Zitadel
    /// key file's path, or the client ID) and what to check. Under
    /// [`Introspection::all_tokens`](crate::Introspection::all_tokens) a second probe, shaped as a
    /// JWT, finds issuers that do not introspect JWTs (HTTP 400 `unsupported_token_type`, as the
    /// npm `oidc-provider` answers): a [`ConfigError`] naming `Introspection::all_tokens`.
    ///
    /// With the `redis` feature, a Redis server behind [`Dpop::redis`] or
    /// [`Revocations::redis`](crate::Revocations::redis) that may evict what they keep is a
    /// [`ConfigError`] naming that setting and the `maxmemory-policy` found, unless the risk was
    /// accepted ([`Dpop::redis_eviction_accepted`],
    /// [`RevocationSettings::redis_eviction_accepted`](crate::RevocationSettings::redis_eviction_accepted)).
    pub async fn prefetch(&self) -> Result<(), PrefetchError> {
        self.check_stores().await?;
        for provider in self.inner.providers.iter() {
            provider.prefetch_keys().await?;
            provider.check_issuer_document().await?;
            provider.probe_introspection().await?;
        }
        Ok(())
    }

    /// Fetches every provider's keys and probes its introspection endpoint at startup, as
    /// [`Verifier::prefetch`], but fails only on a misconfiguration: an unreachable issuer is
    /// logged as a warning naming it, requests answer 503 `AUTH_UNAVAILABLE` with `Retry-After`
    /// meanwhile, and the keys are fetched again in the background and on demand until they
    /// arrive. A restarted API thus serves its public routes through an identity provider outage
    /// instead of crash-looping. A Redis store that may evict what it keeps fails it as it fails
    /// [`Verifier::prefetch`].
    pub async fn warm_up(&self) -> Result<(), ConfigError> {
        self.check_stores().await?;
        for provider in self.inner.providers.iter() {
            match provider.prefetch_keys().await {
                Ok(()) => {}
                Err(PrefetchError::Misconfigured(error)) => return Err(error),
                Err(PrefetchError::Unreachable { issuer, reason }) => {
                    tracing::warn!(
                        target: "auth",
                        %issuer,
                        %reason,
                        "starting without the issuer's keys: protected routes answer 503 until \
                         they arrive"
                    );
                    // Discovery, which names the introspection endpoint, is as far away.
                    continue;
                }
            }
            provider.check_issuer_document().await?;
            match provider.probe_introspection().await {
                Ok(()) => {}
                Err(PrefetchError::Misconfigured(error)) => return Err(error),
                Err(PrefetchError::Unreachable { issuer, reason }) => tracing::warn!(
                    target: "auth",
                    %issuer,
                    %reason,
                    "starting without reaching the introspection endpoint: opaque tokens answer \
                     503 until it answers"
                ),
            }
        }
        Ok(())
    }

    /// Refuses a Redis store that may evict what it must keep (unless the application accepted
    /// that); one that cannot be reached now is checked on first use.
    async fn check_stores(&self) -> Result<(), ConfigError> {
        #[cfg(feature = "redis")]
        {
            if let Some(refusal) = self.inner.dpop.eviction_refusal().await {
                return Err(refusal);
            }
            if let Some(revocations) = &self.inner.revocations
                && let Some(refusal) = revocations.eviction_refusal().await
            {
                return Err(refusal);
            }
        }
        Ok(())
    }

    /// Verifies `token` and deserialises its payload into `T` (use [`crate::StandardClaims`] for
    /// the registered claims plus a map of the rest).
    pub async fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<Claims<T>, AuthError> {
        self.verify_token(token).await?.claims()
    }

    /// Verifies `token` sent as a bearer token, keeping the payload as JSON. Shared: a cache hit
    /// returns the same allocation.
    ///
    /// A DPoP-bound token (`cnf.jkt`) is refused here: it is only good with a proof, through
    /// [`Verifier::verify_dpop`]. So is any token of a provider that
    /// [requires DPoP](crate::Provider::require_dpop).
    pub async fn verify_token(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        let started = quanta::Instant::now();
        let verified = self.current(token, started).await?;
        if verified.is_dpop_bound() {
            return Err(AuthError::DpopBinding(
                "a DPoP-bound token was sent as a bearer token".into(),
            ));
        }
        if self.inner.dpop_required && self.requires_dpop(&verified) {
            return Err(AuthError::DpopBinding(
                "the provider requires DPoP-bound tokens".into(),
            ));
        }
        self.timed(&verified, started);
        Ok(verified)
    }

    /// Verifies `token` read from a cookie: as [`Verifier::verify_token`], and a token accepted
    /// without `azp` under
    /// [`Provider::accept_missing_azp_from_headers`](crate::Provider::accept_missing_azp_from_headers)
    /// is refused, since it counts only when the client put it in a header itself. A cookie is
    /// sent with any site's requests, and `azp` is what names the site the session belongs to.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{Provider, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let clerk = Provider::clerk("https://clerk.example.com", ["https://app.example.com"])
    ///     .accept_missing_azp_from_headers();
    /// let clerk = issuer.adopt(clerk);
    /// let native = issuer.token_for(&clerk).without_claim("azp").sign();
    /// let verifier = Verifier::new(clerk)?;
    /// assert!(verifier.verify_token(&native).await.is_ok(), "Authorization: Bearer");
    /// assert!(verifier.verify_cookie_token(&native).await.is_err(), "the __session cookie");
    /// # Ok(()) }
    /// ```
    pub async fn verify_cookie_token(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        let verified = self.verify_token(token).await?;
        if verified.header_only() {
            return Err(AuthError::MissingClaim(
                "azp: a token without it counts only when sent in a header, never from a cookie \
                 (Provider::accept_missing_azp_from_headers)"
                    .to_owned(),
            ));
        }
        Ok(verified)
    }

    /// Records how long accepting `token` took.
    fn timed(&self, token: &VerifiedToken, started: quanta::Instant) {
        if let Some(provider) = self.inner.providers.get(token.provider()) {
            provider
                .keys
                .meters
                .verify_seconds
                .record(started.elapsed());
        }
    }

    /// The configured issuer of provider `index` ([`VerifiedToken::provider`]): a URL, or a
    /// multi-tenant template with `{tenantid}`. Bounded, so fit for metric labels, unlike a token's
    /// own `iss`.
    pub fn issuer_label(&self, index: usize) -> Option<&str> {
        self.inner
            .providers
            .get(index)
            .map(|issuer| &*issuer.keys.meters.label)
    }

    /// The configured issuer (as [`Verifier::issuer_label`]) that a token's unverified `iss`
    /// names, if any: for labelling refusals. Reads the payload without verifying anything. An
    /// opaque token (not three segments) is labelled with the introspecting provider it is sent
    /// to ([`Introspection::token_prefix`](crate::Introspection::token_prefix)), if any.
    pub fn issuer_label_of(&self, token: &str) -> Option<&str> {
        if token.bytes().filter(|byte| *byte == b'.').count() != 2 {
            let (index, _, _) = self.introspection_path().route(token)?;
            return self.issuer_label(index);
        }
        let payload = token.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
        #[derive(serde::Deserialize)]
        struct Iss<'a> {
            #[serde(borrow)]
            iss: Option<std::borrow::Cow<'a, str>>,
        }
        let iss = serde_json::from_slice::<Iss<'_>>(&bytes).ok()?.iss?;
        let index = self
            .inner
            .providers
            .iter()
            .position(|provider| provider.accepts(&iss))?;
        self.issuer_label(index)
    }

    /// Verifies `token` sent with the DPoP scheme (`Authorization: DPoP <token>`) and the proof
    /// that came with it (RFC 9449 §4.3, §7.1): the token must be bound to the key that signed the
    /// proof, and the proof must be fresh, unused, and made for this method, URL and token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::{DpopKey, TestIssuer};
    /// use auth_core::{AuthError, DpopRequest, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let verifier = Verifier::new(issuer.provider())?;
    /// let key = DpopKey::generate();
    /// let token = issuer.token().dpop_bound(&key).sign();
    /// let url = "https://api.example.com/items";
    /// let proof = key.proof("GET", url, &token);
    /// let request = DpopRequest { proof: &proof, method: "GET", url };
    /// verifier.verify_dpop(&token, &request).await?;
    /// // The same proof again is a replay; the token alone is not enough.
    /// assert_eq!(
    ///     verifier.verify_dpop(&token, &request).await.unwrap_err(),
    ///     AuthError::DpopReplay
    /// );
    /// assert!(matches!(verifier.verify_token(&token).await, Err(AuthError::DpopBinding(_))));
    /// # Ok(()) }
    /// ```
    pub async fn verify_dpop(
        &self,
        token: &str,
        request: &DpopRequest<'_>,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let started = quanta::Instant::now();
        let verified = self.current(token, started).await?;
        let Some(jkt) = verified.dpop_thumbprint() else {
            return Err(AuthError::DpopBinding(
                "a token sent with the DPoP scheme is not DPoP-bound".into(),
            ));
        };
        let checked = self.inner.dpop.check(token, jkt, request).await;
        let meters = &self.inner.meters;
        match &checked {
            Ok(()) => meters.dpop_valid.increment(1),
            Err(AuthError::DpopReplay) => meters.dpop_replayed.increment(1),
            Err(AuthError::UseDpopNonce) => meters.dpop_nonce_required.increment(1),
            Err(AuthError::StoreUnavailable(_)) => meters.dpop_unavailable.increment(1),
            Err(_) => meters.dpop_invalid.increment(1),
        }
        checked?;
        self.timed(&verified, started);
        Ok(verified)
    }

    /// Whether the provider that issued `token` requires DPoP.
    fn requires_dpop(&self, token: &VerifiedToken) -> bool {
        let issuer = &token.identity().issuer;
        self.inner
            .providers
            .iter()
            .find(|candidate| candidate.accepts(issuer))
            .is_some_and(|candidate| candidate.dpop_required)
    }

    /// The token verified and still current (not revoked), whatever its binding; `started` is when
    /// the request arrived (the revocation check reads no clock of its own). The binding (bearer
    /// or DPoP) is the public entry point's step.
    async fn current(
        &self,
        token: &str,
        started: quanta::Instant,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let verified = self.verified(token).await?;
        if let Some(revocations) = &self.inner.revocations {
            let leeway = self
                .inner
                .providers
                .get(verified.provider())
                .map_or(crate::limits::MAX_LEEWAY, |provider| provider.checks.leeway);
            revocations.check(&verified, started, leeway)?;
        }
        Ok(verified)
    }

    /// The token verified: from the verified-token cache, by introspection for an opaque token,
    /// or afresh.
    async fn verified(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLarge {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        // Only verified JWTs are cached, so a hit needs no look at the token's shape.
        let cache = self.inner.cache.as_ref();
        if let Some(cache) = cache
            && let Some(hit) = cache.get(token)
        {
            if self.still_stands(&hit) {
                self.inner.meters.cache_hit.increment(1);
                return Ok(Arc::clone(&hit.token));
            }
            cache.remove(token, &hit);
        }
        // Three segments are a JWS; anything else can only be an opaque token for introspection.
        if token.bytes().filter(|byte| *byte == b'.').count() != 2 {
            return self.introspection_path().opaque(token).await;
        }
        if cache.is_some() {
            self.inner.meters.cache_miss.increment(1);
        }
        self.fresh(token, cache).await
    }

    /// The introspection path over this verifier's providers and its cache of answers.
    fn introspection_path(&self) -> IntrospectionPath<'_> {
        IntrospectionPath {
            providers: &self.inner.providers,
            cache: self.inner.introspections.as_deref(),
        }
    }

    /// Whether a cached verification still stands: the entry still live, its key still in a
    /// usable key set, and its `exp` not reached. Everything else the claim rules look at is fixed
    /// for a given token and verifier, and time only moves `nbf`, `iat` and other past dates
    /// further into the past. Otherwise the token is verified afresh, which applies the leeway and reports the reason.
    fn still_stands(&self, hit: &CachedToken) -> bool {
        let Some(provider) = self.inner.providers.get(hit.issuer) else {
            return false;
        };
        let now = std::time::Instant::now();
        let state = provider.keys.current();
        hit.is_live(now)
            && state.usable(now)
            && state.keys.has_fingerprint(hit.key_fingerprint)
            && date::now() < hit.exp
    }

    /// A JWS verified afresh: its issuer picked by the unverified `iss`, the signature, the
    /// header's kind, then (unless the issuer is asked about every token) the claim checks and
    /// identity; the result cached.
    async fn fresh(
        &self,
        token: &str,
        cache: Option<&VerifiedCache>,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let mut header_buf = compact::header_buf();
        let compact = compact::parse(token, &mut header_buf)?;
        let text = compact::decode_payload(compact.payload)?;
        let payload = Object::parse(&text).map_err(|_| AuthError::Malformed(Malformed::Payload))?;
        let iss = payload
            .get("iss")
            .and_then(Json::as_str)
            .ok_or_else(|| AuthError::MissingClaim("iss".into()))?;
        let (index, issuer) = self
            .inner
            .providers
            .iter()
            .enumerate()
            .find(|(_, provider)| provider.accepts(iss))
            .ok_or_else(|| self.unknown_issuer(iss))?;
        let fingerprint = issuer.verify_signature(&compact, iss).await?;
        issuer.checks.kind.check_header(compact.typ.as_deref())?;
        // Signed, but the issuer decides whether it still stands (revoked before its exp?).
        if let Some(answer) = self
            .introspection_path()
            .signed(index, issuer, token, &payload)
            .await
        {
            return answer;
        }

        let now = date::now();
        let (identity, facts) = issuer.admit(&payload, iss, now)?;
        // The view borrows the text the verified token is about to keep.
        drop(payload);
        let exp = facts.exp().unwrap_or(now);
        let kid = compact.kid.map(|kid| kid.into_owned());
        let verified = Arc::new(VerifiedToken::new(
            text,
            facts,
            identity,
            compact.alg,
            kid,
            index,
        ));
        if let Some(cache) = cache {
            cache.insert(
                token,
                CachedToken::new(
                    Arc::clone(&verified),
                    index,
                    fingerprint,
                    exp,
                    now,
                    token.len(),
                ),
            );
        }
        Ok(verified)
    }

    /// The refusal of an `iss` no provider accepts, naming what would have been accepted (for
    /// logs).
    fn unknown_issuer(&self, iss: &str) -> AuthError {
        let accepted: Vec<String> = self
            .inner
            .providers
            .iter()
            .map(CompiledProvider::issuer)
            .collect();
        AuthError::UnknownIssuer {
            iss: truncated(iss),
            accepted: accepted.join(", "),
        }
    }

    /// JWKS documents fetched so far across all providers (discovery documents not counted).
    pub fn jwks_fetches(&self) -> u64 {
        self.inner
            .providers
            .iter()
            .map(|issuer| issuer.keys.fetch_count())
            .sum()
    }
}

/// Whether a verified payload's `aud` (a string or an array of them) holds a value `wanted` picks.
fn aud_holds(
    payload: &serde_json::Map<String, serde_json::Value>,
    wanted: impl Fn(&str) -> bool,
) -> bool {
    match payload.get("aud") {
        Some(serde_json::Value::String(aud)) => wanted(aud),
        Some(serde_json::Value::Array(auds)) => auds
            .iter()
            .filter_map(serde_json::Value::as_str)
            .any(wanted),
        _ => false,
    }
}

/// Each resource the providers name, with the issuers whose tokens are for it. Two resources
/// with one path (on two hosts) are refused: the web layer tells resources apart by the request's
/// path alone, since the `Host` header is the client's to choose.
fn protected_resources(
    providers: &[CompiledProvider],
) -> Result<Vec<ProtectedResource>, ConfigError> {
    let mut resources: Vec<ProtectedResource> = Vec::new();
    for provider in providers {
        for url in &provider.resources {
            let index = match resources.iter().position(|r| r.resource == *url) {
                Some(index) => index,
                None => {
                    let path = resource::path_of(url);
                    if let Some(other) = resources.iter().find(|r| r.path() == path) {
                        return Err(ConfigError::new(
                            "Provider::resource",
                            format!(
                                "{url} and {} have the same path {path:?}: a request's path \
                                 cannot tell which of them it is for (its Host header is the \
                                 client's to choose), so one's tokens would pass at the other; \
                                 give each resource its own path, or serve each host from its \
                                 own server with its own verifier",
                                other.resource,
                            ),
                        ));
                    }
                    resources.push(ProtectedResource {
                        resource: url.clone(),
                        authorization_servers: Vec::new(),
                        dpop_offered: false,
                        dpop_required: true,
                    });
                    resources.len() - 1
                }
            };
            let resource = &mut resources[index];
            for issuer in provider.authorization_servers() {
                if !resource.authorization_servers.contains(&issuer) {
                    resource.authorization_servers.push(issuer);
                }
            }
            resource.dpop_offered |= provider.issues_dpop || provider.dpop_required;
            resource.dpop_required &= provider.dpop_required;
        }
    }
    Ok(resources)
}
