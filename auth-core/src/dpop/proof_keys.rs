//! Proof keys already parsed, so a client that signs every proof with the same key pays for
//! parsing that key (base64url, the curve point's or modulus's validation in aws-lc) once, not on
//! every request.
//!
//! Keyed by the key's RFC 7638 thumbprint (the SHA-256 of its required members, computed for every
//! proof anyway to compare with the token's `cnf.jkt`) and the proof's `alg`. Every text that
//! writes the same key (other whitespace, member order, `kid`, escapes) falls on the same entry, so
//! one bound token holds at most one entry per algorithm, whatever its client sends. An entry
//! holds only what those required members and `alg` decide: the parsed key for that one algorithm
//! (`kty` and `crv` are among the hashed members, so they match the entry's by construction).
//! What else a JWK says (private members, `use`, `key_ops`, its own `alg`, member types) is
//! checked on every proof before any lookup, exactly as parsing would check it. An entry is added
//! only after a whole proof check accepted a proof signed with the key (signature, binding to the
//! `cnf.jkt` of a verified token, replay store): filling the table takes tokens the issuer bound
//! to those keys, one entry each.
//!
//! The table is set-associative: `n` slots rounded up to a whole set of [`WAYS`], each an
//! `ArcSwapOption`, so a lookup takes no lock and no reference count (it borrows at most [`WAYS`]
//! pointers and compares 32 bytes and the algorithm) and memory is bounded by the slot count
//! times the largest entry (a key from a JWK of at most [`MAX_CACHED_JWK_LEN`] bytes). A full set
//! replaces an entry not used since the set last had to make room (a second chance, as in CLOCK),
//! so a flood of new keys pushes out idle keys before busy ones. A key pushed out is parsed again
//! on its next proof: an evicted client pays what every proof paid before this cache, never more.
//! The set a key falls in is chosen by a hash of its thumbprint seeded per process, so a client
//! cannot aim at another's set.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arc_swap::ArcSwapOption;

use crate::keys::algorithm::Algorithm;
use crate::keys::jwks::VerifyingKey;

/// Proof keys held at once unless set otherwise
/// ([`Dpop::key_cache`](crate::Dpop::key_cache)).
pub const DEFAULT_PROOF_KEY_CACHE: usize = 4096;

/// Most proof keys [`Dpop::key_cache`](crate::Dpop::key_cache) accepts: 1,048,576 (at most about
/// 2.5 GiB); a larger table is refused with a `ConfigError` rather than built.
pub const MAX_PROOF_KEY_CACHE: usize = 1 << 20;

/// Slots per set: a lookup compares at most this many entries.
const WAYS: usize = 4;

/// Keys whose JWK is longer than this are parsed on every proof, never held: an RSA-4096 key's JWK
/// is about 720 bytes, and a larger modulus would only let one key take more memory.
pub(crate) const MAX_CACHED_JWK_LEN: usize = 1024;

/// A proof key parsed for one algorithm, held by its thumbprint.
pub(crate) struct ProofKey {
    alg: Algorithm,
    /// SHA-256 of the key's RFC 7638 canonical members.
    thumbprint: [u8; 32],
    key: VerifyingKey,
    /// Set by a hit, cleared when the set looks for room: an entry used since then is spared.
    used: AtomicBool,
}

impl ProofKey {
    /// `key`, parsed for `alg` from a JWK whose RFC 7638 thumbprint digest is `thumbprint`.
    pub(crate) fn new(alg: Algorithm, thumbprint: [u8; 32], key: VerifyingKey) -> ProofKey {
        ProofKey {
            alg,
            thumbprint,
            key,
            used: AtomicBool::new(false),
        }
    }

    /// The parsed key.
    pub(crate) fn key(&self) -> &VerifyingKey {
        &self.key
    }

    fn is_for(&self, alg: Algorithm, thumbprint: &[u8; 32]) -> bool {
        self.alg == alg && self.thumbprint == *thumbprint
    }
}

/// The table of parsed proof keys, shared by every clone of a [`Dpop`](crate::Dpop) (and so by
/// every worker of a server).
pub(crate) struct ProofKeys {
    slots: Box<[ArcSwapOption<ProofKey>]>,
    /// Number of sets, `slots.len() / WAYS`; any number, not only a power of two.
    sets: usize,
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
    /// A table of `capacity` keys rounded up to a whole set of [`WAYS`] (at most `WAYS - 1` more);
    /// `0` holds none. The caller keeps `capacity` within [`MAX_PROOF_KEY_CACHE`].
    pub(crate) fn new(capacity: usize) -> ProofKeys {
        let sets = capacity.min(MAX_PROOF_KEY_CACHE).div_ceil(WAYS);
        ProofKeys {
            slots: (0..sets * WAYS).map(|_| ArcSwapOption::empty()).collect(),
            sets,
            hasher: foldhash::quality::RandomState::default(),
            hand: AtomicUsize::new(0),
        }
    }

