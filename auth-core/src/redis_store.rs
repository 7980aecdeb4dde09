//! State shared by every instance of an API through Redis: revocations (a key per revocation,
//! announced on a channel and mirrored in memory by each instance) and, for DPoP, proofs already
//! seen.
//!
//! Requests never wait on Redis for revocations: they read the in-memory mirror, which a
//! background task keeps current by subscribing to the channel and reloading every key after each
//! (re)connection. A connection can die without a word (half-open TCP), so the task pings Redis
//! over the subscription; an unanswered ping means reconnect and reload, and a silence longer than
//! the heartbeat bound means the mirror can no longer be vouched for: every token is refused (503)
//! until it reloads. Redis must not evict these keys (`maxmemory-policy noeviction`): the policy
//! is read once per store, and a store that may evict them is refused (a [`ConfigError`] at
//! startup, 503 on requests) unless the application accepted the risk.
//!
//! Each write is one round trip: a Lua script (EVALSHA; the client loads it on a server that does
//! not know it yet) that decides on the server, so two instances cannot interleave. A DPoP proof
//! is stored only if new and within its key's share; a revocation is merged with the one stored
//! (the later `before`, the later `until`), so a weaker one named again never overwrites it.
//!
//! A server can also lose every key at once and come back answering as if nothing happened (a
//! restart without persistence, a flush, a new empty server). A marker key without expiry tells:
//! written at first contact, its absence (or a new one) later means the keys were lost. Whoever
//! notices first records when (`generation:wiped_at:state`), so every instance learns it: DPoP
//! proofs are refused until every proof seen before the loss has expired, and every revocation
//! mirror whose set stayed complete since its last marker check before the loss writes it back
//! and marks the loss restored, retrying until it has; until the marker says restored, a mirror
//! that did not hold the whole set before the loss (not loaded, silent, overflowed) does not vouch
//! for it and never marks it restored (no time limit: only an instance that held the set can
//! complete it). A write-back because of a loss is announced, and a mirror that finds a loss
//! restored by another reloads, so one that restored a loss without a revocation it missed learns
//! it from the holder's write-back. Each instance records its `max_token_lifetime` in Redis (only
//! ever raised), and a mirrored set holds a sign-out for the largest recorded, so a write-back
//! drops none that a longer-lived instance needs and none that no instance needs fills the set.
//!
//! A server that comes back with an OLDER copy of its keys (a snapshot reloaded after a crash, a
//! failover to a replica that lagged) keeps the marker, and nothing here notices: proofs recorded
//! since can replay, and revocations stored since are missing. Mirrors write back everything they
//! hold whenever they (re)connect (merged, not announced again), which restores every revocation
//! some running instance still holds; the rest needs a Redis that never loses an acknowledged
//! write (AOF with `appendfsync always`, no failover to an asynchronous replica), as the
//! documentation requires.

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::ConfigError;
use crate::provider::MAX_LEEWAY;
use crate::revocation::entry::{Revocation, RevocationError};
use crate::revocation::local::{EVICTABLE, Local, NOT_LOADED, OVERFLOW, SILENT, WIPED};

/// Prefix of every key this crate writes.
const PREFIX: &str = "auth:";
/// Channel on which revocations are announced in database 0; other databases add `:db<n>`, since
/// pub/sub channels belong to the server, not to a database.
const CHANNEL: &str = "auth:revocations";
/// The key whose absence means the server lost this library's keys.
const MARKER: &str = "auth:store-marker";
/// The largest `max_token_lifetime` (seconds) of the instances sharing the store.
const LIFETIME: &str = "auth:max-token-lifetime";
/// How long a command may take before the store counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// First and longest wait between two reconnections of the subscriber.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How the revocation mirror watches its subscription: a ping every `every`, and no vouching for
/// the mirror after `every * missed` without a load or an answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heartbeat {
    pub(crate) every: Duration,
    pub(crate) missed: u32,
}

/// Records a DPoP proof (KEYS[1]) for ARGV[1] milliseconds unless it was seen before, and unless
/// its key (KEYS[2], counting that key's proofs in a window of the same length that begins with
/// the first) has had ARGV[2] proofs recorded already: 1 recorded, 0 a replay, -1 over the share,
/// -2 the marker (KEYS[3]) is not ARGV[3], the one this instance knows (the keys may be lost).
/// A refused proof is not stored, so a flood from one key takes no room beyond its share.
static RECORD_PROOF: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        if redis.call('GET', KEYS[3]) ~= ARGV[3] then
            return -2
        end
        if redis.call('EXISTS', KEYS[1]) == 1 then
            return 0
        end
        local held = redis.call('INCR', KEYS[2])
        if held == 1 then
            redis.call('PEXPIRE', KEYS[2], ARGV[1])
        end
        if held > tonumber(ARGV[2]) then
            return -1
        end
        redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
        return 1
        ",
    )
});

