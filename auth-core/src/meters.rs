//! What the verifier counts and times, through the `metrics` facade: free until the application
//! installs a recorder (Prometheus, OpenTelemetry), and then a few atomic operations per request.
//!
//! Handles are registered once, when a verifier is built, so the request path neither hashes label
//! sets nor allocates: install the recorder before building the `Verifier` (or `JwtAuth`). Labels
//! are bounded: the configured issuer (a multi-tenant template, never a token's `iss`), fixed
//! outcome words. Names are listed in [`METRIC_NAMES`].

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

/// Every metric this crate (and `auth-actix`) records, for dashboards and tests.
pub const METRIC_NAMES: [&str; 13] = [
    DECISIONS,
    VERIFY_SECONDS,
    JWKS_FETCHES,
    JWKS_KEYS,
    JWKS_LAST_SUCCESS,
    JWKS_UNKNOWN_KID_REFETCHES,
    JWKS_COOLDOWN_REFUSALS,
    VERIFIED_CACHE,
    INTROSPECTIONS,
    INTROSPECTION_CACHE,
    DPOP_PROOFS,
    REVOCATION_STORE_READY,
    KEYS_AGE,
];

/// `auth_decisions_total{issuer, outcome, code, reason}`: one per request authentication decided
/// (recorded by `auth-actix`).
pub const DECISIONS: &str = "auth_decisions_total";
/// `auth_verify_seconds{issuer}`: time to accept a token, cache hits included.
pub const VERIFY_SECONDS: &str = "auth_verify_seconds";
/// `auth_jwks_fetches_total{issuer, result}`: key set fetches, `result` `success` or `failure`.
pub const JWKS_FETCHES: &str = "auth_jwks_fetches_total";
/// `auth_jwks_keys{issuer}`: usable keys in the current set.
pub const JWKS_KEYS: &str = "auth_jwks_keys";
/// `auth_jwks_last_success_timestamp_seconds{issuer}`: when keys were last fetched successfully.
pub const JWKS_LAST_SUCCESS: &str = "auth_jwks_last_success_timestamp_seconds";
/// `auth_jwks_unknown_kid_refetches_total{issuer}`: refetches because a token named an unknown kid.
pub const JWKS_UNKNOWN_KID_REFETCHES: &str = "auth_jwks_unknown_kid_refetches_total";
/// `auth_jwks_cooldown_refusals_total{issuer}`: unknown kids refused without a fetch (cooldown).
pub const JWKS_COOLDOWN_REFUSALS: &str = "auth_jwks_cooldown_refusals_total";
/// `auth_verified_cache_total{result}`: JWTs answered from the verified-token cache (`hit`) or
/// verified in full with the cache on (`miss`); opaque tokens are not counted.
pub const VERIFIED_CACHE: &str = "auth_verified_cache_total";
/// `auth_introspections_total{issuer, result}`: requests' calls to an introspection endpoint,
/// `active`, `inactive`, `unauthorized` (this API's client credentials refused: a setting to fix),
/// `unsupported_token` (the issuer does not introspect such tokens, as some refuse signed JWTs) or
/// `error` (unreachable, timed out, a 5xx: an outage). Startup probes are not counted.
pub const INTROSPECTIONS: &str = "auth_introspections_total";
/// `auth_introspection_cache_total{result}`: introspection cache lookups, `hit` or `miss`.
pub const INTROSPECTION_CACHE: &str = "auth_introspection_cache_total";
/// `auth_dpop_proofs_total{result}`: DPoP proofs checked, `valid`, `invalid`, `replayed`,
/// `nonce_required` (the client is asked for a server nonce) or `unavailable` (the replay store
/// could not remember the proof: Redis unreachable, the in-memory store full, or the client's key
/// over its share).
pub const DPOP_PROOFS: &str = "auth_dpop_proofs_total";
/// `auth_revocation_store_ready`: 1 while shared revocations can be vouched for (loaded, heard
/// from within the heartbeat bound, every announced revocation held), 0 from the moment a shared
/// store is configured until then and whenever that stops; per process.
pub const REVOCATION_STORE_READY: &str = "auth_revocation_store_ready";
/// `auth_jwks_age_seconds{issuer}`: age of the key set in use, updated on each readiness check.
pub const KEYS_AGE: &str = "auth_jwks_age_seconds";

