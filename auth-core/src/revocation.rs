//! Revoking JWTs before they expire: one token by its `jti`, or "every token of this subject issued
//! before now" (sign-out everywhere). Checked for every verified token, verified-token cache hits
//! included, against a local set that takes one uncontended read lock and allocates nothing; with
//! the `redis` feature the set is shared by every instance of the API (see
//! [`Revocations::redis_with`]). The set is bounded by refusing new revocations, never by
//! forgetting one that still matters.
//!
//! A revocation is kept until no token it names can be accepted: its `until` (a token's `exp`, or
//! the latest `exp` a token issued before a sign-out can have) plus [`MAX_LEEWAY`], since a
//! verifier accepts a token until `exp` plus its leeway. For the second kind to hold, tokens must
//! not live longer than [`RevocationSettings::max_token_lifetime`], which the check enforces.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
#[cfg(feature = "redis")]
use std::sync::atomic::{AtomicU64, AtomicUsize};
#[cfg(feature = "redis")]
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{AuthError, ConfigError};
use crate::provider::MAX_LEEWAY;
use crate::revocation_set::{Full, RevocationSet};
use crate::token::date;
use crate::token::verified::VerifiedToken;

/// The longest a token may live (`exp - iat`) while revocations are checked, unless set otherwise
/// ([`RevocationSettings::max_token_lifetime`]): a subject's revocation is kept this long after the
/// time it names.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The longest [`RevocationSettings::max_token_lifetime`] accepted: a shared store keeps a
/// subject's revocation this long (plus twice [`MAX_LEEWAY`]) after the time it names, so an
/// instance whose setting is longer than the writer's still finds it.
pub(crate) const LONGEST_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// Most revocations held at once unless set otherwise ([`RevocationSettings::capacity`]).
pub const DEFAULT_REVOCATION_CAPACITY: usize = 1_000_000;

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
    /// The latest `exp` of a token it revokes (seconds since the epoch).
    pub(crate) fn until(&self) -> i64 {
        match self {
            Revocation::Token { until, .. } | Revocation::Subject { until, .. } => *until,
        }
    }

    /// When the revocation can be forgotten: once every token it names is refused as expired,
    /// whatever leeway a verifier gives ([`MAX_LEEWAY`] at most).
    pub(crate) fn forget_at(&self) -> i64 {
        self.until()
            .saturating_add(MAX_LEEWAY.as_secs().cast_signed())
    }

    /// The same revocation with its dates no later than any token can name (the year 10000), so
    /// every store holds them exactly.
    fn clamped(mut self) -> Revocation {
        let latest = date::LATEST_DATE + 1;
        match &mut self {
            Revocation::Token { until, .. } => *until = (*until).min(latest),
            Revocation::Subject { before, until, .. } => {
                *before = (*before).min(latest);
                *until = (*until).min(latest);
            }
        }
        self
    }
}

/// How a revocation set is held: its size and, with Redis, how closely the mirror watches its
/// connection. For [`Revocations::in_memory_with`] and [`Revocations::redis_with`].
///
/// ```
/// use auth_core::{RevocationSettings, Revocations};
///
/// let revocations = Revocations::in_memory_with(RevocationSettings::default().capacity(50_000))?;
/// # let _ = revocations;
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    capacity: usize,
    max_token_lifetime: Duration,
    #[cfg(feature = "redis")]
    eviction_accepted: bool,
    #[cfg(feature = "redis")]
    startup_wait: Duration,
    #[cfg(feature = "redis")]
    heartbeat: Duration,
    #[cfg(feature = "redis")]
    missed_heartbeats: u32,
}

impl Default for RevocationSettings {
    /// At most [`DEFAULT_REVOCATION_CAPACITY`] revocations, tokens living at most
    /// [`DEFAULT_MAX_TOKEN_LIFETIME`] (24 hours); with Redis, a server that must not evict keys, a
    /// startup wait of 5 seconds and a heartbeat every 5 seconds, 3 of which may go unanswered.
    fn default() -> RevocationSettings {
        RevocationSettings {
            capacity: DEFAULT_REVOCATION_CAPACITY,
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            #[cfg(feature = "redis")]
            eviction_accepted: false,
            #[cfg(feature = "redis")]
            startup_wait: Duration::from_secs(5),
            #[cfg(feature = "redis")]
            heartbeat: Duration::from_secs(5),
            #[cfg(feature = "redis")]
            missed_heartbeats: 3,
        }
    }
}

impl RevocationSettings {
    /// Most revocations held at once (default 1,000,000; each takes about 250 bytes with its
    /// issuer and name, and is kept only until it can no longer matter: its token's `exp`, or
    /// [`max_token_lifetime`](RevocationSettings::max_token_lifetime) after a subject's sign-out,
    /// plus [`MAX_LEEWAY`]). Nothing is ever evicted to make room: when full, a new revocation
    /// fails with [`RevocationError`] (and an error log), and with Redis, a revocation announced by
    /// another instance that does not fit makes this instance refuse every token with 503 (and log
    /// an error) until it fits.
    pub fn capacity(mut self, revocations: usize) -> RevocationSettings {
        self.capacity = revocations;
        self
    }

