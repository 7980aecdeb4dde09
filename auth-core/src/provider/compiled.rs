//! What a verifier makes of one [`Provider`]: its key store, claim checks, identity mapping and
//! introspection client, wired together here so that none of them imports another.

use std::sync::Arc;

use crate::checks::ClaimChecks;
use crate::checks::audience::AudienceRule;
use crate::checks::issuer::IssuerMatch;
use crate::error::{AuthError, ConfigError, PrefetchError};
use crate::identity::Identity;
use crate::identity::mapping::IdentityMapping;
use crate::introspection::client::{IntrospectionClient, ProbeFailure};
use crate::keys::algorithm::AlgorithmSet;
use crate::keys::fetch;
use crate::keys::network_policy::NetworkPolicy;
use crate::keys::signature;
use crate::keys::source::KeySource;
use crate::keys::store::KeyStore;
use crate::metrics::IssuerMeters;
use crate::provider::Provider;
use crate::provider::discovery::IssuerDocument;
use crate::token::compact::CompactToken;
use crate::token::json::Object;
use crate::token::verified::PayloadFacts;

/// One provider, compiled: what verifying its tokens needs at run time.
#[derive(Debug)]
pub(crate) struct CompiledProvider {
    /// The provider's setting name (`Provider::auth0(domain, audience)`), for startup errors.
    pub(crate) name: String,
    /// How to get a JWT instead of an opaque token, for a provider that cannot introspect.
    pub(crate) opaque_token_hint: Option<&'static str>,
    /// What a token may name before its key is looked up.
    pub(crate) algorithms: AlgorithmSet,
    /// Every claim rule, the accepted issuers among them.
    pub(crate) checks: ClaimChecks,
    pub(crate) mapping: IdentityMapping,
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) introspection: Option<Arc<IntrospectionClient>>,
    /// Refuses bearer tokens: only DPoP-bound ones, with a proof.
    pub(crate) dpop_required: bool,
    /// Can issue DPoP-bound tokens.
    pub(crate) issues_dpop: bool,
    /// The protected resources (RFC 8707) its tokens are for, canonical.
    pub(crate) resources: Vec<String>,
    /// The audiences in `aud` that name no resource: explicit `.audience(..)`s and a preset's own
    /// identifier (Entra v2's client ID, Keycloak's client ID, Auth0's API identifier).
    pub(crate) plain_audiences: Vec<String>,
    /// The discovery document checked at startup, for a provider whose keys skip discovery.
    issuer_document: Option<IssuerDocument>,
}

impl CompiledProvider {
    /// Validates `provider` and builds its key store and introspection client (no network).
    pub(crate) fn compile(provider: Provider) -> Result<CompiledProvider, ConfigError> {
        let checks = provider.validate()?;
        let plain_audiences = match &checks.recipient.audience {
            AudienceRule::Aud(list) => list
                .iter()
                .filter(|audience| !provider.resources.contains(audience))
                .cloned()
                .collect(),
            AudienceRule::Claim(..) | AudienceRule::Skip => Vec::new(),
        };
        let introspection_url = provider
            .introspection
            .as_ref()
            .and_then(|i| i.endpoint.as_deref());
        // Discovery already insists on the configured issuer.
        let issuer_document = match provider.keys {
            KeySource::Jwks(_) => provider.issuer_document.as_deref(),
            KeySource::Discovery(_) => None,
        };
        let policy = NetworkPolicy::new(
            [
                Some(provider.keys.url()),
                introspection_url,
                issuer_document,
            ]
            .into_iter()
            .flatten(),
        );
        let client = fetch::client(&policy)?;
        let issuer_document = issuer_document.map(|url| IssuerDocument {
            url: url.to_owned(),
            client: client.clone(),
            timeout: provider.key_settings.fetch_timeout,
            max_bytes: provider.key_settings.max_body_bytes,
        });
        let meters = Arc::new(IssuerMeters::new(&provider.issuer.discovery_issuer()));
        let keys = Arc::new(KeyStore::new(
            provider.keys.clone(),
            provider.issuer.discovery_issuer(),
            provider.algorithms,
            provider.key_settings.clone(),
            policy,
            client.clone(),
            meters,
        ));
        let introspection = provider.introspection.map(|introspection| {
            Arc::new(IntrospectionClient::new(
                introspection,
                client,
                Arc::clone(&keys),
                provider.issuer.discovery_issuer(),
                provider.key_settings.fetch_timeout,
                provider.key_settings.failure_backoff,
            ))
        });
        Ok(CompiledProvider {
            name: provider.name,
            opaque_token_hint: provider.opaque_token_hint,
            dpop_required: provider.dpop_required,
            issues_dpop: provider.issues_dpop,
            issuer_document,
            resources: provider.resources,
            plain_audiences,
            algorithms: provider.algorithms.candidates(),
            checks,
            mapping: provider.mapping,
            keys,
            introspection,
        })
    }

