//! Minting tokens from the test issuer, shaped as a test needs them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

use super::signing_key::b64;
use super::test_issuer::TestIssuer;
use crate::algorithm::Algorithm;

static NEXT_JTI: AtomicU64 = AtomicU64::new(1);

/// Builds and signs one token; start with [`TestIssuer::token`].
///
/// Defaults: `iss` the issuer's URL, `sub` `user-123`, `aud` the issuer's audience, `iat` now, `exp` in
/// one hour, a fresh `jti`, signed by the issuer's first key (RS256 unless started otherwise).
#[must_use = "call .sign() to get the token"]
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    algorithm: Algorithm,
    claims: Map<String, Value>,
    header: Map<String, Value>,
    kid: Option<Option<String>>,
    lifetime: Option<i64>,
}

impl<'a> TokenBuilder<'a> {
    pub(crate) fn new(issuer: &'a TestIssuer) -> TokenBuilder<'a> {
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), issuer.issuer().into());
        claims.insert("sub".into(), "user-123".into());
        claims.insert("aud".into(), issuer.audience().into());
        claims.insert("iat".into(), now.into());
        claims.insert("jti".into(), format!("jti-{}", NEXT_JTI.fetch_add(1, Ordering::Relaxed)).into());
        TokenBuilder {
            issuer,
            algorithm: issuer.default_algorithm(),
            claims,
            header: Map::new(),
            kid: None,
            lifetime: Some(3600),
        }
    }

    /// Sets `sub`.
    pub fn subject(self, subject: impl Into<String>) -> Self {
        self.claim("sub", subject.into())
    }

    /// Sets `email`.
    pub fn email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
    }

    /// Sets `roles` to an array of these names.
    pub fn roles<I, S>(self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.claim("roles", roles)
    }

    /// Sets `scope` to these names, space-separated (RFC 8693 §4.2).
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.claim("scope", scopes.join(" "))
    }

    /// Sets `aud` to one audience.
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.claim("aud", audience.into())
    }

    /// Sets `aud` to an array.
    pub fn audiences<I, S>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let audiences: Vec<String> = audiences.into_iter().map(Into::into).collect();
        self.claim("aud", audiences)
    }

    /// Sets `iss`, e.g. to mint a token for an issuer that is not configured.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.claim("iss", issuer.into())
    }

    /// Sets any claim; `Value::Null` removes it instead.
    pub fn claim(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        match serde_json::to_value(value) {
            Ok(Value::Null) => {
                self.claims.remove(&name);
                if name == "exp" {
                    self.lifetime = None;
                }
            }
            Ok(value) => {
                if name == "exp" {
                    self.lifetime = None;
                }
                self.claims.insert(name, value);
            }
            Err(_) => {}
        }
        self
    }

    /// Removes a claim the builder sets by default (`sub`, `aud`, `iat`, `jti`, `exp`, `iss`).
    pub fn without_claim(self, name: &str) -> Self {
        self.claim(name, Value::Null)
    }

    /// Expires after `lifetime` from now.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.claims.remove("exp");
        self.lifetime = Some(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2));
        self
    }

    /// Expired an hour ago, beyond any leeway.
    pub fn expired(mut self) -> Self {
        self.claims.remove("exp");
        self.lifetime = Some(-3600);
        self
    }

    /// Not valid until `delay` from now (`nbf`).
    pub fn not_before_in(self, delay: Duration) -> Self {
        let nbf = now() + i64::try_from(delay.as_secs()).unwrap_or(0);
        self.claim("nbf", nbf)
    }

    /// Signs with the issuer's current key for this algorithm.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Puts this `kid` in the header instead of the signing key's.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(Some(kid.into()));
        self
    }

    /// Leaves `kid` out of the header.
    pub fn without_kid(mut self) -> Self {
        self.kid = Some(None);
        self
    }

    /// Adds a header parameter (e.g. `jwk`, `crit`), or overrides `alg`/`typ`, to test refusals.
    pub fn header(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value) {
            self.header.insert(name.into(), value);
        }
        self
    }

    /// The payload as it would be signed.
    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = self.claims.clone();
        if let Some(lifetime) = self.lifetime {
            claims.insert("exp".into(), (now() + lifetime).into());
        }
        claims
    }

    /// Signs the token with the issuer's current key for the chosen algorithm.
    ///
    /// # Panics
    /// If the issuer holds no key for the algorithm (see [`TestIssuer::start_with`]).
    pub fn sign(self) -> String {
        let claims = self.claims();
        let key = self.issuer.current_key(self.algorithm);
        let Some(key) = key else {
            panic!("TestIssuer has no {} key; start it with TestIssuer::start_with", self.algorithm);
        };
        let mut header = Map::new();
        header.insert("alg".into(), key.alg.as_str().into());
        header.insert("typ".into(), "JWT".into());
        match self.kid {
            None => {
                header.insert("kid".into(), key.kid.clone().into());
            }
            Some(Some(kid)) => {
                header.insert("kid".into(), kid.into());
            }
            Some(None) => {}
        }
        header.extend(self.header);
        let signing_input = format!("{}.{}", encode(&header), encode(&claims));
        let signature = key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature))
    }
}

fn encode(map: &Map<String, Value>) -> String {
    b64(Value::Object(map.clone()).to_string().as_bytes())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
