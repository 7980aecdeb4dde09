//! How keys are fetched, cached and refreshed for one provider.

use std::time::Duration;

use crate::error::ConfigError;

/// Fetch and cache settings for a provider's keys. The defaults suit every hosted provider.
///
/// Change the fields you mean and keep the rest (`..KeySettings::default()`). A value that cannot
/// work, such as no pause between fetches or keys kept past a week, is refused when the verifier is
/// built, naming the field.
///
/// ```
/// use std::time::Duration;
///
/// use auth_core::{KeySettings, Provider, Verifier};
///
/// let api = Provider::oidc("https://issuer.example.com").audience("my-api");
/// // An issuer that rotates its keys hourly, whatever its Cache-Control says.
/// let hourly = KeySettings {
///     max_max_age: Duration::from_secs(3600),
///     ..KeySettings::default()
/// };
/// assert!(Verifier::new(api.clone().key_settings(hourly)).is_ok());
///
/// let no_pause = KeySettings {
///     min_max_age: Duration::ZERO,
///     ..KeySettings::default()
/// };
/// let refused = Verifier::new(api.key_settings(no_pause)).unwrap_err();
/// assert!(refused.setting.ends_with("key_settings.min_max_age"), "{refused}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySettings {
    /// Lifetime of a key set when the response has no `Cache-Control: max-age` (default 10 min).
    pub default_max_age: Duration,
    /// Lower bound applied to `max-age`, so a misconfigured issuer cannot make us poll it (default
    /// 1 min).
    pub min_max_age: Duration,
    /// Upper bound applied to `max-age`, so rotations are seen in time (default 24 h).
    pub max_max_age: Duration,
    /// Minimum time between two refetches caused by unknown `kid`s (default 30 s).
    pub unknown_kid_cooldown: Duration,
    /// Time allowed for one fetch, body included (default 5 s).
    pub fetch_timeout: Duration,
    /// Largest JWKS or discovery body accepted (default 256 KiB).
    pub max_body_bytes: usize,
    /// How long past their lifetime keys keep serving while the issuer cannot be reached (default
    /// 24 h).
    pub max_stale: Duration,
    /// After a failed fetch with no usable keys, how long requests answer 503 before another
    /// attempt (default 5 s): an outage must not turn every request into a fetch.
    pub failure_backoff: Duration,
}

impl Default for KeySettings {
    fn default() -> Self {
        KeySettings {
            default_max_age: Duration::from_secs(600),
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 3600),
            unknown_kid_cooldown: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            max_body_bytes: 256 * 1024,
            max_stale: Duration::from_secs(24 * 3600),
            failure_backoff: Duration::from_secs(5),
        }
    }
}

impl KeySettings {
    /// `max-age` from the response, clamped; the default when absent.
    pub(crate) fn lifetime(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.default_max_age)
            .clamp(self.min_max_age, self.max_max_age)
    }

    pub(crate) fn validate(&self, provider: &str) -> Result<(), ConfigError> {
        let bad = |field: &str, problem: &str| {
            Err(ConfigError::new(
                format!("{provider}: key_settings.{field}"),
                problem.to_owned(),
            ))
        };
        if self.min_max_age.is_zero() {
            return bad(
                "min_max_age",
                "must be above zero, or a key set would be refetched without pause",
            );
        }
        if self.min_max_age > self.max_max_age {
            return bad(
                "min_max_age",
                "is above max_max_age; the clamp range is empty",
            );
        }
        if self.fetch_timeout.is_zero() {
            return bad("fetch_timeout", "must be above zero (default 5 s)");
        }
        if self.max_body_bytes < 1024 {
            return bad(
                "max_body_bytes",
                "is under 1 KiB; a JWKS with one RSA key is about 500 bytes, use the default 256 \
                 KiB",
            );
        }
        let day = Duration::from_secs(24 * 3600);
        for (field, value, max) in [
            ("max_max_age", self.max_max_age, 7 * day),
            ("max_stale", self.max_stale, 30 * day),
            ("unknown_kid_cooldown", self.unknown_kid_cooldown, day),
            (
                "fetch_timeout",
                self.fetch_timeout,
                Duration::from_secs(120),
            ),
            ("failure_backoff", self.failure_backoff, day),
            ("default_max_age", self.default_max_age, 7 * day),
        ] {
            if value > max {
                return Err(ConfigError::new(
                    format!("{provider}: key_settings.{field}"),
                    format!(
                        "{value:?} is above the {max:?} limit: keys would outlive rotations and \
                         revocations"
                    ),
                ));
            }
        }
        if self.failure_backoff.is_zero() {
            return bad(
                "failure_backoff",
                "must be above zero, or an outage turns every request into a fetch",
            );
        }
        Ok(())
    }
}
