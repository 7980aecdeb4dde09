//! How a revocation set is held: its size, the longest token lifetime it assumes, and with Redis
//! how closely the mirror watches its connection.

use std::time::Duration;

use crate::error::ConfigError;

/// The longest a token may live (`exp - iat`) while revocations are checked, unless set otherwise
/// ([`RevocationSettings::max_token_lifetime`]): a subject's revocation is kept this long after the
/// time it names.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The longest [`RevocationSettings::max_token_lifetime`] accepted: a shared store keeps a
/// subject's revocation this long (plus twice [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY)) after the time it names, so an
/// instance whose setting is longer than the writer's still finds it.
pub(crate) const LONGEST_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// Most revocations held at once unless set otherwise ([`RevocationSettings::capacity`]).
pub const DEFAULT_REVOCATION_CAPACITY: usize = 1_000_000;

/// How a revocation set is held: its size and, with Redis, how closely the mirror watches its
/// connection. For [`Revocations::in_memory_with`](crate::Revocations::in_memory_with) and [`Revocations::redis_with`](crate::Revocations::redis_with).
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
    pub(crate) capacity: usize,
    pub(crate) max_token_lifetime: Duration,
    #[cfg(feature = "redis")]
    pub(crate) eviction_accepted: bool,
    #[cfg(feature = "redis")]
    pub(crate) startup_wait: Duration,
    #[cfg(feature = "redis")]
    pub(crate) heartbeat: Duration,
    #[cfg(feature = "redis")]
    pub(crate) missed_heartbeats: u32,
}

impl Default for RevocationSettings {
    /// At most [`DEFAULT_REVOCATION_CAPACITY`](crate::limits::DEFAULT_REVOCATION_CAPACITY) revocations, tokens living at most
    /// [`DEFAULT_MAX_TOKEN_LIFETIME`](crate::limits::DEFAULT_MAX_TOKEN_LIFETIME) (24 hours); with Redis, a server that must not evict keys, a
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
    /// plus [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY); a set shared through Redis holds a
    /// sign-out for the largest `max_token_lifetime` of the instances sharing it, which each
    /// records in Redis (`auth:max-token-lifetime`, only ever raised), so count every sign-out of
    /// that longest lifetime). Nothing is ever evicted to make room: when full, a new revocation
    /// fails with [`RevocationError`](crate::RevocationError) (and an error log), and with Redis,
    /// a revocation announced by another instance that does not fit makes this instance refuse
    /// every token with 503 (and log an error) until it fits.
    pub fn capacity(mut self, revocations: usize) -> RevocationSettings {
        self.capacity = revocations;
        self
    }

    /// The longest any accepted token lives, `exp - iat` (default [`DEFAULT_MAX_TOKEN_LIFETIME`](crate::limits::DEFAULT_MAX_TOKEN_LIFETIME),
    /// 24 hours; at most 366 days). A sign-out everywhere
    /// ([`Revocations::revoke_subject`](crate::Revocations::revoke_subject)) is kept this long after the time it names, plus
    /// [`MAX_LEEWAY`](crate::limits::MAX_LEEWAY): by then every token issued before it has expired. So that this holds, a
    /// verifier checking these revocations refuses (401 `INVALID_TOKEN`,
    /// [`AuthError::InvalidClaim`](crate::AuthError::InvalidClaim) naming this setting and the token's lifetime) a token that could
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

    /// Accepts that the Redis server may evict revocations ([`Revocations::redis_with`](crate::Revocations::redis_with) refuses
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

    /// How long [`Revocations::redis_with`](crate::Revocations::redis_with) waits for the first load before returning anyway
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

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
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
