//! Claim checks after the signature: issuer, audience, authorized party, dates, required claims.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::claim_path::ClaimPath;
use crate::error::AuthError;
use crate::json::{Json, Object};
use crate::token_kind::KindRules;

/// Dates beyond this (year 10000) are refused rather than coerced.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The latest `exp` or `iat` any accepted token can carry, in seconds since the epoch.
pub(crate) const LATEST_DATE: i64 = MAX_NUMERIC_DATE as i64;

/// How a provider's tokens name the intended recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AudienceRule {
    /// `aud` (string or array) must hold one of these.
    Aud(Vec<String>),
    /// A claim other than `aud` must equal one of these (Cognito access tokens' `client_id`).
    Claim(ClaimPath, Vec<String>),
    /// The application chose explicitly not to check (`Provider::skip_audience_check`).
    Skip,
}

/// A claim that must be present, optionally with one of a set of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequiredClaim {
    pub(crate) path: ClaimPath,
    pub(crate) one_of: Vec<String>,
}

/// Everything checked on a payload once its signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimRules {
    pub(crate) audience: AudienceRule,
    pub(crate) authorized_parties: Vec<String>,
    /// A token without `azp` passes when it came in a header (the verifier refuses it from a
    /// cookie: [`ClaimRules::azp_excused`]).
    pub(crate) missing_azp_from_headers: bool,
    pub(crate) leeway: Duration,
    pub(crate) required: Vec<RequiredClaim>,
    /// Dates (e.g. Firebase's `auth_time`) that must not lie in the future.
    pub(crate) past_dates: Vec<&'static str>,
    /// What kind of token is accepted.
    pub(crate) kind: KindRules,
}

impl ClaimRules {
    /// Checks `payload`, whose `iss` the caller has already matched to a configured issuer.
    pub(crate) fn check(&self, payload: &Object<'_>, now: i64) -> Result<(), AuthError> {
        self.check_dates(payload, now)?;
        self.check_recipient(payload)?;
        self.kind.check_payload(payload)
    }

    /// `exp`, `nbf`, `iat` and the provider's other past dates, with the leeway.
    pub(crate) fn check_dates(&self, payload: &Object<'_>, now: i64) -> Result<(), AuthError> {
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        let exp = date(payload, "exp")?.ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        self.check_expiry(exp, now)?;
        if let Some(nbf) = date(payload, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(AuthError::NotYetValid);
        }
        for name in std::iter::once("iat").chain(self.past_dates.iter().copied()) {
            if let Some(at) = date(payload, name)?
                && at > now.saturating_add(leeway)
            {
                return Err(AuthError::IssuedInFuture);
            }
        }
        Ok(())
    }

    /// Whom the token is for: audience, authorized party, required claims.
    fn check_recipient(&self, payload: &Object<'_>) -> Result<(), AuthError> {
        match &self.audience {
            AudienceRule::Skip => {}
            AudienceRule::Aud(expected) => {
                let accepted = |aud: &str| expected.iter().any(|e| e == aud);
                let ok = match payload.get("aud") {
                    Some(Json::String(aud)) => accepted(aud),
                    Some(Json::Array(auds)) => auds.iter().filter_map(Json::as_str).any(accepted),
                    _ => false,
                };
                if !ok {
                    return Err(AuthError::InvalidAudience {
                        expected: listed(expected),
                        received: carried("aud", payload.get("aud")),
                    });
                }
            }
            AudienceRule::Claim(path, expected) => {
                let value = path.find(payload);
                match value.and_then(Json::as_str) {
                    Some(value) if expected.iter().any(|e| e == value) => {}
                    _ => {
                        return Err(AuthError::InvalidAudience {
                            expected: listed(expected),
                            received: carried(&path.to_string(), value),
                        });
                    }
                }
            }
        }

        if !self.authorized_parties.is_empty() && !self.azp_excused(payload) {
            let azp = payload.get("azp");
            match azp.and_then(Json::as_str) {
                Some(azp) if self.authorized_parties.iter().any(|p| p == azp) => {}
                _ => {
                    return Err(AuthError::InvalidAuthorizedParty {
                        expected: listed(&self.authorized_parties),
                        received: carried("azp", azp),
                    });
                }
            }
        }

        for required in &self.required {
            let value = required
                .path
                .find(payload)
                .filter(|v| !v.is_null() && v.as_str() != Some(""));
            let Some(value) = value else {
                return Err(AuthError::MissingClaim(required.path.to_string()));
            };
            if !required.one_of.is_empty()
                && !value
                    .as_str()
                    .is_some_and(|v| required.one_of.iter().any(|e| e == v))
            {
                return Err(AuthError::InvalidClaim(required.path.to_string()));
            }
        }
        Ok(())
    }

