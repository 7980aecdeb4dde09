//! DPoP (RFC 9449) at the resource server: a token bound to a key (`cnf.jkt`) is accepted only
//! with a fresh proof, signed by that key, for this very request.
//!
//! The proof is checked after the token (whose verification may be a cache hit) and before its
//! `jti` is recorded, so nothing a forger sends reaches the replay cache.

pub(crate) mod proof_keys;
pub(crate) mod replay;

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{AuthError, ConfigError};
use crate::keys::algorithm::{Algorithm, AlgorithmPolicy, AlgorithmSet};
use crate::keys::jwks;
use crate::token::date::{self, numeric_date};
use proof_keys::{DEFAULT_PROOF_KEY_CACHE, MAX_PROOF_KEY_CACHE, ProofKey, ProofKeys};
use replay::{DEFAULT_REPLAY_CAPACITY, DEFAULT_SHARE, ReplayStore};

/// Proofs longer than this are refused before parsing (an RSA-4096 proof is about 1.5 KiB).
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// Longest `jti` accepted (RFC 9449 asks for at least 96 bits of randomness; 22 characters).
const MAX_JTI_LEN: usize = 256;

/// The algorithms a proof may use unless set otherwise.
pub const DEFAULT_DPOP_ALGORITHMS: AlgorithmSet = AlgorithmSet::of(&[
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::RS256,
]);

/// How DPoP proofs are checked: one setting for the whole verifier, since proofs are about the
/// request, not the issuer. On by default with [`Dpop::default`]; a provider can refuse bearer
/// tokens altogether with [`Provider::require_dpop`](crate::Provider::require_dpop).
///
/// ```
/// use std::time::Duration;
/// use auth_core::{Algorithm, Dpop};
///
/// let dpop = Dpop::default()
///     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
///     .proof_age(Duration::from_secs(60), Duration::from_secs(5))
///     .nonces(None, Duration::from_secs(300));
/// # let _ = dpop;
/// ```
#[derive(Clone)]
pub struct Dpop {
    algorithms: AlgorithmSet,
    max_age: Duration,
    max_ahead: Duration,
    nonces: Option<Arc<Nonces>>,
    replay_capacity: usize,
    replay_per_key: Option<usize>,
    #[cfg(feature = "redis")]
    replay_redis: Option<crate::redis_store::RedisStore>,
    #[cfg(feature = "redis")]
    replay_eviction_accepted: bool,
    replay: ReplayStore,
    keys: Arc<ProofKeys>,
    errors: Vec<ConfigError>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop")
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("max_ahead", &self.max_ahead)
            .field("nonces", &self.nonces.is_some())
            .field("replay", &self.replay)
            .field("keys", &self.keys)
            .finish()
    }
}

impl Default for Dpop {
    /// ES256, EdDSA, PS256 and RS256 proofs, issued at most 5 minutes ago or 30 seconds ahead
    /// (Auth0's window), replays remembered in memory (at most
    /// [`DEFAULT_REPLAY_CAPACITY`](crate::limits::DEFAULT_REPLAY_CAPACITY) proofs, a sixteenth of them
    /// for any one key), no server nonces, up to
    /// [`DEFAULT_PROOF_KEY_CACHE`](crate::limits::DEFAULT_PROOF_KEY_CACHE) client keys kept parsed.
    fn default() -> Dpop {
        let mut dpop = Dpop {
            algorithms: DEFAULT_DPOP_ALGORITHMS,
            max_age: Duration::from_secs(300),
            max_ahead: Duration::from_secs(30),
            nonces: None,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_per_key: None,
            #[cfg(feature = "redis")]
            replay_redis: None,
            #[cfg(feature = "redis")]
            replay_eviction_accepted: false,
            replay: ReplayStore::in_memory(Duration::ZERO, 1, 1),
            keys: Arc::new(ProofKeys::new(DEFAULT_PROOF_KEY_CACHE)),
            errors: Vec::new(),
        };
        dpop.rebuild_replay_store();
        dpop
    }
}

