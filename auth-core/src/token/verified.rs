//! A token that passed every check: its payload, the identity built from it, and how it was
//! verified.

use std::sync::{Arc, LazyLock, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::identity::Identity;
use crate::keys::algorithm::Algorithm;
use crate::token::claims::Claims;
use crate::token::date::numeric_date;
use crate::token::json::{Json, Object};

/// A verified token, before conversion into the application's claims type. Shared: a verified-token
/// cache hit returns the same allocation.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::testing::TestIssuer;
/// use auth_core::{StandardClaims, Verifier};
///
/// let issuer = TestIssuer::start().await;
/// let verifier = Verifier::new(issuer.provider())?;
/// let token = issuer.token().subject("ada").roles(["admin"]).claim("tenant", "acme").sign();
/// let verified = verifier.verify_token(&token).await?;
///
/// // The identity the provider's claims make, and the payload as it came.
/// assert_eq!(verified.identity().subject, "ada");
/// assert!(verified.identity().roles.contains("admin"));
/// assert_eq!(verified.payload()["tenant"], "acme");
/// // How it was verified: its signature checked here, with a key of the issuer's.
/// assert!(!verified.is_introspected() && verified.algorithm().is_some());
/// assert!(verified.kid().is_some() && !verified.is_dpop_bound());
/// // The application's claims type, the identity alongside.
/// let claims = verified.claims::<StandardClaims>()?;
/// assert_eq!(claims.identity().subject, "ada");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The payload's JSON text, which verification read in place.
    text: String,
    /// The payload as a map, read from `text` only when it is first asked for (by
    /// [`VerifiedToken::payload`] or the application's claims type): the checks and the identity
    /// do not need it, so an uncached request for `Identity` alone never builds it. `None` if the
    /// text does not read as a map, which verification's own reading should make impossible.
    payload: OnceLock<Option<Map<String, Value>>>,
    facts: PayloadFacts,
    /// `jti`, read from `text` when a revocation check first asks (only when revocations are held),
    /// so a verification without them does not copy it.
    jti: OnceLock<Option<Box<str>>>,
    identity: Arc<Identity>,
    /// The signature's algorithm, or `None` for a token the issuer vouched for by introspection.
    algorithm: Option<Algorithm>,
    kid: Option<String>,
    /// Which of the verifier's providers accepted it.
    provider: usize,
}

/// What the verifier asks of a verified payload on later requests (a cache hit's expiry check,
/// DPoP on every request, revocations while any are held), read once when it is verified.
#[derive(Debug, Clone, Default)]
pub(crate) struct PayloadFacts {
    /// `exp`, as a NumericDate.
    exp: Option<i64>,
    /// `exp` is not the issuer's: an introspection answer left it out (RFC 7662 allows that) and
    /// the verifier set it to when the answer stops being cached. The token itself may live much
    /// longer, so a revocation must not end there.
    exp_assumed: bool,
    /// `iat`, as a NumericDate (a subject's revocation asks it).
    iat: Option<i64>,
    /// `cnf.jkt`: the thumbprint of the DPoP key the token is bound to.
    thumbprint: Option<Box<str>>,
    /// `token_type` is `DPoP` (RFC 7662 answers say so instead of `cnf`).
    dpop_type: bool,
    /// Accepted without `azp` under `Provider::accept_missing_azp_from_headers`: it counts when
    /// sent in a header, never from a cookie.
    header_only: bool,
}

impl PayloadFacts {
    pub(crate) fn exp(&self) -> Option<i64> {
        self.exp
    }

    /// The same facts, their `exp` one the verifier set in place of the issuer's.
    pub(crate) fn with_assumed_exp(self) -> PayloadFacts {
        PayloadFacts {
            exp_assumed: true,
            ..self
        }
    }

    /// Marks a token that counts only when sent in a header.
    pub(crate) fn header_only(mut self, header_only: bool) -> PayloadFacts {
        self.header_only = header_only;
        self
    }

