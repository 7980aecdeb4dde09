//! Revoking JWTs before they expire: one token by its `jti`, or "every token of this subject issued
//! before now" (sign-out everywhere). Checked for every verified token, verified-token cache hits
//! included, against a local set that takes one uncontended read lock and allocates nothing; with
//! the `redis` feature the set is shared by every instance of the API (see
//! [`Revocations::redis_with`]). The set is bounded by refusing new revocations, never by
//! forgetting one that still matters.
//!
//! A revocation is kept until no token it names can be accepted: its `until` (a token's `exp`, or
//! the latest `exp` a token issued before a sign-out can have) plus [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY), since a
//! verifier accepts a token until `exp` plus its leeway. For the second kind to hold, tokens must
//! not live longer than [`RevocationSettings::max_token_lifetime`], which the check enforces.

pub(crate) mod entry;
pub(crate) mod local;
pub(crate) mod set;
pub(crate) mod settings;

use std::sync::Arc;
use std::time::Duration;

use crate::error::{AuthError, ConfigError};
use crate::revocation::entry::{Revocation, RevocationError};
use crate::revocation::local::Local;
#[cfg(feature = "redis")]
use crate::revocation::local::{EVICTABLE, NOT_LOADED};
use crate::revocation::set::Full;
use crate::revocation::settings::RevocationSettings;
use crate::token::date;
use crate::token::verified::VerifiedToken;

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

impl Revocations {
    /// Revocations kept in this process: right for one instance, lost on restart. At most
    /// [`DEFAULT_REVOCATION_CAPACITY`](crate::limits::DEFAULT_REVOCATION_CAPACITY) at once; see [`Revocations::in_memory_with`].
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
    /// reconnects, writes back every revocation it holds (merged, so a Redis come back with an
    /// older copy of its keys stores them again) and reloads. For up to the heartbeat bound (15
    /// seconds by default) it keeps answering with what it holds; past that, with no reload, every
    /// token is refused with 503 again and [`Revocations::is_ready`] is false, until a reload
    /// succeeds. New revocations fail with [`RevocationError`](crate::RevocationError) while Redis
    /// cannot take them.
    ///
    /// Redis must not evict the revocation keys (they carry an expiry, so `volatile-*` policies
    /// evict them too): an evicted revocation is lost for every instance that loads the set
    /// afterwards. The policy is read on connection (`CONFIG GET`): unless it is `noeviction`, or
    /// when the server refuses `CONFIG` (managed services often do), this fails with a
    /// [`ConfigError`] naming `Revocations::redis` and the policy found, and if the server could
    /// not be reached before `startup_wait`, the set refuses every token with 503 once it is
    /// found, and [`Verifier::warm_up`](crate::Verifier::warm_up) fails the same way. Set
    /// `maxmemory-policy noeviction`, or accept the risk with
    /// [`RevocationSettings::redis_eviction_accepted`]. Nor may it lose a write it acknowledged
    /// (AOF with `appendfsync always`, no failover to an asynchronous replica): a server that lost
    /// every key is noticed (a marker key) and refuses every token until an instance that held
    /// the set has written it back, but one that comes back with an older copy is not, and a
    /// revocation no running instance still holds is then lost.
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
    /// since the epoch) and the largest leeway after it ([`MAX_LEEWAY`](crate::limits::MAX_LEEWAY)).
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
    /// that time, plus [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY) twice; with Redis, the store keeps it for the longest
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
    use std::sync::atomic::Ordering;

    use crate::identity::Identity;
    use crate::keys::algorithm::Algorithm;
    use crate::limits::MAX_LEEWAY;
    use crate::revocation::local::SILENT;
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
    fn a_mirrored_set_holds_a_sign_out_as_long_as_the_longest_lived_instance_needs() {
        let settings = RevocationSettings::default().max_token_lifetime(Duration::from_secs(3600));
        let before = date::now() - 2 * 24 * 3600;
        let sign_out = || Revocation::Subject {
            issuer: ISSUER.to_owned(),
            subject: "ada".to_owned(),
            before,
            until: 0,
        };
        // Past its own lifetime: a set of this process only forgets it.
        let own = Local::new(&settings);
        own.insert(sign_out()).unwrap();
        assert_eq!(own.set.subject_revoked_before(ISSUER, "ada"), None);
        // A mirrored set in a fleet of 1 h instances forgets it too: holding it longer would
        // only fill the set.
        let mirrored = Local::mirrored(&settings, "127.0.0.1:6379".into());
        mirrored.insert(sign_out()).unwrap();
        assert_eq!(mirrored.set.subject_revoked_before(ISSUER, "ada"), None);
        // Once an instance with a longer lifetime recorded it in the store, the mirrored set
        // keeps it as long as that instance needs, so that its write-back after a loss does not
        // drop it; never longer than the store keeps it.
        mirrored.fleet_lifetime(3 * 24 * 3600);
        mirrored.insert(sign_out()).unwrap();
        assert_eq!(
            mirrored.set.subject_revoked_before(ISSUER, "ada"),
            Some(before)
        );
        mirrored.fleet_lifetime(i64::MAX);
        assert_eq!(
            mirrored.held_until(sign_out()).forget_at(),
            crate::redis_store::subject_kept_until(before)
        );
        // Never less than its own.
        mirrored.fleet_lifetime(1);
        assert_eq!(mirrored.sign_outs_held_for(), 3600);
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
