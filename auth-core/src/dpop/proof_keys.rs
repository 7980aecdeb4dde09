//! Proof keys already parsed, so a client that signs every proof with the same key pays for
//! parsing that key (JSON, base64url, the curve point's validation in aws-lc) and for its
//! thumbprint once, not on every request.
//!
//! Keyed by the `jwk` member's exact text and the proof's `alg`: an entry answers only for the
//! very bytes it was parsed from, so no two JWKs that differ in anything (a member that changes
//! how the key may be used, such as `use`, `key_ops` or `alg`, or only whitespace) share an
//! entry, and what the entry holds is exactly what parsing those bytes again would give. The
//! private-member check runs before any lookup, and an entry is added only after the proof's
//! signature verified with the key and the key's thumbprint matched the `cnf.jkt` of a verified
//! token: filling the table takes tokens the issuer bound to those keys.
//!
//! The table is set-associative: a fixed number of slots, [`WAYS`] per set, each an
//! `ArcSwapOption`, so a lookup takes no lock (it loads at most [`WAYS`] pointers and compares
//! the text in full) and memory is bounded by the slot count times the largest entry (a JWK of at
//! most [`MAX_CACHED_JWK_LEN`] bytes and its parsed key). A full set replaces an entry not used
//! since the set last had to make room (a second chance, as in CLOCK), so a flood of new keys
//! pushes out idle keys before busy ones. A key pushed out is parsed again on its next proof: an
//! evicted client pays what every proof paid before this cache, never more. The set a JWK falls
//! in is chosen by a hash seeded per process, so a client cannot aim at another's set.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arc_swap::ArcSwapOption;

use crate::keys::algorithm::Algorithm;
use crate::keys::jwks::VerifyingKey;

/// Proof keys held at once unless set otherwise
/// ([`Dpop::key_cache`](crate::Dpop::key_cache)).
pub const DEFAULT_PROOF_KEY_CACHE: usize = 4096;

/// Slots per set: a lookup compares at most this many entries.
const WAYS: usize = 4;

/// JWKs longer than this are parsed on every proof, never held: an RSA-4096 key's JWK is about
/// 720 bytes, while anything longer carries members no key needs, which would only let one key
/// take more memory.
pub(crate) const MAX_CACHED_JWK_LEN: usize = 1024;

/// A proof key parsed from one exact `jwk` text, for one algorithm.
pub(crate) struct ProofKey {
    alg: Algorithm,
    jwk: Box<str>,
    pub(crate) key: VerifyingKey,
    /// RFC 7638 thumbprint of the key, as bound tokens carry it in `cnf.jkt`.
    pub(crate) thumbprint: Box<str>,
    /// Set by a hit, cleared when the set looks for room: an entry used since then is spared.
    used: AtomicBool,
}

impl ProofKey {
    pub(crate) fn new(
        alg: Algorithm,
        jwk: &str,
        key: VerifyingKey,
        thumbprint: String,
    ) -> ProofKey {
        ProofKey {
            alg,
            jwk: Box::from(jwk),
            key,
            thumbprint: thumbprint.into_boxed_str(),
            used: AtomicBool::new(false),
        }
    }

    fn is_for(&self, alg: Algorithm, jwk: &str) -> bool {
        self.alg == alg && *self.jwk == *jwk
    }
}

/// The table of parsed proof keys, shared by every clone of a [`Dpop`](crate::Dpop) (and so by
/// every worker of a server).
pub(crate) struct ProofKeys {
    slots: Box<[ArcSwapOption<ProofKey>]>,
    /// `sets - 1`; the number of sets is a power of two.
    set_mask: usize,
    hasher: foldhash::quality::RandomState,
    /// Which way a full set whose entries were all used gives up next.
    hand: AtomicUsize,
}

impl std::fmt::Debug for ProofKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKeys")
            .field("slots", &self.slots.len())
            .field("held", &self.len())
            .finish()
    }
}

impl ProofKeys {
    /// A table of about `capacity` keys (rounded up to whole sets, a power of two of them); `0`
    /// holds none.
    pub(crate) fn new(capacity: usize) -> ProofKeys {
        let sets = if capacity == 0 {
            0
        } else {
            capacity.div_ceil(WAYS).next_power_of_two()
        };
        ProofKeys {
            slots: (0..sets * WAYS).map(|_| ArcSwapOption::empty()).collect(),
            set_mask: sets.saturating_sub(1),
            hasher: foldhash::quality::RandomState::default(),
            hand: AtomicUsize::new(0),
        }
    }

    fn set(&self, jwk: &str) -> &[ArcSwapOption<ProofKey>] {
        let start = (self.hasher.hash_one(jwk) as usize & self.set_mask) * WAYS;
        self.slots.get(start..start + WAYS).unwrap_or_default()
    }

    /// The key parsed from exactly `jwk` for `alg`, when held.
    pub(crate) fn get(&self, alg: Algorithm, jwk: &str) -> Option<Arc<ProofKey>> {
        for slot in self.set(jwk) {
            let held = slot.load();
            if let Some(entry) = held.as_ref()
                && entry.is_for(alg, jwk)
            {
                // Only a first use since the last sweep writes, so a busy entry's cache line stays
                // shared between cores.
                if !entry.used.load(Ordering::Relaxed) {
                    entry.used.store(true, Ordering::Relaxed);
                }
                return Some(Arc::clone(entry));
            }
        }
        None
    }

