//! The verified-token cache: a repeat of a token already verified skips the signature check.
//!
//! Keyed by the whole token: the map hashes all of it and compares all of it on lookup, so no
//! collision can ever answer for another token (a short digest as the key could). An entry answers
//! no later than the token's `exp` (and at most an hour), is ignored and dropped once the key that
//! verified it leaves the key set. A hit checks nothing else again: the other claims cannot change
//! for a given token and verifier, and time only moves `nbf`, `iat` and other past dates (such as
//! `auth_time`) further into the past.
//!
//! The map is quick_cache's: sharded, with an eviction policy that keeps frequently used tokens
//! (S3-FIFO), and a hit that allocates nothing. `bench/caches` chose it over moka, which this
//! cache used before (the figures are in docs/performance.md). A lookup takes its shard's
//! read lock, shared by readers; inserts after a full verification, removals of entries that no
//! longer stand, the evictions an insert causes and the sweep below take it for writing.
//!
//! quick_cache has no expiry of its own: an entry past its time is never served (the verifier
//! checks [`CachedToken::is_live`] and `exp` on every hit) and is dropped by the hit that finds it,
//! by eviction, or by a sweep that an insert runs at most once a minute, so the memory such entries
//! hold does not wait for the cache to fill.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::{Cache, DefaultLifecycle};

use crate::token::verified::VerifiedToken;

/// Default capacity, in typical (1 KiB) tokens.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Longest an entry lives, whatever its `exp`: bounds how long a token outlives a change of
/// settings.
const MAX_ENTRY_LIFETIME: Duration = Duration::from_secs(3600);

/// How often, at most, an insert sweeps out entries past their time.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

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
    /// When the entry stops answering, on the monotonic clock: `exp` or the hour's cap, whichever
    /// comes first.
    expires_at: Instant,
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
    /// When the cache was made, and when (seconds after that) the next sweep is due.
    created: Instant,
    next_sweep: Arc<AtomicU64>,
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
            created: Instant::now(),
            next_sweep: Arc::new(AtomicU64::new(SWEEP_EVERY.as_secs())),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.entries.get(token)
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken) {
        // One already past its time (zero lifetime) is not worth a slot.
        if entry.is_live(Instant::now()) {
            self.entries.insert(Box::from(token), Arc::new(entry));
        }
        self.sweep_when_due();
    }

    /// Drops `entry`, the one a lookup of `token` returned, unless another request has replaced it
    /// since with a fresh verification.
    pub(crate) fn remove(&self, token: &str, entry: &Arc<CachedToken>) {
        self.entries
            .remove_if(token, |held| Arc::ptr_eq(held, entry));
    }

    /// Drops every entry past its time, when a minute has passed since the last sweep. One insert
    /// wins the race to run it; the others go on.
    fn sweep_when_due(&self) {
        let elapsed = self.created.elapsed().as_secs();
        let due = self.next_sweep.load(Ordering::Relaxed);
        if elapsed < due
            || self
                .next_sweep
                .compare_exchange(
                    due,
                    elapsed + SWEEP_EVERY.as_secs(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        self.sweep();
    }

    fn sweep(&self) {
        let now = Instant::now();
        let wall = crate::token::date::now();
        self.entries
            .retain(|_, entry| entry.is_live(now) && wall < entry.exp);
    }

    /// Entries currently held, including any past their time that a hit, an eviction or the next
    /// sweep has not dropped yet.
    pub(crate) fn len(&self) -> u64 {
        u64::try_from(self.entries.len()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::keys::algorithm::Algorithm;
    use crate::token::verified::PayloadFacts;

    fn entry(exp: i64, now: i64, len: usize) -> CachedToken {
        let token = VerifiedToken::new(
            "{}".to_owned(),
            PayloadFacts::default(),
            Identity::default(),
            Algorithm::RS256,
            None,
            0,
        );
        CachedToken::new(Arc::new(token), 0, 7, exp, now, len)
    }

    #[test]
    fn an_entry_stops_answering_at_exp_or_after_an_hour() {
        // Each entry takes its clock when made: instants before it are "earlier", after it "later".
        let before = Instant::now();
        let soon = entry(1_000_010, 1_000_000, 700);
        assert!(soon.is_live(before));
        assert!(!soon.is_live(Instant::now() + Duration::from_secs(11)));
        let before = Instant::now();
        let far = entry(1_000_000 + 30 * 86_400, 1_000_000, 700);
        assert!(far.is_live(before + Duration::from_secs(3_500)));
        assert!(!far.is_live(Instant::now() + MAX_ENTRY_LIFETIME + Duration::from_secs(1)));
        let past = entry(999_000, 1_000_000, 700);
        assert!(!past.is_live(Instant::now()));
    }

    #[test]
    fn a_sweep_drops_what_is_past_its_time_and_a_removal_spares_a_replacement() {
        let cache = VerifiedCache::new(64);
        let wall = crate::token::date::now();
        cache.insert("live", entry(wall + 600, wall, 700));
        cache.insert("past exp", entry(wall - 1, wall - 10, 700));
        assert_eq!(cache.len(), 2);
        cache.sweep();
        assert_eq!(cache.len(), 1);
        assert!(cache.get("live").is_some());

        let stale = cache.get("live").unwrap();
        cache.insert("live", entry(wall + 900, wall, 700));
        cache.remove("live", &stale);
        assert!(cache.get("live").is_some(), "the replacement stays");
        let fresh = cache.get("live").unwrap();
        cache.remove("live", &fresh);
        assert!(cache.get("live").is_none());
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
    }
}