/// Stores a revocation (KEYS[1]) merged with the one stored under its key, if any, and announces
/// the result on channel ARGV[1] (not at all when ARGV[1] is '': a write-back). ARGV[2] is its JSON up to its dates (kind and names, ending in a
/// comma), ARGV[3] its `before` ('' for a token's), ARGV[4] its `until`, ARGV[5] how long past
/// `until` it is kept (seconds), ARGV[6] how long after `before` a subject's is kept at least
/// (seconds; '' for a token's). The later `before` and the later `until` win, so a weaker
/// revocation named again never weakens the stored one. Dates are whole seconds below 2^53, which
/// Lua's numbers hold exactly. Returns the JSON stored.
static MERGE_REVOCATION: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
        local before = tonumber(ARGV[3])
        local last = tonumber(ARGV[4])
        local held = redis.call('GET', KEYS[1])
        if held then
            local ok, stored = pcall(cjson.decode, held)
            if ok and type(stored) == 'table' then
                local stored_until = tonumber(stored['until'])
                if stored_until and stored_until > last then
                    last = stored_until
                end
                local stored_before = tonumber(stored['before'])
                if before and stored_before and stored_before > before then
                    before = stored_before
                end
            end
        end
        local value = ARGV[2]
        if before then
            value = value .. '"before":' .. string.format('%d', before) .. ','
        end
        value = value .. '"until":' .. string.format('%d', last) .. '}'
        local expire = last + tonumber(ARGV[5])
        if before and ARGV[6] ~= '' and before + tonumber(ARGV[6]) > expire then
            expire = before + tonumber(ARGV[6])
        end
        redis.call('SET', KEYS[1], value, 'EXAT', string.format('%d', expire))
        if ARGV[1] ~= '' then
            redis.call('PUBLISH', ARGV[1], value)
        end
        return value
        "#,
    )
});

/// Makes sure the marker (KEYS[1]) is there and returns it. ARGV[1] is the one this instance
/// knows ('' before its first contact), ARGV[2] a new generation, ARGV[3] now. Absent, it is
/// written: clean at a first contact, else the keys were lost now. One of another generation
/// that records no loss was written by an instance that first met the server after the loss:
/// the loss is recorded over it. A loss recorded already (by whoever noticed first) is kept.
static ENSURE_MARKER: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local held = redis.call('GET', KEYS[1])
        local lost = ARGV[2] .. ':' .. ARGV[3] .. ':pending'
        if not held then
            if ARGV[1] == '' then
                held = ARGV[2] .. ':0:restored'
            else
                held = lost
            end
            redis.call('SET', KEYS[1], held)
            return held
        end
        local generation = string.match(held, '^([^:]*:[^:]*):')
        local known = string.match(ARGV[1], '^([^:]*:[^:]*):')
        if known and generation ~= known and string.match(held, '^[^:]*:0:') then
            redis.call('SET', KEYS[1], lost)
            return lost
        end
        return held
        ",
    )
});

/// Records ARGV[1] (an instance's `max_token_lifetime`, seconds) in KEYS[1] unless a larger one is
/// recorded already, and returns the largest recorded: how long a mirrored set must hold a
/// sign-out for some instance of the fleet. No expiry, like the marker; lost with the keys, it is
/// recorded again by every instance at its next load or heartbeat.
static RECORD_LIFETIME: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local held = tonumber(redis.call('GET', KEYS[1]))
        local own = tonumber(ARGV[1])
        if not held or held < own then
            redis.call('SET', KEYS[1], ARGV[1])
            held = own
        end
        return held
        ",
    )
});

/// Marks the loss the marker (KEYS[1]) records as written back: ARGV[1] becomes ARGV[2] if it is
/// still the marker.
static MARK_RESTORED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('SET', KEYS[1], ARGV[2])
        end
        return 1
        ",
    )
});

/// The marker as read: `generation:wiped_at:state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The whole value, as the scripts compare it.
    value: String,
    /// When the keys were last lost (seconds since the epoch), 0 if never since the marker began.
    pub(crate) wiped_at: i64,
    /// A loss recorded that no revocation mirror has written its set back for yet.
    pub(crate) pending: bool,
}

impl Marker {
    fn parse(value: String) -> Marker {
        let mut parts = value.split(':');
        let _generation = parts.next();
        let wiped_at = parts
            .next()
            .and_then(|at| at.parse().ok())
            .unwrap_or_default();
        let pending = parts.next() == Some("pending");
        Marker {
            value,
            wiped_at,
            pending,
        }
    }

    /// Generation and time of loss: what stays the same once the loss is written back.
    fn identity(&self) -> &str {
        self.value
            .rsplit_once(':')
            .map_or(self.value.as_str(), |(identity, _)| identity)
    }
}

/// How long a subject's revocation is kept in Redis after the time it names (the longest
/// `max_token_lifetime` any instance may have, and the largest leeway on each side), so that an
/// instance whose setting is longer than the writer's still finds it.
pub(crate) fn subject_kept_until(before: i64) -> i64 {
    before
        .saturating_add(
            crate::revocation::settings::LONGEST_TOKEN_LIFETIME
                .as_secs()
                .cast_signed(),
        )
        .saturating_add(2 * MAX_LEEWAY.as_secs().cast_signed())
}

/// A connection to Redis, shared by clones; reconnects by itself.
#[derive(Clone)]
pub(crate) struct RedisStore {
    client: redis::Client,
    connection: ConnectionManager,
    /// Where the URL points, without credentials, for messages.
    pub(crate) place: Arc<str>,
    /// What `maxmemory-policy` means for this store's keys, once read.
    eviction: Arc<tokio::sync::OnceCell<Eviction>>,
    /// The channel revocations are announced on: [`CHANNEL`], namespaced by the database.
    channel: Arc<str>,
    /// The marker as this store last read it.
    marker: Arc<std::sync::Mutex<Option<Marker>>>,
}

/// Whether Redis may evict this library's keys (all of which carry an expiry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Eviction {
    /// `maxmemory-policy noeviction`: a key stays until it expires.
    Never,
    /// Another policy, or one that cannot be read: what was found, for messages.
    Possible(String),
}

