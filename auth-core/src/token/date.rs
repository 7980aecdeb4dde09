//! NumericDate (RFC 7519 §2): seconds since the epoch, as a payload writes them and as the clock
//! reads now.

use std::time::{SystemTime, UNIX_EPOCH};

/// Dates beyond this (year 10000) are refused rather than coerced.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The latest `exp` or `iat` any accepted token can carry, in seconds since the epoch.
pub(crate) const LATEST_DATE: i64 = MAX_NUMERIC_DATE as i64;

/// A JSON number of seconds since the epoch, fractional part dropped; `None` for strings,
/// negatives, non-finite or out-of-range values.
pub(crate) fn numeric_date(number: &serde_json::Number) -> Option<i64> {
    if let Some(int) = number.as_i64() {
        return (0..=MAX_NUMERIC_DATE as i64).contains(&int).then_some(int);
    }
    let float = number.as_f64()?;
    (float.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&float)).then_some(float as i64)
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
