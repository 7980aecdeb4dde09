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
    /// Every provider has usable keys, no introspection endpoint refuses this API's credentials
    /// (or, under [`Introspection::all_tokens`](crate::Introspection::all_tokens), its JWTs), and
    /// shared revocations (if any) are loaded.
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
    /// The provider's introspection endpoint, if it introspects.
    pub introspection: Option<IntrospectionHealth>,
}

/// One provider's introspection endpoint, as its last call (the startup probe of
/// [`Verifier::warm_up`](crate::Verifier::warm_up), or a request's) found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntrospectionHealth {
    /// The endpoint, once known (configured, or named by discovery).
    pub endpoint: Option<String>,
    /// How the last call went.
    pub status: IntrospectionStatus,
    /// Under [`Introspection::all_tokens`](crate::Introspection::all_tokens): the issuer refused
    /// to introspect a signed JWT (HTTP 400 `unsupported_token_type`) and has not taken one since,
    /// so every JWT of this provider is refused.
    pub refuses_jwts: bool,
    /// Time since the last call; `None` before the first.
    #[serde(serialize_with = "seconds")]
    pub age: Option<Duration>,
    /// The cause of the last failure (URL and the issuer's answer); `None` once an answer came.
    pub last_error: Option<String>,
}

impl IntrospectionHealth {
    /// Whether the endpoint can decide requests, as far as this API's settings go: its client
    /// credentials are not refused, nor (under `all_tokens`) its JWTs. An endpoint that cannot be
    /// reached counts as serviceable: that is an outage, answered with 503 and retried, which
    /// every instance shares.
    pub fn serviceable(&self) -> bool {
        self.status != IntrospectionStatus::Unauthorized && !self.refuses_jwts
    }
}

/// How an introspection endpoint answered its last call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntrospectionStatus {
    /// Not called yet (no probe, no opaque token).
    Unchecked,
    /// It answered (`active` true or false): the credentials hold.
    Ok,
    /// It refused this API's client credentials (HTTP 401, or 400 `invalid_client` /
    /// `unauthorized_client`): the key file or secret is wrong or no longer registered.
    Unauthorized,
    /// No usable answer: no connection, a timeout, a 5xx, an answer that is not JSON.
    Unreachable,
}

fn seconds<S: serde::Serializer>(age: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match age {
        Some(age) => s.serialize_some(&age.as_secs()),
        None => s.serialize_none(),
    }
}
