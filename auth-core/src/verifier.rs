//! The verification pipeline: token, header, issuer, key, signature, claims, identity.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::algorithm::AlgorithmSet;
use crate::claims::Claims;
use crate::dpop::{Dpop, DpopRequest};
use crate::error::{AuthError, ConfigError, Malformed, PrefetchError};
use crate::fetch;
use crate::health::{IssuerHealth, Readiness};
use crate::identity::{Identity, IdentityMapping};
use crate::introspected_jwt::SignedClaims;
use crate::introspection::{self, Answer, Introspector, ProbeFailure};
use crate::introspection_cache::{Introspected, IntrospectionCache};
use crate::issuer_document::IssuerDocument;
use crate::json::{Json, Object};
use crate::key_store::KeyStore;
use crate::meters::{IssuerMeters, VerifierMeters};
use crate::network_policy::NetworkPolicy;
use crate::provider::{IssuerMatch, KeySource, Provider};
use crate::revocation::Revocations;
use crate::token::{self, CompactToken, MAX_TOKEN_LEN};
use crate::token_endpoints::TokenEndpoints;
use crate::token_source::TokenSource;
use crate::validation::{self, AudienceRule, ClaimRules, truncated};
use crate::verified_cache::{CachedToken, DEFAULT_CACHE_CAPACITY, VerifiedCache};
use crate::verified_token::{PayloadFacts, VerifiedToken};

/// Largest signature accepted: an 8192-bit RSA signature. Decoded on the stack.
const MAX_SIGNATURE_LEN: usize = 1024;

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
    issuers: Arc<[Issuer]>,
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
    meters: Arc<VerifierMeters>,
}

