//! Whom a token is for: its audience (`aud`, or another claim a provider names), its authorized
//! party (`azp`), and the claims a provider requires.

use crate::error::{AuthError, truncated};
use crate::token::claim_path::ClaimPath;
use crate::token::json::{Json, Object};

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

/// The recipient checks of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recipient {
    pub(crate) audience: AudienceRule,
    pub(crate) authorized_parties: Vec<String>,
    /// A token without `azp` passes when it came in a header (the verifier refuses it from a
    /// cookie: [`Recipient::azp_excused`]).
    pub(crate) missing_azp_from_headers: bool,
    pub(crate) required: Vec<RequiredClaim>,
}

impl Recipient {
    /// Whom the token is for: audience, authorized party, required claims; `session` says whether
    /// the token is a session token (the only kind a missing `azp` may be excused for).
    pub(crate) fn check(&self, payload: &Object<'_>, session: bool) -> Result<(), AuthError> {
        match &self.audience {
            AudienceRule::Skip => {}
            AudienceRule::Aud(expected) => {
                // Exact string equality, the token's side never normalised: a protected resource
                // (RFC 8707 §2) accepts its canonical URL only, not a sub-path or a variant.
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

        if !self.authorized_parties.is_empty() && !self.azp_excused(payload, session) {
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
    /// only. Session tokens only (`session`): Clerk omits `azp` from those when a native app sends
    /// no `Origin`, and nothing else (a JWT template, an OAuth access token) is excused for it.
    pub(crate) fn azp_excused(&self, payload: &Object<'_>, session: bool) -> bool {
        self.missing_azp_from_headers
            && !self.authorized_parties.is_empty()
            && !payload.contains_key("azp")
            && session
    }
}

/// The accepted values of a setting, for a refusal's log line.
fn listed(values: &[String]) -> String {
    truncated(&values.join(", "))
}

/// What a token carries in `claim`, unverified, for a refusal's log line: `aud ["a", "b"]`,
/// `azp "x"`, `no aud`. Never more than [`truncated`] keeps of it.
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