/// What an evicted key of one kind would let through, for the messages of the eviction check.
#[derive(Debug)]
pub(crate) struct EvictionRisk {
    /// The setting that chose the store.
    pub(crate) setting: &'static str,
    /// What an eviction lets through.
    pub(crate) risk: &'static str,
    /// How the application accepts that risk.
    pub(crate) accept_with: &'static str,
}

/// The revocations' keys.
pub(crate) const REVOCATION_EVICTION: EvictionRisk = EvictionRisk {
    setting: "Revocations::redis",
    risk: "an evicted revocation is forgotten by every instance that loads the set afterwards, \
           which accepts its token again",
    accept_with: "RevocationSettings::redis_eviction_accepted()",
};

/// The DPoP replay store's keys.
pub(crate) const DPOP_EVICTION: EvictionRisk = EvictionRisk {
    setting: "Dpop::redis",
    risk: "a remembered DPoP proof can be evicted, and whoever captured it can then replay it",
    accept_with: "Dpop::redis_eviction_accepted()",
};

/// What recording a DPoP proof came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProofRecord {
    First,
    Replayed,
    OverShare,
    /// Not recorded: the server lost its keys at `wiped_at` (seconds since the epoch), so a proof
    /// seen before then could replay until its lifetime has passed since.
    Lost {
        wiped_at: i64,
    },
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("place", &self.place)
            .finish()
    }
}

impl RedisStore {
    /// Parses `url` (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS is not built
    /// in); connects lazily.
    pub(crate) fn open(url: &str, setting: &str) -> Result<RedisStore, ConfigError> {
        let client = redis::Client::open(url).map_err(|error| {
            ConfigError::new(
                setting,
                format!(
                    "not a Redis URL ({:?}); write redis://host:6379 or \
                     redis://:password@host:6379/0",
                    error.kind()
                ),
            )
        })?;
        let info = client.get_connection_info();
        let place: Arc<str> = format!("{}", info.addr()).into();
        let channel: Arc<str> = match info.redis_settings().db() {
            0 => CHANNEL.into(),
            db => format!("{CHANNEL}:db{db}").into(),
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|error| ConfigError::new(setting, error.to_string()))?;
        Ok(RedisStore {
            client,
            connection,
            place,
            eviction: Arc::new(tokio::sync::OnceCell::new()),
            channel,
            marker: Arc::new(std::sync::Mutex::new(None)),
        })
    }

    fn known_marker(&self) -> Option<Marker> {
        self.marker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn remember_marker(&self, marker: &Marker) {
        *self
            .marker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(marker.clone());
    }

    /// Reads the marker, writing it if absent (recording a loss if this store had read one
    /// before), and remembers it. Logs an error the first time this store sees a loss.
    async fn ensure_marker(&self) -> Result<Marker, String> {
        let known = self.known_marker();
        let mut connection = self.connection.clone();
        let generation = format!("{:016x}", crate::revocation::entry::rand_seed());
        let value: String = ENSURE_MARKER
            .key(MARKER)
            .arg(known.as_ref().map_or("", |known| known.value.as_str()))
            .arg(generation)
            .arg(crate::token::date::now())
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.failure(&error))?;
        let marker = Marker::parse(value);
        if known
            .as_ref()
            .is_some_and(|known| known.identity() != marker.identity())
        {
            tracing::error!(
                target: "auth",
                store = %self.place,
                wiped_at = marker.wiped_at,
                "Redis lost this library's keys (a restart without persistence, a flush, a new \
                 empty server): DPoP proofs are refused until every proof seen before has \
                 expired, and revocation mirrors write back what they hold"
            );
        }
        self.remember_marker(&marker);
        Ok(marker)
    }