    /// The longest any accepted token lives, `exp - iat` (default [`DEFAULT_MAX_TOKEN_LIFETIME`],
    /// 24 hours; at most 366 days). A sign-out everywhere
    /// ([`Revocations::revoke_subject`]) is kept this long after the time it names, plus
    /// [`MAX_LEEWAY`]: by then every token issued before it has expired. So that this holds, a
    /// verifier checking these revocations refuses (401 `INVALID_TOKEN`,
    /// [`AuthError::InvalidClaim`] naming this setting and the token's lifetime) a token that could
    /// outlive the sign-out: one without `iat`, or one whose `exp - iat` is longer than this.
    ///
    /// Set it to the longest lifetime your provider issues. Auth0 API access tokens last 24 hours
    /// by default and can be given up to 30 days (the API's "Maximum Access Token Lifetime",
    /// 2,592,000 seconds); Entra ID's last 60 to 90 minutes, Okta's and Cognito's at most a day,
    /// Keycloak's and Zitadel's whatever the realm or project says. A revoked opaque token whose
    /// introspection answer carries no `exp` is also kept revoked this long.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> RevocationSettings {
        self.max_token_lifetime = lifetime;
        self
    }

    /// Accepts that the Redis server may evict revocations ([`Revocations::redis_with`] refuses
    /// one whose `maxmemory-policy` is not `noeviction`, or that does not say, as managed services
    /// that refuse `CONFIG GET` do). What it risks: Redis evicts keys with an expiry when memory
    /// runs short, and an evicted revocation is lost for every instance that loads the set
    /// afterwards (a restart, a reconnection): a signed-out token is accepted there again until it
    /// expires. Instances that heard the announcement keep refusing it. Accept it only for a server
    /// sized so that it never reaches `maxmemory`, and alert on its evictions (`evicted_keys` in
    /// `INFO stats`).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_eviction_accepted(mut self) -> RevocationSettings {
        self.eviction_accepted = true;
        self
    }

    /// How long [`Revocations::redis_with`] waits for the first load before returning anyway
    /// (tokens are refused with 503 until it is loaded). Default 5 seconds.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn startup_wait(mut self, wait: Duration) -> RevocationSettings {
        self.startup_wait = wait;
        self
    }

    /// How the Redis mirror notices a connection that went quiet (a half-open TCP connection
    /// delivers nothing and reports no error): every `every` it pings Redis over its subscription
    /// and expects the answer within `every`; when one is missed it reconnects and reloads. When
    /// nothing has been heard for `every * missed` (15 seconds by default: 5 seconds, 3 misses),
    /// it stops vouching for the set: the instance reports not ready and refuses every token with
    /// 503 until a reload succeeds, since revocations made meanwhile may be missing.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn heartbeat(mut self, every: Duration, missed: u32) -> RevocationSettings {
        self.heartbeat = every;
        self.missed_heartbeats = missed;
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 {
            return Err(ConfigError::new(
                "RevocationSettings::capacity",
                "0 revocations: nothing could be revoked; give the most revocations in force at \
                 once (the default is 1,000,000)",
            ));
        }
        if !(Duration::from_secs(1)..=LONGEST_TOKEN_LIFETIME).contains(&self.max_token_lifetime) {
            return Err(ConfigError::new(
                "RevocationSettings::max_token_lifetime",
                "1 second to 366 days: the longest exp - iat of the tokens your provider issues \
                 (24 hours by default; Auth0 API tokens up to 30 days)",
            ));
        }
        #[cfg(feature = "redis")]
        if !(Duration::from_millis(100)..=Duration::from_secs(60)).contains(&self.heartbeat) {
            return Err(ConfigError::new(
                "RevocationSettings::heartbeat",
                "every 100 ms to 60 s: slower, a silent connection goes unnoticed for minutes",
            ));
        }
        #[cfg(feature = "redis")]
        if !(1..=20).contains(&self.missed_heartbeats) {
            return Err(ConfigError::new(
                "RevocationSettings::heartbeat",
                "1 to 20 missed heartbeats before the instance stops vouching for the set",
            ));
        }
        Ok(())
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
            .field("entries", &self.inner.set.len())
            .field("capacity", &self.inner.set.capacity())
            .field("ready", &self.is_ready())
            .finish()
    }
}

// Why tokens cannot be judged now, one bit each.

