//! The local revocation set, which every request reads: exact (a revocation is found by its kind,
//! issuer and name compared in full, so no hash collision can hide one), bounded by refusing new
//! entries rather than evicting any (a forgotten revocation lets its token back in), and cheap to
//! read (one uncontended read lock on a shard, no allocation).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;

use crate::revocation::entry::Revocation;

/// Locks the set is split over, so revoking never holds up checks of other tokens for long.
const SHARDS: usize = 64;

/// The set is full: nothing in it can be forgotten yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

pub(crate) struct RevocationSet {
    shards: Box<[RwLock<Shard>]>,
    hasher: foldhash::fast::FixedState,
    capacity: usize,
    /// Entries held, every shard together (expired ones count until dropped).
    len: AtomicUsize,
}

/// One shard: the entries, and when each can be dropped, soonest first.
#[derive(Default)]
struct Shard {
    entries: HashTable<Entry>,
    /// `(forget_at, hash)`; an entry whose `until` grew since has a later pair too.
    expiries: BinaryHeap<Reverse<(i64, u64)>>,
}

struct Entry {
    hash: u64,
    revocation: Revocation,
}

impl RevocationSet {
    pub(crate) fn new(capacity: usize) -> RevocationSet {
        RevocationSet {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: foldhash::fast::FixedState::with_seed(crate::revocation::entry::rand_seed()),
            capacity,
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds `revocation`, or strengthens the one it names again (the later `before`, the later
    /// `until`: a revocation never weakens). `Full` when it is new and nothing held has expired at
    /// `now`.
    pub(crate) fn insert(&self, revocation: Revocation, now: i64) -> Result<(), Full> {
        let hash = self.hash(&revocation);
        let mut revocation = Some(revocation);
        for attempt in 0..2 {
            if attempt == 1 {
                // Full counting entries expired in other shards: drop those, then try again.
                self.sweep(now);
            }
            let mut shard = self.write(hash);
            self.sweep_shard(&mut shard, now);
            let Some(new) = revocation.take() else {
                break;
            };
            if let Some(held) = shard.entries.find_mut(hash, |entry| {
                entry.hash == hash && same_names(&entry.revocation, &new)
            }) {
                let until = held.revocation.forget_at();
                merge(&mut held.revocation, new);
                let grown = held.revocation.forget_at();
                if grown > until {
                    shard.expiries.push(Reverse((grown, hash)));
                }
                return Ok(());
            }
            let reserved = self
                .len
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |len| {
                    (len < self.capacity).then_some(len + 1)
                });
            if reserved.is_err() {
                revocation = Some(new);
                continue;
            }
            shard.expiries.push(Reverse((new.forget_at(), hash)));
            shard.entries.insert_unique(
                hash,
                Entry {
                    hash,
                    revocation: new,
                },
                |entry| entry.hash,
            );
            return Ok(());
        }
        Err(Full)
    }

    /// Whether `revocation` would be taken now: it is held already, or there is room.
    #[cfg(feature = "redis")]
    pub(crate) fn has_room_for(&self, revocation: &Revocation, now: i64) -> bool {
        let hash = self.hash(revocation);
        let held = self
            .read(hash)
            .entries
            .find(hash, |entry| {
                entry.hash == hash && same_names(&entry.revocation, revocation)
            })
            .is_some();
        if held || self.len() < self.capacity {
            return true;
        }
        self.sweep(now);
        self.len() < self.capacity
    }

    /// Every revocation held (expired ones not yet dropped included): what a mirror writes back
    /// to a store that lost its keys.
    #[cfg(feature = "redis")]
    pub(crate) fn all(&self) -> Vec<Revocation> {
        let mut all = Vec::with_capacity(self.len());
        for shard in &self.shards {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            all.extend(shard.entries.iter().map(|entry| entry.revocation.clone()));
        }
        all
    }

    /// Drops every entry that can be forgotten at `now`.
    pub(crate) fn sweep(&self, now: i64) {
        for shard in &self.shards {
            self.sweep_shard(
                &mut shard.write().unwrap_or_else(PoisonError::into_inner),
                now,
            );
        }
    }

    fn sweep_shard(&self, shard: &mut Shard, now: i64) {
        let mut dropped = 0;
        while let Some(Reverse((forget_at, hash))) = shard.expiries.peek().copied()
            && forget_at <= now
        {
            shard.expiries.pop();
            // The entry may have been strengthened since (a later `until` keeps it).
            if let Ok(entry) = shard.entries.find_entry(hash, |entry| {
                entry.hash == hash && entry.revocation.forget_at() <= now
            }) {
                entry.remove();
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.len.fetch_sub(dropped, Ordering::AcqRel);
        }
    }

    /// Whether the token `jti` of `issuer` is revoked.
    pub(crate) fn token_revoked(&self, issuer: &str, jti: &str) -> bool {
        let hash = self.hasher.hash_one(('t', issuer, jti));
        self.read(hash)
            .entries
            .find(hash, |entry| {
                entry.hash == hash
                    && matches!(&entry.revocation, Revocation::Token { issuer: i, jti: j, .. }
                        if i == issuer && j == jti)
            })
            .is_some()
    }

    /// Before when the tokens of `subject` from `issuer` are revoked, if they are.
    pub(crate) fn subject_revoked_before(&self, issuer: &str, subject: &str) -> Option<i64> {
        let hash = self.hasher.hash_one(('s', issuer, subject));
        let shard = self.read(hash);
        let entry = shard.entries.find(hash, |entry| {
            entry.hash == hash
                && matches!(&entry.revocation, Revocation::Subject { issuer: i, subject: s, .. }
                    if i == issuer && s == subject)
        })?;
        match &entry.revocation {
            Revocation::Subject { before, .. } => Some(*before),
            Revocation::Token { .. } => None,
        }
    }

    fn hash(&self, revocation: &Revocation) -> u64 {
        match revocation {
            Revocation::Token { issuer, jti, .. } => self.hasher.hash_one(('t', issuer, jti)),
            Revocation::Subject {
                issuer, subject, ..
            } => self.hasher.hash_one(('s', issuer, subject)),
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // Bits the table does not use to place entries, so each shard's table stays uniform.
        &self.shards[usize::try_from((hash >> 40) % SHARDS as u64).unwrap_or_default()]
    }

    fn read(&self, hash: u64) -> RwLockReadGuard<'_, Shard> {
        // Nothing panics while a shard is locked; a poisoned lock still holds a sound set.
        self.shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, hash: u64) -> RwLockWriteGuard<'_, Shard> {
        self.shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn same_names(a: &Revocation, b: &Revocation) -> bool {
    match (a, b) {
        (
            Revocation::Token { issuer, jti, .. },
            Revocation::Token {
                issuer: i, jti: j, ..
            },
        ) => issuer == i && jti == j,
        (
            Revocation::Subject {
                issuer, subject, ..
            },
            Revocation::Subject {
                issuer: i,
                subject: s,
                ..
            },
        ) => issuer == i && subject == s,
        _ => false,
    }
}

/// Folds `new` into `held` (same names): the later of each date.
fn merge(held: &mut Revocation, new: Revocation) {
    match (held, new) {
        (Revocation::Token { until, .. }, Revocation::Token { until: later, .. }) => {
            *until = (*until).max(later);
        }
        (
            Revocation::Subject { before, until, .. },
            Revocation::Subject {
                before: later_before,
                until: later_until,
                ..
            },
        ) => {
            *before = (*before).max(later_before);
            *until = (*until).max(later_until);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long after its `until` a revocation is kept: the largest leeway a verifier gives.
    const LEEWAY: i64 = crate::provider::MAX_LEEWAY.as_secs() as i64;

    fn token(jti: &str, until: i64) -> Revocation {
        Revocation::Token {
            issuer: "https://issuer.example".to_owned(),
            jti: jti.to_owned(),
            until,
        }
    }

    fn subject(name: &str, before: i64, until: i64) -> Revocation {
        Revocation::Subject {
            issuer: "https://issuer.example".to_owned(),
            subject: name.to_owned(),
            before,
            until,
        }
    }

    #[test]
    fn a_full_set_refuses_a_newcomer_and_keeps_everything_it_holds() {
        let set = RevocationSet::new(3);
        for jti in ["a", "b", "c"] {
            set.insert(token(jti, 100), 0).unwrap();
        }
        assert_eq!(set.insert(token("d", 100), 0), Err(Full));
        assert_eq!(set.insert(subject("ada", 5, 100), 0), Err(Full));
        for jti in ["a", "b", "c"] {
            assert!(set.token_revoked("https://issuer.example", jti), "{jti}");
        }
        assert!(!set.token_revoked("https://issuer.example", "d"));
        // What it holds already still strengthens without room.
        set.insert(token("a", 200), 0).unwrap();
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn room_comes_back_only_as_entries_expire_whichever_shard_they_are_in() {
        let set = RevocationSet::new(2);
        set.insert(token("short", 10), 0).unwrap();
        set.insert(token("long", 100), 0).unwrap();
        // Its token expired at 10, but a verifier may accept it for the leeway after that.
        assert_eq!(set.insert(token("new", 100), 10 + LEEWAY - 1), Err(Full));
        // Then "short" can be forgotten; "new" most likely sits in another shard.
        set.insert(token("new", 100), 10 + LEEWAY).unwrap();
        assert!(!set.token_revoked("https://issuer.example", "short"));
        assert!(set.token_revoked("https://issuer.example", "long"));
        assert!(set.token_revoked("https://issuer.example", "new"));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn names_are_compared_in_full_and_a_revocation_never_weakens() {
        let set = RevocationSet::new(10);
        set.insert(subject("ada", 50, 100), 0).unwrap();
        assert_eq!(
            set.subject_revoked_before("https://issuer.example", "ada"),
            Some(50)
        );
        assert_eq!(
            set.subject_revoked_before("https://other.example", "ada"),
            None
        );
        assert!(!set.token_revoked("https://issuer.example", "ada"));
        // An older sign-out arriving late does not shorten the newer one.
        set.insert(subject("ada", 40, 90), 0).unwrap();
        assert_eq!(
            set.subject_revoked_before("https://issuer.example", "ada"),
            Some(50)
        );
        set.insert(subject("ada", 70, 120), 0).unwrap();
        // Its first expiry passes, the strengthened entry stays until its own.
        set.sweep(100 + LEEWAY);
        assert_eq!(
            set.subject_revoked_before("https://issuer.example", "ada"),
            Some(70)
        );
        set.sweep(120 + LEEWAY - 1);
        assert_eq!(
            set.subject_revoked_before("https://issuer.example", "ada"),
            Some(70),
            "kept through the largest leeway after its tokens' last exp"
        );
        set.sweep(120 + LEEWAY);
        assert_eq!(
            set.subject_revoked_before("https://issuer.example", "ada"),
            None
        );
        assert_eq!(set.len(), 0);
    }
}