impl Dpop {
    /// The algorithms a proof may be signed with (asymmetric only).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Dpop {
        let algorithms: Vec<Algorithm> = algorithms.into_iter().collect();
        self.algorithms = AlgorithmSet::of(&algorithms);
        if self.algorithms.is_empty() {
            self.errors.push(ConfigError::new(
                "Dpop::algorithms",
                "no algorithm given: name at least one, e.g. ES256",
            ));
        }
        self
    }

    /// How old (by its `iat`) a proof may be, and how far ahead of this clock. Proofs are
    /// remembered for replay for as long as they could be accepted: `max_age + max_ahead`, plus a
    /// second since `iat` counts whole seconds.
    pub fn proof_age(mut self, max_age: Duration, max_ahead: Duration) -> Dpop {
        self.max_age = max_age;
        self.max_ahead = max_ahead;
        if max_age > Duration::from_secs(3600) || max_ahead > Duration::from_secs(300) {
            self.errors.push(ConfigError::new(
                "Dpop::proof_age",
                "at most an hour back and 5 minutes ahead: a proof is meant to be fresh",
            ));
        }
        self.rebuild_replay_store();
        self
    }

    /// Requires server nonces (RFC 9449 §8): a proof must carry the `nonce` this API handed out in
    /// its `DPoP-Nonce` response header, which changes every `rotation` (the previous one is
    /// still accepted). Several instances share nonces when given the same 32-byte `secret`;
    /// `None` makes one for this process.
    pub fn nonces(mut self, secret: Option<[u8; 32]>, rotation: Duration) -> Dpop {
        if rotation < Duration::from_secs(10) {
            self.errors.push(ConfigError::new(
                "Dpop::nonces",
                "rotation under 10 seconds would refuse proofs still in flight",
            ));
        }
        self.nonces = Some(Arc::new(Nonces::new(secret, rotation)));
        self
    }

    /// Most client keys kept parsed (default
    /// [`DEFAULT_PROOF_KEY_CACHE`](crate::limits::DEFAULT_PROOF_KEY_CACHE), 4,096; `0` keeps none;
    /// at most [`MAX_PROOF_KEY_CACHE`](crate::limits::MAX_PROOF_KEY_CACHE), 1,048,576, else the
    /// verifier is refused with a [`ConfigError`] naming `Dpop::key_cache`), rounded up to a
    /// multiple of four, so a client that signs its proofs with the same key pays for parsing it
    /// once. A key is kept by its RFC 7638 thumbprint and the proof's `alg` (any text of the same
    /// key finds it) once a proof signed with it was accepted for a token bound to it; keys whose
    /// `jwk` is over 1 KiB are parsed every time. When the table is full, keys not used lately make
    /// room first. It takes at most about 2.5 KiB per key (10 MiB by default). Proofs are checked
    /// the same either way: only the key's construction is skipped.
    pub fn key_cache(mut self, keys: usize) -> Dpop {
        if keys > MAX_PROOF_KEY_CACHE {
            self.errors.push(ConfigError::new(
                "Dpop::key_cache",
                format!(
                    "{keys} keys is more than the table holds; give at most \
                     {MAX_PROOF_KEY_CACHE} (the default, 4,096, suits most APIs)"
                ),
            ));
            return self;
        }
        self.keys = Arc::new(ProofKeys::new(keys));
        self
    }

    /// Most proofs remembered at once in memory (default
    /// [`DEFAULT_REPLAY_CAPACITY`](crate::limits::DEFAULT_REPLAY_CAPACITY), 1,000,000). Each takes about
    /// 100 bytes at the worst and is kept for the proof window plus a second (5 min 31 s by
    /// default), never less: when the store is full, new proofs are refused with 503
    /// `AUTH_UNAVAILABLE` and `Retry-After` until some expire, rather than forgetting one that
    /// could then be replayed. Size it for the peak: DPoP requests per second times the window
    /// (1,000,000 covers 3,000 a second for 5.5 minutes). With [`Dpop::redis`] the server holds
    /// the proofs, and this only sets the default [share](Dpop::replay_per_key) of each key.
    pub fn replay_capacity(mut self, proofs: usize) -> Dpop {
        self.replay_capacity = proofs;
        self.rebuild_replay_store();
        self
    }

    /// Most proofs one client key (one `cnf.jkt`) may have remembered at once (default: a
    /// sixteenth of [`Dpop::replay_capacity`], 62,500), so a single client, however many requests
    /// it sends, cannot fill the store for everyone: past its share its new proofs are refused
    /// with 503 `AUTH_UNAVAILABLE` until some expire, while other clients keep working. A client
    /// sending more than `proofs / window` DPoP requests per second (about 190 by default)
    /// needs a larger share. With [`Dpop::redis`] the share is counted per proof window (from the
    /// key's first proof in it), in the same round trip as the proof, so a key may have up to
    /// twice its share remembered at once; size the server's memory for that.
    pub fn replay_per_key(mut self, proofs: usize) -> Dpop {
        self.replay_per_key = Some(proofs);
        self.rebuild_replay_store();
        self
    }

    /// Remembers proofs in the Redis server at `url`, so a proof replayed against another instance
    /// of the API is refused too. Each DPoP request then makes one Redis call (a script that
    /// stores the proof for the proof window plus a second, unless seen before or over its key's
    /// [share](Dpop::replay_per_key)); while Redis is unreachable, DPoP requests are refused with
    /// 503.
    ///
    /// The server must never evict these keys: set `maxmemory-policy noeviction` (every policy
    /// but that one, `volatile-*` included, may drop a remembered proof, which could then be
    /// replayed). The policy is read at [`Verifier::warm_up`](crate::Verifier::warm_up) or
    /// [`Verifier::prefetch`](crate::Verifier::prefetch), or else on first use (`CONFIG GET`).
    /// Any other policy, or a server that refuses `CONFIG` (managed services often do), makes
    /// `warm_up` fail with a [`ConfigError`] naming `Dpop::redis` and the policy found, and every
    /// DPoP proof is refused with 503, unless the application accepts the risk with
    /// [`Dpop::redis_eviction_accepted`].
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(mut self, url: &str) -> Dpop {
        match crate::redis_store::RedisStore::open(url, "Dpop::redis(url)") {
            Ok(store) => {
                self.replay_redis = Some(store);
                self.rebuild_replay_store();
            }
            Err(error) => self.errors.push(error),
        }
        self
    }

    /// Accepts that the [Redis server](Dpop::redis) may evict remembered proofs: DPoP requests
    /// are then served whatever its `maxmemory-policy` (a warning is logged once). What it risks:
    /// when Redis runs short of memory it evicts keys with an expiry, and an evicted proof can be
    /// replayed by whoever captured it (from a log, a proxy, a compromised client) until the proof
    /// window ends. Each client key's [share](Dpop::replay_per_key) still keeps one client from
    /// filling the server, but many clients can. Accept it only for a server sized for the peak
    /// (about 100 bytes a proof, kept for the proof window), and alert on its evictions
    /// (`evicted_keys` in `INFO stats`).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_eviction_accepted(mut self) -> Dpop {
        self.replay_eviction_accepted = true;
        self.rebuild_replay_store();
        self
    }

    /// The refusal of a Redis replay store that may evict proofs, unless accepted (for
    /// [`Verifier::warm_up`](crate::Verifier::warm_up)); `None` in memory, or while Redis cannot
    /// be reached.
    #[cfg(feature = "redis")]
    pub(crate) async fn eviction_refusal(&self) -> Option<ConfigError> {
        self.replay.eviction_refusal().await
    }

    /// How long a proof is remembered: as long as it could be accepted. Its `iat` may be up to
    /// `max_ahead` ahead and is then accepted until `max_age` after it; since `iat` and the clock
    /// are compared in whole seconds, a second more.
    fn replay_lifetime(&self) -> Duration {
        self.max_age + self.max_ahead + Duration::from_secs(1)
    }

    fn rebuild_replay_store(&mut self) {
        let lifetime = self.replay_lifetime();
        let per_key = self
            .replay_per_key
            .unwrap_or(self.replay_capacity / DEFAULT_SHARE);
        #[cfg(feature = "redis")]
        if let Some(store) = &self.replay_redis {
            self.replay = ReplayStore::redis(
                lifetime,
                store.clone(),
                per_key,
                self.replay_eviction_accepted,
            );
            return;
        }
        self.replay = ReplayStore::in_memory(lifetime, self.replay_capacity, per_key);
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(error) = self.errors.first() {
            return Err(error.clone());
        }
        if self.replay_capacity == 0 {
            return Err(ConfigError::new(
                "Dpop::replay_capacity",
                "0 proofs: every DPoP request would be refused; give the peak DPoP requests per \
                 second times the proof window (the default is 1,000,000)",
            ));
        }
        match self.replay_per_key {
            Some(0) => Err(ConfigError::new(
                "Dpop::replay_per_key",
                "0 proofs: every DPoP request would be refused; give at least 1 (the default is \
                 a sixteenth of Dpop::replay_capacity)",
            )),
            Some(per_key) if per_key > self.replay_capacity => Err(ConfigError::new(
                "Dpop::replay_per_key",
                format!(
                    "{per_key} is more than the whole store holds ({}); give at most \
                     Dpop::replay_capacity",
                    self.replay_capacity
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The algorithms accepted, for the `algs` of a `WWW-Authenticate: DPoP` challenge.
    pub fn accepted_algorithms(&self) -> AlgorithmSet {
        self.algorithms
    }

    /// The nonce to hand out now, when nonces are required.
    pub fn current_nonce(&self) -> Option<String> {
        self.nonces.as_ref().map(|nonces| nonces.current())
    }

    /// Checks `request`'s proof for `token`, bound to the key with thumbprint `jkt`.
    pub(crate) async fn check(
        &self,
        token: &str,
        jkt: &str,
        request: &DpopRequest<'_>,
    ) -> Result<(), AuthError> {
        let proof = Proof::parse(request.proof, self.algorithms, &self.keys)?;
        let claims = &proof.claims;
        let text = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("no `{name}`")))
        };
        let jti = text("jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(invalid("`jti` empty or too long"));
        }
        if text("htm")? != request.method {
            return Err(invalid("`htm` is not the request's method"));
        }
        let htu = normalize_htu(text("htu")?).ok_or_else(|| invalid("`htu` is not a URL"))?;
        let target = normalize_htu(request.url)
            .ok_or_else(|| AuthError::Internal(format!("request URL {:?}", request.url)))?;
        if htu != target {
            return Err(invalid("`htu` is not the request's URL"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_number)
            .and_then(numeric_date)
            .ok_or_else(|| invalid("no `iat`"))?;
        let now = date::now();
        let age = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        if iat < now.saturating_sub(age(self.max_age)) {
            return Err(invalid("proof too old"));
        }
        if iat > now.saturating_add(age(self.max_ahead)) {
            return Err(invalid("proof issued in the future"));
        }
        if text("ath")? != access_token_hash(token) {
            return Err(invalid("`ath` is not this token's hash"));
        }
        if let Some(nonces) = &self.nonces {
            match claims.get("nonce").and_then(Value::as_str) {
                Some(nonce) if nonces.accepts(nonce) => {}
                _ => return Err(AuthError::UseDpopNonce),
            }
        }
        if proof.thumbprint.as_str() != jkt {
            return Err(AuthError::DpopBinding(
                "the proof is signed by another key than the token is bound to".into(),
            ));
        }
        let accepted = self.replay.first_use(proof.thumbprint.as_str(), jti).await;
        // Only a key whose proof was accepted in full (signature, binding to a verified token,
        // replay store) is kept: filling the table takes tokens the issuer bound to each key.
        if accepted.is_ok()
            && let Some(parsed) = proof.parsed
        {
            self.keys.insert(parsed, proof.jwk_len);
        }
        accepted
    }
}

fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::InvalidDpopProof(reason.into())
}

/// What a DPoP request presents besides its token: the `DPoP` header, and the request it must be
/// bound to.
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    /// The `DPoP` header's value: one compact JWS.
    pub proof: &'a str,
    /// The request method, e.g. `GET`.
    pub method: &'a str,
    /// The request URL as the client addressed it: scheme, host and path (the query is ignored).
    /// Behind a proxy, the public origin the client used, not the address the API listens on.
    pub url: &'a str,
}

/// A parsed, signature-checked proof.
struct Proof {
    claims: Map<String, Value>,
    /// The RFC 7638 thumbprint of the header's key.
    thumbprint: Thumbprint,
    /// The header's key when it was parsed for this proof (not found in the table): kept once the
    /// proof is accepted.
    parsed: Option<ProofKey>,
    /// Length of the header's `jwk` text.
    jwk_len: usize,
}

#[derive(Deserialize)]
struct ProofHeader<'a> {
    typ: Option<&'a str>,
    alg: Option<&'a str>,
    #[serde(borrow)]
    jwk: Option<&'a RawValue>,
    crit: Option<&'a RawValue>,
}