/// The shared set has not been loaded yet.
#[cfg(feature = "redis")]
pub(crate) const NOT_LOADED: u8 = 1;
/// The shared store has been silent for longer than the heartbeat bound.
pub(crate) const SILENT: u8 = 2;
/// A revocation announced through the shared store did not fit in the local set.
pub(crate) const OVERFLOW: u8 = 4;
/// The shared store may evict revocations, and the application did not accept that.
pub(crate) const EVICTABLE: u8 = 8;
/// The shared store lost its keys, and no instance has written its revocations back yet.
pub(crate) const WIPED: u8 = 16;

/// The local set: what every check reads.
pub(crate) struct Local {
    pub(crate) set: RevocationSet,
    /// Whether anything was ever revoked: until then a check costs one load.
    any: AtomicBool,
    /// Why every token is refused with 503 for now (bits above), 0 when the set can be trusted.
    blocked: AtomicU8,
    /// [`RevocationSettings::max_token_lifetime`], in seconds.
    max_token_lifetime: i64,
    /// Keeps the readiness gauge in step with `blocked`.
    #[cfg(feature = "redis")]
    transitions: Mutex<()>,
    /// When the set mirrors a shared store (and the readiness gauge is kept): how current it is.
    #[cfg(feature = "redis")]
    pub(crate) mirrored: Option<Mirrored>,
    /// Announced revocations that did not fit since the last complete load.
    #[cfg(feature = "redis")]
    unfit: AtomicUsize,
}

/// How current a mirrored set is, readable by every check without a lock: whoever notices first
/// that it went stale (the mirror task, a request, a readiness probe) stops vouching for it, so a
/// mirror task that stopped altogether (its runtime dropped) cannot leave it vouched for.
#[cfg(feature = "redis")]
pub(crate) struct Mirrored {
    /// Where the store is, for messages.
    pub(crate) place: Arc<str>,
    /// [`RevocationSettings::redis_eviction_accepted`].
    pub(crate) eviction_accepted: bool,
    /// The clock of `last_contact`: the one the verifier reads when a request arrives, so a check
    /// reads no clock of its own.
    epoch: quanta::Instant,
    /// Milliseconds after `epoch` of the last complete load or answered heartbeat (0: none yet).
    last_contact: AtomicU64,
    /// The heartbeat bound (`every * missed`), in milliseconds.
    bound: u64,
}

