//! The verified-token cache: a repeat of a token already verified skips the signature check.
//!
//! Keyed by the whole token: the map hashes all of it and compares all of it on lookup, so no
//! collision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than the token's `exp`, are ignored and dropped once the key that verified them leaves the
//! key set, and claims (dates with leeway) are checked again on every hit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;

use crate::verified_token::VerifiedToken;

/// Default capacity, in typical (1 KiB) tokens.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Longest an entry lives, whatever its `exp`: bounds how long a token outlives a change of
/// settings.
const MAX_ENTRY_LIFETIME: Duration = Duration::from_secs(3600);

/// A cached verification.
pub(crate) struct CachedToken {
    pub(crate) token: Arc<VerifiedToken>,
    /// Which configured issuer verified it.
    pub(crate) issuer: usize,
    /// Identifies the key that verified it; the entry is dead once no key in the set matches.
    pub(crate) key_fingerprint: u64,
    /// The token's `exp`: past it, the entry says nothing (the claims are otherwise fixed for a
    /// given token and configuration, so nothing else needs checking again on a hit).
    pub(crate) exp: i64,
    lifetime: Duration,
    weight: u32,
}

impl CachedToken {
    pub(crate) fn new(
        token: Arc<VerifiedToken>,
        issuer: usize,
        key_fingerprint: u64,
        exp: i64,
        now: i64,
        len: usize,
    ) -> Self {
        let remaining = u64::try_from(exp.saturating_sub(now)).unwrap_or(0);
        CachedToken {
            token,
            issuer,
            key_fingerprint,
            exp,
            lifetime: Duration::from_secs(remaining).min(MAX_ENTRY_LIFETIME),
            // Entries weigh their size in KiB (at least 1), so capacity bounds memory, not just
            // entries; the key (the token) and the parsed payload are both about its size.
            weight: u32::try_from(len.div_ceil(1024).max(1)).unwrap_or(u32::MAX),
        }
    }
}

struct ExpireAtTokenExp;

impl moka::Expiry<Box<str>, Arc<CachedToken>> for ExpireAtTokenExp {
    fn expire_after_create(
        &self,
        _: &Box<str>,
        entry: &Arc<CachedToken>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

/// Cache of verified tokens, bounded by capacity. Clones share the entries.
#[derive(Clone)]
pub(crate) struct VerifiedCache {
    // Only verified tokens are inserted, so keys cannot be chosen to collide: a fast seeded hash
    // (foldhash) rather than SipHash, which costs more than the rest of a hit.
    entries: Cache<Box<str>, Arc<CachedToken>, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl VerifiedCache {
    /// A cache holding about `capacity` typical tokens.
    pub(crate) fn new(capacity: usize) -> VerifiedCache {
        let entries = Cache::builder()
            .max_capacity(capacity as u64)
            .weigher(|_, entry: &Arc<CachedToken>| entry.weight)
            .expire_after(ExpireAtTokenExp)
            .build_with_hasher(foldhash::fast::RandomState::default());
        VerifiedCache { entries }
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.entries.get(token)
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken) {
        if !entry.lifetime.is_zero() {
            self.entries.insert(Box::from(token), Arc::new(entry));
        }
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries.invalidate(token);
    }

    /// Entries currently held (approximate, as the cache settles lazily).
    pub(crate) fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}