/// Members of a JWK that only a private key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl Proof {
    fn parse(proof: &str, algorithms: AlgorithmSet, keys: &ProofKeys) -> Result<Proof, AuthError> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(invalid("proof too large"));
        }
        let mut parts = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a compact JWS"));
        };
        let decode = |segment: &str| {
            URL_SAFE_NO_PAD
                .decode(segment)
                .map_err(|_| invalid("a segment is not base64url"))
        };
        let header_bytes = decode(header)?;
        let parsed: ProofHeader<'_> =
            serde_json::from_slice(&header_bytes).map_err(|_| invalid("unreadable header"))?;
        if !parsed
            .typ
            .is_some_and(|typ| typ.eq_ignore_ascii_case("dpop+jwt"))
        {
            return Err(invalid("`typ` is not dpop+jwt"));
        }
        if parsed.crit.is_some() {
            return Err(invalid("unsupported `crit`"));
        }
        let alg = parsed
            .alg
            .and_then(Algorithm::from_name)
            .filter(|alg| algorithms.contains(*alg))
            .ok_or_else(|| invalid("`alg` not accepted"))?;
        let jwk = parsed.jwk.ok_or_else(|| invalid("no `jwk`"))?;
        // Before the table is consulted: a JWK holding a private key, or one parsing would refuse
        // for this `alg`, is refused whatever is held for the same thumbprint.
        if holds_private_members(jwk)? {
            return Err(invalid("`jwk` holds a private key"));
        }
        let members: JwkMembers<'_> =
            serde_json::from_str(jwk.get()).map_err(|_| invalid(UNUSABLE_KEY))?;
        if !members.usable_for(alg) {
            return Err(invalid(UNUSABLE_KEY));
        }
        let thumbprint = members.thumbprint().ok_or_else(|| invalid(UNUSABLE_KEY))?;
        let signature = decode(signature)?;
        let signing_input = &proof[..header.len() + 1 + payload.len()];
        let verify =
            |key: &jwks::VerifyingKey| key.verify(alg, signing_input.as_bytes(), &signature);
        let (verified, parsed) = match keys.with_key(alg, &thumbprint.digest, verify) {
            Some(verified) => (verified, None),
            None => {
                let key =
                    jwks::parse_proof_key(jwk, AlgorithmPolicy::Only(AlgorithmSet::of(&[alg])))
                        .map_err(|_| invalid(UNUSABLE_KEY))?;
                let key = ProofKey::new(alg, thumbprint.digest, key);
                (verify(key.key()), Some(key))
            }
        };
        if !verified {
            return Err(invalid("signature does not verify"));
        }
        let claims: Map<String, Value> =
            serde_json::from_slice(&decode(payload)?).map_err(|_| invalid("unreadable payload"))?;
        Ok(Proof {
            claims,
            thumbprint,
            parsed,
            jwk_len: jwk.get().len(),
        })
    }
}

