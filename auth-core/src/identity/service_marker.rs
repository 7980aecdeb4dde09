//! The machine test: when a token stands for a machine rather than a person, by its claims.

use crate::token::claim_path::ClaimPath;
use crate::token::json::{Json, Object};

/// When a token stands for a machine rather than a person: conditions on the verified payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceMarker {
    /// The claim is a non-empty string, e.g. Cloudflare's `common_name` on service tokens.
    ClaimPresent(ClaimPath),
    /// The claim is absent, e.g. Okta's `uid` on client-credentials tokens.
    ClaimAbsent(ClaimPath),
    /// The claim equals the value, e.g. Entra's `idtyp` = `app`.
    ClaimEquals(ClaimPath, String),
    /// The claim is the JSON boolean `true`, e.g. Google's `email_verified`.
    ClaimIsTrue(ClaimPath),
    /// The claim is a string ending with the value, e.g. a Google service account's `email`
    /// (`….gserviceaccount.com`). Never a test of an identifier someone else chooses the end of:
    /// an Auth0 enterprise login's `sub` can end with `@clients` too (see
    /// [`ServiceMarker::ClaimIsClaimWithSuffix`]).
    ClaimEndsWith(ClaimPath, String),
    /// The claim is a string starting with the value, e.g. Keycloak's `service-account-`.
    ClaimStartsWith(ClaimPath, String),
    /// Two claims hold the same non-empty string, e.g. RFC 9068's `sub` = `client_id`.
    ClaimsEqual(ClaimPath, ClaimPath),
    /// The first claim is exactly the second (a non-empty string) followed by the suffix, e.g.
    /// Auth0's `sub` = `<azp>@clients`.
    ClaimIsClaimWithSuffix(ClaimPath, ClaimPath, String),
    /// The first claim is a non-empty string that the second holds: equal to it, or one of its
    /// items when it is an array, e.g. Zitadel's `client_id` among `aud`.
    ClaimIn(ClaimPath, ClaimPath),
    /// The rule does not hold, e.g. Zitadel's "not a person's token" (a person's names an
    /// application in `client_id`).
    Not(Box<ServiceMarker>),
    /// Every rule holds.
    All(Vec<ServiceMarker>),
    /// At least one rule holds.
    Any(Vec<ServiceMarker>),
}

impl ServiceMarker {
    /// Whether the payload satisfies the rule.
    pub(crate) fn holds(&self, payload: &Object<'_>) -> bool {
        let text = |path: &ClaimPath| {
            path.find(payload)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        match self {
            ServiceMarker::ClaimPresent(path) => text(path).is_some(),
            ServiceMarker::ClaimAbsent(path) => path.find(payload).is_none_or(Json::is_null),
            ServiceMarker::ClaimEquals(path, value) => text(path) == Some(value.as_str()),
            ServiceMarker::ClaimIsTrue(path) => {
                matches!(path.find(payload), Some(Json::Bool(true)))
            }
            ServiceMarker::ClaimEndsWith(path, end) => {
                text(path).is_some_and(|v| v.ends_with(&**end))
            }
            ServiceMarker::ClaimStartsWith(path, start) => {
                text(path).is_some_and(|v| v.starts_with(&**start))
            }
            ServiceMarker::ClaimsEqual(a, b) => text(a).is_some() && text(a) == text(b),
            ServiceMarker::ClaimIsClaimWithSuffix(a, b, suffix) => text(a)
                .zip(text(b))
                .is_some_and(|(a, b)| a.strip_suffix(&**suffix) == Some(b)),
            ServiceMarker::ClaimIn(a, b) => text(a).is_some_and(|a| match b.find(payload) {
                Some(Json::String(b)) => a == &**b,
                Some(Json::Array(items)) => items.iter().any(|item| item.as_str() == Some(a)),
                _ => false,
            }),
            ServiceMarker::Not(rule) => !rule.holds(payload),
            ServiceMarker::All(rules) => rules.iter().all(|rule| rule.holds(payload)),
            ServiceMarker::Any(rules) => rules.iter().any(|rule| rule.holds(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claim_in_and_not() {
        let holds = |rule: &ServiceMarker, payload: serde_json::Value| {
            rule.holds(&Object::borrow(payload.as_object().unwrap()))
        };
        let among = ServiceMarker::ClaimIn(ClaimPath::claim("client_id"), ClaimPath::claim("aud"));
        assert!(holds(&among, json!({"client_id": "c", "aud": ["p", "c"]})));
        assert!(holds(&among, json!({"client_id": "c", "aud": "c"})));
        for not_among in [
            json!({"client_id": "c", "aud": ["p"]}),
            json!({"client_id": "c", "aud": "p"}),
            json!({"client_id": "c"}),
            json!({"client_id": "", "aud": [""]}),
            json!({"client_id": 1, "aud": [1]}),
            json!({"aud": ["c"]}),
        ] {
            assert!(!holds(&among, not_among.clone()), "{not_among}");
        }
        let auth0_machine = ServiceMarker::ClaimIsClaimWithSuffix(
            ClaimPath::claim("sub"),
            ClaimPath::claim("azp"),
            "@clients".to_owned(),
        );
        assert!(holds(
            &auth0_machine,
            json!({"sub": "abc@clients", "azp": "abc"})
        ));
        for person in [
            json!({"sub": "samlp|acme-corp|ops@clients", "azp": "abc"}),
            json!({"sub": "xabc@clients", "azp": "abc"}),
            json!({"sub": "abc@clients"}),
            json!({"sub": "@clients", "azp": ""}),
            json!({"sub": "abc", "azp": "abc"}),
        ] {
            assert!(!holds(&auth0_machine, person.clone()), "{person}");
        }
        let verified = ServiceMarker::ClaimIsTrue(ClaimPath::claim("email_verified"));
        assert!(holds(&verified, json!({"email_verified": true})));
        for not_true in [
            json!({"email_verified": "true"}),
            json!({"email_verified": false}),
            json!({}),
        ] {
            assert!(!holds(&verified, not_true.clone()), "{not_true}");
        }
        let not = ServiceMarker::Not(Box::new(among));
        assert!(holds(&not, json!({"client_id": "c", "aud": ["p"]})));
        assert!(!holds(&not, json!({"client_id": "c", "aud": ["c"]})));
    }
}
