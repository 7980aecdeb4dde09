//! Where a provider keeps roles, scopes, e-mail, organisations and the machine marker, and the
//! identity built from them.

use std::collections::BTreeSet;

use super::authentication::Authentication;
use super::organization::{OrgAcceptance, OrgMapping};
use super::service_marker::ServiceMarker;
use super::{Identity, IdentityKind};
use crate::error::AuthError;
use crate::token::claim_path::{ClaimPath, Separator};
use crate::token::json::{Json, Object};

/// A claim that holds names (roles or scopes), and how a string value there lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameClaim {
    pub(crate) path: ClaimPath,
    pub(crate) separator: Separator,
}

impl NameClaim {
    pub(crate) fn new(path: ClaimPath, separator: Separator) -> NameClaim {
        NameClaim { path, separator }
    }
}

/// Where a provider keeps roles, scopes, e-mail, organisations and the machine marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityMapping {
    pub(crate) roles: Vec<NameClaim>,
    pub(crate) scopes: Vec<NameClaim>,
    /// Where a person's scopes come from, when not from `scopes` (Auth0's `permissions` alone:
    /// with RBAC off, its `scope` holds what the application asked for).
    pub(crate) user_scopes: Option<Vec<NameClaim>>,
    pub(crate) email: ClaimPath,
    pub(crate) service: Option<ServiceMarker>,
    /// Tokens the service marker does not mark and this rule does are a person's, whatever
    /// `unmarked` says (Zitadel's listed user clients).
    pub(crate) person: Option<ServiceMarker>,
    /// The kind of a token neither rule marks: a person's, except where the provider's people
    /// and machines can look alike (Zitadel, whose unlisted clients stay `Unknown`).
    pub(crate) unmarked: IdentityKind,
    /// The subject when `sub` is empty (Cloudflare service tokens: `common_name`).
    pub(crate) subject_fallback: Option<ClaimPath>,
    pub(crate) organization: Option<OrgMapping>,
    /// Organisations whose roles count as application roles too.
    pub(crate) trusted_organizations: Vec<String>,
    /// Organisations whose tokens are accepted at all.
    pub(crate) accepted_organizations: OrgAcceptance,
}

impl Default for IdentityMapping {
    fn default() -> Self {
        IdentityMapping {
            roles: vec![NameClaim::new(ClaimPath::claim("roles"), Separator::None)],
            scopes: vec![
                NameClaim::new(ClaimPath::claim("scope"), Separator::Space),
                NameClaim::new(ClaimPath::claim("scp"), Separator::Space),
            ],
            user_scopes: None,
            email: ClaimPath::claim("email"),
            service: None,
            person: None,
            unmarked: IdentityKind::User,
            subject_fallback: None,
            organization: None,
            trusted_organizations: Vec::new(),
            accepted_organizations: OrgAcceptance::Unset,
        }
    }
}

impl IdentityMapping {
    /// Builds the identity of a verified payload; fails on an organisation the provider's
    /// settings refuse, or an organisation claim that does not read as the provider documents it.
    pub(crate) fn identity(
        &self,
        payload: &Object<'_>,
        issuer: &str,
    ) -> Result<Identity, AuthError> {
        // `extend` inserts one by one; `collect` would first gather the names into a vector (one
        // more allocation) and sort it, for the handful of names a token carries.
        let collect = |claims: &[NameClaim]| {
            let mut names = BTreeSet::new();
            names.extend(
                claims
                    .iter()
                    .flat_map(|claim| claim.path.names_split(payload, claim.separator))
                    .map(str::to_owned),
            );
            names
        };
        let text = |path: &ClaimPath| {
            path.find(payload)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        let sub = payload
            .get("sub")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let subject = match (sub, self.subject_fallback.as_ref().and_then(text)) {
            ("", Some(fallback)) => fallback,
            (sub, _) => sub,
        };
        let kind = match (&self.service, &self.person) {
            (Some(rule), _) if rule.holds(payload) => IdentityKind::Service,
            (_, Some(rule)) if rule.holds(payload) => IdentityKind::User,
            _ => self.unmarked,
        };
        let mut roles = collect(&self.roles);
        let mut scopes = match (&self.user_scopes, kind) {
            (Some(user_scopes), IdentityKind::User) => collect(user_scopes),
            _ => collect(&self.scopes),
        };
        let organization = match &self.organization {
            None => None,
            Some(mapping) => {
                let trusted = &self.trusted_organizations;
                let granted = mapping.read(payload, &mut roles, &mut scopes, trusted)?;
                let org = granted.organization.as_ref();
                self.accepted_organizations
                    .admit(mapping, payload, org, trusted)?;
                roles.extend(granted.app_roles);
                scopes.extend(granted.app_scopes);
                granted.organization
            }
        };

        Ok(Identity {
            subject: subject.to_owned(),
            issuer: issuer.to_owned(),
            email: text(&self.email).map(str::to_owned),
            roles,
            scopes,
            kind,
            organization,
            authentication: Authentication::read(payload),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A token the service marker does not mark takes the mapping's `unmarked` kind: a person's by
    /// default, `Unknown` where the provider's people and machines look alike.
    #[test]
    fn the_unmarked_kind_is_the_mappings() {
        let machine = json!({"sub": "s", "client_id": "s"});
        let other = json!({"sub": "u", "client_id": "c"});
        let mut mapping = IdentityMapping {
            service: Some(ServiceMarker::ClaimsEqual(
                ClaimPath::claim("sub"),
                ClaimPath::claim("client_id"),
            )),
            ..IdentityMapping::default()
        };
        let kind = |mapping: &IdentityMapping, payload: &serde_json::Value| {
            let payload = Object::borrow(payload.as_object().unwrap());
            mapping.identity(&payload, "iss").unwrap().kind
        };
        assert_eq!(kind(&mapping, &machine), IdentityKind::Service);
        assert_eq!(kind(&mapping, &other), IdentityKind::User);
        mapping.unmarked = IdentityKind::Unknown;
        assert_eq!(kind(&mapping, &machine), IdentityKind::Service);
        assert_eq!(kind(&mapping, &other), IdentityKind::Unknown);
        let serialised = serde_json::to_value(IdentityKind::Unknown).unwrap();
        assert_eq!(serialised, json!("unknown"));
    }
}