    /// Whether this provider accepts tokens whose `iss` is `iss`.
    pub(crate) fn accepts(&self, iss: &str) -> bool {
        self.checks.issuer.matches(iss)
    }

    /// The issuer a discovery document names: the configured issuer, or a multi-tenant template.
    pub(crate) fn issuer(&self) -> String {
        self.checks.issuer.discovery_issuer()
    }

    /// The authorization servers RFC 9728 metadata names for this provider: its issuer, or none
    /// for a multi-tenant template, whose tenants are the service's customers and not published
    /// by default (the web layer's `JwtAuth::authorization_servers` names the list to publish).
    pub(crate) fn authorization_servers(&self) -> Vec<String> {
        match &self.checks.issuer {
            IssuerMatch::Exact(_) => self.checks.issuer.issuers(),
            IssuerMatch::Tenants { .. } => Vec::new(),
        }
    }

    /// The signature step for a token whose `iss` this provider accepts; returns the fingerprint
    /// of the key that verified it.
    pub(crate) async fn verify_signature(
        &self,
        token: &CompactToken<'_>,
        iss: &str,
    ) -> Result<u64, AuthError> {
        signature::verify(&self.keys, self.algorithms, &self.checks.issuer, token, iss).await
    }

    /// The checks a payload passes once the issuer vouches for it (by signature or by
    /// introspection), and what the verified token keeps of it.
    pub(crate) fn admit(
        &self,
        payload: &Object<'_>,
        iss: &str,
        now: i64,
    ) -> Result<(Identity, PayloadFacts), AuthError> {
        self.admit_with(&self.checks, payload, iss, now)
    }

    /// [`CompiledProvider::admit`] under `checks` instead of the provider's own.
    pub(crate) fn admit_with(
        &self,
        checks: &ClaimChecks,
        payload: &Object<'_>,
        iss: &str,
        now: i64,
    ) -> Result<(Identity, PayloadFacts), AuthError> {
        checks.check(payload, iss, now)?;
        let identity = self.mapping.identity(payload, iss)?;
        self.checks.kind.check_identity(&identity, payload)?;
        let facts = PayloadFacts::of(payload).header_only(checks.azp_excused(payload));
        Ok((identity, facts))
    }

    /// Fetches the keys now (for startup checks).
    pub(crate) async fn prefetch_keys(&self) -> Result<(), PrefetchError> {
        self.keys.prefetch().await.map_err(|error| {
            let name = self.issuer();
            if error.definite {
                PrefetchError::Misconfigured(ConfigError::new(
                    format!("keys for issuer {name}"),
                    error.reason,
                ))
            } else {
                PrefetchError::Unreachable {
                    issuer: name,
                    reason: error.reason,
                }
            }
        })
    }

    /// Compares the issuer the provider's discovery document names with the configured one, for a
    /// provider whose keys skip discovery (a startup check; an unreadable document only warns).
    pub(crate) async fn check_issuer_document(&self) -> Result<(), ConfigError> {
        match &self.issuer_document {
            Some(document) => document.check(&self.name, &self.checks.issuer).await,
            None => Ok(()),
        }
    }

    /// Probes the introspection endpoint, if the provider introspects (for startup checks).
    pub(crate) async fn probe_introspection(&self) -> Result<(), PrefetchError> {
        let Some(introspection) = &self.introspection else {
            return Ok(());
        };
        introspection
            .probe()
            .await
            .map_err(|failure| match failure {
                ProbeFailure::Misconfigured(error) => PrefetchError::Misconfigured(error),
                ProbeFailure::Unreachable(reason) => PrefetchError::Unreachable {
                    issuer: self.issuer(),
                    reason,
                },
            })
    }
}
