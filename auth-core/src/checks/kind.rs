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
    }
}
