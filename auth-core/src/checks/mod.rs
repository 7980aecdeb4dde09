//! Every claim rule a payload passes once its issuer vouches for it (by signature or by
//! introspection), behind one entry: [`ClaimChecks::check`]. A new claim check goes here: its
//! rule in the file of its concern (dates in this file, the recipient in [`audience`], the token
//! kind in [`kind`], the issuer and tenant in [`issuer`]), called from that one entry.

pub(crate) mod audience;
pub(crate) mod issuer;
pub(crate) mod kind;

use std::time::Duration;

use crate::error::AuthError;
use crate::token::date::numeric_date;
use crate::token::json::Object;
use audience::Recipient;
use issuer::IssuerMatch;
use kind::KindChecks;

/// Everything checked on a payload once its signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimChecks {
    /// Which `iss` values are accepted, and the tenant cross-check.
    pub(crate) issuer: IssuerMatch,
    /// Whom the token is for: audience, authorized party, required claims.
    pub(crate) recipient: Recipient,
    pub(crate) leeway: Duration,
    /// Dates (e.g. Firebase's `auth_time`) that must not lie in the future.
    pub(crate) past_dates: Vec<&'static str>,
    /// What kind of token is accepted.
    pub(crate) kind: KindChecks,
}

impl ClaimChecks {
    /// Checks `payload`, whose `iss` (given) the caller has already matched with
    /// [`IssuerMatch::matches`]: the one entry for every claim rule before the identity mapping.
    pub(crate) fn check(&self, payload: &Object<'_>, iss: &str, now: i64) -> Result<(), AuthError> {
        self.check_dates(payload, now)?;
        self.recipient
            .check(payload, self.kind.is_session(payload))?;
        self.kind.check_payload(payload)?;
        self.issuer.check_tenant(iss, payload)
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

    /// Whether a payload that passed counts from a header only: accepted without `azp` under
    /// `Provider::accept_missing_azp_from_headers` ([`Recipient::azp_excused`]).
    pub(crate) fn azp_excused(&self, payload: &Object<'_>) -> bool {
        self.recipient
            .azp_excused(payload, self.kind.is_session(payload))
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

#[cfg(test)]
mod tests {
    use super::audience::{AudienceRule, RequiredClaim};
    use super::*;
    use crate::token::claim_path::ClaimPath;
    use serde_json::{Value, json};

    fn rules() -> ClaimChecks {
        ClaimChecks {
            issuer: IssuerMatch::Exact(vec!["https://issuer.example.com".into()]),
            recipient: Recipient {
                audience: AudienceRule::Aud(vec!["api".into()]),
                authorized_parties: vec![],
                missing_azp_from_headers: false,
                required: vec![],
            },
            leeway: Duration::from_secs(30),
            past_dates: vec![],
            kind: KindChecks::default(),
        }
    }

    fn check(rules: &ClaimChecks, payload: Value) -> Result<(), AuthError> {
        let payload = Object::borrow(payload.as_object().unwrap());
        rules.check(&payload, "https://issuer.example.com", 1_000_000)
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
        r.recipient.audience =
            AudienceRule::Claim(ClaimPath::claim("client_id"), vec!["app".into()]);
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
        r.recipient.authorized_parties = vec!["https://app.example.com".into()];
        r.recipient.required = vec![RequiredClaim {
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
