//! How and when the caller authenticated (OpenID Connect's `acr`, `amr` and `auth_time`, which
//! RFC 9470 §6 carries into access tokens and introspection answers), and the step-up check a
//! route's authentication requirement makes of it (RFC 9470 §3).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{AuthError, truncated};
use crate::token::date::numeric_date;
use crate::token::json::{Json, Object};

/// How and when the caller authenticated, as the token's issuer says: the authentication context
/// class (`acr`), the methods (`amr`) and the time (`auth_time`) of RFC 9470 §6.1 (JWTs) and §6.2
/// (introspection answers).
///
/// A claim that does not read as its specification writes it counts as absent, so a route that
/// requires it refuses the token: an `acr` that is not a non-empty string, an `amr` that is not an
/// array of non-empty strings (one odd member voids the whole list), an `auth_time` that is not a
/// NumericDate (a string, a negative number; a fraction is dropped, which makes the time earlier).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let token = issuer
///     .token()
///     .claim("acr", "urn:okta:loa:2fa:any")
///     .claim("amr", serde_json::json!(["pwd", "otp"]))
///     .claim("auth_time", 1_700_000_000)
///     .sign();
/// let claims = Verifier::new(issuer.provider())?.verify::<StandardClaims>(&token).await?;
/// let authentication = claims.identity().authentication.as_ref().unwrap();
/// assert_eq!(authentication.acr.as_deref(), Some("urn:okta:loa:2fa:any"));
/// assert!(authentication.amr.contains("otp"));
/// assert_eq!(authentication.time, Some(1_700_000_000));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Authentication {
    /// The authentication context class reference (`acr`): which level or policy the
    /// authentication met, in the issuer's own vocabulary (`urn:okta:loa:2fa:any`, Keycloak's
    /// `1`/`2` or a mapped name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods (`amr`, RFC 8176 values such as `pwd`, `otp`, `mfa`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub amr: BTreeSet<String>,
    /// When the user last authenticated (`auth_time`), in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
}

impl Authentication {
    /// What a verified payload says of the authentication; `None` if it says nothing readable.
    pub(crate) fn read(payload: &Object<'_>) -> Option<Authentication> {
        let acr = payload
            .get("acr")
            .and_then(Json::as_str)
            .filter(|acr| !acr.is_empty())
            .map(str::to_owned);
        let amr = match payload.get("amr").and_then(Json::as_array) {
            Some(methods)
                if methods
                    .iter()
                    .all(|method| method.as_str().is_some_and(|method| !method.is_empty())) =>
            {
                methods
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            }
            _ => BTreeSet::new(),
        };
        let time = payload
            .get("auth_time")
            .and_then(Json::as_number)
            .and_then(numeric_date);
        let said = acr.is_some() || !amr.is_empty() || time.is_some();
        said.then_some(Authentication { acr, amr, time })
    }
}

