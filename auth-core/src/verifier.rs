//! The verification pipeline: token → header → issuer → key → signature → claims → identity.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::claims::Claims;
use crate::error::{AuthError, ConfigError, Malformed};
use crate::fetch;
use crate::identity::{Identity, IdentityMapping};
use crate::key_store::KeyStore;
use crate::provider::{IssuerMatch, Provider};
use crate::token::{self, CompactToken};
use crate::token_source::TokenSource;
use crate::validation::{self, ClaimRules};

/// Verifies tokens from one or more configured providers. Cheap to clone; clones share keys and caches.
///
/// Construction checks every setting without touching the network; keys are fetched on first use, or
/// up front with [`Verifier::prefetch`].
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuers: Vec<Issuer>,
    token_sources: Vec<TokenSource>,
}

#[derive(Debug)]
struct Issuer {
    matcher: IssuerMatch,
    algorithms: AlgorithmSet,
    rules: ClaimRules,
    mapping: IdentityMapping,
    keys: Arc<KeyStore>,
}

/// A token that passed every check, before conversion into the application's claims type.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    payload: Value,
    identity: Identity,
    algorithm: Algorithm,
    kid: Option<String>,
}

impl VerifiedToken {
    /// The verified payload, a JSON object.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The provider-normalised identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Mutable identity, for adding request-scoped roles.
    pub fn identity_mut(&mut self) -> &mut Identity {
        &mut self.identity
    }

    /// The algorithm the signature was verified with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified the token.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The payload as the application's type, with the identity.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<Claims<T>, AuthError> {
        T::deserialize(&self.payload)
            .map(|claims| Claims::new(claims, self.identity.clone()))
            .map_err(|err| AuthError::ClaimsType(err.to_string()))
    }

    /// Like [`VerifiedToken::claims`], consuming the token to avoid copying the payload.
    pub fn into_claims<T: DeserializeOwned>(self) -> Result<Claims<T>, AuthError> {
        match self.payload {
            Value::Object(payload) => Claims::from_payload(payload, self.identity).map_err(AuthError::ClaimsType),
            _ => Err(AuthError::Malformed(Malformed::Payload)),
        }
    }
}

impl Verifier {
    /// A verifier for one provider.
    pub fn new(provider: Provider) -> Result<Verifier, ConfigError> {
        Verifier::any_of([provider])
    }

    /// A verifier for several providers (multi-tenant, or two identity providers at once). The token's
    /// unverified `iss` picks the provider; an `iss` no provider accepts is refused without any fetch.
    pub fn any_of(providers: impl IntoIterator<Item = Provider>) -> Result<Verifier, ConfigError> {
        let client = fetch::client()?;
        let mut issuers = Vec::new();
        let mut token_sources: Vec<TokenSource> = Vec::new();
        for provider in providers {
            let rules = provider.validate()?;
            for source in &provider.token_sources {
                if !token_sources.contains(source) {
                    token_sources.push(source.clone());
                }
            }
            let keys = Arc::new(KeyStore::new(
                provider.keys.clone(),
                provider.issuer.discovery_issuer(),
                provider.algorithms,
                provider.key_settings.clone(),
                client.clone(),
            ));
            issuers.push(Issuer {
                matcher: provider.issuer,
                algorithms: provider.algorithms,
                rules,
                mapping: provider.mapping,
                keys,
            });
        }
        if issuers.is_empty() {
            return Err(ConfigError::new("providers", "no provider given; pass at least one Provider"));
        }
        Ok(Verifier { inner: Arc::new(Inner { issuers, token_sources }) })
    }

    /// Every token source any provider uses, in order of first mention.
    pub fn token_sources(&self) -> &[TokenSource] {
        &self.inner.token_sources
    }

    /// Fetches every provider's keys now; fails with the URL and the cause if any cannot be loaded.
    /// Call it at startup to fail fast when an issuer is unreachable or misconfigured.
    pub async fn prefetch(&self) -> Result<(), ConfigError> {
        for issuer in &self.inner.issuers {
            issuer.keys.prefetch().await.map_err(|reason| {
                ConfigError::new(format!("keys for issuer {}", issuer.matcher.discovery_issuer()), reason)
            })?;
        }
        Ok(())
    }

    /// Verifies `token` and deserialises its payload into `T` (use [`crate::StandardClaims`] for the
    /// registered claims plus a map of the rest).
    pub async fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<Claims<T>, AuthError> {
        self.verify_token(token).await?.into_claims()
    }

    /// Verifies `token`, keeping the payload as JSON.
    pub async fn verify_token(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let mut header_buf = token::header_buf();
        let compact = token::parse(token, &mut header_buf)?;
        let payload = parse_payload(compact.payload)?;
        let iss = payload.get("iss").and_then(Value::as_str).ok_or_else(|| AuthError::MissingClaim("iss".into()))?;
        let issuer =
            self.inner.issuers.iter().find(|issuer| issuer.matcher.matches(iss)).ok_or(AuthError::UnknownIssuer)?;

        issuer.verify_signature(&compact).await?;
        issuer.rules.check(&payload, validation::now())?;
        issuer.matcher.check_tenant(iss, &payload)?;
        let identity = issuer.mapping.identity(&payload, iss);
        Ok(VerifiedToken {
            payload: Value::Object(payload),
            identity,
            algorithm: compact.alg,
            kid: compact.kid.map(|kid| kid.into_owned()),
        })
    }

    /// JWKS documents fetched so far across all providers (discovery documents not counted).
    pub fn jwks_fetches(&self) -> u64 {
        self.inner.issuers.iter().map(|issuer| issuer.keys.fetch_count()).sum()
    }
}

impl Issuer {
    async fn verify_signature(&self, token: &CompactToken<'_>) -> Result<(), AuthError> {
        // Before any key lookup, so a disallowed algorithm can never cause a fetch.
        if !self.algorithms.contains(token.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        self.keys.ensure_loaded().await?;
        let mut refetched = false;
        loop {
            {
                let state = self.keys.current();
                match state.keys.select(token.kid.as_deref(), token.alg) {
                    Ok(key) => {
                        if !key.algorithms.contains(token.alg) {
                            return Err(AuthError::AlgorithmNotAllowed);
                        }
                        let valid = jsonwebtoken::crypto::verify(
                            token.signature,
                            token.signing_input.as_bytes(),
                            &key.key,
                            token.alg.to_jwt(),
                        );
                        return match valid {
                            Ok(true) => Ok(()),
                            Ok(false) | Err(_) => Err(AuthError::InvalidSignature),
                        };
                    }
                    Err(AuthError::UnknownKey) if !refetched && token.kid.is_some() => {}
                    Err(err) => return Err(err),
                }
            }
            refetched = true;
            if !self.keys.refetch_for_unknown_kid().await {
                return Err(AuthError::UnknownKey);
            }
        }
    }
}

fn parse_payload(segment: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = token::decode_payload(segment)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed(Malformed::Payload))
}