    fn set(&self, thumbprint: &[u8; 32]) -> &[ArcSwapOption<ProofKey>] {
        // Multiply-shift maps the 64-bit hash onto `0..sets` evenly for any number of sets.
        let hash = u128::from(self.hasher.hash_one(thumbprint));
        let set = usize::try_from((hash * self.sets as u128) >> 64).unwrap_or_default();
        let start = set * WAYS;
        self.slots.get(start..start + WAYS).unwrap_or_default()
    }

    /// `verify` applied to the key held for `alg` and `thumbprint`, borrowed for the call (no
    /// reference count is written, so a busy key's entry stays shared between cores); `None` when
    /// no such key is held.
    pub(crate) fn with_key<R>(
        &self,
        alg: Algorithm,
        thumbprint: &[u8; 32],
        verify: impl FnOnce(&VerifyingKey) -> R,
    ) -> Option<R> {
        for slot in self.set(thumbprint) {
            let held = slot.load();
            if let Some(entry) = held.as_ref()
                && entry.is_for(alg, thumbprint)
            {
                // Only a first use since the last sweep writes, for the same reason.
                if !entry.used.load(Ordering::Relaxed) {
                    entry.used.store(true, Ordering::Relaxed);
                }
                return Some(verify(&entry.key));
            }
        }
        None
    }

    /// Holds `entry`, parsed from a JWK of `jwk_len` bytes: in an empty slot of its set, else in
    /// place of one not used since the set last made room, else in place of the next by turn.
    /// Keys from JWKs over [`MAX_CACHED_JWK_LEN`] are not held.
    pub(crate) fn insert(&self, entry: ProofKey, jwk_len: usize) {
        if jwk_len > MAX_CACHED_JWK_LEN {
            return;
        }
        let set = self.set(&entry.thumbprint);
        if set.is_empty() {
            return;
        }
        let mut idle = None;
        for (way, slot) in set.iter().enumerate() {
            let held = slot.load();
            match held.as_ref() {
                None => {
                    slot.store(Some(Arc::new(entry)));
                    return;
                }
                // Another request parsed the same key at the same time.
                Some(other) if other.is_for(entry.alg, &entry.thumbprint) => return,
                Some(other) => {
                    if !other.used.swap(false, Ordering::Relaxed) && idle.is_none() {
                        idle = Some(way);
                    }
                }
            }
        }
        let way = idle.unwrap_or_else(|| self.hand.fetch_add(1, Ordering::Relaxed) % WAYS);
        if let Some(slot) = set.get(way) {
            slot.store(Some(Arc::new(entry)));
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

    /// An entry for one Ed25519 key, held under the made-up thumbprint `[n; 32]`.
    fn entry(n: u8) -> ProofKey {
        let jwk =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let raw = serde_json::value::RawValue::from_string(jwk.into()).unwrap();
        let policy = AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::EdDSA]));
        let key = jwks::parse_proof_key(&raw, policy).unwrap();
        ProofKey::new(Algorithm::EdDSA, [n; 32], key)
    }

    fn held(keys: &ProofKeys, n: u8) -> bool {
        keys.with_key(Algorithm::EdDSA, &[n; 32], |_| ()).is_some()
    }

    #[test]
    fn a_key_is_found_by_its_thumbprint_and_algorithm_only() {
        let keys = ProofKeys::new(16);
        assert!(!held(&keys, 1));
        keys.insert(entry(1), 100);
        assert!(held(&keys, 1));
        assert!(
            keys.with_key(Algorithm::ES256, &[1; 32], |_| ()).is_none(),
            "another alg"
        );
        assert!(!held(&keys, 2));
        keys.insert(entry(1), 100);
        assert_eq!(keys.len(), 1, "the same key again is not another entry");
    }

    #[test]
    fn the_table_holds_its_size_rounded_up_to_a_whole_set_only() {
        for (asked, slots) in [(10, 12), (4100, 4100), (4101, 4104), (1, 4), (0, 0)] {
            assert_eq!(ProofKeys::new(asked).slots(), slots, "{asked}");
        }
        let keys = ProofKeys::new(10);
        for n in 0..=255 {
            keys.insert(entry(n), 100);
            assert!(keys.len() <= 12);
        }
        assert!(keys.len() > 4, "every set is used: {}", keys.len());
        let none = ProofKeys::new(0);
        none.insert(entry(1), 100);
        assert_eq!(none.len(), 0);
        assert!(!held(&none, 1));
    }

    #[test]
    fn a_key_in_use_outlives_a_flood_of_new_keys_and_an_idle_one_does_not() {
        // One set of four ways: every key competes for the same slots.
        let keys = ProofKeys::new(4);
        keys.insert(entry(0), 100);
        keys.insert(entry(1), 100);
        for n in 2..200 {
            assert!(held(&keys, 0), "flood key {n}");
            keys.insert(entry(n), 100);
        }
        assert!(held(&keys, 0));
        assert!(!held(&keys, 1));
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn a_key_from_a_long_jwk_is_not_held() {
        let keys = ProofKeys::new(16);
        keys.insert(entry(0), MAX_CACHED_JWK_LEN + 1);
        assert_eq!(keys.len(), 0);
        keys.insert(entry(0), MAX_CACHED_JWK_LEN);
        assert_eq!(keys.len(), 1);
    }
}
