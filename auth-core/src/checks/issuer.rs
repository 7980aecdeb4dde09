//! Which `iss` values a provider accepts: one issuer (or a few spellings of it), or a
//! multi-tenant template whose tenant a claim must name again (Entra's `tid`).

use crate::error::AuthError;
use crate::token::json::{Json, Object};

/// The placeholder a multi-tenant issuer template holds.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Which `iss` values a provider accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuerMatch {
    /// Any of these, compared exactly (Google sends two spellings of one issuer).
    Exact(Vec<String>),
    /// A template with one `{tenantid}` placeholder (Entra multi-tenant), filled only from
    /// `tenants`; when `tenant_claim` is set, that claim must name the same tenant (Entra's `tid`).
    Tenants {
        prefix: String,
        suffix: String,
        tenants: Vec<String>,
        tenant_claim: Option<&'static str>,
    },
}

impl IssuerMatch {
    pub(crate) fn matches(&self, iss: &str) -> bool {
        match self {
            IssuerMatch::Exact(issuers) => issuers.iter().any(|i| i == iss),
            IssuerMatch::Tenants { tenants, .. } => self
                .tenant(iss)
                .is_some_and(|tenant| tenants.iter().any(|t| t == tenant)),
        }
    }

    /// Every issuer accepted, spelled out: a template once per accepted tenant. Bare names that
    /// are no URL (Google's `accounts.google.com`) are left out: nothing can be discovered there.
    pub(crate) fn issuers(&self) -> Vec<String> {
        match self {
            IssuerMatch::Exact(issuers) => issuers
                .iter()
                .filter(|issuer| issuer.contains("://"))
                .cloned()
                .collect(),
            IssuerMatch::Tenants {
                prefix,
                suffix,
                tenants,
                ..
            } => tenants
                .iter()
                .map(|tenant| format!("{prefix}{tenant}{suffix}"))
                .collect(),
        }
    }

    /// The tenant a template's `iss` names (`None` for exact issuers, or an `iss` of another
    /// shape).
    fn tenant<'a>(&self, iss: &'a str) -> Option<&'a str> {
        let IssuerMatch::Tenants { prefix, suffix, .. } = self else {
            return None;
        };
        iss.strip_prefix(prefix.as_str())?
            .strip_suffix(suffix.as_str())
    }

    /// For a tenant template with a tenant claim: the claim must name the tenant `iss` names.
    pub(crate) fn check_tenant(&self, iss: &str, payload: &Object<'_>) -> Result<(), AuthError> {
        let IssuerMatch::Tenants {
            tenant_claim: Some(claim),
            ..
        } = self
        else {
            return Ok(());
        };
        match payload.get(claim).and_then(Json::as_str) {
            Some(value) if Some(value) == self.tenant(iss) => Ok(()),
            _ => Err(AuthError::InvalidClaim((*claim).to_owned())),
        }
    }

    /// Whether a key whose JWK names `key_issuer` may sign a token from `iss` (already matched).
    ///
    /// Only tenant templates check it: Entra's shared multi-tenant key set tags each key with the
    /// issuer it signs for, and Microsoft asks multi-tenant apps to hold tokens to it, `{tenantid}`
    /// standing for the token's tenant. A single-issuer provider trusts its whole key set, so it
    /// does not look at the tag.
    pub(crate) fn key_signs_for(&self, key_issuer: &str, iss: &str) -> bool {
        if let IssuerMatch::Exact(_) = self {
            return true;
        }
        match key_issuer.split_once(TENANT_PLACEHOLDER) {
            None => key_issuer == iss,
            Some((key_prefix, key_suffix)) => {
                let key_tenant = iss
                    .strip_prefix(key_prefix)
                    .and_then(|rest| rest.strip_suffix(key_suffix));
                key_tenant.is_some() && key_tenant == self.tenant(iss)
            }
        }
    }

    /// The issuer a discovery document must name.
    pub(crate) fn discovery_issuer(&self) -> String {
        match self {
            IssuerMatch::Exact(issuers) => issuers.first().cloned().unwrap_or_default(),
            IssuerMatch::Tenants { prefix, suffix, .. } => {
                format!("{prefix}{TENANT_PLACEHOLDER}{suffix}")
            }
        }
    }
}
