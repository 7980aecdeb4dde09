//! Which kind of token a provider accepts: access tokens for this API, not ID tokens, refresh or
//! logout tokens, DPoP proofs or a provider's long-lived template tokens, told apart by what the
//! provider documents (RFC 9068's `typ`, Keycloak's payload `typ`, claims only ID tokens carry).

use crate::error::AuthError;
use crate::identity::{Identity, IdentityKind};
use crate::token::json::{Json, Object};

/// Header `typ` values that name a JWT in general, accepted unless a provider asks for more.
const GENERIC_TYPES: [&str; 3] = ["jwt", "jose", "jose+json"];

/// RFC 9068 §2.1: the `typ` of a JWT access token.
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// The checks one provider makes on the kind of a token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KindChecks {
    /// RFC 9068 strict: the header `typ` must be `at+jwt`.
    pub(crate) access_token_typ: bool,
    /// Claims only another kind of token carries (an ID token's `nonce` or `at_hash`).
    pub(crate) forbidden_claims: Vec<&'static str>,
    /// Claims every access token of the provider carries and its other tokens lack (Zitadel's
    /// `jti`, which its ID tokens never have).
    pub(crate) access_token_claims: Vec<&'static str>,
    /// Claim values that mark a token as refused (Clerk's `sts: pending` sessions).
    pub(crate) refused_values: Vec<(&'static str, &'static str)>,
    /// Clerk: a session token (it names its session, `sid`, and no audience), or a JWT template
    /// token whose `aud` is one of these. A token with any other `aud` is refused, `sid` or not.
    pub(crate) session_or_templates: Option<Vec<String>>,
    /// An app-only token must carry app roles (`roles`), as Microsoft asks of Entra APIs.
    pub(crate) service_needs_roles: bool,
    /// A claim value that declares a DPoP-bound token (Keycloak's payload `typ` `DPoP`): such a
    /// token must carry `cnf.jkt`, so that it is accepted only with a proof.
    pub(crate) bound_type: Option<(&'static str, &'static str)>,
}

impl KindChecks {
    /// The header's `typ`: absent or a generic JWT type, or an access token's; never another kind
    /// of JWT (a DPoP proof, a logout or security event token) presented as a bearer token.
    /// Compared without case and with an optional `application/` prefix (RFC 7515 §4.1.9).
    pub(crate) fn check_header(&self, typ: Option<&str>) -> Result<(), AuthError> {
        let typ = typ.map(str::to_ascii_lowercase);
        let bare = typ
            .as_deref()
            .map(|typ| typ.strip_prefix("application/").unwrap_or(typ));
        let access = bare.is_some_and(|typ| ACCESS_TOKEN_TYPES.contains(&typ));
        let generic = bare.is_none_or(|typ| GENERIC_TYPES.contains(&typ));
        // Clerk types its session tokens `JWT`; `at+jwt` is its OAuth access tokens', issued to
        // a third-party client under the same issuer and keys, without `aud`, with `sid`.
        if access && self.session_or_templates.is_some() {
            return Err(AuthError::WrongTokenKind(
                "header typ at+jwt marks an OAuth access token, not a session token".to_owned(),
            ));
        }
        match (self.access_token_typ, access, generic) {
            (_, true, _) | (false, false, true) => Ok(()),
            (true, false, _) => Err(AuthError::WrongTokenKind(
                "RFC 9068 access tokens carry typ at+jwt".to_owned(),
            )),
            (false, false, false) => Err(AuthError::WrongTokenKind(format!(
                "header typ {:?}",
                typ.unwrap_or_default()
            ))),
        }
    }

