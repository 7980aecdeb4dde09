//! Readiness: whether a verifier can decide requests now, for an application's `/readyz`.
//!
//! Liveness never depends on the identity provider: an API whose issuer is down still serves its
//! public routes and answers 503 on protected ones, so restarting it would help nobody. Readiness
//! may (a load balancer can send traffic elsewhere until keys arrive).

use std::time::Duration;

use serde::Serialize;

/// How a verifier stands; serialises to JSON for a `/readyz` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Every provider has usable keys, and shared revocations (if any) are loaded.
    pub ready: bool,
    /// Each provider, in the order given.
    pub issuers: Vec<IssuerHealth>,
    /// Whether shared revocations are loaded; `None` without revocations.
    pub revocations_loaded: Option<bool>,
}

/// One provider's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerHealth {
    /// The configured issuer (a template for multi-tenant providers).
    pub issuer: String,
    /// Keys are loaded and not past the stale limit.
    pub usable: bool,
    /// Usable keys in the set.
    pub keys: usize,
    /// Time since the keys were fetched; `None` before the first success.
    #[serde(serialize_with = "seconds")]
    pub age: Option<Duration>,
    /// The last fetch failure since then, if any (URL and cause).
    pub last_error: Option<String>,
}

fn seconds<S: serde::Serializer>(age: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match age {
        Some(age) => s.serialize_some(&age.as_secs()),
        None => s.serialize_none(),
    }
}
