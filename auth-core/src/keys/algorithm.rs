//! The asymmetric signature algorithms a verifier may accept.

use std::fmt;

/// A JWS signature algorithm that `auth-core` verifies.
///
/// Only asymmetric algorithms exist here: HMAC (`HS*`) and `none` cannot be configured at all, so a
/// verifier that holds public keys can never be talked into treating one as a shared secret
/// (RFC 8725 §2.1, §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm, in a stable order.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// The name used in the JOSE `alg` header and JWK `alg` member.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Looks an algorithm up by its JOSE name; `None` for anything unsupported, `none` and `HS*`
    /// included.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A small set of algorithms, copied by value so the request path never allocates for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// The empty set.
    pub const EMPTY: AlgorithmSet = AlgorithmSet(0);

    /// Every algorithm this crate verifies.
    pub const ALL: AlgorithmSet = AlgorithmSet::of(&Algorithm::ALL);

    /// RS256, RS384, RS512, PS256, PS384 and PS512: what an RSA key without an `alg` member may
    /// verify.
    pub const RSA: AlgorithmSet = AlgorithmSet::of(&[
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ]);

    /// Builds a set from a slice.
    pub const fn of(algs: &[Algorithm]) -> AlgorithmSet {
        let mut bits = 0;
        let mut i = 0;
        while i < algs.len() {
            bits |= algs[i].bit();
            i += 1;
        }
        AlgorithmSet(bits)
    }

    /// Whether `alg` is in the set.
    pub const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// The algorithms in both sets.
    pub const fn intersection(self, other: AlgorithmSet) -> AlgorithmSet {
        AlgorithmSet(self.0 & other.0)
    }

    pub(crate) const fn bits(self) -> u16 {
        self.0
    }

    /// Whether the set holds nothing.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |alg| self.contains(*alg))
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        AlgorithmSet(iter.into_iter().fold(0, |bits, alg| bits | alg.bit()))
    }
}

impl fmt::Display for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alg) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(alg.as_str())?;
        }
        Ok(())
    }
}

/// Which algorithms a provider's keys may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlgorithmPolicy {
    /// Only these: the algorithms a preset's provider documents, or the application's
    /// `Provider::algorithms`. A key verifies its own algorithm among them.
    Only(AlgorithmSet),
    /// What the issuer advertises: a key's own `alg`, else those of its type that the discovery
    /// document lists (`advertised`), else the type's default (RS256 for RSA, which OpenID Connect
    /// requires issuers to support).
    Advertised,
}

impl AlgorithmPolicy {
    /// What a key of type `by_type` (declaring `declared`) may verify, given the issuer's
    /// `advertised` list.
    pub(crate) fn for_key(
        self,
        by_type: AlgorithmSet,
        declared: Option<Algorithm>,
        advertised: AlgorithmSet,
    ) -> AlgorithmSet {
        let own = match declared {
            Some(alg) => AlgorithmSet::of(&[alg]).intersection(by_type),
            None => by_type,
        };
        match self {
            AlgorithmPolicy::Only(allowed) => own.intersection(allowed),
            AlgorithmPolicy::Advertised if declared.is_some() => own,
            AlgorithmPolicy::Advertised => match own.intersection(advertised) {
                listed if !listed.is_empty() => listed,
                _ if own == AlgorithmSet::RSA => AlgorithmSet::of(&[Algorithm::RS256]),
                _ => own,
            },
        }
    }

    /// Algorithms a token may name before any key is loaded: asking for anything else never causes
    /// a fetch.
    pub(crate) fn candidates(self) -> AlgorithmSet {
        match self {
            AlgorithmPolicy::Only(allowed) => allowed,
            AlgorithmPolicy::Advertised => AlgorithmSet::ALL,
        }
    }
}

impl fmt::Display for AlgorithmPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlgorithmPolicy::Only(allowed) => write!(f, "the allow-list ({allowed})"),
            AlgorithmPolicy::Advertised => f.write_str("what the issuer advertises"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_policy_lets_each_key_verify_only_its_own_algorithm() {
        let rs = AlgorithmSet::of(&[Algorithm::RS256]);
        let ps = AlgorithmSet::of(&[Algorithm::PS256]);
        let es = AlgorithmSet::of(&[Algorithm::ES256]);
        let advertised = AlgorithmPolicy::Advertised;
        assert_eq!(
            advertised.for_key(
                AlgorithmSet::RSA,
                Some(Algorithm::PS256),
                AlgorithmSet::EMPTY
            ),
            ps
        );
        assert_eq!(
            advertised.for_key(AlgorithmSet::RSA, None, ps),
            ps,
            "discovery lists PS256 only"
        );
        assert_eq!(
            advertised.for_key(AlgorithmSet::RSA, None, AlgorithmSet::EMPTY),
            rs,
            "OIDC's default"
        );
        assert_eq!(
            advertised.for_key(es, None, rs),
            es,
            "an EC key has one algorithm"
        );
        assert_eq!(
            advertised.for_key(es, Some(Algorithm::RS256), AlgorithmSet::ALL),
            AlgorithmSet::EMPTY
        );
        let only = AlgorithmPolicy::Only(rs);
        assert_eq!(only.for_key(AlgorithmSet::RSA, None, AlgorithmSet::ALL), rs);
        assert_eq!(
            only.for_key(es, None, AlgorithmSet::ALL),
            AlgorithmSet::EMPTY
        );
        assert_eq!(advertised.candidates(), AlgorithmSet::ALL);
    }

    #[test]
    fn names_round_trip_and_reject_hmac_and_none() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.as_str()), Some(alg));
        }
        for name in ["none", "None", "HS256", "HS384", "HS512", "rs256", ""] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn set_operations() {
        let set = AlgorithmSet::of(&[Algorithm::RS256, Algorithm::EdDSA]);
        assert!(set.contains(Algorithm::RS256));
        assert!(!set.contains(Algorithm::ES256));
        assert_eq!(
            set.intersection(AlgorithmSet::RSA),
            AlgorithmSet::of(&[Algorithm::RS256])
        );
        assert_eq!(set.to_string(), "RS256, EdDSA");
    }
}