/// Why a `jwk` that is not a private key is refused: what parsing it for the proof's `alg` would
/// refuse (unreadable members, `use`, `key_ops` or `alg` that rule the algorithm out, a malformed
/// key).
const UNUSABLE_KEY: &str = "`jwk` is not a usable key for `alg`";

/// A JSON string, borrowed from the text unless it holds escapes (serde's own `Cow` is borrowed
/// only as a bare field, never inside an `Option` or a `Vec`).
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a str>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Text<'a>, E> {
                Ok(Text(text.into()))
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'a>, E> {
                Ok(Text(text.to_owned().into()))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

/// A JWK's members, read with the same types key parsing (`keys::jwks`) reads them with, so a
/// text refused there is refused here too, before the table is consulted.
#[derive(Deserialize)]
struct JwkMembers<'a> {
    #[serde(borrow)]
    kty: Text<'a>,
    #[serde(borrow, rename = "use")]
    use_: Option<Text<'a>>,
    #[serde(borrow)]
    alg: Option<Text<'a>>,
    // Read only to refuse what parsing refuses (a `kid` that is not a string).
    #[serde(borrow)]
    #[allow(dead_code)]
    kid: Option<Text<'a>>,
    #[serde(borrow)]
    crv: Option<Text<'a>>,
    #[serde(borrow)]
    n: Option<Text<'a>>,
    #[serde(borrow)]
    e: Option<Text<'a>>,
    #[serde(borrow)]
    x: Option<Text<'a>>,
    #[serde(borrow)]
    y: Option<Text<'a>>,
    #[serde(borrow)]
    key_ops: Option<Vec<Text<'a>>>,
    // Read as key parsing reads it (any JSON, within serde_json's limits: a number out of range, a
    // lone surrogate or nesting past 128 levels refused), so a hit refuses what a miss refuses.
    #[allow(dead_code)]
    issuer: Option<serde_json::Value>,
}

impl JwkMembers<'_> {
    /// Whether `use`, `key_ops` and the JWK's own `alg` allow verifying `alg` proofs, as key
    /// parsing decides it.
    fn usable_for(&self, alg: Algorithm) -> bool {
        self.use_.as_ref().is_none_or(|usage| usage.0 == "sig")
            && self
                .key_ops
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|op| op.0 == "verify"))
            && self
                .alg
                .as_ref()
                .is_none_or(|declared| Algorithm::from_name(&declared.0) == Some(alg))
    }

    fn thumbprint(&self) -> Option<Thumbprint> {
        fn text<'m>(member: &'m Option<Text<'_>>) -> Option<&'m str> {
            member.as_ref().map(|text| &*text.0)
        }
        let (crv, n, e, x, y) = (
            text(&self.crv),
            text(&self.n),
            text(&self.e),
            text(&self.x),
            text(&self.y),
        );
        Thumbprint::of(&self.kty.0, |name| match name {
            "crv" => crv,
            "x" => x,
            "y" => y,
            "n" => n,
            "e" => e,
            _ => None,
        })
    }
}

