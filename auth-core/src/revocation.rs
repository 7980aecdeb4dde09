//! Revoking JWTs before they expire: one token by its `jti`, or "every token of this subject issued
//! before now" (sign-out everywhere). Checked for every verified token, verified-token cache hits
//! included, against a local set that takes no lock and allocates nothing; with the `redis` feature
//! the set is shared by every instance of the API (see [`Revocations::redis`]).

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::validation;
use crate::verified_token::VerifiedToken;

/// How long a subject's revocation is kept after the time it names, unless set otherwise: no token
/// issued before that time can still be valid once this much later.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Most revocations held at once (entries of about a hundred bytes).
const CAPACITY: u64 = 1_000_000;

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Revocation {
    /// The token with this `jti` from this issuer, until it expires.
    Token {
        issuer: String,
        jti: String,
        until: i64,
    },
    /// Every token of this subject from this issuer issued (`iat`) before `before`.
    Subject {
        issuer: String,
        subject: String,
        before: i64,
        until: i64,
    },
}

impl Revocation {
    /// When the revocation can be forgotten (seconds since the epoch).
    pub(crate) fn until(&self) -> i64 {
        match self {
            Revocation::Token { until, .. } | Revocation::Subject { until, .. } => *until,
        }
    }

    fn key(&self, hasher: &foldhash::fast::FixedState) -> u64 {
        match self {
            Revocation::Token { issuer, jti, .. } => slot(hasher, 't', issuer, jti),
            Revocation::Subject {
                issuer, subject, ..
            } => slot(hasher, 's', issuer, subject),
        }
    }
}

/// Where a revocation sits in the local set: a hash of its kind and names, compared in full on a
/// hit, so the per-request lookup builds no string.
fn slot(hasher: &foldhash::fast::FixedState, kind: char, issuer: &str, name: &str) -> u64 {
    hasher.hash_one((kind, issuer, name))
}

struct ExpireWhenDone;

impl moka::Expiry<u64, Arc<Revocation>> for ExpireWhenDone {
    fn expire_after_create(
        &self,
        _: &u64,
        entry: &Arc<Revocation>,
        _: Instant,
    ) -> Option<Duration> {
        let left = entry.until().saturating_sub(validation::now());
        Some(Duration::from_secs(u64::try_from(left).unwrap_or(0)))
    }
}

/// Why a revocation could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revocation not recorded: {0}")]
pub struct RevocationError(pub(crate) String);

/// Revoked tokens and subjects. Cheap to clone; clones share the set.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{AuthError, Revocations, StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let revocations = Revocations::in_memory();
/// let verifier = Verifier::new(issuer.provider())?.revocations(revocations.clone());
/// let token = issuer.token().subject("ada").sign();
/// let claims = verifier.verify_token(&token).await?;
///
/// // Ada signs out everywhere: every token of hers issued until now stops working.
/// let issued = claims.payload()["iat"].as_i64().unwrap();
/// revocations.revoke_subject(issuer.issuer(), "ada", issued + 1).await?;
/// assert_eq!(verifier.verify_token(&token).await.unwrap_err(), AuthError::Revoked);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Revocations {
    pub(crate) inner: Arc<Local>,
    #[cfg(feature = "redis")]
    pub(crate) shared: Option<crate::redis_store::RedisStore>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("entries", &self.inner.entries.entry_count())
            .finish()
    }
}

/// The local set: what every check reads.
pub(crate) struct Local {
    entries: Cache<u64, Arc<Revocation>, foldhash::fast::RandomState>,
    hasher: foldhash::fast::FixedState,
    /// Whether anything was ever revoked: until then a check costs one load.
    any: AtomicBool,
    /// Whether the set reflects the shared store yet (always, in memory): until then every token is
    /// refused with 503, since one revoked elsewhere cannot be told apart.
    synced: AtomicBool,
    max_token_lifetime: Duration,
}

impl Local {
    pub(crate) fn new(synced: bool) -> Local {
        Local {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(ExpireWhenDone)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            hasher: foldhash::fast::FixedState::with_seed(rand_seed()),
            any: AtomicBool::new(false),
            synced: AtomicBool::new(synced),
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
        }
    }

    pub(crate) fn insert(&self, revocation: Revocation) {
        if revocation.until() <= validation::now() {
            return;
        }
        self.any.store(true, Ordering::Release);
        let key = revocation.key(&self.hasher);
        self.entries.insert(key, Arc::new(revocation));
    }

