//! A signed token checked with its issuer by introspection (`Introspection::all_tokens`). The
//! answer says whether the token still stands and may add what the token leaves out (roles, which
//! Keycloak's lightweight access tokens omit), but what the verified token says of itself holds:
//! who issued it and whom it names (`iss`, `sub`), whom it is for (`aud`, `azp`), the key it is
//! bound to (`cnf`), which token it is and when it began and ends (`jti`, `iat`, `exp`, which
//! revocations go by). Otherwise an answer without `cnf` would turn a DPoP-bound token into a
//! bearer token, and one with a later `iat` would escape a "sign out everywhere".

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::token::date::numeric_date;
use crate::token::json::{Json, Object};

/// The claims an answer may leave out (the token's then apply) but not contradict.
const BINDING: [&str; 6] = ["iss", "sub", "aud", "azp", "cnf", "jti"];

/// A signed token's own claims, which its introspection answer may not drop or contradict.
#[derive(Debug)]
pub(crate) struct SignedClaims {
    /// Each of [`BINDING`] the token carries, with its value.
    claims: Vec<(&'static str, Value)>,
    /// `exp`, if the token carries a valid NumericDate.
    exp: Option<i64>,
    /// `iat`, likewise.
    iat: Option<i64>,
}

impl SignedClaims {
    /// The claims of a payload whose signature verified.
    pub(crate) fn of(payload: &Object<'_>) -> SignedClaims {
        SignedClaims {
            claims: BINDING
                .iter()
                .filter_map(|name| Some((*name, payload.get(name)?.to_value())))
                .collect(),
            exp: date(payload, "exp"),
            iat: date(payload, "iat"),
        }
    }

