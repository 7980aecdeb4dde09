//! One revocation: a token by its `jti`, or every token of a subject issued before a time, and
//! how long it must be kept.

use serde::{Deserialize, Serialize};

use crate::limits::MAX_LEEWAY;
use crate::token::date;

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Revocation {
    /// The token with this `jti` from this issuer, until it expires.
    Token {
        issuer: String,
        jti: String,
        until: i64,
    },
    /// Every token of this subject from this issuer issued (`iat`) before `before`.
    Subject {
        issuer: String,
        subject: String,
        before: i64,
        until: i64,
    },
}

impl Revocation {
    /// The latest `exp` of a token it revokes (seconds since the epoch).
    pub(crate) fn until(&self) -> i64 {
        match self {
            Revocation::Token { until, .. } | Revocation::Subject { until, .. } => *until,
        }
    }

    /// When the revocation can be forgotten: once every token it names is refused as expired,
    /// whatever leeway a verifier gives ([`MAX_LEEWAY`](crate::limits::MAX_LEEWAY) at most).
    pub(crate) fn forget_at(&self) -> i64 {
        self.until()
            .saturating_add(MAX_LEEWAY.as_secs().cast_signed())
    }

    /// The same revocation with its dates no later than any token can name (the year 10000), so
    /// every store holds them exactly.
    pub(crate) fn clamped(mut self) -> Revocation {
        let latest = date::LATEST_DATE + 1;
        match &mut self {
            Revocation::Token { until, .. } => *until = (*until).min(latest),
            Revocation::Subject { before, until, .. } => {
                *before = (*before).min(latest);
                *until = (*until).min(latest);
            }
        }
        self
    }
}

/// Why a revocation could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revocation not recorded: {0}")]
pub struct RevocationError(pub(crate) String);

/// A random seed for the sets' hashers.
pub(crate) fn rand_seed() -> u64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut seed = [0u8; 8];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut seed);
    u64::from_le_bytes(seed)
}