    #[cfg(feature = "redis")]
    pub(crate) fn set_synced(&self, synced: bool) {
        metrics::gauge!(crate::meters::REVOCATION_STORE_READY).set(f64::from(u8::from(synced)));
        self.synced.store(synced, Ordering::Release);
    }

    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        if !self.synced.load(Ordering::Acquire) {
            return Err(AuthError::StoreUnavailable(
                "the shared revocation list has not been loaded yet".to_owned(),
            ));
        }
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let issuer = &token.identity().issuer;
        if let Some(jti) = token.jti()
            && let Some(hit) = self.entries.get(&slot(&self.hasher, 't', issuer, jti))
            && let Revocation::Token {
                issuer: i, jti: j, ..
            } = &*hit
            && i == issuer
            && j == jti
        {
            return Err(AuthError::Revoked);
        }
        let subject = &token.identity().subject;
        if let Some(hit) = self.entries.get(&slot(&self.hasher, 's', issuer, subject))
            && let Revocation::Subject {
                issuer: i,
                subject: s,
                before,
                ..
            } = &*hit
            && i == issuer
            && s == subject
        {
            // Without `iat` a token cannot show it came after the revocation.
            if token.iat().is_none_or(|iat| iat < *before) {
                return Err(AuthError::Revoked);
            }
        }
        Ok(())
    }
}

fn rand_seed() -> u64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut seed = [0u8; 8];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut seed);
    u64::from_le_bytes(seed)
}

impl Revocations {
    /// Revocations kept in this process: right for one instance, lost on restart.
    pub fn in_memory() -> Revocations {
        Revocations {
            inner: Arc::new(Local::new(true)),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// Revocations shared by every instance through the Redis server at `url`
    /// (`redis://[:password@]host:6379[/db]`): a revocation made by one instance is refused by all
    /// of them as soon as it is announced, and survives restarts until it can be forgotten.
    ///
    /// Requests read an in-memory mirror, never Redis itself, so a revocation check adds no round
    /// trip. The mirror is loaded in the background: this waits up to `startup_wait` for it, then
    /// returns anyway (logging a warning); until it is loaded every token is refused with 503
    /// `AUTH_UNAVAILABLE`, since a token revoked elsewhere cannot be told apart. If Redis goes away
    /// later, the mirror keeps answering with what it holds and reloads on reconnection;
    /// revocations fail with [`RevocationError`] meanwhile.
    ///
    /// Fails at once only on a URL that is not one.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn redis(
        url: &str,
        startup_wait: Duration,
    ) -> Result<Revocations, crate::ConfigError> {
        let store = crate::redis_store::RedisStore::open(url, "Revocations::redis(url)")?;
        let local = Arc::new(Local::new(false));
        // Present (and 0) from the start, so an instance that never loads can be alerted on.
        metrics::gauge!(crate::meters::REVOCATION_STORE_READY).set(0.0);
        store.mirror(&local);
        let deadline = Instant::now() + startup_wait;
        while !local.synced.load(Ordering::Acquire) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if !local.synced.load(Ordering::Acquire) {
            tracing::warn!(
                target: "auth",
                store = %store.place,
                "revocation store not loaded yet: tokens are refused with 503 until it is"
            );
        }
        Ok(Revocations {
            inner: local,
            shared: Some(store),
        })
    }

    /// Whether the revocations are loaded (always, in memory): tokens are refused with 503 until
    /// they are. For readiness probes.
    pub fn is_ready(&self) -> bool {
        self.inner.synced.load(Ordering::Acquire)
    }

    /// Revokes the token with this `jti` from `issuer`, until `expires_at` (its `exp`, seconds
    /// since the epoch).
    pub async fn revoke_token(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<(), RevocationError> {
        self.record(Revocation::Token {
            issuer: issuer.to_owned(),
            jti: jti.to_owned(),
            until: expires_at,
        })
        .await
    }

    /// Revokes a verified token (by its `jti`, until its `exp`); a token without `jti` is refused
    /// with an error, since it cannot be named.
    pub async fn revoke(&self, token: &VerifiedToken) -> Result<(), RevocationError> {
        let issuer = &token.identity().issuer;
        let Some(jti) = token.jti() else {
            return Err(RevocationError(
                "the token has no jti to revoke it by".to_owned(),
            ));
        };
        let exp = token.exp().unwrap_or_else(validation::now);
        self.revoke_token(issuer, jti, exp).await
    }

    /// Revokes every token of `subject` from `issuer` issued before `issued_before` (seconds since
    /// the epoch; now, for "sign out everywhere"). Kept until no such token can still be valid:
    /// [`DEFAULT_MAX_TOKEN_LIFETIME`] after that time.
    pub async fn revoke_subject(
        &self,
        issuer: &str,
        subject: &str,
        issued_before: i64,
    ) -> Result<(), RevocationError> {
        let keep = i64::try_from(self.inner.max_token_lifetime.as_secs()).unwrap_or(i64::MAX);
        self.record(Revocation::Subject {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            before: issued_before,
            until: issued_before.saturating_add(keep),
        })
        .await
    }

    async fn record(&self, revocation: Revocation) -> Result<(), RevocationError> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            shared.publish(&revocation).await?;
        }
        self.inner.insert(revocation);
        Ok(())
    }

    /// Refuses a revoked token.
    pub(crate) fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        self.inner.check(token)
    }
}