#[cfg(feature = "redis")]
impl Mirrored {
    fn millis_at(&self, at: quanta::Instant) -> u64 {
        u64::try_from(at.duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// How long nothing had been heard from the store `at`, when that is past the heartbeat bound
    /// (never before the first load, which is refused as not loaded already).
    fn silent_too_long(&self, at: quanta::Instant) -> Option<Duration> {
        let last = self.last_contact.load(Ordering::Acquire);
        let silent = self.millis_at(at).saturating_sub(last);
        (last != 0 && silent > self.bound).then(|| Duration::from_millis(silent))
    }
}

impl Local {
    /// A set kept in this process only.
    pub(crate) fn new(settings: &RevocationSettings) -> Local {
        Local {
            set: RevocationSet::new(settings.capacity),
            any: AtomicBool::new(false),
            blocked: AtomicU8::new(0),
            max_token_lifetime: settings.max_token_lifetime.as_secs().cast_signed(),
            #[cfg(feature = "redis")]
            transitions: Mutex::new(()),
            #[cfg(feature = "redis")]
            mirrored: None,
            #[cfg(feature = "redis")]
            unfit: AtomicUsize::new(0),
        }
    }

    /// A set mirroring the store at `place`: refused until loaded.
    #[cfg(feature = "redis")]
    pub(crate) fn mirrored(settings: &RevocationSettings, place: Arc<str>) -> Local {
        let bound = settings.heartbeat * settings.missed_heartbeats;
        Local {
            blocked: AtomicU8::new(NOT_LOADED),
            mirrored: Some(Mirrored {
                place,
                eviction_accepted: settings.eviction_accepted,
                epoch: quanta::Instant::now(),
                last_contact: AtomicU64::new(0),
                bound: u64::try_from(bound.as_millis()).unwrap_or(u64::MAX),
            }),
            ..Local::new(settings)
        }
    }

    /// The mirror is current now: loaded, or its heartbeat answered.
    #[cfg(feature = "redis")]
    pub(crate) fn contact(&self) {
        if let Some(mirrored) = &self.mirrored {
            let now = mirrored.millis_at(quanta::Instant::now());
            mirrored.last_contact.store(now.max(1), Ordering::Release);
        }
    }

    /// Whether the mirror has been silent past the heartbeat bound now.
    #[cfg(feature = "redis")]
    pub(crate) fn notice_silence(&self) -> bool {
        self.notice_silence_at(quanta::Instant::now())
    }

    /// Whether the mirror had been silent past the heartbeat bound `at`; the first to notice marks
    /// the set stale (the gauge, a warning) until the mirror reloads. One atomic load, lock-free
    /// and allocation-free unless it is stale and not yet marked so.
    #[cfg(feature = "redis")]
    fn notice_silence_at(&self, at: quanta::Instant) -> bool {
        let Some(mirrored) = &self.mirrored else {
            return false;
        };
        let Some(silent) = mirrored.silent_too_long(at) else {
            return false;
        };
        if self.blocked.load(Ordering::Acquire) & SILENT == 0 && self.set_blocked(SILENT, true) {
            tracing::warn!(
                target: "auth",
                store = %mirrored.place,
                silent_secs = silent.as_secs_f64(),
                "no word from the revocation store within the heartbeat bound: revocations made \
                 meanwhile may be missing, so every token is refused with 503 until the mirror \
                 reloads"
            );
        }
        true
    }

    /// Counts `count` announced revocations that did not fit. The first makes this instance
    /// refuse every token (a revocation in force elsewhere is missing here), loudly.
    #[cfg(feature = "redis")]
    pub(crate) fn overflowed(&self, count: usize, store: &str) {
        self.unfit.fetch_add(count, Ordering::AcqRel);
        if self.set_blocked(OVERFLOW, true) {
            tracing::error!(
                target: "auth",
                store,
                capacity = self.set.capacity(),
                "the revocation set is full: a revocation announced through the store does not \
                 fit, so every token is refused with 503 until it does; raise \
                 RevocationSettings::capacity"
            );
        }
    }

    /// How many announced revocations did not fit since the last complete load.
    #[cfg(feature = "redis")]
    pub(crate) fn unfit(&self) -> usize {
        self.unfit.load(Ordering::Acquire)
    }

    /// After a load in which everything fitted: nothing announced is missing any more.
    #[cfg(feature = "redis")]
    pub(crate) fn fitted(&self, store: &str) {
        self.unfit.store(0, Ordering::Release);
        if self.set_blocked(OVERFLOW, false) {
            tracing::info!(
                target: "auth",
                store,
                "every announced revocation fits in the revocation set again: tokens are judged again"
            );
        }
    }

    /// Holds `revocation` until it can be forgotten; `Full` when it does not fit (nothing is
    /// evicted for it). A subject's revocation is held as long as this set's own
    /// `max_token_lifetime` says, whatever the writer's was.
    pub(crate) fn insert(&self, revocation: Revocation) -> Result<(), Full> {
        let revocation = self.held_until(revocation);
        let now = date::now();
        if revocation.forget_at() <= now {
            return Ok(());
        }
        self.set.insert(revocation, now)?;
        self.any.store(true, Ordering::Release);
        Ok(())
    }

    pub(crate) fn blocked(&self) -> u8 {
        self.blocked.load(Ordering::Acquire)
    }

    /// A subject's revocation with its `until` as this set reckons it: the latest `exp` of a token
    /// it refuses, one issued (`iat`) up to [`MAX_LEEWAY`] after it (the check's allowance for an
    /// issuer's clock ahead) and living this set's `max_token_lifetime`.
    fn held_until(&self, mut revocation: Revocation) -> Revocation {
        if let Revocation::Subject { before, until, .. } = &mut revocation {
            *until = before
                .saturating_add(MAX_LEEWAY.as_secs().cast_signed())
                .saturating_add(self.max_token_lifetime)
                .min(date::LATEST_DATE + 1);
        }
        revocation
    }

    /// Sets (`on`) or clears the `reason` bits; whether that changed them.
    #[cfg(feature = "redis")]
    pub(crate) fn set_blocked(&self, reason: u8, on: bool) -> bool {
        let _step = self
            .transitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let before = if on {
            self.blocked.fetch_or(reason, Ordering::AcqRel)
        } else {
            self.blocked.fetch_and(!reason, Ordering::AcqRel)
        };
        let after = self.blocked.load(Ordering::Acquire);
        if self.mirrored.is_some() {
            metrics::gauge!(crate::metrics::REVOCATION_STORE_READY)
                .set(f64::from(u8::from(after == 0)));
        }
        before & reason != after & reason
    }

    /// Refuses a revoked token, or any token while the set cannot be vouched for as of `arrived`
    /// (when the request arrived: the clock the verifier read then). `leeway` is the issuer's
    /// clock tolerance: a token whose `iat` is less than that after a subject's revocation may have
    /// been minted before it by an issuer whose clock runs ahead, and is refused too.
    fn check(
        &self,
        token: &VerifiedToken,
        arrived: quanta::Instant,
        leeway: Duration,
    ) -> Result<(), AuthError> {
        self.check_lifetime(token)?;
        let blocked = self.blocked.load(Ordering::Acquire);
        if blocked != 0 {
            return Err(AuthError::StoreUnavailable(
                blocked_reason(blocked).to_owned(),
            ));
        }
        #[cfg(not(feature = "redis"))]
        let _ = arrived;
        #[cfg(feature = "redis")]
        if self.notice_silence_at(arrived) {
            return Err(AuthError::StoreUnavailable(
                blocked_reason(SILENT).to_owned(),
            ));
        }
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let issuer = &token.identity().issuer;
        if let Some(jti) = token.jti()
            && self.set.token_revoked(issuer, jti)
        {
            return Err(AuthError::Revoked);
        }
        if let Some(before) = self
            .set
            .subject_revoked_before(issuer, &token.identity().subject)
            // Without `iat` a token cannot show it came after the revocation.
            && token.iat().is_none_or(|iat| {
                iat < before.saturating_add(i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX))
            })
        {
            return Err(AuthError::Revoked);
        }
        Ok(())
    }

    /// Refuses a token that could outlive the sign-outs this set remembers: a subject's
    /// revocation is kept `max_token_lifetime` after the time it names, so a token must show
    /// (`iat`) that it lives no longer.
    fn check_lifetime(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let setting = "RevocationSettings::max_token_lifetime";
        let max = self.max_token_lifetime;
        let Some(iat) = token.iat() else {
            return Err(AuthError::InvalidClaim(format!(
                "iat: the token has none, so it cannot show that it lives no longer than the \
                 {max} s a sign-out everywhere is remembered ({setting}); tokens must carry iat \
                 while revocations are checked"
            )));
        };
        let lifetime = token.exp().map_or(i64::MAX, |exp| exp.saturating_sub(iat));
        if lifetime <= max {
            return Ok(());
        }
        Err(AuthError::InvalidClaim(format!(
            "exp: the token lives {} from iat to exp, longer than the {} a sign-out everywhere is \
             remembered ({setting}); raise {setting} to the longest lifetime the provider issues",
            span(lifetime),
            span(max),
        )))
    }
}

/// `seconds` for a log line: `90000 s (25.0 h)`.
fn span(seconds: i64) -> String {
    if seconds >= 3600 {
        format!("{seconds} s ({:.1} h)", seconds as f64 / 3600.0)
    } else {
        format!("{seconds} s")
    }
}

fn blocked_reason(blocked: u8) -> &'static str {
    if blocked & OVERFLOW != 0 {
        "the local revocation set is full: a revocation announced through the shared store did \
         not fit (RevocationSettings::capacity), so every token is refused until it does"
    } else if blocked & EVICTABLE != 0 {
        "the Redis server holding the shared revocations may evict them (its maxmemory-policy is \
         not noeviction, or cannot be read), so every token is refused: set maxmemory-policy \
         noeviction, or accept the risk with RevocationSettings::redis_eviction_accepted"
    } else if blocked & WIPED != 0 {
        "the Redis server holding the shared revocations lost its keys (a restart without \
         persistence, a failover) and no instance has written its revocations back yet, so every \
         token is refused until one has"
    } else if blocked & SILENT != 0 {
        "the shared revocation list may be stale: the store has not answered within the \
         heartbeat bound (RevocationSettings::heartbeat), so every token is refused until it \
         reloads"
    } else {
        "the shared revocation list has not been loaded yet"
    }
}

