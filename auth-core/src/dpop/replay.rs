//! DPoP proofs already seen, each remembered until it could no longer be accepted and never
//! forgotten earlier: a forgotten proof could be replayed by whoever captured it.
//!
//! In memory the store is bounded by refusing, not by evicting: when it holds its capacity of
//! unexpired proofs, new proofs are refused (503) until some expire, and one key may hold at most
//! its share, so a single client with a valid bound token can neither fill the store for everyone
//! nor push another client's proof out. With Redis, each proof is one script call on the shared
//! server (stored unless seen, within its key's share per proof window), which must not evict
//! keys: proofs are refused (503) unless its `maxmemory-policy` is `noeviction`, or the
//! application accepted the risk.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;

use crate::error::AuthError;
#[cfg(feature = "redis")]
use crate::error::ConfigError;

/// Most proofs remembered at once in memory unless set otherwise
/// ([`Dpop::replay_capacity`](crate::Dpop::replay_capacity)): about 100 MB at the worst.
pub const DEFAULT_REPLAY_CAPACITY: usize = 1_000_000;

/// One key may hold this fraction of the capacity unless set otherwise: a sixteenth.
pub(crate) const DEFAULT_SHARE: usize = 16;

/// Locks the store is split over. A key's proofs all live in one shard (its count with them), so
/// a proof costs one uncontended lock; only a full store visits every shard.
const SHARDS: usize = 64;

/// Expired proofs dropped at most per new proof: enough to keep up (one comes in, up to this many
/// go), few enough that no request pays for a whole quiet period's expiries. The refusal paths
/// drop every expired proof before refusing.
const SWEEP_BATCH: usize = 32;

/// Where proofs are remembered, and for how long.
#[derive(Clone)]
pub(crate) struct ReplayStore {
    lifetime: Duration,
    place: Place,
}

#[derive(Clone)]
enum Place {
    Memory(Arc<MemoryReplays>),
    #[cfg(feature = "redis")]
    Redis(Box<RedisReplays>),
}

/// Proofs remembered in Redis.
#[cfg(feature = "redis")]
#[derive(Clone)]
struct RedisReplays {
    store: crate::redis_store::RedisStore,
    /// Most proofs one key may have recorded per proof window.
    per_key: usize,
    /// [`Dpop::redis_eviction_accepted`](crate::Dpop::redis_eviction_accepted).
    eviction_accepted: bool,
}

impl std::fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("ReplayStore");
        debug.field("lifetime", &self.lifetime);
        match &self.place {
            Place::Memory(memory) => debug
                .field("kind", &"in memory")
                .field("capacity", &memory.capacity)
                .field("per_key", &memory.per_key)
                .field("remembered", &memory.len()),
            #[cfg(feature = "redis")]
            Place::Redis(redis) => debug
                .field("kind", &"redis")
                .field("store", &redis.store.place)
                .field("per_key", &redis.per_key)
                .field("eviction_accepted", &redis.eviction_accepted),
        };
        debug.finish()
    }
}

impl ReplayStore {
    /// Proofs remembered in this process for `lifetime`, at most `capacity` at once and
    /// `per_key` of them for any one key.
    pub(crate) fn in_memory(lifetime: Duration, capacity: usize, per_key: usize) -> ReplayStore {
        ReplayStore {
            lifetime,
            place: Place::Memory(Arc::new(MemoryReplays::new(lifetime, capacity, per_key))),
        }
    }

    /// Proofs remembered in Redis for `lifetime`, at most `per_key` of them per `lifetime` for any
    /// one key; refused unless Redis will not evict them or `eviction_accepted`.
    #[cfg(feature = "redis")]
    pub(crate) fn redis(
        lifetime: Duration,
        store: crate::redis_store::RedisStore,
        per_key: usize,
        eviction_accepted: bool,
    ) -> ReplayStore {
        ReplayStore {
            lifetime,
            place: Place::Redis(Box::new(RedisReplays {
                store,
                per_key: per_key.max(1),
                eviction_accepted,
            })),
        }
    }

    /// Records the proof `jti` by the key with thumbprint `thumbprint`; refuses one seen before,
    /// and answers 503 when it cannot be remembered.
    pub(crate) async fn first_use(&self, thumbprint: &str, jti: &str) -> Result<(), AuthError> {
        match &self.place {
            Place::Memory(memory) => memory.first_use(thumbprint, jti, Instant::now()),
            #[cfg(feature = "redis")]
            Place::Redis(redis) => redis.first_use(thumbprint, jti, self.lifetime).await,
        }
    }

