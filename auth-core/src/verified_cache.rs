//! The verified-token cache: a repeat of a token already verified skips the signature check.
//!
//! Keyed by the whole token: the map hashes all of it and compares all of it on lookup, so no
//! collision can ever answer for another token (a short digest as the key could). An entry answers
//! no later than the token's `exp` (and at most an hour), is ignored and dropped once the key that
//! verified it leaves the key set, and claims (dates with leeway) are checked again on every hit.
//!
//! The map is quick_cache's: sharded, with an eviction policy that keeps frequently used tokens
//! (S3-FIFO). `bench/caches` chose it over moka, which this cache used before: a hit on a
//! 738-byte token took 71 ns against moka's 220 ns, 647 ns against 1,839 ns over a working set of
//! 10,000 tokens, and 242 ns against 406 ns with two threads on one token, and it allocates
//! nothing (moka's read bookkeeping allocated 0.9 times per hit). A lookup takes its shard's read
//! lock: readers share it, and a writer holds it only to insert after a full verification.

use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::{Cache, DefaultLifecycle};

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
    /// When the entry stops answering, whatever `exp` says: bounds how long a token outlives a
    /// change of settings, and keeps an entry from answering past `exp` should the wall clock
    /// move back.
    expires_at: Instant,
    lifetime: Duration,
    weight: u64,
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
        let lifetime = Duration::from_secs(remaining).min(MAX_ENTRY_LIFETIME);
        CachedToken {
            token,
            issuer,
            key_fingerprint,
            exp,
            expires_at: Instant::now() + lifetime,
            lifetime,
            // Entries weigh their size in KiB (at least 1), so capacity bounds memory, not just
            // entries; the key (the token) and the parsed payload are both about its size.
            weight: u64::try_from(len.div_ceil(1024).max(1)).unwrap_or(u64::MAX),
        }
    }

    /// Whether the entry may still answer at `now` (its `exp` is checked separately).
    pub(crate) fn is_live(&self, now: Instant) -> bool {
        now < self.expires_at
    }
}

#[derive(Clone)]
struct TokenWeight;

impl Weighter<Box<str>, Arc<CachedToken>> for TokenWeight {
    fn weight(&self, _: &Box<str>, entry: &Arc<CachedToken>) -> u64 {
        entry.weight
    }
}

/// Cache of verified tokens, bounded by capacity. Clones share the entries.
#[derive(Clone)]
pub(crate) struct VerifiedCache {
    // Only verified tokens are inserted, so keys cannot be chosen to collide: a fast seeded hash
    // (foldhash) rather than SipHash, which costs more than the rest of a hit.
    entries: Arc<Cache<Box<str>, Arc<CachedToken>, TokenWeight, foldhash::fast::RandomState>>,
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl VerifiedCache {
    /// A cache holding about `capacity` typical tokens.
    pub(crate) fn new(capacity: usize) -> VerifiedCache {
        let entries = Cache::with(
            capacity,
            capacity as u64,
            TokenWeight,
            foldhash::fast::RandomState::default(),
            DefaultLifecycle::default(),
        );
        VerifiedCache {
            entries: Arc::new(entries),
        }
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
        self.entries.remove(token);
    }

    /// Entries currently held, including any no longer live that a hit or eviction has not
    /// dropped yet.
    pub(crate) fn len(&self) -> u64 {
        u64::try_from(self.entries.len()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;
    use crate::identity::Identity;

    fn entry(exp: i64, now: i64, len: usize) -> CachedToken {
        let token = VerifiedToken::new(
            serde_json::Map::new(),
            Identity::default(),
            Algorithm::RS256,
            None,
            0,
        );
        CachedToken::new(Arc::new(token), 0, 7, exp, now, len)
    }

    #[test]
    fn an_entry_stops_answering_at_exp_or_after_an_hour() {
        let now = Instant::now();
        let soon = entry(1_000_010, 1_000_000, 700);
        assert!(soon.is_live(now));
        assert!(!soon.is_live(now + Duration::from_secs(11)));
        let far = entry(1_000_000 + 30 * 86_400, 1_000_000, 700);
        assert!(far.is_live(now + Duration::from_secs(3_500)));
        assert!(!far.is_live(now + MAX_ENTRY_LIFETIME + Duration::from_secs(1)));
        let past = entry(999_000, 1_000_000, 700);
        assert!(!past.is_live(now + Duration::from_millis(1)));
    }

    #[test]
    fn capacity_counts_kibibytes_and_an_expired_token_is_not_inserted() {
        let cache = VerifiedCache::new(64);
        for i in 0..200 {
            cache.insert(&format!("token-{i}"), entry(2_000_000, 1_000_000, 4 * 1024));
        }
        // 4 KiB tokens in a 64 KiB cache.
        assert!((1..=16).contains(&cache.len()), "{} entries", cache.len());
        let fresh = VerifiedCache::new(64);
        fresh.insert("expired", entry(999_000, 1_000_000, 700));
        assert_eq!(fresh.len(), 0);
        assert!(fresh.get("expired").is_none());
        fresh.insert("kept", entry(2_000_000, 1_000_000, 700));
        assert!(fresh.get("kept").is_some());
        fresh.remove("kept");
        assert!(fresh.get("kept").is_none());
    }
}