    pub(crate) fn of(payload: &Object<'_>) -> PayloadFacts {
        let date = |name: &str| {
            payload
                .get(name)
                .and_then(Json::as_number)
                .and_then(numeric_date)
        };
        PayloadFacts {
            exp: date("exp"),
            exp_assumed: false,
            iat: date("iat"),
            thumbprint: payload
                .get("cnf")
                .and_then(|cnf| cnf.get("jkt"))
                .and_then(Json::as_str)
                .map(Box::from),
            dpop_type: payload
                .get("token_type")
                .and_then(Json::as_str)
                .is_some_and(|kind| kind.eq_ignore_ascii_case("dpop")),
            header_only: false,
        }
    }
}

impl VerifiedToken {
    /// A token whose signature held; `text` is its payload, which `facts` were read from.
    pub(crate) fn new(
        text: String,
        facts: PayloadFacts,
        identity: Identity,
        algorithm: Algorithm,
        kid: Option<String>,
        provider: usize,
    ) -> VerifiedToken {
        VerifiedToken {
            text,
            payload: OnceLock::new(),
            facts,
            jti: OnceLock::new(),
            identity: Arc::new(identity),
            algorithm: Some(algorithm),
            kid,
            provider,
        }
    }

    /// A token the issuer said is active, with its introspection response as the payload.
    pub(crate) fn introspected(
        payload: Map<String, Value>,
        facts: PayloadFacts,
        identity: Identity,
        provider: usize,
    ) -> VerifiedToken {
        VerifiedToken {
            jti: OnceLock::from(payload.get("jti").and_then(Value::as_str).map(Box::from)),
            // The answer arrives as a map, which is the payload; with it and `jti` set here, no
            // reader turns to a text, so none is written.
            text: String::new(),
            payload: OnceLock::from(Some(payload)),
            facts,
            identity: Arc::new(identity),
            algorithm: None,
            kid: None,
            provider,
        }
    }

    /// Which provider accepted the token: its position among those given to the verifier
    /// (in [`Verifier::any_of`](crate::Verifier::any_of) order; 0 for
    /// [`Verifier::new`](crate::Verifier::new)).
    /// [`Verifier::issuer_label`](crate::Verifier::issuer_label) names it.
    pub fn provider(&self) -> usize {
        self.provider
    }

    /// The verified payload. Read into a map the first time it is asked for (by this method or by
    /// [`VerifiedToken::claims`]), then kept with the token.
    pub fn payload(&self) -> &Map<String, Value> {
        static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
        self.map().unwrap_or(&EMPTY)
    }

    fn map(&self) -> Option<&Map<String, Value>> {
        self.payload
            .get_or_init(|| serde_json::from_str(&self.text).ok())
            .as_ref()
    }

    /// `exp`, as a NumericDate.
    pub(crate) fn exp(&self) -> Option<i64> {
        self.facts.exp
    }

    /// Whether [`VerifiedToken::exp`] is not the issuer's but the verifier's stand-in (an
    /// introspection answer without `exp`): the token may be accepted again after it.
    pub(crate) fn exp_assumed(&self) -> bool {
        self.facts.exp_assumed
    }

    /// `iat`, as a NumericDate: a subject's revocation spares tokens issued after it.
    pub(crate) fn iat(&self) -> Option<i64> {
        self.facts.iat
    }

    /// `jti`: a token's revocation names it.
    pub(crate) fn jti(&self) -> Option<&str> {
        self.jti
            .get_or_init(|| {
                let payload = Object::parse(&self.text).ok()?;
                payload.get("jti").and_then(Json::as_str).map(Box::from)
            })
            .as_deref()
    }

    /// The provider-normalised identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity, shared.
    pub fn shared_identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    /// The algorithm the signature was verified with; `None` when the issuer vouched for the token
    /// by introspection.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// Whether the issuer vouched for the token by introspection (RFC 7662), rather than its
    /// signature being verified here.
    pub fn is_introspected(&self) -> bool {
        self.algorithm.is_none()
    }

