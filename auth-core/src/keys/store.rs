//! One provider's keys: read lock-free on every request, fetched once at a time, refreshed in the
//! background, kept through outages, and refetched for unknown `kid`s no more than once per
//! cooldown.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::{Mutex, Notify};

use crate::error::AuthError;
use crate::health::IssuerHealth;
use crate::keys::algorithm::{AlgorithmPolicy, AlgorithmSet};
use crate::keys::fetch::{self, FetchError, SignIn};
use crate::keys::jwks::KeySet;
use crate::keys::network_policy::NetworkPolicy;
use crate::keys::settings::KeySettings;
use crate::keys::source::KeySource;
use crate::metrics::IssuerMeters;

/// What the request path sees: the last good key set and how long it may be used.
#[derive(Debug)]
pub(crate) struct KeyState {
    pub(crate) keys: Arc<KeySet>,
    /// When the keys were fetched; `None` until the first success.
    loaded_at: Option<Instant>,
    /// When a scheduled refresh is due.
    fresh_until: Instant,
    /// Past this the keys are too old to trust, outage or not.
    usable_until: Instant,
    /// The last failure, for 503 messages, backoff and startup checks.
    failure: Option<Failure>,
}

/// A fetch that failed.
#[derive(Debug, Clone)]
struct Failure {
    reason: Arc<str>,
    /// A misconfiguration rather than an outage; see [`FetchError::definite`].
    definite: bool,
    at: Instant,
}

impl KeyState {
    fn empty(now: Instant) -> KeyState {
        KeyState {
            keys: Arc::default(),
            loaded_at: None,
            fresh_until: now,
            usable_until: now,
            failure: None,
        }
    }

    pub(crate) fn usable(&self, now: Instant) -> bool {
        self.loaded_at.is_some() && now < self.usable_until
    }
}

/// Why a fetch is wanted; decides which rate limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// No usable keys: limited by `failure_backoff` after a failure.
    Missing,
    /// A `kid` not in the set: limited by `unknown_kid_cooldown`.
    UnknownKid,
    /// The background schedule or `prefetch`.
    Scheduled,
}

/// Serialised by the fetch mutex: only one fetch is in flight per provider.
#[derive(Debug)]
struct FetchState {
    /// The JWKS URL once discovery has found it.
    jwks_url: Option<String>,
    /// The algorithms the discovery document lists.
    advertised: AlgorithmSet,
}

#[derive(Debug)]
pub(crate) struct KeyStore {
    source: KeySource,
    expected_issuer: String,
    algorithms: AlgorithmPolicy,
    settings: KeySettings,
    client: reqwest::Client,
    policy: Arc<NetworkPolicy>,
    state: ArcSwap<KeyState>,
    /// The introspection endpoint discovery named, once it has been read.
    introspection_endpoint: ArcSwapOption<String>,
    /// The sign-in endpoints discovery named, once it has been read (API documentation only).
    sign_in: ArcSwapOption<SignIn>,
    fetch: Mutex<FetchState>,
    /// Fetches finished, success or not; a waiter that sees it move knows its fetch was done for
    /// it.
    attempts: AtomicU64,
    /// Milliseconds since `epoch` of the last unknown-`kid` refetch, read without the mutex so a
    /// storm of random `kid`s is turned away without queueing.
    last_kid_refetch_ms: AtomicU64,
    epoch: Instant,
    fetches: AtomicU64,
    refresher_started: AtomicBool,
    shutdown: Arc<Notify>,
    /// Wakes the refresher after any fetch, so a new `max-age` takes effect at once.
    rescheduled: Arc<Notify>,
    pub(crate) meters: Arc<IssuerMeters>,
}

impl Drop for KeyStore {
    fn drop(&mut self) {
        self.shutdown.notify_one();
    }
}