    /// Whether the authorized-party check lets this payload through without `azp` because the
    /// provider accepts such tokens from headers: the verified token then counts from a header
    /// only. Session tokens only: Clerk omits `azp` from those when a native app sends no
    /// `Origin`, and nothing else (a JWT template, an OAuth access token) is excused for it.
    pub(crate) fn azp_excused(&self, payload: &Object<'_>) -> bool {
        self.missing_azp_from_headers
            && !self.authorized_parties.is_empty()
            && !payload.contains_key("azp")
            && self.kind.is_session(payload)
    }

    /// The one check time can change once the others have passed: `nbf` and `iat` only fall
    /// further into the past, but `exp` arrives.
    pub(crate) fn check_expiry(&self, exp: i64, now: i64) -> Result<(), AuthError> {
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        if exp.saturating_add(leeway) <= now {
            return Err(AuthError::Expired);
        }
        Ok(())
    }
}

/// At most this many bytes of each value a refusal names for the logs.
const MAX_LOGGED: usize = 200;

/// The accepted values of a setting, for a refusal's log line.
fn listed(values: &[String]) -> String {
    truncated(&values.join(", "))
}

/// What a token carries in `claim`, unverified, for a refusal's log line: `aud ["a", "b"]`,
/// `azp "x"`, `no aud`. Never more than [`MAX_LOGGED`] bytes of it.
fn carried(claim: &str, value: Option<&Json<'_>>) -> String {
    let shown = match value {
        None | Some(Json::Null) => return format!("no {claim}"),
        Some(Json::String(text)) => format!("{text:?}"),
        Some(Json::Array(items)) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Json::String(text) => format!("{text:?}"),
                    _ => "(not a string)".to_owned(),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        Some(_) => "(neither a string nor an array)".to_owned(),
    };
    format!("{claim} {}", truncated(&shown))
}