/// The step-up check (RFC 9470 §3): the caller's `acr` must be one of `acr_values` (when any are
/// listed) and its `auth_time` no more than `max_age` seconds before `now` (when given), with
/// `leeway` seconds either side for the issuer's clock. A missing claim refuses. The refusal
/// carries what the challenge names: every acceptable value in the order given, and `max_age`.
pub(crate) fn check_step_up<S: AsRef<str>>(
    authentication: Option<&Authentication>,
    acr_values: &[S],
    max_age: Option<u64>,
    leeway: u64,
    now: i64,
) -> Result<(), AuthError> {
    let acr = authentication.and_then(|a| a.acr.as_deref());
    let time = authentication.and_then(|a| a.time);
    let listed = || {
        let values: Vec<&str> = acr_values.iter().map(AsRef::as_ref).collect();
        values.join(", ")
    };
    let mut reasons = Vec::new();
    if !acr_values.is_empty() {
        match acr {
            Some(acr) if acr_values.iter().any(|value| value.as_ref() == acr) => {}
            Some(acr) => reasons.push(format!(
                "acr {:?} is not one of [{}]",
                truncated(acr),
                listed()
            )),
            None => reasons.push(format!(
                "the token carries no acr; accepted: [{}]",
                listed()
            )),
        }
    }
    if let Some(max_age) = max_age {
        let leeway = i64::try_from(leeway).unwrap_or(i64::MAX);
        let max_age_secs = i64::try_from(max_age).unwrap_or(i64::MAX);
        match time {
            None => reasons.push(format!(
                "the token carries no auth_time; max_age {max_age} s"
            )),
            Some(time) if time > now.saturating_add(leeway) => reasons.push(format!(
                "auth_time is {} s in the future (leeway {leeway} s)",
                time - now
            )),
            Some(time) if now - time > max_age_secs.saturating_add(leeway) => {
                reasons.push(format!(
                    "the user authenticated {} s ago, over max_age {max_age} s (leeway \
                     {leeway} s)",
                    now - time
                ))
            }
            Some(_) => {}
        }
    }
    if reasons.is_empty() {
        return Ok(());
    }
    Err(AuthError::InsufficientAuthentication {
        acr_values: acr_values
            .iter()
            .map(|value| value.as_ref().to_owned())
            .collect(),
        max_age,
        reason: reasons.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Identity;

    fn read(payload: Value) -> Option<Authentication> {
        Authentication::read(&Object::borrow(payload.as_object().unwrap()))
    }

    #[test]
    fn the_claims_are_read_as_rfc_9470_writes_them() {
        let said = read(json!({"acr": "2", "amr": ["pwd", "otp"], "auth_time": 1000.9})).unwrap();
        assert_eq!(said.acr.as_deref(), Some("2"));
        assert_eq!(said.amr, BTreeSet::from(["otp".into(), "pwd".into()]));
        assert_eq!(
            said.time,
            Some(1000),
            "a fraction is dropped: the time reads earlier"
        );
        assert_eq!(read(json!({"sub": "ada"})), None);
    }

    /// A claim of the wrong shape counts as absent, never as a value a rule could accept.
    #[test]
    fn malformed_claims_read_as_absent() {
        for payload in [
            json!({"acr": 2}),
            json!({"acr": ["urn:okta:loa:2fa:any"]}),
            json!({"acr": ""}),
            json!({"acr": null}),
            json!({"auth_time": "1700000000"}),
            json!({"auth_time": -5}),
            json!({"auth_time": 1e300}),
            json!({"auth_time": {"t": 1}}),
            json!({"amr": "mfa"}),
            json!({"amr": ["mfa", 1]}),
            json!({"amr": ["mfa", ""]}),
        ] {
            assert_eq!(read(payload.clone()), None, "{payload}");
        }
        let half = read(json!({"acr": 2, "amr": ["otp"], "auth_time": "x"})).unwrap();
        assert_eq!((half.acr, half.time), (None, None));
    }

    #[test]
    fn the_identity_serialises_authentication_only_when_present() {
        let plain = serde_json::to_value(Identity::default()).unwrap();
        assert!(plain.get("authentication").is_none(), "{plain}");
        let identity = Identity {
            authentication: Some(Authentication {
                acr: Some("2".into()),
                ..Authentication::default()
            }),
            ..Identity::default()
        };
        let value = serde_json::to_value(&identity).unwrap();
        assert_eq!(value["authentication"], json!({"acr": "2"}));
        let back: Identity = serde_json::from_value(value).unwrap();
        assert_eq!(back, identity);
        let old: Identity = serde_json::from_value(plain).unwrap();
        assert_eq!(
            old.authentication, None,
            "an identity serialised before reads back"
        );
    }

    #[test]
    fn step_up_checks_acr_and_recency_with_the_leeway() {
        let auth = |acr: Option<&str>, time: Option<i64>| Authentication {
            acr: acr.map(str::to_owned),
            amr: BTreeSet::new(),
            time,
        };
        let now = 10_000;
        let ok = |a: Option<&Authentication>, acr: &[&str], max_age| {
            check_step_up(a, acr, max_age, 60, now).is_ok()
        };
        let strong = auth(Some("b"), Some(now - 300));
        assert!(ok(Some(&strong), &["a", "b"], None));
        assert!(ok(Some(&strong), &["b"], Some(300)));
        assert!(
            ok(Some(&strong), &[], Some(240)),
            "within max_age plus the leeway"
        );
        assert!(
            !ok(Some(&strong), &[], Some(239)),
            "past max_age plus the leeway"
        );
        assert!(!ok(Some(&strong), &["a"], None));
        assert!(!ok(Some(&auth(None, Some(now))), &["a"], None), "no acr");
        assert!(
            !ok(Some(&auth(Some("a"), None)), &["a"], Some(300)),
            "no auth_time"
        );
        assert!(!ok(None, &["a"], None));
        assert!(!ok(None, &[], Some(300)));
        assert!(ok(Some(&auth(None, Some(now + 60))), &[], Some(0)));
        assert!(
            !ok(Some(&auth(None, Some(now + 61))), &[], Some(300)),
            "future"
        );

        let refusal = check_step_up(Some(&strong), &["x", "y"], Some(60), 0, now).unwrap_err();
        let AuthError::InsufficientAuthentication {
            acr_values,
            max_age,
            reason,
        } = &refusal
        else {
            panic!("{refusal:?}");
        };
        assert_eq!(
            (acr_values.as_slice(), *max_age),
            (&["x".into(), "y".into()][..], Some(60))
        );
        assert!(
            reason.contains(r#"acr "b" is not one of [x, y]"#),
            "{reason}"
        );
        assert!(reason.contains("300 s ago, over max_age 60 s"), "{reason}");
        assert_eq!(refusal.code().as_str(), "INSUFFICIENT_USER_AUTHENTICATION");
    }
}
