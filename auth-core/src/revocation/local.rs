//! The local revocation set every check reads, and, with the `redis` feature, how current its
//! mirror of the shared store is (why it refuses every token for now, if it does).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
#[cfg(feature = "redis")]
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize};
#[cfg(feature = "redis")]
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::AuthError;
use crate::limits::MAX_LEEWAY;
use crate::revocation::entry::Revocation;
use crate::revocation::set::{Full, RevocationSet};
use crate::revocation::settings::RevocationSettings;
use crate::token::date;
use crate::token::verified::VerifiedToken;

/// The shared set has not been loaded yet.
#[cfg(feature = "redis")]
pub(crate) const NOT_LOADED: u8 = 1;
/// The shared store has been silent for longer than the heartbeat bound.
pub(crate) const SILENT: u8 = 2;
/// A revocation announced through the shared store did not fit in the local set.
pub(crate) const OVERFLOW: u8 = 4;
/// The shared store may evict revocations, and the application did not accept that.
pub(crate) const EVICTABLE: u8 = 8;
/// The shared store lost its keys, and no instance that held the revocations has written them
/// back yet.
pub(crate) const WIPED: u8 = 16;

/// The local set: what every check reads.
pub(crate) struct Local {
    pub(crate) set: RevocationSet,
    /// Whether anything was ever revoked: until then a check costs one load.
    pub(crate) any: AtomicBool,
    /// Why every token is refused with 503 for now (bits above), 0 when the set can be trusted.
    pub(crate) blocked: AtomicU8,
    /// [`RevocationSettings::max_token_lifetime`], in seconds.
    pub(crate) max_token_lifetime: i64,
    /// Keeps the readiness gauge in step with `blocked`.
    #[cfg(feature = "redis")]
    pub(crate) transitions: Mutex<()>,
    /// When the set mirrors a shared store (and the readiness gauge is kept): how current it is.
    #[cfg(feature = "redis")]
    pub(crate) mirrored: Option<Mirrored>,
    /// Announced revocations that did not fit since the last complete load.
    #[cfg(feature = "redis")]
    pub(crate) unfit: AtomicUsize,
    /// How many times the set went incomplete (not loaded, silent, overflowed): the mirror task
    /// compares it between two marker checks to tell whether the set stayed complete in between.
    #[cfg(feature = "redis")]
    pub(crate) gaps: AtomicU64,
    /// In a mirrored set, the largest `max_token_lifetime` (seconds) recorded in the shared store
    /// by the instances sharing it, never less than this set's own.
    #[cfg(feature = "redis")]
    fleet_lifetime: AtomicI64,
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
    pub(crate) epoch: quanta::Instant,
    /// Milliseconds after `epoch` of the last complete load or answered heartbeat (0: none yet).
    pub(crate) last_contact: AtomicU64,
    /// The heartbeat bound (`every * missed`), in milliseconds.
    pub(crate) bound: u64,
}

#[cfg(feature = "redis")]
impl Mirrored {
    pub(crate) fn millis_at(&self, at: quanta::Instant) -> u64 {
        u64::try_from(at.duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// How long nothing had been heard from the store `at`, when that is past the heartbeat bound
    /// (never before the first load, which is refused as not loaded already).
    pub(crate) fn silent_too_long(&self, at: quanta::Instant) -> Option<Duration> {
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
            #[cfg(feature = "redis")]
            gaps: AtomicU64::new(0),
            #[cfg(feature = "redis")]
            fleet_lifetime: AtomicI64::new(settings.max_token_lifetime.as_secs().cast_signed()),
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
    pub(crate) fn notice_silence_at(&self, at: quanta::Instant) -> bool {
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
    /// `max_token_lifetime` says, whatever the writer's was; in a mirrored set, as long as the
    /// shared store keeps it (see [`Local::held_until`]).
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
    /// it refuses, one issued (`iat`) up to [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY) after it
    /// (the check's allowance for an issuer's clock ahead) and living this set's
    /// `max_token_lifetime`. A mirrored set holds it for the largest `max_token_lifetime`
    /// recorded in the shared store by the instances sharing it (never less than its own): this
    /// set writes back everything it holds after the store loses its keys, and that write-back
    /// must not drop a sign-out that a longer-lived instance still needs; holding it longer (the
    /// 366 days Redis keeps it) would only fill the set. Tokens are still judged by this set's own
    /// lifetime: a longer-lived one is refused by [`Local::check_lifetime`].
    pub(crate) fn held_until(&self, mut revocation: Revocation) -> Revocation {
        let lifetime = self.sign_outs_held_for();
        if let Revocation::Subject { before, until, .. } = &mut revocation {
            *until = before
                .saturating_add(MAX_LEEWAY.as_secs().cast_signed())
                .saturating_add(lifetime)
                .min(date::LATEST_DATE + 1);
        }
        revocation
    }

    /// How long (seconds) after its time a sign-out is held: this set's `max_token_lifetime`, or
    /// in a mirrored set the fleet's largest.
    pub(crate) fn sign_outs_held_for(&self) -> i64 {
        #[cfg(feature = "redis")]
        if self.mirrored.is_some() {
            return self.fleet_lifetime.load(Ordering::Acquire);
        }
        self.max_token_lifetime
    }

    /// The largest `max_token_lifetime` (seconds) recorded in the shared store, as read: kept
    /// within this set's own and the longest any instance may have.
    #[cfg(feature = "redis")]
    pub(crate) fn fleet_lifetime(&self, seconds: i64) {
        let longest = crate::revocation::settings::LONGEST_TOKEN_LIFETIME
            .as_secs()
            .cast_signed();
        self.fleet_lifetime.store(
            seconds.min(longest).max(self.max_token_lifetime),
            Ordering::Release,
        );
    }

    /// Sets (`on`) or clears the `reason` bits; whether that changed them.
    #[cfg(feature = "redis")]
    pub(crate) fn set_blocked(&self, reason: u8, on: bool) -> bool {
        let _step = self
            .transitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if on && reason & (NOT_LOADED | SILENT | OVERFLOW) != 0 {
            self.gaps.fetch_add(1, Ordering::AcqRel);
        }
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
    pub(crate) fn check(
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
    pub(crate) fn check_lifetime(&self, token: &VerifiedToken) -> Result<(), AuthError> {
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
         persistence, a flush, a new empty server) and no instance that held them has written \
         them back yet, so every token is refused until one has"
    } else if blocked & SILENT != 0 {
        "the shared revocation list may be stale: the store has not answered within the \
         heartbeat bound (RevocationSettings::heartbeat), so every token is refused until it \
         reloads"
    } else {
        "the shared revocation list has not been loaded yet"
    }
}
