//! The candidates, each behind the verified-token cache's two operations: `get` by the whole token
//! and `insert`. Values are `Arc`s, as auth-core's cached verifications are.

use std::hash::BuildHasher;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

/// A cache keyed by the whole token.
pub trait TokenCache<V>: Send + Sync {
    /// The entry for `token`, shared.
    fn get(&self, token: &str) -> Option<Arc<V>>;
    /// Adds an entry for `token` (the bench never inserts one twice).
    fn insert(&self, token: &str, value: Arc<V>);
    /// Finishes any work the inserts left pending, so it is not timed with the lookups.
    fn settle(&self) {}
}

type Hasher = foldhash::fast::RandomState;

/// auth-core's first choice: moka, with the same fast seeded hash (without the weigher and
/// per-entry expiry auth-core gave it, which add to a read; this flatters moka slightly).
pub struct Moka<V: Send + Sync + 'static>(pub moka::sync::Cache<Box<str>, Arc<V>, Hasher>);

impl<V: Send + Sync + 'static> Moka<V> {
    pub fn new(capacity: u64) -> Self {
        Moka(
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(Hasher::default()),
        )
    }
}

impl<V: Send + Sync + 'static> TokenCache<V> for Moka<V> {
    fn get(&self, token: &str) -> Option<Arc<V>> {
        self.0.get(token)
    }
    fn insert(&self, token: &str, value: Arc<V>) {
        self.0.insert(Box::from(token), value);
    }
    fn settle(&self) {
        self.0.run_pending_tasks();
    }
}

/// quick_cache: sharded, a read lock per shard on `get`.
pub struct Quick<V: Send + Sync + 'static>(
    pub quick_cache::sync::Cache<Box<str>, Arc<V>, quick_cache::UnitWeighter, Hasher>,
);

impl<V: Send + Sync + 'static> Quick<V> {
    pub fn new(capacity: usize) -> Self {
        Quick(quick_cache::sync::Cache::with(
            capacity,
            capacity as u64,
            quick_cache::UnitWeighter,
            Hasher::default(),
            quick_cache::sync::DefaultLifecycle::default(),
        ))
    }
}

impl<V: Send + Sync + 'static> TokenCache<V> for Quick<V> {
    fn get(&self, token: &str) -> Option<Arc<V>> {
        self.0.get(token)
    }
    fn insert(&self, token: &str, value: Arc<V>) {
        self.0.insert(Box::from(token), value);
    }
}

/// papaya: a lock-free map with no eviction of its own (a bound would have to be added).
pub struct Papaya<V: Send + Sync + 'static>(pub papaya::HashMap<Box<str>, Arc<V>, Hasher>);

impl<V: Send + Sync + 'static> Papaya<V> {
    pub fn new(capacity: usize) -> Self {
        Papaya(papaya::HashMap::with_capacity_and_hasher(
            capacity,
            Hasher::default(),
        ))
    }
}

impl<V: Send + Sync + 'static> TokenCache<V> for Papaya<V> {
    fn get(&self, token: &str) -> Option<Arc<V>> {
        self.0.pin().get(token).cloned()
    }
    fn insert(&self, token: &str, value: Arc<V>) {
        self.0.pin().insert(Box::from(token), value);
    }
}

/// A 4-way set-associative table of `ArcSwapOption` slots: lock-free and allocation-free reads;
/// an insert into a full set replaces one of its entries.
pub struct Slots<V> {
    sets: Box<[[ArcSwapOption<Slot<V>>; 4]]>,
    hasher: Hasher,
}

pub struct Slot<V> {
    hash: u64,
    token: Box<str>,
    value: Arc<V>,
}

impl<V> Slots<V> {
    pub fn new(capacity: usize) -> Self {
        let sets = capacity.div_ceil(4).next_power_of_two();
        Slots {
            sets: (0..sets).map(|_| Default::default()).collect(),
            hasher: Hasher::default(),
        }
    }

    fn set(&self, hash: u64) -> &[ArcSwapOption<Slot<V>>; 4] {
        &self.sets[(hash as usize) & (self.sets.len() - 1)]
    }
}

impl<V: Send + Sync> TokenCache<V> for Slots<V> {
    fn get(&self, token: &str) -> Option<Arc<V>> {
        let hash = self.hasher.hash_one(token);
        self.set(hash).iter().find_map(|slot| {
            let guard = slot.load();
            guard
                .as_ref()
                .filter(|slot| slot.hash == hash && &*slot.token == token)
                .map(|slot| Arc::clone(&slot.value))
        })
    }
    fn insert(&self, token: &str, value: Arc<V>) {
        let hash = self.hasher.hash_one(token);
        let set = self.set(hash);
        let free = set
            .iter()
            .position(|slot| slot.load().is_none())
            .unwrap_or((hash >> 60) as usize % 4);
        set[free].store(Some(Arc::new(Slot {
            hash,
            token: Box::from(token),
            value,
        })));
    }
}