impl KeyStore {
    pub(crate) fn new(
        source: KeySource,
        expected_issuer: String,
        algorithms: AlgorithmPolicy,
        settings: KeySettings,
        policy: Arc<NetworkPolicy>,
        client: reqwest::Client,
        meters: Arc<IssuerMeters>,
    ) -> KeyStore {
        let now = Instant::now();
        let jwks_url = match &source {
            KeySource::Jwks(url) => Some(url.clone()),
            KeySource::Discovery(_) => None,
        };
        KeyStore {
            source,
            expected_issuer,
            algorithms,
            settings,
            client,
            policy,
            state: ArcSwap::from_pointee(KeyState::empty(now)),
            introspection_endpoint: ArcSwapOption::empty(),
            sign_in: ArcSwapOption::empty(),
            fetch: Mutex::new(FetchState {
                jwks_url,
                advertised: AlgorithmSet::EMPTY,
            }),
            attempts: AtomicU64::new(0),
            last_kid_refetch_ms: AtomicU64::new(u64::MAX),
            epoch: now,
            fetches: AtomicU64::new(0),
            refresher_started: AtomicBool::new(false),
            shutdown: Arc::new(Notify::new()),
            rescheduled: Arc::new(Notify::new()),
            meters,
        }
    }

    /// The current keys, without locking or allocating.
    pub(crate) fn current(&self) -> arc_swap::Guard<Arc<KeyState>> {
        self.state.load()
    }

    /// How the keys stand, for readiness checks.
    pub(crate) fn health(&self) -> IssuerHealth {
        let state = self.current();
        let now = Instant::now();
        let age = state
            .loaded_at
            .map(|loaded| now.saturating_duration_since(loaded));
        if let Some(age) = age {
            self.meters.keys_age.set(age.as_secs_f64());
        }
        IssuerHealth {
            issuer: self.meters.label.to_string(),
            usable: state.usable(now),
            keys: state.keys.len(),
            age,
            last_error: state
                .failure
                .as_ref()
                .filter(|failure| state.loaded_at.is_none_or(|loaded| failure.at > loaded))
                .map(|failure| failure.reason.to_string()),
            introspection: None,
        }
    }

    /// Fetches made so far (JWKS documents, discovery excluded).
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Makes sure usable keys are loaded, fetching (single-flight, backoff after failure) if not.
    pub(crate) async fn ensure_loaded(self: &Arc<Self>) -> Result<(), AuthError> {
        if self.current().usable(Instant::now()) {
            return Ok(());
        }
        self.fetch_once(Trigger::Missing).await;
        let state = self.current();
        if state.usable(Instant::now()) {
            Ok(())
        } else {
            Err(self.unavailable(&state))
        }
    }

    /// The introspection endpoint discovery names, reading discovery first if need be.
    pub(crate) async fn introspection_endpoint(self: &Arc<Self>) -> Result<String, FetchError> {
        if let Some(endpoint) = self.introspection_endpoint.load_full() {
            return Ok(endpoint.to_string());
        }
        self.ensure_loaded()
            .await
            .map_err(|err| FetchError::transient(err.to_string()))?;
        match self.introspection_endpoint.load_full() {
            Some(endpoint) => Ok(endpoint.to_string()),
            None => Err(FetchError::definite(format!(
                "{} names no introspection_endpoint; configure Introspection::endpoint(..)",
                self.source.url()
            ))),
        }
    }

    /// The authorization and token endpoints the discovery document named, if it has been read
    /// and named both.
    pub(crate) fn sign_in(&self) -> Option<Arc<SignIn>> {
        self.sign_in.load_full()
    }

    /// A token named a `kid` the set lacks: refetch unless one happened within the cooldown.
    /// Returns whether the key set may have changed.
    pub(crate) async fn refetch_for_unknown_kid(self: &Arc<Self>) -> bool {
        if self.in_kid_cooldown(Instant::now()) {
            self.meters.cooldown_refusals.increment(1);
            return false;
        }
        self.fetch_once(Trigger::UnknownKid).await
    }

    /// Loads keys now, failing with the URL and cause (for startup checks).
    pub(crate) async fn prefetch(self: &Arc<Self>) -> Result<(), FetchError> {
        self.fetch_once(Trigger::Scheduled).await;
        let state = self.current();
        match (&state.failure, state.usable(Instant::now())) {
            (Some(failure), _) if state.loaded_at.is_none_or(|loaded| failure.at > loaded) => {
                Err(FetchError {
                    reason: failure.reason.to_string(),
                    definite: failure.definite,
                })
            }
            (_, true) => Ok(()),
            (_, false) => Err(FetchError::transient(format!(
                "no usable keys from {}",
                self.source.url()
            ))),
        }
    }