    /// Holds `entry`: in an empty slot of its set, else in place of one not used since the set
    /// last made room, else in place of the next by turn. JWKs over [`MAX_CACHED_JWK_LEN`] are
    /// not held.
    pub(crate) fn insert(&self, entry: Arc<ProofKey>) {
        if entry.jwk.len() > MAX_CACHED_JWK_LEN {
            return;
        }
        let set = self.set(&entry.jwk);
        if set.is_empty() {
            return;
        }
        let mut idle = None;
        for (way, slot) in set.iter().enumerate() {
            let held = slot.load();
            match held.as_ref() {
                None => {
                    slot.store(Some(entry));
                    return;
                }
                // Another request parsed the same key at the same time.
                Some(other) if other.is_for(entry.alg, &entry.jwk) => return,
                Some(other) => {
                    if !other.used.swap(false, Ordering::Relaxed) && idle.is_none() {
                        idle = Some(way);
                    }
                }
            }
        }
        let way = idle.unwrap_or_else(|| self.hand.fetch_add(1, Ordering::Relaxed) % WAYS);
        if let Some(slot) = set.get(way) {
            slot.store(Some(entry));
        }
    }

    /// Keys held now.
    pub(crate) fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.load().is_some())
            .count()
    }

    /// Slots in the table: the most keys it can hold.
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::algorithm::{AlgorithmPolicy, AlgorithmSet};
    use crate::keys::jwks;

    /// An entry for an Ed25519 key whose JWK is told apart by `kid` (so each is other text).
    fn entry(kid: usize) -> Arc<ProofKey> {
        let jwk = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}"#
        );
        let raw = serde_json::value::RawValue::from_string(jwk.clone()).unwrap();
        let policy = AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::EdDSA]));
        let key = jwks::parse_proof_key(&raw, policy).unwrap();
        Arc::new(ProofKey::new(
            Algorithm::EdDSA,
            &jwk,
            key,
            format!("t{kid}"),
        ))
    }

    #[test]
    fn a_key_is_found_by_its_exact_text_and_algorithm_only() {
        let keys = ProofKeys::new(16);
        let held = entry(1);
        assert!(keys.get(Algorithm::EdDSA, &held.jwk).is_none());
        keys.insert(Arc::clone(&held));
        let found = keys.get(Algorithm::EdDSA, &held.jwk).unwrap();
        assert!(Arc::ptr_eq(&found, &held));
        assert!(
            keys.get(Algorithm::ES256, &held.jwk).is_none(),
            "another alg"
        );
        let spaced = held.jwk.replacen(':', ": ", 1);
        assert!(
            keys.get(Algorithm::EdDSA, &spaced).is_none(),
            "other whitespace"
        );
        assert!(keys.get(Algorithm::EdDSA, &entry(2).jwk).is_none());
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn the_table_never_holds_more_than_its_slots() {
        let keys = ProofKeys::new(10);
        // Rounded up to whole sets, a power of two of them: 4 sets of 4.
        assert_eq!(keys.slots(), 16);
        for kid in 0..500 {
            keys.insert(entry(kid));
            assert!(keys.len() <= 16);
        }
        assert!(keys.len() > 4, "every set is used: {}", keys.len());
        let none = ProofKeys::new(0);
        none.insert(entry(1));
        assert_eq!(none.len(), 0);
        assert!(none.get(Algorithm::EdDSA, &entry(1).jwk).is_none());
    }

    #[test]
    fn a_key_in_use_outlives_a_flood_of_new_keys_and_an_idle_one_does_not() {
        // One set of four ways: every key competes for the same slots.
        let keys = ProofKeys::new(4);
        let busy = entry(0);
        let idle = entry(1);
        keys.insert(Arc::clone(&busy));
        keys.insert(Arc::clone(&idle));
        for kid in 2..200 {
            assert!(
                keys.get(Algorithm::EdDSA, &busy.jwk).is_some(),
                "flood key {kid}"
            );
            keys.insert(entry(kid));
        }
        assert!(keys.get(Algorithm::EdDSA, &busy.jwk).is_some());
        assert!(keys.get(Algorithm::EdDSA, &idle.jwk).is_none());
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn a_long_jwk_is_not_held() {
        let keys = ProofKeys::new(16);
        let long = entry(0);
        let padded = format!(
            "{}{}",
            &long.jwk[..long.jwk.len() - 1],
            ",\"pad\":\"".to_owned()
        );
        let padded = format!("{padded}{}\"}}", "p".repeat(MAX_CACHED_JWK_LEN));
        let raw = serde_json::value::RawValue::from_string(padded.clone()).unwrap();
        let policy = AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::EdDSA]));
        let key = jwks::parse_proof_key(&raw, policy).unwrap();
        keys.insert(Arc::new(ProofKey::new(
            Algorithm::EdDSA,
            &padded,
            key,
            "t".into(),
        )));
        assert_eq!(keys.len(), 0);
    }
}