/// Whether the JWK has a member only a private key has, by its name as JSON reads it (an escaped
/// `"\u0064"` is `d`); an error for what is not a JSON object. Reads the text once without
/// keeping anything.
fn holds_private_members(jwk: &RawValue) -> Result<bool, AuthError> {
    struct Private;
    impl<'de> Visitor<'de> for Private {
        type Value = bool;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JWK object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut private = false;
            while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                private |= PRIVATE_MEMBERS.contains(&&*name);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(private)
        }
    }
    let mut reader = serde_json::Deserializer::from_str(jwk.get());
    serde::Deserializer::deserialize_map(&mut reader, Private)
        .map_err(|_| invalid("`jwk` is not an object"))
}

/// The RFC 7638 thumbprint of a public JWK: its required members only, in lexicographic order,
/// without whitespace, hashed with SHA-256, base64url.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let thumbprint = Thumbprint::of(jwk.get("kty")?.as_str()?, |name| jwk.get(name)?.as_str())?;
    Some(thumbprint.as_str().to_owned())
}

/// An RFC 7638 thumbprint, kept without allocating: the digest (the proof-key table's key) and
/// its base64url text (what `cnf.jkt` holds).
struct Thumbprint {
    digest: [u8; 32],
    text: [u8; 43],
}

impl Thumbprint {
    /// The thumbprint of a key of type `kty` whose other members `member` gives by name.
    fn of<'a>(kty: &'a str, member: impl Fn(&str) -> Option<&'a str>) -> Option<Thumbprint> {
        let required: &[&str] = match kty {
            "RSA" => &["e", "kty", "n"],
            "EC" => &["crv", "kty", "x", "y"],
            "OKP" => &["crv", "kty", "x"],
            _ => return None,
        };
        let mut canonical = [("", ""); 4];
        for (slot, name) in canonical.iter_mut().zip(required) {
            let value = if *name == "kty" { kty } else { member(name)? };
            *slot = (*name, value);
        }
        let canonical = canonical.get(..required.len())?;
        struct Members<'m>(&'m [(&'m str, &'m str)]);
        impl serde::Serialize for Members<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().copied())
            }
        }
        // Written whole, then hashed in one call (fewer instructions than feeding the digest
        // serde_json's many small writes): on the stack for EC and OKP keys (about 130 bytes),
        // in a vector for RSA moduli.
        let mut stack = [0u8; 256];
        let mut free: &mut [u8] = &mut stack;
        let digest = if serde_json::to_writer(&mut free, &Members(canonical)).is_ok() {
            let written = 256 - free.len();
            digest::digest(&digest::SHA256, stack.get(..written)?)
        } else {
            digest::digest(
                &digest::SHA256,
                &serde_json::to_vec(&Members(canonical)).ok()?,
            )
        };
        let digest: [u8; 32] = digest.as_ref().try_into().ok()?;
        let mut text = [0u8; 43];
        URL_SAFE_NO_PAD.encode_slice(digest, &mut text).ok()?;
        Some(Thumbprint { digest, text })
    }

    fn as_str(&self) -> &str {
        // base64url is ASCII.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

/// `ath`: base64url(SHA-256(the access token)).
pub(crate) fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// `htu` as RFC 9449 §4.3 compares it: scheme and host lowercased, default port dropped, dot
/// segments removed, percent-encoding normalised (RFC 3986 §6.2.2, §6.2.3), query and fragment
/// dropped. `None` for what is not an absolute http(s) URL.
pub(crate) fn normalize_htu(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return None;
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    let path = normalize_percent(parsed.path());
    parsed.set_path(&path);
    Some(parsed.into())
}

/// Uppercases the hex digits of percent-encodings and decodes those of unreserved characters.
fn normalize_percent(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = |at: usize| bytes.get(at).copied().filter(u8::is_ascii_hexdigit);
        if byte == b'%'
            && let (Some(high), Some(low)) = (hex(index + 1), hex(index + 2))
        {
            let value = hex_value(high) << 4 | hex_value(low);
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                out.push(value as char);
            } else {
                out.push('%');
                out.push(high.to_ascii_uppercase() as char);
                out.push(low.to_ascii_uppercase() as char);
            }
            index += 3;
            continue;
        }
        out.push(byte as char);
        index += 1;
    }
    out
}

fn hex_value(digit: u8) -> u8 {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
        .unwrap_or_default()
}

/// Server nonces without server state: the time slot and a MAC over it.
struct Nonces {
    key: hmac::Key,
    rotation: Duration,
}