    /// Puts the token's claims into `answer` where it lacks them, and its `exp` and `iat` where the
    /// answer's are later; refuses an answer that contradicts one of them, naming the claim.
    pub(crate) fn carry_into(&self, answer: &mut Map<String, Value>) -> Result<(), AuthError> {
        for (name, own) in &self.claims {
            match answer.get(*name) {
                None => {
                    answer.insert((*name).to_owned(), own.clone());
                }
                Some(said) if agree(name, own, said) => {}
                Some(_) => {
                    return Err(AuthError::InvalidClaim(format!(
                        "{name}: the introspection answer {} than the signed token",
                        contradiction(name)
                    )));
                }
            }
        }
        // The earlier of each: an answer can neither lengthen the token's life nor make it look
        // newer than a revocation of its subject.
        for (name, own) in [("exp", self.exp), ("iat", self.iat)] {
            let Some(own) = own else { continue };
            // An answer's date that is not a date is left for the claim checks to refuse.
            let later = match answer.get(name) {
                None => true,
                Some(said) => said
                    .as_number()
                    .and_then(numeric_date)
                    .is_some_and(|said| said > own),
            };
            if later {
                answer.insert(name.to_owned(), own.into());
            }
        }
        Ok(())
    }
}

/// A NumericDate claim of the token, if valid.
fn date(payload: &Object<'_>, name: &str) -> Option<i64> {
    payload
        .get(name)
        .and_then(Json::as_number)
        .and_then(numeric_date)
}

/// Whether the answer's value of a claim says what the token's does.
fn agree(name: &str, own: &Value, said: &Value) -> bool {
    match name {
        // Compared as sets: the same audiences, whatever their order, repeats, or a string for a
        // set of one. Neither may name one the other does not.
        "aud" => match (audiences(own), audiences(said)) {
            (Some(own), Some(said)) => own == said,
            _ => own == said,
        },
        // The key the token is bound to: the same `jkt`, or neither names one (another kind of
        // confirmation, such as a certificate's `x5t#S256`, is the issuer's to state).
        "cnf" => own.get("jkt") == said.get("jkt"),
        _ => own == said,
    }
}

/// An `aud` as a set of names: a string, or an array of strings.
fn audiences(aud: &Value) -> Option<BTreeSet<&str>> {
    match aud {
        Value::String(one) => Some(BTreeSet::from([one.as_str()])),
        Value::Array(many) => many.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// How an answer contradicts the token, for the log.
fn contradiction(name: &str) -> &'static str {
    match name {
        "iss" => "names another issuer",
        "sub" => "names another subject",
        "aud" => "names other audiences",
        "azp" => "names another authorized party",
        "cnf" => "binds another DPoP key (cnf.jkt)",
        "jti" => "is about another token (jti)",
        _ => "says otherwise",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn carried(token: Value, answer: Value) -> Result<Value, AuthError> {
        let signed = SignedClaims::of(&Object::borrow(token.as_object().unwrap()));
        let Value::Object(mut answer) = answer else {
            panic!("an object")
        };
        signed.carry_into(&mut answer)?;
        Ok(Value::Object(answer))
    }

    #[test]
    fn what_the_answer_leaves_out_the_token_says() {
        let token = json!({
            "iss": "https://i", "sub": "ada", "aud": ["api"], "azp": "app",
            "cnf": {"jkt": "k1"}, "jti": "t-1", "iat": 1_000, "exp": 2_000_000_000,
            "roles": ["viewer"],
        });
        let answer = json!({"scope": "read", "roles": ["admin"]});
        assert_eq!(
            carried(token, answer).unwrap(),
            json!({
                "iss": "https://i", "sub": "ada", "aud": ["api"], "azp": "app",
                "cnf": {"jkt": "k1"}, "jti": "t-1", "iat": 1_000, "exp": 2_000_000_000,
                "scope": "read", "roles": ["admin"],
            }),
            "the answer's other claims, roles included, stand"
        );
    }

    #[test]
    fn an_answer_that_agrees_stands() {
        let token = json!({"sub": "ada", "aud": ["b", "a", "a"], "cnf": {"jkt": "k1"}});
        let answer = json!({
            "sub": "ada", "aud": ["a", "b"], "cnf": {"jkt": "k1", "x5t#S256": "c"},
        });
        assert_eq!(carried(token, answer.clone()).unwrap(), answer);
        let one = carried(json!({"aud": "a"}), json!({"aud": ["a"]})).unwrap();
        assert_eq!(one, json!({"aud": ["a"]}));
        // What the token leaves out, the answer may add: a binding, a subject.
        let bound = carried(json!({}), json!({"cnf": {"jkt": "k2"}, "sub": "x"})).unwrap();
        assert_eq!(bound, json!({"cnf": {"jkt": "k2"}, "sub": "x"}));
    }

    #[test]
    fn an_answer_that_contradicts_the_token_is_refused_naming_the_claim() {
        let token = json!({
            "iss": "https://i", "sub": "ada", "aud": ["a", "b"], "azp": "app",
            "cnf": {"jkt": "k1"}, "jti": "t-1",
        });
        let cases = [
            ("iss", json!({"iss": "https://other"})),
            ("sub", json!({"sub": "bob"})),
            ("aud", json!({"aud": ["a"]})),
            ("aud", json!({"aud": ["a", "b", "c"]})),
            ("aud", json!({"aud": "a"})),
            ("aud", json!({"aud": 7})),
            ("azp", json!({"azp": "other-app"})),
            ("cnf", json!({"cnf": {"jkt": "k2"}})),
            ("cnf", json!({"cnf": {"x5t#S256": "c"}})),
            ("cnf", json!({"cnf": "k1"})),
            ("jti", json!({"jti": "another"})),
        ];
        for (claim, answer) in cases {
            let refused = carried(token.clone(), answer.clone()).unwrap_err();
            let AuthError::InvalidClaim(reason) = &refused else {
                panic!("{answer}: {refused:?}");
            };
            assert!(
                reason.starts_with(&format!("{claim}: ")),
                "{answer}: {reason}"
            );
            assert!(reason.contains("introspection answer"), "{reason}");
        }
    }

    #[test]
    fn the_answer_cannot_make_the_token_look_newer() {
        let token = json!({"iat": 1_000});
        assert_eq!(
            carried(token.clone(), json!({"iat": 1_500})).unwrap()["iat"],
            1_000
        );
        assert_eq!(carried(token, json!({"iat": 900})).unwrap()["iat"], 900);
    }

    #[test]
    fn the_answer_cannot_lengthen_the_tokens_life() {
        let token = json!({"exp": 1_000});
        assert_eq!(
            carried(token.clone(), json!({"exp": 2_000})).unwrap()["exp"],
            1_000
        );
        assert_eq!(
            carried(token.clone(), json!({"exp": 500})).unwrap()["exp"],
            500
        );
        assert_eq!(carried(token.clone(), json!({})).unwrap()["exp"], 1_000);
        assert_eq!(
            carried(token, json!({"exp": "soon"})).unwrap()["exp"],
            "soon",
            "left for the claim checks to refuse"
        );
        assert_eq!(
            carried(json!({}), json!({"exp": 2_000})).unwrap()["exp"],
            2_000
        );
    }
}
