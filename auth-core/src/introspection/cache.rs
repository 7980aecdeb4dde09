//! Introspection answers, reused for a while: an active token's until the configured time-to-live
//! or its `exp`, whichever comes first; an inactive one's briefly. Concurrent requests with the
//! same new token make one introspection call between them. Failures to reach the issuer are never
//! kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;

use crate::error::AuthError;
use crate::metrics::{INTROSPECTION_CACHE, LazyCounter};
use crate::token::verified::VerifiedToken;

/// What introspection concluded about a token.
#[derive(Debug)]
pub(crate) struct Verdict {
    /// The configured issuer that answered for it.
    pub(crate) issuer: usize,
    /// The verified token, or why it is refused (inactive; active but not for this API).
    pub(crate) outcome: Result<Arc<VerifiedToken>, AuthError>,
    pub(crate) lifetime: Duration,
}

struct ExpireWithAnswer;

impl moka::Expiry<Box<str>, Arc<Verdict>> for ExpireWithAnswer {
    fn expire_after_create(
        &self,
        _: &Box<str>,
        entry: &Arc<Verdict>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

/// The cache, bounded like the verified-token cache: about `capacity` typical tokens.
pub(crate) struct IntrospectionCache {
    entries: Cache<Box<str>, Arc<Verdict>, foldhash::fast::RandomState>,
    hits: LazyCounter,
    misses: LazyCounter,
}

impl std::fmt::Debug for IntrospectionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

/// An entry's weight: the token's size in KiB (at least one).
#[allow(clippy::borrowed_box)] // moka's weigher signature
fn weight(token: &Box<str>, _: &Arc<Verdict>) -> u32 {
    u32::try_from(token.len().div_ceil(1024).max(1)).unwrap_or(u32::MAX)
}

impl IntrospectionCache {
    pub(crate) fn new(capacity: usize) -> IntrospectionCache {
        let entries = Cache::builder()
            .max_capacity(capacity as u64)
            .weigher(weight)
            .expire_after(ExpireWithAnswer)
            .build_with_hasher(foldhash::fast::RandomState::default());
        IntrospectionCache {
            entries,
            hits: LazyCounter::new(INTROSPECTION_CACHE, [("result", "hit".to_owned())]),
            misses: LazyCounter::new(INTROSPECTION_CACHE, [("result", "miss".to_owned())]),
        }
    }

    /// The answer for `token`: cached, or from `introspect`, which runs once however many requests
    /// wait for the same token. An `Err` (the issuer could not be asked) is not kept.
    pub(crate) async fn get_or_introspect<F>(
        &self,
        token: &str,
        introspect: F,
    ) -> Result<Arc<Verdict>, AuthError>
    where
        F: Future<Output = Result<Verdict, AuthError>>,
    {
        if let Some(hit) = self.entries.get(token).await {
            self.hits.increment(1);
            return Ok(hit);
        }
        self.misses.increment(1);
        let answer = async { introspect.await.map(Arc::new) };
        self.entries
            .try_get_with(Box::from(token), answer)
            .await
            .map_err(|err| (*err).clone())
    }

    /// Forgets a token (its cached answer no longer holds).
    pub(crate) async fn remove(&self, token: &str) {
        self.entries.invalidate(token).await;
    }
}