    /// Records `own` (a `max_token_lifetime`, seconds) unless a larger one is recorded, and
    /// returns the largest recorded.
    async fn record_lifetime(&self, own: i64) -> Result<i64, String> {
        let mut connection = self.connection.clone();
        RECORD_LIFETIME
            .key(LIFETIME)
            .arg(own)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.failure(&error))
    }

    /// Marks the loss `marker` records as written back (unless the marker changed meanwhile).
    async fn mark_restored(&self, marker: &Marker) -> Result<(), String> {
        let restored = format!("{}:restored", marker.identity());
        let mut connection = self.connection.clone();
        let _: i64 = MARK_RESTORED
            .key(MARKER)
            .arg(&marker.value)
            .arg(&restored)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.failure(&error))?;
        self.remember_marker(&Marker::parse(restored));
        Ok(())
    }

    /// Whether Redis may evict this store's keys: `maxmemory-policy` read once per store (`CONFIG
    /// GET`; a server that refuses `CONFIG`, as managed services often do, may evict for all
    /// anyone here knows) and logged once, an error unless the application `accepted` the risk.
    /// `Err` while Redis cannot be reached: asked again on the next call. Callers waiting at once
    /// share one question; once answered it costs one atomic load.
    pub(crate) async fn eviction(
        &self,
        risk: &EvictionRisk,
        accepted: bool,
    ) -> Result<&Eviction, String> {
        self.eviction
            .get_or_try_init(|| async {
                let mut connection = self.connection.clone();
                let answer: redis::RedisResult<std::collections::HashMap<String, String>> =
                    redis::cmd("CONFIG")
                        .arg("GET")
                        .arg("maxmemory-policy")
                        .query_async(&mut connection)
                        .await;
                let eviction = match answer {
                    Ok(mut config) => match config.remove("maxmemory-policy") {
                        Some(policy) if policy == "noeviction" => Eviction::Never,
                        Some(policy) => Eviction::Possible(format!("maxmemory-policy {policy}")),
                        None => Eviction::Possible(
                            "CONFIG GET names no maxmemory-policy, so it cannot be checked"
                                .to_owned(),
                        ),
                    },
                    Err(error) if matches!(error.kind(), redis::ErrorKind::Server(_)) => {
                        Eviction::Possible(format!(
                            "CONFIG GET refused ({error}), so its maxmemory-policy cannot be \
                             checked"
                        ))
                    }
                    Err(error) => return Err(self.failure(&error)),
                };
                if let Eviction::Possible(found) = &eviction {
                    self.log_eviction(risk, found, accepted);
                }
                Ok(eviction)
            })
            .await
    }

    /// What the eviction check found, if it has run.
    pub(crate) fn known_eviction(&self) -> Option<&Eviction> {
        self.eviction.get()
    }

    fn log_eviction(&self, risk: &EvictionRisk, found: &str, accepted: bool) {
        let setting = risk.setting;
        if accepted {
            tracing::warn!(
                target: "auth",
                store = %self.place,
                setting,
                found,
                "Redis may evict this library's keys ({found}), a risk the application accepted \
                 ({}): {}",
                risk.accept_with,
                risk.risk
            );
        } else {
            tracing::error!(
                target: "auth",
                store = %self.place,
                setting,
                found,
                "{}",
                self.eviction_refusal(risk, found).problem
            );
        }
    }

    /// The refusal of a store that may evict keys, naming the setting and what was found.
    pub(crate) fn eviction_refusal(&self, risk: &EvictionRisk, found: &str) -> ConfigError {
        ConfigError::new(
            risk.setting,
            format!(
                "Redis at {} may evict this library's keys ({found}): {}; set maxmemory-policy \
                 noeviction, or accept the risk with {}",
                self.place, risk.risk, risk.accept_with
            ),
        )
    }

    /// Records the DPoP proof `proof` (a key under this crate's prefix) by the client key
    /// `thumbprint` for `lifetime`, unless seen before or over that key's `share` of proofs per
    /// `lifetime`. One round trip.
    pub(crate) async fn record_proof(
        &self,
        proof: &str,
        thumbprint: &str,
        lifetime: Duration,
        share: usize,
    ) -> Result<ProofRecord, String> {
        let mut connection = self.connection.clone();
        // A proof seen before a loss is accepted until its lifetime has passed since it was seen.
        let window = lifetime.as_secs().cast_signed().saturating_add(1);
        // The marker changes only on a loss: a third look means it keeps being lost.
        for _ in 0..3 {
            let marker = match self.known_marker() {
                Some(marker) => marker,
                None => self.ensure_marker().await?,
            };
            if marker.wiped_at > 0
                && crate::token::date::now() < marker.wiped_at.saturating_add(window)
            {
                return Ok(ProofRecord::Lost {
                    wiped_at: marker.wiped_at,
                });
            }
            let recorded: i64 = RECORD_PROOF
                .key(format!("{PREFIX}{proof}"))
                .key(format!("{PREFIX}dpop-key:{thumbprint}"))
                .key(MARKER)
                .arg(
                    u64::try_from(lifetime.as_millis())
                        .unwrap_or(u64::MAX)
                        .max(1),
                )
                .arg(share)
                .arg(&marker.value)
                .invoke_async(&mut connection)
                .await
                .map_err(|error| self.failure(&error))?;
            match recorded {
                1 => return Ok(ProofRecord::First),
                0 => return Ok(ProofRecord::Replayed),
                -1 => return Ok(ProofRecord::OverShare),
                _ => {
                    self.ensure_marker().await?;
                }
            }
        }
        Err(format!(
            "Redis at {} keeps losing this library's keys (its marker changed three times in a \
             row)",
            self.place
        ))
    }

    /// Stores a revocation until it can be forgotten, merged with the one stored under its names
    /// (a revocation never weakens), and announces the result to every instance. One round trip.
    pub(crate) async fn publish(&self, revocation: &Revocation) -> Result<(), RevocationError> {
        self.merge(revocation, &self.channel).await
    }

    /// Stores a revocation merged with the one stored under its names, announced on `channel`
    /// unless it is empty.
    async fn merge(&self, revocation: &Revocation, channel: &str) -> Result<(), RevocationError> {
        let value = serde_json::to_string(revocation)
            .map_err(|error| RevocationError(error.to_string()))?;
        let (head, before, until) = split_dates(revocation, &value)
            .ok_or_else(|| RevocationError(format!("unexpected revocation encoding: {value}")))?;
        let mut connection = self.connection.clone();
        let kept_after_before = (crate::revocation::settings::LONGEST_TOKEN_LIFETIME
            + MAX_LEEWAY * 2)
            .as_secs()
            .to_string();
        let stored: Result<String, _> = MERGE_REVOCATION
            .key(revocation_key(revocation))
            .arg(channel)
            .arg(head)
            .arg(before.map(|before| before.to_string()).unwrap_or_default())
            .arg(until)
            .arg(MAX_LEEWAY.as_secs())
            .arg(if before.is_some() {
                kept_after_before.as_str()
            } else {
                ""
            })
            .invoke_async(&mut connection)
            .await;
        stored
            .map(drop)
            .map_err(|error| RevocationError(self.failure(&error)))
    }

    fn failure(&self, error: &redis::RedisError) -> String {
        format!("Redis at {} did not answer: {}", self.place, error)
    }

    /// Keeps `local` a mirror of the revocations in Redis until `local` is dropped: subscribes,
    /// checks that Redis will not evict them, loads every stored revocation, then applies each
    /// announced one and pings Redis every `heartbeat.every`; after a disconnection or a missed
    /// answer, reconnects with a growing backoff and loads again. Past the heartbeat bound without
    /// a load or an answer, `local` refuses every token until the next load (`local` notices that
    /// on its own too, should this task stop).
    pub(crate) fn mirror(&self, local: &Arc<Local>, heartbeat: Heartbeat) {
        let mirror = Mirror {
            store: self.clone(),
            local: Arc::downgrade(local),
            eviction_accepted: local
                .mirrored
                .as_ref()
                .is_some_and(|mirrored| mirrored.eviction_accepted),
            heartbeat,
            seen: std::sync::Mutex::new(None),
            owed: std::sync::Mutex::new(None),
            checked: std::sync::Mutex::new(None),
        };
        tokio::spawn(async move { mirror.run().await });
    }

    /// Stores every revocation in `held` again, merged with what is stored: after the server lost
    /// its keys, or on a new connection. Announced when `announce` (a write-back because of a
    /// loss: a mirror that already reloaded, or marked the loss restored, without what only this
    /// set held learns it); a routine one on a reconnection is not, since every instance running
    /// holds them already and announcing would cost every reconnection of every instance a
    /// message per revocation to every other instance. Pipelined, the script loaded by the first.
    async fn write_back(&self, held: &[Revocation], announce: bool) -> Result<(), String> {
        let Some((first, rest)) = held.split_first() else {
            return Ok(());
        };
        let channel: &str = if announce { &self.channel } else { "" };
        self.merge(first, channel).await.map_err(|error| error.0)?;
        let kept_after_before = (crate::revocation::settings::LONGEST_TOKEN_LIFETIME
            + MAX_LEEWAY * 2)
            .as_secs()
            .to_string();
        let mut connection = self.connection.clone();
        for batch in rest.chunks(500) {
            let mut pipe = redis::pipe();
            for revocation in batch {
                let value = serde_json::to_string(revocation).map_err(|error| error.to_string())?;
                let Some((head, before, until)) = split_dates(revocation, &value) else {
                    continue;
                };
                pipe.cmd("EVALSHA")
                    .arg(MERGE_REVOCATION.get_hash())
                    .arg(1)
                    .arg(revocation_key(revocation))
                    .arg(channel)
                    .arg(head)
                    .arg(before.map(|before| before.to_string()).unwrap_or_default())
                    .arg(until)
                    .arg(MAX_LEEWAY.as_secs())
                    .arg(if before.is_some() {
                        kept_after_before.as_str()
                    } else {
                        ""
                    })
                    .ignore();
            }
            let () = pipe
                .query_async(&mut connection)
                .await
                .map_err(|error| self.failure(&error))?;
        }
        Ok(())
    }

    /// Every stored revocation.
    async fn load(&self) -> Result<Vec<Revocation>, String> {
        let mut connection = self.connection.clone();
        let mut keys: Vec<String> = Vec::new();
        {
            let mut iter = connection
                .scan_match::<_, String>(format!("{PREFIX}revoked:*"))
                .await
                .map_err(|error| self.failure(&error))?;
            while let Some(key) = iter.next_item().await {
                keys.push(key.map_err(|error| self.failure(&error))?);
            }
        }
        let mut revocations = Vec::with_capacity(keys.len());
        for batch in keys.chunks(500) {
            let values: Vec<Option<String>> = connection
                .mget(batch)
                .await
                .map_err(|error| self.failure(&error))?;
            revocations.extend(
                values
                    .into_iter()
                    .flatten()
                    .filter_map(|value| serde_json::from_str(&value).ok()),
            );
        }
        Ok(revocations)
    }
}

