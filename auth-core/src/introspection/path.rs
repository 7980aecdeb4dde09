//! The verifier's introspection path: an opaque token routed to the one provider that takes it,
//! a signed token checked again with its issuer under [`Introspection::all_tokens`], the answer
//! turned into a verified token by the same claim checks and identity mapping as a JWT's, and a
//! cached answer's expiry checked again.
//!
//! [`Introspection::all_tokens`]: crate::Introspection::all_tokens

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::checks::ClaimChecks;
use crate::checks::audience::{AudienceRule, Recipient};
use crate::error::{AuthError, Malformed, truncated};
use crate::introspection::cache::{IntrospectionCache, Verdict};
use crate::introspection::client::{Answer, IntrospectionClient};
use crate::introspection::signed::SignedClaims;
use crate::provider::compiled::CompiledProvider;
use crate::token::date;
use crate::token::json::Object;
use crate::token::verified::VerifiedToken;

/// A verifier's compiled providers and its cache of introspection answers (absent when no
/// provider introspects).
pub(crate) struct IntrospectionPath<'a> {
    pub(crate) providers: &'a [CompiledProvider],
    pub(crate) cache: Option<&'a IntrospectionCache>,
}

impl IntrospectionPath<'_> {
    /// An opaque token: sent to the one provider its prefix routes it to, never to the others (who
    /// would see a token not theirs); refused without any call when no provider takes it.
    pub(crate) async fn opaque(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        let (Some(cache), Some((index, provider, client))) = (self.cache, self.route(token)) else {
            return Err(self.not_introspected(token));
        };
        self.cached(cache, index, provider, client, token, None)
            .await
    }

    /// A signed token of a provider that asks its issuer about every token
    /// ([`Introspection::all_tokens`](crate::Introspection::all_tokens)): `None` when the provider
    /// does not. The signature has been checked, so forgeries never reach the issuer.
    pub(crate) async fn signed(
        &self,
        index: usize,
        provider: &CompiledProvider,
        token: &str,
        payload: &Object<'_>,
    ) -> Option<Result<Arc<VerifiedToken>, AuthError>> {
        let (Some(client), Some(cache)) = (&provider.introspection, self.cache) else {
            return None;
        };
        if !client.config.all_tokens {
            return None;
        }
        Some(
            async {
                // The token's own dates and kind hold on their own (an ID token's `nonce` is not
                // excused by an answer that leaves it out); its other claims may be completed by
                // the answer (Keycloak's lightweight tokens carry no roles) but not contradicted.
                provider.checks.check_dates(payload, date::now())?;
                provider.checks.kind.check_payload(payload)?;
                let signed = SignedClaims::of(payload);
                self.cached(cache, index, provider, client, token, Some(&signed))
                    .await
            }
            .await,
        )
    }

    /// The verdict on `token`: the cached one, else the issuer's answer (asked once however many
    /// requests carry the token at the same time), its expiry checked again either way.
    async fn cached(
        &self,
        cache: &IntrospectionCache,
        index: usize,
        provider: &CompiledProvider,
        client: &IntrospectionClient,
        token: &str,
        signed: Option<&SignedClaims>,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let answer = cache
            .get_or_introspect(token, async {
                let inactive = Verdict {
                    issuer: index,
                    outcome: Err(AuthError::InactiveToken),
                    lifetime: client.config.inactive_ttl,
                };
                Ok(self
                    .ask(index, provider, token, signed)
                    .await?
                    .unwrap_or(inactive))
            })
            .await?;
        self.recheck(&answer, token, cache).await
    }

    /// The refusal of a token that is no JWT and that no provider introspects: one that looks
    /// opaque (one segment, or the five of an encrypted JWE, as Auth0's opaque tokens are) says
    /// how to get a JWT instead, for the log; any other shape is malformed.
    fn not_introspected(&self, token: &str) -> AuthError {
        let dots = token.bytes().filter(|byte| *byte == b'.').count();
        if token.is_empty() || !(dots == 0 || dots == 4) {
            return AuthError::Malformed(Malformed::Segments);
        }
        let providers = self.providers.iter();
        let hint = match providers
            .clone()
            .find_map(|provider| provider.opaque_token_hint)
        {
            Some(hint) => hint,
            None if providers
                .clone()
                .any(|provider| provider.introspection.is_some()) =>
            {
                "no introspecting provider takes it (each expects its Introspection::token_prefix)"
            }
            None => "this provider is configured without introspection",
        };
        AuthError::OpaqueToken(hint)
    }

    /// The introspecting provider an opaque token belongs to: the one whose token prefix it
    /// starts with (`any_of` made sure there is at most one), else the one without a prefix.
    pub(crate) fn route(
        &self,
        token: &str,
    ) -> Option<(usize, &CompiledProvider, &Arc<IntrospectionClient>)> {
        let mut unprefixed = None;
        for (index, provider) in self.providers.iter().enumerate() {
            let Some(client) = &provider.introspection else {
                continue;
            };
            match client.config.claims_token(token) {
                Some(true) => return Some((index, provider, client)),
                Some(false) => {}
                None => unprefixed = unprefixed.or(Some((index, provider, client))),
            }
        }
        unprefixed
    }

    /// Asks one provider about a token: `None` when it says the token is not active. For a signed
    /// token (`signed`, its own verified claims), the answer may add to what the token says but
    /// not contradict it.
    async fn ask(
        &self,
        index: usize,
        provider: &CompiledProvider,
        token: &str,
        signed: Option<&SignedClaims>,
    ) -> Result<Option<Verdict>, AuthError> {
        let Some(client) = &provider.introspection else {
            return Ok(None);
        };
        let meters = &provider.keys.meters;
        let answer = client.introspect(token, signed.is_some()).await;
        let counter = match &answer {
            Ok(Answer::Active(_)) => &meters.introspection_active,
            Ok(Answer::Inactive) => &meters.introspection_inactive,
            Err(AuthError::IntrospectionUnauthorized { .. }) => &meters.introspection_unauthorized,
            Err(AuthError::IntrospectionUnsupportedToken { .. }) => {
                &meters.introspection_unsupported
            }
            Err(_) => &meters.introspection_error,
        };
        counter.increment(1);
        let Answer::Active(payload) = answer? else {
            return Ok(None);
        };
        let now = date::now();
        let ttl = client.config.cache_ttl;
        let outcome = accept(index, provider, payload, signed, ttl, now);
        let lifetime = match &outcome {
            Ok(verified) => {
                let exp = verified.exp();
                let left = exp.map_or(0, |exp| u64::try_from(exp.saturating_sub(now)).unwrap_or(0));
                ttl.min(Duration::from_secs(left))
            }
            Err(_) => client.config.inactive_ttl,
        };
        Ok(Some(Verdict {
            issuer: index,
            outcome,
            lifetime,
        }))
    }

    /// A cached introspection answer, its `exp` checked again (the one check time changes).
    async fn recheck(
        &self,
        answer: &Verdict,
        token: &str,
        cache: &IntrospectionCache,
    ) -> Result<Arc<VerifiedToken>, AuthError> {
        let verified = answer.outcome.clone()?;
        let Some(provider) = self.providers.get(answer.issuer) else {
            return Err(AuthError::InactiveToken);
        };
        // Every accepted answer has an `exp`: where the issuer gave none, `ask` set it to now plus
        // the cache lifetime.
        let exp = verified.exp().unwrap_or(0);
        if let Err(error) = provider.checks.check_expiry(exp, date::now()) {
            cache.remove(token).await;
            return Err(error);
        }
        Ok(verified)
    }
}