    /// The RFC 7638 thumbprint of the key the token is bound to (`cnf.jkt`), if it is DPoP-bound.
    /// A token returned by the verifier with one was presented with a valid proof by that key.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.facts.thumbprint.as_deref()
    }

    /// Whether the token is bound to a DPoP key: `cnf.jkt`, or an introspection answer's
    /// `token_type` of `DPoP`.
    pub fn is_dpop_bound(&self) -> bool {
        self.dpop_thumbprint().is_some() || (self.is_introspected() && self.facts.dpop_type)
    }

    /// Whether the token counts only when sent in a header, never from a cookie: a Clerk session
    /// token without `azp`, accepted under
    /// [`Provider::accept_missing_azp_from_headers`](crate::Provider::accept_missing_azp_from_headers).
    pub(crate) fn header_only(&self) -> bool {
        self.facts.header_only
    }

    /// How long the token has left before its `exp` (zero once past; `None` without `exp`, also
    /// for an introspected token whose answer gave none: the verifier's stand-in only bounds its
    /// cache). A long-lived connection opened with it, such as a WebSocket, should end then:
    /// close with 1008 (policy violation) and let the client reconnect with a fresh token.
    pub fn expires_in(&self) -> Option<std::time::Duration> {
        if self.facts.exp_assumed {
            return None;
        }
        let exp = self.facts.exp?;
        let left = exp.saturating_sub(crate::token::date::now());
        Some(std::time::Duration::from_secs(
            u64::try_from(left).unwrap_or(0),
        ))
    }

    /// The `kid` of the key that verified the token.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The payload as the application's type, with the identity.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<Claims<T>, AuthError> {
        self.deserialize()
            .map(|claims| Claims::new(claims, Arc::clone(&self.identity)))
    }

    /// Only the payload as the application's type, for callers that keep the identity elsewhere.
    /// Read from [`VerifiedToken::payload`]'s map: a cached token is read on every request, and
    /// from the map that costs about 7,000 instructions for `StandardClaims`, against 10,000
    /// from the text (its `flatten` buffers every claim either way). The map is built once.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        // Never an empty map's defaults in place of claims that did not read.
        let map = self.map().ok_or_else(|| {
            AuthError::ClaimsType("the payload does not read as a JSON object".to_owned())
        })?;
        T::deserialize(map).map_err(|err| AuthError::ClaimsType(err.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::StandardClaims;

    fn verified(text: &str) -> VerifiedToken {
        let facts = PayloadFacts::of(&Object::parse(text).unwrap());
        VerifiedToken::new(
            text.to_owned(),
            facts,
            Identity::default(),
            Algorithm::RS256,
            None,
            0,
        )
    }

    #[test]
    fn the_payload_text_answers_every_reader_alike() {
        let text = r#"{"iss":"https://i","sub":"a\u00e9","exp":2000000000.5,"cnf":{"jkt":"t"},
            "sub":"b","jti":"j"}"#;
        let token = verified(text);
        assert_eq!(token.dpop_thumbprint(), Some("t"));
        assert!(token.is_dpop_bound());
        assert_eq!(token.exp(), Some(2_000_000_000));
        assert_eq!(token.jti(), Some("j"));
        let claims: StandardClaims = token.deserialize().unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.exp),
            ("b", Some(2_000_000_000)),
            "a repeated name reads as its last value, as in the map and the checks"
        );
        let map: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(
            token.payload(),
            &map,
            "the map is the text's, built on demand"
        );
        assert_eq!(token.clone().payload(), &map);
    }

    #[test]
    fn a_claims_type_that_does_not_fit_is_an_error_not_a_panic() {
        let token = verified(r#"{"sub":1,"exp":1}"#);
        assert!(matches!(
            token.deserialize::<StandardClaims>(),
            Err(AuthError::ClaimsType(_))
        ));
        let unbound = verified(r#"{"token_type":"DPoP"}"#);
        assert!(
            !unbound.is_dpop_bound(),
            "token_type counts only for introspection answers"
        );
        let unreadable = VerifiedToken::new(
            "[]".to_owned(),
            PayloadFacts::default(),
            Identity::default(),
            Algorithm::RS256,
            None,
            0,
        );
        assert!(unreadable.payload().is_empty());
        assert!(
            matches!(
                unreadable.deserialize::<StandardClaims>(),
                Err(AuthError::ClaimsType(_))
            ),
            "never the defaults of an empty map"
        );
    }
}