    /// The refusal of a Redis that may evict proofs, unless the application accepted that
    /// (`None` in memory, or while Redis cannot be reached: proofs are refused until it is).
    #[cfg(feature = "redis")]
    pub(crate) async fn eviction_refusal(&self) -> Option<ConfigError> {
        let Place::Redis(redis) = &self.place else {
            return None;
        };
        redis.refusal().await.ok().flatten()
    }
}

#[cfg(feature = "redis")]
impl RedisReplays {
    async fn first_use(
        &self,
        thumbprint: &str,
        jti: &str,
        lifetime: Duration,
    ) -> Result<(), AuthError> {
        if let Some(refusal) = self.refusal().await.map_err(AuthError::StoreUnavailable)? {
            return Err(AuthError::StoreUnavailable(refusal.to_string()));
        }
        let digest = proof_digest(thumbprint, jti);
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let recorded = self
            .store
            .record_proof(&format!("dpop:{hex}"), thumbprint, lifetime, self.per_key)
            .await
            .map_err(AuthError::StoreUnavailable)?;
        match recorded {
            crate::redis_store::ProofRecord::First => Ok(()),
            crate::redis_store::ProofRecord::Replayed => Err(AuthError::DpopReplay),
            crate::redis_store::ProofRecord::Lost { wiped_at } => {
                Err(AuthError::StoreUnavailable(format!(
                    "Redis lost the DPoP proofs it remembered (a restart without persistence, a \
                     flush, a new empty server) at {wiped_at} (seconds since the epoch): proofs \
                     are refused until {} so that none seen before can be replayed",
                    wiped_at
                        .saturating_add(lifetime.as_secs().cast_signed())
                        .saturating_add(1)
                )))
            }
            crate::redis_store::ProofRecord::OverShare => {
                Err(AuthError::StoreUnavailable(format!(
                    "this client's DPoP key has had {} proofs remembered in Redis within one proof \
                 window, its share (Dpop::replay_per_key): its new proofs are refused until the \
                 window ends ({} s after its first); other clients are not affected. A client \
                 sending more than {:.0} DPoP requests per second needs a larger share",
                    self.per_key,
                    lifetime.as_secs(),
                    self.per_key as f64 / lifetime.as_secs_f64(),
                )))
            }
        }
    }

    /// Whether proofs must be refused for the server's eviction policy (read once, on first use
    /// or at warm-up); `Err` while Redis cannot be reached.
    async fn refusal(&self) -> Result<Option<ConfigError>, String> {
        let risk = &crate::redis_store::DPOP_EVICTION;
        match self.store.eviction(risk, self.eviction_accepted).await? {
            crate::redis_store::Eviction::Possible(found) if !self.eviction_accepted => {
                Ok(Some(self.store.eviction_refusal(risk, found)))
            }
            _ => Ok(None),
        }
    }
}

/// SHA-256 of the key's thumbprint and the proof's `jti`: what identifies a proof.
fn proof_digest(thumbprint: &str, jti: &str) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(thumbprint.as_bytes());
    context.update(&[0]);
    context.update(jti.as_bytes());
    let mut digest = [0u8; 32];
    digest.copy_from_slice(context.finish().as_ref());
    digest
}

/// The in-memory store: a set of proofs per shard, a queue of their expiries (every proof lives
/// equally long and the clock is monotonic, so arrival order is expiry order), and a count per
/// key.
pub(crate) struct MemoryReplays {
    shards: Box<[Mutex<Shard>]>,
    capacity: usize,
    per_key: usize,
    lifetime_ms: u64,
    lifetime: Duration,
    /// Proofs held, every shard together (expired ones count until dropped).
    len: AtomicUsize,
    /// Seeds the key identities, so a client cannot choose which shard or count it shares.
    keys: foldhash::fast::FixedState,
    epoch: Instant,
}

/// One shard: about 100 bytes per proof at the worst (the set's and the queue's slack included).
#[derive(Default)]
struct Shard {
    /// 128 bits of each proof's digest: collisions are out of reach, and each costs half.
    seen: HashSet<u128, foldhash::fast::RandomState>,
    held: HashMap<u64, u32, foldhash::fast::RandomState>,
    expiries: VecDeque<Expiry>,
}