pub(crate) fn rand_seed() -> u64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut seed = [0u8; 8];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut seed);
    u64::from_le_bytes(seed)
}

impl Revocations {
    /// Revocations kept in this process: right for one instance, lost on restart. At most
    /// [`DEFAULT_REVOCATION_CAPACITY`] at once; see [`Revocations::in_memory_with`].
    pub fn in_memory() -> Revocations {
        Revocations {
            inner: Arc::new(Local::new(&RevocationSettings::default())),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// Revocations kept in this process, held as `settings` say (capacity, token lifetime; the
    /// Redis settings do not apply). Fails on a setting that cannot work, naming it.
    pub fn in_memory_with(settings: RevocationSettings) -> Result<Revocations, ConfigError> {
        settings.validate()?;
        Ok(Revocations {
            inner: Arc::new(Local::new(&settings)),
            #[cfg(feature = "redis")]
            shared: None,
        })
    }

    /// Revocations shared by every instance through the Redis server at `url`
    /// (`redis://[:password@]host:6379[/db]`), with the [default
    /// settings](RevocationSettings::default) but for `startup_wait`; see
    /// [`Revocations::redis_with`]. Fails at once only on a URL that is not one.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn redis(url: &str, startup_wait: Duration) -> Result<Revocations, ConfigError> {
        Revocations::redis_with(
            url,
            RevocationSettings::default().startup_wait(startup_wait),
        )
        .await
    }

    /// Revocations shared by every instance through the Redis server at `url`
    /// (`redis://[:password@]host:6379[/db]`): a revocation made by one instance is refused by all
    /// of them as soon as it is announced, and survives restarts until it can be forgotten.
    ///
    /// Requests read an in-memory mirror, never Redis itself, so a revocation check adds no round
    /// trip. The mirror is loaded in the background: this waits up to the settings'
    /// [`startup_wait`](RevocationSettings::startup_wait) for it, then returns anyway (logging a
    /// warning); until it is loaded every token is refused with 503 `AUTH_UNAVAILABLE`, since a
    /// token revoked elsewhere cannot be told apart. The mirror pings Redis over its subscription
    /// ([`heartbeat`](RevocationSettings::heartbeat)); on a missed answer or a lost connection it
    /// reconnects and reloads. For up to the heartbeat bound (15 seconds by default) it keeps
    /// answering with what it holds; past that, with no reload, every token is refused with 503
    /// again and [`Revocations::is_ready`] is false, until a reload succeeds. New revocations fail
    /// with [`RevocationError`] while Redis cannot take them.
    ///
    /// Redis must not evict the revocation keys (they carry an expiry, so `volatile-*` policies
    /// evict them too): an evicted revocation is lost for every instance that loads the set
    /// afterwards. The policy is read on connection (`CONFIG GET`): unless it is `noeviction`, or
    /// when the server refuses `CONFIG` (managed services often do), this fails with a
    /// [`ConfigError`] naming `Revocations::redis` and the policy found, and if the server could
    /// not be reached before `startup_wait`, the set refuses every token with 503 once it is
    /// found, and [`Verifier::warm_up`](crate::Verifier::warm_up) fails the same way. Set
    /// `maxmemory-policy noeviction`, or accept the risk with
    /// [`RevocationSettings::redis_eviction_accepted`].
    ///
    /// Fails at once on a URL that is not one, a setting that cannot work, or a server that may
    /// evict revocations.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn redis_with(
        url: &str,
        settings: RevocationSettings,
    ) -> Result<Revocations, ConfigError> {
        settings.validate()?;
        let store = crate::redis_store::RedisStore::open(url, "Revocations::redis(url)")?;
        let local = Arc::new(Local::mirrored(&settings, Arc::clone(&store.place)));
        // Present (and 0) from the start, so an instance that never loads can be alerted on.
        metrics::gauge!(crate::metrics::REVOCATION_STORE_READY).set(0.0);
        store.mirror(
            &local,
            crate::redis_store::Heartbeat {
                every: settings.heartbeat,
                missed: settings.missed_heartbeats,
            },
        );
        let deadline = std::time::Instant::now() + settings.startup_wait;
        while local.blocked() & (NOT_LOADED | EVICTABLE) == NOT_LOADED
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(crate::redis_store::Eviction::Possible(found)) = store.known_eviction()
            && !settings.eviction_accepted
        {
            return Err(store.eviction_refusal(&crate::redis_store::REVOCATION_EVICTION, found));
        }
        if local.blocked() & NOT_LOADED != 0 {
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

    /// The refusal of a shared store that may evict revocations, unless the application accepted
    /// that: known once the store has been reached (asked now if it has not been; `None` while it
    /// cannot be reached, as the mirror refuses every token until it has checked).
    #[cfg(feature = "redis")]
    pub(crate) async fn eviction_refusal(&self) -> Option<ConfigError> {
        let (store, mirrored) = (self.shared.as_ref()?, self.inner.mirrored.as_ref()?);
        if mirrored.eviction_accepted {
            return None;
        }
        match store
            .eviction(&crate::redis_store::REVOCATION_EVICTION, false)
            .await
        {
            Ok(crate::redis_store::Eviction::Possible(found)) => {
                Some(store.eviction_refusal(&crate::redis_store::REVOCATION_EVICTION, found))
            }
            Ok(crate::redis_store::Eviction::Never) | Err(_) => None,
        }
    }

    /// Whether the revocations can be vouched for (always, in memory): with Redis, loaded, heard
    /// from within the heartbeat bound (however long ago the mirror last ran), every announced
    /// revocation held, and a server that does not evict them. Tokens are refused with 503 while
    /// they cannot. For readiness probes.
    pub fn is_ready(&self) -> bool {
        #[cfg(feature = "redis")]
        if self.inner.notice_silence() {
            return false;
        }
        self.inner.blocked() == 0
    }

    /// Revokes the token with this `jti` from `issuer`, until `expires_at` (its `exp`, seconds
    /// since the epoch) and the largest leeway after it ([`MAX_LEEWAY`]).
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

    /// Revokes a verified token (by its `jti`) for as long as it could be accepted: until its
    /// `exp` and the largest leeway after it. A token without `jti` is refused with an error, since
    /// it cannot be named. An introspected token whose answer carried no `exp` (the verifier
    /// assumed one, for its cache) is revoked for
    /// [`max_token_lifetime`](RevocationSettings::max_token_lifetime) from now, since the issuer
    /// may call it active for that long.
    pub async fn revoke(&self, token: &VerifiedToken) -> Result<(), RevocationError> {
        let issuer = &token.identity().issuer;
        let Some(jti) = token.jti() else {
            return Err(RevocationError(
                "the token has no jti to revoke it by".to_owned(),
            ));
        };
        let until = match token.exp() {
            Some(exp) if !token.exp_assumed() => exp,
            _ => date::now().saturating_add(self.inner.max_token_lifetime),
        };
        self.revoke_token(issuer, jti, until).await
    }

    /// Revokes every token of `subject` from `issuer` issued before `issued_before` (seconds since
    /// the epoch; now, for "sign out everywhere"). A token whose `iat` is less than the provider's
    /// leeway after that time is refused too, since an issuer whose clock runs ahead may have
    /// minted it before: a user who signs in again at once is refused for that leeway. Kept until
    /// no such token can still be accepted: each instance's own
    /// [`max_token_lifetime`](RevocationSettings::max_token_lifetime) (24 hours by default) after
    /// that time, plus [`MAX_LEEWAY`] twice; with Redis, the store keeps it for the longest
    /// `max_token_lifetime` accepted (366 days), so an instance with a longer setting than the
    /// writer's still finds it.
    pub async fn revoke_subject(
        &self,
        issuer: &str,
        subject: &str,
        issued_before: i64,
    ) -> Result<(), RevocationError> {
        let revocation = self.inner.held_until(Revocation::Subject {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            before: issued_before,
            until: 0,
        });
        self.record(revocation).await
    }

    async fn record(&self, revocation: Revocation) -> Result<(), RevocationError> {
        let revocation = revocation.clamped();
        let now = date::now();
        #[cfg(feature = "redis")]
        let forget_at = match &revocation {
            // Kept in the shared store for readers whose max_token_lifetime is longer than ours.
            Revocation::Subject { before, .. } if self.shared.is_some() => {
                crate::redis_store::subject_kept_until(*before)
            }
            _ => revocation.forget_at(),
        };
        #[cfg(not(feature = "redis"))]
        let forget_at = revocation.forget_at();
        if forget_at <= now {
            // Run its course already: every token it names is refused as expired.
            return Ok(());
        }
        let full = || {
            let capacity = self.inner.set.capacity();
            tracing::error!(
                target: "auth",
                capacity,
                "revocation refused: the revocation set is full and nothing in it can be \
                 forgotten yet; raise RevocationSettings::capacity"
            );
            RevocationError(format!(
                "the revocation set is full ({capacity} revocations, none expired yet): raise \
                 RevocationSettings::capacity"
            ))
        };
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            if !self.inner.set.has_room_for(&revocation, now) {
                return Err(full());
            }
            shared.publish(&revocation).await?;
            // Announced, so in force elsewhere: if it no longer fits here (another revocation
            // took the last room meanwhile), this instance refuses every token until it does.
            if self.inner.insert(revocation).is_err() {
                self.inner.overflowed(0, &shared.place);
            }
            return Ok(());
        }
        self.inner.insert(revocation).map_err(|Full| full())
    }

    /// Refuses a revoked token, or any token while the set cannot be vouched for as of `arrived`
    /// (when the request arrived: a shared set must have been heard from within its heartbeat
    /// bound of that moment). `leeway` is the accepting provider's.
    pub(crate) fn check(
        &self,
        token: &VerifiedToken,
        arrived: quanta::Instant,
        leeway: Duration,
    ) -> Result<(), AuthError> {
        self.inner.check(token, arrived, leeway)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::keys::algorithm::Algorithm;
    use crate::token::json::Object;
    use crate::token::verified::PayloadFacts;

    const ISSUER: &str = "https://issuer.example";

    fn identity() -> Identity {
        Identity {
            subject: "ada".to_owned(),
            issuer: ISSUER.to_owned(),
            ..Identity::default()
        }
    }

    fn signed(text: &str) -> VerifiedToken {
        let facts = PayloadFacts::of(&Object::parse(text).unwrap());
        VerifiedToken::new(
            text.to_owned(),
            facts,
            identity(),
            Algorithm::RS256,
            None,
            0,
        )
    }

    impl Local {
        fn check_now(&self, token: &VerifiedToken) -> Result<(), AuthError> {
            self.check(token, quanta::Instant::now(), Duration::ZERO)
        }
    }

    fn hour_long() -> Local {
        Local::new(&RevocationSettings::default().max_token_lifetime(Duration::from_secs(3600)))
    }

    #[test]
    fn a_token_that_could_outlive_a_sign_out_is_refused_naming_the_setting() {
        let local = hour_long();
        let refusal = |text: &str| match local.check_now(&signed(text)) {
            Err(AuthError::InvalidClaim(reason)) => reason,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            local.check_now(&signed(r#"{"iat":1000,"exp":4600}"#)),
            Ok(())
        );
        let longer = refusal(r#"{"iat":1000,"exp":4601}"#);
        assert!(
            longer.contains("RevocationSettings::max_token_lifetime")
                && longer.contains("lives 3601 s (1.0 h)")
                && longer.contains("the 3600 s (1.0 h) a sign-out"),
            "{longer}"
        );
        let undated = refusal(r#"{"exp":4600}"#);
        assert!(
            undated.starts_with("iat")
                && undated.contains("RevocationSettings::max_token_lifetime"),
            "{undated}"
        );
        // The bound is the setting's: a day is fine under the default.
        let default = Local::new(&RevocationSettings::default());
        assert_eq!(
            default.check_now(&signed(r#"{"iat":0,"exp":86400}"#)),
            Ok(())
        );
        assert!(
            default
                .check_now(&signed(r#"{"iat":0,"exp":86401}"#))
                .is_err()
        );
    }

    #[test]
    fn a_revocation_is_kept_through_the_largest_leeway_after_its_until() {
        let now = date::now();
        let leeway = MAX_LEEWAY.as_secs().cast_signed();
        let local = hour_long();
        let token = |jti: &str, until: i64| Revocation::Token {
            issuer: ISSUER.to_owned(),
            jti: jti.to_owned(),
            until,
        };
        local.insert(token("within", now - leeway + 5)).unwrap();
        local.insert(token("past", now - leeway)).unwrap();
        assert!(local.set.token_revoked(ISSUER, "within"));
        assert!(!local.set.token_revoked(ISSUER, "past"), "nothing to keep");
        // A date no token can carry is held as the latest one any can.
        let far = token("far", i64::MAX).clamped();
        assert_eq!(far.until(), date::LATEST_DATE + 1);
        assert_eq!(far.forget_at(), date::LATEST_DATE + 1 + leeway);
    }

    #[tokio::test]
    async fn an_assumed_exp_does_not_end_a_revocation() {
        let revocations = Revocations::in_memory_with(
            RevocationSettings::default().max_token_lifetime(Duration::from_secs(3600)),
        )
        .unwrap();
        let now = date::now();
        let leeway = MAX_LEEWAY.as_secs().cast_signed();
        // An introspection answer without `exp`: the verifier set one a minute ahead.
        let mut answer = serde_json::Map::new();
        answer.insert("jti".into(), "opaque".into());
        answer.insert("iat".into(), now.into());
        answer.insert("exp".into(), (now + 60).into());
        let facts = PayloadFacts::of(&Object::borrow(&answer)).with_assumed_exp();
        let token = VerifiedToken::introspected(answer, facts, identity(), 0);
        revocations.revoke(&token).await.unwrap();
        let set = &revocations.inner.set;
        set.sweep(now + 60 + leeway + 1);
        assert!(
            set.token_revoked(ISSUER, "opaque"),
            "kept past the assumed exp"
        );
        set.sweep(now + 3600 + leeway + 1);
        assert!(
            !set.token_revoked(ISSUER, "opaque"),
            "kept for the longest lifetime a token may have, no longer"
        );
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_mirror_not_heard_from_past_the_bound_stops_vouching_whoever_notices() {
        let settings = RevocationSettings::default().heartbeat(Duration::from_secs(1), 2);
        let mut local = Local::mirrored(&settings, "127.0.0.1:6379".into());
        // Its clock started a minute ago, so contacts can be placed in the past.
        if let Some(mirrored) = &mut local.mirrored {
            mirrored.epoch = quanta::Instant::now() - Duration::from_secs(60);
        }
        let revocations = Revocations {
            inner: Arc::new(local),
            shared: None,
        };
        let local = &revocations.inner;
        let token = signed(&format!(
            r#"{{"iat":{0},"exp":{1}}}"#,
            date::now(),
            date::now() + 60
        ));
        assert!(!revocations.is_ready(), "not loaded yet");
        local.contact();
        local.set_blocked(NOT_LOADED, false);
        assert!(revocations.is_ready());
        assert_eq!(local.check_now(&token), Ok(()));
        // The last contact 2.001 s ago (the bound is 2 s): as a mirror task that stopped.
        let mirrored = local.mirrored.as_ref().unwrap();
        let stale = mirrored
            .millis_at(quanta::Instant::now())
            .saturating_sub(2_001);
        mirrored.last_contact.store(stale, Ordering::Release);
        assert!(
            matches!(local.check_now(&token), Err(AuthError::StoreUnavailable(reason))
                if reason.contains("heartbeat")),
            "a request notices"
        );
        assert!(!revocations.is_ready());
        assert_eq!(local.blocked() & SILENT, SILENT, "marked for the gauge");
        // Heard from again, it stays refused until the mirror reloads (which clears the mark).
        local.contact();
        assert!(!revocations.is_ready());
        local.set_blocked(SILENT, false);
        assert!(revocations.is_ready());
    }
}