    fn in_kid_cooldown(&self, now: Instant) -> bool {
        let last = self.last_kid_refetch_ms.load(Ordering::Acquire);
        let elapsed = now.saturating_duration_since(self.epoch).as_millis() as u64;
        last != u64::MAX
            && elapsed < last.saturating_add(self.settings.unknown_kid_cooldown.as_millis() as u64)
    }

    fn unavailable(&self, state: &KeyState) -> AuthError {
        let now = Instant::now();
        let (reason, retry_after) = match &state.failure {
            Some(failure) => (
                failure.reason.to_string(),
                self.settings
                    .failure_backoff
                    .saturating_sub(now.saturating_duration_since(failure.at)),
            ),
            None => (
                format!("no keys loaded from {}", self.source.url()),
                self.settings.failure_backoff,
            ),
        };
        let reason = if state.loaded_at.is_some() {
            format!("keys older than the stale limit and refresh failing: {reason}")
        } else {
            reason
        };
        AuthError::KeysUnavailable {
            reason,
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    /// Runs one fetch unless another caller's fetch completed while this one waited, or a rate
    /// limit forbids it. Returns whether a fetch ran (by this caller or one it waited for).
    async fn fetch_once(self: &Arc<Self>, trigger: Trigger) -> bool {
        // In a task of its own, so a request that goes away mid-fetch (client gone, handler
        // cancelled) neither aborts the fetch nor skips the bookkeeping that rate-limits the next
        // one.
        let store = Arc::clone(self);
        tokio::spawn(async move { store.run_fetch(trigger).await })
            .await
            .unwrap_or_default()
    }

    /// The work of [`KeyStore::fetch_once`], in the task it spawns.
    async fn run_fetch(self: Arc<Self>, trigger: Trigger) -> bool {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut guard = self.fetch.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen {
            return true;
        }
        let now = Instant::now();
        match trigger {
            Trigger::UnknownKid => {
                // The cooldown is published once a fetch is done: until then, requests with the new
                // kid queue on that fetch instead of being turned away; after it, they are turned
                // away here.
                if self.in_kid_cooldown(now) {
                    self.meters.cooldown_refusals.increment(1);
                    return false;
                }
                self.meters.unknown_kid_refetches.increment(1);
            }
            Trigger::Missing => {
                let state = self.current();
                if state.usable(now) {
                    return true;
                }
                if let Some(failure) = &state.failure
                    && now.duration_since(failure.at) < self.settings.failure_backoff
                {
                    return false;
                }
            }
            Trigger::Scheduled => {}
        }
        let result = self.fetch_keys(&mut guard).await;
        let previous = self.current();
        let now = Instant::now();
        let next = match result {
            Ok((keys, max_age)) => {
                let lifetime = self.settings.lifetime(max_age);
                let (url, keys_loaded) = (self.source.url(), keys.len());
                tracing::debug!(target: "auth", url, keys = keys_loaded, ?lifetime, "keys loaded");
                self.meters.jwks_success.increment(1);
                self.meters.keys.set(keys_loaded as f64);
                self.meters
                    .last_success
                    .set(crate::token::date::now() as f64);
                KeyState {
                    keys: Arc::new(keys),
                    loaded_at: Some(now),
                    fresh_until: later(now, lifetime),
                    usable_until: later(later(now, lifetime), self.settings.max_stale),
                    failure: None,
                }
            }
            Err(error) => {
                self.meters.jwks_failure.increment(1);
                let reason = &error.reason;
                // Discovery may have moved the JWKS; look again next time.
                if matches!(self.source, KeySource::Discovery(_)) {
                    guard.jwks_url = None;
                }
                if previous.loaded_at.is_some() {
                    let message = "key refresh failed; keeping the last good keys";
                    tracing::warn!(target: "auth", %reason, "{message}");
                } else {
                    let message = "key fetch failed; no keys to verify with";
                    tracing::warn!(target: "auth", %reason, "{message}");
                }
                KeyState {
                    keys: Arc::clone(&previous.keys),
                    loaded_at: previous.loaded_at,
                    fresh_until: previous.fresh_until,
                    usable_until: previous.usable_until,
                    failure: Some(Failure {
                        reason: Arc::from(error.reason.as_str()),
                        definite: error.definite,
                        at: now,
                    }),
                }
            }
        };
        self.state.store(Arc::new(next));
        if trigger == Trigger::UnknownKid {
            self.last_kid_refetch_ms.store(
                Instant::now()
                    .saturating_duration_since(self.epoch)
                    .as_millis() as u64,
                Ordering::Release,
            );
        }
        // Counted once the outcome is visible, so a waiter that sees the count move also sees the
        // keys.
        self.attempts.fetch_add(1, Ordering::AcqRel);
        drop(guard);
        self.rescheduled.notify_one();
        self.start_refresher();
        true
    }

    async fn fetch_keys(
        &self,
        fetch_state: &mut FetchState,
    ) -> Result<(KeySet, Option<Duration>), FetchError> {
        let url = match &fetch_state.jwks_url {
            Some(url) => url.clone(),
            None => {
                let discovery = self.source.url();
                let document = fetch::get(
                    &self.client,
                    discovery,
                    self.settings.fetch_timeout,
                    self.settings.max_body_bytes,
                )
                .await?;
                let found = fetch::discovery(
                    &self.policy,
                    discovery,
                    &document.body,
                    &self.expected_issuer,
                )?;
                fetch_state.jwks_url = Some(found.jwks_uri.clone());
                self.introspection_endpoint
                    .store(found.introspection_endpoint.map(Arc::new));
                self.sign_in.store(found.sign_in.map(Arc::new));
                fetch_state.advertised = found.advertised;
                found.jwks_uri
            }
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch::get(
            &self.client,
            &url,
            self.settings.fetch_timeout,
            self.settings.max_body_bytes,
        )
        .await?;
        let keys = KeySet::parse(&fetched.body, self.algorithms, fetch_state.advertised)
            .map_err(|err| FetchError::definite(format!("{url}: {err}")))?;
        if keys.len() == 0 {
            return Err(FetchError::definite(format!(
                "{url}: no usable keys (see the warnings above for each skipped key)"
            )));
        }
        Ok((keys, fetched.max_age))
    }

    /// Starts the background refresh once a runtime is at hand; it ends when the store is dropped.
    fn start_refresher(self: &Arc<Self>) {
        if self.refresher_started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.refresher_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::downgrade(self);
        let shutdown = Arc::clone(&self.shutdown);
        let rescheduled = Arc::clone(&self.rescheduled);
        runtime.spawn(refresh_loop(store, shutdown, rescheduled));
    }
}

/// `now + by`, saturating far in the future instead of overflowing.
fn later(now: Instant, by: Duration) -> Instant {
    now.checked_add(by)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Retries of a failing scheduled refresh back off up to this interval.
const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(300);

/// Marks the refresher stopped however its task ends (store dropped, or its runtime shut down), so
/// the next fetch starts a new one on a live runtime.
struct Running(Weak<KeyStore>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(store) = self.0.upgrade() {
            store.refresher_started.store(false, Ordering::Release);
        }
    }
}

async fn refresh_loop(store: Weak<KeyStore>, shutdown: Arc<Notify>, rescheduled: Arc<Notify>) {
    let _running = Running(store.clone());
    // Grows only when this loop's own fetch fails, not each time a wake-up recomputes the delay.
    let mut backoff = None::<Duration>;
    loop {
        let delay = {
            let Some(store) = store.upgrade() else { return };
            let state = store.current();
            match state.failure {
                Some(_) => backoff.unwrap_or(store.settings.failure_backoff),
                None => {
                    backoff = None;
                    // Refresh a little before the lifetime ends, so requests never see expired
                    // keys.
                    state
                        .fresh_until
                        .saturating_duration_since(Instant::now())
                        .mul_f32(0.9)
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.notified() => return,
            // A fetch happened (this loop's own included): recompute the delay from the new state.
            () = rescheduled.notified() => continue,
        }
        let Some(store) = store.upgrade() else { return };
        store.fetch_once(Trigger::Scheduled).await;
        if store.current().failure.is_some() {
            let next = backoff.map_or(store.settings.failure_backoff, |previous| {
                previous.saturating_mul(2)
            });
            backoff = Some(next.min(MAX_RETRY_INTERVAL));
        }
    }
}