/// A revocation's JSON (`value`) cut before its dates, which serde writes last, and the dates:
/// what [`MERGE_REVOCATION`] writes back after merging them.
fn split_dates<'a>(revocation: &Revocation, value: &'a str) -> Option<(&'a str, Option<i64>, i64)> {
    let (before, until) = match revocation {
        Revocation::Token { until, .. } => (None, *until),
        Revocation::Subject { before, until, .. } => (Some(*before), *until),
    };
    let dates = match before {
        Some(before) => format!(r#""before":{before},"until":{until}}}"#),
        None => format!(r#""until":{until}}}"#),
    };
    Some((value.strip_suffix(&dates)?, before, until))
}

/// The key a revocation is stored under: its names hashed, so no issuer or subject (personal data)
/// appears in key listings and any length fits.
fn revocation_key(revocation: &Revocation) -> String {
    let (kind, issuer, name) = match revocation {
        Revocation::Token { issuer, jti, .. } => ("token", issuer, jti),
        Revocation::Subject {
            issuer, subject, ..
        } => ("subject", issuer, subject),
    };
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(issuer.as_bytes());
    context.update(&[0]);
    context.update(name.as_bytes());
    let digest = context.finish();
    let hex: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{PREFIX}revoked:{kind}:{hex}")
}

/// The task that keeps a revocation mirror current. When it was last known current (a complete
/// load, or an answered ping, which Redis sends after every message published before it) is kept
/// in `local`, where every check reads it.
struct Mirror {
    store: RedisStore,
    local: Weak<Local>,
    /// [`RevocationSettings::redis_eviction_accepted`](crate::RevocationSettings::redis_eviction_accepted).
    eviction_accepted: bool,
    heartbeat: Heartbeat,
    /// The identity of the marker as this mirror last read it (its own: the store's may have been
    /// updated by the DPoP replay store first).
    seen: std::sync::Mutex<Option<String>>,
    /// The identity of a loss this mirror noticed while its set was complete and has not yet
    /// written back and marked restored itself: retried on every heartbeat and reconnection until
    /// it succeeds, whoever else is trying.
    owed: std::sync::Mutex<Option<String>>,
    /// At the last successful marker check: whether the set was complete then, and
    /// [`Local::gaps`] then (a gap since means it has not stayed complete).
    checked: std::sync::Mutex<Option<Checked>>,
}

/// What a successful marker check found about the set.
#[derive(Clone, Copy)]
struct Checked {
    complete: bool,
    gaps: u64,
}

/// A poisoned lock still holds a whole value: each is set in one assignment.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why one connection's worth of mirroring ended.
enum Ended {
    /// Nobody reads the mirror any more.
    Dropped,
    /// The connection failed or went quiet; `loaded` when it had been loaded over it.
    Failed { reason: String, loaded: bool },
}

impl Mirror {
    async fn run(&self) {
        let mut backoff = FIRST_BACKOFF;
        // Reconnect at least as often as the heartbeat allows, so a short bound recovers quickly.
        let max_backoff = MAX_BACKOFF.min(self.heartbeat.every * 2).max(FIRST_BACKOFF);
        let mut failing = false;
        loop {
            match self.watching(self.follow()).await {
                Ended::Dropped => return,
                Ended::Failed { reason, loaded } => {
                    if loaded || !failing {
                        tracing::warn!(
                            target: "auth",
                            store = %self.store.place,
                            %reason,
                            "revocation store unreachable; reconnecting, and serving the \
                             revocations loaded for at most {:?} without word from it",
                            self.bound()
                        );
                    } else {
                        tracing::debug!(
                            target: "auth",
                            store = %self.store.place,
                            %reason,
                            "revocation store still unreachable"
                        );
                    }
                    failing = true;
                    if loaded {
                        backoff = FIRST_BACKOFF;
                    }
                }
            }
            if self.local.strong_count() == 0 {
                return;
            }
            self.watching(tokio::time::sleep(backoff)).await;
            backoff = (backoff * 2).min(max_backoff);
        }
    }

    /// The longest silence the mirror is vouched for through.
    fn bound(&self) -> Duration {
        self.heartbeat.every * self.heartbeat.missed
    }

    /// Runs `work`, meanwhile checking every heartbeat whether the silence has lasted too long.
    async fn watching<T>(&self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        let mut ticks = tokio::time::interval(self.heartbeat.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                outcome = &mut work => return outcome,
                _ = ticks.tick() => self.check_silence(),
            }
        }
    }

    fn check_silence(&self) {
        // Before the first load the mirror is refused as not loaded already.
        if let Some(local) = self.local.upgrade()
            && local.blocked() & NOT_LOADED == 0
        {
            local.notice_silence();
        }
    }

    fn contact(&self) {
        if let Some(local) = self.local.upgrade() {
            local.contact();
        }
    }

    /// One connection's worth of mirroring.
    async fn follow(&self) -> Ended {
        let failed = |reason: String| Ended::Failed {
            reason,
            loaded: false,
        };
        let store = &self.store;
        let pubsub =
            match tokio::time::timeout(COMMAND_TIMEOUT, store.client.get_async_pubsub()).await {
                Ok(Ok(pubsub)) => pubsub,
                Ok(Err(error)) => return failed(store.failure(&error)),
                Err(_) => return failed("connection timed out".to_owned()),
            };
        let (mut sink, mut messages) = pubsub.split();
        // Subscribed before loading, so nothing revoked meanwhile is missed.
        match tokio::time::timeout(COMMAND_TIMEOUT, sink.subscribe(&*store.channel)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return failed(store.failure(&error)),
            Err(_) => return failed("subscription timed out".to_owned()),
        }
        match store
            .eviction(&REVOCATION_EVICTION, self.eviction_accepted)
            .await
        {
            Ok(Eviction::Possible(_)) if !self.eviction_accepted => {
                // Loaded all the same, but not vouched for (the verdict is kept: a changed policy
                // takes a restart).
                if let Some(local) = self.local.upgrade() {
                    local.set_blocked(EVICTABLE, true);
                }
            }
            Ok(_) => {}
            Err(reason) => return failed(reason),
        }
        // Before the load, so a set loaded after a loss nobody has written back is never vouched
        // for, not even for a moment.
        match self.check_marker(true).await {
            Ok(true) => {}
            Ok(false) => return Ended::Dropped,
            Err(reason) => return failed(reason),
        }
        match self.reload().await {
            Ok(true) => {}
            Ok(false) => return Ended::Dropped,
            Err(reason) => return failed(reason),
        }
        let failed = |reason: String| Ended::Failed {
            reason,
            loaded: true,
        };
        // Once more after the load: unchanged, the marker says the set just loaded is complete
        // (the next loss finds it so); changed, the keys were lost before the load finished and
        // this set does not owe that loss.
        match self.check_marker(false).await {
            Ok(true) => {}
            Ok(false) => return Ended::Dropped,
            Err(reason) => return failed(reason),
        }
        let every = self.heartbeat.every;
        let mut beats = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        return failed("subscription closed".to_owned());
                    };
                    let Some(local) = self.local.upgrade() else {
                        return Ended::Dropped;
                    };
                    self.apply(&local, message.get_payload_bytes());
                }
                _ = beats.tick() => {
                    if self.local.strong_count() == 0 {
                        return Ended::Dropped;
                    }
                    // Answered after every message published before it: an answer means the
                    // subscription is current.
                    match tokio::time::timeout(every, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => self.contact(),
                        Ok(Err(error)) => return failed(store.failure(&error)),
                        Err(_) => {
                            return failed(format!("no answer to a heartbeat within {every:?}"));
                        }
                    }
                    // Marked stale meanwhile (by a request or a probe that found the last contact
                    // too old): current again only once reloaded.
                    if self
                        .local
                        .upgrade()
                        .is_some_and(|local| local.blocked() & SILENT != 0)
                    {
                        match self.reload().await {
                            Ok(true) => {}
                            Ok(false) => return Ended::Dropped,
                            Err(reason) => return failed(reason),
                        }
                    }
                    // A longer-lived instance joined: load again, so the sign-outs held are
                    // held as long as it needs (a write-back after a loss must not drop them).
                    let held_for = self.local.upgrade().map(|local| local.sign_outs_held_for());
                    match self.record_lifetime().await {
                        Ok(true) => {}
                        Ok(false) => return Ended::Dropped,
                        Err(reason) => return failed(reason),
                    }
                    if self.local.upgrade().map(|local| local.sign_outs_held_for()) != held_for {
                        match self.reload().await {
                            Ok(true) => {}
                            Ok(false) => return Ended::Dropped,
                            Err(reason) => return failed(reason),
                        }
                    }
                    match self.retry_unfit().await {
                        Ok(true) => {}
                        Ok(false) => return Ended::Dropped,
                        Err(reason) => return failed(reason),
                    }
                    // A flush, or a loss another instance noticed first, breaks no connection.
                    match self.check_marker(false).await {
                        Ok(true) => {}
                        Ok(false) => return Ended::Dropped,
                        Err(reason) => return failed(reason),
                    }
                }
            }
        }
    }

    fn apply(&self, local: &Local, payload: &[u8]) {
        match serde_json::from_slice::<Revocation>(payload) {
            Ok(revocation) => {
                if local.insert(revocation).is_err() {
                    local.overflowed(1, &self.store.place);
                }
            }
            Err(error) => tracing::warn!(
                target: "auth",
                store = %self.store.place,
                %error,
                "ignored a revocation message this version cannot read"
            ),
        }
    }

    /// Loads every stored revocation into the mirror, which is then current: `Ok(false)` when
    /// nobody reads it any more.
    async fn reload(&self) -> Result<bool, String> {
        // First, so every sign-out loaded is held as long as the longest-lived instance needs.
        if !self.record_lifetime().await? {
            return Ok(false);
        }
        let loaded = self.store.load().await?;
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        let count = loaded.len();
        let mut unfit = 0;
        for revocation in loaded {
            if local.insert(revocation).is_err() {
                unfit += 1;
            }
        }
        self.contact();
        if unfit == 0 {
            local.fitted(&self.store.place);
        } else {
            local.overflowed(unfit, &self.store.place);
        }
        let was_stale = local.blocked() & (NOT_LOADED | SILENT);
        local.set_blocked(NOT_LOADED | SILENT, false);
        if was_stale & SILENT != 0 {
            tracing::info!(
                target: "auth",
                store = %self.store.place,
                revocations = count,
                "revocations reloaded after a silence: tokens are judged again"
            );
        } else {
            tracing::info!(
                target: "auth",
                store = %self.store.place,
                revocations = count,
                "revocations loaded"
            );
        }
        Ok(true)
    }

    /// Reads the marker and writes back every revocation held here (merged, so writing back twice
    /// is harmless) when `connected` (a connection that is new, after which Redis may hold an older
    /// copy of its keys than the one this mirror followed: a snapshot reloaded, a replica
    /// promoted, neither of which the marker can tell) or when the server lost its keys since this
    /// mirror last read the marker.
    ///
    /// A loss is owed by this mirror only if its set was complete at its last successful marker
    /// check before the loss (loaded, heard from within the heartbeat bound, every announced
    /// revocation fitted, not waiting on an earlier loss it did not owe) and stayed so until the
    /// loss was noticed ([`Local::gaps`] unchanged): what was carried over, not the flags after
    /// reconnecting, which a reload clears. It writes back, marks the loss restored and loads
    /// again, and when any step fails it tries again on the next heartbeat or reconnection,
    /// however many instances also try. A mirror whose set was incomplete (it started after the
    /// loss, went silent, overflowed, or was waiting on an earlier loss) may write back what it
    /// holds but never marks the loss restored, and refuses every token while the marker says the
    /// loss is pending, for as long as it says so: no instance vouches for a store that may miss
    /// revocations only the one still writing back holds. `Ok(false)` when nobody reads the
    /// mirror any more.
    async fn check_marker(&self, connected: bool) -> Result<bool, String> {
        // Complete at the last successful check and ever since: judged on what was carried over,
        // not on the flags now (a reconnection clears SILENT before a loss is noticed).
        let carried = self.local.upgrade().is_some_and(|local| {
            lock(&self.checked).is_some_and(|checked| {
                checked.complete && checked.gaps == local.gaps.load(Ordering::Acquire)
            })
        });
        let outcome = self.check_marker_with(connected, carried).await;
        if matches!(outcome, Ok(true))
            && let Some(local) = self.local.upgrade()
        {
            let gaps = local.gaps.load(Ordering::Acquire);
            let complete = self.complete(&local);
            *lock(&self.checked) = Some(Checked { complete, gaps });
        }
        outcome
    }

    /// Whether the set is complete now: loaded, heard from within the heartbeat bound, every
    /// announced revocation fitted, and not waiting on a loss it does not owe itself (a lone
    /// survivor still writing back one loss when the next one comes owes that one too).
    fn complete(&self, local: &Local) -> bool {
        let blocked = local.blocked();
        blocked & (NOT_LOADED | SILENT | OVERFLOW) == 0
            && (blocked & WIPED == 0 || lock(&self.owed).is_some())
    }

    async fn check_marker_with(&self, connected: bool, complete: bool) -> Result<bool, String> {
        let marker = self.store.ensure_marker().await?;
        let identity = marker.identity().to_owned();
        let previous = lock(&self.seen).replace(identity.clone());
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        let noticed = previous.is_some_and(|previous| previous != identity);
        // An incomplete set may still write back what it holds (a merge only adds), but never
        // marks a loss restored: a revocation it missed would be lost for good.
        if noticed && complete {
            *lock(&self.owed) = Some(identity.clone());
        }
        // Not blocked meanwhile: this set holds every revocation the store lost. A write-back
        // that keeps failing leaves the mirror without a load, so it stops vouching past the
        // heartbeat bound like any mirror cut off.
        let owed = lock(&self.owed).as_ref() == Some(&identity);
        if connected || noticed || owed {
            let held = local.set.all();
            drop(local);
            // Because of a loss, announced: a mirror that marked it restored (or reloaded on that)
            // before this write-back learns what only this set held. Routine (a reconnection, the
            // marker unchanged and restored), silent: every running instance holds them already.
            let announce = noticed || owed || marker.pending;
            self.store.write_back(&held, announce).await?;
            if owed {
                self.store.mark_restored(&marker).await?;
                *lock(&self.owed) = None;
                tracing::warn!(
                    target: "auth",
                    store = %self.store.place,
                    revocations = held.len(),
                    "revocations written back to Redis after it lost its keys"
                );
                if !self.reload().await? {
                    return Ok(false);
                }
                if let Some(local) = self.local.upgrade() {
                    local.set_blocked(WIPED, false);
                }
                return Ok(true);
            }
        } else {
            drop(local);
        }
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        if marker.pending {
            if local.set_blocked(WIPED, true) {
                tracing::error!(
                    target: "auth",
                    store = %self.store.place,
                    wiped_at = marker.wiped_at,
                    "Redis lost its keys and no instance that held the revocations has written \
                     them back yet: every token is refused with 503 until one has. If every \
                     instance that held them is gone, what they held is lost; to serve what is \
                     stored regardless, mark the loss restored: SET {MARKER} {}:restored",
                    marker.identity()
                );
            }
            return Ok(true);
        }
        // A loss this mirror did not finish itself, written back by another: load what it wrote.
        if local.blocked() & WIPED != 0 || noticed {
            drop(local);
            if !self.reload().await? {
                return Ok(false);
            }
            if let Some(local) = self.local.upgrade() {
                local.set_blocked(WIPED, false);
            }
        }
        Ok(true)
    }

    /// Records this instance's `max_token_lifetime` in Redis and reads the fleet's largest into
    /// the set: `Ok(false)` when nobody reads the mirror any more.
    async fn record_lifetime(&self) -> Result<bool, String> {
        let Some(own) = self.local.upgrade().map(|local| local.max_token_lifetime) else {
            return Ok(false);
        };
        let fleet = self.store.record_lifetime(own).await?;
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        local.fleet_lifetime(fleet);
        Ok(true)
    }

    /// While announced revocations are missing for want of room, reloads once enough has
    /// expired for them to fit.
    async fn retry_unfit(&self) -> Result<bool, String> {
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        if local.blocked() & OVERFLOW == 0 {
            return Ok(true);
        }
        local.set.sweep(crate::token::date::now());
        let room = local.set.capacity().saturating_sub(local.set.len());
        if room < local.unfit().max(1) {
            return Ok(true);
        }
        drop(local);
        self.reload().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_script_writes_a_revocation_back_as_serde_reads_it() {
        // Names that look like dates must not confuse the cut.
        let subject = Revocation::Subject {
            issuer: "https://issuer.example/\"until\":1}".to_owned(),
            subject: "ad\u{e9} \"before\":2,".to_owned(),
            before: 1_700_000_000,
            until: 1_700_086_400,
        };
        let token = Revocation::Token {
            issuer: "https://issuer.example".to_owned(),
            jti: "j,\"until\":3}".to_owned(),
            until: 253_402_300_800,
        };
        for revocation in [subject, token] {
            let value = serde_json::to_string(&revocation).unwrap();
            let (head, before, until) = split_dates(&revocation, &value).unwrap();
            assert!(head.ends_with(','), "{head}");
            // As the script writes it, its dates merged with a stored revocation's.
            let written = match before {
                Some(before) => format!(r#"{head}"before":{before},"until":{until}}}"#),
                None => format!(r#"{head}"until":{until}}}"#),
            };
            assert_eq!(
                serde_json::from_str::<Revocation>(&written).unwrap(),
                revocation
            );
        }
    }
}