struct Expiry {
    /// Milliseconds since the store's epoch.
    at: u64,
    proof: u128,
    key: u64,
}

/// What recording a proof came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    First,
    Replayed,
    KeyFull,
    StoreFull,
}

impl MemoryReplays {
    pub(crate) fn new(lifetime: Duration, capacity: usize, per_key: usize) -> MemoryReplays {
        MemoryReplays {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            capacity: capacity.max(1),
            per_key: per_key.max(1),
            lifetime_ms: u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
            lifetime,
            len: AtomicUsize::new(0),
            keys: foldhash::fast::FixedState::with_seed(crate::revocation::entry::rand_seed()),
            epoch: Instant::now(),
        }
    }

    /// Proofs held now, expired ones not yet dropped included.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    fn first_use(&self, thumbprint: &str, jti: &str, now: Instant) -> Result<(), AuthError> {
        match self.record(thumbprint, jti, now) {
            Recorded::First => Ok(()),
            Recorded::Replayed => Err(AuthError::DpopReplay),
            Recorded::KeyFull => Err(AuthError::StoreUnavailable(format!(
                "this client's DPoP key already has {} unexpired proofs in the replay store, its \
                 share (Dpop::replay_per_key): its new proofs are refused until some expire (each \
                 is kept {} s); other clients are not affected. A client sending more than {:.0} \
                 DPoP requests per second needs a larger share",
                self.per_key,
                self.lifetime.as_secs(),
                self.per_key as f64 / self.lifetime.as_secs_f64(),
            ))),
            Recorded::StoreFull => Err(AuthError::StoreUnavailable(format!(
                "the in-memory DPoP replay store is full: {} unexpired proofs, each kept {} s so \
                 it cannot be replayed; new proofs are refused until some expire. Size it for the \
                 peak: Dpop::replay_capacity(peak DPoP requests per second x {}) at about 100 \
                 bytes a proof, shorten Dpop::proof_age, or share the store with Dpop::redis",
                self.capacity,
                self.lifetime.as_secs(),
                self.lifetime.as_secs(),
            ))),
        }
    }

    fn record(&self, thumbprint: &str, jti: &str, now: Instant) -> Recorded {
        let key = self.keys.hash_one(thumbprint);
        let digest = proof_digest(thumbprint, jti);
        let mut low = [0u8; 16];
        low.copy_from_slice(&digest[..16]);
        let proof = u128::from_le_bytes(low);
        let at = u64::try_from(now.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX);
        let shard = &self.shards[usize::try_from(key % SHARDS as u64).unwrap_or_default()];
        let recorded = self.try_record(shard, key, proof, at);
        if recorded != Recorded::StoreFull {
            return recorded;
        }
        // Full counting proofs that expired in quiet shards: drop those, then look again.
        for shard in &self.shards {
            self.sweep(&mut lock(shard), at, usize::MAX);
        }
        self.try_record(shard, key, proof, at)
    }

    fn try_record(&self, shard: &Mutex<Shard>, key: u64, proof: u128, now: u64) -> Recorded {
        let mut shard = lock(shard);
        self.sweep(&mut shard, now, SWEEP_BATCH);
        if shard.seen.contains(&proof) {
            // An expired proof not dropped yet is already too old to pass the `iat` check, so
            // this is a replay within the window.
            return Recorded::Replayed;
        }
        let held = |shard: &Shard| shard.held.get(&key).map_or(0, |held| *held as usize);
        if held(&shard) >= self.per_key {
            self.sweep(&mut shard, now, usize::MAX);
            if held(&shard) >= self.per_key {
                return Recorded::KeyFull;
            }
        }
        let reserved = self
            .len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |len| {
                (len < self.capacity).then_some(len + 1)
            });
        if reserved.is_err() {
            return Recorded::StoreFull;
        }
        shard.seen.insert(proof);
        *shard.held.entry(key).or_default() += 1;
        shard.expiries.push_back(Expiry {
            at: now.saturating_add(self.lifetime_ms),
            proof,
            key,
        });
        Recorded::First
    }

    /// Drops up to `most` expired proofs from `shard`.
    fn sweep(&self, shard: &mut Shard, now: u64, most: usize) {
        let mut dropped = 0;
        while dropped < most
            && let Some(front) = shard.expiries.front()
            && front.at <= now
        {
            let Some(expired) = shard.expiries.pop_front() else {
                break;
            };
            shard.seen.remove(&expired.proof);
            if let Some(held) = shard.held.get_mut(&expired.key) {
                *held -= 1;
                if *held == 0 {
                    shard.held.remove(&expired.key);
                }
            }
            dropped += 1;
        }
        if dropped > 0 {
            self.len.fetch_sub(dropped, Ordering::AcqRel);
        }
    }
}

