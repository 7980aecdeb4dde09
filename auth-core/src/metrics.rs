//! What the verifier counts and times, through the `metrics` facade: free until the application
//! installs a recorder (Prometheus, OpenTelemetry), and then a few atomic operations per request.
//!
//! Each handle is registered with the recorder on its first use once a recorder is installed
//! ([`LazyMeter`]), so the order does not matter: a recorder installed after the `Verifier` (or
//! `JwtAuth`) is built, or after its keys were first fetched, still sees every series, and after
//! that first use the request path neither hashes label sets nor allocates. Labels are bounded:
//! the configured issuer (a multi-tenant template, never a token's `iss`), fixed outcome words.
//! Names are listed in [`METRIC_NAMES`]; each name's constant documents its labels.

use std::sync::{Arc, OnceLock};

use ::metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder};

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

/// A metric handle registered on first use, with whatever recorder is installed then.
///
/// Handles bind to the recorder present when they are registered, and the facade hands out no-op
/// handles while none is installed: registering when a verifier is built made every series of a
/// verifier built before the recorder silently vanish (while refusals, registered per request,
/// still counted). Until a recorder is installed a use keeps nothing, so the first use after it
/// registers; from then on a use is one atomic load before the handle's own work.
///
/// Public for `auth-actix` only; not part of the API.
#[doc(hidden)]
pub struct LazyMeter<H> {
    key: Key,
    handle: OnceLock<H>,
}

/// A counter registered on first use; see [`LazyMeter`].
#[doc(hidden)]
pub type LazyCounter = LazyMeter<Counter>;
/// A gauge registered on first use; see [`LazyMeter`].
pub(crate) type LazyGauge = LazyMeter<Gauge>;
/// A histogram registered on first use; see [`LazyMeter`].
pub(crate) type LazyHistogram = LazyMeter<Histogram>;

/// What the facade's macros pass along: this crate's target, no finer level.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl<H> LazyMeter<H> {
    /// The handle for metric `name` with `labels`, not registered yet.
    pub fn new(
        name: &'static str,
        labels: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Self {
        let labels: Vec<Label> = labels
            .into_iter()
            .map(|(key, value)| Label::new(key, value))
            .collect();
        LazyMeter {
            key: Key::from_parts(name, labels),
            handle: OnceLock::new(),
        }
    }

    /// Runs `apply` on the registered handle, registering it first if a recorder is installed.
    fn with(&self, register: fn(&dyn Recorder, &Key) -> H, apply: impl FnOnce(&H)) {
        if let Some(handle) = self.handle.get() {
            return apply(handle);
        }
        metrics::with_recorder(|recorder| {
            // The facade's stand-in while no recorder is installed is `NoopRecorder`, a unit
            // struct; a handle it gives would stay a no-op forever, so it is used once and not
            // kept. (A recorder of zero size that does record would only be asked on every use.)
            if std::mem::size_of_val(recorder) == 0 {
                apply(&register(recorder, &self.key));
            } else {
                apply(self.handle.get_or_init(|| register(recorder, &self.key)));
            }
        });
    }
}

impl LazyMeter<Counter> {
    /// Adds `value` to the counter.
    pub fn increment(&self, value: u64) {
        self.with(
            |recorder, key| recorder.register_counter(key, &METADATA),
            |counter| counter.increment(value),
        );
    }
}

impl LazyMeter<Gauge> {
    /// Sets the gauge.
    pub(crate) fn set(&self, value: f64) {
        self.with(
            |recorder, key| recorder.register_gauge(key, &METADATA),
            |gauge| gauge.set(value),
        );
    }
}

impl LazyMeter<Histogram> {
    /// Records one sample (seconds, for a `std::time::Duration`).
    pub(crate) fn record(&self, value: impl metrics::IntoF64) {
        let value = value.into_f64();
        self.with(
            |recorder, key| recorder.register_histogram(key, &METADATA),
            |histogram| histogram.record(value),
        );
    }
}

impl<H> std::fmt::Debug for LazyMeter<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyMeter")
            .field("key", &self.key)
            .field("registered", &self.handle.get().is_some())
            .finish()
    }
}

/// Handles for one configured issuer.
pub(crate) struct IssuerMeters {
    pub(crate) label: Arc<str>,
    pub(crate) verify_seconds: LazyHistogram,
    pub(crate) jwks_success: LazyCounter,
    pub(crate) jwks_failure: LazyCounter,
    pub(crate) keys: LazyGauge,
    pub(crate) last_success: LazyGauge,
    pub(crate) keys_age: LazyGauge,
    pub(crate) unknown_kid_refetches: LazyCounter,
    pub(crate) cooldown_refusals: LazyCounter,
    pub(crate) introspection_active: LazyCounter,
    pub(crate) introspection_inactive: LazyCounter,
    pub(crate) introspection_error: LazyCounter,
    pub(crate) introspection_unauthorized: LazyCounter,
    pub(crate) introspection_unsupported: LazyCounter,
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
        let issuer = || ("issuer", label.to_string());
        let result = |word: &str| ("result", word.to_owned());
        let introspections = |word| LazyMeter::new(INTROSPECTIONS, [issuer(), result(word)]);
        IssuerMeters {
            verify_seconds: LazyMeter::new(VERIFY_SECONDS, [issuer()]),
            jwks_success: LazyMeter::new(JWKS_FETCHES, [issuer(), result("success")]),
            jwks_failure: LazyMeter::new(JWKS_FETCHES, [issuer(), result("failure")]),
            keys: LazyMeter::new(JWKS_KEYS, [issuer()]),
            last_success: LazyMeter::new(JWKS_LAST_SUCCESS, [issuer()]),
            keys_age: LazyMeter::new(KEYS_AGE, [issuer()]),
            unknown_kid_refetches: LazyMeter::new(JWKS_UNKNOWN_KID_REFETCHES, [issuer()]),
            cooldown_refusals: LazyMeter::new(JWKS_COOLDOWN_REFUSALS, [issuer()]),
            introspection_active: introspections("active"),
            introspection_inactive: introspections("inactive"),
            introspection_error: introspections("error"),
            introspection_unauthorized: introspections("unauthorized"),
            introspection_unsupported: introspections("unsupported_token"),
            label,
        }
    }
}

/// Handles without an issuer label.
#[derive(Debug)]
pub(crate) struct VerifierMeters {
    pub(crate) cache_hit: LazyCounter,
    pub(crate) cache_miss: LazyCounter,
    pub(crate) dpop_valid: LazyCounter,
    pub(crate) dpop_invalid: LazyCounter,
    pub(crate) dpop_replayed: LazyCounter,
    pub(crate) dpop_nonce_required: LazyCounter,
    pub(crate) dpop_unavailable: LazyCounter,
}

impl VerifierMeters {
    pub(crate) fn new() -> VerifierMeters {
        let result = |name, word: &str| LazyMeter::new(name, [("result", word.to_owned())]);
        VerifierMeters {
            cache_hit: result(VERIFIED_CACHE, "hit"),
            cache_miss: result(VERIFIED_CACHE, "miss"),
            dpop_valid: result(DPOP_PROOFS, "valid"),
            dpop_invalid: result(DPOP_PROOFS, "invalid"),
            dpop_replayed: result(DPOP_PROOFS, "replayed"),
            dpop_nonce_required: result(DPOP_PROOFS, "nonce_required"),
            dpop_unavailable: result(DPOP_PROOFS, "unavailable"),
        }
    }
}