impl Nonces {
    fn new(secret: Option<[u8; 32]>, rotation: Duration) -> Nonces {
        let secret = secret.unwrap_or_else(|| {
            use aws_lc_rs::rand::SecureRandom;
            let mut secret = [0u8; 32];
            let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut secret);
            secret
        });
        Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            rotation: rotation.max(Duration::from_secs(1)),
        }
    }

    fn slot(&self) -> u64 {
        u64::try_from(date::now()).unwrap_or_default() / self.rotation.as_secs().max(1)
    }

    fn for_slot(&self, slot: u64) -> String {
        let tag = hmac::sign(&self.key, &slot.to_be_bytes());
        let mut bytes = slot.to_be_bytes().to_vec();
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn current(&self) -> String {
        self.for_slot(self.slot())
    }

    /// The current nonce or the previous one (a client may have fetched it just before rotation).
    fn accepts(&self, nonce: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Some((slot, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let slot = u64::from_be_bytes(*slot);
        let now = self.slot();
        (slot == now || slot.saturating_add(1) == now)
            && hmac::verify(&self.key, &slot.to_be_bytes(), tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    const URL: &str = "https://api.example.com/items";
    const TOKEN: &str = "a.bound.token";

    /// A P-256 client key that signs proofs whose header text the test writes, whitespace and
    /// member order included.
    struct Client {
        pair: EcdsaKeyPair,
        x: String,
        y: String,
    }

    impl Client {
        fn new() -> Client {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = pair.public_key().as_ref().to_vec();
            Client {
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: URL_SAFE_NO_PAD.encode(&point[33..65]),
                pair,
            }
        }

        /// The public JWK as proofs usually carry it.
        fn jwk(&self) -> String {
            format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
                self.x, self.y
            )
        }

        fn thumbprint(&self) -> String {
            thumbprint(&serde_json::from_str(&self.jwk()).unwrap()).unwrap()
        }

        /// A fresh proof for `GET URL` with `TOKEN`, carrying `jwk` as its header's key.
        fn proof(&self, jwk: &str) -> String {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#);
            let claims = serde_json::json!({
                "jti": format!("jti-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                "htm": "GET",
                "htu": URL,
                "iat": date::now(),
                "ath": access_token_hash(TOKEN),
            });
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let signature = self
                .pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
        }
    }

    async fn check(dpop: &Dpop, jkt: &str, proof: &str) -> Result<(), AuthError> {
        let request = DpopRequest {
            proof,
            method: "GET",
            url: URL,
        };
        dpop.check(TOKEN, jkt, &request).await
    }

    fn parsed(dpop: &Dpop, proof: &str) -> Proof {
        Proof::parse(proof, dpop.algorithms, &dpop.keys).unwrap()
    }

    impl Proof {
        /// Whether the key came from the table of parsed keys.
        fn cached(&self) -> bool {
            self.parsed.is_none()
        }
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint; member order and whitespace do not count.
        let jwk = r#"{"e":"AQAB","kid":"2011-04-29","kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#;
        let members: JwkMembers<'_> = serde_json::from_str(jwk).unwrap();
        let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        assert_eq!(members.thumbprint().unwrap().as_str(), expected);
        assert_eq!(
            thumbprint(&serde_json::from_str(jwk).unwrap()).unwrap(),
            expected
        );
        let escaped = jwk
            .replacen("AQAB", r"\u0041QAB", 1)
            .replacen(',', " ,\n", 1);
        let members: JwkMembers<'_> = serde_json::from_str(&escaped).unwrap();
        assert_eq!(members.thumbprint().unwrap().as_str(), expected);
        // RFC 8037 §A.3's Ed25519 key (written on the stack, where the RSA key above is not).
        let okp =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let members: JwkMembers<'_> = serde_json::from_str(okp).unwrap();
        let expected = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
        assert_eq!(members.thumbprint().unwrap().as_str(), expected);
    }

    #[tokio::test]
    async fn a_repeat_client_is_served_from_the_table_and_a_new_one_is_parsed() {
        let dpop = Dpop::default();
        let client = Client::new();
        let jkt = client.thumbprint();
        let first = client.proof(&client.jwk());
        assert!(!parsed(&dpop, &first).cached(), "a new key is parsed");
        check(&dpop, &jkt, &first).await.unwrap();
        assert_eq!(dpop.keys.len(), 1);

        let second = client.proof(&client.jwk());
        let proof = parsed(&dpop, &second);
        assert!(proof.cached(), "the same key again is a hit");
        assert_eq!(proof.thumbprint.as_str(), jkt);
        check(&dpop, &jkt, &second).await.unwrap();
        // The proof itself is still checked in full on a hit: a replay is refused.
        assert_eq!(
            check(&dpop, &jkt, &second).await.unwrap_err(),
            AuthError::DpopReplay
        );

        let other = Client::new();
        let proof = parsed(&dpop, &other.proof(&other.jwk()));
        assert!(!proof.cached(), "another client's key is a miss");
        assert_eq!(dpop.keys.len(), 1);
    }

    #[tokio::test]
    async fn only_a_key_bound_to_the_token_is_kept() {
        let dpop = Dpop::default();
        let client = Client::new();
        let someone_else = Client::new().thumbprint();
        let refused = check(&dpop, &someone_else, &client.proof(&client.jwk())).await;
        assert!(
            matches!(refused, Err(AuthError::DpopBinding(_))),
            "{refused:?}"
        );
        let forged = format!("{}x", client.proof(&client.jwk()));
        assert!(check(&dpop, &client.thumbprint(), &forged).await.is_err());
        assert_eq!(
            dpop.keys.len(),
            0,
            "neither a mismatched binding nor a bad signature"
        );
        let off = Dpop::default().key_cache(0);
        check(&off, &client.thumbprint(), &client.proof(&client.jwk()))
            .await
            .unwrap();
        assert_eq!(off.keys.len(), 0);
    }

    #[tokio::test]
    async fn every_text_of_one_key_is_one_entry_and_its_other_members_are_checked_every_time() {
        let dpop = Dpop::default();
        let client = Client::new();
        let jkt = client.thumbprint();
        check(&dpop, &jkt, &client.proof(&client.jwk()))
            .await
            .unwrap();

        // Whitespace, member order, an escape, or a member no key needs: the same key, found by
        // its thumbprint, and its proof still checked in full.
        let spaced = client.jwk().replace(':', ": ").replace(',', ", ");
        let with_kid = client.jwk().replacen('{', r#"{"kid":"k1","#, 1);
        let reordered = format!(
            r#"{{"y":"{}","x":"{}","crv":"P-256","kty":"EC"}}"#,
            client.y, client.x
        );
        let escaped = client.jwk().replacen(r#""EC""#, r#""\u0045C""#, 1);
        for jwk in [&spaced, &with_kid, &reordered, &escaped] {
            let proof = client.proof(jwk);
            assert!(parsed(&dpop, &proof).cached(), "{jwk}");
            check(&dpop, &jkt, &proof).await.unwrap();
            let proof = client.proof(jwk);
            let (input, signature) = proof.rsplit_once('.').unwrap();
            let other = if signature.starts_with('A') { 'B' } else { 'A' };
            let forged = format!("{input}.{other}{}", &signature[1..]);
            assert_eq!(
                check(&dpop, &jkt, &forged).await.unwrap_err(),
                invalid("signature does not verify"),
                "{jwk}"
            );
        }
        assert_eq!(dpop.keys.len(), 1);

        // Members that change what the key may do, or that key parsing cannot read, are refused
        // though the key is held: the entry answers only for what the thumbprint covers.
        for (member, value) in [
            ("use", r#""enc""#),
            ("key_ops", r#"["sign"]"#),
            ("alg", r#""ES384""#),
            ("alg", r#""none""#),
            ("kid", "7"),
            ("use", "1"),
            ("key_ops", r#""verify""#),
        ] {
            let jwk = client
                .jwk()
                .replacen('{', &format!(r#"{{"{member}":{value},"#), 1);
            let refused = check(&dpop, &jkt, &client.proof(&jwk)).await;
            assert_eq!(
                refused.unwrap_err(),
                invalid("`jwk` is not a usable key for `alg`"),
                "{member}: {value}"
            );
            // Parsing refuses the same text when the key is not held.
            let raw = RawValue::from_string(jwk.clone()).unwrap();
            let policy = AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::ES256]));
            assert!(jwks::parse_proof_key(&raw, policy).is_err(), "{jwk}");
        }
        // What key parsing allows is allowed on a hit too.
        for (member, value) in [
            ("use", r#""sig""#),
            ("key_ops", r#"["verify"]"#),
            ("alg", r#""ES256""#),
            ("issuer", "7"),
        ] {
            let jwk = client
                .jwk()
                .replacen('{', &format!(r#"{{"{member}":{value},"#), 1);
            let proof = client.proof(&jwk);
            assert!(parsed(&dpop, &proof).cached(), "{jwk}");
            check(&dpop, &jkt, &proof).await.unwrap();
        }
        // A duplicated member, refused by key parsing, is refused before the lookup.
        let twice = client.jwk().replacen('{', r#"{"x":"AAAA","#, 1);
        assert_eq!(
            check(&dpop, &jkt, &client.proof(&twice)).await.unwrap_err(),
            invalid("`jwk` is not a usable key for `alg`")
        );
        assert_eq!(dpop.keys.len(), 1);
    }

    #[tokio::test]
    async fn a_held_key_answers_only_for_a_token_bound_to_it() {
        let dpop = Dpop::default();
        let client = Client::new();
        check(&dpop, &client.thumbprint(), &client.proof(&client.jwk()))
            .await
            .unwrap();
        let proof = client.proof(&client.jwk());
        assert!(parsed(&dpop, &proof).cached());
        let refused = check(&dpop, &Client::new().thumbprint(), &proof).await;
        assert!(
            matches!(refused, Err(AuthError::DpopBinding(_))),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_private_key_is_refused_though_its_public_key_is_held() {
        let dpop = Dpop::default();
        let client = Client::new();
        let jkt = client.thumbprint();
        check(&dpop, &jkt, &client.proof(&client.jwk()))
            .await
            .unwrap();
        assert_eq!(dpop.keys.len(), 1);
        // The same public members, so the same thumbprint as the held key.
        let private = client.jwk().replacen('{', r#"{"d":"c2VjcmV0","#, 1);
        let escaped = client.jwk().replacen('{', r#"{"\u0064":"c2VjcmV0","#, 1);
        for jwk in [&private, &escaped] {
            let refused = check(&dpop, &jkt, &client.proof(jwk)).await;
            assert_eq!(
                refused.unwrap_err(),
                invalid("`jwk` holds a private key"),
                "{jwk}"
            );
        }
        for not_an_object in ["[]", r#""jwk""#, "1"] {
            let refused = check(&dpop, &jkt, &client.proof(not_an_object)).await;
            assert_eq!(refused.unwrap_err(), invalid("`jwk` is not an object"));
        }
    }

    #[tokio::test]
    async fn a_proof_refused_by_the_replay_store_keeps_no_key() {
        // Every proof of this key is refused past its one-proof share.
        let dpop = Dpop::default().replay_per_key(1);
        let client = Client::new();
        let jkt = client.thumbprint();
        check(&dpop, &jkt, &client.proof(&client.jwk()))
            .await
            .unwrap();
        let later = dpop.clone().key_cache(64);
        let refused = check(&later, &jkt, &client.proof(&client.jwk())).await;
        assert!(refused.is_err(), "over its share: {refused:?}");
        assert_eq!(later.keys.len(), 0);
    }

    #[test]
    fn the_key_table_size_is_bounded() {
        let dpop = Dpop::default().key_cache(MAX_PROOF_KEY_CACHE);
        assert!(dpop.validate().is_ok());
        assert_eq!(dpop.keys.slots(), MAX_PROOF_KEY_CACHE);
        let error = Dpop::default()
            .key_cache(MAX_PROOF_KEY_CACHE + 1)
            .validate()
            .unwrap_err();
        assert_eq!(error.setting, "Dpop::key_cache");
    }

    // Attacker round 2 (issue 35): the proof-key table.

    /// The table's module says "filling the table takes tokens the issuer bound to those keys",
    /// but it is keyed by the JWK's exact text: one client holding ONE bound token signs proofs
    /// whose `jwk` differs only in a member no key needs (`kid`, here; whitespace works too), each
    /// accepted and each kept as a new entry with the same thumbprint. One token fills the whole
    /// table and pushes out every other client's key.
    #[tokio::test]
    async fn attack_one_bound_token_fills_the_key_table_with_text_variants_of_its_key() {
        let dpop = Dpop::default().key_cache(64);
        let victim = Client::new();
        let victim_jkt = victim.thumbprint();
        check(&dpop, &victim_jkt, &victim.proof(&victim.jwk()))
            .await
            .unwrap();
        assert!(parsed(&dpop, &victim.proof(&victim.jwk())).cached());

        let attacker = Client::new();
        let attacker_jkt = attacker.thumbprint();
        for n in 0..2000 {
            let jwk = attacker
                .jwk()
                .replacen('{', &format!(r#"{{"kid":"{n}","#), 1);
            check(&dpop, &attacker_jkt, &attacker.proof(&jwk))
                .await
                .unwrap();
        }
        let attacker_entries = dpop.keys.len();
        let victim_still_held = parsed(&dpop, &victim.proof(&victim.jwk())).cached();
        assert!(
            attacker_entries <= 2 && victim_still_held,
            "one bound key holds {attacker_entries} of {} slots; victim's key still held: \
             {victim_still_held}",
            dpop.keys.slots()
        );
    }

    /// The module says an entry is added only once a proof is accepted, but the key is inserted
    /// before the replay check: a captured proof replayed after its key left the table (here, a
    /// new table sharing the replay store, as after eviction) is refused as a replay, yet its key
    /// is put (back) in the table.
    #[tokio::test]
    async fn attack_a_replayed_proof_that_is_refused_still_inserts_its_key() {
        let first = Dpop::default();
        let client = Client::new();
        let jkt = client.thumbprint();
        let proof = client.proof(&client.jwk());
        check(&first, &jkt, &proof).await.unwrap();
        // Same replay store, empty table (what an evicted key looks like).
        let later = first.clone().key_cache(64);
        assert_eq!(later.keys.len(), 0);
        assert_eq!(
            check(&later, &jkt, &proof).await.unwrap_err(),
            AuthError::DpopReplay
        );
        assert_eq!(
            later.keys.len(),
            0,
            "a refused (replayed) proof put its key in the table"
        );
    }

    /// A table size that cannot be built panics in the builder (debug: `sets * WAYS` overflows
    /// in `ProofKeys::new`; release wraps it; sizes such as `1 << 40` abort the process trying to
    /// allocate terabytes) instead of a `ConfigError` naming
    /// `Dpop::key_cache`, as every other Dpop setting that cannot work does.
    #[test]
    fn attack_an_impossible_key_cache_size_is_a_config_error_not_a_panic() {
        let built = std::panic::catch_unwind(|| Dpop::default().key_cache(usize::MAX));
        let dpop = built.expect("Dpop::key_cache(usize::MAX) panicked");
        let error = dpop
            .validate()
            .expect_err("an impossible key_cache accepted");
        assert!(format!("{error:?}").contains("key_cache"), "{error:?}");
    }

    /// `Dpop::key_cache(keys)` is documented as the most keys kept (2.5 KiB each), but the table
    /// rounds the number of sets up to a power of two: asking for 4,100 keys (just over the
    /// default) builds 8,192 slots, nearly twice the memory the operator sized for.
    #[test]
    fn attack_key_cache_holds_up_to_twice_the_keys_it_was_given() {
        let asked = 4100;
        let dpop = Dpop::default().key_cache(asked);
        // Whole sets of four are fine; a doubling is not "most".
        assert!(
            dpop.keys.slots() <= asked.next_multiple_of(4),
            "key_cache({asked}) holds up to {} keys",
            dpop.keys.slots()
        );
    }

    /// Round 4. On a miss, key parsing (`keys::jwks::RawJwk`) reads the JWK's `issuer` member as a
    /// `serde_json::Value`, which refuses a number out of f64 range, a lone surrogate escape and
    /// nesting past 128 levels; on a hit, `JwkMembers` read it as `IgnoredAny`, which accepted all
    /// three, so the outcome of a proof depended on what other requests put in the table. Both now
    /// read it alike: a hit skips only the key construction.
    #[tokio::test]
    async fn a_jwk_refused_on_a_miss_is_refused_on_a_hit() {
        let client = Client::new();
        let jkt = client.thumbprint();
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let mut accepted_on_a_hit = Vec::new();
        for value in ["1e400", r#""\ud800""#, deep.as_str()] {
            let jwk = client
                .jwk()
                .replacen('{', &format!(r#"{{"issuer":{value},"#), 1);
            // Without the key held: refused (key parsing cannot read the JWK).
            let cold = Dpop::default().key_cache(0);
            let refused = check(&cold, &jkt, &client.proof(&jwk)).await;
            assert_eq!(
                refused.unwrap_err(),
                invalid("`jwk` is not a usable key for `alg`"),
                "miss, issuer {value:.20}"
            );
            // With the key held (put there by an ordinary proof of the same key): must be the same.
            let warm = Dpop::default();
            check(&warm, &jkt, &client.proof(&client.jwk()))
                .await
                .unwrap();
            let proof = client.proof(&jwk);
            if check(&warm, &jkt, &proof).await.is_ok() {
                accepted_on_a_hit.push(format!("{value:.20}"));
            }
        }
        assert!(
            accepted_on_a_hit.is_empty(),
            "issuer values refused on a miss but accepted on a hit: {accepted_on_a_hit:?}"
        );
    }
}