/// Claims checks and identity for an answer an issuer gave by introspection: a signed token's
/// own claims carried into it first, then what RFC 7662 lets the issuer leave out filled in.
fn accept(
    index: usize,
    provider: &CompiledProvider,
    mut payload: Map<String, Value>,
    signed: Option<&SignedClaims>,
    ttl: Duration,
    now: i64,
) -> Result<Arc<VerifiedToken>, AuthError> {
    if let Some(signed) = signed {
        signed.carry_into(&mut payload)?;
    }
    // RFC 7662 makes every member but `active` optional: what the issuer leaves out is its own.
    let iss = payload
        .entry("iss")
        .or_insert_with(|| provider.issuer().into())
        .clone();
    let client = payload.get("client_id").cloned();
    if let (None, Some(client)) = (payload.get("sub"), client) {
        payload.insert("sub".into(), client);
    }
    let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    // Made up, not the issuer's: a revocation of the token must outlast it (`PayloadFacts`).
    let exp_assumed = !payload.contains_key("exp");
    payload
        .entry("exp")
        .or_insert_with(|| now.saturating_add(ttl_secs).into());
    let Some(iss) = iss.as_str().filter(|iss| provider.accepts(iss)) else {
        return Err(AuthError::InvalidClaim("iss".into()));
    };
    let payload_view = Object::borrow(&payload);
    let (identity, facts) = if signed.is_none() && lacks_audience(provider, &payload) {
        let client_id = payload.get("client_id").and_then(Value::as_str);
        let named = provider
            .introspection
            .as_deref()
            .map(|i| &i.config.audience_less_clients);
        if !named.is_some_and(|named| named.iter().any(|c| Some(c.as_str()) == client_id)) {
            return Err(missing_audience(named, client_id));
        }
        // The API named the client: it stands in for the audience the issuer leaves out.
        let checks = ClaimChecks {
            recipient: Recipient {
                audience: AudienceRule::Skip,
                ..provider.checks.recipient.clone()
            },
            ..provider.checks.clone()
        };
        provider.admit_with(&checks, &payload_view, iss, now)?
    } else {
        provider.admit(&payload_view, iss, now)?
    };
    drop(payload_view);
    let facts = if exp_assumed {
        // The stand-in served the checks and stays in the facts (the cache's expiry); the
        // application sees what the issuer said, no `exp`, and would revoke the token until it.
        payload.remove("exp");
        facts.with_assumed_exp()
    } else {
        facts
    };
    Ok(Arc::new(VerifiedToken::introspected(
        payload, facts, identity, index,
    )))
}

/// Whether an introspection answer leaves out the `aud` the provider checks.
fn lacks_audience(provider: &CompiledProvider, payload: &Map<String, Value>) -> bool {
    matches!(provider.checks.recipient.audience, AudienceRule::Aud(_))
        && payload.get("aud").is_none_or(Value::is_null)
}

/// The refusal of an answer without `aud` from a client the API did not name: its own reason,
/// apart from an audience that does not match.
fn missing_audience(named: Option<&Vec<String>>, client_id: Option<&str>) -> AuthError {
    let setting = "Introspection::accept_missing_audience_for_clients";
    AuthError::MissingClaim(if named.is_none_or(Vec::is_empty) {
        format!(
            "aud: the introspection answer carries no `aud`, so nothing says the token is for \
             this API; for an issuer whose answers never name one (LemonLDAP::NG), name the \
             clients whose tokens this API accepts with {setting}"
        )
    } else {
        let client = client_id.map_or_else(
            || "none".to_owned(),
            |client| format!("{:?}", truncated(client)),
        );
        format!(
            "aud: the introspection answer carries no `aud`, and its client_id ({client}) is not \
             one {setting} names"
        )
    })
}