/// At most [`MAX_LOGGED`] bytes of `value`, cut at a character boundary.
pub(crate) fn truncated(value: &str) -> String {
    let mut end = value.len().min(MAX_LOGGED);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

/// Reads a NumericDate claim; a present claim that is not a non-negative, in-range number is an
/// error.
fn date(payload: &Object<'_>, name: &str) -> Result<Option<i64>, AuthError> {
    match payload.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_number()
            .and_then(numeric_date)
            .map(Some)
            .ok_or_else(|| AuthError::InvalidClaim(name.into())),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn rules() -> ClaimRules {
        ClaimRules {
            audience: AudienceRule::Aud(vec!["api".into()]),
            authorized_parties: vec![],
            missing_azp_from_headers: false,
            leeway: Duration::from_secs(30),
            required: vec![],
            past_dates: vec![],
            kind: KindRules::default(),
        }
    }

    fn check(rules: &ClaimRules, payload: Value) -> Result<(), AuthError> {
        rules.check(&Object::borrow(payload.as_object().unwrap()), 1_000_000)
    }

    #[test]
    fn dates_respect_leeway() {
        let r = rules();
        assert!(check(&r, json!({"aud": "api", "exp": 1_000_001})).is_ok());
        assert!(
            check(&r, json!({"aud": "api", "exp": 999_990})).is_ok(),
            "within leeway"
        );
        assert_eq!(
            check(&r, json!({"aud": "api", "exp": 999_970})),
            Err(AuthError::Expired)
        );
        // The recheck of a cached introspection answer draws the same line.
        assert!(r.check_expiry(999_990, 1_000_000).is_ok());
        assert_eq!(r.check_expiry(999_970, 1_000_000), Err(AuthError::Expired));
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "nbf": 1_000_031})
            ),
            Err(AuthError::NotYetValid)
        );
        assert!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "nbf": 1_000_029})
            )
            .is_ok()
        );
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "iat": 1_000_100})
            ),
            Err(AuthError::IssuedInFuture)
        );
        assert_eq!(
            check(&r, json!({"aud": "api"})),
            Err(AuthError::MissingClaim("exp".into()))
        );
    }

    #[test]
    fn dates_are_not_coerced() {
        let r = rules();
        for bad in [
            json!("2000000"),
            json!(-1),
            json!(1e300),
            json!(true),
            json!(null),
            json!(f64::MAX),
        ] {
            assert_eq!(
                check(&r, json!({"aud": "api", "exp": bad})),
                Err(AuthError::InvalidClaim("exp".into())),
                "{bad}"
            );
        }
        assert!(check(&r, json!({"aud": "api", "exp": 2_000_000.5})).is_ok());
    }

    #[test]
    fn audience_string_or_array() {
        let r = rules();
        assert!(check(&r, json!({"aud": ["x", "api"], "exp": 2_000_000})).is_ok());
        let refused = |received: &str| {
            Err(AuthError::InvalidAudience {
                expected: "api".into(),
                received: received.into(),
            })
        };
        assert_eq!(
            check(&r, json!({"aud": ["x", 3], "exp": 2_000_000})),
            refused(r#"aud ["x", (not a string)]"#)
        );
        assert_eq!(check(&r, json!({"exp": 2_000_000})), refused("no aud"));
        assert_eq!(
            check(&r, json!({"aud": 5, "exp": 2_000_000})),
            refused("aud (neither a string nor an array)")
        );
        assert_eq!(
            check(&r, json!({"aud": "other", "exp": 2_000_000}))
                .unwrap_err()
                .to_string(),
            r#"audience mismatch: the token carries aud "other"; accepted: api"#
        );
    }

    #[test]
    fn refusals_name_at_most_200_bytes_of_what_a_token_carries() {
        let mut r = rules();
        r.audience = AudienceRule::Claim(ClaimPath::claim("client_id"), vec!["app".into()]);
        let long = "é".repeat(300);
        let Err(AuthError::InvalidAudience { expected, received }) =
            check(&r, json!({"client_id": long, "exp": 2_000_000}))
        else {
            panic!("refused for its audience claim")
        };
        assert_eq!(expected, "app");
        assert!(received.starts_with("client_id \"éé"), "{received}");
        assert!(
            received.len() <= "client_id ".len() + 200,
            "{}",
            received.len()
        );
        let Err(AuthError::InvalidAudience { received, .. }) = check(&r, json!({"exp": 2_000_000}))
        else {
            panic!("refused without its audience claim")
        };
        assert_eq!(received, "no client_id");
    }

    #[test]
    fn authorized_party_and_required_claims() {
        let mut r = rules();
        r.authorized_parties = vec!["https://app.example.com".into()];
        r.required = vec![RequiredClaim {
            path: ClaimPath::claim("token_use"),
            one_of: vec!["access".into()],
        }];
        let app = "https://app.example.com";
        let ok = json!({"aud": "api", "exp": 2_000_000, "azp": app, "token_use": "access"});
        assert!(check(&r, ok).is_ok());
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "azp": "https://x", "token_use": "access"})
            ),
            Err(AuthError::InvalidAuthorizedParty {
                expected: app.into(),
                received: r#"azp "https://x""#.into(),
            })
        );
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "token_use": "access"})
            ),
            Err(AuthError::InvalidAuthorizedParty {
                expected: app.into(),
                received: "no azp".into(),
            })
        );
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "azp": "https://app.example.com"})
            ),
            Err(AuthError::MissingClaim("token_use".into()))
        );
        assert_eq!(
            check(
                &r,
                json!({"aud": "api", "exp": 2_000_000, "azp": app, "token_use": "id"})
            ),
            Err(AuthError::InvalidClaim("token_use".into()))
        );
    }
}