/// Nothing panics while a shard is locked, but a poisoned lock must not take DPoP down with it.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFETIME: Duration = Duration::from_secs(10);

    fn at(store: &MemoryReplays, millis: u64) -> Instant {
        store.epoch + Duration::from_millis(millis)
    }

    #[test]
    fn a_proof_is_remembered_for_its_whole_lifetime_and_then_forgotten() {
        let store = MemoryReplays::new(LIFETIME, 100, 10);
        assert_eq!(store.record("key", "a", at(&store, 0)), Recorded::First);
        assert_eq!(
            store.record("key", "a", at(&store, 9_999)),
            Recorded::Replayed
        );
        // Another key's proof with the same `jti` is another proof.
        assert_eq!(
            store.record("other", "a", at(&store, 9_999)),
            Recorded::First
        );
        assert_eq!(
            store.record("key", "a", at(&store, 10_000)),
            Recorded::First
        );
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_flood_from_one_key_never_pushes_another_keys_proof_out() {
        let store = MemoryReplays::new(LIFETIME, 64, 4);
        assert_eq!(
            store.record("victim", "captured", at(&store, 0)),
            Recorded::First
        );
        let mut refused = 0;
        for n in 0..10_000 {
            match store.record("flooder", &n.to_string(), at(&store, 1)) {
                Recorded::First => {}
                Recorded::KeyFull => refused += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(refused, 10_000 - 4, "the flooder keeps its share only");
        assert_eq!(
            store.record("victim", "captured", at(&store, 2)),
            Recorded::Replayed
        );
        assert_eq!(
            store.record("victim", "next", at(&store, 2)),
            Recorded::First
        );
        // Once its proofs expire the flooder has its share again.
        assert_eq!(
            store.record("flooder", "late", at(&store, 10_001)),
            Recorded::First
        );
    }

    #[test]
    fn a_full_store_refuses_until_proofs_expire_even_in_quiet_shards() {
        let store = MemoryReplays::new(LIFETIME, 50, 50);
        for n in 0..50 {
            // Many keys, so the proofs spread over many shards.
            assert_eq!(
                store.record(&format!("key-{n}"), "j", at(&store, n)),
                Recorded::First
            );
        }
        assert_eq!(
            store.record("late", "j", at(&store, 100)),
            Recorded::StoreFull
        );
        assert_eq!(
            store.record("key-0", "j", at(&store, 100)),
            Recorded::Replayed
        );
        // The first proof expires; the newcomer's shard may hold none of the expired ones.
        assert_eq!(
            store.record("late", "j", at(&store, 10_000)),
            Recorded::First
        );
        assert_eq!(
            store.record("later", "j", at(&store, 10_000)),
            Recorded::StoreFull
        );
        assert_eq!(store.len(), 50);
    }

    #[test]
    fn refusals_say_what_is_full_and_how_to_size_it() {
        let store = MemoryReplays::new(LIFETIME, 2, 1);
        let now = at(&store, 0);
        store.first_use("a", "1", now).unwrap();
        let AuthError::StoreUnavailable(share) = store.first_use("a", "2", now).unwrap_err() else {
            panic!("not a 503");
        };
        assert!(share.contains("Dpop::replay_per_key"), "{share}");
        store.first_use("b", "1", now).unwrap();
        let AuthError::StoreUnavailable(full) = store.first_use("c", "1", now).unwrap_err() else {
            panic!("not a 503");
        };
        assert!(full.contains("replay store is full"), "{full}");
        assert!(full.contains("Dpop::replay_capacity"), "{full}");
        assert_eq!(
            store.first_use("a", "1", now).unwrap_err(),
            AuthError::DpopReplay
        );
    }
}