    /// The payload's marks of another kind of token.
    pub(crate) fn check_payload(&self, payload: &Object<'_>) -> Result<(), AuthError> {
        if let Some(claim) = self
            .forbidden_claims
            .iter()
            .find(|claim| payload.contains_key(claim))
        {
            return Err(AuthError::WrongTokenKind(format!(
                "`{claim}` marks an ID token"
            )));
        }
        if let Some(claim) = self.access_token_claims.iter().find(|claim| {
            payload
                .get(claim)
                .is_none_or(|value| value.is_null() || value.as_str() == Some(""))
        }) {
            return Err(AuthError::WrongTokenKind(format!(
                "no `{claim}`, which this provider's access tokens carry (its ID tokens do not)"
            )));
        }
        if let Some((claim, value)) = self.bound_type
            && payload.get(claim).and_then(Json::as_str) == Some(value)
        {
            let bound = payload
                .get("cnf")
                .and_then(|cnf| cnf.get("jkt"))
                .and_then(Json::as_str)
                .is_some_and(|jkt| !jkt.is_empty());
            if !bound {
                return Err(AuthError::WrongTokenKind(format!(
                    "`{claim}` {value:?} declares a DPoP-bound token, and it names no key \
                     (cnf.jkt)"
                )));
            }
        }
        for (claim, value) in &self.refused_values {
            if payload.get(claim).and_then(Json::as_str) == Some(value) {
                return Err(AuthError::WrongTokenKind(format!("`{claim}` is {value:?}")));
            }
        }
        if let Some(templates) = &self.session_or_templates {
            if let Some(machine) = clerk_machine_mark(payload) {
                return Err(AuthError::WrongTokenKind(format!(
                    "{machine}: not a session token"
                )));
            }
            let listed = |aud: &str| templates.iter().any(|template| template == aud);
            match payload.get("aud") {
                // Session tokens carry no `aud`: one that names an audience was minted for it (a
                // JWT template), and one naming none of ours for someone else, `sid` or not.
                Some(aud) => {
                    let template = match aud {
                        Json::String(aud) => listed(aud),
                        Json::Array(auds) => auds.iter().filter_map(Json::as_str).any(listed),
                        _ => false,
                    };
                    if !template {
                        return Err(AuthError::WrongTokenKind(
                            "its aud names no JWT template this API accepts: minted for another \
                             audience (a session token carries no aud)"
                                .to_owned(),
                        ));
                    }
                }
                None => {
                    let session = payload
                        .get("sid")
                        .and_then(Json::as_str)
                        .is_some_and(|sid| !sid.is_empty());
                    if !session {
                        return Err(AuthError::WrongTokenKind(
                            "no session (sid) and no aud: neither a session token nor a JWT \
                             template"
                                .to_owned(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `payload` is shaped as a Clerk session token: names its session (`sid`), no `aud`
    /// and none of the marks of Clerk's machine tokens. Only these are excused a missing `azp`
    /// ([`ClaimChecks::azp_excused`](crate::checks::ClaimChecks::azp_excused)).
    pub(crate) fn is_session(&self, payload: &Object<'_>) -> bool {
        self.session_or_templates.is_some()
            && !payload.contains_key("aud")
            && clerk_machine_mark(payload).is_none()
            && payload
                .get("sid")
                .and_then(Json::as_str)
                .is_some_and(|sid| !sid.is_empty())
    }

    /// What only the identity tells: whether an app-only token carries the roles it must.
    pub(crate) fn check_identity(
        &self,
        identity: &Identity,
        payload: &Object<'_>,
    ) -> Result<(), AuthError> {
        let roles = payload
            .get("roles")
            .and_then(Json::as_array)
            .is_some_and(|r| !r.is_empty());
        if self.service_needs_roles && identity.kind == IdentityKind::Service && !roles {
            return Err(AuthError::MissingClaim("roles".to_owned()));
        }
        Ok(())
    }
}

/// What marks a token of Clerk's instance as issued to a machine or an OAuth client rather than
/// a session: `client_id` (an OAuth access token names its client), a `jti` with the OAuth access
/// token prefix `oat_`, or a `sub` with the machine prefix `mch_` (M2M tokens).
fn clerk_machine_mark(payload: &Object<'_>) -> Option<&'static str> {
    let starts = |claim: &str, prefix: &str| {
        payload
            .get(claim)
            .and_then(Json::as_str)
            .is_some_and(|value| value.starts_with(prefix))
    };
    if payload.contains_key("client_id") {
        Some("`client_id` marks an OAuth access token")
    } else if starts("jti", "oat_") {
        Some("`jti` oat_… marks an OAuth access token")
    } else if starts("sub", "mch_") {
        Some("`sub` mch_… marks a machine (M2M) token")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_types() {
        let any = KindChecks::default();
        for ok in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+JWT"),
        ] {
            assert!(any.check_header(ok).is_ok(), "{ok:?}");
        }
        for refused in [
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "application/dpop+jwt",
            "",
        ] {
            assert!(any.check_header(Some(refused)).is_err(), "{refused}");
        }
        let strict = KindChecks {
            access_token_typ: true,
            ..KindChecks::default()
        };
        assert!(strict.check_header(Some("at+jwt")).is_ok());
        assert!(strict.check_header(Some("application/at+jwt")).is_ok());
        assert!(strict.check_header(Some("JWT")).is_err() && strict.check_header(None).is_err());
        // Clerk: session tokens only, never its OAuth access tokens, however `at+jwt` is spelt.
        let clerk = KindChecks {
            session_or_templates: Some(Vec::new()),
            ..KindChecks::default()
        };
        assert!(clerk.check_header(Some("JWT")).is_ok() && clerk.check_header(None).is_ok());
        for oauth in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(
                matches!(
                    clerk.check_header(Some(oauth)),
                    Err(AuthError::WrongTokenKind(_))
                ),
                "{oauth}"
            );
        }
    }

    #[test]
    fn payload_marks() {
        let rules = KindChecks {
            forbidden_claims: vec!["at_hash", "nonce"],
            refused_values: vec![("sts", "pending")],
            ..KindChecks::default()
        };
        let check = |payload: serde_json::Value| {
            rules.check_payload(&Object::borrow(payload.as_object().unwrap()))
        };
        assert!(check(json!({"sub": "a"})).is_ok());
        assert!(check(json!({"at_hash": "x"})).is_err());
        assert!(check(json!({"sts": "pending"})).is_err());
        assert!(check(json!({"sts": "active"})).is_ok());

        let zitadel = KindChecks {
            forbidden_claims: vec!["at_hash"],
            access_token_claims: vec!["jti"],
            ..KindChecks::default()
        };
        let check = |payload: serde_json::Value| {
            zitadel.check_payload(&Object::borrow(payload.as_object().unwrap()))
        };
        assert!(check(json!({"jti": "V2_1"})).is_ok());
        for id_token in [json!({}), json!({"jti": ""}), json!({"jti": null})] {
            let Err(AuthError::WrongTokenKind(reason)) = check(id_token.clone()) else {
                panic!("{id_token} is no access token");
            };
            assert!(reason.contains("`jti`"), "{reason}");
        }
        let Err(AuthError::WrongTokenKind(reason)) = check(json!({"at_hash": "x"})) else {
            panic!("an ID token");
        };
        assert!(
            reason.contains("at_hash"),
            "the precise marker first: {reason}"
        );

        let keycloak = KindChecks {
            bound_type: Some(("typ", "DPoP")),
            ..KindChecks::default()
        };
        let check = |payload: serde_json::Value| {
            keycloak.check_payload(&Object::borrow(payload.as_object().unwrap()))
        };
        assert!(check(json!({"typ": "DPoP", "cnf": {"jkt": "abc"}})).is_ok());
        assert!(check(json!({"typ": "Bearer"})).is_ok());
        for unbound in [
            json!({"typ": "DPoP"}),
            json!({"typ": "DPoP", "cnf": {}}),
            json!({"typ": "DPoP", "cnf": {"jkt": ""}}),
            json!({"typ": "DPoP", "cnf": {"x5t#S256": "abc"}}),
        ] {
            assert!(
                matches!(check(unbound.clone()), Err(AuthError::WrongTokenKind(_))),
                "{unbound}"
            );
        }

        let clerk = KindChecks {
            session_or_templates: Some(vec!["https://partner.example.com".to_owned()]),
            ..KindChecks::default()
        };
        let check = |payload: serde_json::Value| {
            clerk.check_payload(&Object::borrow(payload.as_object().unwrap()))
        };
        assert!(check(json!({"sid": "sess_1"})).is_ok());
        assert!(check(json!({"aud": "https://partner.example.com"})).is_ok());
        assert!(check(json!({"aud": ["x", "https://partner.example.com"]})).is_ok());
        assert!(check(json!({"aud": "https://other.example.com"})).is_err());
        assert!(check(json!({"sid": ""})).is_err());
        // A session names no audience: a `sid` does not excuse an `aud` this API never accepted.
        assert!(check(json!({"sid": "sess_1", "aud": "https://other.example.com"})).is_err());
        assert!(check(json!({"sid": "sess_1", "aud": []})).is_err());
        assert!(check(json!({"sid": "sess_1", "aud": null})).is_err());
        assert!(check(json!({"sid": "sess_1", "aud": "https://partner.example.com"})).is_ok());
        // Clerk's OAuth access tokens and M2M tokens, with or without a template's audience.
        for machine in [
            json!({"sid": "sess_1", "client_id": "client_2V"}),
            json!({"sid": "sess_1", "client_id": null}),
            json!({"sid": "sess_1", "jti": "oat_2xKa"}),
            json!({"sid": "sess_1", "sub": "mch_cron"}),
            json!({"aud": "https://partner.example.com", "sub": "mch_cron"}),
            json!({"aud": "https://partner.example.com", "client_id": "client_2V"}),
        ] {
            assert!(
                matches!(check(machine.clone()), Err(AuthError::WrongTokenKind(_))),
                "{machine}"
            );
            let payload = Object::borrow(machine.as_object().unwrap());
            assert!(!clerk.is_session(&payload), "{machine}");
        }
        assert!(check(json!({"sid": "sess_1", "sub": "user_2v", "jti": "abc"})).is_ok());
        let is_session = |payload: serde_json::Value| {
            clerk.is_session(&Object::borrow(payload.as_object().unwrap()))
        };
        assert!(is_session(json!({"sid": "sess_1", "sub": "user_2v"})));
        assert!(!is_session(
            json!({"sid": "sess_1", "aud": "https://partner.example.com"})
        ));
        assert!(!is_session(json!({"sid": ""})) && !is_session(json!({})));
        assert!(!KindChecks::default().is_session(&Object::borrow(
            json!({"sid": "sess_1"}).as_object().unwrap()
        )));
    }
}