/// Handles for one configured issuer.
pub(crate) struct IssuerMeters {
    pub(crate) label: Arc<str>,
    pub(crate) verify_seconds: Histogram,
    pub(crate) jwks_success: Counter,
    pub(crate) jwks_failure: Counter,
    pub(crate) keys: Gauge,
    pub(crate) last_success: Gauge,
    pub(crate) keys_age: Gauge,
    pub(crate) unknown_kid_refetches: Counter,
    pub(crate) cooldown_refusals: Counter,
    pub(crate) introspection_active: Counter,
    pub(crate) introspection_inactive: Counter,
    pub(crate) introspection_error: Counter,
    pub(crate) introspection_unauthorized: Counter,
    pub(crate) introspection_unsupported: Counter,
}

impl std::fmt::Debug for IssuerMeters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerMeters")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl IssuerMeters {
    pub(crate) fn new(label: &str) -> IssuerMeters {
        let label: Arc<str> = Arc::from(label);
        let issuer = || label.to_string();
        IssuerMeters {
            verify_seconds: histogram!(VERIFY_SECONDS, "issuer" => issuer()),
            jwks_success: counter!(JWKS_FETCHES, "issuer" => issuer(), "result" => "success"),
            jwks_failure: counter!(JWKS_FETCHES, "issuer" => issuer(), "result" => "failure"),
            keys: gauge!(JWKS_KEYS, "issuer" => issuer()),
            last_success: gauge!(JWKS_LAST_SUCCESS, "issuer" => issuer()),
            keys_age: gauge!(KEYS_AGE, "issuer" => issuer()),
            unknown_kid_refetches: counter!(JWKS_UNKNOWN_KID_REFETCHES, "issuer" => issuer()),
            cooldown_refusals: counter!(JWKS_COOLDOWN_REFUSALS, "issuer" => issuer()),
            introspection_active: counter!(
                INTROSPECTIONS, "issuer" => issuer(), "result" => "active"
            ),
            introspection_inactive: counter!(
                INTROSPECTIONS, "issuer" => issuer(), "result" => "inactive"
            ),
            introspection_error: counter!(
                INTROSPECTIONS, "issuer" => issuer(), "result" => "error"
            ),
            introspection_unauthorized: counter!(
                INTROSPECTIONS, "issuer" => issuer(), "result" => "unauthorized"
            ),
            introspection_unsupported: counter!(
                INTROSPECTIONS, "issuer" => issuer(), "result" => "unsupported_token"
            ),
            label,
        }
    }
}

/// Handles without an issuer label.
pub(crate) struct VerifierMeters {
    pub(crate) cache_hit: Counter,
    pub(crate) cache_miss: Counter,
    pub(crate) dpop_valid: Counter,
    pub(crate) dpop_invalid: Counter,
    pub(crate) dpop_replayed: Counter,
    pub(crate) dpop_nonce_required: Counter,
    pub(crate) dpop_unavailable: Counter,
}

impl std::fmt::Debug for VerifierMeters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierMeters").finish_non_exhaustive()
    }
}

impl VerifierMeters {
    pub(crate) fn new() -> VerifierMeters {
        VerifierMeters {
            cache_hit: counter!(VERIFIED_CACHE, "result" => "hit"),
            cache_miss: counter!(VERIFIED_CACHE, "result" => "miss"),
            dpop_valid: counter!(DPOP_PROOFS, "result" => "valid"),
            dpop_invalid: counter!(DPOP_PROOFS, "result" => "invalid"),
            dpop_replayed: counter!(DPOP_PROOFS, "result" => "replayed"),
            dpop_nonce_required: counter!(DPOP_PROOFS, "result" => "nonce_required"),
            dpop_unavailable: counter!(DPOP_PROOFS, "result" => "unavailable"),
        }
    }
}