#[derive(Debug)]
struct Issuer {
    /// The provider's setting name (`Provider::auth0(domain, audience)`), for startup errors.
    name: String,
    /// How to get a JWT instead of an opaque token, for a provider that cannot introspect.
    opaque_token_hint: Option<&'static str>,
    matcher: IssuerMatch,
    /// What a token may name before its key is looked up.
    algorithms: AlgorithmSet,
    rules: ClaimRules,
    mapping: IdentityMapping,
    keys: Arc<KeyStore>,
    introspector: Option<Arc<Introspector>>,
    /// Refuses bearer tokens: only DPoP-bound ones, with a proof.
    dpop_required: bool,
    /// Can issue DPoP-bound tokens.
    issues_dpop: bool,
    /// The discovery document checked at startup, for a provider whose keys skip discovery.
    issuer_document: Option<IssuerDocument>,
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
        let mut issuers = Vec::new();
        let mut token_sources: Vec<TokenSource> = Vec::new();
        let mut endpoints = Vec::new();
        let mut introspecting = Vec::new();
        for provider in providers {
            let rules = provider.validate()?;
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
            let introspection_url = provider
                .introspection
                .as_ref()
                .and_then(|i| i.endpoint.as_deref());
            // Discovery already insists on the configured issuer.
            let issuer_document = match provider.keys {
                KeySource::Jwks(_) => provider.issuer_document.as_deref(),
                KeySource::Discovery(_) => None,
            };
            let policy = NetworkPolicy::new(
                [
                    Some(provider.keys.url()),
                    introspection_url,
                    issuer_document,
                ]
                .into_iter()
                .flatten(),
            );
            let client = fetch::client(&policy)?;
            let issuer_document = issuer_document.map(|url| IssuerDocument {
                url: url.to_owned(),
                client: client.clone(),
                timeout: provider.key_settings.fetch_timeout,
                max_bytes: provider.key_settings.max_body_bytes,
            });
            let meters = Arc::new(IssuerMeters::new(&provider.issuer.discovery_issuer()));
            let keys = Arc::new(KeyStore::new(
                provider.keys.clone(),
                provider.issuer.discovery_issuer(),
                provider.algorithms,
                provider.key_settings.clone(),
                policy,
                client.clone(),
                meters,
            ));
            let introspector = provider.introspection.map(|introspection| {
                Arc::new(Introspector::new(
                    introspection,
                    client,
                    Arc::clone(&keys),
                    provider.issuer.discovery_issuer(),
                    provider.key_settings.fetch_timeout,
                    provider.key_settings.failure_backoff,
                ))
            });
            issuers.push(Issuer {
                name: provider.name,
                opaque_token_hint: provider.opaque_token_hint,
                dpop_required: provider.dpop_required,
                issues_dpop: provider.issues_dpop,
                issuer_document,
                matcher: provider.issuer,
                algorithms: provider.algorithms.candidates(),
                rules,
                mapping: provider.mapping,
                keys,
                introspector,
            });
        }
        if issuers.is_empty() {
            return Err(ConfigError::new(
                "providers",
                "no provider given; pass at least one Provider",
            ));
        }
        introspection::check_routing(&introspecting)?;
        let cache = Some(VerifiedCache::new(DEFAULT_CACHE_CAPACITY));
        let issuers_require_dpop = issuers.iter().any(|issuer| issuer.dpop_required);
        let dpop_offered = issuers
            .iter()
            .any(|issuer| issuer.issues_dpop || issuer.dpop_required);
        let introspections = issuers
            .iter()
            .any(|issuer| issuer.introspector.is_some())
            .then(|| Arc::new(IntrospectionCache::new(DEFAULT_CACHE_CAPACITY)));
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuers: issuers.into(),
                token_sources: token_sources.into(),
                endpoints: endpoints.into(),
                cache,
                introspections,
                revocations: None,
                dpop: Dpop::default(),
                dpop_required: issuers_require_dpop,
                dpop_offered,
                meters: Arc::new(VerifierMeters::new()),
            }),
        })
    }

    /// The same verifier (sharing keys) with a verified-token cache of about `capacity` typical (1
    /// KiB) tokens; `0` turns the cache off. On by default with
    /// [`DEFAULT_CACHE_CAPACITY`](crate::DEFAULT_CACHE_CAPACITY).
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
            .zip(self.inner.issuers.iter())
            .map(|(endpoints, issuer)| {
                let mut endpoints = endpoints.clone();
                if endpoints.authorization_url.is_none()
                    && endpoints.token_url.is_none()
                    && let Some(sign_in) = issuer.keys.sign_in()
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
            .issuers
            .iter()
            .map(|issuer| {
                let mut health = issuer.keys.health();
                if let Some(introspector) = &issuer.introspector {
                    introspector.recheck_if_due();
                    health.introspection = Some(introspector.health());
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
        for issuer in self.inner.issuers.iter() {
            issuer.prefetch_keys().await?;
            issuer.check_issuer_document().await?;
            issuer.probe_introspection().await?;
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
        for issuer in self.inner.issuers.iter() {
            match issuer.prefetch_keys().await {
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
            issuer.check_issuer_document().await?;
            match issuer.probe_introspection().await {
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
        let verified = self.verify_unbound(token, started).await?;
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
        if let Some(issuer) = self.inner.issuers.get(token.provider()) {
            issuer.keys.meters.verify_seconds.record(started.elapsed());
        }
    }

    /// The configured issuer of provider `index` ([`VerifiedToken::provider`]): a URL, or a
    /// multi-tenant template with `{tenantid}`. Bounded, so fit for metric labels, unlike a token's
    /// own `iss`.
    pub fn issuer_label(&self, index: usize) -> Option<&str> {
        self.inner
            .issuers
            .get(index)
            .map(|issuer| &*issuer.keys.meters.label)
    }

    /// The configured issuer (as [`Verifier::issuer_label`]) that a token's unverified `iss`
    /// names, if any: for labelling refusals. Reads the payload without verifying anything. An
    /// opaque token (not three segments) is labelled with the introspecting provider it is sent
    /// to ([`Introspection::token_prefix`](crate::Introspection::token_prefix)), if any.
    pub fn issuer_label_of(&self, token: &str) -> Option<&str> {
        if token.bytes().filter(|byte| *byte == b'.').count() != 2 {
            let (index, _, _) = self.opaque_route(token)?;
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
        self.issuer_label_of_iss(&iss)
    }

    /// The configured issuer (as [`Verifier::issuer_label`]) that accepts `iss`, if any.
    pub fn issuer_label_of_iss(&self, iss: &str) -> Option<&str> {
        let index = self
            .inner
            .issuers
            .iter()
            .position(|issuer| issuer.matcher.matches(iss))?;
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
        let verified = self.verify_unbound(token, started).await?;
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
            .issuers
            .iter()
            .find(|candidate| candidate.matcher.matches(issuer))
            .is_some_and(|candidate| candidate.dpop_required)
    }

    /// The token verified and not revoked, whatever its binding; `started` is when the request
    /// arrived (the revocation check reads no clock of its own).
    async fn verify_unbound(
        &self,
        token: &str,
        started: quanta::Instant,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let verified = self.verify_unrevoked(token).await?;
        if let Some(revocations) = &self.inner.revocations {
            let leeway = self
                .inner
                .issuers
                .get(verified.provider())
                .map_or(crate::provider::MAX_LEEWAY, |issuer| issuer.rules.leeway);
            revocations.check(&verified, started, leeway)?;
        }
        Ok(verified)
    }

    async fn verify_unrevoked(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
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
            return self.introspect_opaque(token).await;
        }
        if cache.is_some() {
            self.inner.meters.cache_miss.increment(1);
        }
        self.verify_uncached(token, cache).await
    }

    /// An opaque token: sent to the one provider its prefix routes it to, never to the others (who
    /// would see a token not theirs); refused without any call when no provider takes it.
    async fn introspect_opaque(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        let (Some(cache), Some((index, issuer, introspector))) =
            (&self.inner.introspections, self.opaque_route(token))
        else {
            return Err(self.not_introspected(token));
        };
        let answer = cache
            .get_or_introspect(token, async {
                let inactive = Introspected {
                    issuer: index,
                    outcome: Err(AuthError::InactiveToken),
                    lifetime: introspector.config.inactive_ttl,
                };
                Ok(self
                    .introspect_at(index, issuer, token, None)
                    .await?
                    .unwrap_or(inactive))
            })
            .await?;
        self.recheck_introspected(&answer, token, cache).await
    }

    /// The refusal of a token that is no JWT and that no provider introspects: one that looks
    /// opaque (one segment, or the five of an encrypted JWE, as Auth0's opaque tokens are) says
    /// how to get a JWT instead, for the log; any other shape is malformed.
    fn not_introspected(&self, token: &str) -> AuthError {
        let dots = token.bytes().filter(|byte| *byte == b'.').count();
        if token.is_empty() || !(dots == 0 || dots == 4) {
            return AuthError::Malformed(Malformed::Segments);
        }
        let issuers = self.inner.issuers.iter();
        let hint = match issuers.clone().find_map(|issuer| issuer.opaque_token_hint) {
            Some(hint) => hint,
            None if issuers.clone().any(|issuer| issuer.introspector.is_some()) => {
                "no introspecting provider takes it (each expects its Introspection::token_prefix)"
            }
            None => "this provider is configured without introspection",
        };
        AuthError::OpaqueToken(hint)
    }

    /// The introspecting provider an opaque token belongs to: the one whose token prefix it
    /// starts with (`any_of` made sure there is at most one), else the one without a prefix.
    fn opaque_route(&self, token: &str) -> Option<(usize, &Issuer, &Arc<Introspector>)> {
        let mut unprefixed = None;
        for (index, issuer) in self.inner.issuers.iter().enumerate() {
            let Some(introspector) = &issuer.introspector else {
                continue;
            };
            match introspector.config.claims_token(token) {
                Some(true) => return Some((index, issuer, introspector)),
                Some(false) => {}
                None => unprefixed = unprefixed.or(Some((index, issuer, introspector))),
            }
        }
        unprefixed
    }

    /// Asks one provider about a token: `None` when it says the token is not active. For a signed
    /// token (`signed`, its own verified claims), the answer may add to what the token says but
    /// not contradict it.
    async fn introspect_at(
        &self,
        index: usize,
        issuer: &Issuer,
        token: &str,
        signed: Option<&SignedClaims>,
    ) -> Result<Option<Introspected>, AuthError> {
        let Some(introspector) = &issuer.introspector else {
            return Ok(None);
        };
        let meters = &issuer.keys.meters;
        let answer = introspector.introspect(token, signed.is_some()).await;
        let counter = match &answer {
            Ok(Answer::Active(_)) => &meters.introspection_active,
            Ok(Answer::Inactive) => &meters.introspection_inactive,
            Err(AuthError::IntrospectionUnauthorized { .. }) => &meters.introspection_unauthorized,
            Err(AuthError::IntrospectionUnsupportedToken { .. }) => {
                &meters.introspection_unsupported
            }
            Err(_) => &meters.introspection_error,
        };
        counter.increment(1);
        let Answer::Active(payload) = answer? else {
            return Ok(None);
        };
        let now = validation::now();
        let ttl = introspector.config.cache_ttl;
        let outcome = self.accept(index, issuer, payload, signed, ttl, now);
        let lifetime = match &outcome {
            Ok(verified) => {
                let exp = verified.exp();
                let left = exp.map_or(0, |exp| u64::try_from(exp.saturating_sub(now)).unwrap_or(0));
                ttl.min(Duration::from_secs(left))
            }
            Err(_) => introspector.config.inactive_ttl,
        };
        Ok(Some(Introspected {
            issuer: index,
            outcome,
            lifetime,
        }))
    }

    /// Claims checks and identity for an answer an issuer gave by introspection: a signed token's
    /// own claims carried into it first, then what RFC 7662 lets the issuer leave out filled in.
    fn accept(
        &self,
        index: usize,
        issuer: &Issuer,
        mut payload: Map<String, Value>,
        signed: Option<&SignedClaims>,
        ttl: Duration,
        now: i64,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        if let Some(signed) = signed {
            signed.carry_into(&mut payload)?;
        }
        // RFC 7662 makes every member but `active` optional: what the issuer leaves out is its own.
        let iss = payload
            .entry("iss")
            .or_insert_with(|| issuer.matcher.discovery_issuer().into())
            .clone();
        let client = payload.get("client_id").cloned();
        if let (None, Some(client)) = (payload.get("sub"), client) {
            payload.insert("sub".into(), client);
        }
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        // Made up, not the issuer's: a revocation of the token must outlast it (`PayloadFacts`).
        let exp_assumed = !payload.contains_key("exp");
        payload
            .entry("exp")
            .or_insert_with(|| now.saturating_add(ttl_secs).into());
        let Some(iss) = iss.as_str().filter(|iss| issuer.matcher.matches(iss)) else {
            return Err(AuthError::InvalidClaim("iss".into()));
        };
        let payload_view = Object::borrow(&payload);
        let (identity, facts) = if signed.is_none() && lacks_audience(issuer, &payload) {
            let client_id = payload.get("client_id").and_then(Value::as_str);
            let named = issuer
                .introspector
                .as_deref()
                .map(|i| &i.config.audience_less_clients);
            if !named.is_some_and(|named| named.iter().any(|c| Some(c.as_str()) == client_id)) {
                return Err(missing_audience(named, client_id));
            }
            // The API named the client: it stands in for the audience the issuer leaves out.
            let rules = ClaimRules {
                audience: AudienceRule::Skip,
                ..issuer.rules.clone()
            };
            issuer.admit_with(&rules, &payload_view, iss, now)?
        } else {
            issuer.admit(&payload_view, iss, now)?
        };
        drop(payload_view);
        let facts = if exp_assumed {
            // The stand-in served the checks and stays in the facts (the cache's expiry); the
            // application sees what the issuer said, no `exp`, and would revoke the token until it.
            payload.remove("exp");
            facts.with_assumed_exp()
        } else {
            facts
        };
        Ok(Arc::new(VerifiedToken::introspected(
            payload, facts, identity, index,
        )))
    }

    /// A cached introspection answer, its `exp` checked again (the one check time changes).
    async fn recheck_introspected(
        &self,
        answer: &Introspected,
        token: &str,
        cache: &IntrospectionCache,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let verified = answer.outcome.clone()?;
        let Some(issuer) = self.inner.issuers.get(answer.issuer) else {
            return Err(AuthError::InactiveToken);
        };
        // Every accepted answer has an `exp`: where the issuer gave none, `introspect_at` set it to
        // now plus the cache lifetime.
        let exp = verified.exp().unwrap_or(0);
        if let Err(error) = issuer.rules.check_expiry(exp, validation::now()) {
            cache.remove(token).await;
            return Err(error);
        }
        Ok(verified)
    }

    /// Whether a cached verification still stands: the entry still live, its key still in a
    /// usable key set, and its `exp` not reached. Everything else the claim rules look at is fixed
    /// for a given token and verifier, and time only moves `nbf`, `iat` and other past dates
    /// further into the past. Otherwise the token is verified afresh, which applies the leeway and reports the reason.
    fn still_stands(&self, hit: &CachedToken) -> bool {
        let Some(issuer) = self.inner.issuers.get(hit.issuer) else {
            return false;
        };
        let now = std::time::Instant::now();
        let state = issuer.keys.current();
        hit.is_live(now)
            && state.usable(now)
            && state.keys.has_fingerprint(hit.key_fingerprint)
            && validation::now() < hit.exp
    }

    async fn verify_uncached(
        &self,
        token: &str,
        cache: Option<&VerifiedCache>,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let mut header_buf = token::header_buf();
        let compact = token::parse(token, &mut header_buf)?;
        let text = token::decode_payload(compact.payload)?;
        let payload = Object::parse(&text).map_err(|_| AuthError::Malformed(Malformed::Payload))?;
        let iss = payload
            .get("iss")
            .and_then(Json::as_str)
            .ok_or_else(|| AuthError::MissingClaim("iss".into()))?;
        let (index, issuer) = self
            .inner
            .issuers
            .iter()
            .enumerate()
            .find(|(_, issuer)| issuer.matcher.matches(iss))
            .ok_or_else(|| self.unknown_issuer(iss))?;
        let fingerprint = issuer.verify_signature(&compact, iss).await?;
        issuer.rules.kind.check_header(compact.typ.as_deref())?;
        // Signed, but the issuer decides whether it still stands (revoked before its exp?). The
        // signature comes first, so forgeries never reach the issuer.
        if let (Some(introspector), Some(introspections)) =
            (&issuer.introspector, &self.inner.introspections)
            && introspector.config.all_tokens
        {
            // The token's own dates and kind hold on their own (an ID token's `nonce` is not
            // excused by an answer that leaves it out); its other claims may be completed by the
            // answer (Keycloak's lightweight tokens carry no roles) but not contradicted.
            issuer.rules.check_dates(&payload, validation::now())?;
            issuer.rules.kind.check_payload(&payload)?;
            let signed = SignedClaims::of(&payload);
            let answer = introspections
                .get_or_introspect(token, async {
                    let inactive = Introspected {
                        issuer: index,
                        outcome: Err(AuthError::InactiveToken),
                        lifetime: introspector.config.inactive_ttl,
                    };
                    Ok(self
                        .introspect_at(index, issuer, token, Some(&signed))
                        .await?
                        .unwrap_or(inactive))
                })
                .await?;
            return self
                .recheck_introspected(&answer, token, introspections)
                .await;
        }

        let now = validation::now();
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
            .issuers
            .iter()
            .map(|issuer| issuer.matcher.discovery_issuer())
            .collect();
        AuthError::UnknownIssuer {
            iss: truncated(iss),
            accepted: accepted.join(", "),
        }
    }

    /// JWKS documents fetched so far across all providers (discovery documents not counted).
    pub fn jwks_fetches(&self) -> u64 {
        self.inner
            .issuers
            .iter()
            .map(|issuer| issuer.keys.fetch_count())
            .sum()
    }
}

impl Issuer {
    /// The checks a payload passes once the issuer vouches for it (by signature or by
    /// introspection), and what the verified token keeps of it.
    fn admit(
        &self,
        payload: &Object<'_>,
        iss: &str,
        now: i64,
    ) -> Result<(Identity, PayloadFacts), AuthError> {
        self.admit_with(&self.rules, payload, iss, now)
    }

    /// Fetches the keys now (for startup checks).
    async fn prefetch_keys(&self) -> Result<(), PrefetchError> {
        self.keys.prefetch().await.map_err(|error| {
            let name = self.matcher.discovery_issuer();
            if error.definite {
                PrefetchError::Misconfigured(ConfigError::new(
                    format!("keys for issuer {name}"),
                    error.reason,
                ))
            } else {
                PrefetchError::Unreachable {
                    issuer: name,
                    reason: error.reason,
                }
            }
        })
    }

    /// Compares the issuer the provider's discovery document names with the configured one, for a
    /// provider whose keys skip discovery (a startup check; an unreadable document only warns).
    async fn check_issuer_document(&self) -> Result<(), ConfigError> {
        match &self.issuer_document {
            Some(document) => document.check(&self.name, &self.matcher).await,
            None => Ok(()),
        }
    }

    /// Probes the introspection endpoint, if the provider introspects (for startup checks).
    async fn probe_introspection(&self) -> Result<(), PrefetchError> {
        let Some(introspector) = &self.introspector else {
            return Ok(());
        };
        introspector.probe().await.map_err(|failure| match failure {
            ProbeFailure::Misconfigured(error) => PrefetchError::Misconfigured(error),
            ProbeFailure::Unreachable(reason) => PrefetchError::Unreachable {
                issuer: self.matcher.discovery_issuer(),
                reason,
            },
        })
    }

    /// [`Issuer::admit`] under `rules` instead of the provider's own.
    fn admit_with(
        &self,
        rules: &ClaimRules,
        payload: &Object<'_>,
        iss: &str,
        now: i64,
    ) -> Result<(Identity, PayloadFacts), AuthError> {
        rules.check(payload, now)?;
        self.matcher.check_tenant(iss, payload)?;
        let identity = self.mapping.identity(payload, iss)?;
        self.rules.kind.check_identity(&identity, payload)?;
        let facts = PayloadFacts::of(payload).header_only(rules.azp_excused(payload));
        Ok((identity, facts))
    }

    /// Verifies the signature of a token from `iss`; returns the fingerprint of the key that
    /// verified it.
    async fn verify_signature(
        &self,
        token: &CompactToken<'_>,
        iss: &str,
    ) -> Result<u64, AuthError> {
        // Before any key lookup, so a disallowed algorithm can never cause a fetch.
        if !self.algorithms.contains(token.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        self.keys.ensure_loaded().await?;
        match self.check_signature(token, iss) {
            // A key the set lacks may have just been rotated in: one rate-limited refetch, then a
            // last look.
            Err(AuthError::UnknownKey)
                if token.kid.is_some() && self.keys.refetch_for_unknown_kid().await =>
            {
                self.check_signature(token, iss)
            }
            result => result,
        }
    }

    /// Checks the signature against the keys loaded now. Synchronous, so the key-set guard it holds
    /// can never live across an `.await`.
    fn check_signature(&self, token: &CompactToken<'_>, iss: &str) -> Result<u64, AuthError> {
        let state = self.keys.current();
        let key = state.keys.select(token.kid.as_deref(), token.alg)?;
        if !key.algorithms.contains(token.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        // Before the signature: a cheap comparison that spares a forged tenant the RSA work.
        if let Some(key_issuer) = key.issuer.as_deref()
            && !self.matcher.key_signs_for(key_issuer, iss)
        {
            return Err(AuthError::KeyIssuerMismatch);
        }
        let mut signature = [0u8; MAX_SIGNATURE_LEN];
        let valid = URL_SAFE_NO_PAD
            .decode_slice(token.signature, &mut signature)
            .is_ok_and(|len| {
                key.verify(token.alg, token.signing_input.as_bytes(), &signature[..len])
            });
        if valid {
            Ok(key.fingerprint)
        } else {
            Err(AuthError::InvalidSignature)
        }
    }
}

/// Whether an introspection answer leaves out the `aud` the provider checks.
fn lacks_audience(issuer: &Issuer, payload: &Map<String, Value>) -> bool {
    matches!(issuer.rules.audience, AudienceRule::Aud(_))
        && payload.get("aud").is_none_or(Value::is_null)
}

/// The refusal of an answer without `aud` from a client the API did not name: its own reason,
/// apart from an audience that does not match.
fn missing_audience(named: Option<&Vec<String>>, client_id: Option<&str>) -> AuthError {
    let setting = "Introspection::accept_missing_audience_for_clients";
    AuthError::MissingClaim(if named.is_none_or(Vec::is_empty) {
        format!(
            "aud: the introspection answer carries no `aud`, so nothing says the token is for \
             this API; for an issuer whose answers never name one (LemonLDAP::NG), name the \
             clients whose tokens this API accepts with {setting}"
        )
    } else {
        let client = client_id.map_or_else(
            || "none".to_owned(),
            |client| format!("{:?}", truncated(client)),
        );
        format!(
            "aud: the introspection answer carries no `aud`, and its client_id ({client}) is not \
             one {setting} names"
        )
    })
}
