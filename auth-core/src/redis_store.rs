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
//! is checked once per store and anything else is logged as an error.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::ConfigError;
use crate::revocation::{Local, NOT_LOADED, OVERFLOW, Revocation, RevocationError, SILENT};

/// Prefix of every key this crate writes.
const PREFIX: &str = "auth:";
/// Channel on which revocations are announced.
const CHANNEL: &str = "auth:revocations";
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

/// A connection to Redis, shared by clones; reconnects by itself.
#[derive(Clone)]
pub(crate) struct RedisStore {
    client: redis::Client,
    connection: ConnectionManager,
    /// Where the URL points, without credentials, for messages.
    pub(crate) place: Arc<str>,
    /// Whether `maxmemory-policy` was checked: `UNCHECKED`, `CHECKING` or `CHECKED`.
    eviction_policy: Arc<AtomicU8>,
}

const UNCHECKED: u8 = 0;
const CHECKING: u8 = 1;
const CHECKED: u8 = 2;

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
            eviction_policy: Arc::new(AtomicU8::new(UNCHECKED)),
        })
    }

    /// Once per store: reads `maxmemory-policy` and logs an error unless it is `noeviction`, since
    /// every other policy may evict keys with an expiry, which all of ours have (`risk` says what
    /// an eviction would let through). A server that refuses `CONFIG` (managed Redis often does)
    /// gets a warning that the policy could not be checked; an unreachable one is asked again on
    /// the next call.
    pub(crate) async fn check_eviction_policy(&self, risk: &str) {
        if self
            .eviction_policy
            .compare_exchange(UNCHECKED, CHECKING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let mut connection = self.connection.clone();
        let answer: redis::RedisResult<std::collections::HashMap<String, String>> =
            redis::cmd("CONFIG")
                .arg("GET")
                .arg("maxmemory-policy")
                .query_async(&mut connection)
                .await;
        let policy = match answer {
            Ok(mut config) => config.remove("maxmemory-policy"),
            Err(error) if matches!(error.kind(), redis::ErrorKind::Server(_)) => {
                tracing::warn!(
                    target: "auth",
                    store = %self.place,
                    %error,
                    "could not check Redis's maxmemory-policy (CONFIG GET refused): unless it is \
                     noeviction, {risk}"
                );
                None
            }
            Err(_) => {
                // Unreachable for now: ask again next time.
                self.eviction_policy.store(UNCHECKED, Ordering::Release);
                return;
            }
        };
        match policy.as_deref() {
            Some("noeviction") | None => {}
            Some(policy) => tracing::error!(
                target: "auth",
                store = %self.place,
                policy,
                "Redis may evict this library's keys (maxmemory-policy {policy}, not \
                 noeviction): {risk}; set maxmemory-policy noeviction"
            ),
        }
        self.eviction_policy.store(CHECKED, Ordering::Release);
    }

    /// Sets `key` (under this crate's prefix) unless it exists, expiring after `ttl`: whether it
    /// was set.
    pub(crate) async fn set_once(&self, key: &str, ttl: Duration) -> Result<bool, String> {
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{PREFIX}{key}"))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failure(&error))?;
        Ok(set.is_some())
    }

    /// Stores a revocation until it can be forgotten and announces it to every instance.
    pub(crate) async fn publish(&self, revocation: &Revocation) -> Result<(), RevocationError> {
        let value = serde_json::to_string(revocation)
            .map_err(|error| RevocationError(error.to_string()))?;
        let mut connection = self.connection.clone();
        let stored: Result<(), _> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(revocation_key(revocation))
            .arg(&value)
            .arg("EXAT")
            .arg(revocation.until())
            .ignore()
            .cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(&value)
            .ignore()
            .query_async(&mut connection)
            .await;
        stored.map_err(|error| RevocationError(self.failure(&error)))
    }

    fn failure(&self, error: &redis::RedisError) -> String {
        format!("Redis at {} did not answer: {}", self.place, error)
    }

    /// Keeps `local` a mirror of the revocations in Redis until `local` is dropped: subscribes,
    /// loads every stored revocation, then applies each announced one and pings Redis every
    /// `heartbeat.every`; after a disconnection or a missed answer, reconnects with a growing
    /// backoff and loads again. Past the heartbeat bound without a load or an answer, `local`
    /// refuses every token until the next load.
    pub(crate) fn mirror(&self, local: &Arc<Local>, heartbeat: Heartbeat) {
        let mirror = Mirror {
            store: self.clone(),
            local: Arc::downgrade(local),
            heartbeat,
            last_contact: Mutex::new(None),
        };
        tokio::spawn(async move { mirror.run().await });
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

/// The task that keeps a revocation mirror current.
struct Mirror {
    store: RedisStore,
    local: Weak<Local>,
    heartbeat: Heartbeat,
    /// When the mirror was last known current: a complete load, or an answered ping (which
    /// Redis sends after every message published before it).
    last_contact: Mutex<Option<Instant>>,
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
        let Some(local) = self.local.upgrade() else {
            return;
        };
        // Before the first load the mirror is refused as not loaded already.
        let Some(last) = *self
            .last_contact
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        else {
            return;
        };
        let silent = last.elapsed();
        if silent >= self.bound() && local.set_blocked(SILENT, true) {
            tracing::warn!(
                target: "auth",
                store = %self.store.place,
                silent_secs = silent.as_secs_f64(),
                "no word from the revocation store within the heartbeat bound: revocations made \
                 meanwhile may be missing, so every token is refused with 503 until the mirror \
                 reloads"
            );
        }
    }

    fn contact(&self) {
        *self
            .last_contact
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
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
        match tokio::time::timeout(COMMAND_TIMEOUT, sink.subscribe(CHANNEL)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return failed(store.failure(&error)),
            Err(_) => return failed("subscription timed out".to_owned()),
        }
        store
            .check_eviction_policy(
                "an evicted revocation is forgotten, and its token accepted again, by every \
                 instance that loads the set afterwards",
            )
            .await;
        match self.reload().await {
            Ok(true) => {}
            Ok(false) => return Ended::Dropped,
            Err(reason) => return failed(reason),
        }
        let failed = |reason: String| Ended::Failed {
            reason,
            loaded: true,
        };
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
                    match self.retry_unfit().await {
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

    /// While announced revocations are missing for want of room, reloads once enough has
    /// expired for them to fit.
    async fn retry_unfit(&self) -> Result<bool, String> {
        let Some(local) = self.local.upgrade() else {
            return Ok(false);
        };
        if local.blocked() & OVERFLOW == 0 {
            return Ok(true);
        }
        local.set.sweep(crate::validation::now());
        let room = local.set.capacity().saturating_sub(local.set.len());
        if room < local.unfit().max(1) {
            return Ok(true);
        }
        drop(local);
        self.reload().await
    }
}
