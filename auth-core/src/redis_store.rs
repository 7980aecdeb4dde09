//! State shared by every instance of an API through Redis: revocations (a key per revocation,
//! announced on a channel and mirrored in memory by each instance) and, for DPoP, proofs already
//! seen.
//!
//! Requests never wait on Redis for revocations: they read the in-memory mirror, which a
//! background task keeps current by subscribing to the channel and reloading every key after each
//! (re)connection. While Redis is unreachable the mirror keeps answering with what it holds.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::ConfigError;
use crate::revocation::{Local, Revocation, RevocationError};

/// Prefix of every key this crate writes.
const PREFIX: &str = "auth:";
/// Channel on which revocations are announced.
const CHANNEL: &str = "auth:revocations";
/// How long a command may take before the store counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait between two reconnections of the subscriber.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A connection to Redis, shared by clones; reconnects by itself.
#[derive(Clone)]
pub(crate) struct RedisStore {
    client: redis::Client,
    connection: ConnectionManager,
    /// Where the URL points, without credentials, for messages.
    pub(crate) place: Arc<str>,
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
        })
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
    /// loads every stored revocation, then applies each announced one; after a disconnection,
    /// reconnects with a growing backoff and loads again.
    pub(crate) fn mirror(&self, local: &Arc<Local>) {
        let store = self.clone();
        let local = Arc::downgrade(local);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match store.follow(&local).await {
                    Ok(()) => return,
                    Err(reason) => {
                        tracing::warn!(
                            target: "auth",
                            store = %store.place,
                            %reason,
                            "revocation store unreachable; serving the revocations already loaded"
                        );
                    }
                }
                if local.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
    }

    /// One connection's worth of mirroring: `Ok` once nobody reads the mirror any more.
    async fn follow(&self, local: &std::sync::Weak<Local>) -> Result<(), String> {
        let mut pubsub = tokio::time::timeout(COMMAND_TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| "connection timed out".to_owned())?
            .map_err(|error| self.failure(&error))?;
        // Subscribed before loading, so nothing revoked meanwhile is missed.
        pubsub
            .subscribe(CHANNEL)
            .await
            .map_err(|error| self.failure(&error))?;
        let loaded = self.load().await?;
        {
            let Some(local) = local.upgrade() else {
                return Ok(());
            };
            for revocation in loaded {
                local.insert(revocation);
            }
            local.set_synced(true);
        }
        tracing::info!(target: "auth", store = %self.place, "revocations loaded");
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let Some(local) = local.upgrade() else {
                return Ok(());
            };
            let payload: Vec<u8> = message.get_payload_bytes().to_vec();
            match serde_json::from_slice::<Revocation>(&payload) {
                Ok(revocation) => local.insert(revocation),
                Err(error) => tracing::warn!(
                    target: "auth",
                    store = %self.place,
                    %error,
                    "ignored a revocation message this version cannot read"
                ),
            }
        }
        Err("subscription closed".to_owned())
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
